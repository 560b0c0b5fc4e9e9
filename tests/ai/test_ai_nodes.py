"""The AI nodes in real bot runs: classify (with the review path), correct, retrain, run ONNX."""

from __future__ import annotations

import sqlite3

from nodes_helpers import outputs_of, run_bot, logs_of

from botloom.nodes.ai import monitor


def classify_bot(threshold):
    nodes = {
        "start": {"type": "core.start"},
        "classify": {"type": "ai.classify_text",
                     "params": {"model": "tickets", "text": "{{ inputs.text }}", "threshold": threshold}},
        "routed": {"type": "core.log", "params": {"message": "routed to {{ nodes.classify.label }}"}},
        "fix": {"type": "ai.record_correction",
                "params": {"model": "tickets", "label": "{{ inputs.correct }}",
                           "review_id": "{{ nodes.classify.review_id }}"}},
        "asked": {"type": "core.log", "params": {"message": "review {{ nodes.classify.review_id }} corrected"}},
    }
    edges = [{"from": "start.out", "to": "classify.in"}, {"from": "classify.out", "to": "routed.in"},
             {"from": "classify.review", "to": "fix.in"}, {"from": "fix.out", "to": "asked.in"}]
    return nodes, edges


def _run(threshold, text, correct="billing"):
    from botloom.runner.botfile import loads
    import json
    from nodes_helpers import registry
    from botloom.runner.engine import Engine, EventLog

    nodes, edges = classify_bot(threshold)
    doc = loads(json.dumps({"format": 1, "name": "route", "inputs": {"text": "string", "correct": "string"},
                            "nodes": nodes, "edges": edges}))
    log = EventLog()
    result = Engine(doc, registry(), listeners=[log]).run({"text": text, "correct": correct})
    return result, log


def test_confident_item_is_routed(trained):
    result, log = _run(0.2, "Où est mon colis ? livraison en retard")
    assert result.state == "succeeded", result.error
    out = outputs_of(log, "classify")
    assert out["label"] == "delivery" and not out["needs_review"] and out["review_id"] is None
    assert set(out["scores"]) == {"account", "billing", "delivery"}
    assert logs_of(log, "routed") == ["routed to delivery"]
    assert not logs_of(log, "asked")


def test_unsure_item_goes_to_review_and_the_correction_feeds_training(trained, examples):
    result, log = _run(0.999, "hello today", correct="account")
    assert result.state == "succeeded", result.error
    out = outputs_of(log, "classify")
    assert out["needs_review"] and out["review_count"] == 1 and isinstance(out["review_id"], int)
    assert not logs_of(log, "routed")
    assert logs_of(log, "asked") == [f"review {out['review_id']} corrected"]
    assert outputs_of(log, "fix")["corrections"] == 1
    reviewed = monitor.reviews("tickets", "corrected")
    assert [(r["text"], r["predicted"], r["label"]) for r in reviewed] == [("hello today", out["label"], "account")]
    assert monitor.reviews("tickets", "open") == []
    # the next training includes the correction
    texts, labels = examples
    result, log = run_bot({"train": {"type": "ai.train_text_classifier",
                                     "params": {"name": "tickets", "data": [{"text": t, "label": lab}
                                                                            for t, lab in zip(texts, labels)],
                                                "activate": "always"}}})
    assert result.state == "succeeded", result.error
    trained_out = outputs_of(log, "train")
    assert trained_out["activated"] and trained_out["version"] == "2"
    from botloom.nodes.ai.registry import Registry

    card = Registry().get("tickets").card
    assert "1 corrections" in card["training_data"]["source"] and card["training_data"]["rows"] == len(texts) + 1


def test_lists_are_classified_in_one_step_and_predictions_are_recorded(trained):
    texts = ["invoice refund", "parcel late", "password login", "bonjour"] * 5
    result, log = run_bot({"c": {"type": "ai.classify_text", "params": {"model": "tickets", "text": texts,
                                                                      "threshold": 0.5, "top": 2}}})
    assert result.state == "succeeded", result.error
    out = outputs_of(log, "c")
    assert [r["label"] for r in out["results"][:3]] == ["billing", "delivery", "account"]
    assert all(len(r["scores"]) == 2 for r in out["results"])
    monitor.PREDICTIONS.flush()
    con = sqlite3.connect(monitor.db_path())
    rows = con.execute("SELECT model, version, count(*) FROM predictions GROUP BY model, version").fetchall()
    assert rows == [("tickets", "1", 20)]


def test_unknown_model_fails_before_the_first_step(trained):
    result, log = run_bot({"log": {"type": "core.log", "params": {"message": "hi"}},
                           "c": {"type": "ai.classify_text", "params": {"model": "tikets", "text": "x"}}})
    assert result.state == "failed"
    assert "no model named 'tikets'" in str(result.error) and "did you mean 'tickets'" in str(result.error)
    assert not logs_of(log, "log")  # preflight: nothing ran


def test_drift_score_rises_when_inputs_change():
    from ai_examples import generate

    from botloom.nodes.ai.registry import Registry
    from botloom.nodes.ai.textclf import load_classifier
    from botloom.nodes.ai.texttrain import train

    texts, labels = generate(300, seed=5)
    result = train("drifty", texts, labels, source="generated", holdout=0.25, seed=3)
    reg = Registry()
    baseline = reg.get("drifty").card["baseline"]
    assert abs(sum(baseline["confidence"]) - 1) < 1e-9 and baseline["n"] == result.metrics["n"] == 225
    clf = load_classifier(reg, "drifty")
    like = generate(200, seed=99)[0]
    for p, t in zip(clf.predict(like), like):
        monitor.PREDICTIONS.record("drifty", "1", p["confidence"], len(t), p["label"])
    calm = monitor.drift("drifty", "1", baseline)
    assert calm["n"] == 600 and calm["score"] is not None and not calm["warning"], calm
    odd = ["zzz " * 60 + str(i) for i in range(200)]
    for p, t in zip(clf.predict(odd), odd):
        monitor.PREDICTIONS.record("drifty", "1", p["confidence"], len(t), p["label"])
    shifted = monitor.drift("drifty", "1", baseline, window=200)
    assert shifted["warning"] and shifted["psi_length"] > 0.2, shifted
