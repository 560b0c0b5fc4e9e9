"""An int8 copy of the text recogniser, made once per machine from the packaged model.

On the CPU the recogniser is most of rapidocr's time. ONNX Runtime runs convolutions and
matrix products in 8-bit integers several times faster than in 32-bit floats on CPUs with
VNNI or AVX2 integer units, and PP-OCR's recogniser keeps its accuracy when quantised. The
copy is made from the model file rapidocr ships (checked against its published checksum
first), so nothing is downloaded:

1. the model is converted to ONNX opset 13 (per-channel quantisation needs it) and
   pre-processed by ``onnxruntime.quantization`` (shape inference, graph fusions);
2. ``quantize_static`` measures activation ranges on text lines rendered here, with the
   fonts this machine has (no user document is involved), and writes a QDQ model with int8
   weights per output channel and uint8 activations;
3. the result goes to the model cache under a name that holds the source model's sha256,
   the ONNX Runtime version and the recipe version, with its own sha256 beside it. A copy
   whose checksum no longer matches is made again.

The copy also scores only the characters asked for. The packaged recogniser scores 18,710
classes (Chinese, Japanese and Korean included) at every step of a line; its last layer and
softmax were about 30 % of the 32-bit model's time and 15 % of the int8 copy's. ``characters="alphabetic"`` (the default) keeps the
1,748 characters below U+2E80 (the model's Latin and Greek letters, digits, punctuation,
currency signs, arrows and other symbols), the space and the blank; ``"all"`` keeps every
class, the model's Chinese, Japanese and Korean characters too (``settings.ocr.characters``).

Making the copy takes a few seconds, once; two processes doing it at the same time take
turns on a lock file. When it cannot be made (the ``onnx`` package is missing, an error in
the quantiser), the engine logs why and uses the 32-bit model.

The detector stays in 32-bit floats: quantised, it found text boxes less exactly and the
character error rate on the receipts rose (docs/ocr-evaluation.md).
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from pathlib import Path

from botloom.runner.sdk import file_lock as locked
from botloom.runner.sdk import sha256_file

log = logging.getLogger("botloom.ocr")

RECIPE = 2  # bump when the steps or the calibration lines change: old copies are not reused
ENV_CACHE = "BOTLOOM_MODEL_CACHE"
REC_HEIGHT = 48
CHARACTERS = ("alphabetic", "all")
ALPHABETIC_BELOW = 0x2E80  # CJK radicals, kana, hangul and CJK ideographs start here

# Calibration text: what the recogniser meets on invoices, receipts and screens.
LINES = [
    "INVOICE", "Invoice No: INV-2024-0042", "Rechnungsnummer: RE-48213", "Date: 15.03.2024",
    "Due date 2024-04-14", "Description", "Qty", "Unit price", "Amount", "Subtotal 273.00 EUR",
    "VAT 19% 51.87", "Total 324.87 EUR", "Gesamtbetrag 1.234,56 €", "TOTAL RM 12.50",
    "GST 6% 0.71", "CASH 50.00", "CHANGE 37.50", "Thank you! Please come again",
    "Acme Office Supplies GmbH", "Müller & Söhne KG, Hauptstraße 5, 80331 München",
    "SDN BHD (123456-X)", "Tel: +49 89 123456-0", "www.example.com  info@example.com",
    "IBAN DE89 3704 0044 0532 0130 00", "Item number 7", "2 x 3.50", "0.00", "12", "A",
    "File", "Edit", "View", "Help", "Save changes", "Cancel", "OK", "Customer 07",
    "Search...", "Username", "Password", "Submit order", "Payment terms: 30 days net",
    "Order #A-1187 shipped", "Qté 3  Prix 19,90", "14:32:05", "(0.45)", "-12.00",
]
FONT_FILES = [  # tried in order; whichever exist are used
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "C:/Windows/Fonts/arial.ttf", "C:/Windows/Fonts/segoeui.ttf", "C:/Windows/Fonts/times.ttf",
    "C:/Windows/Fonts/consola.ttf", "/System/Library/Fonts/Helvetica.ttc",
    "/System/Library/Fonts/Supplemental/Arial.ttf", "/Library/Fonts/Arial.ttf",
]


def cache_folder(configured: str | None = None) -> Path:
    """Where derived models are kept: the setting, else ``BOTLOOM_MODEL_CACHE``, else the data
    folder's ``cache/models``."""
    if configured:
        return Path(configured).expanduser()
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE]).expanduser()
    from botloom.runner.sdk import cache_dir

    return cache_dir("models")


def _fonts(size: int) -> list:
    from PIL import ImageFont

    found = []
    for path in FONT_FILES:
        if Path(path).is_file():
            try:
                found.append(ImageFont.truetype(path, size))
            except OSError:
                continue
    if not found:
        found.append(ImageFont.load_default(size))
    return found


def calibration_lines(count: int = 64) -> list:
    """Rendered text lines (RGB uint8 arrays), dark on light and light on dark, clean, blurred
    and noisy, 14 to 40 pixels high. Deterministic for a given set of fonts."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(7)
    fonts = {size: _fonts(size) for size in (14, 18, 24, 32, 40)}
    lines = []
    for i in range(count):
        size = (14, 18, 24, 32, 40)[i % 5]
        font = fonts[size][i % len(fonts[size])]
        text = LINES[i % len(LINES)]
        dark = i % 7 != 3
        ink, paper = ((20, 20, 20), (250, 250, 248)) if dark else ((235, 235, 235), (40, 60, 90))
        left, top, right, bottom = font.getbbox(text)
        pad = max(3, size // 4)
        img = Image.new("RGB", (right - left + 2 * pad, bottom - top + 2 * pad), paper)
        ImageDraw.Draw(img).text((pad - left, pad - top), text, fill=ink, font=font)
        if i % 4 == 1:
            img = img.filter(ImageFilter.GaussianBlur(0.8))
        arr = np.asarray(img).astype(np.float32)
        if i % 4 == 2:
            arr = arr * 0.9 + 12 + rng.normal(0, 10, arr.shape)
        lines.append(np.clip(arr, 0, 255).astype(np.uint8))
    return lines


def recogniser_input(line, min_width: int):
    """One line as the recogniser's input, prepared as rapidocr prepares it: 48 pixels high,
    at least ``min_width`` wide (padded), scaled to -1..1."""
    import cv2
    import numpy as np

    h, w = line.shape[:2]
    width = max(min_width, int(math.ceil(REC_HEIGHT * w / h)))
    resized_w = min(width, int(math.ceil(REC_HEIGHT * w / h)))
    x = cv2.resize(line, (resized_w, REC_HEIGHT)).astype(np.float32).transpose(2, 0, 1) / 255
    batch = np.zeros((1, 3, REC_HEIGHT, width), dtype=np.float32)
    batch[0, :, :, :resized_w] = (x - 0.5) / 0.5
    return batch


def keep_classes(characters: list[str], which: str) -> list[int] | None:
    """The recogniser's output classes kept for ``which`` (see ``CHARACTERS``): indexes into
    blank + ``characters`` + space; None keeps them all."""
    if which == "all":
        return None
    kept = [i + 1 for i, c in enumerate(characters) if all(ord(ch) < ALPHABETIC_BELOW for ch in c)]
    return [0] + kept + [len(characters) + 1]


def derive(model, which: str = "alphabetic"):
    """``model`` (the packaged recogniser, loaded by ``onnx``) changed in place to score only the
    classes of ``which``. Its last layer is a MatMul by a (hidden, classes) weight plus a bias,
    then a softmax; the character list is in the metadata, as rapidocr reads it."""
    import numpy as np
    from onnx import numpy_helper

    meta = {p.key: p for p in model.metadata_props}
    characters = meta["character"].value.splitlines()
    keep = keep_classes(characters, which)
    if keep is None:
        return model
    weights = {i.name: i for i in model.graph.initializer}
    output = model.graph.output[0].name
    softmax = next(n for n in model.graph.node if n.op_type == "Softmax" and output in n.output)
    producers = {o: n for n in model.graph.node for o in n.output}
    node, changed = producers[softmax.input[0]], 0
    while node is not None and changed < 2:  # back from the softmax: the bias Add, then the MatMul
        for name in node.input:
            init = weights.get(name)
            if init is not None and init.dims and init.dims[-1] == len(characters) + 2:
                array = numpy_helper.to_array(init)
                init.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(array[..., keep]), name))
                changed += 1
        node = next((producers[i] for i in node.input if i in producers), None)
    if changed != 2:
        raise ValueError("the recogniser's last layer is not a MatMul and an Add before the softmax")
    meta["character"].value = "\n".join(characters[i - 1] for i in keep[1:-1])
    out = model.graph.output[0].type.tensor_type.shape.dim[2]
    out.dim_value = len(keep)
    del model.graph.value_info[:]  # shapes inferred for the full layer no longer hold
    return model


def int8_recogniser(source: Path, source_sha256: str, min_width: int, cache: str | None = None,
                    characters: str = "alphabetic") -> Path | None:
    """The int8 copy of the recogniser ``source`` for ``characters`` (see ``derive``), made now
    if needed; None when it cannot be made (the reason is logged; the caller keeps the packaged
    32-bit model)."""
    try:
        import onnxruntime
    except ImportError:
        return None
    folder = cache_folder(cache)
    target = folder / (f"{source.stem}.int8-{characters}-{source_sha256[:16]}-ort{onnxruntime.__version__}"
                       f"-r{RECIPE}.onnx")
    stamp = target.with_name(target.name + ".sha256")
    if _intact(target, stamp):
        return target
    try:
        with locked(folder / ".quantize.lock", timeout=300):
            if _intact(target, stamp):  # another process made it while this one waited
                return target
            log.info("making the int8 text recogniser from %s (once per machine)", source.name)
            _quantize(source, target, min_width, characters)
            stamp.write_text(sha256_file(target) + "\n", encoding="ascii")
    except Exception as exc:  # noqa: BLE001 - any failure leaves the 32-bit model in use
        log.warning("could not make the int8 text recogniser (%s: %s); using the 32-bit model",
                    type(exc).__name__, exc)
        return None
    return target


def _intact(target: Path, stamp: Path) -> bool:
    try:
        return target.is_file() and stamp.read_text(encoding="ascii").strip() == sha256_file(target)
    except OSError:
        return False


def _quantize(source: Path, target: Path, min_width: int, characters: str = "alphabetic") -> None:
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    original = derive(onnx.load(str(source)), characters)
    inputs = [recogniser_input(line, min_width) for line in calibration_lines()]
    name = original.graph.input[0].name

    class Lines(CalibrationDataReader):
        def __init__(self):
            self._it = iter(inputs)

        def get_next(self):
            batch = next(self._it, None)
            return None if batch is None else {name: batch}

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="botloom-quantize-") as tmp:
        opset13, prepared, out = Path(tmp) / "opset13.onnx", Path(tmp) / "prepared.onnx", Path(tmp) / "int8.onnx"
        onnx.save(version_converter.convert_version(original, 13), str(opset13))
        quant_pre_process(str(opset13), str(prepared), skip_symbolic_shape=True)
        quantize_static(str(prepared), str(out), Lines(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        op_types_to_quantize=["Conv", "MatMul"])
        model = onnx.load(str(out))
        keys = {p.key for p in model.metadata_props}
        for prop in original.metadata_props:  # the character list lives here
            if prop.key not in keys:
                model.metadata_props.append(prop)
        partial = target.with_name(target.name + f".{os.getpid()}.part")
        onnx.save(model, str(partial))
        os.replace(partial, target)
