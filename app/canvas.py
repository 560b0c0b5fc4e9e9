"""The canvas: one ``FlowScene`` per flow (main or a subflow) and the ``FlowView`` showing it.

Items: ``NodeItem`` (title, category colour and icon, ports, status badge, breakpoint dot),
``PortItem``, ``EdgeItem`` (a curve; data edges dashed), ``NoteItem`` (sticky notes). The
scene mirrors the document: it listens to the document's signals and never changes the graph
itself; edits the person makes (move, connect, drop from the palette) become undoable
commands.

Text is drawn in ``paint()`` rather than with ``QGraphicsTextItem`` children (cheaper for big
bots, and free of the child-lifetime pitfall of PySide6).
"""

from __future__ import annotations

import json
import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (QGraphicsItem, QGraphicsPathItem, QGraphicsScene, QGraphicsView,
                               QStyleOptionGraphicsItem)

from botloom.runner.botfile.model import Edge, NodeSpec, Note

from . import commands, theme
from .ports import Port, check_connection, node_ports, node_type

NODE_MIME = "application/x-botloom-node-type"
GRID = 20
NODE_W = 168
HEADER = 34
ROW = 18
PORT_R = 5
LOD_PORTS = 0.35   # below this zoom, ports and port labels are not drawn
LOD_TEXT = 0.2     # below this zoom, only the node's box, colour and title band are drawn


def snap(value: float) -> float:
    return round(value / GRID) * GRID


class PortItem(QGraphicsItem):
    def __init__(self, node: "NodeItem", port: Port, x: float, y: float):
        super().__init__(node)
        self.node = node
        self.port = port
        self.setPos(x, y)
        self.setAcceptHoverEvents(True)
        kind = "control" if port.is_control else f"value ({port.type})"
        self.setToolTip(f"{port.label}: {kind}")
        self.hint: str | None = None  # "ok" / "bad" while a connection is dragged over it

    def boundingRect(self) -> QRectF:
        return QRectF(-PORT_R - 3, -PORT_R - 3, 2 * PORT_R + 6, 2 * PORT_R + 6)

    def hoverEnterEvent(self, event) -> None:
        self.setCursor(Qt.CrossCursor)

    def hoverLeaveEvent(self, event) -> None:
        self.unsetCursor()

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform()) < LOD_PORTS:
            return  # too small to aim at: the node's body is drawn, its ports are not
        c = self.node._scene.colors
        fill = c.edge if self.port.is_control else c.data_edge
        if self.hint == "ok":
            fill = c.ok
        elif self.hint == "bad":
            fill = c.error
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(QPen(c.node, 1.5))
        painter.setBrush(fill)
        if self.port.is_control:
            painter.drawRect(QRectF(-PORT_R, -PORT_R, 2 * PORT_R, 2 * PORT_R))
        else:
            painter.drawEllipse(QPointF(0, 0), PORT_R, PORT_R)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.LeftButton and self.scene() is not None:
            self.scene().begin_connect(self, event.scenePos())
            event.accept()
        else:
            event.ignore()

    def mouseMoveEvent(self, event) -> None:
        if self.scene() is not None:
            self.scene().update_connect(event.scenePos())

    def mouseReleaseEvent(self, event) -> None:
        if self.scene() is not None:
            self.scene().end_connect(event.scenePos())


class NodeItem(QGraphicsItem):
    def __init__(self, scene: "FlowScene", node_id: str):
        super().__init__()
        self.node_id = node_id
        self.edges: list[EdgeItem] = []
        self.ports: dict[tuple[str, str], PortItem] = {}  # ("in"/"out", port name)
        self.state: str | None = None
        self.duration: float | None = None
        self.current = False  # the node the run is at
        self.setFlags(QGraphicsItem.ItemIsMovable | QGraphicsItem.ItemIsSelectable
                      | QGraphicsItem.ItemSendsGeometryChanges)
        self._scene = scene
        self.refresh(rebuild_ports=True)

    # ------------------------------------------------------------ contents
    def refresh(self, rebuild_ports: bool = False) -> None:
        scene, flow = self._scene, self._scene.flow
        spec: NodeSpec = flow.node(self.node_id)
        nt = node_type(scene.doc.registry, spec.type, spec.version)
        self.spec, self.nt = spec, nt
        self.category = nt.category if nt else None
        self.title = spec.title or (nt.title if nt else spec.type)
        self.missing = nt is None
        self.subtitle = f"missing pack: {spec.type}" if nt is None else spec.type
        known = scene.doc.known_problems()  # never wait for validation here: it runs after drawing
        self.problem = None if known is None else next(
            (p for p in known if p.flow == flow.name and p.node == self.node_id and p.severity == "error"), None)
        ins, outs = node_ports(flow, self.node_id, scene.doc.registry)
        key = ([(p.name, p.kind, p.type) for p in ins], [(p.name, p.kind, p.type) for p in outs])
        if rebuild_ports or key != getattr(self, "_port_key", None):
            self._port_key = key
            self.prepareGeometryChange()
            for item in self.ports.values():
                item.setParentItem(None)
                if item.scene() is not None:
                    item.scene().removeItem(item)
            self.ports = {}
            for i, p in enumerate(ins):
                self.ports[("in", p.name)] = PortItem(self, p, 0, HEADER + ROW * i + ROW / 2)
            for i, p in enumerate(outs):
                self.ports[("out", p.name)] = PortItem(self, p, NODE_W, HEADER + ROW * i + ROW / 2)
            self.height = HEADER + ROW * max(len(ins), len(outs), 1) + 6
            self.ins, self.outs = ins, outs
            for e in list(self.edges):
                e.reattach()
        tip = [f"<b>{self.title}</b> ({spec.type})", f"id: {self.node_id}"]
        if nt is not None and nt.description:
            tip.append(nt.description.split("\n")[0])
        if nt is None:
            tip.append("The node pack that provides this type is not installed. The node and its parameters "
                       "are kept as they are.")
        self._tip = tip
        self.set_problem(self.problem)
        self.setOpacity(0.5 if spec.disabled else 1.0)
        self.update()

    def set_problem(self, problem) -> None:
        self.problem = problem
        tip = list(self._tip)
        if problem is not None:
            tip.append(f"<span style='color:#e5484d'>{problem.message}</span>")
        self.setToolTip("<br>".join(tip))
        self.update()

    def port(self, side: str, name: str) -> PortItem | None:
        return self.ports.get((side, name))

    def set_state(self, state: str | None, duration: float | None = None, current: bool = False) -> None:
        self.state, self.duration, self.current = state, duration, current
        self.update()

    # ------------------------------------------------------------ drawing
    def boundingRect(self) -> QRectF:
        return QRectF(-8, -10, NODE_W + 16, self.height + 30)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, NODE_W, self.height), 8, 8)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        c = self._scene.colors
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        painter.setRenderHint(QPainter.Antialiasing, lod >= LOD_PORTS)
        body = QRectF(0, 0, NODE_W, self.height)
        border = c.node_border
        width = 1.2
        if self.problem is not None:
            border, width = c.error, 1.6
        if self.current:
            border, width = QColor(theme.STATE_COLORS["running"]), 3
        if self.isSelected():
            border, width = c.selection, 2.5
        pen = QPen(border, width)
        if self.missing:
            pen.setStyle(Qt.DashLine)
        painter.setPen(pen)
        painter.setBrush(c.node)
        painter.drawRoundedRect(body, 8, 8)
        # header band in the category colour
        color = QColor("#8b8d98") if self.missing else theme.category_color(self.category)
        header = QPainterPath()
        header.addRoundedRect(QRectF(0, 0, NODE_W, HEADER), 8, 8)
        header.addRect(QRectF(0, HEADER - 8, NODE_W, 8))
        painter.fillPath(header.simplified(), color)
        if lod < LOD_TEXT:
            self._paint_badges(painter, c, text=False)
            return
        painter.drawPixmap(8, 9, theme.category_pixmap("missing" if self.missing else self.category, 16))
        painter.setPen(QColor("#ffffff"))
        font = QFont(painter.font())
        font.setPointSizeF(9)
        font.setBold(True)
        painter.setFont(font)
        fm = QFontMetricsF(font)
        painter.drawText(QRectF(30, 2, NODE_W - 52, 18), Qt.AlignVCenter | Qt.AlignLeft,
                         fm.elidedText(self.title, Qt.ElideRight, NODE_W - 52))
        font.setBold(False)
        font.setPointSizeF(7)
        painter.setFont(font)
        fm = QFontMetricsF(font)
        painter.setPen(QColor(255, 255, 255, 200))
        painter.drawText(QRectF(30, 17, NODE_W - 40, 14), Qt.AlignVCenter | Qt.AlignLeft,
                         fm.elidedText(f"{self.node_id} · {self.subtitle}", Qt.ElideRight, NODE_W - 40))
        if lod < LOD_PORTS:
            self._paint_badges(painter, c, text=True)
            return
        # port labels
        font.setPointSizeF(7.5)
        painter.setFont(font)
        for i, p in enumerate(self.ins):
            painter.setPen(c.text if p.is_control or p.name in self.spec.params else c.muted)
            label = p.label + ("" if p.is_control or p.name not in self.spec.params else " •")
            painter.drawText(QRectF(10, HEADER + ROW * i, NODE_W / 2 - 12, ROW), Qt.AlignVCenter | Qt.AlignLeft,
                             fm.elidedText(label, Qt.ElideRight, NODE_W / 2 - 12))
        for i, p in enumerate(self.outs):
            painter.setPen(c.text if p.is_control else c.data_edge)
            painter.drawText(QRectF(NODE_W / 2, HEADER + ROW * i, NODE_W / 2 - 10, ROW),
                             Qt.AlignVCenter | Qt.AlignRight, p.label)
        self._paint_badges(painter, c, text=True)

    def _paint_badges(self, painter: QPainter, c, text: bool) -> None:
        """The run state (a dot, and the state and duration under the node) and the breakpoint."""
        if self.state:
            sc = QColor(theme.STATE_COLORS.get(self.state, "#8b8d98"))
            painter.setPen(QPen(QColor("#ffffff"), 1.5))
            painter.setBrush(sc)
            painter.drawEllipse(QPointF(NODE_W - 12, HEADER / 2), 7, 7)
            if text:
                label = self.state if self.duration is None else f"{self.state} · {_ms(self.duration)}"
                painter.setPen(sc)
                painter.drawText(QRectF(0, self.height + 2, NODE_W, 16), Qt.AlignLeft | Qt.AlignVCenter, label)
        if self._scene.doc.has_breakpoint(self._scene.flow.name, self.node_id):
            painter.setPen(QPen(QColor("#ffffff"), 1.5))
            painter.setBrush(QColor("#e5484d"))
            painter.drawEllipse(QPointF(0, 0), 7, 7)

    # ------------------------------------------------------------ moving
    def itemChange(self, change, value):
        if change == QGraphicsItem.ItemPositionChange and self._scene.snap_to_grid:
            return QPointF(snap(value.x()), snap(value.y()))
        if change == QGraphicsItem.ItemPositionHasChanged:
            for e in self.edges:
                e.update_path()
        return super().itemChange(change, value)

    def mouseDoubleClickEvent(self, event) -> None:
        self._scene.nodeActivated.emit(self.node_id)
        super().mouseDoubleClickEvent(event)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


class EdgeItem(QGraphicsPathItem):
    def __init__(self, scene: "FlowScene", edge: Edge):
        super().__init__()
        self._scene = scene
        self.edge = edge
        self.setFlags(QGraphicsItem.ItemIsSelectable)
        self.setZValue(-1)
        self.control = edge.target_port == "in"
        self.src: PortItem | None = None
        self.dst: PortItem | None = None
        self.reattach()

    def reattach(self) -> None:
        s = self._scene.nodes.get(self.edge.source)
        t = self._scene.nodes.get(self.edge.target)
        self.src = s.port("out", self.edge.source_port) if s else None
        self.dst = t.port("in", self.edge.target_port) if t else None
        self.update_path()

    def update_path(self) -> None:
        if self.src is None or self.dst is None:
            self.setPath(QPainterPath())
            return
        self.setPath(curve(self.src.scenePos(), self.dst.scenePos()))

    def paint(self, painter, option, widget=None) -> None:
        c = self._scene.colors
        color = c.selection if self.isSelected() else (c.edge if self.control else c.data_edge)
        pen = QPen(color, 2.4 if self.isSelected() else 1.8)
        if not self.control:
            pen.setStyle(Qt.DashLine)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(pen)
        painter.setBrush(Qt.NoBrush)
        painter.drawPath(self.path())
        if self.edge.source_port == "error":
            painter.setPen(QPen(c.error, 1.8))
            painter.drawPath(self.path())

    def shape(self) -> QPainterPath:
        from PySide6.QtGui import QPainterPathStroker

        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        return stroker.createStroke(self.path())


def curve(a: QPointF, b: QPointF) -> QPainterPath:
    path = QPainterPath(a)
    dx = max(abs(b.x() - a.x()) * 0.5, 40)
    path.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)
    return path


class NoteItem(QGraphicsItem):
    def __init__(self, scene: "FlowScene", note: Note):
        super().__init__()
        self._scene = scene
        self.note_id = note.id
        self.setFlags(QGraphicsItem.ItemIsMovable | QGraphicsItem.ItemIsSelectable
                      | QGraphicsItem.ItemSendsGeometryChanges)
        self.setZValue(-2)
        self.refresh(note)

    def refresh(self, note: Note) -> None:
        self.prepareGeometryChange()
        self.text, self.w, self.h = note.text, float(note.width), float(note.height)
        self.setPos(note.x, note.y)
        self.setToolTip("Sticky note (double-click to edit)")
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.w, self.h)

    def paint(self, painter, option, widget=None) -> None:
        c = self._scene.colors
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(QPen(c.selection, 2) if self.isSelected() else Qt.NoPen)
        painter.setBrush(c.note)
        painter.drawRoundedRect(self.boundingRect(), 4, 4)
        painter.setPen(c.note_text)
        font = QFont(painter.font())
        font.setPointSizeF(9)
        painter.setFont(font)
        painter.drawText(self.boundingRect().adjusted(8, 6, -8, -6), Qt.TextWordWrap | Qt.AlignTop | Qt.AlignLeft,
                         self.text)

    def itemChange(self, change, value):
        if change == QGraphicsItem.ItemPositionChange and self._scene.snap_to_grid:
            return QPointF(snap(value.x()), snap(value.y()))
        return super().itemChange(change, value)

    def mouseDoubleClickEvent(self, event) -> None:
        self._scene.noteActivated.emit(self.note_id)


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

    def fit_to_view(self) -> None:
        rect = self.flow_scene.itemsBoundingRect()
        if rect.isEmpty():
            return
        self.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.KeepAspectRatio)
        if self.zoom_level() > 1.5:
            self.resetTransform()
            self.scale(1.5, 1.5)
            self.centerOn(rect.center())

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
