"""The ai pack: local AI with ONNX Runtime (classify text, run any ONNX model, train text
classifiers from examples and human corrections, a versioned model registry, drift).

Only light modules are imported here: numpy, scikit-learn and onnxruntime load on first use.
"""

from botloom.runner import __version__
from botloom.runner.sdk import NodePack

from . import nodes


def pack() -> NodePack:
    return NodePack.from_modules("ai", __version__, [nodes], title="Local AI")
