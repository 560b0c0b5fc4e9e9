"""What a node function sees: the run context passed as its first argument."""

from __future__ import annotations

import importlib
import os
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import MissingDependencyError, RunCancelled
from ..sdk.params import MISSING
from .events import ArtifactAdded, LogMessage, now
from .signals import Suspend

if TYPE_CHECKING:
    from .engine import Engine, Frame
    from .plan import CompiledNode

LEVELS = ("debug", "info", "warning", "error")


class Context:
    """The run as one node sees it. Created for every step; cheap on purpose."""

    __slots__ = ("_engine", "_frame", "_node", "seq", "attempt", "writes", "_cancel")

    def __init__(self, engine: "Engine", frame: "Frame", node: "CompiledNode", seq: int, attempt: int,
                 cancel: threading.Event | None = None):
        self._engine = engine
        self._frame = frame
        self._node = node
        self.seq = seq
        self.attempt = attempt
        self.writes: dict | None = None
        self._cancel = cancel or engine._cancel

    # -- who and where
    @property
    def run_id(self) -> str:
        return self._engine.run_id

    @property
    def node_id(self) -> str:
        return self._node.id

    @property
    def node_title(self) -> str:
        return self._node.title

    @property
    def bot_name(self) -> str:
        return self._engine.bot.name

    @property
    def base_dir(self) -> Path:
        """The folder relative paths are resolved against: the folder of the node's bot file."""
        return self._frame.unit.base_dir

    def path(self, value: str | os.PathLike) -> Path:
        """Resolve a path parameter: ``~`` expanded, relative paths against the bot's folder."""
        p = Path(os.path.expanduser(os.fspath(value)))
        return p if p.is_absolute() else self._frame.unit.base_dir / p

    # -- variables
    @property
    def vars(self) -> dict:
        """The flow's variables (read them; change them with ``set_var`` so it is journalled)."""
        return self._frame.vars

    def var(self, name: str, default: Any = MISSING) -> Any:
        if name in self._frame.vars:
            return self._frame.vars[name]
        if default is MISSING:
            raise KeyError(name)
        return default

    def set_var(self, name: str, value: Any) -> None:
        self._engine._assign(self._frame, name, value, self._node)
        if self.writes is None:
            self.writes = {}
        self.writes[name] = value

    # -- logging and artifacts
    def log(self, message: Any, level: str = "info") -> None:
        if level not in LEVELS:
            level = "info"
        self._engine._emit(LogMessage(self._engine.run_id, self.seq, self._node.id, level, str(message), now()))

    def artifact(self, source: str | os.PathLike | bytes, name: str | None = None, kind: str = "file") -> Path:
        """Keep a file (or bytes) with the run: a screenshot, a report, a download."""
        from ..paths import artifacts_dir, make_private

        folder = artifacts_dir(self._engine.run_id, self._engine.home)
        if isinstance(source, (bytes, bytearray)):
            target = folder / (name or f"{self.seq:05d}-{self._node.id}.bin")
            target.write_bytes(source)
        else:
            source = Path(source)
            target = folder / (name or f"{self.seq:05d}-{source.name}")
            shutil.copyfile(source, target)
        make_private(target)  # 0600: the data folder is for its owner alone
        self._engine._emit(ArtifactAdded(self._engine.run_id, self.seq, self._node.id, target.name, kind, str(target)))
        return target

    # -- run-wide settings and shared resources
    def settings(self, area: str) -> dict:
        """The bot's ``settings`` block for ``area`` (e.g. "desktop"), empty when it has none."""
        return dict(self._engine.bot.settings.get(area) or {})

    def resource(self, key: str, opener, closer=None):
        """A value shared by this run's nodes, opened once, closed when the run ends
        (see ``Engine.resource``)."""
        return self._engine.resource(key, opener, closer)

    # -- secrets and dependencies
    def secret(self, name: str):
        return self._engine.secrets.secret(name)

    def require(self, module: str, install: str) -> Any:
        """Import an optional dependency, or fail with the exact command that installs it."""
        try:
            return importlib.import_module(module)
        except ImportError:
            raise MissingDependencyError(
                f"node '{self._node.id}' ({self._node.type.id}) needs the Python package '{module}', "
                "which is not installed", where=self._node.where, fix=f"run: {install}") from None

    # -- cancellation and waiting
    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise RunCancelled("the run was stopped")

    def sleep(self, seconds: float) -> None:
        """Wait, but wake at once (raising RunCancelled) if the run is stopped. While a resumed
        run replays steps that already happened, waiting is skipped."""
        if seconds > 0 and not self._engine.replaying and self._cancel.wait(seconds):
            raise RunCancelled("the run was stopped")

    # -- suspension (waiting without holding a process)
    @property
    def resume_data(self) -> dict | None:
        """Data given by whoever resumed a suspended run (``botloom signal``/``resume --data``)."""
        return self._engine._resume_data_for(self.seq)

    @property
    def suspended_state(self) -> dict:
        """The ``state`` this node passed to ``suspend()`` before the run was resumed."""
        return self._engine._suspended_state_for(self.seq)

    def suspend(self, reason: str, *, wake_at: float | None = None, signal: str | None = None,
                state: dict | None = None) -> None:
        raise Suspend(reason, wake_at=wake_at, signal=signal, state=state)

    # -- scopes (loops, try/catch, retry): run the chain behind one of this node's body ports
    def has_branch(self, port: str) -> bool:
        return port in self._node.next

    def run_branch(self, port: str) -> None:
        """Run the nodes connected to body port ``port`` until that path ends."""
        self._engine._run_branch(self._frame, self._node, port)

    def run_branch_with_retry(self, port: str, *, attempts: int, delay: float = 1.0, backoff: float = 2.0,
                              max_delay: float = 60.0, on: list[str] | tuple[str, ...] = ()) -> int:
        """Run the chain behind ``port`` until it succeeds, retrying by the same rules (and with the
        same ``node_retrying`` events) as a node's own retry setting; returns the attempts used."""
        from .retry import RetryPolicy

        policy = RetryPolicy(attempts, delay, backoff, max_delay, tuple(on or ()))
        return self._engine._retry_branch(self._frame, self._node, self.seq, port, policy)

    def evaluate(self, param: str) -> Any:
        """Evaluate a parameter again, now (a while loop re-checks its condition)."""
        return self._engine._evaluate(self._frame, self._node, param)

    def call_flow(self, name: str, inputs: dict) -> dict:
        """Run subflow ``name`` of this bot with ``inputs``; returns its outputs."""
        return self._engine._call_flow(self._frame, self._node, name, inputs)

    def call_bot(self, path: str | os.PathLike, inputs: dict) -> dict:
        """Run another bot file's main flow within this run; returns its outputs."""
        return self._engine._call_bot(self._frame, self._node, os.fspath(path), inputs)

    def timestamp(self) -> float:
        return now()
