"""The node SDK: what a node pack imports to declare node types.

Public names (pinned by ``tests/test_public_api.py``)::

    from botloom.runner.sdk import node, Param, Output, Next, NodePack, Requirement, Secret
"""

from ..errors import MissingDependencyError, NodeError, NodeTimeoutError, UserFailure
from .node import ERROR_PORT, INPUT_PORT, Next, NodePack, NodeType, PreflightInfo, node
from .params import MISSING, Output, Param, Requirement
from .types import Secret, TypeMismatch

__all__ = [
    "ERROR_PORT", "INPUT_PORT", "MISSING", "MissingDependencyError", "Next", "NodeError",
    "NodePack", "NodeTimeoutError", "NodeType", "Output", "Param", "PreflightInfo", "Requirement", "Secret",
    "TypeMismatch", "UserFailure", "node",
]
