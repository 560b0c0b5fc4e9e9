"""The OCR pack's Python API for other node packs (the desktop pack's "text" targets use it).

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

__all__ = ["TextMatch", "find_text", "match_lines", "read_for_text", "read_image"]


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


def match_lines(lines, text: str, min_confidence: float = 0.5) -> list[TextMatch]:
    """Find ``text`` in OCR ``lines`` (``engines.Line``); best first."""
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
            for size in range(max(1, n_query - 1), n_query + 2):
                for i in range(max(0, len(words) - size) + 1):
                    window = words[i:i + size]
                    cand = _loose(" ".join(w.text for w in window))
                    if not cand:
                        continue
                    ratio = SequenceMatcher(None, wanted_loose, cand, autojunk=False).ratio()
                    if best is None or ratio > best[0]:
                        from .engines import union_box

                        best = (ratio, union_box(w.box for w in window))
        if best is None:
            continue
        similarity, box = best
        ocr_conf = min(1.0, max(0.0, float(line.confidence)))
        confidence = similarity * (0.5 + 0.5 * ocr_conf)
        if similarity >= 0.75 and confidence >= min_confidence:
            found.append(TextMatch(text=text, box=tuple(int(v) for v in box), confidence=float(confidence),
                                   line=line.text))
    found.sort(key=lambda m: (-round(m.confidence, 3), m.box[1], m.box[0]))
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
    ``ocr.engine`` setting, else rapidocr)."""
    return match_lines(read_for_text(image, text, engine=engine, settings=settings).lines, text, min_confidence)


def read_for_text(image, text: str, *, engine=None, settings: dict | None = None):
    """OCR an image to look for ``text``: engines that can skip lines too short to hold it do."""
    from .engines import get_engine

    ocr = engine if hasattr(engine, "read") else get_engine(engine, settings)
    array = as_rgb_array(image)
    if hasattr(ocr, "read_for"):
        return ocr.read_for(array, len(_loose(text)))
    return ocr.read(array)
