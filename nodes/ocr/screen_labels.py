"""Where a label may be on a flat screen, found in milliseconds without the text detector.

Finding a text on a screen is mostly finding a label: a button, a menu item, a field's name.
The neural detector costs a quarter of a second on a 1280x800 screen before anything is read,
and a screen has a hundred boxes of text. On a flat screen (solid backgrounds, crisp glyphs)
text lines and their letters can be told apart with a few OpenCV operations:

1. ``line_boxes``: the morphological gradient marks glyph edges whatever the colours; long
   horizontal and vertical rules (field borders, table lines) are removed; a short closing
   joins letters, and pieces side by side on one line are joined into lines.
2. ``misfit``: inside a line box, the ink columns (Otsu threshold of the crop) split into
   runs, about one per glyph at screen resolution; cut at its widest gaps into as many words
   as the text has, the line must have about as many glyphs as the text has characters, and
   each word about its share of the width ("Save changes": 4 and 7 of 11).
3. ``label_boxes``: the lines that fit are the candidates, padded like the detector's boxes,
   the closest fits first.

The candidates are then read by the recogniser, closest first (``search_text`` in ``api.py``). Nothing here
decides a match: a screen where this finds nothing right (a photo, a gradient, glyphs that
touch) simply falls back to the detector, so a wrong guess costs time, never a result.
"""

from __future__ import annotations

RULE = 40  # ink runs at least this long (pixels) across are rules and borders, not text
MIN_HEIGHT, MAX_HEIGHT = 6, 80  # line heights (pixels) taken for text


def line_boxes(gray) -> list[tuple[int, int, int, int]]:
    """``(x, y, w, h)`` of the text lines of a greyscale screen image (uint8)."""
    import cv2
    import numpy as np

    grad = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((2, 2), np.uint8))
    level, bw = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    if level < 24:  # a nearly empty image: Otsu splits noise
        _, bw = cv2.threshold(grad, 24, 255, cv2.THRESH_BINARY)
    rules = cv2.bitwise_or(cv2.morphologyEx(bw, cv2.MORPH_OPEN, np.ones((1, RULE), np.uint8)),
                           cv2.morphologyEx(bw, cv2.MORPH_OPEN, np.ones((RULE * 2 // 3, 1), np.uint8)))
    bw = cv2.subtract(bw, rules)
    bw = cv2.morphologyEx(bw, cv2.MORPH_CLOSE, np.ones((1, 5), np.uint8))
    _, _, stats, _ = cv2.connectedComponentsWithStats(bw, connectivity=8)
    pieces = sorted((int(x), int(y), int(w), int(h)) for x, y, w, h, _ in stats[1:]
                    if MIN_HEIGHT // 2 <= h <= MAX_HEIGHT and w < 40 * h)
    return [b for b in _join_lines(pieces) if MIN_HEIGHT <= b[3] <= MAX_HEIGHT]


def _join_lines(pieces):
    """Join pieces (sorted by x) that sit on one line with a gap under 1.2 times their height
    (a monospaced space is 0.6 em wide; columns of a table or a form are further apart)."""
    lines: list[list[int]] = []
    for x, y, w, h in pieces:
        for line in reversed(lines[-60:]):  # recent lines: pieces come left to right
            lx, ly, lw, lh = line
            overlap = min(ly + lh, y + h) - max(ly, y)
            if overlap >= 0.6 * min(lh, h) and 0 <= x - (lx + lw) <= 1.2 * max(lh, h):
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


def misfit(gray, box, wanted: list[int]) -> float | None:
    """How unlike the words ``wanted`` (characters per word) the line in ``box`` is laid out,
    from 0 (alike), or None when it cannot be that text.

    The line is cut into as many words as wanted at its widest gaps, which must be wider than
    every other gap, and no other gap may look like a space (wider than 2.5 times the median
    gap and 0.3 line heights). Then the glyph count (column runs: touching glyphs count as one, so
    between half and all of the characters, plus one for a split glyph) and each word's share
    of the width (within 0.12 of its share of the characters) must agree."""
    import numpy as np

    starts, ends = _ink_runs(gray, box)
    cuts = len(wanted) - 1
    total = sum(wanted)
    if len(starts) <= cuts or not 0.5 * total <= len(starts) <= total + 1:
        return None
    gaps = starts[1:] - ends[:-1]
    chosen = np.sort(np.argsort(-gaps, kind="stable")[:cuts])
    rest = np.delete(gaps, chosen)
    if cuts and (gaps[chosen].min() < 2 or (rest.size and gaps[chosen].min() <= rest.max())):
        return None
    if rest.size and rest.max() >= max(3.0, 0.3 * box[3], 2.5 * float(np.median(rest))):
        return None  # one more gap as wide as a space: more words than wanted
    firsts, lasts = np.concatenate([[0], chosen + 1]), np.concatenate([chosen, [len(starts) - 1]])
    widths = ends[lasts] - starts[firsts]
    shares = np.abs(widths / max(1, widths.sum()) - np.asarray(wanted) / total)
    if shares.max() > 0.12:
        return None
    return abs(len(starts) - total) / total + float(shares.sum())


def label_boxes(image, text: str) -> list[tuple[float, tuple[int, int, int, int]]]:
    """``(misfit, box)`` for each box ``(x, y, w, h)`` on ``image`` (RGB) that may hold ``text``
    alone, best fit first, padded for the recogniser; empty when nothing looks like it. The
    same label shown twice has the same misfit."""
    import cv2

    wanted = [len(word) for word in text.split()]
    if not wanted:
        return []
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    height, width = gray.shape
    found = []
    for box in line_boxes(gray):
        x, y, w, h = box
        if not (0.25 * sum(wanted) * h <= w <= 1.6 * (sum(wanted) + len(wanted)) * h):
            continue
        off = misfit(gray, box, wanted)
        if off is not None:
            off = round(off, 1)  # steps: the same label shown twice falls in one step
            pad_x, pad_y = max(2, round(0.3 * h)), max(2, round(0.25 * h))
            x0, y0 = max(0, x - pad_x), max(0, y - pad_y)
            found.append((off, (x0, y0, min(width, x + w + pad_x) - x0, min(height, y + h + pad_y) - y0)))
    return sorted(found)
