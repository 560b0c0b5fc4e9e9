"""The editable graph model of a bot, over networkx.

``Bot`` holds one ``Flow`` per flow (``main`` and subflows). A Flow keeps nodes and edges in
a ``networkx.MultiDiGraph``: graph nodes are node ids carrying their ``NodeSpec`` and canvas
position; graph edges are keyed by ``(source_port, target_port)``. The edit API is what the
designer's undoable commands call; ``validate()`` lists every problem at once.

This module imports networkx (~0.2 s); the run path does not need it except to validate a
bot it has not seen before (see ``botloom.runner.runtime``).
"""

from __future__ import annotations

import copy
import re
from typing import Any, Iterable

import networkx as nx

from .botfile.model import NODE_ID, BotDoc, Edge, FlowDoc, NodeSpec, Note, VarDecl
from .errors import BotloomError
from .sdk.node import INPUT_PORT


class EditError(BotloomError):
    exit_code = 2


class Flow:
    def __init__(self, doc: FlowDoc | None = None, name: str = "main"):
        doc = doc or FlowDoc()
        self.name = name
        self.description = doc.description
        self.inputs: dict[str, VarDecl] = dict(doc.inputs)
        self.outputs: dict[str, VarDecl] = dict(doc.outputs)
        self.variables: dict[str, VarDecl] = dict(doc.variables)
        self.notes: list[Note] = list(doc.notes)
        self.g = nx.MultiDiGraph()
        for nid, spec in doc.nodes.items():  # copies: edits never reach the document it came from
            self.g.add_node(nid, spec=copy.deepcopy(spec), pos=doc.positions.get(nid, (0.0, 0.0)))
        for e in doc.edges:
            # edges to missing nodes are kept (as dangling) so validate() can report them
            self.g.add_edge(e.source, e.target, key=(e.source_port, e.target_port))

    # ---------------------------------------------------------------- reading
    def __contains__(self, node_id: str) -> bool:
        return node_id in self.g and "spec" in self.g.nodes[node_id]

    def node(self, node_id: str) -> NodeSpec:
        if node_id not in self:
            raise EditError(f"there is no node '{node_id}' in flow '{self.name}'")
        return self.g.nodes[node_id]["spec"]

    def node_ids(self) -> list[str]:
        return sorted(n for n in self.g.nodes if "spec" in self.g.nodes[n])

    def specs(self) -> dict[str, NodeSpec]:
        return {nid: self.g.nodes[nid]["spec"] for nid in self.node_ids()}

    def edges(self) -> list[Edge]:
        return sorted(Edge(u, k[0], v, k[1]) for u, v, k in self.g.edges(keys=True))

    def position(self, node_id: str) -> tuple[float, float]:
        return self.g.nodes[node_id].get("pos", (0.0, 0.0))

    def control_graph(self) -> nx.DiGraph:
        """Control edges only (those entering a node's ``in`` port), between existing nodes."""
        cg = nx.DiGraph()
        cg.add_nodes_from(self.node_ids())
        for u, v, (sp, tp) in self.g.edges(keys=True):
            if tp == INPUT_PORT and u in self and v in self:
                cg.add_edge(u, v, port=sp)
        return cg

    # ---------------------------------------------------------------- editing
    def new_id(self, type_id: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_]", "_", type_id.rsplit(".", 1)[-1]) or "node"
        if base not in self.g:
            return base
        n = 2
        while f"{base}_{n}" in self.g:
            n += 1
        return f"{base}_{n}"

    def add_node(self, type_id: str, *, node_id: str | None = None, params: dict | None = None, title: str = "",
                 version: int = 1, position: tuple[float, float] = (0.0, 0.0), settings: dict | None = None) -> str:
        node_id = node_id or self.new_id(type_id)
        if not NODE_ID.match(node_id):
            raise EditError(f"'{node_id}' is not a valid node id",
                            fix="use letters, digits, _ and -, starting with a letter or _")
        if node_id in self.g:
            raise EditError(f"a node '{node_id}' already exists in flow '{self.name}'")
        spec = NodeSpec(id=node_id, type=type_id, version=version, title=title, params=dict(params or {}),
                        settings=dict(settings or {}))
        self.g.add_node(node_id, spec=spec, pos=tuple(position))
        return node_id

    def insert_node(self, spec: NodeSpec, position: tuple[float, float] = (0.0, 0.0)) -> None:
        """Put back a node exactly as it was (undo of a delete, paste)."""
        if spec.id in self.g:
            raise EditError(f"a node '{spec.id}' already exists in flow '{self.name}'")
        self.g.add_node(spec.id, spec=spec, pos=tuple(position))

    def remove_node(self, node_id: str) -> tuple[NodeSpec, tuple[float, float], list[Edge]]:
        """Remove a node and its edges; returns what is needed to put them back."""
        spec = self.node(node_id)
        pos = self.position(node_id)
        edges = [e for e in self.edges() if node_id in (e.source, e.target)]
        self.g.remove_node(node_id)
        return spec, pos, edges

    def set_param(self, node_id: str, name: str, value: Any) -> Any:
        """Set (or, with None, clear) a parameter; returns the previous value."""
        return _assign(self.node(node_id).params, name, value)

    def set_setting(self, node_id: str, name: str, value: Any) -> Any:
        """Set (or, with None, clear) a setting (timeout, retry, on_error); returns the previous value."""
        return _assign(self.node(node_id).settings, name, value)

    def move(self, node_id: str, x: float, y: float) -> tuple[float, float]:
        self.node(node_id)
        old = self.position(node_id)
        self.g.nodes[node_id]["pos"] = (x, y)
        return old

    def connect(self, source: str, source_port: str, target: str, target_port: str = INPUT_PORT) -> Edge:
        for nid in (source, target):
            self.node(nid)
        key = (source_port, target_port)
        if self.g.has_edge(source, target, key=key):
            raise EditError(f"{source}.{source_port} is already connected to {target}.{target_port}")
        self.g.add_edge(source, target, key=key)
        return Edge(source, source_port, target, target_port)

    def disconnect(self, edge: Edge) -> None:
        key = (edge.source_port, edge.target_port)
        if not self.g.has_edge(edge.source, edge.target, key=key):
            raise EditError(f"there is no edge {edge}")
        self.g.remove_edge(edge.source, edge.target, key=key)

    def to_doc(self) -> FlowDoc:
        specs = copy.deepcopy(self.specs())
        return FlowDoc(inputs=dict(self.inputs), outputs=dict(self.outputs), variables=dict(self.variables),
                       nodes=specs, edges=self.edges(),
                       positions={nid: self.position(nid) for nid in specs}, notes=list(self.notes),
                       description=self.description)


class Bot:
    """A bot being edited: its flows as graphs, plus its name and declarations."""

    def __init__(self, doc: BotDoc):
        self.name = doc.name
        self.description = doc.description
        self.version = doc.version
        self.requires = dict(doc.requires)  # the node packs it needs (bot file format 2)
        self.secrets = dict(doc.secrets)
        self.settings = {area: dict(block) for area, block in doc.settings.items()}
        self.extra = dict(doc.extra)
        self.source = doc.source
        self.flows: dict[str, Flow] = {name: Flow(f, name) for name, f in doc.flows().items()}

    @classmethod
    def new(cls, name: str) -> "Bot":
        bot = cls(BotDoc(name=name))
        bot.main.add_node("core.start", node_id="start")
        return bot

    @property
    def main(self) -> Flow:
        return self.flows["main"]

    def add_subflow(self, name: str) -> Flow:
        if name in self.flows:
            raise EditError(f"a flow '{name}' already exists")
        flow = self.flows[name] = Flow(None, name)
        flow.add_node("core.start", node_id="start")
        return flow

    def to_doc(self) -> BotDoc:
        return BotDoc(name=self.name, main=self.main.to_doc(),
                      subflows={n: f.to_doc() for n, f in self.flows.items() if n != "main"},
                      description=self.description, version=self.version, requires=self._requires(),
                      secrets=dict(self.secrets),
                      settings={area: dict(block) for area, block in self.settings.items()},
                      extra=dict(self.extra), source=self.source)

    def _requires(self) -> dict[str, str]:
        """What the bot declares, plus (with any version) the pack of a node type added since."""
        from .botfile.requires import infer

        used = infer(spec.type for flow in self.flows.values() for spec in flow.specs().values())
        return dict(sorted({**used, **self.requires}.items()))

    def validate(self, registry) -> list:
        from .validate import validate_bot

        return validate_bot(self, registry)


def _assign(mapping: dict, name: str, value: Any) -> Any:
    old = mapping.get(name)
    if value is None:
        mapping.pop(name, None)
    else:
        mapping[name] = value
    return old


def reachable(cg: nx.DiGraph, sources: Iterable[str], without: str | None = None) -> set[str]:
    """Nodes reachable from ``sources`` in the control graph, not passing through ``without``."""
    graph = cg if without is None else nx.restricted_view(cg, [without], [])
    seen: set[str] = set()
    for s in sources:
        if s in graph and s not in seen:
            seen |= nx.descendants(graph, s) | {s}
    return seen
