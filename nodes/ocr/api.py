"""The OCR pack's Python API. Other node packs reach it as the capabilities ``ocr.text_search``
(``TextSearch``; the desktop pack's "text" targets use it) and ``ocr.read_image`` (the desktop
recorder reads the words under a click with it), never by importing this module.

    from botloom.nodes.ocr.api import find_text, read_image

    matches = find_text(screen_rgb, "Save", min_confidence=0.6)   # best first
    x, y, w, h = matches[0].box

``image`` is a numpy RGB ``H x W x 3`` uint8 array (a PIL image is accepted too). Boxes are
``(x, y, w, h)`` in that image's pixels. Matching is case-insensitive and fuzzy (a misread
letter still matches), and the box is narrowed to the matched words (or characters) inside
the OCR line. Nothing heavy is imported until a function is called.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

__all__ = ["TextMatch", "TextSearch", "find_text", "match_lines", "read_image", "search_text"]


@dataclass(frozen=True)
class TextMatch:
    """One place where the text was found: ``box`` is ``(x, y, w, h)`` in the image's pixels,
    ``confidence`` (0..1) combines how well the text matched and how sure the OCR was."""

    text: str
    box: tuple[int, int, int, int]
    confidence: float
    line: str = ""

    @property
    def center(self) -> tuple[int, int]:
        x, y, w, h = self.box
        return x + w // 2, y + h // 2

    def to_dict(self) -> dict:
        return {"text": self.text, "box": list(self.box), "confidence": round(self.confidence, 4),
                "line": self.line, "center": list(self.center)}


def as_rgb_array(image):
    """A numpy RGB uint8 array from an array (RGB, RGBA or grey) or a PIL image."""
    import numpy as np

    if hasattr(image, "mode") and hasattr(image, "convert"):  # PIL
        return np.asarray(image.convert("RGB"))
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[:, :, :3]
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"expected an RGB image array (H x W x 3), got shape {arr.shape}")
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)


def read_image(image, *, engine: str | None = None, settings: dict | None = None):
    """OCR an RGB image: an ``OcrResult`` (``.lines`` with ``.text``, ``.box``, ``.confidence``,
    ``.words``; ``.text``; ``.to_dict()``)."""
    from .engines import get_engine

    return get_engine(engine, settings).read(as_rgb_array(image))


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[\s_]+", " ", text)
    return text.strip()


def _loose(text: str) -> str:
    """Letters and digits only: ``"Save:"`` and ``"save"`` compare equal."""
    return re.sub(r"[^\w]+", "", normalise(text))


SIMILAR = 0.75  # letters-and-digits similarity (difflib's ratio) a line's words need to match the text


def match_lines(lines, text: str, min_confidence: float = 0.5) -> list[TextMatch]:
    """Find ``text`` in OCR ``lines`` (``engines.Line``). Best first: lines that are the text
    itself, then by confidence, then top to bottom."""
    wanted = normalise(text)
    wanted_loose = _loose(text)
    if not wanted_loose:
        return []
    n_query = max(1, len(wanted.split()))
    found: list[TextMatch] = []
    for line in lines:
        words = line.words or []
        if not words:
            continue
        best = None  # (similarity, i, j, narrowed box)
        line_loose = _loose(line.text)
        # exact (loose) substring of the line: narrow to the characters inside the words
        if wanted_loose in line_loose:
            box = _span_box(words, line_loose.index(wanted_loose), len(wanted_loose))
            best = (1.0, box)
        else:
            matcher = SequenceMatcher(None, autojunk=False)
            matcher.set_seq1(wanted_loose)
            for size in range(max(1, n_query - 1), n_query + 2):
                for i in range(max(0, len(words) - size) + 1):
                    window = words[i:i + size]
                    cand = _loose(" ".join(w.text for w in window))
                    if not cand:
                        continue
                    matcher.set_seq2(cand)
                    if matcher.real_quick_ratio() < SIMILAR or matcher.quick_ratio() < SIMILAR:
                        continue  # upper bounds of the ratio: this window cannot match
                    ratio = matcher.ratio()
                    if best is None or ratio > best[0]:
                        from .engines import union_box

                        best = (ratio, union_box(w.box for w in window))
        if best is None:
            continue
        similarity, box = best
        ocr_conf = min(1.0, max(0.0, float(line.confidence)))
        confidence = similarity * (0.5 + 0.5 * ocr_conf)
        if similarity >= SIMILAR and confidence >= min_confidence:
            found.append(TextMatch(text=text, box=tuple(int(v) for v in box), confidence=float(confidence),
                                   line=line.text))
    # the text as a whole line ("Total") before the text inside a longer one ("Subtotal")
    found.sort(key=lambda m: (_loose(m.line) != wanted_loose, -round(m.confidence, 3), m.box[1], m.box[0]))
    return found


def _span_box(words, start: int, length: int):
    """The box of loose characters ``start .. start+length`` of the line's words, narrowed
    proportionally inside the first and last word."""
    from .engines import union_box

    pos, parts = 0, []
    end = start + length
    for w in words:
        lw = _loose(w.text)
        a, b = pos, pos + len(lw)
        pos = b
        if not lw or b <= start or a >= end:
            continue
        x, y, ww, hh = w.box
        lo, hi = max(a, start) - a, min(b, end) - a
        x0 = x + int(ww * lo / len(lw))
        x1 = x + int(round(ww * hi / len(lw)))
        parts.append((x0, y, max(1, x1 - x0), hh))
    return union_box(parts) if parts else union_box(w.box for w in words)


def find_text(image, text: str, *, engine: str | None = None, min_confidence: float = 0.5,
              settings: dict | None = None) -> list[TextMatch]:
    """Where ``text`` appears in ``image`` (numpy RGB array), best match first; empty when absent.

    Case-insensitive and fuzzy: a label read with one wrong letter still matches (with a lower
    confidence). ``engine`` names an OCR engine (default: ``settings["engine"]``, the user's
    ``ocr.engine`` setting, else rapidocr). See ``search_text`` for what is read."""
    return search_text(image, text, engine=engine, min_confidence=min_confidence, settings=settings)[0]


# A label's text box is at most this many box heights wide per character (spaces counted),
# and at least this many per letter or digit. Measured on the default engine's boxes over
# DejaVu Sans, Serif, Mono, Bold and Condensed at 11-22 px: 0.20 per character, 0.22 per
# letter ("illicit fill", condensed) to 0.93 ("MMWW", serif capitals). A box wider than the
# bound is still read when the text is not found alone.
LABEL_MAX_WIDTH = 1.0
LABEL_MIN_WIDTH = 0.2
# The quick look reads candidate lines, closest fits first, up to this much text (the sum of
# their widths in line heights; 300 is about fifty short labels, 0.4 s on two cores) before
# the detector takes over.
QUICK_LOOK_BUDGET = 300.0


def text_stages(text: str):
    """The two stages of reading for ``text`` (see ``OcrEngine.read_staged``): first the boxes
    the size of the text alone (a button, a menu item, a field's name), then the wider boxes,
    which may hold it inside a longer line. Boxes too narrow for it are never read."""
    import numpy as np

    letters, chars = len(_loose(text)), len(normalise(text))
    low = LABEL_MIN_WIDTH * letters if letters >= 4 else 0.0  # a short word's box can be a glyph wide
    high = LABEL_MAX_WIDTH * chars + 0.5  # + the detector's margin around the text

    def alone(widths, heights):
        h = np.maximum(heights, 1.0)
        return (widths >= low * h) & (widths <= high * h)

    def inside_longer(widths, heights):
        return widths > high * np.maximum(heights, 1.0)

    return [alone, inside_longer]


# A flat screen is read line by line without the detector when its line boxes leave at most
# this share of its ink out (``screen_labels.screen_lines``: 0-0.02 % on the benchmark screens,
# 3-14 % on scanned receipts).
EXPLAINED = 0.01


def search_text(image, text: str, *, engine=None, min_confidence: float = 0.5, settings: dict | None = None):
    """Look for ``text`` in ``image``: ``(matches best first, OcrResult of what was read)``.

    Labels first. On a flat screen, the lines laid out like the text alone (as many words,
    about as many glyphs each: ``screen_labels.py``) are read without running the detector; when one
    reads as the text (letters and digits equal), that is the answer. A button, a menu item or
    a field's name costs milliseconds of OpenCV and a few short lines instead of every line of
    the screen. Otherwise, when the screen's line boxes hold all its ink, every line wide
    enough to hold the text is read, still without the detector: that answers for a text
    inside a longer line and for an absent one. Else the detector runs once and the boxes
    the size of the text alone are read, then, unless one of them reads as the text, the
    wider lines that may hold it inside. Lines are read squeezed across (``rapid.SQUEEZE``).
    ``engine``: an engine name or instance."""
    from .engines import get_engine, result_of

    ocr = engine if hasattr(engine, "read") else get_engine(engine, settings)
    array = as_rgb_array(image)
    wanted = _loose(text)

    def exact(matches) -> bool:
        return any(_loose(m.line) == wanted for m in matches)

    if hasattr(ocr, "recognise") and wanted:
        import time
        from itertools import groupby

        import cv2

        from .screen_labels import label_boxes, screen_lines, wide_enough

        started = time.perf_counter()
        gray = cv2.cvtColor(array, cv2.COLOR_RGB2GRAY)
        boxes_on_screen, left_out = screen_lines(gray)
        lines: list = []
        spent = 0.0
        for _, group in groupby(label_boxes(gray, normalise(text), boxes_on_screen), key=lambda c: c[0]):
            boxes = [box for _, box in group]
            spent += sum(w / max(1, h) for _, _, w, h in boxes)
            if spent > QUICK_LOOK_BUDGET:
                break
            lines += ocr.recognise(array, boxes, squeeze=True)
            matches = match_lines(lines, text, min_confidence)
            if exact(matches):  # a closer fit was read first; the same label twice fits alike
                return matches, result_of(lines, array, ocr.name, started)
        if left_out <= EXPLAINED:
            read: list = []
            matches = []
            for boxes in wide_enough(gray, boxes_on_screen, text, LABEL_MIN_WIDTH):  # words laid out like it first
                if not boxes:
                    continue
                read += ocr.recognise(array, boxes, squeeze=True)
                matches = match_lines(read, text, min_confidence)
                if any(wanted in _loose(m.line) for m in matches):
                    break
            return matches, result_of(read, array, ocr.name, started)

    found: list[TextMatch] = []

    def enough(result) -> bool:
        found[:] = match_lines(result.lines, text, min_confidence)
        return exact(found)

    result = ocr.read_staged(array, text_stages(text), enough, squeeze=True)
    return found, result


class TextSearch:
    """Looking for one text again and again, as a wait loop does: an image identical to the one
    looked at last gets the last answer without being read again, so a screen that has not
    changed while a bot waits for a dialog costs a comparison, not an OCR.

        search = TextSearch("Saved", engine="rapidocr", min_confidence=0.6)
        matches, result = search(screen_rgb)      # search_text's answer"""

    def __init__(self, text: str, *, engine=None, min_confidence: float = 0.5, settings: dict | None = None):
        self.text, self.engine, self.min_confidence, self.settings = text, engine, min_confidence, settings
        self._last: tuple | None = None  # (image key, answer)

    def __call__(self, image):
        import hashlib

        array = as_rgb_array(image)
        key = (array.shape, hashlib.blake2b(array.data, digest_size=16).digest())  # no copy: as_rgb_array is contiguous
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        answer = search_text(array, self.text, engine=self.engine, min_confidence=self.min_confidence,
                             settings=self.settings)
        self._last = (key, answer)
        return answer

