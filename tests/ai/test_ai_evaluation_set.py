"""Each model keeps its evaluation rows across versions and never trains on them, so "activate
only if better" compares like with like; --holdout 0 claims no accuracy; a correction can be
recorded from the command line and trained on."""

from __future__ import annotations

import json

from ai_examples import generate


def test_the_same_data_trained_twice_is_compared_on_rows_neither_version_saw(tmp_path):
    from botloom.nodes.ai.registry import Registry
    from botloom.nodes.ai.textclf import normalize
    from botloom.nodes.ai.texttrain import EvaluationSet, train

    reg = Registry(tmp_path / "models")
    texts, labels = generate(60, seed=2)
    first = train("tickets", texts, labels, source="generated", holdout=0.25, seed=3, registry=reg)
    kept = EvaluationSet(reg.folder("tickets"))
    assert len(kept.texts) == first.metrics["n"] > 0
    again = train("tickets", texts, labels, source="generated", holdout=0.25, seed=99, registry=reg)
    # the same rows measure both: the second version trained on none of them (another seed changes nothing)
    assert again.metrics["n"] == first.metrics["n"] and again.metrics["accuracy"] == first.metrics["accuracy"]
    assert not again.activated and f"{len(kept.texts)} evaluation rows" in again.reason
    held = set(kept.texts)
    outside = sum(normalize(t) not in held for t in texts)  # a copy of an evaluation row is never trained on either
    fitted = again.version.card["training_data"]
    assert fitted["fitted_rows"] == outside < len(texts) and fitted["evaluation_rows"] == len(kept.texts)
    # a label the set has not got yet gets rows of its own, held back from training
    extra = [f"question about warranty number {i}" for i in range(12)]
    third = train("tickets", texts + extra, labels + ["warranty"] * 12, source="more", holdout=0.25, seed=3,
                  registry=reg)
    after = EvaluationSet(reg.folder("tickets"))
    assert "warranty" in after.labels and len(after.texts) > len(kept.texts)
    assert after.texts[:len(kept.texts)] == kept.texts  # the old rows stay
    held = set(after.texts)
    assert third.version.card["training_data"]["fitted_rows"] == sum(normalize(t) not in held for t in texts + extra)


def test_holdout_zero_claims_no_accuracy_and_keeps_a_drift_baseline(tmp_path):
    from botloom.nodes.ai.registry import Registry
    from botloom.nodes.ai.texttrain import train

    reg = Registry(tmp_path / "models")
    texts, labels = generate(40, seed=4)
    result = train("all-in", texts, labels, source="generated", holdout=0, registry=reg)
    card = result.version.card
    assert result.activated and result.metrics == {}
    assert card["evaluation"]["split"].startswith("none: trained with --holdout 0")
    assert card["baseline"] and card["baseline"]["from_training_rows"]
    assert card["training_data"]["fitted_rows"] == len(texts)
    second = train("all-in", texts, labels, source="generated", holdout=0, registry=reg)
    assert not second.activated and "no evaluation rows" in second.reason


def test_models_correct_records_a_label_that_train_corrections_uses(cli, tmp_path):
    import csv

    texts, labels = generate(40, seed=1)
    data = tmp_path / "examples.csv"
    with open(data, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(zip(texts, labels))
    assert cli("models", "train", "tickets", "--csv", data).returncode == 0
    shown = cli("models", "show", "tickets")
    assert "fitted" in shown.stdout and "kept for evaluation" in shown.stdout
    done = cli("models", "correct", "tickets", "my parcel never came, where is it", "delivery", "--by", "ana",
               "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["label"] == "delivery"
    trained = cli.json("models", "train", "tickets", "--csv", data, "--corrections")
    assert "1 corrections" in " ".join(trained["sources"])
    bad = cli("models", "correct", "tickets", "x", "delivery", "--review")
    assert bad.returncode != 0 and "not a review item's id" in bad.stderr and "Traceback" not in bad.stderr


def test_the_card_reports_the_calibration_error_on_the_evaluation_rows(tmp_path):
    from botloom.nodes.ai.registry import Registry
    from botloom.nodes.ai.texttrain import calibration_error, train

    assert calibration_error([0.9, 0.9, 0.9, 0.9], [True, True, True, False])["ece"] == 0.15
    assert calibration_error([1.0, 1.0], [True, True])["ece"] == 0.0
    texts, labels = generate(60, seed=5)
    card = train("cal", texts, labels, source="generated", registry=Registry(tmp_path / "m")).version.card
    cal = card["evaluation"]["calibration"]
    assert 0.0 <= cal["ece"] <= 1.0 and cal["accuracy"] == card["metrics"]["accuracy"]
