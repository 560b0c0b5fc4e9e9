"""The ocr pack: OCR engines (rapidocr on ONNX Runtime by default, EasyOCR, Tesseract), PDF
reading, find-text-on-screen, tables and invoice/receipt field extraction. See docs/ocr.md."""

from botloom.runner.sdk import VERSION, NodePack


def pack() -> NodePack:
    from . import nodes

    return NodePack.from_modules("ocr", VERSION, [nodes], title="OCR and documents",
                                 provides={"ocr.text_search": "botloom.nodes.ocr.api:TextSearch",
                                           "ocr.read_image": "botloom.nodes.ocr.api:read_image"})
