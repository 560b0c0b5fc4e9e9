"""Helpers for the designer tests: drive the canvas with the mouse."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from botloom.app.theme import process_events


def port_pos(scene, node_id: str, side: str, port: str) -> QPointF:
    return scene.nodes[node_id].port(side, port).scenePos()


def view_point(view, scene_pos: QPointF) -> QPoint:
    return view.mapFromScene(scene_pos)


def mouse_drag(view, start: QPointF, end: QPointF, steps: int = 4, modifier=Qt.NoModifier) -> None:
    """Press at ``start``, move in steps, release at ``end`` (scene coordinates), on the viewport
    as a person's mouse would."""
    vp = view.viewport()
    process_events()  # pending layout may still scroll the view
    a = view_point(view, start)
    QTest.mouseMove(vp, a)
    process_events()
    a, b = view_point(view, start), view_point(view, end)
    QTest.mousePress(vp, Qt.LeftButton, modifier, a)
    for i in range(1, steps + 1):
        p = QPoint(a.x() + (b.x() - a.x()) * i // steps, a.y() + (b.y() - a.y()) * i // steps)
        QTest.mouseMove(vp, p)
    QTest.mouseRelease(vp, Qt.LeftButton, modifier, b)


def click(view, scene_pos: QPointF, modifier=Qt.NoModifier) -> None:
    process_events()
    QTest.mouseClick(view.viewport(), Qt.LeftButton, modifier, view_point(view, scene_pos))


def double_click(view, scene_pos: QPointF) -> None:
    process_events()
    view.centerOn(scene_pos)
    process_events()
    QTest.mouseDClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, view_point(view, scene_pos))
