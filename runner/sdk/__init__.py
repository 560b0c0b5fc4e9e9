"""The node SDK: everything a node pack imports from Botloom, and the only module it imports.

Packs (the built-in ones too) import from ``botloom.runner.sdk`` and from nowhere else in
Botloom, and never from another pack: ``tests/test_public_api.py`` pins these names and walks
every pack's sources to hold that line. What a pack needs of another pack it asks for as a
capability (``capability(name, ...)``), which the other pack declares in its NodePack.

    declaring    node, Param, Output, Next, NodePack, NodeType, Requirement, PreflightInfo,
                 Lint, LintInfo (a node type's ``lint`` check of its parameters),
                 Secret, TypeMismatch, MISSING, ERROR_PORT, INPUT_PORT
    the run      Context (the type of ``ctx``, for type hints), FlowSignal, BreakLoop,
                 ContinueLoop, EndFlow (raised by loop-control nodes)
    errors       BotloomError, NodeError, NodeTimeoutError, MissingDependencyError,
                 UserFailure, RunCancelled, did_you_mean
    files        not_found, os_failure, make_parent
    the host     data_dir, cache_dir, read_setting, file_lock, sha256_file, Check (a
                 ``botloom doctor`` line), VERSION (Botloom's version), audit (a record in
                 the audit trail: ``audit("model_activated", model=..., version=...)``)
    other packs  capability
    recorders    recording (``Step``, ``plan``, ``bot_from_steps``, ``write_bot``: recorded steps and where they go in a flow)
    checking     verify (``compare``, ``poll``, ``failed``, ``OPERATORS``, ``VerifyFailed``: what the
                 verify nodes of every pack share)

``Context`` and the flow signals live with the engine and are imported on first use, so
importing the SDK stays cheap and never imports the engine.
"""

from typing import Any

from .. import __version__ as VERSION
from .. import verify
from ..audit import record as audit
from ..checksum import sha256_file
from ..doctor import Check
from ..errors import (BotloomError, MissingDependencyError, NodeError, NodeTimeoutError, RunCancelled, UserFailure,
                      did_you_mean)
from ..filelock import locked as file_lock
from .capabilities import capability
from .files import make_parent, not_found, os_failure
from .host import cache_dir, data_dir, read_setting
from .node import ERROR_PORT, INPUT_PORT, Lint, LintInfo, Next, NodePack, NodeType, PreflightInfo, node
from .params import MISSING, Output, Param, Requirement
from . import recording
from .queues import review_examples, work_queue
from .types import Secret, TypeMismatch

__all__ = [
    "BotloomError", "BreakLoop", "Check", "Context", "ContinueLoop", "ERROR_PORT", "EndFlow", "FlowSignal",
    "INPUT_PORT", "Lint", "LintInfo", "MISSING", "MissingDependencyError", "Next", "NodeError", "NodePack", "NodeTimeoutError",
    "NodeType", "Output", "Param", "PreflightInfo", "Requirement", "RunCancelled", "Secret", "TypeMismatch",
    "UserFailure", "VERSION", "audit", "cache_dir", "capability", "data_dir", "did_you_mean", "file_lock", "make_parent",
    "node", "not_found", "os_failure", "read_setting", "recording", "review_examples", "sha256_file", "verify", "work_queue",
]

_FROM_ENGINE = {"Context": "context", "FlowSignal": "signals", "BreakLoop": "signals", "ContinueLoop": "signals",
                "EndFlow": "signals"}


def __getattr__(name: str) -> Any:
    """The names that live with the engine, imported when first asked for."""
    module = _FROM_ENGINE.get(name)
    if module is None:
        raise AttributeError(f"module 'botloom.runner.sdk' has no attribute '{name}'")
    from importlib import import_module

    value = getattr(import_module(f"botloom.runner.engine.{module}"), name)
    globals()[name] = value
    return value
