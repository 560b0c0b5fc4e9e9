"""Ports of a node on the canvas, and whether two ports may be joined (with the reason why not).

No Qt here: the rules are plain functions over the runner's graph and registry, so the
canvas, the paste code and the tests share them. Whether an edge may exist at all is the
runner's rule (``engine/plan.py``'s ``connection_problem``, which validation applies too): the
canvas refuses exactly what validation would report.

A node has, on its left, the control input ``in`` (unless it starts the flow) and one data
input per parameter; on its right, its control outputs (``out``, ``true``/``false``, body
ports, cases of a switch, ``error``) and its data outputs. A node whose type is not installed
(its pack is missing) keeps the ports its edges use, so nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from botloom.runner.engine.plan import connection_problem
from botloom.runner.sdk.node import ERROR_PORT, INPUT_PORT, NodeType
from botloom.runner.sdk.registry import Registry, UnknownNodeType

if TYPE_CHECKING:  # networkx loads with it: only when a bot is open
    from botloom.runner.graph import Flow

CONTROL_IN, CONTROL_OUT, DATA_IN, DATA_OUT = "control-in", "control-out", "data-in", "data-out"


@dataclass(frozen=True)
class Port:
    name: str
    kind: str  # one of CONTROL_IN, CONTROL_OUT, DATA_IN, DATA_OUT
    type: str = "any"  # value type of a data port
    title: str = ""

    @property
    def is_input(self) -> bool:
        return self.kind in (CONTROL_IN, DATA_IN)

    @property
    def is_control(self) -> bool:
        return self.kind in (CONTROL_IN, CONTROL_OUT)

    @property
    def label(self) -> str:
        return self.title or self.name


def node_type(registry: Registry, type_id: str, version: int | None = None) -> NodeType | None:
    try:
        return registry.get(type_id, version)
    except UnknownNodeType:
        try:  # a node saved by a newer pack version: show it with the installed type's ports
            return registry.get(type_id)
        except UnknownNodeType:
            return None


def node_ports(flow: Flow, node_id: str, registry: Registry) -> tuple[list[Port], list[Port]]:
    """(inputs, outputs) of a node, top to bottom."""
    spec = flow.node(node_id)
    nt = node_type(registry, spec.type, spec.version)
    if nt is None:
        return _placeholder_ports(flow, node_id)
    inputs = [Port(INPUT_PORT, CONTROL_IN, title="in")] if nt.has_input else []
    inputs += [Port(p.name, DATA_IN, p.type, p.title) for p in nt.params]
    outputs = [Port(name, CONTROL_OUT) for name in nt.ports_for(spec.params)]
    outputs += [Port(o.name, DATA_OUT, o.type) for o in nt.outputs]
    return inputs, outputs


def _placeholder_ports(flow: Flow, node_id: str) -> tuple[list[Port], list[Port]]:
    ins, outs = {INPUT_PORT: Port(INPUT_PORT, CONTROL_IN, title="in")}, {"out": Port("out", CONTROL_OUT)}
    for e in flow.edges():
        if e.target == node_id and e.target_port not in ins:
            ins[e.target_port] = Port(e.target_port, DATA_IN)
        if e.source == node_id and e.source_port not in outs:
            kind = CONTROL_OUT if _enters_control(flow, e.source, e.source_port) else DATA_OUT
            outs[e.source_port] = Port(e.source_port, kind)
    outs.setdefault(ERROR_PORT, Port(ERROR_PORT, CONTROL_OUT))
    return list(ins.values()), list(outs.values())


def _enters_control(flow: Flow, source: str, port: str) -> bool:
    return any(e.target_port == INPUT_PORT for e in flow.edges() if e.source == source and e.source_port == port)


def check_connection(flow: Flow, registry: Registry, source: str, source_port: str, target: str,
                     target_port: str) -> str | None:
    """None when ``source.source_port -> target.target_port`` may be drawn, else why not.

    The connection rules are the runner's own (``connection_problem``, what validation
    applies); the canvas adds what only drawing needs: no edge twice, a control port leads to
    one node, a parameter takes one data edge."""
    if source not in flow or target not in flow:
        return "both ends must be nodes of this flow"
    if source == target:
        return "a node cannot be connected to itself"
    if flow.g.has_edge(source, target, key=(source_port, target_port)):
        return f"{source}.{source_port} is already connected to {target}.{target_port}"
    s_spec, t_spec = flow.node(source), flow.node(target)
    st, tt = node_type(registry, s_spec.type, s_spec.version), node_type(registry, t_spec.type, t_spec.version)
    if st is not None and tt is not None:
        wrong = connection_problem(source, st, s_spec.params, source_port, target, tt, target_port)
        if wrong is not None:
            return wrong.message
        control = target_port == INPUT_PORT
    else:  # a node whose pack is missing: only the ports its edges use are known
        sp = {p.name: p for p in node_ports(flow, source, registry)[1]}.get(source_port)
        tp = {p.name: p for p in node_ports(flow, target, registry)[0]}.get(target_port)
        if sp is None:
            return f"'{source}' has no output '{source_port}'"
        if tp is None:
            return f"'{target}' has no input '{target_port}'"
        if sp.is_control != tp.is_control:
            return "a control port leads into a node's 'in' port, a value into a parameter"
        control = sp.is_control
    if control:
        taken = [e for e in flow.edges() if e.source == source and e.source_port == source_port
                 and e.target_port == INPUT_PORT]
        if taken:
            return (f"'{source_port}' of '{source}' already leads to '{taken[0].target}'; a control port leads to "
                    "one node (chain the nodes one after the other)")
        return None
    fed = [e for e in flow.edges() if e.target == target and e.target_port == target_port]
    if fed:
        param = tt.param(target_port) if tt is not None else None
        return (f"'{param.title if param else target_port}' of '{target}' already gets its value from "
                f"{fed[0].source}.{fed[0].source_port}")
    return None
