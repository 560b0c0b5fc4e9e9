"""Calibrated field confidences: the fitted model, the shipped file, routing to review, and the
review of only the fields a user chose."""

from __future__ import annotations

import json

from botloom.nodes.ocr import confidence
from botloom.nodes.ocr.engines import Line, split_words
from botloom.nodes.ocr.extract import extract


def test_the_fitted_model_is_a_probability_that_follows_the_evidence():
    # right fields have a high raw score and a holding check, wrong ones not: a clean separation
    xs, ys = [], []
    for i in range(40):
        good = i % 4 != 0
        xs.append([0.9 if good else 0.5, 1, 0.95, 2 if good else 1, 1 if good else -1, 0, 0.3, 0])
        ys.append(int(good))
    model = confidence.fit({"total": list(zip(xs, ys))})
    cal = confidence.Calibrator(model["fields"])
    assert cal.probability("total", xs[1]) > 0.9 > 0.1 > cal.probability("total", xs[0])
    assert model["fields"]["total"]["samples"] == 40 and model["version"] == confidence.VERSION


def test_too_few_or_one_sided_samples_give_no_model():
    assert confidence.fit({"vendor": [([0.9] * 8, 1)] * 30})["fields"] == {}
    assert confidence.fit({"vendor": [([0.9] * 8, 1), ([0.1] * 8, 0)]})["fields"] == {}


def test_the_shipped_calibration_loads_and_another_version_is_ignored(tmp_path):
    shipped = json.loads(confidence.SHIPPED.read_text(encoding="utf-8"))
    assert shipped["features"] == list(confidence.FEATURES) and "total" in shipped["fields"]
    other = tmp_path / "cal.json"
    other.write_text(json.dumps(dict(shipped, version=99)))
    assert confidence.Calibrator.load(other).models == {}
    (tmp_path / "bad.json").write_text("{not json")
    assert confidence.Calibrator.load(tmp_path / "bad.json").models == {}


def test_routing_counts_reviewed_documents_and_the_accuracy_passed_through():
    docs = [{"total": (0.99, 1), "vendor": (0.95, 1)}, {"total": (0.4, 0), "vendor": (0.9, 1)},
            {"total": (0.97, 0), "vendor": (0.99, 1)}, {"total": (None, 0)}]
    r = confidence.routing(docs, ["total", "vendor"], 0.8)
    assert (r["reviewed"], r["passed_fields"], r["passed_right"]) == (2, 4, 3)
    assert confidence.routing(docs, ["vendor"], 0.8)["reviewed"] == 0


def _ln(text, x, y):
    box = (x, y, 10 * len(text), 20)
    return Line(text, box, 0.99, split_words(text, box, 0.99))


def test_only_the_chosen_fields_send_a_document_to_review():
    lines = [[_ln("Harbour Coffee", 10, 10), _ln("Total", 10, 400), _ln("12.00 EUR", 300, 400),
              _ln("Page 1 of 1", 400, 990)]]  # no date: a required field missing
    assert "invoice_date" in extract(lines, calibrate=False).low_confidence
    chosen = extract(lines, calibrate=False, review_fields=["total"])
    assert chosen.low_confidence == [] and chosen.to_dict()["review"] is False
