"""Helpers shared by the unit tests: build a bot from a few nodes and edges, run it in memory.

    from bots import make, run

    doc = make({"start": {"type": "core.start"}, "log": {"type": "core.log", "params": {"message": "hi"}}},
               [("start", "log")])
    result, log = run(doc)

Edges are written as ``(source, target)`` pairs: ``"a"`` means ``a.out`` as a source and
``a.in`` as a target; ``"a.true"`` / ``"b.message"`` name a port or a parameter. A dict
``{"from": ..., "to": ...}`` is passed through as it is.

This is not ``conftest.py`` on purpose (that file belongs to the shared fixtures).
"""

from __future__ import annotations

import functools
import json
import threading
from pathlib import Path
from typing import Any, Iterable

from botloom.runner import botfile
from botloom.runner.botfile import BotDoc
from botloom.runner.engine import Engine, EventLog
from botloom.runner.engine.runs import RunResult
from botloom.runner.sdk.registry import Registry


@functools.cache
def registry() -> Registry:
    """The installed node packs, discovered once per test process (the runner has no global one)."""
    return Registry.discover(lazy=True)


def edge(e: Any) -> dict:
    if isinstance(e, dict):
        return e
    source, target = e
    if "." not in source:
        source += ".out"
    if "." not in target:
        target += ".in"
    return {"from": source, "to": target}


def edge_dicts(items: Iterable[Any]) -> list[dict]:
    return [edge(e) for e in items]


def chain(*ids: str) -> list[tuple[str, str]]:
    """``chain("start", "a", "b")`` is ``[("start", "a"), ("a", "b")]``."""
    return list(zip(ids, ids[1:]))


def flow(nodes: dict, edges: Iterable[Any] = (), **decls: Any) -> dict:
    """A subflow's JSON (inputs, outputs, variables as keyword arguments)."""
    return {"nodes": nodes, "edges": edge_dicts(edges), **decls}


def bot_json(nodes: dict, edges: Iterable[Any] = (), **top: Any) -> dict:
    """The bot file JSON; ``top`` adds top-level keys (inputs, outputs, variables, secrets, subflows ...)."""
    data = {"format": 1, "name": top.pop("name", "test-bot"), "nodes": nodes, "edges": edge_dicts(edges)}
    subflows = top.pop("subflows", None)
    if subflows:
        data["subflows"] = {name: dict(sub, edges=edge_dicts(sub.get("edges", ()))) for name, sub in subflows.items()}
    data.update(top)
    return data


def make(nodes: dict, edges: Iterable[Any] = (), **top: Any) -> BotDoc:
    """A BotDoc from nodes and edges, through the real reader (``botfile.loads``)."""
    return botfile.loads(json.dumps(bot_json(nodes, edges, **top)))


def run(doc: BotDoc, inputs: dict | None = None, *, reg: Registry | None = None,
        **engine_kwargs: Any) -> tuple[RunResult, EventLog]:
    """Run ``doc`` to the end in this thread; returns the result and every event."""
    log = EventLog()
    listeners = [log, *engine_kwargs.pop("listeners", ())]
    engine = Engine(doc, reg or registry(), listeners=listeners, **engine_kwargs)
    return engine.run(inputs), log


def finished(log: EventLog, node: str | None = None) -> list:
    """NodeFinished events (of one node, if given)."""
    return [e for e in log.of("node_finished") if node is None or e.node == node]


def messages(log: EventLog) -> list[str]:
    """Texts written with ``core.log`` / ``ctx.log``, in order."""
    return [e.message for e in log.of("log")]


class WaitingLog(EventLog):
    """An EventLog another thread can wait on: ``wait_for(kind, **fields)``, no fixed sleeps."""

    def __init__(self):
        super().__init__()
        self._cond = threading.Condition()

    def handle(self, event) -> None:
        with self._cond:
            super().handle(event)
            self._cond.notify_all()

    def wait_for(self, kind: str, count: int = 1, timeout: float = 5.0, **fields: Any):
        """The ``count``-th event of ``kind`` matching ``fields``; AssertionError on timeout."""

        def matching():
            return [e for e in self.events if e.kind == kind
                    and all(getattr(e, k) == v for k, v in fields.items())]

        with self._cond:
            if not self._cond.wait_for(lambda: len(matching()) >= count, timeout):
                seen = [(e.kind, getattr(e, "node", None)) for e in self.events]
                raise AssertionError(f"no {kind} event {fields} within {timeout} s; events: {seen}")
            return matching()[count - 1]


def registry_with(*node_types: Any, pack: str = "testpack") -> Registry:
    """A fresh registry: the installed packs plus ``node_types`` in a pack of their own."""
    from botloom.runner.sdk import NodePack

    reg = Registry.discover()
    reg.add_pack(NodePack(pack, "1.0", list(node_types)))
    return reg


def write_bot(folder: Path, name: str, nodes: dict, edges: list, **top) -> Path:
    """Write a bot file from plain JSON pieces (edges as (source, target) endpoint pairs)."""
    data = {"format": 1, "name": name, **top, "nodes": nodes,
            "edges": [{"from": a, "to": b} for a, b in edges]}
    path = folder / f"{name}.bot.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path
