"""The inspector: the form of the selected node, generated from its type's parameter schema
(``NodeType.describe()["params"]``: JSON Schema with ``x-botloom`` hints). The designer never
hand-codes a node's form.

Editors by hint: text, number, yes/no, choice, file/folder picker, multi-line text, secret
picker (the bot's declared secret names), expression fields with completion of variable and
node-output names, show-if rules, and a screen-region/image picker for ``widget ==
"screen-target"``. A value is checked as it is typed; an invalid one is marked with the
reason at once (each field is a ``fields.Field``). Each committed change is one undoable command.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QFormLayout, QFrame, QLabel, QLineEdit, QPlainTextEdit, QScrollArea, QSizePolicy,
                               QVBoxLayout, QWidget)

from botloom.runner.botfile.model import NodeSpec
from botloom.runner.engine.plan import check_node

from . import commands
from .fields import Field
from .node_settings import NodeSettings
from .ports import node_type


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
