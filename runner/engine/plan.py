"""Compiling a bot into run plans: node types resolved, literal parameters converted once,
expressions compiled once, successors looked up by port. The hot loop then only evaluates
what is dynamic.

Compiling is also the first half of validation (``validate.py`` adds the checks that need the
whole graph, over networkx): every node's parameters (:func:`check_node`) and every edge
(:func:`connection_problem`, the connection rules the designer's canvas applies as well) are
checked here, once; validation hands its compiled plans to the engine, which so never checks
a bot twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..botfile.model import BotDoc, FlowDoc, NodeSpec
from ..errors import ExpressionError, did_you_mean, quote
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
            problem("unknown-param", f"'{nt.id}' has no parameter {quote(name)}{did_you_mean(name, known)}", param=name,
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
        self.durable = nt.durable
        self.scope = nt.is_scope


@dataclass
class FlowPlan:
    name: str
    doc: FlowDoc
    nodes: dict[str, CompiledNode]
    start: str | None
    checks: dict[str, NodeCheck] = field(default_factory=dict)  # every node's, unknown types included


@dataclass(frozen=True)
class EdgeProblem:
    """Why an edge breaks the connection rules; ``at`` says which end it is about."""

    code: str
    message: str
    at: str  # "source" or "target"
    fix: str | None = None
    param: str | None = None


def connection_problem(source: str, st: NodeType, source_params: dict, source_port: str,
                       target: str, tt: NodeType, target_port: str) -> EdgeProblem | None:
    """The connection rules for ``source.source_port -> target.target_port``: None when the
    edge may exist. A control port (what runs next) leads into ``in``; a data output leads
    into a parameter of a type it fits. Validation and the designer's canvas both ask this."""
    controls = st.ports_for(source_params)
    output = st.output(source_port)
    if target_port == INPUT_PORT:
        if source_port in controls:
            if not tt.has_input:
                return EdgeProblem("no-input", f"'{target}' ({tt.id}) cannot be entered: it starts the flow", "target",
                                   fix="connect the edge to another node's 'in' port")
            return None
        if output is not None:
            return EdgeProblem("unknown-port", f"'{source_port}' is a value ({_title(output.type)}); connect it to a "
                               "parameter, not to 'in'", "source", fix=f"its control ports are: {', '.join(controls)}")
        return EdgeProblem("unknown-port", f"'{st.id}' has no control port {quote(source_port)}"
                           f"{did_you_mean(source_port, controls)}", "source",
                           fix=f"its control ports are: {', '.join(controls)}")
    param = tt.param(target_port)
    if output is None:
        if source_port in controls:
            value = f"the value '{param.title}'" if param is not None else quote(target_port)
            return EdgeProblem("unknown-port", f"'{source_port}' is a control port (what runs next); it can only lead "
                               f"into a node's 'in' port, not into {value}", "source",
                               fix="connect it to the 'in' port of the node that runs next")
        names = [o.name for o in st.outputs]
        return EdgeProblem("unknown-port", f"'{st.id}' has no data output {quote(source_port)}"
                           f"{did_you_mean(source_port, names)}", "source",
                           fix=f"its outputs are: {', '.join(names) or '(none)'}")
    if param is None:
        names = [p.name for p in tt.params]
        return EdgeProblem("unknown-param", f"'{tt.id}' has no parameter {quote(target_port)}"
                           f"{did_you_mean(target_port, names)}", "target",
                           fix=f"its parameters are: {', '.join(names) or '(none)'}")
    if not compatible(output.type, param.type):
        return EdgeProblem("type-mismatch", f"type mismatch: {source}.{source_port} gives {_title(output.type)} but "
                           f"'{param.name}' takes {_title(param.type)}", "target", param=param.name,
                           fix="connect an output of a matching type, or convert it with a Set variable node")
    return None


def _title(type_name: str) -> str:
    t = TYPES.get(type_name)
    return t.title if t is not None else type_name


def compile_flow(name: str, doc: FlowDoc, registry: Registry, bot_label: str) -> tuple[FlowPlan, list[Problem]]:
    """The plan of one flow, and the problems of its nodes and edges (see the module docs)."""
    problems: list[Problem] = []

    def add(code, message, **kw):
        problems.append(Problem(code, message, flow=name, **kw))

    fed: dict[str, set] = {}
    for e in doc.edges:
        if e.target_port != INPUT_PORT:
            fed.setdefault(e.target, set()).add(e.target_port)
    nodes: dict[str, CompiledNode] = {}
    checks: dict[str, NodeCheck] = {}
    start = None
    for nid, spec in doc.nodes.items():
        check = checks[nid] = check_node(spec, registry, name, frozenset(fed.get(nid, ())))
        problems += check.problems
        if check.type is None:
            continue
        cn = CompiledNode(spec, check.type, check, name, bot_label)
        if cn.scope and cn.timeout:
            add("timeout-on-scope", "a timeout cannot be set on a node that runs other nodes", node=nid,
                fix="set timeouts on the nodes inside it instead")
        nodes[nid] = cn
        if not check.type.has_input:
            start = nid
    used_ports: dict[tuple[str, str], list] = {}
    for e in doc.edges:
        missing = [n for n in (e.source, e.target) if n not in doc.nodes]
        if missing:
            add("dangling-edge", f"the edge refers to node {quote(missing[0])}, which does not exist"
                f"{did_you_mean(missing[0], doc.nodes)}", edge=str(e), fix="remove the edge or restore the node")
            continue
        src, dst = nodes.get(e.source), nodes.get(e.target)
        if src is None or dst is None:
            continue  # an unknown node type, already reported
        wrong = connection_problem(e.source, src.type, checks[e.source].params, e.source_port, e.target, dst.type,
                                   e.target_port)
        if wrong is not None:
            add(wrong.code, wrong.message, edge=str(e), node=e.source if wrong.at == "source" else e.target,
                param=wrong.param, fix=wrong.fix)
        elif e.target_port == INPUT_PORT:
            src.next[e.source_port] = e.target
            used_ports.setdefault((e.source, e.source_port), []).append(e.target)
        else:
            param = dst.type.param(e.target_port)
            dst.edges_in.append((param, e.source, e.source_port))
            if e.target_port in doc.nodes[e.target].params:
                add("fed-twice", f"'{param.name}' has a value and a data edge; the edge wins", edge=str(e),
                    node=e.target, param=param.name, severity="warning", fix="clear the value or remove the edge")
    for (source, port), targets in used_ports.items():
        if len(targets) > 1:
            add("fan-out", f"port '{port}' leads to {len(targets)} nodes ({', '.join(sorted(targets))}); "
                "a path runs one node after another", node=source, fix="chain the nodes one after the other")
    return FlowPlan(name, doc, nodes, start, checks), problems


def compile_bot(bot: BotDoc, registry: Registry) -> tuple[dict[str, FlowPlan], list[Problem]]:
    plans, problems = {}, []
    for name, flow in bot.flows().items():
        plans[name], found = compile_flow(name, flow, registry, bot.label)
        problems += found
    return plans, problems


__all__ = ["CompiledNode", "EdgeProblem", "FlowPlan", "NodeCheck", "check_node", "compile_bot", "compile_flow",
           "connection_problem"]
