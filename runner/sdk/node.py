"""Declaring a node type.

A node type is a plain function plus one declaration::

    @node("text.upper", title="Upper case", category="Text",
          params=[Param("text", "string", required=True)],
          outputs=[Output("result", "string")])
    def upper(ctx, text):
        return {"result": text.upper()}

The function receives a run context (``ctx``) and the node's parameter values, already
evaluated and converted to their declared types. It returns ``None``, a dict of outputs, or
``Next(port, outputs)`` to leave through a control port other than ``out``.

What running a node again costs is declared, not guessed: ``side_effects`` (it changes
something outside the run: a file, a web service, a submitted form), ``idempotent`` (doing it
twice is the same as once), ``uses_session`` (it reads or acts on the run's own resources, such
as a browser session and its pages, which end with the run's process) and ``session_effect``
(its effect lives in those resources only). A resumed run applies the recorded outcome of a
finished step instead of running it, so a step that uses the session is journalled as soon as
it finishes, like a side effect: it could not be worked out again once the page it read is gone.
A finished session-effect step is run again, for its effect only: the resources it set up are
gone with the old process, and the steps after it expect them (see ``engine/replay.py``).

Node types are grouped in a :class:`NodePack`, which a Python distribution announces through
the ``botloom.nodes`` entry-point group. The built-in library registers the same way.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .params import Output, Param, Requirement

TYPE_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")  # node type ids and capability names
TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")  # "module:attribute"
ERROR_PORT = "error"
INPUT_PORT = "in"


class Next:
    """Returned by a node to leave through ``port`` (and optionally give outputs)."""

    __slots__ = ("port", "outputs")

    def __init__(self, port: str, outputs: dict | None = None):
        self.port = port
        self.outputs = outputs


@dataclass(eq=False)
class NodeType:
    """Everything Botloom knows about a node type; built by the :func:`node` decorator."""

    id: str
    run: Callable[..., Any]
    version: int = 1
    title: str = ""
    category: str = "Other"
    description: str = ""
    icon: str = "node"
    params: tuple[Param, ...] = ()
    outputs: tuple[Output, ...] = ()
    ports: tuple[str, ...] = ("out",)
    body_ports: tuple[str, ...] = ()
    ports_from: str | None = None
    has_input: bool = True
    loop: bool = False
    runs_nodes: bool = False
    side_effects: bool = False
    idempotent: bool | Callable[[dict], bool] = True
    uses_session: bool = False
    session_effect: bool | Callable[[dict], bool] = False
    aliases: tuple[str, ...] = ()
    legacy_ids: tuple[str, ...] = ()
    migrations: dict[int, Callable[[dict], dict]] = field(default_factory=dict)
    requires: tuple[Requirement, ...] = ()
    preflight: Callable[["PreflightInfo"], None] | None = None
    prestart: Callable[["PreflightInfo"], None] | None = None  # `botloom run`: start what is slow to open, early
    lint: Callable[[dict, "LintInfo"], Iterable["Lint"]] | None = None
    pack: str = ""

    def __post_init__(self):
        if not TYPE_ID.match(self.id):
            raise ValueError(f"node type id '{self.id}' must look like 'pack.name' (lower case)")
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"node type '{self.id}': duplicate parameter names")
        overlap = set(self.ports) & set(self.body_ports)
        if overlap or ERROR_PORT in self.ports or ERROR_PORT in self.body_ports:
            raise ValueError(f"node type '{self.id}': port names clash ({overlap or ERROR_PORT})")
        self._by_name = {p.name: p for p in self.params}
        self._outputs = {o.name: o for o in self.outputs}
        if not self.title:
            self.title = self.id.split(".", 1)[1].replace("_", " ").capitalize()
        if self.side_effects is False:
            self.idempotent = True
        _check_signature(self)

    def __repr__(self) -> str:
        return f"<NodeType {self.id} v{self.version}>"

    def param(self, name: str) -> Param | None:
        return self._by_name.get(name)

    def output(self, name: str) -> Output | None:
        return self._outputs.get(name)

    @property
    def control_ports(self) -> tuple[str, ...]:
        """Every control output: the ordinary ports, the body ports and ``error``."""
        return self.ports + self.body_ports + (ERROR_PORT,)

    def ports_for(self, params: dict) -> tuple[str, ...]:
        """Control outputs of a node with these parameter values (``ports_from`` adds the
        values of a list parameter as ports, as a switch does with its cases)."""
        if self.ports_from is None:
            return self.control_ports
        extra = params.get(self.ports_from) or ()
        if not isinstance(extra, (list, tuple)):
            extra = ()  # not a list: validation says so; no ports come from it
        return tuple(str(v) for v in extra if isinstance(v, (str, int))) + self.control_ports

    @property
    def is_scope(self) -> bool:
        """Whether the node runs other nodes (loops, try, retry, subflow calls)."""
        return bool(self.body_ports) or self.runs_nodes

    @property
    def durable(self) -> bool:
        """Whether a step of this type is journalled before it acts and as soon as it finishes
        (not batched): it has side effects, or what it gives depends on the run's session."""
        return self.side_effects or self.uses_session or self.session_effect is not False

    def repeatable(self, params: dict) -> bool:
        """Whether running this node again with ``params`` is harmless (no side effects, or
        idempotent). ``idempotent`` may be a function of the parameter values: writing a CSV
        file is safe to repeat, appending to one is not. When in doubt: not repeatable."""
        return not self.side_effects or _holds(self.idempotent, params)

    def restores_session(self, params: dict) -> bool:
        """Whether a resumed run runs this node again to rebuild what it did to the run's own
        resources (``session_effect``, which may depend on the parameter values: filling a form
        only changes the page, filling and submitting it reaches the web site). When in doubt:
        not (the recorded outcome is applied and nothing is done twice)."""
        return _holds(self.session_effect, params)

    def missing_requirements(self) -> list[Requirement]:
        return [r for r in self.requires if not r.available()]

    def describe(self) -> dict:
        """A JSON description: the designer's palette and form, the CLI help and the docs."""
        return {
            "type": self.id,
            "version": self.version,
            "title": self.title,
            "category": self.category,
            "description": self.description,
            "icon": self.icon,
            "pack": self.pack,
            "aliases": list(self.aliases),
            "params": {p.name: p.ui_schema() for p in self.params},
            "required": [p.name for p in self.params if p.required],
            "outputs": {o.name: {"type": o.type, "description": o.description} for o in self.outputs},
            "ports": list(self.ports),
            "ports_from": self.ports_from,
            "body_ports": list(self.body_ports),
            "has_input": self.has_input,
            "loop": self.loop,
            "runs_nodes": self.runs_nodes,
            "side_effects": self.side_effects,
            "idempotent": self.idempotent if isinstance(self.idempotent, bool) else "depends on parameters",
            "uses_session": self.uses_session,
            "session_effect": (self.session_effect if isinstance(self.session_effect, bool)
                               else "depends on parameters"),
            "requires": [{"module": r.module, "install": r.install, "available": r.available()}
                         for r in self.requires],
        }


def _holds(flag: bool | Callable[[dict], bool], params: dict) -> bool:
    """A declared flag, or its function of the parameter values (False when that fails)."""
    if callable(flag):
        try:
            return bool(flag(params))
        except Exception:
            return False
    return bool(flag)


def _check_signature(nt: NodeType) -> None:
    sig = inspect.signature(nt.run)
    accepted = list(sig.parameters.values())[1:]
    if any(p.kind is p.VAR_KEYWORD for p in accepted):
        return
    names = {p.name for p in accepted}
    missing = [p.name for p in nt.params if p.name not in names]
    if missing:
        raise TypeError(f"node type '{nt.id}': function {nt.run.__name__}() does not accept "
                        f"parameter(s) {', '.join(missing)}")


def node(type_id: str, **declaration: Any) -> Callable[[Callable], NodeType]:
    """Declare a node type from a function; see the module docs and ``NodeType`` fields."""

    def wrap(fn: Callable) -> NodeType:
        decl = dict(declaration)
        for key in ("params", "outputs", "ports", "body_ports", "aliases", "legacy_ids", "requires"):
            if key in decl:
                decl[key] = tuple(decl[key])
        if "description" not in decl and fn.__doc__:
            decl["description"] = inspect.cleandoc(fn.__doc__)
        return NodeType(id=type_id, run=fn, **decl)

    return wrap


@dataclass
class PreflightInfo:
    """What a node type's ``preflight`` check sees before a run's first step.

    A preflight function is shared by the node types of an area (desktop, browser...) and runs
    once per run when the bot uses any of them: it raises a ``BotloomError`` when the machine
    cannot run those nodes (no display, no browser), so an unattended run fails before it has
    done anything, with a message that says what to fix."""

    bot: str
    settings: dict[str, dict[str, Any]]
    nodes: list[tuple[str, str, dict]]  # (flow, node id, static parameter values) of the types checked

    def area(self, name: str) -> dict[str, Any]:
        """The bot's ``settings`` block for one area (empty when the bot has none)."""
        return dict(self.settings.get(name) or {})


@dataclass
class Lint:
    """A problem a node type's ``lint`` check finds in one node's parameters before any run:
    a malformed target, an image file that does not exist, a point outside the declared screen.
    ``botloom validate`` and the designer's problems panel list it with the node and parameter."""

    message: str
    param: str | None = None
    fix: str | None = None
    severity: str = "error"  # or "warning"


@dataclass
class LintInfo:
    """What a ``lint`` check sees besides the node's parameters: the bot's folder (relative
    files start there; None for a bot not saved yet) and its ``settings`` blocks.

    The parameters a lint check is given are the written-out values only: a parameter that is
    an expression is left out (its value is known only at run time)."""

    bot_dir: Path | None
    settings: dict[str, dict[str, Any]]

    def area(self, name: str) -> dict[str, Any]:
        return dict(self.settings.get(name) or {})

    def path(self, value: str) -> Path:
        """A file parameter as a path: ``~`` expanded, relative to the bot's folder."""
        target = Path(value).expanduser()
        if not target.is_absolute() and self.bot_dir is not None:
            target = self.bot_dir / target
        return target


@dataclass
class NodePack:
    """A named, versioned set of node types, announced through an entry point.

    ``provides`` maps capability names to ``"module:attribute"`` targets: what the pack offers
    other packs at run time (see ``capabilities.py``); the targets are imported on first use."""

    name: str
    version: str
    nodes: list[NodeType]
    title: str = ""
    description: str = ""
    provides: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        for nt in self.nodes:
            nt.pack = self.name
        for name, target in self.provides.items():
            if not isinstance(name, str) or not TYPE_ID.match(name):
                raise ValueError(f"node pack '{self.name}': capability name {name!r} must look like "
                                 f"'pack.name' (lower case)")
            if not isinstance(target, str) or not TARGET.match(target):
                raise ValueError(f"node pack '{self.name}': capability '{name}' must name its provider as "
                                 f"'module:attribute', got {target!r}")

    @classmethod
    def from_modules(cls, name: str, version: str, modules: Iterable[Any], **kw: Any) -> "NodePack":
        """Collect every NodeType defined at the top level of the given modules."""
        found: list[NodeType] = []
        for module in modules:
            found += [v for v in vars(module).values() if isinstance(v, NodeType)]
        return cls(name=name, version=version, nodes=found, **kw)
