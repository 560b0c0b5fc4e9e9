"""Validation: every problem of a bot, listed at once, each with where and how to fix it.

Checks: node types exist (with suggestions), parameter values fit their schemas, edges join
existing nodes and ports, data edges carry compatible types, each flow has one start, no
node is unreachable, no cycle except through a loop, no loop or scope body leaking into the
path after it, subflow calls name real subflows, declared defaults fit their types.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from .botfile.model import BotDoc
from .errors import did_you_mean
from .expr import has_expression
from .graph import Bot, Flow, reachable
from .problems import Problem
from .sdk.node import ERROR_PORT, INPUT_PORT, NodeType
from .sdk.params import MISSING
from .sdk.registry import Registry
from .sdk.types import TYPES, TypeMismatch, compatible
from .engine.plan import check_node


def validate_doc(doc: BotDoc, registry: Registry) -> list[Problem]:
    return validate_bot(Bot(doc), registry)


def validate_bot(bot: Bot, registry: Registry) -> list[Problem]:
    problems: list[Problem] = []
    for flow in bot.flows.values():
        problems += _check_flow(bot, flow, registry)
    order = {"error": 0, "warning": 1}
    return sorted(problems, key=lambda p: (order.get(p.severity, 2), p.flow != "main", p.flow, p.node or "", p.code))


def _check_flow(bot: Bot, flow: Flow, registry: Registry) -> list[Problem]:
    out: list[Problem] = []

    def add(code, message, **kw):
        out.append(Problem(code, message, flow=flow.name, **kw))

    for kind in ("inputs", "outputs", "variables"):
        for name, decl in getattr(flow, kind).items():
            if decl.default is not MISSING and decl.default is not None:
                try:
                    TYPES[decl.type].coerce(decl.default)
                except TypeMismatch as exc:
                    add("bad-default", f"the default of {kind[:-1]} '{name}' does not fit its type: {exc}",
                        fix=f"give a {TYPES[decl.type].title}")

    specs = flow.specs()
    edges = flow.edges()
    fed: dict[str, set] = {}
    for e in edges:
        if e.target_port != INPUT_PORT:
            fed.setdefault(e.target, set()).add(e.target_port)
    types: dict[str, NodeType] = {}
    params: dict[str, dict] = {}
    for nid, spec in specs.items():
        check = check_node(spec, registry, flow.name, frozenset(fed.get(nid, ())))
        out += check.problems
        if check.type is not None:
            types[nid] = check.type
            params[nid] = check.params
            _check_special_params(flow, nid, check.type, check.params, bot, add)
            if check.type.is_scope and spec.settings.get("timeout"):
                add("timeout-on-scope", "a timeout cannot be set on a node that runs other nodes", node=nid,
                    fix="set timeouts on the nodes inside it instead")
            for p in check.type.params:
                value = check.params.get(p.name)
                if p.type == "secret" and isinstance(value, str) and value and value not in bot.secrets:
                    add("undeclared-secret", f"secret '{value}' is not declared in the bot's 'secrets'",
                        node=nid, param=p.name, severity="warning",
                        fix=f"declare it: \"secrets\": {{\"{value}\": \"what it is for\"}}")

    starts = [nid for nid, nt in types.items() if not nt.has_input]
    if not starts:
        add("no-start", "the flow has no start node", fix="add a 'core.start' node and connect it to the first step")
    elif len(starts) > 1:
        extra = [s for s in starts if s != "start"] or starts[1:]
        add("many-starts", f"the flow has {len(starts)} start nodes ({', '.join(starts)})", node=extra[0],
            fix="keep one start node")

    used_ports: dict[tuple[str, str], list] = {}
    for e in edges:
        label = str(e)
        missing = [n for n in (e.source, e.target) if n not in specs]
        if missing:
            add("dangling-edge", f"the edge refers to node '{missing[0]}', which does not exist"
                f"{did_you_mean(missing[0], specs)}", edge=label, fix="remove the edge or restore the node")
            continue
        st, tt = types.get(e.source), types.get(e.target)
        if st is None or tt is None:
            continue  # unknown type already reported
        if e.target_port == INPUT_PORT:
            ports = st.ports_for(params[e.source])
            if e.source_port not in ports:
                add("unknown-port", f"'{st.id}' has no control port '{e.source_port}'{did_you_mean(e.source_port, ports)}",
                    edge=label, node=e.source, fix=f"its control ports are: {', '.join(ports)}")
                continue
            if not tt.has_input:
                add("no-input", f"'{tt.id}' cannot be entered (it starts the flow)", edge=label, node=e.target)
            used_ports.setdefault((e.source, e.source_port), []).append(e.target)
        else:
            output = st.output(e.source_port)
            if output is None:
                names = [o.name for o in st.outputs]
                add("unknown-port", f"'{st.id}' has no data output '{e.source_port}'{did_you_mean(e.source_port, names)}",
                    edge=label, node=e.source, fix=f"its outputs are: {', '.join(names) or '(none)'}")
                continue
            param = tt.param(e.target_port)
            if param is None:
                names = [p.name for p in tt.params]
                add("unknown-param", f"'{tt.id}' has no parameter '{e.target_port}'{did_you_mean(e.target_port, names)}",
                    edge=label, node=e.target, fix=f"its parameters are: {', '.join(names) or '(none)'}")
                continue
            if not compatible(output.type, param.type):
                add("type-mismatch", f"{e.source}.{e.source_port} gives {TYPES[output.type].title} but "
                    f"'{param.name}' takes {TYPES[param.type].title}", edge=label, node=e.target, param=param.name,
                    fix="connect an output of a matching type, or convert it with a Set variable node")
            if e.target_port in specs[e.target].params:
                add("fed-twice", f"'{param.name}' has a value and a data edge; the edge wins", edge=label,
                    node=e.target, param=param.name, severity="warning", fix="clear the value or remove the edge")
    for (source, port), targets in used_ports.items():
        if len(targets) > 1:
            add("fan-out", f"port '{port}' leads to {len(targets)} nodes ({', '.join(sorted(targets))}); "
                "a path runs one node after another", node=source,
                fix="chain the nodes one after the other")

    if len(starts) == 1:
        _check_structure(flow, types, starts[0], edges, add)
    return out


def _check_special_params(flow, nid, nt, values, bot, add):
    if nt.ports_from and has_expression(values.get(nt.ports_from)):
        add("dynamic-ports", f"'{nt.ports_from}' must be written out, not an expression (its values name ports)",
            node=nid, param=nt.ports_from)
    called = values.get("bot")
    if nt.runs_nodes and nt.param("bot") is not None and isinstance(called, str) and called \
            and not has_expression(called) and bot.source:
        target = Path(called).expanduser()
        target = target if target.is_absolute() else Path(bot.source).resolve().parent / target
        if not target.is_file():
            add("missing-bot", f"the bot file '{called}' does not exist ({target})", node=nid, param="bot",
                severity="warning", fix="check the path; relative paths start in this bot's folder")
    if nt.runs_nodes and isinstance(values.get("subflow"), str) and not has_expression(values["subflow"]):
        name = values["subflow"]
        subflows = [n for n in bot.flows if n != "main"]
        if name not in subflows:
            add("unknown-subflow", f"there is no subflow '{name}'{did_you_mean(name, subflows)}", node=nid,
                param="subflow", fix=f"subflows of this bot: {', '.join(subflows) or '(none)'}")


def _check_structure(flow: Flow, types: dict[str, NodeType], start: str, edges, add) -> None:
    cg = flow.control_graph()
    # Unreachable nodes
    seen = reachable(cg, [start])
    for nid in sorted(set(types) - seen):
        add("unreachable", "no path from the start node leads here, so it never runs", node=nid, severity="warning",
            fix="connect it, or delete it")
    # Cycles: allowed only as a loop body returning to its loop node
    body_of: dict[str, set[str]] = {}
    for nid, nt in types.items():
        if nt.body_ports:
            targets = [v for _, v, d in cg.out_edges(nid, data=True) if d["port"] in nt.body_ports]
            body_of[nid] = reachable(cg, targets, without=nid)
    acyclic = cg.copy()
    for nid, body in body_of.items():
        if types[nid].loop:
            acyclic.remove_edges_from([(u, nid) for u in list(acyclic.predecessors(nid)) if u in body])
    for component in nx.strongly_connected_components(acyclic):
        if len(component) > 1 or any(acyclic.has_edge(n, n) for n in component):
            cycle = nx.find_cycle(acyclic.subgraph(component))
            path = " -> ".join([u for u, _ in cycle] + [cycle[0][0]])
            add("cycle", f"the path {path} goes round in a circle without a loop node", node=cycle[0][0],
                fix="use a 'core.while' or 'core.for_each' node for repetition")
    # A scope's body must not run into the path that follows the scope
    for nid, body in body_of.items():
        nt = types[nid]
        after_targets = [v for _, v, d in cg.out_edges(nid, data=True) if d["port"] not in nt.body_ports]
        after = reachable(cg, after_targets, without=nid)
        leak = sorted((body & after) - {nid})
        if leak:
            add("body-leak", f"the '{'/'.join(nt.body_ports)}' path of this node runs into '{leak[0]}', which also "
                "follows it; that node would run twice", node=nid,
                fix="end the body path without connecting it to the nodes after the loop or scope")
    # Data edges must come from nodes that have run by then
    for e in edges:
        if e.target_port != INPUT_PORT and e.source in types and e.target in types:
            if not nx.has_path(cg, e.source, e.target):
                add("data-order", f"the value for '{e.target_port}' comes from '{e.source}', which does not run "
                    "before this node", node=e.target, param=e.target_port, edge=str(e), severity="warning",
                    fix=f"make sure '{e.source}' runs earlier on the path to '{e.target}'")


__all__ = ["validate_bot", "validate_doc", "ERROR_PORT"]
