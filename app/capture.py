"""The screen-region/image picker for desktop targets (parameters with ``widget ==
"screen-target"``).

``RegionPicker`` shows a still of the whole screen; the person drags a rectangle around the
thing the node should find (a button, a field). The region is saved beside the bot file as
``images/<node id>.png`` and the parameter becomes ``{"kind": "image", "image":
"images/<node id>.png"}``, keeping any other keys the value already had (a confidence, an
offset ...). Setting the value is one undoable command.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QDialog, QWidget

from . import commands


def target_path(node_id: str) -> str:
    return f"images/{node_id}.png"


def save_screen_target(doc, flow: str, node_id: str, param: str, image: QImage) -> dict:
    """Write ``image`` as the node's target image and set the parameter (undoably)."""
    if doc.path is None:
        raise ValueError("save the bot first: the target image is kept in the bot's folder")
    rel = target_path(node_id)
    out = doc.path.parent / rel
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out), "PNG"):
        raise OSError(f"could not write {out}")
    old = doc.flow(flow).node(node_id).params.get(param)
    value = dict(old) if isinstance(old, dict) else {}
    value.update({"kind": "image", "image": rel})
    title = param
    try:
        p = doc.registry.get(doc.flow(flow).node(node_id).type).param(param)
        title = p.title if p else param
    except Exception:  # noqa: BLE001
        pass
    doc.undo.push(commands.SetParam(doc, flow, node_id, param, value, title))
    return value


def grab_screen() -> QPixmap:
    screen = QGuiApplication.primaryScreen()
    return screen.grabWindow(0) if screen is not None else QPixmap()


class RegionPicker(QDialog):
    """Full-screen still of the desktop; drag to choose a region, Esc to cancel."""

    picked = Signal(QImage)

    def __init__(self, shot: QPixmap | None = None, parent: QWidget | None = None):
        super().__init__(parent, Qt.FramelessWindowHint | Qt.WindowStaysOnTopHint)
        self.shot = shot if shot is not None else grab_screen()
        self.origin: QPoint | None = None
        self.rect_ = QRect()
        self.result_image: QImage | None = None
        self.setCursor(Qt.CrossCursor)
        self.setWindowTitle("Drag around the target; Esc cancels")
        self.resize(self.shot.size() / max(self.shot.devicePixelRatio(), 1))

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.drawPixmap(self.rect(), self.shot)
        p.fillRect(self.rect(), QColor(0, 0, 0, 90))
        if not self.rect_.isNull():
            ratio = self.shot.devicePixelRatio()
            src = QRect(self.rect_.topLeft() * ratio, self.rect_.size() * ratio)
            p.drawPixmap(self.rect_, self.shot, src)
            p.setPen(QPen(QColor("#4da3ff"), 2))
            p.drawRect(self.rect_)
        p.setPen(QColor("white"))
        p.drawText(12, 24, "Drag around the target. Esc cancels.")

    def mousePressEvent(self, event) -> None:
        self.origin = event.position().toPoint()
        self.rect_ = QRect(self.origin, self.origin)
        self.update()

    def mouseMoveEvent(self, event) -> None:
        if self.origin is not None:
            self.rect_ = _span(self.origin, event.position().toPoint())
            self.update()

    def mouseReleaseEvent(self, event) -> None:
        if self.origin is None:
            return
        self.rect_ = _span(self.origin, event.position().toPoint())
        self.origin = None
        if self.rect_.width() > 2 and self.rect_.height() > 2:
            self.result_image = self.crop(self.rect_)
            self.picked.emit(self.result_image)
            self.accept()

    def crop(self, rect: QRect) -> QImage:
        ratio = self.shot.devicePixelRatio()
        return self.shot.copy(QRect(rect.topLeft() * ratio, rect.size() * ratio)).toImage()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key_Escape:
            self.reject()
        else:
            super().keyPressEvent(event)


def _span(a: QPoint, b: QPoint) -> QRect:
    """The rectangle between two mouse positions (the far corner excluded)."""
    return QRect(min(a.x(), b.x()), min(a.y(), b.y()), abs(b.x() - a.x()), abs(b.y() - a.y()))


def relative_image(doc, value) -> Path | None:
    """The file of a target image value, when it exists."""
    if isinstance(value, dict) and isinstance(value.get("image"), str) and doc.path is not None:
        path = doc.path.parent / value["image"]
        return path if path.exists() else None
    return None
