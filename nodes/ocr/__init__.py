"""The ocr pack: OCR engines (rapidocr on ONNX Runtime by default, EasyOCR, Tesseract), PDF
reading, find-text-on-screen, tables and invoice/receipt field extraction. See docs/ocr.md."""

from botloom.runner import __version__
from botloom.runner.sdk import NodePack


def pack() -> NodePack:
    from . import nodes

    return NodePack.from_modules("ocr", __version__, [nodes], title="OCR and documents")
