"""One parameter's editor, as the inspector and the forms built from schemas (the review inbox,
the schedules panel, the run form) use it: a field generated from the parameter's JSON Schema
and ``x-botloom`` hints (text, number, yes/no, choice, file or folder, multi-line text, secret,
expression with completion, screen target), with its value checked as it is typed."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import (QCheckBox, QComboBox, QCompleter, QFileDialog, QHBoxLayout,
                               QLabel, QLineEdit, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget)

from .capture import describe_target
from .node_settings import ERROR_STYLE

if TYPE_CHECKING:
    from .inspector import Inspector


def parse_text(type_name: str, text: str, expression: bool = False) -> Any:
    """The value a person means by ``text`` in a field of ``type_name`` (None: left empty)."""
    if text.strip() == "":
        return None
    if expression or "{{" in text:
        return text
    if type_name == "integer":
        try:
            return int(text.strip())
        except ValueError:
            return text
    if type_name == "number":
        try:
            value = float(text.strip())
            return int(value) if value.is_integer() and re.fullmatch(r"-?\d+", text.strip()) else value
        except ValueError:
            return text
    if type_name == "boolean":
        return {"true": True, "false": False, "yes": True, "no": False}.get(text.strip().lower(), text)
    if type_name in ("list", "object", "table", "any") and text.strip()[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


class Completing:
    """Completes the word before the cursor with variable and node-output names (one-line and
    multi-line editors alike); the editor gives ``_left()``, ``_replace_word()`` and ``cursorRect()``."""

    def _setup_completion(self, names: list[str]) -> None:
        self.model = QStringListModel(sorted(set(names)))
        self.completer_ = QCompleter(self.model, self)
        self.completer_.setWidget(self)
        self.completer_.setCaseSensitivity(Qt.CaseInsensitive)
        self.completer_.setCompletionMode(QCompleter.PopupCompletion)
        self.completer_.activated.connect(self.insert_completion)

    def current_word(self) -> str:
        m = re.search(r"[A-Za-z_][A-Za-z0-9_.]*$", self._left())
        return m.group(0) if m else ""

    def completions(self, prefix: str | None = None) -> list[str]:
        prefix = self.current_word() if prefix is None else prefix
        return [n for n in self.model.stringList() if n.lower().startswith(prefix.lower()) and n != prefix]

    def _maybe_complete(self, _text: str) -> None:
        word = self.current_word()
        if not word:
            self.completer_.popup().hide()
            return
        self.completer_.setCompletionPrefix(word)
        if self.completer_.completionCount():
            rect = self.cursorRect()
            rect.setWidth(240)
            self.completer_.complete(rect)
        else:
            self.completer_.popup().hide()

    def insert_completion(self, name: str) -> None:
        self._replace_word(len(self.current_word()), name)


class ExpressionEdit(Completing, QLineEdit):
    """A line edit that completes the word under the cursor with variable and node-output names."""

    def __init__(self, names: list[str], parent=None):
        super().__init__(parent)
        self._setup_completion(names)
        self.textEdited.connect(self._maybe_complete)

    def _left(self) -> str:
        return self.text()[: self.cursorPosition()]

    def _replace_word(self, length: int, name: str) -> None:
        pos = self.cursorPosition()
        text = self.text()
        self.setText(text[: pos - length] + name + text[pos:])
        self.setCursorPosition(pos - length + len(name))


class MultiLineEdit(Completing, QPlainTextEdit):
    """Multi-line text (a message, a script) with the same name completion as one-line fields."""

    editingFinished = Signal()

    def __init__(self, names: list[str] | None = None, parent=None):
        super().__init__(parent)
        self._setup_completion(names or [])
        self._typing = False
        self.textChanged.connect(self._on_text)

    def keyPressEvent(self, event) -> None:
        if self.completer_.popup().isVisible() and event.key() in (Qt.Key_Return, Qt.Key_Enter, Qt.Key_Tab,
                                                                    Qt.Key_Escape):
            event.ignore()  # the completer's popup takes these
            return
        self._typing = True
        try:
            super().keyPressEvent(event)
        finally:
            self._typing = False

    def _on_text(self) -> None:
        if self._typing:  # what the person types, not text set by the program
            self._maybe_complete(self.toPlainText())

    def _left(self) -> str:
        cursor = self.textCursor()
        return self.toPlainText()[: cursor.position()]

    def _replace_word(self, length: int, name: str) -> None:
        cursor = self.textCursor()
        cursor.movePosition(cursor.MoveOperation.Left, cursor.MoveMode.KeepAnchor, length)
        cursor.insertText(name)
        self.setTextCursor(cursor)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.editingFinished.emit()

    def text(self) -> str:
        return self.toPlainText()

    def setText(self, text: str) -> None:
        self.setPlainText(text)


class Field(QWidget):
    """One parameter's editor, its error label, and the logic to read and write its value."""

    committed = Signal(str, object)  # parameter name, new value

    def __init__(self, inspector: "Inspector", name: str, schema: dict, names: list[str]):
        super().__init__()
        self.inspector, self.name, self.schema = inspector, name, schema
        hints = schema.get("x-botloom", {})
        self.hints = hints
        self.type = hints.get("type", "string")
        self.expression = bool(hints.get("expression"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        row = QHBoxLayout()
        row.setSpacing(4)
        layout.addLayout(row)
        self.editor: QWidget
        self.kind = "line"
        placeholder = hints.get("placeholder") or ""
        if "default" in schema and not placeholder:
            placeholder = f"default: {format_value(schema['default'])}"
        if hints.get("widget") == "screen-target":
            self.kind = "screen-target"
            self.editor = QLineEdit(readOnly=True, placeholderText="no target yet: Point… or Capture…")
            row.addWidget(self.editor, 1)
            point = QPushButton("Point…")
            point.setToolTip("Click a point on the screen (kept relative to the window under it)")
            point.clicked.connect(lambda: inspector.pointRequested.emit(self.name))
            row.addWidget(point)
            self.point_button = point
            capture = QPushButton("Capture…")
            capture.setToolTip("Capture a region of the screen as this node's target image")
            capture.clicked.connect(lambda: inspector.captureRequested.emit(self.name))
            row.addWidget(capture)
            self.capture_button = capture
            self.preview = QLabel()  # the target image, as the node will look for it
            self.preview.hide()
            layout.addWidget(self.preview)
        elif hints.get("secret"):
            self.kind = "combo-edit"
            self.editor = QComboBox(editable=True)
            self.editor.addItems(sorted(inspector.doc.bot.secrets))
            self.editor.lineEdit().setPlaceholderText("name of a secret")
            self.editor.lineEdit().editingFinished.connect(self._commit)
            self.editor.activated.connect(lambda _i: self._commit())
            row.addWidget(self.editor, 1)
        elif "enum" in schema:
            self.kind = "combo"
            self.editor = QComboBox()
            self.editor.addItem(placeholder or "(not set)", None)
            for choice in schema["enum"]:
                self.editor.addItem(str(choice), choice)
            self.editor.activated.connect(lambda _i: self._commit())
            row.addWidget(self.editor, 1)
        elif self.type == "boolean" and not self.expression:
            self.kind = "check"
            self.editor = QCheckBox()
            self.editor.setTristate(False)
            self.editor.toggled.connect(lambda _v: self._commit())
            row.addWidget(self.editor, 1)
        elif hints.get("multiline"):
            self.kind = "multi"
            self.editor = MultiLineEdit(names)
            self.editor.setPlaceholderText(placeholder)
            self.editor.setFixedHeight(72)
            self.editor.textChanged.connect(self._live_check)
            self.editor.editingFinished.connect(self._commit)
            row.addWidget(self.editor, 1)
        else:
            self.editor = ExpressionEdit(names)
            self.editor.setPlaceholderText(placeholder or ("an expression, e.g. total > 100" if self.expression else ""))
            self.editor.textChanged.connect(self._live_check)
            self.editor.editingFinished.connect(self._commit)
            row.addWidget(self.editor, 1)
            if hints.get("widget") == "web-target":
                pick = QPushButton("Pick…")
                pick.setToolTip("Click the element in a browser: its best target (role and name, label, test id, "
                                "then CSS) goes here")
                pick.clicked.connect(lambda: inspector.pickRequested.emit(self.name))
                row.addWidget(pick)
                self.pick_button = pick
            if hints.get("path"):
                browse = QPushButton("…")
                browse.setFixedWidth(28)
                browse.setToolTip({"folder": "Choose a folder", "save": "Choose where to save"}.get(
                    hints["path"], "Choose a file"))
                browse.clicked.connect(self._browse)
                row.addWidget(browse)
                self.browse_button = browse
        self.editor.setObjectName(f"param-{name}")
        self.editor.setToolTip(schema.get("description", ""))
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #e5484d; font-size: 11px;")
        self.error.hide()
        layout.addWidget(self.error)
        self.fed_by: str | None = None

    # ------------------------------------------------------------ values
    def value(self) -> Any:
        if self.kind == "check":
            return self.editor.isChecked()
        if self.kind == "combo":
            return self.editor.currentData()
        if self.kind == "combo-edit":
            text = self.editor.currentText().strip()
            return text or None
        if self.kind == "screen-target":
            return self._target
        return parse_text(self.type, self.editor.text(), self.expression)

    def set_value(self, value: Any) -> None:
        self.editor.blockSignals(True)
        try:
            if self.kind == "check":
                self.editor.setChecked(bool(self.schema.get("default") if value is None else value))
            elif self.kind == "combo":
                index = self.editor.findData(value) if value is not None else 0
                if index < 0:
                    self.editor.addItem(format_value(value), value)
                    index = self.editor.count() - 1
                self.editor.setCurrentIndex(index)
            elif self.kind == "combo-edit":
                self.editor.setCurrentText(format_value(value))
            elif self.kind == "screen-target":
                self._target = value
                self.editor.setText(describe_target(value) if isinstance(value, dict) else format_value(value))
                self.editor.setToolTip(json.dumps(value, indent=1) if value not in (None, "") else "")
                self._show_preview(value)
            else:
                if self.editor.text() != format_value(value):
                    self.editor.setText(format_value(value))
        finally:
            self.editor.blockSignals(False)
        self._live_check()

    def _show_preview(self, value) -> None:
        from .capture import preview_pixmap

        pix = preview_pixmap(getattr(self.inspector, "doc", None), value)
        if pix is not None:
            self.preview.setPixmap(pix)
        self.preview.setVisible(pix is not None)

    def set_fed(self, source: str | None) -> None:
        self.fed_by = source
        self.editor.setEnabled(source is None)
        if source:
            self.editor.setToolTip(f"the value comes from {source} (a data connection)")
            if hasattr(self.editor, "setPlaceholderText"):
                self.editor.setPlaceholderText(f"from {source}")

    def show_error(self, message: str | None) -> None:
        if message:
            self.error.setText(message)
            self.error.show()
            self.editor.setStyleSheet(ERROR_STYLE)
        else:
            self.error.hide()
            self.error.setText("")
            self.editor.setStyleSheet("")

    def _live_check(self, *_args) -> None:
        self.show_error(self.inspector.check_value(self.name, self.value()))

    def _commit(self) -> None:
        self._live_check()
        self.committed.emit(self.name, self.value())

    def _browse(self) -> None:
        mode = self.hints.get("path")
        start = str(self.inspector.doc.folder or "")
        if mode == "folder":
            path = QFileDialog.getExistingDirectory(self, "Choose a folder", start)
        elif mode == "save":
            path, _ = QFileDialog.getSaveFileName(self, "Choose where to save", start)
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Choose a file", start)
        if path:
            self.set_path(path)

    def set_path(self, path: str) -> None:
        """Put a picked path in the field (relative to the bot's folder when inside it)."""
        folder = self.inspector.doc.folder
        if folder is not None:
            try:
                from pathlib import Path

                path = str(Path(path).resolve().relative_to(folder))
            except ValueError:
                pass
        self.editor.setText(path)
        self._commit()
