"""Where a label may be on a flat screen, found in milliseconds without the text detector.

Finding a text on a screen is mostly finding a label: a button, a menu item, a field's name.
The neural detector costs a quarter of a second on a 1280x800 screen before anything is read,
and a screen has a hundred boxes of text. On a flat screen (solid backgrounds, crisp glyphs)
text lines and their letters can be told apart with a few OpenCV operations:

1. ``line_boxes``: the morphological gradient marks glyph edges whatever the colours; long
   horizontal and vertical rules (field borders, table lines) are removed; a short closing
   joins letters; a piece spanning two rows of a dense list is cut between them, and pieces
   side by side on one line are joined into lines.
2. ``misfit``: inside a line box, the ink columns (Otsu threshold of the crop) split into
   runs, about one per glyph at screen resolution; cut at its widest gaps into as many words
   as the text has (an icon before the text left out), the line must have about as many
   glyphs as the text has characters, and each word about its estimated share of the width
   ("Save changes": 4 and 7 characters, "Fill form": a narrow word and a wider one).
3. ``label_boxes``: the lines that fit are the candidates, padded like the detector's boxes,
   the closest fits first.

The candidates are then read by the recogniser, closest first (``search_text`` in
``api.py``). Nothing here decides a match: a line matches only when the recogniser reads it.
When no label fits, ``screen_lines`` says whether the line boxes hold all of the screen's
ink; if they do, ``wide_enough`` gives every line that may hold the text, the lines with
words laid out like it first, and those are read without the detector. A photo, a gradient
or faint text leave ink out, and the search goes to the detector: a wrong guess costs time,
never a result.
"""

from __future__ import annotations

RULE = 40  # ink runs at least this long (pixels) across are rules and borders, not text
MIN_HEIGHT, MAX_HEIGHT = 6, 80  # line heights (pixels) taken for text
FAINT = 24  # the faintest edge (morphological gradient, 0-255) counted as ink


def line_boxes(gray) -> list[tuple[int, int, int, int]]:
    """``(x, y, w, h)`` of the text lines of a greyscale screen image (uint8)."""
    return _lines_of(_edges(gray)[1])


def screen_lines(gray) -> tuple[list[tuple[int, int, int, int]], float]:
    """``line_boxes`` and the share of the screen's ink they leave out: edges down to a faint
    level (``FAINT``; light grey text, a placeholder) outside every line box and rule. Near 0
    on a flat screen whose every text is in a line box; a photo, a gradient, text larger
    than ``MAX_HEIGHT`` or fainter than the screen's usual edges leave ink out."""
    import cv2

    grad, bw = _edges(gray)
    lines = _lines_of(bw)
    _, faint = cv2.threshold(grad, FAINT - 1, 255, cv2.THRESH_BINARY)
    faint = cv2.subtract(faint, _rules(faint))
    total = cv2.countNonZero(faint)
    if not total:
        return lines, 0.0
    for x, y, w, h in lines:
        faint[max(0, y - 2):y + h + 2, max(0, x - 2):x + w + 2] = 0
    return lines, cv2.countNonZero(faint) / total


def _edges(gray):
    """The morphological gradient of ``gray`` (glyph edges whatever the colours) and its ink:
    the gradient over Otsu's level, or over ``FAINT`` on a nearly empty image."""
    import cv2
    import numpy as np

    grad = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((2, 2), np.uint8))
    level, bw = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    if level < FAINT:  # a nearly empty image: Otsu splits noise
        _, bw = cv2.threshold(grad, FAINT, 255, cv2.THRESH_BINARY)
    return grad, bw


def _rules(bw):
    """The long horizontal and vertical runs of ``bw``: rules and borders, not text."""
    import cv2
    import numpy as np

    return cv2.bitwise_or(cv2.morphologyEx(bw, cv2.MORPH_OPEN, np.ones((1, RULE), np.uint8)),
                          cv2.morphologyEx(bw, cv2.MORPH_OPEN, np.ones((RULE * 2 // 3, 1), np.uint8)))


def _lines_of(bw) -> list[tuple[int, int, int, int]]:
    import cv2
    import numpy as np

    bw = cv2.subtract(bw, _rules(bw))
    bw = cv2.morphologyEx(bw, cv2.MORPH_CLOSE, np.ones((1, 5), np.uint8))
    _, _, stats, _ = cv2.connectedComponentsWithStats(bw, connectivity=8)
    pieces = [(int(x), int(y), int(w), int(h)) for x, y, w, h, _ in stats[1:]
              if MIN_HEIGHT // 2 <= h <= MAX_HEIGHT and w < 40 * h]
    pieces = sorted(_split_rows(bw, pieces))
    return [b for b in _join_lines(pieces) if MIN_HEIGHT <= b[3] <= MAX_HEIGHT]


def _split_rows(bw, pieces):
    """Pieces that span two rows of a dense list (a descender touching the next row's capital)
    cut at the emptiest row of their middle; a piece of large print has no such valley."""
    import numpy as np

    heights = [h for _, _, _, h in pieces if h >= MIN_HEIGHT]
    if not heights:
        return pieces
    usual = float(np.median(heights))
    out = []
    for x, y, w, h in pieces:
        if h > 1.6 * usual:
            rows = np.count_nonzero(bw[y:y + h, x:x + w], axis=1)
            lo, hi = int(0.3 * h), int(0.7 * h) + 1
            cut = lo + int(np.argmin(rows[lo:hi]))
            if rows[cut] <= 0.15 * rows.max():
                out += [(x, y, w, cut), (x, y + cut + 1, w, h - cut - 1)]
                continue
        out.append((x, y, w, h))
    return out


def _join_lines(pieces):
    """Join pieces (sorted by x) that sit on one line with a gap under 1.2 times their height
    (a monospaced space is 0.6 em wide; columns of a table or a form are further apart)."""
    lines: list[list[int]] = []
    for x, y, w, h in pieces:
        for line in reversed(lines[-60:]):  # recent lines: pieces come left to right
            lx, ly, lw, lh = line
            overlap = min(ly + lh, y + h) - max(ly, y)
            if overlap >= 0.6 * min(lh, h) and x - (lx + lw) <= 1.2 * max(lh, h):  # or overlapping
                nx, ny = lx, min(ly, y)
                line[:] = [nx, ny, max(lx + lw, x + w) - nx, max(ly + lh, y + h) - ny]
                break
        else:
            lines.append([x, y, w, h])
    return [tuple(b) for b in lines]


def _ink_runs(gray, box):
    """Starts and ends of the ink column runs in ``box`` (about one per glyph on a screen)."""
    import cv2
    import numpy as np

    x, y, w, h = box
    crop = gray[y:y + h, x:x + w]
    _, ink = cv2.threshold(crop, 0, 1, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    if ink.mean() > 0.5:  # the text is the minority class: light on dark or dark on light
        ink = 1 - ink
    edges = np.diff(np.concatenate([[0], ink.any(axis=0).astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


# Rough advance widths of characters in proportional UI fonts, in ems: enough to tell that
# "Fill" is narrower than "form" though both have four letters.
_NARROW, _SEMI, _WIDE = set("iljI.,:;'!|` "), set("ftr()[]-/1"), set("mwMW@%")


def text_width(word: str) -> float:
    """An estimate of ``word``'s width in ems."""
    return sum(0.3 if c in _NARROW else 0.42 if c in _SEMI else 0.85 if c in _WIDE
               else 0.68 if c.isupper() else 0.55 for c in word)


def misfit(gray, box, words: list[str]):
    """How unlike the words ``words`` the line in ``box`` is laid out: ``(score, box)`` with
    the score from 0 (alike) and the box narrowed to the words, or None when it cannot be that
    text.

    The line is cut into words at its widest gaps, which must be wider than every other gap,
    while no other gap may look like a space (wider than 2.5 times the median gap and 0.3 line
    heights). Or it is cut at every gap that looks like a space, and an icon or a tree's arrow
    before or after the text, one or two words too many, is left out. Cut there, the glyph
    count (column runs: touching glyphs count as one, so between half and all of the
    characters, plus one for a split glyph) and each word's share of the width (within 0.12
    of its estimated share, ``text_width``) must agree."""
    import numpy as np

    starts, ends = _ink_runs(gray, box)
    if not len(starts):
        return None
    x, y, w, h = box
    gaps = starts[1:] - ends[:-1]
    wide = max(3.0, 0.3 * h, 2.5 * float(np.median(gaps))) if len(gaps) else 0.0
    splits = []  # each a list of words as (first run, last run)
    need = len(words) - 1
    if len(gaps) >= need:  # the widest gaps
        chosen = sorted(int(i) for i in np.argsort(-gaps, kind="stable")[:need])
        rest = np.delete(gaps, chosen)
        if (not need or (gaps[chosen].min() >= 2 and (not rest.size or gaps[chosen].min() > rest.max()))) and (
                not rest.size or rest.max() < wide):
            splits.append(_words_at(chosen, len(starts)))
    # every space-wide gap, with one or two icons (a blob: a single ink run) left out at the ends
    segments = _words_at([i for i, gap in enumerate(gaps) if gap >= wide], len(starts))
    extra = len(segments) - len(words)
    for drop_first in range(0, min(2, extra) + 1) if 0 < extra <= 2 else ():
        kept = segments[drop_first:len(segments) - (extra - drop_first)]
        dropped = segments[:drop_first] + segments[len(segments) - (extra - drop_first):]
        if all(first == last for first, last in dropped):
            splits.append(kept)
    best = None
    for split in splits:
        score = _fit(starts, ends, [a for a, _ in split], [b for _, b in split], words)
        if score is not None and (best is None or score < best[0]):
            x0, x1 = x + int(starts[split[0][0]]), x + int(ends[split[-1][1]])
            best = (score, (x0, y, x1 - x0, h))
    return best


def _words_at(cuts, runs: int) -> list[tuple[int, int]]:
    """Words as (first run, last run) when the line's ``runs`` ink runs are cut after the
    gaps ``cuts`` (gap i lies between runs i and i + 1)."""
    firsts = [0] + [i + 1 for i in cuts]
    lasts = list(cuts) + [runs - 1]
    return list(zip(firsts, lasts))


def _fit(starts, ends, firsts, lasts, words) -> float | None:
    """The score of words ``firsts[i]..lasts[i]`` (indexes of ink runs) against ``words``."""
    import numpy as np

    if len(firsts) != len(words):
        return None
    runs = lasts[-1] - firsts[0] + 1
    total = sum(len(word) for word in words)
    if not 0.5 * total <= runs <= total + 1:
        return None
    widths = np.array([ends[b] - starts[a] for a, b in zip(firsts, lasts)], dtype=float)
    expected = np.array([text_width(word) for word in words])
    shares = np.abs(widths / max(1.0, widths.sum()) - expected / expected.sum())
    if shares.max() > 0.12:
        return None
    return abs(runs - total) / total + float(shares.sum())


def label_boxes(gray, text: str, lines=None) -> list[tuple[float, tuple[int, int, int, int]]]:
    """``(misfit, box)`` for each box ``(x, y, w, h)`` on ``gray`` (a greyscale screen) that may
    hold ``text`` alone, best fit first, padded for the recogniser; empty when nothing looks
    like it. The same label shown twice has the same misfit. ``lines``: the screen's
    ``line_boxes`` when already found."""
    words = text.split()
    if not words:
        return []
    letters = sum(len(word) for word in words)
    height, width = gray.shape
    found = []
    lines = line_boxes(gray) if lines is None else lines
    for box in lines:
        x, y, w, h = box
        if w < 0.25 * letters * h:
            continue
        fit = misfit(gray, box, words)
        if fit is not None:
            off, text_box = fit
            if text_box[2] <= 1.6 * (letters + len(words)) * h:
                # steps: the same label shown twice falls in one step
                found.append((round(off, 1), _padded(text_box, lines, width, height)))
    return sorted(found)


def wide_enough(gray, lines, text: str, min_width: float) -> tuple[list, list]:
    """The line boxes of ``lines`` that may hold ``text``, alone or inside, padded for the
    recogniser: at least ``min_width`` line heights wide per letter or digit, and with ink
    runs for at least 0.4 of its letters, or a run wider than a glyph (italic or
    bold glyphs touching). Two lists: the lines in which some words in a row are laid out like
    the text (``_fit``), closest first, then the others."""
    words = text.split()
    letters = sum(ch.isalnum() for ch in text)
    height, width = gray.shape
    fitting, others = [], []
    for box in lines:
        x, y, w, h = box
        if w < min_width * letters * h:
            continue
        starts, ends = _ink_runs(gray, box)
        if len(starts) < 0.4 * letters and not (len(starts) and (ends - starts).max() > 1.3 * h):
            continue
        padded = _padded(box, lines, width, height)
        score = _fit_inside(starts, ends, h, words) if len(starts) else None
        if score is None:
            others.append(padded)
        else:
            fitting.append((score, padded))
    return [box for _, box in sorted(fitting)], others


def _fit_inside(starts, ends, height: int, words: list[str]) -> float | None:
    """The best ``_fit`` of ``words`` to as many words in a row of a line (its ink runs cut at
    every gap that looks like a space), or None."""
    import numpy as np

    gaps = starts[1:] - ends[:-1]
    wide = max(3.0, 0.3 * height, 2.5 * float(np.median(gaps))) if len(gaps) else 0.0
    segments = _words_at([i for i, gap in enumerate(gaps) if gap >= wide], len(starts))
    scores = [_fit(starts, ends, [a for a, _ in window], [b for _, b in window], words)
              for window in (segments[i:i + len(words)] for i in range(len(segments) - len(words) + 1))]
    scores = [score for score in scores if score is not None]
    return min(scores) if scores else None


def _padded(box, lines, width: int, height: int) -> tuple[int, int, int, int]:
    """``box`` with the margin the recogniser expects around a line (a quarter of its height
    above and below, 0.3 at the ends), but not into the lines above and below it: in a dense
    list the next row's ascenders would be read as part of this one."""
    x, y, w, h = box
    pad_x, top, bottom = max(2, round(0.3 * h)), max(2, round(0.25 * h)), max(2, round(0.25 * h))
    for ox, oy, ow, oh in lines:
        if ox < x + w and ox + ow > x:  # overlapping columns
            if oy + oh <= y:
                top = min(top, max(1, (y - (oy + oh)) // 2))
            elif oy >= y + h:
                bottom = min(bottom, max(1, (oy - (y + h)) // 2))
    x0, y0 = max(0, x - pad_x), max(0, y - top)
    return x0, y0, min(width, x + w + pad_x) - x0, min(height, y + h + bottom) - y0
