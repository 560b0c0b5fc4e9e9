"""The designer's run history on a data folder that cannot be written: it shows the runs as
they stand instead of failing on marking a dead run crashed. The read-only folder is a real
tmpfs remounted read-only (needs root)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from bots import write_bot
from tmpfs import mounted, remount_read_only


@pytest.fixture
def disk(tmp_path):
    yield from mounted(tmp_path / "disk", "4m")


def test_history_shows_runs_on_a_read_only_data_folder(win, qtbot, tmp_path, disk, monkeypatch):
    home = disk / "home"
    monkeypatch.setenv("BOTLOOM_HOME", str(home))
    bot = write_bot(tmp_path, "dies", {"start": {"type": "core.start"}, "boom": {"type": "uitest.die"}},
                    [("start.out", "boom.in")])
    died = subprocess.run([sys.executable, "-m", "botloom.runner.cli", "run", str(bot), "-q"], env=os.environ.copy(),
                          capture_output=True, text=True, timeout=120)
    assert died.returncode != 0  # killed itself: the store still says "running"
    remount_read_only(disk)

    win.show_history()  # would mark the run crashed: a write the read-only folder refuses
    hist = win.history
    qtbot.waitUntil(lambda: hist.table.rowCount() == 1)
    assert hist.table.item(0, 1).text() == "dies" and hist.table.item(0, 2).text() == "running"


def test_autosaved_work_is_kept_in_a_folder_for_the_owner_alone(win, sample, botloom_home):
    previous = os.umask(0o022)
    try:
        assert win.open_path(str(sample))
        win.doc.undo.push(__import__("botloom.app.commands", fromlist=["x"]).SetParam(
            win.doc, "main", "report", "message", "unsaved text"))
        kept = win.autosave()
    finally:
        os.umask(previous)
    assert kept is not None and kept.parent == botloom_home / "autosave"
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
