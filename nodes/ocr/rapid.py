"""The default OCR engine: PP-OCR models shipped inside the ``rapidocr`` wheel, run by ONNX
Runtime, with Botloom's detector input, small-print pass, staged reading (find-text) and int8
recogniser (``quantize.py``). See docs/ocr.md, "How rapidocr is made fast on an office PC".
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from botloom.runner.sdk import NodeError, sha256_file

from .engines import (Line, OcrEngine, OcrResult, Word, _missing, check_model_file, quad_to_box, split_words,
                      text_line)


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


def _box_sizes(boxes):
    """Widths and heights of detector quads (``N x 4 x 2``)."""
    return (boxes[:, :, 0].max(axis=1) - boxes[:, :, 0].min(axis=1),
            boxes[:, :, 1].max(axis=1) - boxes[:, :, 1].min(axis=1))


def _customise_detector(detector, size: int):
    """Give rapidocr's ``detector`` Botloom's input (``_DetectorInput``) and two behaviours.

    Small print: detected at ``size`` pixels, a 200 dpi A4 page of 9-point print has text
    boxes about 16 pixels high, and lone narrow glyphs (the "1" of a quantity column) fall
    under the detector's threshold. When the median box of a page larger than ``size`` is
    under ``SMALL_TEXT`` pixels, the page is detected again at the size that brings it to
    ``TEXT_HEIGHT`` (at most the page's own size). Pages of ordinary print pay nothing.

    Reading in stages (``RapidOcrEngine.read_staged``): while ``select`` is set, only the
    boxes it selects go on to recognition; ``last`` keeps the whole detection, and while
    ``replay`` is set the detector hands that back instead of detecting the same image again."""
    import numpy as np

    base = type(detector)

    class Detector(base):
        def __call__(self, img):
            if self.select is None:
                return self._detect(img)
            out = self.last = self._detect(img) if self.replay is None else self.replay
            if out.boxes is None:
                return out
            keep = np.flatnonzero(self.select(*_box_sizes(out.boxes)))
            if not len(keep):
                return type(out)()  # nothing to read: rapidocr returns an empty result
            return type(out)(img=out.img, boxes=out.boxes[keep], elapse=out.elapse,
                             scores=None if out.scores is None else [out.scores[i] for i in keep])

        def _detect(self, img):
            self.size = size
            out = base.__call__(self, img)
            longest = max(img.shape[:2])
            if out.boxes is None or len(out.boxes) < 3 or longest <= size:
                return out
            median = float(np.median(_box_sizes(out.boxes)[1])) * size / longest
            if median >= SMALL_TEXT:
                return out
            self.size = min(longest, int(size * TEXT_HEIGHT / max(1.0, median)))
            try:
                return base.__call__(self, img)
            finally:
                self.size = size

    detector.__class__ = Detector
    detector.size, detector.select, detector.replay, detector.last = size, None, None, None
    detector.get_preprocess = lambda: _DetectorInput(detector.size, detector.mean, detector.std)
    return detector


# The recogniser reads lines 48 pixels high. A line of screen text, 12-18 pixels with its
# margin, is enlarged about three times; when reading a screen (``squeeze``: find-text) it is
# enlarged across only SQUEEZE as much. On a screen of 60 lines in the 21 DejaVu faces at 10-16
# pixels, recognition took 0.83x the time and the character error rate went from 0.16 to
# 0.44 % (0.71 % at 0.7, 6 % at 0.5). Scans are never squeezed: their lines of 20-30 pixels
# lose detail at once (the receipts' error rate rose 4.4 -> 5.7 %).
REC_HEIGHT = 48
REC_BATCH = 6  # lines per recogniser run, as rapidocr reads them (a batch is padded to its widest line)
# ... when reading a screen: a find-text's few lines keep both cores busy (an absent text on the
# benchmark's form: 0.46-0.49 s in batches of 2, 0.49-0.51 s of 3, 0.54 s of 4)
SCREEN_BATCH = 2
SQUEEZE = 0.8


def _customise_recogniser(recogniser, min_width: int, workers: int):
    """rapidocr's ``recogniser`` with Botloom's input: lines sorted by width and read in
    batches of ``REC_BATCH`` as rapidocr reads them, each scaled to 48 pixels high, a batch
    padded to its widest line (at least ``min_width``); while ``squeezing`` is set (a screen),
    in batches of ``SCREEN_BATCH`` and ``SQUEEZE``d across.

    With ``workers`` > 1 the batches run side by side, each on one core (the session is made
    with one thread per run, ``RapidOcrEngine``): a batch of a few short lines gives ONNX
    Runtime's threads too little to share, and two single-threaded runs at once read the same
    lines in 0.8x the time of one two-threaded run after another."""
    import math

    import cv2
    import numpy as np

    base = type(recogniser)

    class Recogniser(base):
        def __call__(self, args):
            from rapidocr.ch_ppocr_rec.typings import TextRecOutput

            images = [args.img] if isinstance(args.img, np.ndarray) else list(args.img)
            scale = SQUEEZE if self.squeezing else 1.0
            ratios = [scale * img.shape[1] / max(1, img.shape[0]) for img in images]
            order = np.argsort(np.array(ratios))  # as rapidocr orders them: the same batches
            size = SCREEN_BATCH if self.squeezing else REC_BATCH
            batches = [order[start:start + size] for start in range(0, len(images), size)]

            def widest(batch) -> float:
                return max(min_width / REC_HEIGHT, max(ratios[i] for i in batch))

            def prepared(batch):
                width = int(REC_HEIGHT * widest(batch))
                x = np.zeros((len(batch), 3, REC_HEIGHT, width), dtype=np.float32)
                for row, i in enumerate(batch):
                    resized = cv2.resize(images[i], (min(width, int(math.ceil(REC_HEIGHT * ratios[i]))), REC_HEIGHT))
                    resized = resized.astype(np.float32).transpose(2, 0, 1) / 255
                    x[row, :, :, :resized.shape[2]] = (resized - 0.5) / 0.5
                return x

            inputs = [prepared(batch) for batch in batches]
            outputs = list(self.pool.map(self.session, inputs)) if self.pool and len(inputs) > 1 else \
                [self.session(x) for x in inputs]
            results = [(("", 0.0), None)] * len(images)
            for batch, out in zip(batches, outputs):
                lines, words = self.postprocess_op(out, args.return_word_box,
                                                   wh_ratio_list=[ratios[i] for i in batch],
                                                   max_wh_ratio=widest(batch))
                for row, i in enumerate(batch):
                    results[i] = (lines[row], words[row] if args.return_word_box else None)
            line_results, word_results = zip(*results) if results else ((), ())
            texts, scores = zip(*line_results) if line_results else ((), ())
            return TextRecOutput(images, texts, scores, word_results, 0.0)

    recogniser.__class__ = Recogniser
    recogniser.squeezing, recogniser.pool = False, None
    if workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        recogniser.pool = ThreadPoolExecutor(workers, thread_name_prefix="botloom-ocr")
    return recogniser


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
                 cache_dir: str | None = None, characters: str = "alphabetic"):
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
        from .quantize import CHARACTERS

        if characters not in CHARACTERS:
            raise NodeError(f"unknown OCR character set '{characters}'", kind="bad_input",
                            fix="use alphabetic (Latin and Greek letters, digits and symbols; faster) or all (also "
                                "Chinese, Japanese and Korean) in settings.ocr.characters")
        self.precision, self.characters = "fp32", "all"
        if precision == "int8" or (precision == "auto" and self.providers[0] == "CPUExecutionProvider"):
            from .quantize import int8_recogniser

            rec = Path(params["Rec.model_path"])
            known = sums.get(self.MODELS["Rec"][1]) if folder == package_models else None
            int8 = int8_recogniser(rec, known or sha256_file(rec), self.REC_MIN_WIDTH, cache_dir, characters)
            if int8 is not None:
                params["Rec.model_path"] = str(int8)
                self.precision, self.characters = "int8", characters
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
        side_by_side = self.threads > 1 and self.providers[0] == "CPUExecutionProvider"
        engine_cfg = self._ocr.cfg.EngineConfig.onnxruntime
        if side_by_side:  # the recogniser's session, made now, runs each batch on one thread
            engine_cfg.intra_op_num_threads = 1
        try:
            recogniser = self._ocr._load_rec_model()
        finally:
            engine_cfg.intra_op_num_threads = self.threads
        _customise_recogniser(recogniser, self.REC_MIN_WIDTH, self.threads if side_by_side else 1)
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
        scored = ", alphabetic characters" if self.characters == "alphabetic" else ""
        return (f"rapidocr (PP-OCRv6 small, {self.precision} recogniser{scored}, ONNX Runtime {self.providers[0]}, "
                f"{self.threads} threads, detection at {self.detection_size} px)")

    @contextmanager
    def _reading(self, squeeze: bool):
        """The engine to itself (one ONNX session set per engine: calls from threads wait), its
        recogniser ``squeezing`` screen lines while ``squeeze``."""
        recogniser = self._ocr._load_rec_model()
        with self._lock:
            recogniser.squeezing = squeeze
            try:
                yield recogniser
            finally:
                recogniser.squeezing = False

    def read_staged(self, image, stages, enough, squeeze: bool = False) -> OcrResult:
        """Detect once, then recognise the boxes of one stage after another until ``enough``
        (see ``OcrEngine.read_staged``): finding a label on a screen reads the few boxes of
        its size first, not every line."""
        detector = self._detector

        def read_stage(stage):
            detector.select = stage
            lines = self._convert(self._ocr(image, return_word_box=True))
            detector.replay = detector.last  # a next stage reads other boxes of this detection
            return lines

        with self._reading(squeeze):
            try:
                return self._in_stages(image, stages, enough, read_stage)
            finally:
                detector.select = detector.replay = detector.last = None

    def recognise(self, image, boxes, squeeze: bool = False) -> list[Line]:
        """Read the text in each ``(x, y, w, h)`` box of ``image`` (no detection); lines read
        as nothing, or below the engine's text score, are left out. Word boxes are estimated
        from the line's characters. ``squeeze``: ``image`` is a screen (see ``SQUEEZE``)."""
        from rapidocr.ch_ppocr_rec.typings import TextRecInput

        if not boxes:
            return []
        crops = [image[y:y + h, x:x + w] for x, y, w, h in boxes]
        with self._reading(squeeze) as recogniser:
            out = recogniser(TextRecInput(img=crops, return_word_box=False))
        lines = (text_line(text, box, score) for box, text, score in zip(boxes, out.txts, out.scores)
                 if float(score) >= self._ocr.text_score)
        return [ln for ln in lines if ln is not None]

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
