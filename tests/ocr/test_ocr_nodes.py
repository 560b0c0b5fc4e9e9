"""The OCR nodes in real bots, run by the engine."""

from __future__ import annotations

import pytest
from ocr_docs import EN_FIELDS, render

from bots import finished, make, run


def _bot(node: dict, port: str = "out", **top):
    return make({"start": {"type": "core.start"}, "n": node}, [("start", "n")], **top)


def _outputs(log):
    return finished(log, "n")[0].outputs


def _port(log):
    return finished(log, "n")[0].port


def test_extract_invoice_node_on_a_digital_pdf(docs):
    result, log = run(_bot({"type": "ocr.extract_invoice",
                            "params": {"path": str(docs["digital-en.pdf"]),
                                       "review_fields": ["invoice_date", "total", "currency"]}}))
    assert result.state == "succeeded", result.error
    out = _outputs(log)
    assert out["values"] == EN_FIELDS and out["review"] is False and _port(log) == "out"
    assert out["sources"] == ["text-layer"] and out["disagreements"] == []
    assert out["fields"]["invoice_number"]["confidence"] >= 0.7
    assert [li["amount"] for li in out["line_items"]] == ["45.00", "79.80"]


def test_extract_invoice_routes_to_review_under_a_high_threshold(docs):
    result, log = run(_bot({"type": "ocr.extract_invoice",
                            "params": {"path": str(docs["digital-en.pdf"]), "threshold": 0.999}}))
    assert result.state == "succeeded", result.error
    assert _port(log) == "review" and _outputs(log)["review"] is True
    assert "vendor" in _outputs(log)["low_confidence"]


def test_read_pdf_node_uses_the_text_layer_and_ocr_per_page(docs):
    result, log = run(_bot({"type": "ocr.read_pdf", "params": {"path": str(docs["digital-en.pdf"])}}))
    assert result.state == "succeeded", result.error
    out = _outputs(log)
    assert out["page_count"] == 1 and out["pages"][0]["source"] == "text-layer"
    assert "Toner cartridge" in out["text"]
    result, log = run(_bot({"type": "ocr.read_pdf", "params": {"path": str(docs["scanned-en.pdf"])}}))
    assert result.state == "succeeded", result.error
    assert _outputs(log)["pages"][0]["source"] == "ocr" and "Toner cartridge" in _outputs(log)["text"]


def test_read_text_node_on_an_image_region(docs):
    result, log = run(_bot({"type": "ocr.read_text",
                            "params": {"path": str(docs["invoice-en.png"]), "region": [0, 0, 700, 160]}}))
    assert result.state == "succeeded", result.error
    out = _outputs(log)
    assert [ln["text"] for ln in out["lines"]][:2] == ["Acme Office Supplies GmbH", "Hauptstrasse 12, 10115 Berlin"]
    assert out["confidence"] > 0.8


def test_find_text_node_in_an_image_file(tmp_path):
    path = tmp_path / "screen.png"
    render([("Submit order", 900, 600, 18), ("Cancel", 700, 600, 18)], size=(1280, 800)).save(path)
    result, log = run(_bot({"type": "ocr.find_text", "params": {"text": "submit order", "path": str(path)}}))
    assert result.state == "succeeded", result.error
    out = _outputs(log)
    assert _port(log) == "found" and abs(out["box"][0] - 900) < 12
    result, log = run(_bot({"type": "ocr.find_text", "params": {"text": "Delete everything", "path": str(path)}}))
    assert _port(log) == "missing" and _outputs(log)["found"] is False


def test_extract_table_node(docs):
    result, log = run(_bot({"type": "ocr.extract_table", "params": {"path": str(docs["digital-en.pdf"])}}))
    assert result.state == "succeeded", result.error
    rows = _outputs(log)["rows"]
    assert rows[0] == {"Description": "Printer paper A4", "Qty": "10", "Unit price": "4.50", "Amount": "45.00"}


def test_encrypted_pdf_fails_the_node_with_the_reason(docs):
    result, _ = run(_bot({"type": "ocr.read_pdf", "params": {"path": str(docs["encrypted.pdf"])}}))
    assert result.state == "failed"
    assert "encrypted" in str(result.error)


def test_page_out_of_range_in_a_node(docs):
    result, _ = run(_bot({"type": "ocr.read_text", "params": {"path": str(docs["digital-en.pdf"]), "pages": "2"}}))
    assert result.state == "failed" and "out of range" in str(result.error)


def test_unknown_engine_in_bot_settings_fails_before_the_first_step(docs):
    result, log = run(_bot({"type": "ocr.read_text", "params": {"path": str(docs["invoice-en.png"])}},
                           settings={"ocr": {"engine": "abbyy"}}))
    assert result.state == "failed" and "unknown OCR engine" in str(result.error)
    assert finished(log, "n") == []


@pytest.fixture
def screen():
    """A real virtual X screen (Xvfb) with a picture painted on it."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    try:
        from virtual_display import VirtualDisplay, missing_tools
    except ImportError:
        pytest.skip("tests/virtual_display.py (the desktop tests' Xvfb helper) is not available")
    pytest.importorskip("botloom.nodes.desktop.screen", reason="the desktop pack's screen capture is not installed")
    pytest.importorskip("Xlib", reason="python-xlib is needed to paint on the virtual screen")
    if missing_tools(("Xvfb",)):
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    with VirtualDisplay(1280, 800, window_manager=False) as vd:
        yield vd


def test_screen_nodes_read_a_real_virtual_screen(screen):
    import numpy as np

    picture = np.asarray(render([("Invoice inbox", 20, 20, 22), ("Approve", 20, 90, 22)], size=(400, 140)))
    screen.show_image(picture, x=300, y=200)
    result, log = run(_bot({"type": "ocr.find_text", "params": {"text": "approve", "region": [250, 150, 600, 300]}}))
    assert result.state == "succeeded", result.error
    out = _outputs(log)
    assert _port(log) == "found"
    x, y, w, h = out["box"]
    assert abs(x - 320) < 12 and abs(y - 290) < 15 and 60 < w < 110  # screen pixels, not region pixels
    assert out["center"] == [x + w // 2, y + h // 2]
    result, log = run(_bot({"type": "ocr.read_screen", "params": {"region": [300, 200, 400, 140]}}))
    assert result.state == "succeeded", result.error
    assert _outputs(log)["text"] == "Invoice inbox\nApprove"
    result, log = run(_bot({"type": "ocr.find_text", "params": {"text": "Reject"}}))
    assert _port(log) == "missing"
