"""Screenshots of the designer with a real sample bot, for the docs:

    python -m botloom.app.screenshots docs/screenshots

Writes ``start.png`` (start page), ``main.png`` (main window with the csv-report sample),
``main-dark.png`` (the same in the dark theme), ``inspector.png``, ``properties.png`` (the bot
properties dialog), ``runform.png`` (the run form of the sample's inputs), ``run.png`` (a run
paused at a breakpoint, nodes coloured by result), ``history.png`` (run history),
``recording.png`` (nodes of a browser recording just appended, with the recording bar of the
next one counting) and ``arranged.png`` (the mousepad-note sample, arranged). Runs offscreen unless a display is asked for with
``--display``; works on a copy of the sample bot in a temporary folder with its own data
folder, so nothing of the user's is touched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path


def _wait(condition, timeout_ms: int = 60_000) -> bool:
    from PySide6.QtCore import QDeadlineTimer, QEventLoop

    deadline = QDeadlineTimer(timeout_ms)
    loop = QEventLoop()  # not the static processEvents(): see theme.process_events
    while not condition():
        if deadline.hasExpired():
            return False
        loop.processEvents(QEventLoop.AllEvents | QEventLoop.WaitForMoreEvents, 50)
    return True


def take(out: Path) -> list[Path]:
    from .main import MainWindow, bots_dir, create_app
    from .theme import process_events

    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="botloom-shots-"))
    os.environ["BOTLOOM_HOME"] = str(work / "home")
    bot_dir = work / "csv-report"
    shutil.copytree(bots_dir() / "csv-report", bot_dir, ignore=shutil.ignore_patterns("out"))
    bot = bot_dir / "csv-report.bot.json"
    create_app([sys.argv[0]])
    win = MainWindow()
    win.resize(1440, 880)
    win.add_recent(str(bot))
    win.show()
    process_events()
    written = []

    def shot(widget, name: str) -> None:
        process_events()
        path = out / name
        widget.grab().save(str(path))
        written.append(path)

    shot(win, "start.png")
    win.open_path(str(bot))
    from PySide6.QtCore import Qt

    process_events()
    win.resizeDocks([win.dock_problems], [170], Qt.Vertical)  # the canvas gets most of the window
    process_events()
    win.select_node("main", "check")
    win.view.fit_to_view()
    shot(win, "main.png")
    win.set_theme("dark")
    shot(win, "main-dark.png")
    win.set_theme("light")
    win.select_node("main", "read")
    win.view.centerOn(620, 200)
    shot(win.dock_inspector, "inspector.png")
    from PySide6.QtWidgets import QTabWidget

    dialog = win.edit_properties()
    dialog.resize(760, 520)
    dialog.findChild(QTabWidget).setCurrentIndex(1)  # the inputs, with types and defaults
    shot(dialog, "properties.png")
    dialog.reject()
    from .runform import RunForm

    form = RunForm(win.doc.flow("main").inputs, {"min_confidence": "0.9"}, "Run csv-report", win)
    form.show()
    shot(form, "runform.png")
    form.reject()

    win.select_node("main", "summary")
    win.toggle_breakpoint()
    win.scene.clearSelection()
    win.run_bot()
    if not _wait(lambda: win.run.paused_at == "summary"):
        raise SystemExit("the run did not reach its breakpoint: " + win.log.toPlainText()[-500:])
    win.dock_log.raise_()
    win.view.centerOn(620, 200)
    shot(win, "run.png")
    win.run.resume()
    if not _wait(lambda: not win.run.running):
        raise SystemExit("the run did not finish")
    win.show_history()
    win.resizeDocks([win.dock_history], [420], Qt.Vertical)
    win.history.table.selectRow(0)
    shot(win, "history.png")
    win.doc.undo.setClean()
    bottom = [win.dock_problems, win.dock_log, win.dock_vars, win.dock_history, win.dock_inbox, win.dock_schedules,
              win.dock_dashboard, win.dock_gallery]
    for dock in bottom:  # the canvas has the window to itself for the last two
        dock.hide()

    # a browser recording's steps appended, and the bar of a recording in progress
    from .recording import RecordingBar

    for sample in ("web-form-entry", "mousepad-note"):  # copies: nothing of the samples is touched
        shutil.copytree(bots_dir() / sample, work / sample)
    win.open_path(str(work / "web-form-entry" / "web-form-entry.bot.json"))
    win._record_into = (win.flow_name, win._recording_anchor(), "browser")
    win._recording_done([
        {"type": "browser.open", "params": {"url": "http://localhost:8080/"}, "title": "Open browser"},
        {"type": "browser.fill", "params": {"target": "role=textbox[name=What needs to be done?]", "value": "Buy milk"},
         "title": "Fill 'What needs to be done?'"},
        {"type": "browser.press", "params": {"key": "Enter", "target": "role=textbox[name=What needs to be done?]"},
         "title": "Press Enter"},
        {"type": "browser.check", "params": {"target": "role=checkbox[name=Buy milk]", "checked": True},
         "title": "Tick 'Buy milk'"}])
    bar = RecordingBar(lambda: None, "in the browser")
    win.statusBar().addPermanentWidget(bar)
    bar.count(3)
    shot(win, "recording.png")
    win.statusBar().removeWidget(bar)
    win.doc.undo.setClean()

    win.open_path(str(work / "mousepad-note" / "mousepad-note.bot.json"))
    win.view.fit_to_view()
    shot(win, "arranged.png")
    win.doc.undo.setClean()
    win.close()
    shutil.rmtree(work, ignore_errors=True)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m botloom.app.screenshots", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", default="docs/screenshots")
    parser.add_argument("--display", action="store_true", help="use the real display instead of offscreen")
    args = parser.parse_args(argv)
    if not args.display:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    for path in take(Path(args.folder)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
