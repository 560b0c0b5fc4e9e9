"""Colours and icons: light or dark (following the system, or chosen in View ▸ Theme), a colour
and an SVG icon per node category (``resources/icons/<category>.svg``; a category without an
icon gets ``other``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import botloom.resources
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap

RESOURCES = Path(botloom.resources.__file__).resolve().parent  # resources/, installed as package data
ICONS = RESOURCES / "icons"
APP_NAME = "Botloom Designer"

CATEGORY_COLORS = {
    "flow": "#5b6cf0", "data": "#1e9e6a", "files": "#d98a1c", "text": "#8e5bd9", "web": "#2e8bc0",
    "desktop": "#c2410c", "browser": "#0ea5e9", "ocr": "#b45309", "documents": "#b45309", "ai": "#db2777",
}
CATEGORY_ICONS = {"documents": "ocr", "http": "web"}
STATE_COLORS = {
    "running": "#2f80ed", "succeeded": "#27ae60", "failed": "#e5484d", "cancelled": "#8b8d98",
    "skipped": "#8b8d98", "suspended": "#f5a524", "paused": "#f5a524", "retrying": "#f5a524",
    "needs_attention": "#f5a524", "crashed": "#e5484d",
}


def process_events() -> None:
    """Handle pending events (through an event loop object: with PySide6 6.12.0 the static
    ``QCoreApplication.processEvents()``, like every call of a void method, dropped a reference
    to ``None`` and crashed Python 3.11 after a few thousand calls; the designer's extra
    excludes that release)."""
    from PySide6.QtCore import QEventLoop

    QEventLoop().processEvents()


THEMES = ("system", "light", "dark")
_choice = "system"


def set_theme(choice: str) -> str:
    """Use the light or dark theme, or follow the system ("system"); returns the choice made."""
    global _choice
    _choice = choice if choice in THEMES else "system"
    app = QGuiApplication.instance()
    if app is not None:
        _set_palette(app)
    return _choice


def theme_choice() -> str:
    return _choice


def is_dark() -> bool:
    if _choice != "system":
        return _choice == "dark"
    app = QGuiApplication.instance()
    if app is None:
        return False
    try:
        if app.styleHints().colorScheme() == Qt.ColorScheme.Dark:
            return True
    except AttributeError:  # Qt before 6.5
        pass
    return app.palette().color(QPalette.Window).lightness() < 128


class Colors:
    """Canvas colours for the current scheme."""

    def __init__(self, dark: bool):
        self.dark = dark
        self.background = QColor("#1e1f24" if dark else "#f6f7f9")
        self.grid = QColor("#2a2c33" if dark else "#e3e6ea")
        self.grid_major = QColor("#33363e" if dark else "#d5d9df")
        self.node = QColor("#2b2d34" if dark else "#ffffff")
        self.node_border = QColor("#4a4d57" if dark else "#c9ced6")
        self.text = QColor("#e8e9ed" if dark else "#1f2328")
        self.muted = QColor("#9a9ca5" if dark else "#6b7280")
        self.selection = QColor("#4da3ff")
        self.edge = QColor("#8a8f9c" if dark else "#7d8591")
        self.data_edge = QColor("#b78cf2" if dark else "#8e5bd9")
        self.note = QColor("#5b5229" if dark else "#fff4b8")
        self.note_text = QColor("#f3eecf" if dark else "#3d3510")
        self.error = QColor("#e5484d")
        self.ok = QColor("#27ae60")


def colors() -> Colors:
    return Colors(is_dark())


def category_color(category: str | None) -> QColor:
    return QColor(CATEGORY_COLORS.get((category or "").lower(), "#6b7280"))


def _icon_name(category: str | None) -> str:
    key = (category or "other").lower()
    key = CATEGORY_ICONS.get(key, key)
    return key if (ICONS / f"{key}.svg").exists() else "other"


@lru_cache(maxsize=64)
def category_pixmap(category: str | None, size: int = 16) -> QPixmap:
    """The white icon of a category, for drawing on its colour."""
    from PySide6.QtSvg import QSvgRenderer

    pm = QPixmap(size, size)
    pm.fill(Qt.transparent)
    renderer = QSvgRenderer(str(ICONS / f"{_icon_name(category)}.svg"))
    painter = QPainter(pm)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return pm


@lru_cache(maxsize=64)
def category_icon(category: str | None) -> QIcon:
    """The category's icon on a rounded square of its colour (palette, tabs)."""
    size = 32
    pm = QPixmap(size, size)
    pm.fill(Qt.transparent)
    painter = QPainter(pm)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setBrush(category_color(category))
    painter.setPen(Qt.NoPen)
    painter.drawRoundedRect(0, 0, size, size, 7, 7)
    painter.drawPixmap(6, 6, category_pixmap(category, 20))
    painter.end()
    return QIcon(pm)


def app_icon() -> QIcon:
    return QIcon(str(RESOURCES / "botloom.svg"))


def apply_palette(app) -> None:
    """Fusion style with a dark palette when the system is dark; follows later changes."""
    app.setStyle("Fusion")
    _set_palette(app)
    try:
        app.styleHints().colorSchemeChanged.connect(lambda *_: _set_palette(app))
    except AttributeError:
        pass


def _set_palette(app) -> None:
    if not is_dark():
        app.setPalette(app.style().standardPalette())
        return
    p = QPalette()
    base, window, text = QColor("#1e1f24"), QColor("#25272d"), QColor("#e8e9ed")
    for role, color in ((QPalette.Window, window), (QPalette.WindowText, text), (QPalette.Base, base),
                        (QPalette.AlternateBase, window), (QPalette.Text, text), (QPalette.Button, window),
                        (QPalette.ButtonText, text), (QPalette.ToolTipBase, window), (QPalette.ToolTipText, text),
                        (QPalette.Highlight, QColor("#2f80ed")), (QPalette.HighlightedText, QColor("#ffffff")),
                        (QPalette.PlaceholderText, QColor("#8b8d98")), (QPalette.Link, QColor("#6cb6ff")),
                        (QPalette.LinkVisited, QColor("#b78cf2"))):
        p.setColor(role, color)
    app.setPalette(p)
