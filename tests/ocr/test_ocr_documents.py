"""Documents without OCR: digital PDFs (text layer), value parsing, extraction, clear errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from botloom.nodes.ocr.documents import page_indexes, read_document, read_pdf
from botloom.nodes.ocr.engines import Line, check_model_file, split_words
from botloom.nodes.ocr.extract import extract
from botloom.nodes.ocr.values import parse_amount, parse_date
from botloom.nodes.ocr.tables import table_from_lines
from botloom.runner.errors import NodeError
from ocr_docs import DE_FIELDS, EN_FIELDS


@pytest.mark.parametrize("name, fields", [("digital-en.pdf", EN_FIELDS), ("digital-de.pdf", DE_FIELDS)])
def test_digital_pdf_is_read_from_its_text_layer_and_every_field_is_exact(docs, name, fields):
    pages = read_document(docs[name])
    assert [p.source for p in pages] == ["text-layer"]
    result = extract(pages, calibrate=False).to_dict()  # the extractor's own scores
    assert result["values"] == fields
    assert result["review"] is False and result["low_confidence"] == []
    assert {c["check"]: c["ok"] for c in result["checks"]}["subtotal + tax = total"] is True
    total = result["fields"]["total"]
    assert total["confidence"] >= 0.97 and total["page"] == 1
    # calibrated (the default): the same values, each confidence a probability, the own score kept
    calibrated = extract(pages).to_dict()
    assert calibrated["values"] == fields
    assert calibrated["fields"]["total"]["raw_confidence"] == total["confidence"]
    assert calibrated["fields"]["total"]["confidence"] >= 0.9  # a labelled total whose arithmetic checks
    x, y, w, h = total["box"]
    assert 1300 < x < 1370 and 990 < y < 1040 and w > 50 and h > 10  # the value right of "Total" (200 dpi)


def test_line_items_with_quantity_unit_price_and_amount(docs):
    items = extract(read_document(docs["digital-en.pdf"])).line_items
    assert [(i["description"], i["quantity"], i["unit_price"], i["amount"]) for i in items] == [
        ("Printer paper A4", "10", "4.50", "45.00"), ("Toner cartridge", "2", "39.90", "79.80")]


def test_a_wrong_sum_lowers_confidence_and_asks_for_review():
    def ln(text, x, y):
        return Line(text, (x, y, 10 * len(text), 20), 0.99, split_words(text, (x, y, 10 * len(text), 20), 0.99))

    lines = [ln("Example Trading Ltd", 10, 10), ln("Invoice No: 778", 10, 60), ln("Date: 2024-01-31", 10, 90),
             ln("Subtotal", 10, 200), ln("100.00", 300, 200), ln("Tax", 10, 230), ln("19.00", 300, 230),
             ln("Total", 10, 260), ln("129.00", 300, 260)]
    result = extract([lines], threshold=0.8).to_dict()
    assert result["values"]["total"] == "129.00"
    assert {"check": "subtotal + tax = total", "ok": False} in result["checks"]
    assert "total" in result["low_confidence"] and result["review"] is True


@pytest.mark.parametrize("text, value", [("1.234,56 €", "1234.56"), ("$1,234.56", "1234.56"), ("RM 80.90", "80.90"),
                                         ("TOTAL: 26.60", "26.60"), ("Rs 1939", "1939"), ("-50.00", "-50.00")])
def test_amounts_are_normalised(text, value):
    assert parse_amount(text) == Decimal(value)


@pytest.mark.parametrize("text, iso", [("25/12/2018", "2018-12-25"), ("12-01-19", "2019-01-12"),
                                       ("15.03.2024", "2024-03-15"), ("August 3 , 2014", "2014-08-03"),
                                       ("7. Mai 2014", "2014-05-07"), ("27 MAR 2018", "2018-03-27"),
                                       ("14/JUN/2017", "2017-06-14"), ("2023-03-20", "2023-03-20")])
def test_dates_are_normalised_to_iso(text, iso):
    assert parse_date(text)[0] == iso


def test_month_first_dates_when_asked():
    assert parse_date("03/20/2023")[0] == "2023-03-20"  # 20 cannot be a month
    assert parse_date("04/05/2023", "MDY")[0] == "2023-04-05"


def test_table_from_boxes(docs):
    rows = table_from_lines(read_document(docs["digital-en.pdf"])[0].lines)
    assert rows[0] == ["Description", "Qty", "Unit price", "Amount"]
    assert rows[1] == ["Printer paper A4", "10", "4.50", "45.00"]


def test_encrypted_pdf_says_so(docs):
    with pytest.raises(NodeError) as err:
        read_pdf(docs["encrypted.pdf"])
    assert err.value.kind == "encrypted" and "password" in err.value.fix


def test_page_out_of_range(docs):
    with pytest.raises(NodeError) as err:
        read_pdf(docs["digital-en.pdf"], pages="3")
    assert err.value.kind == "page_out_of_range" and "has 1 page" in err.value.message
    assert page_indexes("1-2,4", 5, Path("x.pdf")) == [0, 1, 3]


@pytest.mark.parametrize("content, suffix, words", [(b"%PDF-1.4\nthis is not really a pdf", ".pdf", "damaged"),
                                                    (b"GIF89a-nonsense", ".png", "image"),
                                                    (b"hello", ".pdf", "not a valid PDF")])
def test_corrupt_files_fail_clearly(tmp_path, content, suffix, words):
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(content)
    with pytest.raises(NodeError) as err:
        read_document(path, engine=lambda: pytest.fail("no OCR for a corrupt file"))
    assert words in err.value.message and err.value.kind == "bad_input"


def test_missing_file(tmp_path):
    with pytest.raises(NodeError) as err:
        read_document(tmp_path / "nope.pdf")
    assert err.value.kind == "not_found" and "nope.pdf" in err.value.message
    with pytest.raises(NodeError) as err:
        read_document(tmp_path)
    assert err.value.kind == "bad_input" and "is a folder" in err.value.message


def test_model_file_missing_or_damaged(tmp_path):
    with pytest.raises(NodeError) as err:
        check_model_file(tmp_path / "model.onnx", None, "rapidocr")
    assert err.value.kind == "model_missing"
    (tmp_path / "model.onnx").write_bytes(b"not the model")
    with pytest.raises(NodeError) as err:
        check_model_file(tmp_path / "model.onnx", "0" * 64, "rapidocr")
    assert err.value.kind == "model_checksum" and "reinstall" in err.value.fix
