"""One open bot: the runner's editable graph (``botloom.runner.graph.Bot``), its file, its undo
stack and the signals the canvas, inspector and problems panel follow.

Every change a person makes goes through a ``QUndoCommand`` (``commands.py``), and each command
calls the primitive edit methods below, which change the graph and announce what changed.
Views never change the graph themselves. Reading and saving use the runner's own reader and
canonical writer (``botloom.runner.botfile``), so the designer writes exactly what
``botloom`` writes.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from botloom.runner import botfile
from botloom.runner.botfile.model import BotDoc, Edge, NodeSpec, Note
from botloom.runner.problems import Problem
from botloom.runner.sdk.registry import Registry

if TYPE_CHECKING:
    from botloom.runner.graph import Bot, Flow


class Document(QObject):
    nodeAdded = Signal(str, str)          # flow, node id
    nodeRemoved = Signal(str, str)
    nodeMoved = Signal(str, str)
    nodeChanged = Signal(str, str)        # params, title, settings ...
    edgeAdded = Signal(str, object)       # flow, Edge
    edgeRemoved = Signal(str, object)
    notesChanged = Signal(str)
    flowsChanged = Signal()
    changed = Signal()                    # after any edit (debounced consumers: problems)
    pathChanged = Signal()
    problemsChanged = Signal()

    def __init__(self, bot: Bot, registry: Registry, path: str | os.PathLike | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.bot = bot
        self.registry = registry
        self.path: Path | None = Path(path).resolve() if path else None
        self.undo = QUndoStack(self)
        self.undo.cleanChanged.connect(self.pathChanged)
        # breakpoints (not saved in the file): node ids of the main flow, FLOW/NODE in subflows
        self.breakpoints: set[str] = set()
        self.force_dirty = False  # recovered or opened from a run: unsaved even with a clean undo stack
        self._problems: list[Problem] | None = None
        self._revalidate = QTimer(self, singleShot=True, interval=0)
        self._revalidate.timeout.connect(self._emit_problems)
        self.changed.connect(self._invalidate)

    # ------------------------------------------------------------ files
    @classmethod
    def open(cls, path: str | os.PathLike, registry: Registry, parent: QObject | None = None) -> "Document":
        """Read a bot file; raises ``BotFileError`` (never touching the file) when it cannot be read."""
        doc = botfile.load(path)
        return cls.from_doc(doc, registry, path, parent)

    @classmethod
    def from_doc(cls, doc: BotDoc, registry: Registry, path=None, parent=None) -> "Document":
        from botloom.runner.graph import Bot  # networkx: loaded once a bot is open, not at start

        return cls(Bot(doc), registry, path, parent)

    @classmethod
    def new(cls, registry: Registry, name: str = "new-bot", parent: QObject | None = None) -> "Document":
        from botloom.runner.graph import Bot

        return cls(Bot.new(name), registry, None, parent)

    def to_doc(self) -> BotDoc:
        doc = self.bot.to_doc()  # bot-wide settings included
        if self.path is not None:
            doc.source = str(self.path)
        return doc

    def text(self) -> str:
        return botfile.dumps(self.to_doc())

    def save(self, path: str | os.PathLike | None = None) -> Path:
        target = Path(path).resolve() if path else self.path
        if target is None:
            raise ValueError("the bot has no file yet; give a path")
        botfile.save(self.to_doc(), target)
        self.path = target
        self.bot.source = str(target)
        self.force_dirty = False
        self.undo.setClean()
        self.pathChanged.emit()
        return target

    @property
    def dirty(self) -> bool:
        return self.force_dirty or not self.undo.isClean()

    @property
    def title(self) -> str:
        return self.path.name if self.path else f"{self.bot.name} (not saved)"

    @property
    def folder(self) -> Path | None:
        return self.path.parent if self.path else None

    # ------------------------------------------------------------ reading
    def flow(self, name: str = "main") -> Flow:
        return self.bot.flows[name]

    def problems(self) -> list[Problem]:
        if self._problems is None:
            try:
                self._problems = self.bot.validate(self.registry)
            except Exception as exc:  # noqa: BLE001 - a validator bug must not take the editor down
                self._problems = [Problem("internal", f"the bot could not be checked: {exc}", severity="warning")]
        return self._problems

    def known_problems(self) -> list[Problem] | None:
        """The problems if they have been worked out since the last change, else None (no waiting)."""
        return self._problems

    def schedule_validation(self) -> None:
        """Work the problems out once the event loop is free (after the canvas is drawn)."""
        self._revalidate.start()

    def node_problems(self, flow: str, node_id: str) -> list[Problem]:
        return [p for p in self.problems() if p.flow == flow and p.node == node_id]

    def _invalidate(self) -> None:
        self._problems = None
        self._revalidate.start()

    def _emit_problems(self) -> None:
        self.problemsChanged.emit()

    # ------------------------------------------------------------ primitive edits (called by commands)
    def insert_node(self, flow: str, spec: NodeSpec, pos: tuple[float, float]) -> None:
        self.flow(flow).insert_node(copy.deepcopy(spec), (_num(pos[0]), _num(pos[1])))
        self._problems = None  # stale: views read them while handling the signal
        self.nodeAdded.emit(flow, spec.id)

    def remove_node(self, flow: str, node_id: str) -> tuple[NodeSpec, tuple[float, float], list[Edge]]:
        f = self.flow(flow)
        edges = [e for e in f.edges() if node_id in (e.source, e.target)]
        for e in edges:
            self.disconnect(flow, e)
        spec, pos, _ = f.remove_node(node_id)
        self._problems = None  # stale: views read them while handling the signal
        self.nodeRemoved.emit(flow, node_id)
        return spec, pos, edges

    def connect(self, flow: str, edge: Edge) -> None:
        self.flow(flow).connect(edge.source, edge.source_port, edge.target, edge.target_port)
        self._problems = None  # stale: views read them while handling the signal
        self.edgeAdded.emit(flow, edge)

    def disconnect(self, flow: str, edge: Edge) -> None:
        self.flow(flow).disconnect(edge)
        self._problems = None  # stale: views read them while handling the signal
        self.edgeRemoved.emit(flow, edge)

    def move(self, flow: str, node_id: str, pos: tuple[float, float]) -> None:
        self.flow(flow).move(node_id, _num(pos[0]), _num(pos[1]))
        self._problems = None  # stale: views read them while handling the signal
        self.nodeMoved.emit(flow, node_id)

    def set_param(self, flow: str, node_id: str, name: str, value: Any) -> None:
        self.flow(flow).set_param(node_id, name, copy.deepcopy(value))
        self._problems = None  # stale: views read them while handling the signal
        self.nodeChanged.emit(flow, node_id)

    def set_field(self, flow: str, node_id: str, field: str, value: Any) -> None:
        """``title``, ``disabled``, ``notes`` or ``settings.<name>`` of a node."""
        f = self.flow(flow)
        if field.startswith("settings."):
            f.set_setting(node_id, field.split(".", 1)[1], copy.deepcopy(value))
        else:
            setattr(f.node(node_id), field, value)
        self._problems = None  # stale: views read them while handling the signal
        self.nodeChanged.emit(flow, node_id)

    def node_field(self, flow: str, node_id: str, field: str) -> Any:
        spec = self.flow(flow).node(node_id)
        if field.startswith("settings."):
            return copy.deepcopy(spec.settings.get(field.split(".", 1)[1]))
        return getattr(spec, field)

    def add_note(self, flow: str, note: Note) -> None:
        self.flow(flow).notes.append(copy.deepcopy(note))
        self._problems = None  # stale: views read them while handling the signal
        self.notesChanged.emit(flow)

    def remove_note(self, flow: str, note_id: str) -> Note:
        notes = self.flow(flow).notes
        note = next(n for n in notes if n.id == note_id)
        notes.remove(note)
        self._problems = None  # stale: views read them while handling the signal
        self.notesChanged.emit(flow)
        return note

    def note(self, flow: str, note_id: str) -> Note:
        return next(n for n in self.flow(flow).notes if n.id == note_id)

    def update_note(self, flow: str, note_id: str, **values: Any) -> None:
        note = self.note(flow, note_id)
        for key, value in values.items():
            setattr(note, key, _num(value) if key in ("x", "y", "width", "height") else value)
        self._problems = None  # stale: views read them while handling the signal
        self.notesChanged.emit(flow)

    def new_note_id(self, flow: str) -> str:
        taken = {n.id for n in self.flow(flow).notes}
        n = 1
        while f"note{n}" in taken:
            n += 1
        return f"note{n}"

    def add_flow(self, name: str) -> None:
        self.bot.add_subflow(name)
        self._problems = None  # stale: views read them while handling the signal
        self.flowsChanged.emit()

    def remove_flow(self, name: str) -> Flow:
        flow = self.bot.flows.pop(name)
        self._problems = None  # stale: views read them while handling the signal
        self.flowsChanged.emit()
        return flow

    def restore_flow(self, flow: Flow) -> None:
        self.bot.flows[flow.name] = flow
        self._problems = None  # stale: views read them while handling the signal
        self.flowsChanged.emit()

    @staticmethod
    def breakpoint_key(flow: str, node_id: str) -> str:
        return node_id if flow == "main" else f"{flow}/{node_id}"

    def has_breakpoint(self, flow: str, node_id: str) -> bool:
        return self.breakpoint_key(flow, node_id) in self.breakpoints

    def toggle_breakpoint(self, node_id: str, flow: str = "main") -> bool:
        key = self.breakpoint_key(flow, node_id)
        on = key not in self.breakpoints
        (self.breakpoints.add if on else self.breakpoints.discard)(key)
        if flow in self.bot.flows and node_id in self.flow(flow):
            self.nodeChanged.emit(flow, node_id)
        return on

    def run_breakpoints(self) -> list[str]:
        """The breakpoints as the runner takes them (``botloom run --break FLOW/NODE``), for nodes
        that still exist."""
        out = []
        for key in sorted(self.breakpoints):
            flow, _, node_id = key.rpartition("/")
            flow = flow or "main"
            if flow in self.bot.flows and node_id in self.flow(flow):
                out.append(f"{flow}/{node_id}")
        return out


def _num(value: float) -> float | int:
    """Whole numbers as ints, so a canvas position is written ``[240, 0]``, not ``[240.0, 0.0]``."""
    value = float(value)
    return int(value) if value.is_integer() else round(value, 2)
