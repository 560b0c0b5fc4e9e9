"""The run form: one field per input the bot declares, with the last values used, checked
before the run starts (a value that is not of its input's type is said next to it)."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout

from botloom.runner.botfile.model import MISSING
from botloom.runner.sdk.types import TYPES, coerce, parse_text


class RunForm(QDialog):
    def __init__(self, inputs: dict, last: dict[str, str] | None = None, title: str = "Run", parent=None):
        """``inputs``: the flow's declarations (name -> VarDecl); ``last``: the texts typed last time."""
        super().__init__(parent, windowTitle=title, objectName="run-form")
        self.decls = inputs
        last = last or {}
        layout = QVBoxLayout(self)
        self.setMinimumWidth(480)  # the placeholders say the type and the default in full
        form = QFormLayout()
        layout.addLayout(form)
        self.editors: dict[str, Any] = {}
        self.errors: dict[str, QLabel] = {}
        for name, decl in inputs.items():
            hint = TYPES[decl.type].title if decl.type in TYPES else decl.type
            label = QLabel(f"{name}{' *' if decl.required else ''}")
            label.setToolTip(decl.description or hint)
            if decl.type == "boolean":
                editor = QCheckBox(decl.description or "")
                saved = last.get(name)
                editor.setChecked(saved == "true" if saved is not None else decl.default is True)
            else:
                default = "" if decl.default is MISSING else (decl.default if isinstance(decl.default, str)
                                                               else json.dumps(decl.default, ensure_ascii=False))
                editor = QLineEdit(last.get(name, ""), placeholderText=f"{hint}" + (f", default {default}"
                                                                                      if default else ""))
                editor.setObjectName(f"input-{name}")
                editor.setToolTip(decl.description or hint)
            error = QLabel(wordWrap=True)
            error.setStyleSheet("color: #e5484d;")
            error.hide()
            self.editors[name], self.errors[name] = editor, error
            form.addRow(label, editor)
            if decl.description and decl.type != "boolean":  # what the input is for, under its field
                about = QLabel(decl.description, wordWrap=True, objectName=f"about-{name}")
                about.setStyleSheet("color: palette(placeholder-text); font-size: 11px;")
                form.addRow("", about)
            form.addRow("", error)
        if not inputs:
            layout.addWidget(QLabel("This bot declares no inputs."))
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Run")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.values: dict[str, Any] = {}
        self.texts: dict[str, str] = {}

    def collect(self) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
        """(values, texts to remember, problems by input name); an empty field takes the default."""
        values, texts, problems = {}, {}, {}
        for name, editor in self.editors.items():
            decl = self.decls[name]
            if isinstance(editor, QCheckBox):
                values[name] = editor.isChecked()
                texts[name] = "true" if editor.isChecked() else "false"
                continue
            text = editor.text()
            texts[name] = text
            if not text.strip():
                if decl.required and decl.default is MISSING:
                    problems[name] = "required: give a value"
                continue
            try:  # read as `botloom run --input NAME=TEXT` reads it: one way to parse
                values[name] = coerce(decl.type, parse_text(decl.type, text)) if decl.type in TYPES else text
            except Exception as exc:  # noqa: BLE001 - said next to the field
                problems[name] = f"not {TYPES[decl.type].title}: {exc}"
        return values, texts, problems

    def _accept(self) -> None:
        values, texts, problems = self.collect()
        for name, label in self.errors.items():
            label.setText(problems.get(name, ""))
            label.setVisible(name in problems)
        if problems:
            return  # the form stays open with what the person typed
        self.values, self.texts = values, texts
        self.accept()
