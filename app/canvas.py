"""The canvas: one ``FlowScene`` per flow (main or a subflow) and the ``FlowView`` showing it.

The items it shows (nodes, ports, edges, notes) are in ``canvas_items.py``. The scene mirrors
the document: it listens to the document's signals and never changes the graph itself; edits
the person makes (move, connect, drop from the palette) become undoable commands.
"""

from __future__ import annotations

import json
import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QGraphicsView

from botloom.runner.botfile.model import Edge, NodeSpec, Note

from . import commands, theme
from .canvas_items import GRID, HEADER, NODE_W, EdgeItem, NodeItem, NoteItem, PortItem, curve, snap
from .ports import check_connection

NODE_MIME = "application/x-botloom-node-type"


class FlowScene(QGraphicsScene):
    """The items of one flow, kept in step with the document."""

    connectionRefused = Signal(str)   # why a dropped connection was not made
    connectionHint = Signal(str)      # live: "" (fine) or the reason while dragging
    nodeActivated = Signal(str)       # double-click on a node
    noteActivated = Signal(str)

    def __init__(self, doc, flow_name: str = "main", parent=None):
        super().__init__(parent)
        self.doc = doc
        self.flow_name = flow_name
        self.colors = theme.colors()
        self.snap_to_grid = True
        self.nodes: dict[str, NodeItem] = {}
        self.edge_items: dict[Edge, EdgeItem] = {}
        self.notes: dict[str, NoteItem] = {}
        self._drag: tuple[PortItem, QGraphicsPathItem] | None = None
        self._hover: PortItem | None = None
        self.setItemIndexMethod(QGraphicsScene.NoIndex)
        self.setSceneRect(QRectF(-5000, -5000, 10000, 10000))
        doc.nodeAdded.connect(self._on_node_added)
        doc.nodeRemoved.connect(self._on_node_removed)
        doc.nodeMoved.connect(self._on_node_moved)
        doc.nodeChanged.connect(self._on_node_changed)
        doc.edgeAdded.connect(self._on_edge_added)
        doc.edgeRemoved.connect(self._on_edge_removed)
        doc.notesChanged.connect(self._on_notes_changed)
        doc.problemsChanged.connect(self._on_problems)
        self.rebuild()

    @property
    def flow(self):
        return self.doc.flow(self.flow_name)

    # ------------------------------------------------------------ building
    def rebuild(self) -> None:
        self.clear()
        self.nodes, self.edge_items, self.notes = {}, {}, {}
        flow = self.flow
        for nid in flow.node_ids():
            self._add_node_item(nid)
        for e in flow.edges():
            self._add_edge_item(e)
        for note in flow.notes:
            self._add_note_item(note)

    def _add_node_item(self, nid: str) -> NodeItem:
        item = NodeItem(self, nid)
        x, y = self.flow.position(nid)
        item.setPos(x, y)
        self.addItem(item)
        self.nodes[nid] = item
        return item

    def _add_edge_item(self, e: Edge) -> None:
        item = EdgeItem(self, e)
        self.addItem(item)
        self.edge_items[e] = item
        for nid in (e.source, e.target):
            if nid in self.nodes:
                self.nodes[nid].edges.append(item)

    def _add_note_item(self, note: Note) -> None:
        item = NoteItem(self, note)
        self.addItem(item)
        self.notes[note.id] = item

    # ------------------------------------------------------------ document signals
    def _mine(self, flow: str) -> bool:
        return flow == self.flow_name and self.flow_name in self.doc.bot.flows

    def _on_node_added(self, flow, nid) -> None:
        if self._mine(flow):
            self._add_node_item(nid)

    def _on_node_removed(self, flow, nid) -> None:
        if self._mine(flow) and nid in self.nodes:
            self.removeItem(self.nodes.pop(nid))

    def _on_node_moved(self, flow, nid) -> None:
        if self._mine(flow) and nid in self.nodes:
            x, y = self.flow.position(nid)
            item = self.nodes[nid]
            if (item.x(), item.y()) != (x, y):
                snap_was, self.snap_to_grid = self.snap_to_grid, False
                item.setPos(x, y)
                self.snap_to_grid = snap_was

    def _on_node_changed(self, flow, nid) -> None:
        if self._mine(flow) and nid in self.nodes:
            self.nodes[nid].refresh()

    def _on_edge_added(self, flow, e) -> None:
        if self._mine(flow):
            self._add_edge_item(e)
            for nid in (e.source, e.target):
                if nid in self.nodes:
                    self.nodes[nid].refresh()  # a placeholder node may gain a port

    def _on_edge_removed(self, flow, e) -> None:
        if self._mine(flow) and e in self.edge_items:
            item = self.edge_items.pop(e)
            for nid in (e.source, e.target):
                if nid in self.nodes and item in self.nodes[nid].edges:
                    self.nodes[nid].edges.remove(item)
            self.removeItem(item)

    def _on_notes_changed(self, flow) -> None:
        if not self._mine(flow):
            return
        current = {n.id: n for n in self.flow.notes}
        for nid in list(self.notes):
            if nid not in current:
                self.removeItem(self.notes.pop(nid))
        for nid, note in current.items():
            if nid in self.notes:
                self.notes[nid].refresh(note)
            else:
                self._add_note_item(note)

    def _on_problems(self) -> None:
        if self.flow_name not in self.doc.bot.flows:
            return
        first: dict = {}
        for p in self.doc.problems():
            if p.flow == self.flow_name and p.node and p.severity == "error":
                first.setdefault(p.node, p)
        for nid, item in self.nodes.items():
            new = first.get(nid)
            if (new is None) != (item.problem is None) or (new is not None and new.message != item.problem.message):
                item.set_problem(new)

    # ------------------------------------------------------------ selection
    def selected_node_ids(self) -> list[str]:
        return sorted(i.node_id for i in self.selectedItems() if isinstance(i, NodeItem))

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def selected_note_ids(self) -> list[str]:
        return sorted(i.note_id for i in self.selectedItems() if isinstance(i, NoteItem))

    def select_nodes(self, ids) -> None:
        self.clearSelection()
        for nid in ids:
            if nid in self.nodes:
                self.nodes[nid].setSelected(True)

    # ------------------------------------------------------------ moving (one undoable command per drag)
    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        self.commit_moves()

    def commit_moves(self) -> None:
        moves = {}
        for nid, item in self.nodes.items():
            old = self.flow.position(nid)
            new = (item.x(), item.y())
            if (float(old[0]), float(old[1])) != new:
                moves[nid] = (tuple(old), new)
        for note in self.flow.notes:
            item = self.notes.get(note.id)
            if item is not None and (note.x, note.y) != (item.x(), item.y()):
                moves["note:" + note.id] = ((note.x, note.y), (item.x(), item.y()))
        if moves:
            self.doc.undo.push(commands.MoveItems(self.doc, self.flow_name, moves))

    # ------------------------------------------------------------ connecting by dragging
    def begin_connect(self, port: PortItem, pos: QPointF) -> None:
        line = QGraphicsPathItem()
        line.setPen(QPen(self.colors.selection, 2, Qt.DashLine))
        line.setZValue(10)
        self.addItem(line)
        self._drag = (port, line)
        self.update_connect(pos)

    def _port_at(self, pos: QPointF) -> PortItem | None:
        for item in self.items(pos, Qt.IntersectsItemShape, Qt.DescendingOrder):
            if isinstance(item, PortItem):
                return item
        # forgiving: the nearest port within 12 px
        best, dist = None, 12.0
        for item in self.items(QRectF(pos.x() - 12, pos.y() - 12, 24, 24)):
            if isinstance(item, PortItem):
                d = math.dist((item.scenePos().x(), item.scenePos().y()), (pos.x(), pos.y()))
                if d < dist:
                    best, dist = item, d
        return best

    def _edge_for(self, a: PortItem, b: PortItem) -> tuple[Edge | None, str | None]:
        if a.port.is_input == b.port.is_input:
            side = "inputs" if a.port.is_input else "outputs"
            return None, f"both ends are {side}; drag from an output (right side) to an input (left side)"
        src, dst = (b, a) if a.port.is_input else (a, b)
        edge = Edge(src.node.node_id, src.port.name, dst.node.node_id, dst.port.name)
        reason = check_connection(self.flow, self.doc.registry, edge.source, edge.source_port, edge.target,
                                  edge.target_port)
        return (None, reason) if reason else (edge, None)

    def update_connect(self, pos: QPointF) -> None:
        if self._drag is None:
            return
        port, line = self._drag
        start = port.scenePos()
        line.setPath(curve(pos, start) if port.port.is_input else curve(start, pos))
        target = self._port_at(pos)
        if self._hover is not None and self._hover is not target:
            self._hover.hint = None
            self._hover.update()
        self._hover = None
        if target is not None and target is not port:
            _, reason = self._edge_for(port, target)
            target.hint = "bad" if reason else "ok"
            target.update()
            self._hover = target
            self.connectionHint.emit(reason or "")
            line.setPen(QPen(self.colors.error if reason else self.colors.ok, 2, Qt.DashLine))
        else:
            line.setPen(QPen(self.colors.selection, 2, Qt.DashLine))

    def end_connect(self, pos: QPointF) -> str | None:
        """Finish a drag: connect (an undoable command) or say why not. Returns the reason."""
        if self._drag is None:
            return None
        port, line = self._drag
        self._drag = None
        self.removeItem(line)
        if self._hover is not None:
            self._hover.hint = None
            self._hover.update()
            self._hover = None
        target = self._port_at(pos)
        if target is None or target is port:
            return None
        return self.connect_ports(port, target)

    def connect_ports(self, a: PortItem, b: PortItem) -> str | None:
        edge, reason = self._edge_for(a, b)
        if reason:
            self.connectionRefused.emit(reason)
            return reason
        self.doc.undo.push(commands.Connect(self.doc, self.flow_name, edge))
        return None

    # ------------------------------------------------------------ run state
    def set_node_state(self, nid: str, state: str | None, duration: float | None = None,
                       current: bool = False) -> None:
        if nid in self.nodes:
            self.nodes[nid].set_state(state, duration, current)

    def clear_states(self) -> None:
        for item in self.nodes.values():
            item.set_state(None)
            item.set_run_error(None)

    # ------------------------------------------------------------ background
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, self.colors.background)
        scale = painter.worldTransform().m11()
        step = GRID if scale > 0.6 else GRID * 5
        left, top = math.floor(rect.left() / step) * step, math.floor(rect.top() / step) * step
        lines, major = [], []
        x = left
        from PySide6.QtCore import QLineF

        while x < rect.right():
            (major if round(x / step) % 5 == 0 else lines).append(QLineF(x, rect.top(), x, rect.bottom()))
            x += step
        y = top
        while y < rect.bottom():
            (major if round(y / step) % 5 == 0 else lines).append(QLineF(rect.left(), y, rect.right(), y))
            y += step
        painter.setPen(QPen(self.colors.grid, 0))
        painter.drawLines(lines)
        painter.setPen(QPen(self.colors.grid_major, 0))
        painter.drawLines(major)


class FlowView(QGraphicsView):
    """Zoom (Ctrl+wheel or pinch), pan (middle button, or Space+drag), rubber-band selection,
    drops from the palette."""

    nodeDropped = Signal(str, QPointF)  # type id, scene position

    def __init__(self, scene: FlowScene, parent=None):
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
        self.setDragMode(QGraphicsView.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.SmartViewportUpdate)
        self.setAcceptDrops(True)
        self._pan: QPointF | None = None
        self._space = False

    @property
    def flow_scene(self) -> FlowScene:
        return self.scene()

    # ------------------------------------------------------------ zoom and pan
    def zoom(self, factor: float) -> None:
        current = self.transform().m11()
        factor = max(0.1 / current, min(factor, 3.0 / current))
        self.scale(factor, factor)

    def zoom_level(self) -> float:
        return self.transform().m11()

    def reset_zoom(self) -> None:
        self.resetTransform()

    MIN_FIT_ZOOM = 0.6  # below this node titles cannot be read: fit stops here and scrolls

    def fit_to_view(self) -> None:
        """Show the whole flow, between 60 % (labels stay readable: a larger flow is shown from
        its start, with scroll bars) and 150 %."""
        rect = self.flow_scene.itemsBoundingRect()
        if rect.isEmpty():
            return
        self.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.KeepAspectRatio)
        zoom = self.zoom_level()
        if zoom > 1.5 or zoom < self.MIN_FIT_ZOOM:
            target = 1.5 if zoom > 1.5 else self.MIN_FIT_ZOOM
            self.resetTransform()
            self.scale(target, target)
            if target == 1.5:
                self.centerOn(rect.center())
            else:  # the flow's left edge at the view's left, its start node in view
                visible = self.mapToScene(self.viewport().rect()).boundingRect()
                start = self.flow_scene.nodes.get("start")
                y = rect.center().y()
                if rect.height() + 80 > visible.height():
                    y = start.sceneBoundingRect().center().y() if start else rect.top() - 40 + visible.height() / 2
                self.centerOn(rect.left() - 40 + visible.width() / 2, y)

    def wheelEvent(self, event) -> None:
        if event.modifiers() & Qt.ControlModifier:
            self.zoom(1.15 if event.angleDelta().y() > 0 else 1 / 1.15)
            event.accept()
        else:
            super().wheelEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.setDragMode(QGraphicsView.ScrollHandDrag)
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.setDragMode(QGraphicsView.RubberBandDrag)
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MiddleButton:
            self._pan = event.position()
            self.setCursor(Qt.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._pan is not None:
            delta = event.position() - self._pan
            self._pan = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MiddleButton and self._pan is not None:
            self._pan = None
            self.unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    # ------------------------------------------------------------ drops from the palette
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(NODE_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasFormat(NODE_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        mime = event.mimeData()
        if not mime.hasFormat(NODE_MIME):
            return super().dropEvent(event)
        type_id = bytes(mime.data(NODE_MIME)).decode()
        self.drop_node(type_id, self.mapToScene(event.position().toPoint()))
        event.acceptProposedAction()

    def drop_node(self, type_id: str, scene_pos: QPointF) -> str:
        """Add a node of ``type_id`` centred near ``scene_pos`` (the palette's drop); returns its id."""
        scene = self.flow_scene
        doc = scene.doc
        flow = scene.flow
        nt = doc.registry.get(type_id)
        spec = NodeSpec(id=flow.new_id(nt.id), type=nt.id, version=nt.version)
        pos = (snap(scene_pos.x() - NODE_W / 2), snap(scene_pos.y() - HEADER / 2))
        doc.undo.push(commands.AddNodes(doc, scene.flow_name, [(spec, pos)]))
        scene.select_nodes([spec.id])
        self.nodeDropped.emit(spec.id, scene_pos)
        return spec.id


def node_mime(type_id: str):
    from PySide6.QtCore import QMimeData

    mime = QMimeData()
    mime.setData(NODE_MIME, type_id.encode())
    mime.setText(json.dumps({"botloom-node-type": type_id}))
    return mime
