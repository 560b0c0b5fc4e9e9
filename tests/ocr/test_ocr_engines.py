"""Real OCR engines on rendered, degraded and image-only documents."""

from __future__ import annotations

import numpy as np
import pytest
from botloom.nodes.ocr import engines
from botloom.nodes.ocr.rapid import onnx_providers
from botloom.nodes.ocr.api import TextMatch, find_text
from botloom.nodes.ocr.documents import load_image, read_document
from botloom.nodes.ocr.extract import extract
from botloom.runner.errors import MissingDependencyError, NodeError
from ocr_docs import EN_FIELDS, render


def test_default_engine_reads_lines_words_boxes_and_confidences(docs, rapid):
    result = rapid.read(load_image(docs["invoice-en.png"]))
    texts = [ln.text for ln in result.lines]
    assert "Acme Office Supplies GmbH" in texts
    line = next(ln for ln in result.lines if ln.text == "Acme Office Supplies GmbH")
    x, y, w, h = line.box
    assert abs(x - 60) < 15 and abs(y - 50) < 20 and 300 < w < 500 and 20 < h < 60
    assert 0.8 < line.confidence <= 1.0
    assert [w.text for w in line.words] == ["Acme", "Office", "Supplies", "GmbH"]
    assert all(line.box[0] - 2 <= w.box[0] <= line.box[0] + line.box[2] for w in line.words)


@pytest.mark.parametrize("name", ["invoice-en.png", "scanned-en.png", "scanned-en.pdf"])
def test_fields_from_clean_scanned_and_image_only_documents(docs, rapid, name):
    pages = read_document(docs[name], engine=rapid)
    if name.endswith(".pdf"):
        assert pages[0].source == "ocr"  # no text layer: rendered and OCR'd
    result = extract(pages).to_dict()
    assert result["values"] == EN_FIELDS
    for field in ("total", "invoice_date", "vendor"):
        assert result["fields"][field]["box"] is not None


def test_german_invoice_image(docs, rapid):
    from ocr_docs import DE_FIELDS

    result = extract(read_document(docs["invoice-de.png"], engine=rapid)).to_dict()
    assert result["values"] == DE_FIELDS


def test_find_text_narrows_the_box_to_the_label(rapid):
    screen = render([("File   Edit   View   Help", 20, 10, 16), ("Save as", 600, 500, 18),
                     ("Total amount: 123.45 EUR", 300, 700, 16)], size=(1280, 800))
    matches = find_text(np.asarray(screen), "save AS", engine="rapidocr")
    assert matches and isinstance(matches[0], TextMatch)
    x, y, w, h = matches[0].box
    assert abs(x - 600) < 12 and abs(y - 500) < 12 and 50 < w < 90 and h < 35
    view = find_text(np.asarray(screen), "View")[0]
    assert 100 < view.box[0] < 200 and view.box[2] < 60       # one word of a longer line
    fuzzy = find_text(np.asarray(screen), "Totl amount")[0]    # a misread letter still matches
    assert fuzzy.confidence < 1.0 and abs(fuzzy.box[0] - 300) < 12
    assert find_text(np.asarray(screen), "Nothing like this") == []


def test_tesseract_reads_the_clean_invoice(docs):
    if not engines.tesseract_path():
        pytest.skip("tesseract is not installed (apt-get install tesseract-ocr)")
    result = engines.get_engine("tesseract").read(load_image(docs["invoice-en.png"]))
    assert "Acme Office Supplies GmbH" in [ln.text for ln in result.lines]
    assert extract([result]).values()["total"] == "148.51"


def test_easyocr_reads_text_from_offline_models(docs):
    try:
        engine = engines.get_engine("easyocr")
    except MissingDependencyError as exc:
        pytest.skip(f"easyocr is not installed here: {exc.message} (installer/setup.d/ocr.sh installs it)")
    result = engine.read(load_image(docs["invoice-en.png"])[:420, :900])
    text = result.text.lower()
    assert "acme office supplies" in text and "inv-2024-0042" in text


def test_unknown_engine_names_the_choices():
    with pytest.raises(NodeError) as err:
        engines.get_engine("abbyy")
    assert "rapidocr, easyocr, tesseract" in err.value.fix


def test_missing_tesseract_gives_the_install_hint(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("TESSERACT_CMD", raising=False)
    monkeypatch.setattr(engines, "_CACHE", {})
    with pytest.raises(MissingDependencyError) as err:
        engines.get_engine("tesseract")
    assert "apt-get install tesseract-ocr" in err.value.fix


def test_missing_module_gives_the_install_hint(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "easyocr", None)  # import easyocr -> ImportError
    monkeypatch.setattr(engines, "_CACHE", {})
    with pytest.raises(MissingDependencyError) as err:
        engines.get_engine("easyocr")
    assert "easyocr" in err.value.fix


def test_engine_from_bot_settings_then_user_setting(monkeypatch):
    assert engines.resolve_name(None, {"engine": "tesseract"}) == "tesseract"
    assert engines.resolve_name("easyocr", {"engine": "tesseract"}) == "easyocr"
    from botloom.runner import settings

    settings.set("ocr.engine", "tesseract")
    assert engines.resolve_name(None, {}) == "tesseract"
    settings.set("ocr.engine", "auto")
    assert engines.resolve_name(None, {}) == "rapidocr"


def test_onnx_providers_end_with_cpu():
    providers = onnx_providers()
    assert providers[-1] == "CPUExecutionProvider"
    assert onnx_providers("cpu") == ["CPUExecutionProvider"]
