"""What a recorder (web, desktop) hands over: recorded steps, and where they go in a flow.

A recorder turns what a person did into :class:`Step` objects (a node type, its parameters, a
title, and a warning when a step needs a look). :func:`plan` places them in a flow: new node ids
that do not clash, positions in rows to the right of (or below) what is there, each step
connected to the next and the first to the node the recording follows. The designer appends the
plan as one undoable command; ``botloom record-web`` / ``record-desktop`` write it into a bot.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..botfile.model import Edge, NodeSpec
from .node import INPUT_PORT

PER_ROW = 6  # steps on one row before the next row starts
STEP_X, STEP_Y = 260.0, 170.0


@dataclass
class Step:
    """One recorded node."""

    type: str
    params: dict[str, Any]
    title: str = ""
    warning: str = ""  # what to check (kept as the node's notes)
    secrets: dict[str, str] = field(default_factory=dict)  # secrets the step reads: name -> what it is for

    def to_json(self) -> dict:
        out = {"type": self.type, "params": self.params, "title": self.title}
        if self.warning:
            out["warning"] = self.warning
        if self.secrets:
            out["secrets"] = self.secrets
        return out

    @classmethod
    def from_json(cls, data: dict) -> "Step":
        return cls(str(data["type"]), dict(data.get("params") or {}), str(data.get("title") or ""),
                   str(data.get("warning") or ""), {str(k): str(v) for k, v in (data.get("secrets") or {}).items()})


# What a recorder types or fills instead of a password it saw: this secret, declared by the bot
PASSWORD_SECRET = "password"
PASSWORD_SECRETS = {PASSWORD_SECRET: "the password typed while recording"}


def secrets_to_declare(steps: Iterable[Step], declared: dict[str, str]) -> dict[str, str]:
    """The bot's secrets with those the steps read added (a declared one keeps its text)."""
    out = dict(declared)
    for step in steps:
        for name, what in step.secrets.items():
            out.setdefault(name, what)
    return out


def _new_id(type_id: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_]", "_", type_id.rsplit(".", 1)[-1]) or "node"
    if base[0].isdigit():
        base = "n_" + base
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def plan(steps: Iterable[Step], taken: Iterable[str], positions: Iterable[tuple[float, float]],
         after: tuple[str, str] | None = None, origin: tuple[float, float] | None = None,
         versions: dict[str, int] | None = None) -> tuple[list[tuple[NodeSpec, tuple[float, float]]], list[Edge]]:
    """Nodes (with positions) and edges that append ``steps`` to a flow.

    ``taken`` are the flow's node ids, ``positions`` where its nodes are; ``after`` is
    ``(node id, exit port)`` of the node the first step follows (None: not connected);
    ``origin`` is where the first step goes (default: a new row below everything).
    """
    ids, spots = set(taken), list(positions)
    if origin is None:
        origin = (0.0, max((y for _x, y in spots), default=-STEP_Y) + STEP_Y)
    nodes: list[tuple[NodeSpec, tuple[float, float]]] = []
    edges: list[Edge] = []
    previous = after
    for i, step in enumerate(steps):
        spec = NodeSpec(id=_new_id(step.type, ids), type=step.type, version=(versions or {}).get(step.type, 1),
                        title=step.title, params=dict(step.params), notes=step.warning)
        pos = (origin[0] + (i % PER_ROW) * STEP_X, origin[1] + (i // PER_ROW) * STEP_Y)
        nodes.append((spec, pos))
        if previous is not None:
            edges.append(Edge(previous[0], previous[1], spec.id, INPUT_PORT))
        previous = (spec.id, "out")
    return nodes, edges


def bot_from_steps(name: str, steps: list[Step], description: str = "", registry=None):
    """A new bot: a start node followed by the steps (a BotDoc, ready to save)."""
    from ..botfile.model import BotDoc, FlowDoc

    start = NodeSpec(id="start", type="core.start")
    versions = {t.id: t.version for t in registry.latest()} if registry is not None else None
    nodes, edges = plan(steps, {"start"}, [], after=("start", "out"), origin=(STEP_X, 0.0), versions=versions)
    flow = FlowDoc(nodes={"start": start, **{s.id: s for s, _ in nodes}}, edges=edges,
                   positions={"start": (0.0, 0.0), **{s.id: p for s, p in nodes}})
    return BotDoc(name=name, main=flow, description=description, secrets=secrets_to_declare(steps, {}))


def write_bot(path, name: str, steps: list[Step], description: str = "", registry=None) -> None:
    """Save :func:`bot_from_steps` as a canonical bot file at ``path``."""
    from ..botfile import save

    save(bot_from_steps(name, steps, description, registry), path)


def bot_file(out: str, example: str):
    """The bot file a recording goes into: a Path that does not exist yet, or a BotloomError."""
    from pathlib import Path

    from ..errors import BotloomError

    if not out:
        raise BotloomError("no bot file to write the recording to", where="--out", fix=f"e.g. {example}")
    path = Path(out)
    if path.exists():
        raise BotloomError(f"{path} exists already", where="--out", fix="give a new file name, or delete the file first")
    return path


def record_to_file(recorder, out, name: str, intro: str, description: str, drop=None) -> int:
    """A recorder in a terminal: started, each step printed as it comes, until the recorder
    closes or Ctrl+C; then the steps (without the trailing ones ``drop(step)`` says were the
    stopping itself) written as a new bot at ``out``."""
    import signal

    recorder.start()
    stopping: list = []
    previous = signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    print(intro, flush=True)
    shown = 0
    try:
        while not stopping and not recorder.closed.is_set():
            recorder.pump(0.2)
            steps = recorder.steps()
            for step in steps[shown:]:
                print(f"  {step.title}" + (f"  (check: {step.warning})" if step.warning else ""), flush=True)
            shown = max(shown, len(steps))
    finally:
        signal.signal(signal.SIGINT, previous)
        recorder.pump(0.3)  # the last actions before the stop
        steps = recorder.stop()
    while steps and drop is not None and drop(steps[-1]):
        steps.pop()
    write_bot(out, name or out.name.split(".")[0] or "recorded-bot", steps, description=description)
    print(f"{len(steps)} step(s) written to {out}")
    return 0


def serve(recorder) -> int:
    """A recorder as a child process (``botloom record-web|record-desktop --events jsonl``):
    JSON lines on stdout, ``ready``, then ``steps`` (all steps so far) after each change and
    ``done`` (the final steps) at the end, or one ``error``. It ends when the recorder closes
    (the browser was closed) or a line ``stop`` arrives on stdin.

    ``recorder`` has ``start()`` (raising a BotloomError that says what is wrong),
    ``pump(seconds)``, ``steps()``, ``stop()`` (the final steps) and two events, ``dirty`` (set
    when steps changed) and ``closed``; a picker also has ``result`` (a dict, sent as the event
    ``picked`` before ``done``).
    """
    from ..errors import BotloomError

    def emit(event: str, **data) -> None:
        sys.stdout.write(json.dumps({"event": event, **data}, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    stop = threading.Event()

    def read_stdin() -> None:
        for line in sys.stdin:
            if line.strip() == "stop":
                break
        stop.set()

    try:
        recorder.start()
    except BotloomError as exc:
        emit("error", message=exc.message, fix=exc.fix or "")
        return 1
    except Exception as exc:  # what could not start (a browser, the input listener): one line, no traceback
        emit("error", message=f"the recorder could not start: {exc}".splitlines()[0], fix="run: botloom doctor")
        return 1
    threading.Thread(target=read_stdin, daemon=True).start()
    emit("ready")
    while not stop.is_set() and not recorder.closed.is_set():
        recorder.pump(0.2)
        if recorder.dirty.is_set():
            recorder.dirty.clear()
            emit("steps", steps=[s.to_json() for s in recorder.steps()])
    recorder.pump(0.3)  # the last actions before a stop
    result = getattr(recorder, "result", None)  # a picker ends with what was picked
    if result:
        emit("picked", **result)
    emit("done", steps=[s.to_json() for s in recorder.stop()])
    return 0


__all__ = ["PER_ROW", "Step", "bot_file", "bot_from_steps", "plan", "record_to_file", "serve", "write_bot"]
