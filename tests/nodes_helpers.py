"""Running small bots through the real engine, for the node-pack tests.

Imported as ``from nodes_helpers import run_bot`` (pytest puts the tests folder on sys.path).
"""

from __future__ import annotations

import json

from botloom.runner.botfile import loads
from botloom.runner.engine import Engine, EventLog
from botloom.runner.sdk.registry import Registry

_REGISTRY = None


def registry() -> Registry:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = Registry.discover()
    return _REGISTRY


def make_engine(nodes: dict, edges: list | None = None, *, base_dir=None, variables=None, outputs=None,
                **engine_kw) -> tuple[Engine, EventLog]:
    """An engine for a bot made of ``nodes``. Without ``edges`` the nodes run one after the
    other in the order given, after an automatic ``start`` node."""
    nodes = dict(nodes)
    if edges is None:
        order = list(nodes)
        edges = [{"from": f"{a}.out", "to": f"{b}.in"} for a, b in zip(["start"] + order, order)]
    nodes.setdefault("start", {"type": "core.start"})
    doc = loads(json.dumps({"format": 1, "name": "t", "nodes": nodes, "edges": edges,
                            "variables": variables or {}, "outputs": outputs or {}}))
    log = EventLog()
    return Engine(doc, registry(), listeners=[log], base_dir=base_dir, **engine_kw), log


def run_bot(nodes: dict, edges: list | None = None, inputs=None, base_dir=None, variables=None, outputs=None,
            **engine_kw):
    engine, log = make_engine(nodes, edges, base_dir=base_dir, variables=variables, outputs=outputs, **engine_kw)
    return engine.run(inputs), log


def outputs_of(log: EventLog, node_id: str) -> dict:
    """The outputs of the last successful step of ``node_id``."""
    done = [e for e in log.of("node_finished") if e.node == node_id and e.state == "succeeded"]
    assert done, f"node '{node_id}' did not succeed; errors: {[e.error for e in log.of('node_finished') if e.error]}"
    return done[-1].outputs


def run_node(type_id: str, params: dict, *, base_dir=None, **engine_kw) -> tuple:
    """Run a bot of one node (after start); gives (result, outputs or None)."""
    result, log = run_bot({"n": {"type": type_id, "params": params}}, base_dir=base_dir, **engine_kw)
    outs = outputs_of(log, "n") if result.state == "succeeded" else None
    return result, outs


def logs_of(log: EventLog, node_id: str | None = None) -> list[str]:
    return [e.message for e in log.of("log") if node_id is None or e.node == node_id]
