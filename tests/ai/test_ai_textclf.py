"""Training, export to ONNX and reloading: the exported model predicts what scikit-learn does."""

from __future__ import annotations

import numpy as np
import pytest

from botloom.nodes.ai.registry import Registry
from botloom.nodes.ai.textclf import build_pipeline, load_classifier, normalize, to_onnx
from botloom.nodes.ai.texttrain import train

PROBES = [
    "Où est mon colis ? livraison en retard", "j'ai été prélevé deux fois 20 € !", "退款 请", "荷物が届かない お願いします",
    "PASSWORD reset   please", "Konto gesperrt, danke", "naïve café question about my invoice", "ǅ ﬁ ①② ½",
    "", "   ", "a", "emoji 🙂 refund", "tracking\tnumber\nplease", "x" * 500, "Straße ΣΊΣΥΦΟΣ İstanbul",
]


def test_normalize_folds_case_width_and_space():
    assert normalize("  Ｃafé\u00a0 ÉTÉ\n\tStraße ") == "café été strasse"
    assert normalize(None) == ""


def test_onnx_predicts_what_sklearn_predicts_for_any_text(examples):
    import onnxruntime as ort

    texts, labels = examples
    x = [normalize(t) for t in texts]
    pipeline = build_pipeline().fit(x, labels)
    session = ort.InferenceSession(to_onnx(pipeline), providers=["CPUExecutionProvider"])
    probe = [normalize(t) for t in PROBES + texts[::7]]
    got_labels, got_probs = session.run(None, {"text": np.array(probe, dtype=object).reshape(-1, 1)})
    want_probs = pipeline.predict_proba(probe)
    assert list(got_labels) == list(pipeline.predict(probe))
    assert np.abs(got_probs - want_probs).max() < 1e-5
    # the probe texts really reach the non-ASCII features (otherwise the check would be vacuous)
    features = pipeline.named_steps["features"].transform([normalize("退款 请 colis €")])
    assert features.nnz > 5


@pytest.mark.parametrize("params", [{"word_ngrams": (1, 1), "char_ngrams": (2, 3), "sublinear_tf": True},
                                    {"C": 1.0, "sublinear_tf": False}])
def test_onnx_parity_for_two_labels_and_other_settings(examples, params):
    """Two labels (scikit-learn keeps one coefficient row) and the other feature settings give
    the same labels and probabilities in ONNX Runtime."""
    import onnx
    import onnxruntime as ort

    texts, labels = examples
    two = [(normalize(t), lab) for t, lab in zip(texts, labels) if lab != "account"]
    pipeline = build_pipeline(params).fit([t for t, _ in two], [lab for _, lab in two])
    model = to_onnx(pipeline)
    # the exported graph scores only the n-grams present (no dense classifier over every feature)
    assert "LinearClassifier" not in {n.op_type for n in onnx.load_from_string(model).graph.node}
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    probe = [normalize(t) for t in PROBES + [t for t, _ in two][::5]]
    got_labels, got_probs = session.run(None, {"text": np.array(probe, dtype=object).reshape(-1, 1)})
    assert got_probs.shape == (len(probe), 2)
    assert list(got_labels) == list(pipeline.predict(probe))
    assert np.abs(got_probs - pipeline.predict_proba(probe)).max() < 1e-5
    for one in probe[:4] + [""]:  # one text per call, as the classify node runs single items
        lab, prob = session.run(None, {"text": np.array([[one]], dtype=object)})
        assert lab[0] == pipeline.predict([one])[0]
        assert np.abs(prob - pipeline.predict_proba([one])).max() < 1e-5


def test_trained_version_reloads_with_the_same_predictions(trained, examples):
    reg, result = trained
    assert result.activated and result.version.version == "1"
    assert result.metrics["accuracy"] >= 0.9  # three well-separated generated topics
    card = result.version.card
    for key in ("intended_use", "training_data", "metrics", "limitations", "created_at", "created_from", "sha256",
                "baseline"):
        assert card[key], key
    assert card["training_data"]["held_out_rows"] == result.metrics["n"]
    clf = load_classifier(Registry(reg.root), "tickets")
    preds = clf.predict(PROBES)
    assert [p["label"] for p in preds] == [p["label"] for p in clf.predict(PROBES)]
    for p in preds:
        assert set(p["scores"]) == {"account", "billing", "delivery"}
        assert abs(sum(p["scores"].values()) - 1) < 1e-4
        assert p["confidence"] == max(p["scores"].values())
    assert clf.predict(["Où est mon colis ? livraison"])[0]["label"] == "delivery"
    assert clf.predict(["退款 请"])[0]["label"] == "billing"


def test_a_retrained_version_is_activated_only_when_better(trained, examples):
    reg, first = trained
    texts, labels = examples
    # the same data and seed cannot beat the active version: stored, not activated
    again = train("tickets", texts, labels, source="generated", holdout=0.25, seed=3, registry=reg)
    assert again.version.version == "2" and not again.activated
    assert "does not beat" in again.reason and reg.active("tickets") == "1"
    forced = train("tickets", texts, labels, source="generated", holdout=0.25, seed=3, registry=reg, activate="always")
    assert forced.activated and reg.active("tickets") == "3"
    never = train("tickets", texts[:60] + texts[60:], labels, source="g", registry=reg, activate="never")
    assert not never.activated and reg.active("tickets") == "3"


def test_too_few_labels_is_a_clear_error():
    from botloom.nodes.ai.registry import ModelError

    with pytest.raises(ModelError, match="at least two different labels"):
        train("one", ["a", "b"], ["x", "x"], source="t")
