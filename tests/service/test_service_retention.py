"""The service's settings come from the one list `botloom config` knows, and the service applies
log and artifact retention (age, count, size) itself, on a real service process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import delay_bot

from botloom.runner.engine.runs import new_run_id

DAY = 86400


def _config(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "botloom.runner.cli", "config", *args], capture_output=True,
                          text=True, env={**os.environ, "BOTLOOM_HOME": str(home)})


def test_botloom_config_sets_the_services_settings_typed(home):
    from botloom.runner.runtime import Runner
    from botloom.runner.server.dispatcher import Dispatcher
    from botloom.runner.server.service import Service

    home.mkdir(parents=True)
    assert _config(home, "service.max_runs", "2").returncode == 0
    assert _config(home, "service.due_seconds", "0.5").returncode == 0
    service = Service(Runner(home))
    assert service.settings["service.max_runs"] == 2 and service.settings["service.due_seconds"] == 0.5
    assert Dispatcher(service.runner, None, settings=service.settings).max_runs == 2
    bad = _config(home, "service.max_runs", "two")
    assert bad.returncode == 2 and "takes a whole number, got 'two'" in bad.stderr and "Traceback" not in bad.stderr
    choice = _config(home, "service.virtual_display", "sometimes")
    assert choice.returncode == 2 and "one of auto, always, never" in choice.stderr


def _fake_run(home: Path, age_days: float, artifact_bytes: int = 0) -> str:
    """The logs (and an artifact) of a run that ended ``age_days`` ago."""
    run_id = new_run_id()
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    when = time.time() - age_days * DAY
    files = [logs / f"{run_id}.jsonl", logs / f"{run_id}.log"]
    for f in files:
        f.write_text('{"event": "run_finished"}\n')
    if artifact_bytes:
        folder = home / "artifacts" / run_id
        folder.mkdir(parents=True)
        (folder / "shot.png").write_bytes(b"\0" * artifact_bytes)
        files += [folder / "shot.png", folder]
    for f in files:
        os.utime(f, (when, when))
    return run_id


def _kept(home: Path, run_id: str) -> bool:
    return (home / "logs" / f"{run_id}.jsonl").exists() or (home / "artifacts" / run_id).exists()


def test_the_service_applies_log_and_artifact_retention_by_age_count_and_size(service, home, tmp_path):
    home.mkdir(parents=True)
    old = _fake_run(home, 40, artifact_bytes=1000)     # past logs.retention_days
    big_old = _fake_run(home, 3, artifact_bytes=600_000)  # does not fit in logs.max_mb with the two below
    big_mid = _fake_run(home, 2, artifact_bytes=400_000)
    big_new = _fake_run(home, 1, artifact_bytes=400_000)
    orphan = home / "artifacts" / new_run_id()  # an artifacts folder whose logs are gone: judged by its age
    orphan.mkdir()
    os.utime(orphan, (time.time() - 50 * DAY,) * 2)
    svc = service({"logs.retention_days": 30, "logs.max_mb": 1, "service.retention_seconds": 0.5})
    run_id = svc.call("POST", "/runs", {"bot": str(delay_bot(tmp_path))})["run_id"]
    svc.wait_for(lambda: not _kept(home, old) and not _kept(home, big_old) and not orphan.exists(),
                 what="the retention to delete the old and the oversized runs' files")
    assert _kept(home, big_mid) and _kept(home, big_new)  # the newest that fit in 1 MB stay
    svc.wait_for(lambda: (home / "logs" / f"{run_id}.jsonl").exists(), what="the service's own run's log")
    time.sleep(1.2)  # two more passes
    assert (home / "logs" / f"{run_id}.jsonl").exists() and _kept(home, big_new)
    assert (home / "logs" / "service.log").exists()  # not a run's: never pruned
    # a lower limit set while the service runs applies at its next pass
    assert _config(home, "logs.max_runs", "1").returncode == 0
    svc.wait_for(lambda: not _kept(home, big_mid) and not _kept(home, big_new),
                 what="the retention to apply logs.max_runs 1")
    assert (home / "logs" / f"{run_id}.jsonl").exists()
