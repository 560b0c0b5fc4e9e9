"""The in-memory shape of a bot file: a main flow, subflows, declarations and layout.

Logic (nodes, edges, declarations) and canvas layout are kept apart, so moving a node on the
canvas changes only its line in ``layout``. Node ids are chosen once and never change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..sdk.params import MISSING

NODE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}\Z")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
SETTINGS = ("timeout", "retry", "on_error")
RETRY_KEYS = ("attempts", "delay", "backoff", "max_delay", "on")
ON_ERROR = ("fail", "continue")


@dataclass
class VarDecl:
    """A declared input, output or variable of a flow."""

    type: str = "any"
    default: Any = MISSING
    description: str = ""
    required: bool = False

    def to_json(self) -> dict:
        data: dict = {"type": self.type}
        if self.default is not MISSING:
            data["default"] = self.default
        if self.required:
            data["required"] = True
        if self.description:
            data["description"] = self.description
        return data


@dataclass
class NodeSpec:
    """One node as written in the file: its type, version and parameter values."""

    id: str
    type: str
    version: int = 1
    title: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    disabled: bool = False
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict:
        data: dict = {"type": self.type, "version": self.version}
        if self.title:
            data["title"] = self.title
        data["params"] = dict(sorted(self.params.items()))
        if self.settings:
            data["settings"] = dict(sorted(self.settings.items()))
        if self.disabled:
            data["disabled"] = True
        if self.notes:
            data["notes"] = self.notes
        data.update(sorted(self.extra.items()))
        return data


@dataclass(frozen=True, order=True)
class Edge:
    """A connection from ``source.source_port`` to ``target.target_port``.

    A control edge leaves a control port (``out``, ``true``, ``body``, ``error`` ...) and
    enters ``in``. A data edge leaves a data output and enters a parameter, whose value it
    then supplies.
    """

    source: str
    source_port: str
    target: str
    target_port: str = "in"

    def to_json(self) -> dict:
        return {"from": f"{self.source}.{self.source_port}", "to": f"{self.target}.{self.target_port}"}

    def __str__(self) -> str:
        return f"{self.source}.{self.source_port} -> {self.target}.{self.target_port}"


@dataclass
class Note:
    """A sticky note on the canvas (documentation only; never runs)."""

    id: str
    text: str
    x: float = 0
    y: float = 0
    width: float = 200
    height: float = 100

    def to_json(self) -> dict:
        return {"id": self.id, "text": self.text, "x": self.x, "y": self.y,
                "width": self.width, "height": self.height}


@dataclass
class FlowDoc:
    """A flow: the main flow of a bot, or one of its subflows."""

    inputs: dict[str, VarDecl] = field(default_factory=dict)
    outputs: dict[str, VarDecl] = field(default_factory=dict)
    variables: dict[str, VarDecl] = field(default_factory=dict)
    nodes: dict[str, NodeSpec] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    description: str = ""

    def logic_json(self) -> dict:
        data: dict = {}
        if self.description:
            data["description"] = self.description
        for key in ("inputs", "outputs", "variables"):
            decls = getattr(self, key)
            if decls:
                data[key] = {name: d.to_json() for name, d in sorted(decls.items())}
        data["nodes"] = {nid: n.to_json() for nid, n in sorted(self.nodes.items())}
        data["edges"] = [e.to_json() for e in sorted(set(self.edges))]
        return data

    def layout_json(self) -> dict:
        data: dict = {"nodes": {nid: [x, y] for nid, (x, y) in sorted(self.positions.items())}}
        if self.notes:
            data["notes"] = [n.to_json() for n in sorted(self.notes, key=lambda n: n.id)]
        return data


@dataclass
class BotDoc:
    """A whole bot file."""

    name: str
    main: FlowDoc = field(default_factory=FlowDoc)
    subflows: dict[str, FlowDoc] = field(default_factory=dict)
    description: str = ""
    version: str = ""
    requires: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    migrated_from: int | None = None

    def flows(self) -> dict[str, FlowDoc]:
        """Every flow by name; the main flow is called ``main``."""
        return {"main": self.main, **self.subflows}

    def flow(self, name: str) -> FlowDoc:
        return self.main if name == "main" else self.subflows[name]

    @property
    def label(self) -> str:
        return self.source or self.name
