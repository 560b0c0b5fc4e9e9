"""Editing commands of the main window: add, copy, cut, paste, duplicate, delete, select
all, sticky notes, automatic layout, subflows and screen-target capture. Each change is one
undoable command (``commands.py``)."""

from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QInputDialog

from botloom.runner.botfile.model import Edge, NodeSpec, Note
from botloom.runner.sdk.node import INPUT_PORT

from . import autolayout, clipboard, commands
from .canvas_items import snap


class EditingMixin:
    """Part of :class:`~botloom.app.main.MainWindow`: the Edit and Flow menus' work."""

    def _toggle_snap(self, on: bool) -> None:
        for scene in self.scenes.values():
            scene.snap_to_grid = on

    def add_node_at_center(self, type_id: str) -> str | None:
        """The palette's double-click or Enter: beside the selected node (connected to it when
        that is unambiguous: it has one free control exit and the new node an entry), else at
        the centre of the view; never on top of another node."""
        if self.view is None:
            return None
        from .canvas_items import HEADER, NODE_W

        flow = self.scene.flow
        selected = self.selected_nodes()
        anchor = selected[0] if len(selected) == 1 else None
        if anchor is None:
            center = self.view.mapToScene(self.view.viewport().rect().center())
            x, y = center.x() - NODE_W / 2, center.y() - HEADER / 2
        else:
            ax, ay = flow.position(anchor)
            x, y = ax + NODE_W + 72, ay
        x, y = self._free_spot(flow, x, y)
        nt = self.doc.registry.get(type_id)
        spec = NodeSpec(id=flow.new_id(nt.id), type=nt.id, version=nt.version)
        edges = []
        exit_port = self.free_exit(anchor) if anchor is not None and nt.has_input else None
        if exit_port is not None:
            edges.append(Edge(anchor, exit_port, spec.id, INPUT_PORT))
        self.doc.undo.push(commands.AddNodes(self.doc, self.flow_name, [(spec, (snap(x), snap(y)))], edges))
        self.scene.select_nodes([spec.id])
        self.view.ensureVisible(x, y, NODE_W, HEADER * 2)
        return spec.id

    def free_exit(self, node_id: str) -> str | None:
        """The node's one free control exit (not ``error``), or None when it has none or several:
        what a new node, or a recording, is connected to when that is unambiguous."""
        from .ports import CONTROL_OUT, node_ports

        flow = self.scene.flow
        used = {e.source_port for e in flow.edges() if e.source == node_id}
        free = [p.name for p in node_ports(flow, node_id, self.doc.registry)[1]
                if p.kind == CONTROL_OUT and p.name not in used and p.name != "error"]
        return free[0] if len(free) == 1 else None

    def _free_spot(self, flow, x: float, y: float) -> tuple[float, float]:
        """(x, y), moved down until no node's box is there."""
        from .canvas_items import NODE_W

        taken = [flow.position(n) for n in flow.specs()]
        for _ in range(50):
            if not any(abs(px - x) < NODE_W and abs(py - y) < 90 for px, py in taken):
                return x, y
            y += 110
        return x, y

    def selected_nodes(self) -> list[str]:
        return self.scene.selected_node_ids() if self.scene else []

    def copy(self) -> str | None:
        if self.scene is None or not self.selected_nodes():
            return None
        text = clipboard.copy_text(self.scene.flow, self.selected_nodes())
        QGuiApplication.clipboard().setText(text)
        self.statusBar().showMessage(f"Copied {len(self.selected_nodes())} node(s)", 3000)
        return text

    def cut(self) -> None:
        if self.copy():
            self.delete_selection()

    def paste(self, text: str | None = None, at: QPointF | None = None) -> list[str]:
        if self.scene is None:
            return []
        data = clipboard.parse(QGuiApplication.clipboard().text() if text is None else text)
        if data is None:
            self.statusBar().showMessage("The clipboard holds no Botloom nodes", 3000)
            return []
        nodes, edges = clipboard.paste_plan(self.scene.flow, data,
                                            at=(at.x(), at.y()) if at is not None else None)
        if not nodes:
            return []
        self.doc.undo.push(commands.AddNodes(self.doc, self.flow_name, nodes, edges,
                                             text=f"Paste {len(nodes)} node(s)"))
        ids = [s.id for s, _ in nodes]
        self.scene.select_nodes(ids)
        return ids

    def duplicate(self) -> list[str]:
        if self.scene is None or not self.selected_nodes():
            return []
        data = clipboard.parse(clipboard.copy_text(self.scene.flow, self.selected_nodes()))
        nodes, edges = clipboard.paste_plan(self.scene.flow, data)
        self.doc.undo.push(commands.AddNodes(self.doc, self.flow_name, nodes, edges,
                                             text=f"Duplicate {len(nodes)} node(s)"))
        ids = [s.id for s, _ in nodes]
        self.scene.select_nodes(ids)
        return ids

    def delete_selection(self) -> None:
        scene = self.scene
        if scene is None:
            return
        nodes = [n for n in scene.selected_node_ids()
                 if not (scene.flow.node(n).type == "core.start")]
        edges, notes = scene.selected_edges(), scene.selected_note_ids()
        if len(nodes) < len(scene.selected_node_ids()) and not (nodes or edges or notes):
            self.notify("info", "The start node cannot be deleted: every flow has exactly one.")
            return
        if nodes or edges or notes:
            self.doc.undo.push(commands.RemoveItems(self.doc, self.flow_name, nodes, edges, notes))

    def select_all(self) -> None:
        if self.scene is not None:
            for item in self.scene.items():
                if item.flags() & item.GraphicsItemFlag.ItemIsSelectable:
                    item.setSelected(True)

    def add_note(self, text: str | None = None) -> str | None:
        if self.scene is None:
            return None
        if text is None:
            text = self.ask_text("Sticky note", "Text of the note:", multiline=True)
            if not text:
                return None
        center = self.view.mapToScene(self.view.viewport().rect().center())
        x, y = self._free_spot(self.scene.flow, round(center.x() / 20) * 20, round(center.y() / 20) * 20)
        note = Note(id=self.doc.new_note_id(self.flow_name), text=text, x=x, y=y, width=220, height=100)
        self.doc.undo.push(commands.AddNote(self.doc, self.flow_name, note))
        return note.id

    def edit_note(self, flow: str, note_id: str) -> None:
        note = self.doc.note(flow, note_id)
        text = self.ask_text("Sticky note", "Text of the note:", note.text, multiline=True)
        if text is not None and text != note.text:
            self.doc.undo.push(commands.EditNote(self.doc, flow, note_id, text=text))

    def auto_layout(self) -> None:
        scene = self.scene
        if scene is None:
            return
        heights = {nid: item.height for nid, item in scene.nodes.items()}
        new = autolayout.layout(scene.flow, heights)
        moves = {nid: (tuple(scene.flow.position(nid)), pos) for nid, pos in new.items()
                 if tuple(scene.flow.position(nid)) != pos}
        notes = [(n.id, (n.x, n.y), (n.width, n.height)) for n in self.doc.flow(self.flow_name).notes]
        for nid, (old_pos, new_pos) in autolayout.place_notes(notes).items():  # in a row above the flow
            if old_pos != new_pos:
                moves[f"note:{nid}"] = (old_pos, new_pos)
        if moves:
            self.doc.undo.push(commands.MoveItems(self.doc, self.flow_name, moves, text="Arrange automatically"))
        self.view.fit_to_view()

    def add_subflow(self, name: str | None = None) -> str | None:
        if self.doc is None:
            return None
        name = name or self.ask_text("Add subflow", "Name of the subflow (letters, digits, _):")
        if not name:
            return None
        from botloom.runner.botfile.model import NAME

        if not NAME.match(name) or name == "main" or name in self.doc.bot.flows:
            self.notify("error", f"'{name}' cannot be a subflow's name: use letters, digits and _, starting with a "
                        "letter, and a name not used yet")
            return None
        self.doc.undo.push(commands.AddSubflow(self.doc, name))
        self.open_flow(name)
        return name

    def open_subflow_dialog(self) -> None:
        names = [n for n in self.doc.bot.flows if n != "main"] if self.doc else []
        if not names:
            self.notify("info", "This bot has no subflows yet (Flow → Add subflow).")
            return
        choice, ok = QInputDialog.getItem(self, "Open subflow", "Subflow:", names, 0, False)
        if ok:
            self.open_flow(choice)

    def _node_activated(self, flow: str, node_id: str) -> None:
        spec = self.doc.flow(flow).node(node_id)
        sub = spec.params.get("subflow")
        if spec.type == "core.call_subflow" and isinstance(sub, str) and sub in self.doc.bot.flows:
            self.open_flow(sub)

    def capture_target(self, param: str) -> None:
        """Capture…: the designer steps aside, the screen settles, a region dragged on the still
        becomes the node's target image (searched in the window it was cut from)."""
        from PySide6.QtGui import QPixmap

        from .capture import save_screen_target, wait_gone, window_at

        if self.doc.path is None and not self.save():
            return
        node_id, flow = self.inspector.node_id, self.inspector.flow_name
        picker = self.region_picker(QPixmap.fromImage(wait_gone(self)))
        try:
            ok = picker.exec() and picker.result_image is not None
        finally:
            self.show()
        if ok:
            r = picker.rect_
            window = window_at(r.center().x(), r.center().y())
            try:
                save_screen_target(self.doc, flow, node_id, param, picker.result_image, window)
            except (OSError, ValueError) as exc:
                self.notify("error", f"The target image could not be saved: {exc}")

    def pick_point(self, param: str) -> None:
        """Point…: the designer steps aside; a click on the still of the screen becomes a point
        target relative to the window under it."""
        from .capture import set_target, wait_gone

        node_id, flow = self.inspector.node_id, self.inspector.flow_name
        picker = self.point_picker(wait_gone(self))
        try:
            ok = picker.exec() and picker.target is not None
        finally:
            self.show()
        if ok:
            old = self.doc.flow(flow).node(node_id).params.get(param)
            value = dict(picker.target)
            if isinstance(old, dict) and old.get("fallbacks"):  # the fallbacks it had stay, after the new ones
                value["fallbacks"] = [*value.get("fallbacks", []),
                                      *[f for f in old["fallbacks"] if f not in value.get("fallbacks", [])]]
            set_target(self.doc, flow, node_id, param, value)

    # the pickers (tests drive them in place of the person)
    def region_picker(self, shot):
        from .capture import RegionPicker

        return RegionPicker(shot)

    def point_picker(self, still):
        from .capture import PointPicker

        return PointPicker(still)
