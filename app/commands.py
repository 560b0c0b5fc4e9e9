"""Undoable edits. Every change a person makes in the designer is one of these commands,
pushed on the document's ``QUndoStack``; the Edit menu names it ("Undo Add 'Log message'").

Commands call only the primitive edit methods of :class:`~botloom.app.document.Document`,
and keep what they need to put things back exactly as they were.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

from botloom.runner.botfile.model import Edge, NodeSpec, Note


def _name(doc, flow: str, node_id: str) -> str:
    try:
        spec = doc.flow(flow).node(node_id)
    except Exception:  # noqa: BLE001
        return node_id
    if spec.title:
        return spec.title
    try:
        return doc.registry.get(spec.type).title
    except Exception:  # noqa: BLE001
        return node_id


class _Command(QUndoCommand):
    def __init__(self, doc, text: str):
        super().__init__(text)
        self.doc = doc

    def _done(self) -> None:
        self.doc.changed.emit()


class _SetValue(_Command):
    """An edit that writes ``new`` and, undone, ``old``: subclasses set both and ``_apply``."""

    old: Any
    new: Any

    def _apply(self, value) -> None:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def redo(self) -> None:
        self._apply(self.new)
        self._done()

    def undo(self) -> None:
        self._apply(self.old)
        self._done()


class AddNodes(_Command):
    """Add nodes (from the palette, a paste or a duplicate), with edges among them."""

    def __init__(self, doc, flow: str, nodes: list[tuple[NodeSpec, tuple[float, float]]],
                 edges: list[Edge] = (), text: str | None = None):
        if text is None:
            text = f"Add '{_type_title(doc, nodes[0][0])}'" if len(nodes) == 1 else f"Add {len(nodes)} nodes"
        super().__init__(doc, text)
        self.flow, self.nodes, self.edges = flow, [(copy.deepcopy(s), tuple(p)) for s, p in nodes], list(edges)

    def redo(self) -> None:
        for spec, pos in self.nodes:
            self.doc.insert_node(self.flow, spec, pos)
        for e in self.edges:
            self.doc.connect(self.flow, e)
        self._done()

    def undo(self) -> None:
        for spec, _ in reversed(self.nodes):
            self.doc.remove_node(self.flow, spec.id)
        self._done()


def _type_title(doc, spec: NodeSpec) -> str:
    if spec.title:
        return spec.title
    try:
        return doc.registry.get(spec.type).title
    except Exception:  # noqa: BLE001
        return spec.type


class RemoveItems(_Command):
    """Delete nodes (with their edges), edges and sticky notes."""

    def __init__(self, doc, flow: str, node_ids: list[str], edges: list[Edge] = (), note_ids: list[str] = ()):
        edges = [e for e in edges if e.source not in node_ids and e.target not in node_ids]  # go with their nodes
        parts = []
        if len(node_ids) == 1:
            parts.append(f"'{_name(doc, flow, node_ids[0])}'")
        elif node_ids:
            parts.append(f"{len(node_ids)} nodes")
        if edges:
            parts.append("1 connection" if len(edges) == 1 else f"{len(edges)} connections")
        if note_ids:
            parts.append("1 note" if len(note_ids) == 1 else f"{len(note_ids)} notes")
        super().__init__(doc, "Delete " + " and ".join(parts))
        self.flow, self.node_ids, self.note_ids = flow, list(node_ids), list(note_ids)
        self.edges = edges
        self.removed: list = []
        self.removed_notes: list[Note] = []

    def redo(self) -> None:
        for e in self.edges:
            self.doc.disconnect(self.flow, e)
        self.removed = [self.doc.remove_node(self.flow, nid) for nid in self.node_ids]
        self.removed_notes = [self.doc.remove_note(self.flow, nid) for nid in self.note_ids]
        self._done()

    def undo(self) -> None:
        for spec, pos, _ in self.removed:
            self.doc.insert_node(self.flow, spec, pos)
        restored = set()
        for _, _, edges in self.removed:
            for e in edges:
                if e not in restored:
                    self.doc.connect(self.flow, e)
                    restored.add(e)
        for e in self.edges:
            self.doc.connect(self.flow, e)
        for note in self.removed_notes:
            self.doc.add_note(self.flow, note)
        self._done()


class MoveItems(_Command):
    """Move nodes and notes: ``moves`` maps a node id (or ``note:<id>``) to (old, new)."""

    def __init__(self, doc, flow: str, moves: dict[str, tuple[tuple, tuple]], text: str | None = None):
        if text is None:
            key = next(iter(moves))
            text = f"Move '{_name(doc, flow, key)}'" if len(moves) == 1 and not key.startswith("note:") else \
                ("Move note" if len(moves) == 1 else f"Move {len(moves)} items")
        super().__init__(doc, text)
        self.flow, self.moves = flow, dict(moves)

    def _apply(self, index: int) -> None:
        for key, pair in self.moves.items():
            pos = pair[index]
            if key.startswith("note:"):
                self.doc.update_note(self.flow, key[5:], x=pos[0], y=pos[1])
            else:
                self.doc.move(self.flow, key, pos)
        self._done()

    def redo(self) -> None:
        self._apply(1)

    def undo(self) -> None:
        self._apply(0)


class Connect(_Command):
    def __init__(self, doc, flow: str, edge: Edge):
        super().__init__(doc, f"Connect {edge.source}.{edge.source_port} to {edge.target}.{edge.target_port}")
        self.flow, self.edge = flow, edge

    def redo(self) -> None:
        self.doc.connect(self.flow, self.edge)
        self._done()

    def undo(self) -> None:
        self.doc.disconnect(self.flow, self.edge)
        self._done()


class SetParam(_SetValue):
    def __init__(self, doc, flow: str, node_id: str, name: str, value: Any, title: str | None = None):
        super().__init__(doc, f"Change '{title or name}' of '{_name(doc, flow, node_id)}'")
        self.flow, self.node_id, self.name = flow, node_id, name
        self.old = copy.deepcopy(doc.flow(flow).node(node_id).params.get(name))
        self.new = copy.deepcopy(value)

    def _apply(self, value) -> None:
        self.doc.set_param(self.flow, self.node_id, self.name, value)


class SetNodeField(_SetValue):
    """Title, disabled, notes, or one of the node's settings (``settings.timeout`` ...)."""

    LABELS = {"title": "title", "disabled": "enabled state", "notes": "notes", "settings.timeout": "timeout",
              "settings.retry": "retry", "settings.on_error": "error handling"}

    def __init__(self, doc, flow: str, node_id: str, field: str, value: Any):
        super().__init__(doc, f"Change {self.LABELS.get(field, field)} of '{_name(doc, flow, node_id)}'")
        self.flow, self.node_id, self.field = flow, node_id, field
        self.old = doc.node_field(flow, node_id, field)
        self.new = copy.deepcopy(value)

    def _apply(self, value) -> None:
        self.doc.set_field(self.flow, self.node_id, self.field, value)


class AddNote(_Command):
    def __init__(self, doc, flow: str, note: Note):
        super().__init__(doc, "Add sticky note")
        self.flow, self.note = flow, copy.deepcopy(note)

    def redo(self) -> None:
        self.doc.add_note(self.flow, self.note)
        self._done()

    def undo(self) -> None:
        self.doc.remove_note(self.flow, self.note.id)
        self._done()


class EditNote(_SetValue):
    def __init__(self, doc, flow: str, note_id: str, **values: Any):
        super().__init__(doc, "Edit sticky note" if "text" in values else "Resize sticky note")
        self.flow, self.note_id = flow, note_id
        note = doc.note(flow, note_id)
        self.old = {k: getattr(note, k) for k in values}
        self.new = dict(values)

    def _apply(self, value) -> None:
        self.doc.update_note(self.flow, self.note_id, **value)


class AddSubflow(_Command):
    def __init__(self, doc, name: str):
        super().__init__(doc, f"Add subflow '{name}'")
        self.name = name

    def redo(self) -> None:
        self.doc.add_flow(self.name)
        self._done()

    def undo(self) -> None:
        self.doc.remove_flow(self.name)
        self._done()


class SetBotProperties(_Command):
    """Change the bot's name, description, secrets, settings and the main flow's declarations
    (inputs, outputs, variables) in one undoable step."""

    BOT_KEYS = ("name", "description", "secrets", "settings")
    FLOW_KEYS = ("inputs", "outputs", "variables")

    def __init__(self, doc, new: dict[str, Any]):
        super().__init__(doc, "Change bot properties")
        self.new = copy.deepcopy(new)
        self.old = {k: copy.deepcopy(self._get(k)) for k in new}

    def _get(self, key: str):
        return getattr(self.doc.flow("main") if key in self.FLOW_KEYS else self.doc.bot, key)

    def _apply(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            target = self.doc.flow("main") if key in self.FLOW_KEYS else self.doc.bot
            setattr(target, key, copy.deepcopy(value))
        self._done()
        self.doc.pathChanged.emit()  # the window title shows an unsaved bot's name

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)
