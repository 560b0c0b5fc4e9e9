"""The inspector: the form of the selected node, generated from its type's parameter schema
(``NodeType.describe()["params"]``: JSON Schema with ``x-botloom`` hints). The designer never
hand-codes a node's form.

Editors by hint: text, number, yes/no, choice, file/folder picker, multi-line text, secret
picker (the bot's declared secret names), expression fields with completion of variable and
node-output names, show-if rules, and a screen-region/image picker for ``widget ==
"screen-target"``. A value is checked as it is typed; an invalid one is marked with the
reason at once. Each committed change is one undoable command.
"""

from __future__ import annotations

import json
import re
from typing import Any

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import (QCheckBox, QComboBox, QCompleter, QDialog, QFileDialog, QFormLayout, QFrame, QHBoxLayout,
                               QLabel, QLineEdit, QPlainTextEdit, QPushButton, QScrollArea, QSizePolicy,
                               QVBoxLayout, QWidget)

from botloom.runner.botfile.model import NodeSpec
from botloom.runner.engine.plan import check_node

from . import commands
from .capture import describe_target
from .node_settings import ERROR_STYLE, NodeSettings
from .ports import node_type


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


class Inspector(QScrollArea):
    captureRequested = Signal(str)  # parameter name (screen-target)
    pointRequested = Signal(str)  # parameter name (screen-target)
    pickRequested = Signal(str)  # parameter name (web-target)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.doc = None
        self.flow_name = "main"
        self.node_id: str | None = None
        self.fields: dict[str, Field] = {}
        self.rows: dict[str, tuple[QLabel, Field]] = {}
        self._empty()

    def _empty(self, text: str = "Select a node to see its settings.") -> None:
        self.fields, self.rows, self.node_id = {}, {}, None
        self.settings_form = None
        label = QLabel(text)
        label.setAlignment(Qt.AlignCenter)
        label.setWordWrap(True)
        label.setEnabled(False)
        self.setWidget(label)

    def set_document(self, doc) -> None:
        if self.doc is not None:
            try:
                self.doc.nodeChanged.disconnect(self._on_node_changed)
                self.doc.edgeAdded.disconnect(self._on_edges)
                self.doc.edgeRemoved.disconnect(self._on_edges)
                self.doc.nodeRemoved.disconnect(self._on_removed)
            except RuntimeError:
                pass
        self.doc = doc
        doc.nodeChanged.connect(self._on_node_changed)
        doc.edgeAdded.connect(self._on_edges)
        doc.edgeRemoved.connect(self._on_edges)
        doc.nodeRemoved.connect(self._on_removed)
        self._empty()

    # ------------------------------------------------------------ building
    def show_help(self, nt) -> QDialog:
        """The node type's reference (the text `botloom nodes show` prints, from the same
        declaration) in a window, with a link to its pack's guide in docs/ when it is there."""
        from PySide6.QtGui import QDesktopServices
        from PySide6.QtCore import QUrl

        from botloom.runner.docs import node_help

        dialog = QDialog(self, windowTitle=f"Help: {nt.title}", objectName="node-help-dialog")
        layout = QVBoxLayout(dialog)
        text = QPlainTextEdit(node_help(nt), readOnly=True, objectName="node-help-text")
        text.setMinimumSize(640, 420)
        layout.addWidget(text)
        guide = pack_guide(nt.pack)
        if guide is not None:
            what = "the node reference" if guide.name == "nodes.md" else f"the {nt.pack} pack's guide"
            link = QLabel(f"<a href='{QUrl.fromLocalFile(str(guide)).toString()}'>Open {what} ({guide.name})</a>",
                          objectName="node-help-guide")
            link.linkActivated.connect(lambda href: QDesktopServices.openUrl(QUrl(href)))
            layout.addWidget(link)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.show()
        self.help_dialog = dialog
        return dialog

    def show_node(self, flow: str | None, node_id: str | None) -> None:
        if self.doc is None or node_id is None or flow is None or node_id not in self.doc.flow(flow):
            self._empty()
            return
        self.flow_name, self.node_id = flow, node_id
        spec = self.doc.flow(flow).node(node_id)
        nt = node_type(self.doc.registry, spec.type, spec.version)
        self.node_type = nt
        page = QWidget()
        outer = QVBoxLayout(page)
        header = QLabel(f"<b>{spec.title or (nt.title if nt else spec.type)}</b><br>"
                        f"<span style='color:gray'>{node_id} · {spec.type}</span>")
        header.setTextFormat(Qt.RichText)
        header.setWordWrap(True)
        outer.addWidget(header)
        if nt is not None:
            help_link = QLabel("<a href='help'>Help on this node</a>", objectName="node-help")
            help_link.setToolTip(f"What {nt.title} does, each parameter and output, and the {nt.pack} pack's guide")
            help_link.linkActivated.connect(lambda _href, t=nt: self.show_help(t))
            outer.addWidget(help_link)
        if nt is None:
            missing = QLabel("The node pack that provides this node type is not installed. Its parameters are "
                             "kept exactly as they are and saved back unchanged:\n\n"
                             + json.dumps(spec.params, indent=2, ensure_ascii=False))
            missing.setWordWrap(True)
            missing.setTextInteractionFlags(Qt.TextSelectableByMouse)
            outer.addWidget(missing)
            outer.addStretch(1)
            self.fields, self.rows = {}, {}
            self.settings_form = None
            self.setWidget(page)
            return
        if nt.description:
            desc = QLabel(nt.description.split("\n\n")[0])
            desc.setWordWrap(True)
            desc.setStyleSheet("color: gray;")
            outer.addWidget(desc)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        outer.addLayout(form)
        self.title_edit = QLineEdit(spec.title, placeholderText=nt.title, objectName="node-title")
        self.title_edit.editingFinished.connect(
            lambda: self._set_field("title", self.title_edit.text().strip()))
        form.addRow("Title", self.title_edit)
        names = self.completion_names()
        self.fields, self.rows = {}, {}
        schema = nt.describe()["params"]
        advanced = []
        for p in nt.params:
            field = Field(self, p.name, schema[p.name], names)
            field.committed.connect(self._commit)
            label = QLabel(p.title + (" *" if p.required else ""))
            label.setToolTip(p.description)
            self.fields[p.name] = field
            self.rows[p.name] = (label, field)
            if p.advanced:
                advanced.append((label, field))
            else:
                form.addRow(label, field)
        if advanced:
            sep = QLabel("<b>Advanced</b>")
            form.addRow(sep)
            for label, field in advanced:
                form.addRow(label, field)
        # how the node runs
        line = QFrame(frameShape=QFrame.HLine)
        outer.addWidget(line)
        run_form = QFormLayout()
        outer.addLayout(run_form)
        self.settings_form = NodeSettings(run_form, spec, self._set_field)
        s = self.settings_form
        self.timeout_edit, self.timeout_error, self.on_error, self.disabled_box = (
            s.timeout_edit, s.timeout_error, s.on_error, s.disabled_box)
        self.retry_edits, self.retry_error = s.retry_edits, s.retry_error
        outer.addStretch(1)
        page.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Preferred)
        self.setWidget(page)
        self._load_values()

    def completion_names(self) -> list[str]:
        flow = self.doc.flow(self.flow_name)
        names = set(flow.inputs) | set(flow.variables) | set(flow.outputs)
        names |= {f"inputs.{n}" for n in flow.inputs} | {f"vars.{n}" for n in flow.variables}
        names |= {"run.id", "run.bot", "error", "error.message", "now()", "today()"}
        for nid, spec in flow.specs().items():
            nt = node_type(self.doc.registry, spec.type, spec.version)
            if nt is not None:
                names |= {f"nodes.{nid}.{o.name}" for o in nt.outputs}
                for p in nt.params:  # loop variables, variables set by nodes (also when left at their default)
                    value = spec.params.get(p.name, p.default if p.has_default else None)
                    if p.name in ("item_var", "index_var", "name", "error_var") and isinstance(value, str) and value:
                        names.add(value)
        return sorted(names)

    def _load_values(self) -> None:
        spec = self.doc.flow(self.flow_name).node(self.node_id)
        fed = {e.target_port: f"{e.source}.{e.source_port}" for e in self.doc.flow(self.flow_name).edges()
               if e.target == self.node_id and e.target_port != "in"}
        for name, field in self.fields.items():
            field.set_value(spec.params.get(name))
            field.set_fed(fed.get(name))
        self._apply_show_if()
        for problem in self.doc.node_problems(self.flow_name, self.node_id):
            if problem.param in self.fields and problem.severity == "error" and not self.fields[problem.param].error.text():
                self.fields[problem.param].show_error(problem.message)

    def _apply_show_if(self) -> None:
        if self.node_type is None:
            return
        values = dict(self.doc.flow(self.flow_name).node(self.node_id).params)
        for p in self.node_type.params:
            label, field = self.rows[p.name]
            shown = p.shown(values)
            label.setVisible(shown)
            field.setVisible(shown)

    # ------------------------------------------------------------ checking and committing
    def check_value(self, name: str, value: Any) -> str | None:
        """Why ``value`` does not fit parameter ``name`` of the shown node (None: it fits)."""
        if self.node_id is None or self.node_id not in self.doc.flow(self.flow_name):
            return None
        spec = self.doc.flow(self.flow_name).node(self.node_id)
        params = dict(spec.params)
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
        fed = frozenset(e.target_port for e in self.doc.flow(self.flow_name).edges()
                        if e.target == self.node_id and e.target_port != "in")
        trial = NodeSpec(id=spec.id, type=spec.type, version=spec.version, params=params)
        for problem in check_node(trial, self.doc.registry, self.flow_name, fed).problems:
            if problem.param == name and problem.severity == "error":
                return problem.message + (f" (fix: {problem.fix})" if problem.fix else "")
        return None

    def _commit(self, name: str, value: Any) -> None:
        spec = self.doc.flow(self.flow_name).node(self.node_id)
        if spec.params.get(name) == value and (value is not None or name not in spec.params):
            return
        title = self.node_type.param(name).title if self.node_type else name
        self.doc.undo.push(commands.SetParam(self.doc, self.flow_name, self.node_id, name, value, title))

    def _set_field(self, field: str, value: Any) -> None:
        if self.node_id is None:
            return
        if field == "title" and value == "":
            value = ""
        if self.doc.node_field(self.flow_name, self.node_id, field) == value or (
                value is None and self.doc.node_field(self.flow_name, self.node_id, field) is None):
            return
        self.doc.undo.push(commands.SetNodeField(self.doc, self.flow_name, self.node_id, field, value))

    def focus_param(self, name: str | None) -> None:
        field = self.fields.get(name or "")
        if field is not None:
            self.ensureWidgetVisible(field)
            field.editor.setFocus()

    # ------------------------------------------------------------ document changes
    def _on_node_changed(self, flow: str, nid: str) -> None:
        if flow == self.flow_name and nid == self.node_id and self.fields is not None:
            spec = self.doc.flow(flow).node(nid)
            if hasattr(self, "title_edit") and self.title_edit.text() != spec.title:
                self.title_edit.setText(spec.title)
            if self.settings_form is not None:
                self.settings_form.load(spec)
            self._load_values()

    def _on_edges(self, flow: str, edge) -> None:
        if flow == self.flow_name and self.node_id in (edge.source, edge.target) and self.fields:
            self._load_values()

    def _on_removed(self, flow: str, nid: str) -> None:
        if flow == self.flow_name and nid == self.node_id:
            self._empty()


def pack_guide(pack: str):
    """docs/<pack>.md of this installation (a checkout or a package that carries docs/), else the
    node reference docs/nodes.md (the core pack has no guide of its own), or None."""
    from pathlib import Path

    import botloom.runner as runner_pkg

    base = Path(runner_pkg.__file__).resolve().parent.parent
    for name in (f"{pack}.md", "nodes.md"):
        for folder in (base / "docs", base.parent / "docs"):
            page = folder / name
            if page.is_file():
                return page
    return None
