"""The gallery: installed templates and sample bots, each with its description and a picture of
its flow, and "New bot from template…", which asks for the inputs and the secret names.

What is listed and how a bot is made from it is headless (``botloom.runner.templates.gallery``);
this module only shows it. The picture is drawn from the bot file alone (the layout's node
positions, the edges, each node's title and category colour), so listing needs no canvas, no
document and no run. ``ask_new`` is the one question, replaceable by tests and embedders like
the window's ``ask_*`` methods: it gets the entry and returns ``(folder, inputs, secrets)`` or
None.

``python -m botloom.app.gallery OUT.png`` writes a screenshot of the gallery (offscreen).
"""

from __future__ import annotations

import sys
from pathlib import Path

from botloom.runner import botfile
from botloom.runner.errors import BotloomError
from botloom.runner.templates import gallery as model
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFont, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from . import theme

NODE_W, NODE_H = 150, 44


def flow_picture(bot: Path, registry, size: QSize | None = None) -> QPixmap:
    """The main flow of a bot file, scaled to fit ``size`` (420 x 220 when not given)."""
    size = size or QSize(420, 220)
    pixmap = QPixmap(size)
    c = theme.colors()
    pixmap.fill(c.background)
    try:
        doc = botfile.load(bot)
    except BotloomError:
        return pixmap
    flow = doc.main
    pos = {nid: flow.positions.get(nid, (i * 200.0, 0.0)) for i, nid in enumerate(sorted(flow.nodes))}
    if not pos:
        return pixmap
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    box = QRectF(min(xs) - 20, min(ys) - 20, max(xs) - min(xs) + NODE_W + 40, max(ys) - min(ys) + NODE_H + 40)
    scale = min(size.width() / box.width(), size.height() / box.height(), 1.0)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.translate((size.width() - box.width() * scale) / 2, (size.height() - box.height() * scale) / 2)
    painter.scale(scale, scale)
    painter.translate(-box.left(), -box.top())
    for edge in flow.edges:
        if edge.source not in pos or edge.target not in pos:
            continue
        (sx, sy), (tx, ty) = pos[edge.source], pos[edge.target]
        start, end = QPointF(sx + NODE_W, sy + NODE_H / 2), QPointF(tx, ty + NODE_H / 2)
        path = QPainterPath(start)
        bend = max(40.0, abs(end.x() - start.x()) / 2)
        path.cubicTo(start + QPointF(bend, 0), end - QPointF(bend, 0), end)
        data = edge.target_port != "in"
        painter.setPen(QPen(c.data_edge if data else c.edge, 2, Qt.DashLine if data else Qt.SolidLine))
        painter.drawPath(path)
    font = QFont(painter.font())
    font.setPointSizeF(min(24.0, 8.0 / scale))  # readable after scaling down
    painter.setFont(font)
    for nid, (x, y) in pos.items():
        spec = flow.nodes[nid]
        try:
            nt = registry.get(spec.type, spec.version)
            title, category = spec.title or nt.title or nid, nt.category
        except Exception:  # noqa: BLE001 - a type not installed is drawn grey, with its id
            title, category = spec.title or nid, None
        rect = QRectF(x, y, NODE_W, NODE_H)
        painter.setPen(QPen(c.node_border, 1.5))
        painter.setBrush(c.node)
        painter.drawRoundedRect(rect, 8, 8)
        painter.setPen(Qt.NoPen)
        painter.setBrush(theme.category_color(category))
        painter.drawRoundedRect(QRectF(x, y, 8, NODE_H), 4, 4)
        painter.setPen(c.text)
        painter.drawText(rect.adjusted(14, 0, -6, 0), Qt.AlignVCenter | Qt.AlignLeft | Qt.TextSingleLine,
                         painter.fontMetrics().elidedText(title, Qt.ElideRight, NODE_W - 20))
    painter.end()
    return pixmap


class NewFromTemplate(QDialog):
    """Asks where the new bot goes, a value for each input and the name of each secret."""

    def __init__(self, entry: model.Entry, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"New bot from {entry.name}")
        self.entry = entry
        form = QFormLayout(self)
        self.folder = QLineEdit(objectName="new-folder")
        self.folder.setPlaceholderText("an empty folder for the new bot")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        form.addRow("Folder", row)
        required = set(model.required_inputs(entry))
        self.inputs: dict[str, QLineEdit] = {}
        for name, decl in entry.inputs.items():
            edit = QLineEdit(objectName=f"input-{name}")
            if "default" in decl:
                edit.setText(str(decl["default"]))
            edit.setToolTip(decl.get("description", ""))
            self.inputs[name] = edit
            form.addRow(f"{name}{' *' if name in required else ''} ({decl.get('type', 'any')})", edit)
        self.secrets: dict[str, QLineEdit] = {}
        for name, description in entry.secrets.items():
            edit = QLineEdit(name, objectName=f"secret-{name}")
            edit.setToolTip(f"{description} — the name you keep this secret under (botloom secret set NAME)")
            self.secrets[name] = edit
            form.addRow(f"secret {name}", edit)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the new bot")
        if folder:
            self.folder.setText(str(Path(folder) / self.entry.name))

    def answer(self) -> tuple[str, dict, dict]:
        inputs = {}
        for name, edit in self.inputs.items():
            decl, text = self.entry.inputs[name], edit.text()
            if "default" in decl and text == str(decl["default"]):
                continue  # unchanged: keep the typed default (a number stays a number)
            inputs[name] = _typed(text, decl.get("type", "any"))
        return self.folder.text().strip(), inputs, {n: e.text().strip() for n, e in self.secrets.items()}


def _typed(text: str, type_name: str):
    if type_name in ("integer", "number"):
        try:
            return int(text) if type_name == "integer" else float(text)
        except ValueError:
            return text  # validation names the input and the type
    if type_name == "boolean":
        return text.strip().lower() in ("1", "true", "yes", "on")
    return text


class Gallery(QWidget):
    """The list of templates and samples; the chosen one's picture, description and button."""

    created = Signal(str)  # the new bot file

    def __init__(self, registry, home, parent=None):
        super().__init__(parent)
        self.registry, self.home = registry, home
        self.entries: list[model.Entry] = []
        self.messages: list[str] = []
        layout = QHBoxLayout(self)
        self.list = QListWidget(objectName="gallery-list")
        self.list.setMinimumWidth(220)
        layout.addWidget(self.list, 1)
        right = QVBoxLayout()
        self.picture = QLabel(objectName="gallery-picture")
        self.picture.setMinimumSize(QSize(420, 220))
        self.about = QLabel(objectName="gallery-about", wordWrap=True)
        self.about.setTextFormat(Qt.RichText)
        self.new_button = QPushButton("New bot from template…", objectName="gallery-new")
        self.new_button.clicked.connect(self.new_from_selected)
        right.addWidget(self.picture)
        right.addWidget(self.about, 1)
        right.addWidget(self.new_button, 0, Qt.AlignLeft)
        layout.addLayout(right, 2)
        self.list.currentRowChanged.connect(self._show)
        self.reload()

    def reload(self) -> None:
        try:
            self.entries = model.entries(self.home)
        except BotloomError as exc:
            self.entries = []
            self.messages.append(str(exc))
        self.list.clear()
        for entry in self.entries:
            label = f"{entry.name}  {entry.version}".strip()
            item = QListWidgetItem(f"{label}\n{'installed template' if entry.kind == 'template' else 'sample'}")
            item.setToolTip(entry.description)
            self.list.addItem(item)
        if self.entries:
            self.list.setCurrentRow(0)
        self.new_button.setEnabled(bool(self.entries))

    def current(self) -> model.Entry | None:
        row = self.list.currentRow()
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def select(self, name: str) -> None:
        self.list.setCurrentRow(next(i for i, e in enumerate(self.entries) if e.name == name))

    def _show(self, row: int) -> None:
        if not 0 <= row < len(self.entries):
            return
        entry = self.entries[row]
        self.picture.setPixmap(flow_picture(entry.bot, self.registry, self.picture.minimumSize()))
        who = f" by {entry.author}" if entry.author else ""
        signed = {"trusted": "signed by a trusted key", "unknown": "signed by a key you do not trust",
                  "unsigned": "not signed"}.get(entry.signature, "")
        inputs = ", ".join(entry.inputs) or "none"
        secrets = ", ".join(entry.secrets) or "none"
        self.about.setText(f"<b>{entry.name}</b> {entry.version}{who}"
                           f"{' — ' + signed if signed else ''}<br>{entry.description}<br>"
                           f"<span style='color:gray'>inputs: {inputs}; secrets: {secrets}</span>")

    def ask_new(self, entry: model.Entry) -> tuple[str, dict, dict] | None:
        dialog = NewFromTemplate(entry, self)
        return dialog.answer() if dialog.exec() == QDialog.Accepted else None

    def new_from_selected(self) -> str | None:
        entry = self.current()
        if entry is None:
            return None
        answer = self.ask_new(entry)
        if answer is None:
            return None
        folder, inputs, secrets = answer
        if not folder:
            self.messages.append("choose a folder for the new bot")
            return None
        try:
            bot = model.create(entry, folder, self.registry, inputs=inputs, secrets=secrets)
        except (BotloomError, OSError) as exc:
            self.messages.append(str(exc))
            return None
        self.created.emit(str(bot))
        return str(bot)


def _screenshot(out: str) -> int:
    from botloom.runner import paths

    from .main import create_app, registry

    create_app([])
    gallery = Gallery(registry(), paths.home())
    gallery.resize(900, 300)
    gallery.show()
    theme.process_events()
    gallery.grab().save(out)
    return 0


if __name__ == "__main__":
    sys.exit(_screenshot(sys.argv[1] if len(sys.argv) > 1 else "gallery.png"))
