"""Compiling a bot into run plans: node types resolved, literal parameters converted once,
expressions compiled once, successors looked up by port. The hot loop then only evaluates
what is dynamic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..botfile.model import BotDoc, FlowDoc, NodeSpec
from ..errors import ExpressionError, did_you_mean
from ..expr import Expression, compile_value
from ..problems import Problem
from .retry import RetryPolicy
from ..sdk.node import INPUT_PORT, NodeType
from ..sdk.registry import Registry, UnknownNodeType
from ..sdk.types import TYPES, TypeMismatch, compatible


@dataclass
class NodeCheck:
    """The outcome of checking one node's type and parameters."""

    type: NodeType | None = None
    params: dict = field(default_factory=dict)
    static: dict = field(default_factory=dict)
    dynamic: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def check_node(spec: NodeSpec, registry: Registry, flow: str = "main", fed: frozenset = frozenset()) -> NodeCheck:
    """Resolve a node's type and check its parameter values against the type's schema.

    ``fed`` names the parameters a data edge supplies (they need no literal value).
    Literal values are converted to their declared types; expressions are compiled.
    """
    out = NodeCheck()

    def problem(code, message, param=None, fix=None, severity="error"):
        out.problems.append(Problem(code, message, flow=flow, node=spec.id, param=param, fix=fix, severity=severity))

    try:
        nt = registry.get(spec.type, spec.version)
    except UnknownNodeType as exc:
        problem("unknown-node-type", exc.message, fix=exc.fix)
        return out
    out.type = nt
    params = registry.upgrade_params(nt, spec.version, spec.params) if spec.version < nt.version else dict(spec.params)
    out.params = params
    for name in params:
        if nt.param(name) is None:
            known = [p.name for p in nt.params]
            problem("unknown-param", f"'{nt.id}' has no parameter '{name}'{did_you_mean(name, known)}", param=name,
                    fix=f"its parameters are: {', '.join(known) or '(none)'}")
    for p in nt.params:
        if p.name in fed:
            continue
        if p.name not in params or params[p.name] is None:
            if p.required and p.shown(params) and not p.has_default:
                problem("missing-param", f"'{p.title}' ({p.name}) is required", param=p.name,
                        fix="give it a value, an expression, or connect a data edge to it")
            value = p.default if p.has_default else None
            out.static[p.name] = value
            continue
        raw = params[p.name]
        if p.type == "secret":
            if not isinstance(raw, str) or not raw:
                problem("invalid-param", "a secret parameter holds the secret's name", param=p.name,
                        fix="write the name of a secret, e.g. \"crm_password\"")
            out.static[p.name] = raw
            continue
        try:
            compiled = compile_value(raw, bare=p.expression)
        except ExpressionError as exc:
            problem("bad-expression", exc.message, param=p.name, fix=exc.fix)
            continue
        if isinstance(compiled, Expression):
            out.dynamic[p.name] = compiled
            continue
        try:
            out.static[p.name] = p.check(raw)
        except TypeMismatch as exc:
            problem("invalid-param", f"'{p.title}': {exc}", param=p.name,
                    fix=f"give a {p.type} value" + (f" ({', '.join(map(str, p.choices))})" if p.choices else ""))
    return out


class CompiledNode:
    """One node, ready to run."""

    __slots__ = ("id", "type", "run", "title", "flow", "where", "static", "dynamic", "edges_in",
                 "secrets", "next", "timeout", "retry", "on_error", "disabled", "durable", "scope")

    def __init__(self, spec: NodeSpec, nt: NodeType, check: NodeCheck, flow: str, bot_label: str):
        self.id = spec.id
        self.type = nt
        self.run = nt.run
        self.title = spec.title or nt.title
        self.flow = flow
        self.where = f"{bot_label}: " + (f"subflow '{flow}', " if flow != "main" else "") + f"node '{spec.id}' ({nt.id})"
        self.static = check.static
        self.dynamic: list[tuple[Any, Expression]] = [(nt.param(n), e) for n, e in check.dynamic.items()]
        self.edges_in: list[tuple[Any, str, str]] = []
        self.secrets = [p.name for p in nt.params if p.type == "secret"]
        self.next: dict[str, str] = {}
        self.timeout = spec.settings.get("timeout")
        self.retry = RetryPolicy.of(spec.settings.get("retry"))
        self.on_error = spec.settings.get("on_error", "fail")
        self.disabled = spec.disabled
        self.durable = nt.side_effects
        self.scope = nt.is_scope


@dataclass
class FlowPlan:
    name: str
    doc: FlowDoc
    nodes: dict[str, CompiledNode]
    start: str | None


def compile_flow(name: str, doc: FlowDoc, registry: Registry, bot_label: str) -> tuple[FlowPlan, list[Problem]]:
    problems: list[Problem] = []
    fed: dict[str, set] = {}
    for e in doc.edges:
        if e.target_port != INPUT_PORT:
            fed.setdefault(e.target, set()).add(e.target_port)
    nodes: dict[str, CompiledNode] = {}
    start = None
    for nid, spec in doc.nodes.items():
        check = check_node(spec, registry, name, frozenset(fed.get(nid, ())))
        problems += check.problems
        if check.type is None:
            continue
        cn = CompiledNode(spec, check.type, check, name, bot_label)
        if cn.scope and cn.timeout:
            problems.append(Problem("timeout-on-scope", "a timeout cannot be set on a node that runs other nodes",
                                    flow=name, node=nid, fix="set timeouts on the nodes inside it instead"))
        nodes[nid] = cn
        if not check.type.has_input:
            start = nid
    for e in doc.edges:
        src, dst = nodes.get(e.source), nodes.get(e.target)
        if src is None or dst is None:
            continue
        if e.target_port == INPUT_PORT:
            src.next[e.source_port] = e.target
        elif dst.type.param(e.target_port) is None:
            problems.append(Problem("unknown-param", f"'{dst.type.id}' has no parameter '{e.target_port}'", flow=name,
                                    node=e.target, edge=str(e), fix="connect the edge to one of its parameters"))
        else:
            dst.edges_in.append((dst.type.param(e.target_port), e.source, e.source_port))
    return FlowPlan(name, doc, nodes, start), problems


def compile_bot(bot: BotDoc, registry: Registry) -> tuple[dict[str, FlowPlan], list[Problem]]:
    plans, problems = {}, []
    for name, flow in bot.flows().items():
        plans[name], found = compile_flow(name, flow, registry, bot.label)
        problems += found
    return plans, problems


__all__ = ["CompiledNode", "FlowPlan", "NodeCheck", "check_node", "compile_bot", "compile_flow"]
