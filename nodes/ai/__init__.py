"""The ai pack: local AI with ONNX Runtime (classify text, run any ONNX model, train text
classifiers from examples and human corrections, a versioned model registry, drift).

Only light modules are imported here: numpy, scikit-learn and onnxruntime load on first use.
"""

from botloom.runner.sdk import VERSION, NodePack

from . import nodes


def pack() -> NodePack:
    return NodePack.from_modules("ai", VERSION, [nodes], title="Local AI")
