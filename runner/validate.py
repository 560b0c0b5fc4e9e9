"""Validation: every problem of a bot, listed at once, each with where and how to fix it.

Checks: node types exist (with suggestions), parameter values fit their schemas, edges join
existing nodes and ports, data edges carry compatible types, each flow has one start, no
node is unreachable, no cycle except through a loop, no loop or scope body leaking into the
path after it, subflow calls name real subflows, declared defaults fit their types.

One path: :func:`check_doc` compiles the bot (``engine/plan.py`` checks each node and edge,
once) and adds the checks over the whole graph here; the compiled plans it returns are the
ones the engine runs, so a run never checks its bot twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from .botfile.model import BotDoc
from .engine.plan import FlowPlan, compile_bot
from .errors import did_you_mean
from .expr import has_expression
from .graph import Bot, Flow, reachable
from .problems import Problem
from .sdk.node import ERROR_PORT, INPUT_PORT, LintInfo, NodeType
from .sdk.params import MISSING
from .sdk.registry import Registry
from .sdk.types import TYPES, TypeMismatch

_SECRET_REF = re.compile(r"""\bsecrets\s*(?:\.\s*(\w+)|\[\s*['"]([^'"]+)['"]\s*\])""")


def _secret_names(value) -> set[str]:
    """The secrets an expression names (``secrets.NAME``, ``secrets['NAME']``), in a parameter value."""
    if isinstance(value, str):
        return {a or b for a, b in _SECRET_REF.findall(value)} if "{{" in value and "secrets" in value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*map(_secret_names, value)) if value else set()
    if isinstance(value, dict):
        return set().union(*map(_secret_names, value.values())) if value else set()
    return set()

_ORDER = {"error": 0, "warning": 1}


@dataclass
class Checked:
    """A bot's validation: its problems, and the run plans compiled on the way (which the
    engine takes as they are: see ``engine/plan.py``)."""

    plans: dict[str, FlowPlan]
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def check_doc(doc: BotDoc, registry: Registry, bot: Bot | None = None) -> Checked:
    """Validate ``doc`` (``bot`` is the same bot as graphs, when the caller has it): compile it
    (nodes and edges, checked once), then the checks that need the whole graph."""
    plans, problems = compile_bot(doc, registry)
    bot = bot or Bot(doc)
    for name, flow in bot.flows.items():
        problems += _check_flow(bot, flow, plans[name])
    problems.sort(key=lambda p: (_ORDER.get(p.severity, 2), p.flow != "main", p.flow, p.node or "", p.code))
    return Checked(plans, problems)


def validate_doc(doc: BotDoc, registry: Registry) -> list[Problem]:
    return check_doc(doc, registry).problems


def validate_bot(bot: Bot, registry: Registry) -> list[Problem]:
    return check_doc(bot.to_doc(), registry, bot).problems


def _check_flow(bot: Bot, flow: Flow, plan: FlowPlan) -> list[Problem]:
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

    types: dict[str, NodeType] = {}
    for nid, check in plan.checks.items():
        if check.type is None:
            continue
        types[nid] = check.type
        _check_special_params(flow, nid, check.type, check.params, bot, add)
        _lint(nid, check.type, check.params, bot, add)
        for p in check.type.params:
            value = check.params.get(p.name)
            if p.type == "secret" and isinstance(value, str) and value and value not in bot.secrets:
                add("undeclared-secret", f"secret '{value}' is not declared in the bot's 'secrets'",
                    node=nid, param=p.name, severity="warning",
                    fix=f"declare it: \"secrets\": {{\"{value}\": \"what it is for\"}}")
            for name in sorted(_secret_names(value) - set(bot.secrets)):  # {{ secrets.NAME }} in an expression
                add("undeclared-secret", f"an expression reads secret '{name}', which is not declared in the bot's "
                    "'secrets'", node=nid, param=p.name, severity="warning",
                    fix=f"declare it: \"secrets\": {{\"{name}\": \"what it is for\"}}")

    starts = [nid for nid, nt in types.items() if not nt.has_input]
    if not starts:
        add("no-start", "the flow has no start node", fix="add a 'core.start' node and connect it to the first step")
    elif len(starts) > 1:
        extra = [s for s in starts if s != "start"] or starts[1:]
        add("many-starts", f"the flow has {len(starts)} start nodes ({', '.join(starts)})", node=extra[0],
            fix="keep one start node")
    if len(starts) == 1:
        _check_structure(flow, types, starts[0], flow.edges(), add)
    return out


def _lint(nid: str, nt: NodeType, values: dict, bot: Bot, add) -> None:
    """The node type's own checks of its written-out parameters (targets, files, points)."""
    if nt.lint is None:
        return
    static = {k: v for k, v in values.items() if not has_expression(v)}
    info = LintInfo(bot_dir=Path(bot.source).resolve().parent if bot.source else None,
                    settings={area: dict(block) for area, block in bot.settings.items()})
    try:
        found = list(nt.lint(static, info) or ())
    except Exception as exc:  # a pack's bug must not stop validation of the rest
        add("lint-failed", f"the checks of node type '{nt.id}' failed ({type(exc).__name__}: {exc})", node=nid,
            severity="warning", fix=f"report this to the maintainers of the '{nt.pack}' pack")
        return
    for lint in found:
        add("bad-param" if lint.param else "bad-node", lint.message, node=nid, param=lint.param,
            severity=lint.severity, fix=lint.fix)


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


__all__ = ["Checked", "check_doc", "validate_bot", "validate_doc", "ERROR_PORT"]
