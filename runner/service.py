"""Starting and resuming runs, as functions: each call uses a :class:`~botloom.runner.runtime.Runner`
of the default data folder (``$BOTLOOM_HOME`` or the platform's).

The work is done by the Runner (``runtime.py``), which a long-running process or a test should
hold itself: it owns the node registry, the store, the paths, the settings and the secrets. These
wrappers keep no state between calls (there is no module-level registry); pass ``runner=`` to
use one you hold.
"""

from __future__ import annotations

import os
from typing import Any

from .engine.runs import RunResult
from .errors import StoreError
from .runtime import LoadedBot, Runner
from .sdk.registry import Registry


def load_bot(path: str | os.PathLike, reg: Registry | None = None, *, cache: bool = True,
             runner: Runner | None = None) -> LoadedBot:
    """Read and validate a bot file; raises BotFileError or InvalidBotError."""
    return (runner or Runner(registry=reg)).load_bot(path, cache=cache)


def start_run(path: str | os.PathLike, inputs: dict | None = None, *, runner: Runner | None = None,
              **options: Any) -> RunResult:
    """:meth:`Runner.start_run` (options: from_text, listeners, debugger, trigger, loaded, on_engine, start_at)."""
    loaded = options.get("loaded")
    return (runner or Runner(registry=loaded.registry if loaded else None)).start_run(path, inputs, **options)


def resume_run(ref: str, *, runner: Runner | None = None, **options: Any) -> RunResult:
    """:meth:`Runner.resume_run` (options: action, data, listeners, debugger, on_engine)."""
    return (runner or Runner()).resume_run(ref, **options)


def prune_logs(runner: Runner | None = None) -> list[str]:
    return (runner or Runner()).prune_logs()


__all__ = ["LoadedBot", "Runner", "load_bot", "prune_logs", "resume_run", "start_run", "StoreError"]
