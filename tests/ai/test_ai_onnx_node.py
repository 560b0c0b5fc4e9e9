"""The 'Run ONNX model' node with real ONNX Runtime sessions: named inputs, the image and
text presets, a file checksum."""

from __future__ import annotations

import hashlib

import pytest
from nodes_helpers import outputs_of, run_bot, run_node

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402


def colour_model() -> bytes:
    """[1, 3, 8, 8] image -> mean of each channel -> softmax over (red, green, blue)."""
    x = helper.make_tensor_value_info("pixels", TensorProto.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, 3])
    scale = helper.make_tensor("scale", TensorProto.FLOAT, [], [10.0])
    nodes = [helper.make_node("GlobalAveragePool", ["pixels"], ["pooled"]),
             helper.make_node("Flatten", ["pooled"], ["flat"]),
             helper.make_node("Mul", ["flat", "scale"], ["logits"]),
             helper.make_node("Softmax", ["logits"], ["probs"], axis=1)]
    graph = helper.make_graph(nodes, "colour", [x], [y], initializer=[scale])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8).SerializeToString()


def test_image_preset_classifies_a_real_png(work):
    Image = pytest.importorskip("PIL.Image")
    model = work / "colour.onnx"
    model.write_bytes(colour_model())
    Image.new("RGB", (40, 30), (20, 30, 230)).save(work / "blue.png")
    result, out = run_node("ai.run_onnx", {"file": "colour.onnx", "preset": "image-classification",
                                           "image": "blue.png", "labels": ["red", "green", "blue"],
                                           "sha256": hashlib.sha256(model.read_bytes()).hexdigest()}, base_dir=work)
    assert result.state == "succeeded", result.error
    assert out["label"] == "blue" and out["confidence"] > 0.9
    assert set(out["scores"]) == {"red", "green", "blue"} and list(out["outputs"]) == ["probs"]


def test_named_inputs_and_outputs(work):
    from botloom.nodes.ai.doctor import _tiny_model

    (work / "relu.onnx").write_bytes(_tiny_model())
    result, out = run_node("ai.run_onnx", {"file": "relu.onnx", "inputs": {"x": [[-3, 4.5]]}}, base_dir=work)
    assert result.state == "succeeded", result.error
    assert out["outputs"] == {"y": [[0.0, 4.5]]} and out["label"] is None
    result, _ = run_node("ai.run_onnx", {"file": "relu.onnx", "inputs": {"z": [[1, 2]]}}, base_dir=work)
    assert result.state == "failed" and "has no input z (its inputs: x)" in str(result.error)


def test_file_checksum_mismatch_is_refused(work):
    from botloom.nodes.ai.doctor import _tiny_model

    (work / "relu.onnx").write_bytes(_tiny_model())
    result, _ = run_node("ai.run_onnx", {"file": "relu.onnx", "inputs": {"x": [[1, 2]]}, "sha256": "0" * 64},
                         base_dir=work)
    assert result.state == "failed" and "failed its checksum" in str(result.error)


def test_text_preset_runs_a_registry_classifier(trained):
    result, log = run_bot({"r": {"type": "ai.run_onnx", "params": {"model": "tickets", "preset": "text-classification",
                                                                 "text": "Où est mon colis ? livraison"}}})
    assert result.state == "succeeded", result.error
    out = outputs_of(log, "r")
    assert out["label"] == "delivery" and set(out["outputs"]) == {"label", "probabilities"}
