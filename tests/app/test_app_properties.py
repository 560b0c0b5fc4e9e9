"""Bot properties in the designer: name, description, declarations, secrets and settings are
edited in one dialog, checked before anything changes, applied as one undoable step; Save As
gives a new bot (still called new-bot) its file's name."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QTableWidgetItem

from bots import write_bot
from botloom.runner import botfile


def test_properties_change_the_bot_in_one_undoable_step_and_are_saved(win, qtbot, tmp_path):
    path = write_bot(tmp_path, "mousepad-note", {"say": {"type": "core.log", "params": {"message": "hi"}}},
                     [("start.out", "say.in")], settings={"desktop": {"screen": "1280x800", "timeout": 7}})
    assert win.open_path(str(path))
    dialog = win.edit_properties()
    dialog.name.setText("notes-to-file")
    dialog.description.setPlainText("Writes a note into Mousepad and saves it.")
    dialog.inputs.add_row("", __import__("botloom.runner.botfile.model", fromlist=["x"]).VarDecl())
    table = dialog.inputs.table
    table.setItem(0, 0, QTableWidgetItem("note"))
    table.cellWidget(0, 1).setCurrentText("string")
    table.setItem(0, 2, QTableWidgetItem("Hello"))
    dialog.screen.setText("1600x1000")
    dialog.pace.setValue(0.2)
    dialog.secrets.insertRow(0)
    dialog.secrets.setItem(0, 0, QTableWidgetItem("crm_password"))
    dialog.secrets.setItem(0, 1, QTableWidgetItem("the CRM robot account"))
    dialog.apply()
    assert dialog.result() == dialog.DialogCode.Accepted
    bot = win.doc.bot
    assert bot.name == "notes-to-file" and bot.description.startswith("Writes a note")
    assert bot.settings["desktop"] == {"screen": "1600x1000", "pace": 0.2, "timeout": 7}  # other keys kept
    assert win.doc.flow().inputs["note"].default == "Hello" and bot.secrets == {"crm_password": "the CRM robot account"}
    assert win.a_undo.text() == "&Undo Change bot properties"
    win.a_undo.trigger()
    assert win.doc.bot.name == "mousepad-note" and win.doc.bot.settings["desktop"]["screen"] == "1280x800"
    assert "note" not in win.doc.flow().inputs
    win.a_redo.trigger()
    win.a_save.trigger()
    saved = botfile.load(path)
    assert saved.name == "notes-to-file" and saved.settings["desktop"]["screen"] == "1600x1000"
    assert saved.main.inputs["note"].type == "string"


def test_bad_properties_are_said_and_change_nothing(win, qtbot, tmp_path):
    path = write_bot(tmp_path, "b", {}, [])
    assert win.open_path(str(path))
    before = path.read_bytes()
    dialog = win.edit_properties()
    dialog.name.setText("no spaces allowed")
    dialog.screen.setText("big")
    dialog.variables.add_row("", __import__("botloom.runner.botfile.model", fromlist=["x"]).VarDecl())
    dialog.variables.table.setItem(0, 0, QTableWidgetItem("count"))
    dialog.variables.table.cellWidget(0, 1).setCurrentText("integer")
    dialog.variables.table.setItem(0, 2, QTableWidgetItem("three"))
    dialog.other["browser"].setPlainText("{not json")
    dialog.apply()
    text = dialog.problems.text()
    assert "no spaces allowed" in text and "1280x800" in text and "count" in text and "browser" in text
    assert dialog.isVisible()  # still open, with what to fix
    assert not win.is_dirty() and win.doc.bot.name == "b" and path.read_bytes() == before
    dialog.reject()


def test_save_as_gives_a_new_bot_its_files_name(win, qtbot, tmp_path):
    win.new_bot()
    assert win.doc.bot.name == "new-bot"
    target = tmp_path / "invoice-intake.bot.json"
    win.ask_save_path = lambda *a, **k: str(target)
    assert win.save_as()
    assert json.loads(target.read_text(encoding="utf-8"))["name"] == "invoice-intake"
    copy = tmp_path / "invoice-intake-v2.bot.json"
    win.ask_save_path = lambda *a, **k: str(copy)
    assert win.save_as()
    assert json.loads(copy.read_text(encoding="utf-8"))["name"] == "invoice-intake"  # a named bot keeps its name
