"""The bot's properties: name, description, declared inputs, outputs and variables (with
types and defaults), secrets by name, and each area's settings. One dialog, one undoable step;
the values are checked before anything changes, each problem said next to its field."""

from __future__ import annotations

import json
import re
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPlainTextEdit, QPushButton, QTableWidget, QTableWidgetItem,
                               QTabWidget, QVBoxLayout, QWidget)

from botloom.runner.botfile.model import MISSING, VarDecl
from botloom.runner.sdk.types import TYPES, coerce, parse_text

from . import commands

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
BOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
AREAS = ("desktop", "browser", "ocr", "ai")


class DeclTable(QWidget):
    """Rows of name, type, default (JSON or plain text), description: a flow's inputs, outputs or variables."""

    def __init__(self, decls: dict[str, VarDecl], with_default: bool = True):
        super().__init__()
        self.with_default = with_default
        cols = ["Name", "Type", "Default", "Description"] if with_default else ["Name", "Type", "Description"]
        self.table = QTableWidget(0, len(cols))
        self.table.setHorizontalHeaderLabels(cols)
        self.table.horizontalHeader().setStretchLastSection(True)
        for name, decl in decls.items():
            self.add_row(name, decl)
        buttons = QHBoxLayout()
        add, remove = QPushButton("Add"), QPushButton("Remove")
        add.clicked.connect(lambda: self.add_row("", VarDecl()))
        remove.clicked.connect(lambda: self.table.removeRow(self.table.currentRow()))
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(buttons)

    def add_row(self, name: str, decl: VarDecl) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(name))
        kind = QComboBox()
        kind.addItems(sorted(TYPES))
        kind.setCurrentText(decl.type if decl.type in TYPES else "any")
        self.table.setCellWidget(row, 1, kind)
        col = 2
        if self.with_default:
            shown = "" if decl.default is MISSING else (decl.default if isinstance(decl.default, str)
                                                         else json.dumps(decl.default, ensure_ascii=False))
            self.table.setItem(row, 2, QTableWidgetItem(shown))
            col = 3
        self.table.setItem(row, col, QTableWidgetItem(decl.description))

    def values(self, what: str) -> tuple[dict[str, VarDecl], list[str]]:
        out: dict[str, VarDecl] = {}
        problems = []
        for row in range(self.table.rowCount()):
            name = (self.table.item(row, 0).text() if self.table.item(row, 0) else "").strip()
            if not name:
                continue
            if not NAME.match(name):
                problems.append(f"{what} '{name}': a name takes letters, digits and '_', not starting with a digit")
                continue
            if name in out:
                problems.append(f"{what} '{name}' is declared twice")
                continue
            kind = self.table.cellWidget(row, 1).currentText()
            default: Any = MISSING
            desc_col = 2
            if self.with_default:
                desc_col = 3
                text = self.table.item(row, 2).text() if self.table.item(row, 2) else ""
                if text.strip():  # read as the command line reads `--input k=v`: one way to parse
                    try:
                        default = coerce(kind, parse_text(kind, text))
                    except Exception as exc:  # noqa: BLE001 - said in the dialog
                        problems.append(f"{what} '{name}': the default {text!r} is not {TYPES[kind].title} ({exc})")
            desc = self.table.item(row, desc_col).text() if self.table.item(row, desc_col) else ""
            out[name] = VarDecl(type=kind, default=default, description=desc.strip())
        return out, problems


class BotProperties(QDialog):
    def __init__(self, doc, parent=None):
        super().__init__(parent, windowTitle="Bot properties", objectName="bot-properties")
        self.doc = doc
        bot, main = doc.bot, doc.flow("main")
        self.resize(760, 520)
        tabs = QTabWidget()
        general = QWidget()
        outer = QVBoxLayout(general)
        form = QFormLayout()
        outer.addLayout(form)
        outer.addStretch(1)  # the two fields at the top, not spread over the page
        self.name = QLineEdit(bot.name, objectName="bot-name")
        self.description = QPlainTextEdit(bot.description or "", objectName="bot-description")
        self.description.setFixedHeight(80)
        form.addRow("Name", self.name)
        form.addRow("Description", self.description)
        tabs.addTab(general, "General")
        self.inputs = DeclTable(main.inputs)
        self.outputs = DeclTable(main.outputs, with_default=False)
        self.variables = DeclTable(main.variables)
        tabs.addTab(self.inputs, "Inputs")
        tabs.addTab(self.outputs, "Outputs")
        tabs.addTab(self.variables, "Variables")
        self.secrets = QTableWidget(0, 2)
        self.secrets.setHorizontalHeaderLabels(["Secret name", "What it is (never its value)"])
        self.secrets.horizontalHeader().setStretchLastSection(True)
        for name, what in bot.secrets.items():
            row = self.secrets.rowCount()
            self.secrets.insertRow(row)
            self.secrets.setItem(row, 0, QTableWidgetItem(name))
            self.secrets.setItem(row, 1, QTableWidgetItem(str(what or "")))
        secrets_page = QWidget()
        sl = QVBoxLayout(secrets_page)
        sl.addWidget(self.secrets)
        add_secret = QPushButton("Add secret")
        add_secret.clicked.connect(lambda: self.secrets.insertRow(self.secrets.rowCount()))
        sl.addWidget(add_secret, 0, Qt.AlignLeft)
        tabs.addTab(secrets_page, "Secrets")
        tabs.addTab(self._settings_page(bot.settings), "Settings")
        self.problems = QLabel(objectName="bot-properties-problems", wordWrap=True)
        self.problems.setStyleSheet("color: #e5484d;")
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(self.problems)
        layout.addWidget(buttons)

    def _settings_page(self, settings: dict) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        desk = settings.get("desktop", {})
        self.screen = QLineEdit(str(desk.get("screen", "")), placeholderText="e.g. 1280x800 (empty: not checked)",
                                objectName="desktop-screen")
        self.scale = QDoubleSpinBox(minimum=0.0, maximum=4.0, singleStep=0.25, decimals=2, objectName="desktop-scale")
        self.scale.setSpecialValueText("not checked")
        self.scale.setValue(float(desk.get("scale") or 0.0))
        self.pace = QDoubleSpinBox(minimum=0.0, maximum=5.0, singleStep=0.05, decimals=2, suffix=" s",
                                   objectName="desktop-pace")
        self.pace.setValue(float(desk.get("pace") or 0.0))
        form.addRow(QLabel("<b>Desktop</b>"))
        form.addRow("Screen size", self.screen)
        form.addRow("Display scaling", self.scale)
        form.addRow("Pace between actions", self.pace)
        self.other = {}
        self._desktop_rest = {k: v for k, v in desk.items() if k not in ("screen", "scale", "pace")}
        for area in [a for a in AREAS if a != "desktop"] + sorted(set(settings) - set(AREAS)):
            edit = QPlainTextEdit(json.dumps(settings.get(area, {}), indent=1, ensure_ascii=False)
                                  if settings.get(area) else "", objectName=f"settings-{area}")
            edit.setPlaceholderText('{"key": value, ...} (see the pack\'s guide in docs/)')
            edit.setFixedHeight(54)
            form.addRow(f"{area.capitalize()} settings", edit)
            self.other[area] = edit
        return page

    def collect(self) -> tuple[dict[str, Any], list[str]]:
        problems = []
        name = self.name.text().strip()
        if not BOT_NAME.match(name):
            problems.append(f"the name '{name}' must start with a letter or digit and take letters, digits, '.', "
                            "'-' and '_'")
        new: dict[str, Any] = {"name": name, "description": self.description.toPlainText().strip()}
        for key, table in (("inputs", self.inputs), ("outputs", self.outputs), ("variables", self.variables)):
            values, found = table.values(key[:-1])
            new[key] = values
            problems += found
        secrets = {}
        for row in range(self.secrets.rowCount()):
            item = self.secrets.item(row, 0)
            sname = item.text().strip() if item else ""
            if not sname:
                continue
            if not NAME.match(sname):
                problems.append(f"secret '{sname}': a name takes letters, digits and '_'")
            what = self.secrets.item(row, 1)
            secrets[sname] = what.text().strip() if what else ""
        new["secrets"] = secrets
        settings: dict[str, dict] = {}
        desk = dict(self._desktop_rest)
        screen = self.screen.text().strip().lower().replace(" ", "")
        if screen:
            if not re.match(r"^\d{3,5}x\d{3,5}$", screen):
                problems.append(f"the screen size '{self.screen.text()}' must look like 1280x800")
            desk["screen"] = screen
        if self.scale.value():
            desk["scale"] = round(self.scale.value(), 2)
        if self.pace.value():
            desk["pace"] = round(self.pace.value(), 2)
        if desk:
            settings["desktop"] = desk
        for area, edit in self.other.items():
            text = edit.toPlainText().strip()
            if not text:
                continue
            try:
                block = json.loads(text)
            except ValueError as exc:
                problems.append(f"the {area} settings are not valid JSON: {exc}")
                continue
            if not isinstance(block, dict):
                problems.append(f"the {area} settings must be an object of keys and values")
                continue
            settings[area] = block
        new["settings"] = settings
        return new, problems

    def apply(self) -> None:
        new, problems = self.collect()
        if problems:
            self.problems.setText("Not changed yet: " + "; ".join(problems))
            return
        changed = {k: v for k, v in new.items() if v != self._current(k)}
        if changed:
            self.doc.undo.push(commands.SetBotProperties(self.doc, changed))
        self.accept()

    def _current(self, key: str):
        return getattr(self.doc.flow("main") if key in commands.SetBotProperties.FLOW_KEYS else self.doc.bot, key)
