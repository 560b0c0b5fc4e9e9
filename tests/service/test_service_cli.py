"""The CLI beside a running service: `botloom runner status` shows the schedules with their next
fire times, and `botloom runs` / `botloom show` read the store while the service writes it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import delay_bot


def _botloom(home, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "botloom.runner.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "BOTLOOM_HOME": str(home)}, timeout=120)


def test_runner_status_shows_the_schedules_next_fire_times(service, tmp_path):
    svc = service()
    bot = delay_bot(tmp_path)
    svc.call("POST", "/schedules", {"bot": str(bot), "cron": "0 3 * * *", "timezone": "Europe/Paris",
                                    "name": "nightly"})
    svc.call("POST", "/schedules", {"bot": str(bot), "every": "1h", "name": "hourly"})
    svc.call("POST", "/schedules/hourly/pause")
    expected = {s["name"]: s["next_fire"] for s in svc.call("GET", "/schedules")}
    shown = _botloom(svc.home, "runner", "status")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert any("nightly" in line and f"next {expected['nightly']}" in line for line in lines), shown.stdout
    assert any("hourly" in line and "paused" in line for line in lines), shown.stdout
    data = json.loads(_botloom(svc.home, "runner", "status", "--json").stdout)
    assert {s["name"]: s["next_fire"] for s in data["schedules"]} == expected


def test_runs_and_show_read_the_store_while_the_service_runs(service, tmp_path):
    svc = service()
    bot = delay_bot(tmp_path, seconds=3.0)
    run_id = svc.call("POST", "/runs", {"bot": str(bot)})["run_id"]
    svc.wait_for(lambda: any(a["run_id"] == run_id for a in svc.call("GET", "/health")["active"]),
                 what="the run to be running")
    listed = _botloom(svc.home, "runs")
    assert listed.returncode == 0 and run_id[:8] in listed.stdout, listed.stdout + listed.stderr
    shown = _botloom(svc.home, "show", run_id)
    assert shown.returncode == 0 and "running" in shown.stdout, shown.stdout + shown.stderr
