"""Run events and listeners: the one way to observe a run.

The run store, the log files, the console, the ``--events jsonl`` stream and the designer's
live view are all listeners. Events are delivered synchronously, in order, on the thread
that runs the bot; a listener that needs durability (the journal) gets it by writing before
it returns.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from ..states import FINAL_STATES, RunState, StepState  # noqa: F401  (FINAL_STATES re-exported)


@dataclass(slots=True)
class Event:
    kind: ClassVar[str] = "event"
    run_id: str

    def to_dict(self) -> dict:
        """A shallow dict of the fields plus ``event``; values are shared, not copied."""
        names = _FIELDS.get(type(self))
        if names is None:
            names = _FIELDS[type(self)] = tuple(f.name for f in fields(self))
        data = {name: getattr(self, name) for name in names}
        data["event"] = self.kind
        return data


_FIELDS: dict[type, tuple[str, ...]] = {}


@dataclass(slots=True)
class RunStarted(Event):
    kind: ClassVar[str] = "run_started"
    bot: str = ""
    inputs: dict = field(default_factory=dict)
    resumed: bool = False
    time: float = 0.0


@dataclass(slots=True)
class NodeStarted(Event):
    kind: ClassVar[str] = "node_started"
    seq: int = 0
    node: str = ""
    type: str = ""
    flow: str = "main"
    attempt: int = 1
    params: dict | None = None
    durable: bool = False
    time: float = 0.0


@dataclass(slots=True)
class NodeFinished(Event):
    kind: ClassVar[str] = "node_finished"
    seq: int = 0
    node: str = ""
    type: str = ""
    flow: str = "main"
    attempt: int = 1
    state: str = StepState.SUCCEEDED
    port: str | None = "out"
    outputs: dict | None = None
    writes: dict | None = None
    error: dict | None = None
    started: float = 0.0
    duration: float = 0.0
    params: dict | None = None
    replayed: bool = False
    wake: dict | None = None


@dataclass(slots=True)
class NodeRetrying(Event):
    kind: ClassVar[str] = "node_retrying"
    seq: int = 0
    node: str = ""
    attempt: int = 1
    error: dict | None = None
    delay: float = 0.0


@dataclass(slots=True)
class WaitAnswered(Event):
    """A resumed run hands what it waited for to the waiting step: a signal's data, or the
    timer that fell due. ``by`` is who answered (a user name, "timer", a service)."""

    kind: ClassVar[str] = "wait_answered"
    seq: int = 0
    node: str = ""
    signal: str | None = None
    data: dict | None = None
    by: str | None = None
    time: float = 0.0


@dataclass(slots=True)
class LogMessage(Event):
    kind: ClassVar[str] = "log"
    seq: int = 0
    node: str = ""
    level: str = "info"
    message: str = ""
    time: float = 0.0


@dataclass(slots=True)
class ArtifactAdded(Event):
    kind: ClassVar[str] = "artifact"
    seq: int = 0
    node: str = ""
    name: str = ""
    artifact_kind: str = "file"
    path: str = ""


@dataclass(slots=True)
class Paused(Event):
    kind: ClassVar[str] = "paused"
    seq: int = 0
    node: str = ""
    reason: str = "pause"
    variables: dict = field(default_factory=dict)
    flow: str = "main"


@dataclass(slots=True)
class Resumed(Event):
    kind: ClassVar[str] = "resumed"
    seq: int = 0
    node: str = ""
    flow: str = "main"


@dataclass(slots=True)
class RunFinished(Event):
    kind: ClassVar[str] = "run_finished"
    state: str = RunState.SUCCEEDED
    outputs: dict | None = None
    error: dict | None = None
    attention: dict | None = None
    wake: dict | None = None
    duration: float = 0.0
    steps: int = 0
    time: float = 0.0


class Listener:
    """Base class: override ``on_<kind>`` methods (``on_node_finished`` ...) or ``handle``.

    Listeners come in two tiers. A *critical* one (``critical = True``: the journal) is part of the
    run's durability, so its failure stops the run with a clear error. Every other listener (log
    files, the console, the event stream, the designer, metrics) is best-effort: if it raises, the
    engine logs the failure, tells the other listeners with a warning, sets it aside for the rest
    of the run, and the run goes on.
    """

    critical = False

    def handle(self, event: Event) -> None:
        method = getattr(self, "on_" + event.kind, None)
        if method is not None:
            method(event)

    def close(self) -> None:
        """Called once after the run (and on failure): flush and release files."""


class EventLog(Listener):
    """Keeps every event in memory; for tests and embedding."""

    def __init__(self):
        self.events: list[Event] = []

    def handle(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: str) -> list[Any]:
        return [e for e in self.events if e.kind == kind]


now = time.time
