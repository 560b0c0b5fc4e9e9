"""`botloom eval` details: the CER's word-to-line alignment with overlapping reference boxes,
the reading-order CER, the cache keyed by content, the SROIE key-information score, and reading
e-invoice XML or ignoring it."""

from __future__ import annotations

import json

from botloom.nodes.ocr import evaluate
from botloom.nodes.ocr.engines import Line, OcrResult, Word


def _line(text, box, words=None):
    return Line(text, box, 1.0, words or [Word(text, box, 1.0)])


def test_words_go_to_the_reference_line_they_sit_on_when_boxes_overlap():
    # SROIE-style reference boxes that overlap: line 1's box reaches well into line 2's
    reference = [_line("TOTAL SALES", (10, 100, 200, 40)), _line("CASH 50.00", (10, 125, 200, 20))]
    hypothesis = [_line("TOTAL SALES", (10, 102, 200, 18)), _line("CASH 50.00", (10, 126, 200, 18))]
    errors, chars = evaluate.aligned_errors(reference, hypothesis)
    assert (errors, chars) == (0, len("TOTALSALES") + len("CASH50.00"))
    assert evaluate.reading_order_errors(reference, hypothesis) == (0, chars)


def test_misread_and_stray_words_still_count():
    reference = [_line("TOTAL", (10, 100, 100, 20))]
    hypothesis = [_line("T0TAL", (10, 100, 100, 20)), _line("NOISE", (500, 500, 80, 20))]
    assert evaluate.aligned_errors(reference, hypothesis) == (1 + 5, 5)


def test_the_cache_is_keyed_by_the_files_content(tmp_path, monkeypatch):
    # two folders of the same layout (img/001.jpg) with different pages must not share entries
    calls = []

    def fake_read(path, **kw):
        calls.append(path)
        return [OcrResult([_line(path.parent.parent.name, (0, 0, 10, 10))], 10, 10, "fake")]

    monkeypatch.setattr("botloom.nodes.ocr.documents.read_document", fake_read)
    cache = tmp_path / "cache"
    texts = []
    for name, content in (("a", b"first"), ("b", b"second"), ("c", b"first")):
        img = tmp_path / name / "img" / "001.jpg"
        img.parent.mkdir(parents=True)
        img.write_bytes(content)
        pages, _ = evaluate._cached_read(evaluate.Doc("001", img), "fake", None, "auto", cache)
        texts.append(pages[0].lines[0].text)
    assert texts == ["a", "b", "a"]  # c has a's bytes: a's cached reading, not b's
    assert len(calls) == 2


def test_sroie_score_counts_precision_recall_and_each_field():
    def row(ok, got="x"):
        return {"fields": {name: {"ok": ok.get(name, True), "got": got} for name in evaluate.SROIE_FIELDS}}

    rows = [row({}), row({"address": False}), {"fields": {"vendor": {"ok": True, "got": "x"}}}]
    score = evaluate.sroie_score(rows)
    assert score["counts"] == {"vendor": "2/2", "invoice_date": "2/2", "address": "1/2", "total": "2/2"}
    assert score["precision"] == score["recall"] == 0.875 and score["f1"] == 0.875
    assert evaluate.sroie_score([{"fields": {"vendor": {"ok": True, "got": "x"}}}]) is None


def test_addresses_compare_on_letters_and_digits():
    assert evaluate.matches("address", "NO 122.124. JALAN DEDAP 13 81100 JOHOR BAHRU",
                            "NO 122.124 JALAN DEDAP 13, 81100 JOHOR BAHRU")
    assert not evaluate.matches("address", "NO 122 JALAN DEDAP", "NO 123 JALAN DEDAP")


def test_eval_reads_an_e_invoice_xml_beside_its_truth(tmp_path):
    from test_ocr_einvoice import CII

    (tmp_path / "x.xml").write_text(CII, encoding="utf-8")
    (tmp_path / "x.json").write_text(json.dumps({"issuer": "Lieferant GmbH", "total": "235.62", "buyer": "Kunden AG Mitte"}))
    report = evaluate.run_extract(evaluate.discover(tmp_path), None, log=lambda *_: None)
    assert report["overall_count"] == "3/3" and report["rows"][0]["sources"] == ["xml"]
