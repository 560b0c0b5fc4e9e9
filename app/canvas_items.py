"""The canvas's items: ``NodeItem`` (title, category colour and icon, ports, status badge,
breakpoint dot), ``PortItem``, ``EdgeItem`` (a curve; data edges dashed) and ``NoteItem``
(sticky notes), with the grid and sizes they share. ``canvas.py`` holds the scene and the view.

Text is drawn in ``paint()`` rather than with ``QGraphicsTextItem`` children (cheaper for big
bots, and free of the child-lifetime pitfall of PySide6).
"""

from __future__ import annotations

import html

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem

from botloom.runner.botfile.model import Edge, NodeSpec, Note

from . import theme
from .ports import Port, node_ports, node_type

if TYPE_CHECKING:
    from .canvas import FlowScene

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
        self._refresh_tip()

    def set_run_error(self, message: str | None, fix: str | None = None) -> None:
        """The error of the last run's step of this node (shown in its tooltip; None clears it)."""
        self.run_error = None if message is None else (str(message), fix)
        self._refresh_tip()

    def _refresh_tip(self) -> None:
        tip = list(self._tip)
        if self.problem is not None:
            tip.append(f"<span style='color:#e5484d'>{html.escape(str(self.problem.message))}</span>")
        if getattr(self, "run_error", None):
            message, fix = self.run_error
            tip.append(f"<b>Last run:</b> <span style='color:#e5484d'>{html.escape(message)}</span>"
                       + (f"<br>fix: {html.escape(fix)}" if fix else ""))
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
        header.setFillRule(Qt.WindingFill)  # the overlap of the two shapes is filled (odd-even left it empty,
        header.addRoundedRect(QRectF(0, 0, NODE_W, HEADER), 8, 8)  # cutting the subtitle in half)
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
            for e in list(self._scene.edge_items.values()):  # routes around nodes may need another lane
                if e.routed and e not in self.edges:
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

    routed = False  # goes back to the left around the nodes (its lane depends on every node)

    def update_path(self) -> None:
        if self.src is None or self.dst is None:
            self.setPath(QPainterPath())
            return
        a, b = self.src.scenePos(), self.dst.scenePos()
        obstacles = ()
        self.routed = b.x() < a.x() - 20
        if self.routed:  # a route around the nodes: it needs to know where they are
            obstacles = [item.sceneBoundingRect() for item in self._scene.nodes.values()]
        self.setPath(curve(a, b, obstacles))

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


def free_lane(a: QPointF, b: QPointF, left: float, right: float, obstacles) -> float:
    """The height of a horizontal lane from ``right`` back to ``left`` that crosses no node:
    the free one nearest to just above ``b`` when ``b`` is further down (where an arranged flow
    wraps to its next band), else nearest to above both ends (a loop's return)."""
    from bisect import bisect_right

    wanted = b.y() - 60 if b.y() > a.y() + 80 else min(a.y(), b.y()) - 70
    # the heights the nodes in the way take (12 px kept clear above and below), merged: a lane
    # is free outside them; O(n log n), so a 500-node flow with a wrap every row stays quick
    merged: list[list[float]] = []
    for top, bottom in sorted((r.top() - 12, r.bottom() + 12) for r in obstacles if r.right() > left and r.left() < right):
        if merged and top < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], bottom)
        else:
            merged.append([top, bottom])
    starts = [m[0] for m in merged]

    def free(y: float) -> bool:
        i = bisect_right(starts, y) - 1
        return i < 0 or not (merged[i][0] < y < merged[i][1])

    candidates = [wanted] + [m[0] - 12 for m in merged] + [m[1] + 12 for m in merged]
    ok = [y for y in candidates if free(y)]
    return min(ok, key=lambda y: abs(y - wanted)) if ok else wanted


def curve(a: QPointF, b: QPointF, obstacles=()) -> QPainterPath:
    """An edge from an out port ``a`` to an in port ``b``: an S-curve when ``b`` is ahead, else
    a route around the nodes: out to the right, back along a free lane (:func:`free_lane`;
    ``obstacles`` are the nodes' rectangles), then into ``b`` from the left."""
    path = QPainterPath(a)
    if b.x() >= a.x() - 20:
        dx = max(abs(b.x() - a.x()) * 0.5, 40)
        path.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)
        return path
    lane = free_lane(a, b, b.x() - 30, a.x() + 30, obstacles)
    r, out, into = 16.0, a.x() + 30, b.x() - 30
    down = 1 if lane > a.y() else -1
    path.lineTo(out - r, a.y())
    path.quadTo(out, a.y(), out, a.y() + down * r)
    path.lineTo(out, lane - down * r)
    path.quadTo(out, lane, out - r, lane)
    path.lineTo(into + r, lane)
    back = 1 if b.y() > lane else -1
    path.quadTo(into, lane, into, lane + back * r)
    path.lineTo(into, b.y() - back * r)
    path.quadTo(into, b.y(), into + r, b.y())
    path.lineTo(b)
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
