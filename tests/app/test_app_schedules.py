"""The designer's Schedules panel (offscreen), against a real run store in a throw-away data
folder and against a real `botloom runner serve` process: a cron schedule is added through the
dialog (its five fire times are the scheduler's own), paused and removed; with a service
running, a schedule added in the panel is the service's, and its runs appear in the run
history while they run, with their trigger."""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bots import write_bot  # noqa: E402

from botloom.app.schedules_panel import fire_time_text  # noqa: E402
from botloom.runner.server.schedules import make_schedule  # noqa: E402

CRON, ZONE = "*/20 9-17 * * MON-FRI", "Europe/Paris"


def _service_process():
    """tests/service/conftest.py's ServiceProcess (loaded under its own name: this folder has a conftest too)."""
    path = Path(__file__).resolve().parents[1] / "service" / "conftest.py"
    spec = importlib.util.spec_from_file_location("service_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ServiceProcess


def waiting_bot(folder: Path, seconds: float = 0.0) -> Path:
    return write_bot(folder, "waiter", {"start": {"type": "core.start"},
                                        "wait": {"type": "core.delay", "params": {"seconds": seconds}}},
                     [("start.out", "wait.in")],
                     inputs={"who": {"type": "string", "default": "nobody"},
                             "count": {"type": "integer", "default": 1}})


def _stored(home: Path) -> list[tuple]:
    conn = sqlite3.connect(home / "runs.sqlite")
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name='service_schedules'").fetchone():
            return []  # nothing ever stored a schedule in this data folder
        return conn.execute("SELECT name, kind, spec, inputs, paused FROM service_schedules").fetchall()
    finally:
        conn.close()


def _column(table, col: int) -> list[str]:
    return [table.item(r, col).text() for r in range(table.rowCount())]


def _retype(qtbot, edit, text: str) -> None:
    edit.clear()
    qtbot.keyClicks(edit, text)


def test_a_cron_schedule_added_in_the_dialog_shows_the_scheduler_s_next_five_times_then_pauses_and_goes(
        win, qtbot, tmp_path, botloom_home):
    import json

    bot = waiting_bot(tmp_path)
    panel = win.schedules
    win.dock_schedules.show()
    win.dock_schedules.raise_()
    panel.reload()
    assert panel.table.rowCount() == 0 and not panel.online
    assert "take effect when it starts" in panel.status.text()

    dialog = panel.make_dialog()
    dialog.bot.setText(str(bot))
    dialog.bot.editingFinished.emit()
    assert sorted(dialog.inputs) == ["count", "who"]  # the bot's declared inputs, each with its editor
    _retype(qtbot, dialog.cron, "61 * * * *")
    assert "not valid" in dialog.preview.text() and "Traceback" not in dialog.preview.text()
    assert dialog.fire_times == []
    _retype(qtbot, dialog.cron, CRON)
    dialog.zone.setCurrentText(ZONE)
    expected = make_schedule(str(bot), cron=CRON, timezone_name=ZONE).next_fire_times(5)
    assert len(expected) == 5
    assert dialog.preview.text().splitlines() == [fire_time_text(t) for t in expected]
    assert dialog.fire_times == expected

    _retype(qtbot, dialog.inputs["count"].editor, "three")  # not an integer: the dialog stays open and says so
    ok = dialog.buttons.button(QDialogButtonBox.Ok)
    ok.click()
    assert dialog.error.isVisibleTo(dialog) and "input 'count'" in dialog.error.text()
    assert _stored(botloom_home) == []
    _retype(qtbot, dialog.inputs["count"].editor, "3")
    _retype(qtbot, dialog.inputs["who"].editor, "Ada")
    _retype(qtbot, dialog.name, "office-hours")
    ok.click()
    assert dialog.result() == QDialog.Accepted, dialog.error.text()

    [(name, kind, spec, inputs, paused)] = _stored(botloom_home)
    assert (name, kind, json.loads(spec)["cron"], json.loads(spec)["timezone"], paused) == \
        ("office-hours", "cron", CRON, ZONE, 0)
    assert json.loads(inputs) == {"count": 3, "who": "Ada"}
    assert _column(panel.table, 0) == ["office-hours"] and _column(panel.table, 3) == ["active"]
    assert _column(panel.table, 2) == [fire_time_text(expected[0])]
    assert "take effect when it starts" in panel.status.text()

    panel.table.selectRow(0)
    assert panel.pause_button.isEnabled() and not panel.resume_button.isEnabled()
    panel.pause_button.click()
    assert _stored(botloom_home)[0][4] == 1
    assert _column(panel.table, 3) == ["paused"] and _column(panel.table, 2) == ["-"]
    asked = []
    panel.ask_remove = lambda name: asked.append(name) or False  # "No": nothing removed
    panel.remove_button.click()
    assert asked == ["office-hours"] and len(_stored(botloom_home)) == 1
    panel.ask_remove = lambda name: True
    panel.remove_button.click()
    assert _stored(botloom_home) == [] and panel.table.rowCount() == 0


def test_a_bad_trigger_or_bot_is_refused_inline_with_nothing_stored(win, qtbot, tmp_path, botloom_home):
    panel = win.schedules
    dialog = panel.make_dialog()
    ok = dialog.buttons.button(QDialogButtonBox.Ok)
    ok.click()  # no bot
    assert "choose the bot" in dialog.error.text() and dialog.result() != QDialog.Accepted
    missing = tmp_path / "gone.bot.json"
    dialog.bot.setText(str(missing))
    dialog.bot.editingFinished.emit()
    dialog.kind.setCurrentIndex(dialog.kind.findData("interval"))
    _retype(qtbot, dialog.every, "5 fortnights")
    assert "is not a duration" in dialog.preview.text()
    _retype(qtbot, dialog.every, "10m")
    assert len(dialog.fire_times) == 5
    ok.click()  # the bot file does not exist: refused by the same check the CLI makes
    assert "gone.bot.json" in dialog.error.text() and "Traceback" not in dialog.error.text()
    assert not (botloom_home / "runs.sqlite").exists() or _stored(botloom_home) == []


def test_with_a_service_running_the_panel_s_schedule_is_the_service_s_and_its_runs_show_live(
        win, qtbot, tmp_path, botloom_home):
    bot = waiting_bot(tmp_path, seconds=4.0)
    svc = _service_process()(botloom_home).start()
    try:
        panel = win.schedules
        panel.reload()
        assert panel.online and f"process {svc.proc.pid}" in panel.status.text()
        dialog = panel.make_dialog()
        dialog.bot.setText(str(bot))
        dialog.bot.editingFinished.emit()
        dialog.kind.setCurrentIndex(dialog.kind.findData("interval"))
        _retype(qtbot, dialog.every, "1s")
        _retype(qtbot, dialog.name, "ticker")
        dialog.buttons.button(QDialogButtonBox.Ok).click()
        assert dialog.result() == QDialog.Accepted, dialog.error.text()
        listed = svc.call("GET", "/schedules")
        assert [(s["name"], s["kind"], s["spec"]["seconds"], s["paused"]) for s in listed] == \
            [("ticker", "interval", 1.0, False)]

        history = win.history
        win.dock_history.show()
        win.dock_history.raise_()
        rows = lambda: list(zip(_column(history.table, 2), _column(history.table, 5)))  # noqa: E731
        qtbot.waitUntil(lambda: ("running", "schedule:ticker") in rows(), timeout=60000)  # no Refresh pressed
        qtbot.waitUntil(lambda: ("succeeded", "schedule:ticker") in rows(), timeout=60000)
        history.bot_filter = "another-bot"  # the open bot's runs only, unless "All bots" is ticked
        history.refresh()
        assert history.table.rowCount() == 0
        history.all_bots.setChecked(True)
        assert "schedule:ticker" in _column(history.table, 5)

        win.dock_schedules.raise_()
        panel.table.selectRow(0)
        panel.pause_button.click()
        assert svc.call("GET", "/schedules")[0]["paused"] is True
        panel.ask_remove = lambda name: True
        panel.remove_button.click()
        assert svc.call("GET", "/schedules") == [] and panel.table.rowCount() == 0
    finally:
        assert svc.stop() == 0


def test_queue_and_mail_triggers_are_added_in_the_dialog(win, qtbot, tmp_path, botloom_home):
    import json

    bot = waiting_bot(tmp_path)
    panel = win.schedules
    for kind, fill, says in (
            ("queue", lambda d: _retype(qtbot, d.queue, "invoices"), "work queue 'invoices'"),
            ("mail", lambda d: (_retype(qtbot, d.mail, "imaps://ap@mail.example.com/INBOX"),
                                _retype(qtbot, d.mail_secret, "ap-mail"), _retype(qtbot, d.mail_move, "Done")),
             "INBOX of ap@mail.example.com")):
        dialog = panel.make_dialog()
        dialog.bot.setText(str(bot))
        dialog.bot.editingFinished.emit()
        dialog.kind.setCurrentIndex(dialog.kind.findData(kind))
        assert "needs" in dialog.preview.text()  # empty: the trigger says what it needs
        fill(dialog)
        assert says in dialog.preview.text(), dialog.preview.text()
        dialog.buttons.button(QDialogButtonBox.Ok).click()
        assert dialog.result() == QDialog.Accepted, dialog.error.text()
    stored = {row[1]: json.loads(row[2]) for row in _stored(botloom_home)}
    assert stored["queue"] == {"queue": "invoices"}
    mail = stored["mail"]
    assert (mail["host"], mail["user"], mail["folder"], mail["secret"], mail["move_to"]) == (
        "mail.example.com", "ap", "INBOX", "ap-mail", "Done")
