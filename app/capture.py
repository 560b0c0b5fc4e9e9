"""Indicating desktop targets on the screen (parameters with ``widget == "screen-target"``).

Both pickers work on a still of the real screen taken once the designer is gone:
:func:`wait_gone` hides the window and waits until the screen stops changing (the windows
behind have redrawn), so no designer pixels end up in a target.

``RegionPicker``: the person drags a rectangle around the thing the node should find (a
button, a field). The region is saved beside the bot file as ``images/<node id>.png`` and the
parameter becomes ``{"kind": "image", "image": "images/<node id>.png", "window": ...}``,
keeping any other keys the value already had (a confidence, an offset ...).

``PointPicker``: a crosshair over the still follows the mouse and names the window under it
and the point relative to that window; a click makes the parameter ``{"kind": "point", "x":
.., "y": .., "window": "- Mousepad$", "process": "mousepad"}``, or, where the application
exposes its accessibility tree, the element there by its selector with that point as its
fallback (``{"kind": "element", "selector": "button[name=\"7\"]", ..., "fallbacks": [point]}``).

The still comes from the desktop pack's screen capture (what a bot sees when it runs), the
window under a point from its ``desktop.window_at``; without the pack, from Qt. Setting the
value is one undoable command.
"""

from __future__ import annotations

from pathlib import Path

import json
import time

from PySide6.QtCore import QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from . import commands


def target_path(node_id: str) -> str:
    return f"images/{node_id}.png"


def set_target(doc, flow: str, node_id: str, param: str, value: dict) -> dict:
    """Set a target parameter (one undoable command, titled with the parameter's title)."""
    title = param
    try:
        p = doc.registry.get(doc.flow(flow).node(node_id).type).param(param)
        title = p.title if p else param
    except Exception:  # noqa: BLE001
        pass
    doc.undo.push(commands.SetParam(doc, flow, node_id, param, value, title))
    return value


def save_screen_target(doc, flow: str, node_id: str, param: str, image: QImage, window: dict | None = None) -> dict:
    """Write ``image`` as the node's target image and set the parameter (undoably); with
    ``window`` (the window it was cut from), the target looks for it in that window."""
    if doc.path is None:
        raise ValueError("save the bot first: the target image is kept in the bot's folder")
    rel = target_path(node_id)
    out = doc.path.parent / rel
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out), "PNG"):
        raise OSError(f"could not write {out}")
    old = doc.flow(flow).node(node_id).params.get(param)
    value = dict(old) if isinstance(old, dict) else {}
    for key in ("x", "y", "text", "selector"):  # what another kind of target had
        value.pop(key, None)
    value.update({"kind": "image", "image": rel})
    if window:
        value["window"] = window["pattern"]
        if window.get("process"):
            value["process"] = window["process"]
    return set_target(doc, flow, node_id, param, value)


def grab_screen() -> QPixmap:
    """The whole screen as it is now (the desktop pack's capture, else Qt's)."""
    return QPixmap.fromImage(screen_still())


def screen_still() -> QImage:
    try:
        from botloom.runner.sdk import capability

        grab = capability("desktop.screen_grab", purpose="screen pickers", install="pip install 'botloom[desktop]'")
        rgb = grab()
        h, w = rgb.shape[:2]
        return QImage(rgb.tobytes(), w, h, 3 * w, QImage.Format_RGB888).copy()
    except Exception:  # noqa: BLE001 - no desktop pack (or no display it can read): what Qt sees
        screen = QGuiApplication.primaryScreen()
        return screen.grabWindow(0).toImage() if screen is not None else QImage()


def window_at(x: int, y: int) -> dict | None:
    """The window under a screen point (title, pattern, process, box), or None."""
    import os

    try:
        from botloom.runner.sdk import capability

        find = capability("desktop.window_at", purpose="the point picker", install="pip install 'botloom[desktop]'")
        return find(x, y, skip_pids=(os.getpid(),))
    except Exception:  # noqa: BLE001 - no desktop pack or no window list here: screen coordinates
        return None


def element_at(x: int, y: int, window: dict | None) -> dict | None:
    """The accessible element under a screen point (its selector, role, name), or None."""
    try:
        from botloom.runner.sdk import capability

        find = capability("desktop.element_at", purpose="the point picker", install="pip install 'botloom[desktop]'")
        return find(x, y, (window or {}).get("pattern", ""), (window or {}).get("process", ""))
    except Exception:  # noqa: BLE001 - no desktop pack or no accessibility here: the point alone
        return None


def wait_gone(window: QWidget | None, timeout: float = 2.0, quiet: float = 0.15) -> QImage:
    """Hide ``window`` and return a still of the screen once it has stopped changing for
    ``quiet`` seconds (the windows behind have redrawn), or after ``timeout``."""
    if window is not None:
        window.hide()
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while True:
        QApplication.processEvents()
        still = screen_still()
        small = still.scaled(max(1, still.width() // 4), max(1, still.height() // 4))
        now = time.monotonic()
        if last is None or small != last:
            last, since = small, now
        elif now - since >= quiet:
            return still
        if now >= deadline:
            return still
        time.sleep(0.04)


def describe_target(value) -> str:
    """A target as a line a person reads: 'image images/ok.png in /- Mousepad$/ (+2 fallbacks)'."""
    if not isinstance(value, dict) or not value:
        return "" if value in (None, "", {}) else json.dumps(value)
    kind = value.get("kind") or ("image" if "image" in value else "text" if "text" in value else
                                 "point" if "x" in value else "element" if "selector" in value else "?")
    what = {"image": lambda: f"image {value.get('image')}", "text": lambda: f"text '{value.get('text')}'",
            "point": lambda: f"point {value.get('x')}, {value.get('y')}",
            "element": lambda: f"element {value.get('selector')}"}.get(kind, lambda: kind)()
    where = f" in /{value['window']}/" if value.get("window") else ""
    more = len(value.get("fallbacks") or [])
    return what + where + (f" (+{more} fallback{'s' if more != 1 else ''})" if more else "")


def point_target(x: int, y: int, window: dict | None) -> dict:
    """A point target at screen (x, y): relative to the window under it when there is one."""
    if not window:
        return {"kind": "point", "x": int(x), "y": int(y)}
    t = {"kind": "point", "x": int(x) - int(window["x"]), "y": int(y) - int(window["y"]), "window": window["pattern"]}
    if window.get("process"):
        t["process"] = window["process"]
    return t


class PointPicker(QDialog):
    """A still of the screen with a crosshair: click the point the node should act on; the
    window under the pointer and the point relative to it are shown as you move; Esc cancels."""

    picked = Signal(dict)

    def __init__(self, still: QImage, find_window=window_at, find_element=element_at, parent: QWidget | None = None):
        super().__init__(parent, Qt.FramelessWindowHint | Qt.WindowStaysOnTopHint)
        self.still, self.find_window, self.find_element = QPixmap.fromImage(still), find_window, find_element
        self.pos_: QPoint | None = None
        self.window_: dict | None = None
        self.target: dict | None = None
        self.setCursor(Qt.CrossCursor)
        self.setMouseTracking(True)
        self.setWindowTitle("Click the point; Esc cancels")
        self.resize(self.still.size())

    def screen_point(self, pos: QPoint) -> QPoint:
        sx = self.still.width() / max(1, self.width())
        sy = self.still.height() / max(1, self.height())
        return QPoint(round(pos.x() * sx), round(pos.y() * sy))

    def info(self) -> str:
        if self.pos_ is None:
            return "Click the point the node should act on. Esc cancels."
        p = self.screen_point(self.pos_)
        w = self.window_
        if not w:
            return f"screen {p.x()}, {p.y()}"
        return f"{p.x() - w['x']}, {p.y() - w['y']} in '{w['title']}'   (screen {p.x()}, {p.y()})"

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.drawPixmap(self.rect(), self.still)
        if self.window_:
            w = self.window_
            p.setPen(QPen(QColor("#4da3ff"), 2))
            s = self.width() / max(1, self.still.width())
            p.drawRect(QRect(round(w["x"] * s), round(w["y"] * s), round(w["width"] * s), round(w["height"] * s)))
        if self.pos_ is not None:
            p.setPen(QPen(QColor("#e5484d"), 1))
            p.drawLine(0, self.pos_.y(), self.width(), self.pos_.y())
            p.drawLine(self.pos_.x(), 0, self.pos_.x(), self.height())
        text = self.info()
        p.fillRect(QRect(8, 8, p.fontMetrics().horizontalAdvance(text) + 16, 26), QColor(0, 0, 0, 170))
        p.setPen(QColor("white"))
        p.drawText(16, 26, text)

    def mouseMoveEvent(self, event) -> None:
        self.pos_ = event.position().toPoint()
        sp = self.screen_point(self.pos_)
        w = self.window_
        if w is None or not (w["x"] <= sp.x() < w["x"] + w["width"] and w["y"] <= sp.y() < w["y"] + w["height"]):
            self.window_ = self.find_window(sp.x(), sp.y())
        self.update()

    def mousePressEvent(self, event) -> None:
        self.pos_ = event.position().toPoint()
        sp = self.screen_point(self.pos_)
        self.window_ = self.find_window(sp.x(), sp.y())
        self.target = point_target(sp.x(), sp.y(), self.window_)
        element = self.find_element(sp.x(), sp.y(), self.window_) if self.window_ else None
        if element and element.get("selector"):  # the element there by its accessibility, the point behind it
            where = {k: v for k, v in self.target.items() if k in ("window", "process")}
            self.target = {"kind": "element", "selector": element["selector"], **where, "fallbacks": [self.target]}
        self.picked.emit(self.target)
        self.accept()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key_Escape:
            self.reject()
        else:
            super().keyPressEvent(event)


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


def preview_pixmap(doc, value, size: tuple[int, int] = (240, 80)) -> QPixmap | None:
    """The target's image as the inspector previews it (at most ``size``), or None."""
    path = relative_image(doc, value) if doc is not None and getattr(doc, "path", None) else None
    if path is None:
        return None
    pix = QPixmap(str(path))
    if pix.width() > size[0] or pix.height() > size[1]:
        pix = pix.scaled(size[0], size[1], Qt.KeepAspectRatio, Qt.SmoothTransformation)
    return pix
