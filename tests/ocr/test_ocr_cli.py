"""`botloom eval`, `botloom doctor` and the OCR benchmark, run as commands."""

from __future__ import annotations

import json

import pytest
from ocr_docs import DE_FIELDS, EN_FIELDS, shared_data


def test_eval_extract_on_own_ground_truth_layout(cli, docs, tmp_path):
    folder = tmp_path / "gt"
    folder.mkdir()
    for name, fields in (("digital-en.pdf", EN_FIELDS), ("digital-de.pdf", DE_FIELDS)):
        (folder / name).write_bytes(docs[name].read_bytes())
        (folder / name.replace(".pdf", ".json")).write_text(json.dumps(fields))
    out = tmp_path / "r.json"
    proc = cli("eval", "extract", str(folder), "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "all fields" in proc.stdout and "100.0%  19/19" in proc.stdout  # with address and buyer
    report = json.loads(out.read_text())
    assert report[0]["accuracy"]["total"] == 1.0 and report[0]["documents"] == 2
    # the four SROIE fields are in both truths: the key-information score is printed beside the fields
    assert report[0]["sroie"]["f1"] == 1.0 and "SROIE key information" in proc.stdout


def test_eval_ocr_reports_cer_against_the_pdf_text_layer(cli, docs, tmp_path):
    folder = tmp_path / "gt"
    folder.mkdir()
    (folder / "digital-en.pdf").write_bytes(docs["digital-en.pdf"].read_bytes())
    (folder / "digital-en.json").write_text(json.dumps(EN_FIELDS))
    proc = cli("eval", "ocr", str(folder), "--engine", "rapidocr", timeout=300)
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if "CER" in ln and "pages" in ln)
    cer = float(line.split("CER ")[1].split("%")[0])
    assert cer < 5.0  # a clean rendered page is read almost perfectly
    assert float(line.split("reading-order CER ")[1].split("%")[0]) < 10.0


def test_eval_on_an_empty_folder_says_what_it_expects(cli, tmp_path):
    proc = cli("eval", "extract", str(tmp_path))
    assert proc.returncode != 0
    assert "no documents with ground truth" in proc.stderr + proc.stdout


def test_eval_reads_the_invoice2data_layout(cli):
    folder = shared_data("invoice2data")
    proc = cli("eval", "extract", str(folder), "--limit", "3", "-q", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "invoice_number" in proc.stdout and "all fields" in proc.stdout


def test_eval_reads_the_sroie_layout():
    from botloom.nodes.ocr.evaluate import discover

    docs = discover(shared_data("sroie-dev"))
    assert len(docs) >= 10
    assert set(docs[0].fields) == {"vendor", "invoice_date", "address", "total"} and docs[0].reference


def test_doctor_lists_the_engines(cli):
    proc = cli("doctor", "--json", timeout=300)
    checks = [c for c in json.loads(proc.stdout) if c["area"] == "ocr"]
    names = {c["name"]: c for c in checks}
    assert names["engine rapidocr"]["ok"] is True and "ONNX Runtime" in names["engine rapidocr"]["detail"]
    assert {"engine easyocr", "engine tesseract", "pdf"} <= set(names)


@pytest.mark.slow
def test_quick_ocr_benchmark_prints_its_figures(tmp_path):
    from bench_helpers import run_quick

    stdout, figures = run_quick("ocr", tmp_path)
    assert "s/page" in stdout and "targets" in stdout
    assert figures["engines"]["rapidocr"]["s_per_page"] > 0
