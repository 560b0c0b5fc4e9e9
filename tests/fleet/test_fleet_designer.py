"""The designer's run history shows the fleet's runs through the service's API (fleet mode),
with a run another runner ran, and cancels a fleet run from there (a real service, a real
Temporal dev server, real worker processes; Qt offscreen)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6", reason="the designer needs PySide6")
pytest.importorskip("pytestqt", reason="the designer tests need pytest-qt")

from bots import write_bot  # noqa: E402
from conftest import wait_for  # noqa: E402
from test_fleet import _slow_bot, lines, result, start  # noqa: E402


@pytest.fixture
def fleet_service(fleet, tmp_path, monkeypatch):
    from botloom.runner.server.client import Client

    home = tmp_path / "designer-home"
    home.mkdir()
    (home / "settings.json").write_text(json.dumps({"service.port": 0}))
    log = open(tmp_path / "service.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "botloom.runner.cli", "runner", "serve", "--fleet", fleet.address,
                             "--labels", "ocr"], env={**os.environ, "BOTLOOM_HOME": str(home)}, stdout=log, stderr=log)
    monkeypatch.setenv("BOTLOOM_HOME", str(home))
    try:
        yield wait_for(lambda: proc.poll() is None and (c := Client.find(home)) is not None
                       and c.state.get("pid") == proc.pid and c, 60, "the service")
    finally:
        proc.terminate()
        proc.wait(60)
        log.close()


def test_history_lists_the_fleets_runs_and_cancels_one(fleet, fleet_service, qtbot, tmp_path):
    from botloom.app.history import RunHistory

    desk = write_bot(tmp_path, "on-the-desk", {"start": {"type": "core.start"}}, [],
                     settings={"fleet": {"needs": ["desktop"]}})
    elsewhere = start(fleet, desk)
    assert result(fleet, elsewhere)["worker"].startswith("desk-")  # not this machine's run
    history = RunHistory()
    qtbot.addWidget(history)
    history.show()
    history.refresh()
    assert history.fleet_box.isVisible()  # a service runs on the data folder
    assert elsewhere not in [r.id for r in history.runs]  # the local store has only this runner's runs
    history.fleet_box.setChecked(True)
    wait_for(lambda: history.refresh() or elsewhere in [r.id for r in history.runs], 15, "the fleet's run list")
    row = [r.id for r in history.runs].index(elsewhere)
    assert history.table.item(row, 1).text() == "on-the-desk"
    history.show_run(elsewhere)
    assert "another runner" in history.summary.text() and not history.resume_button.isEnabled()

    slow = _slow_bot(tmp_path, "slow-ocr", tmp_path / "slow.txt", settings={"fleet": {"needs": ["ocr"]}})
    run_id = fleet_service.call("POST", "/runs", {"bot": str(slow)})["run_id"]
    wait_for(lambda: lines(tmp_path / "slow.txt"), 30, "the slow run's first step")
    wait_for(lambda: history.refresh() or any(r.id == run_id and r.state == "running" for r in history.runs), 15,
             "the slow run in the list")
    history.show_run(run_id)
    assert history.cancel_button.isVisible() and history.cancel_button.isEnabled()
    history.cancel_button.click()
    assert result(fleet, run_id, timeout=30)["state"] == "cancelled"
    assert "cancel asked" in history.fleet_note.text()
