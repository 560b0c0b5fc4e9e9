"""The palette: every installed node type, by category, read from the registry (a pack
installed later shows up without any change here). Search matches the title, id, aliases and
description; the tooltip shows the node's docs. Drag a node onto the canvas, or double-click
(Enter) to add it in the middle of the view."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from botloom.runner.sdk.node import NodeType
from botloom.runner.sdk.registry import Registry

from . import theme
from .canvas import node_mime

TYPE_ROLE = Qt.UserRole + 1


def tooltip(nt: NodeType) -> str:
    parts = [f"<b>{html.escape(nt.title)}</b> <code>{nt.id}</code>"]
    if nt.description:
        parts.append(html.escape(nt.description).replace("\n\n", "<br><br>"))
    if nt.params:
        rows = "".join(f"<li><b>{html.escape(p.title)}</b> ({p.type}{', required' if p.required else ''})"
                       f"{': ' + html.escape(p.description) if p.description else ''}</li>" for p in nt.params)
        parts.append(f"Parameters:<ul>{rows}</ul>")
    if nt.outputs:
        parts.append("Outputs: " + ", ".join(f"<code>{o.name}</code> ({o.type})" for o in nt.outputs))
    if nt.aliases:
        parts.append("Also known as: " + ", ".join(nt.aliases))
    missing = nt.missing_requirements()
    if missing:
        parts.append("<span style='color:#e5484d'>Needs: " + "; ".join(r.install for r in missing) + "</span>")
    return "<br>".join(parts)


def matches(nt: NodeType, needle: str) -> bool:
    needle = needle.strip().lower()
    if not needle:
        return True
    return (needle in nt.id or needle in nt.title.lower() or needle in nt.description.lower()
            or any(needle in a.lower() for a in nt.aliases))


class PaletteTree(QTreeWidget):
    def mimeData(self, items):
        type_id = items[0].data(0, TYPE_ROLE) if items else None
        return node_mime(type_id) if type_id else None

    def mimeTypes(self):
        from .canvas import NODE_MIME

        return [NODE_MIME]


class Palette(QWidget):
    activated = Signal(str)  # a node type to add

    def __init__(self, registry: Registry, parent=None):
        super().__init__(parent)
        self.registry = registry
        self.search = QLineEdit(placeholderText="Search nodes (name, alias, description)")
        self.search.setClearButtonEnabled(True)
        self.tree = PaletteTree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QTreeWidget.DragOnly)
        self.tree.setIndentation(12)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._activate_first)
        self.tree.itemActivated.connect(self._on_activated)
        self.reload()

    def reload(self) -> None:
        """Re-read the registry (after a pack was installed)."""
        self.tree.clear()
        self.items: dict[str, QTreeWidgetItem] = {}
        cats: dict[str, QTreeWidgetItem] = {}
        for nt in sorted(self.registry.latest(), key=lambda n: (n.category.lower(), n.title.lower())):
            if nt.id == "core.start":
                continue  # every flow has exactly one; it is created with the flow
            cat = cats.get(nt.category)
            if cat is None:
                cat = cats[nt.category] = QTreeWidgetItem([nt.category])
                cat.setIcon(0, theme.category_icon(nt.category))
                cat.setFlags(Qt.ItemIsEnabled)
                self.tree.addTopLevelItem(cat)
            item = QTreeWidgetItem([nt.title])
            item.setData(0, TYPE_ROLE, nt.id)
            item.setToolTip(0, tooltip(nt))
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled)
            cat.addChild(item)
            self.items[nt.id] = item
        self.tree.expandAll()
        self.filter(self.search.text())

    def filter(self, text: str) -> None:
        for i in range(self.tree.topLevelItemCount()):
            cat = self.tree.topLevelItem(i)
            any_shown = False
            for j in range(cat.childCount()):
                item = cat.child(j)
                shown = matches(self.registry.get(item.data(0, TYPE_ROLE)), text)
                item.setHidden(not shown)
                any_shown |= shown
            cat.setHidden(not any_shown)

    def visible_types(self) -> list[str]:
        return [tid for tid, item in self.items.items() if not item.isHidden() and not item.parent().isHidden()]

    def _on_activated(self, item, _column=0) -> None:
        type_id = item.data(0, TYPE_ROLE)
        if type_id:
            self.activated.emit(type_id)

    def _activate_first(self) -> None:
        shown = self.visible_types()
        if shown:
            self.activated.emit(shown[0])
