"""The runner service as IT runs it: a real `botloom runner serve` process, real workers, a
real SQLite store, real files; schedules, the queue, crashes, shutdown, watches, webhooks."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from conftest import ServiceProcess, delay_bot, input_bot


def _store_states(home: Path) -> dict[str, str]:
    conn = sqlite3.connect(home / "runs.sqlite")
    try:
        return dict(conn.execute("SELECT id, state FROM runs"))
    finally:
        conn.close()


def test_an_interval_schedule_fires_and_its_runs_are_in_the_store(service, tmp_path):
    svc = service()
    bot = delay_bot(tmp_path)
    made = svc.call("POST", "/schedules", {"bot": str(bot), "every": "1s", "name": "tick"})
    assert made["kind"] == "interval"
    runs = svc.wait_for(lambda: [r for r in svc.runs() if r["state"] == "succeeded"][:3] if
                        len([r for r in svc.runs() if r["state"] == "succeeded"]) >= 3 else None,
                        what="three runs of the schedule")
    assert all(r["trigger"] == "schedule:tick" for r in runs)
    listed = svc.call("GET", "/schedules")
    assert listed[0]["name"] == "tick" and listed[0]["next_fire"]


def test_schedules_survive_a_restart_of_the_service(home, tmp_path):
    bot = delay_bot(tmp_path)
    first = ServiceProcess(home).start()
    try:
        first.call("POST", "/schedules", {"bot": str(bot), "cron": "0 3 * * *", "timezone": "Europe/Paris",
                                          "name": "nightly"})
        before = first.call("GET", "/schedules")
    finally:
        assert first.stop() == 0
    second = ServiceProcess(home).start()
    try:
        after = second.call("GET", "/schedules")
    finally:
        second.stop()
    assert [s["name"] for s in after] == ["nightly"]
    assert after[0]["next_fire"] == before[0]["next_fire"]
    assert after[0]["next_fire"].endswith(("+01:00", "+02:00"))  # in the schedule's own time zone


@pytest.mark.parametrize("misfire, trigger, expected", [
    ("once", "every", (1, 1)),       # four or five fire times missed: one run for all of them
    ("catch_up", "every", (3, 6)),   # one run for each
    ("once", "at", (1, 1)),          # a one-off date missed by about 3 s: still run
    ("skip", "at", (0, 0)),          # ... but not when it may be at most 1 s late
])
def test_a_misfire_while_the_service_was_down_follows_its_policy(home, tmp_path, misfire, trigger, expected):
    bot = delay_bot(tmp_path)
    svc = ServiceProcess(home).start()
    body = {"bot": str(bot), "name": "m", "misfire": misfire, "overlap": True}
    if trigger == "every":
        body["every"] = "1s"
    else:
        from datetime import datetime, timezone

        at = time.time() + 6.0  # room for a slow stop on a loaded machine: the service is down by then
        body["at"] = datetime.fromtimestamp(at, timezone.utc).isoformat()
        body["grace"] = "1s" if misfire == "skip" else None
    svc.call("POST", "/schedules", {k: v for k, v in body.items() if v is not None})
    time.sleep(1.2)
    svc.stop()
    down = time.time()
    if trigger == "at":
        assert down < at - 0.5, f"stopping the service took {down - at + 4.8:.1f} s"
        time.sleep(at + 2.0 - time.time())  # the one-off date passes (2 s ago) while no service runs
    else:
        time.sleep(4.5)  # four or five fire times pass while no service runs
    svc = ServiceProcess(home, {"service.due_seconds": 60}).start()
    back = svc.client.state["scheduler_started_at"]
    try:
        time.sleep(1.0)
    finally:
        svc.stop()
    conn = sqlite3.connect(home / "runs.sqlite")
    fires = conn.execute("SELECT scheduled_at, fired_at, outcome FROM service_fires WHERE scheduled_at > ? "
                         "ORDER BY scheduled_at", (down,)).fetchall()
    # the fire times missed while the service was down are those before the restarted scheduler first
    # looked (rows are recorded when their run has started, so a late run's row may come after an
    # on-time one's: only the scheduled times tell them apart)
    first = back
    late = [(at, outcome) for at, fired, outcome in fires if at < first]
    started = [at for at, outcome in late if outcome == "started"]
    assert expected[0] <= len(started) <= expected[1], (misfire, fires)
    if misfire == "skip":
        assert [o for _, o in late] == ["missed"]
    assert all(o == "started" for at, f, o in fires if at > first)  # after the restart: as usual


def test_the_concurrency_limit_holds_with_eight_queued_runs(service, tmp_path):
    svc = service({"service.max_runs": 2})
    bot = delay_bot(tmp_path, seconds=0.6)
    ids = [svc.call("POST", "/runs", {"bot": str(bot)})["run_id"] for _ in range(8)]
    most = 0
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        health = svc.call("GET", "/health")
        most = max(most, len(health["active"]))
        assert len(health["active"]) <= 2
        states = _store_states(svc.home)
        if all(states.get(i) == "succeeded" for i in ids):
            break
        time.sleep(0.05)
    assert all(_store_states(svc.home).get(i) == "succeeded" for i in ids)
    assert most == 2
    conn = sqlite3.connect(svc.home / "runs.sqlite")
    spans = sorted(conn.execute(f"SELECT started_at, ended_at FROM runs WHERE id IN ({','.join('?' * 8)})", ids))
    for i, (start, _) in enumerate(spans):  # never three at once, from the store's own times
        assert sum(1 for s, e in spans if s <= start < e) <= 2


def test_a_worker_killed_mid_run_is_resumed_from_its_journal_and_repeats_no_side_effect(service, tmp_path):
    svc = service()
    marker = tmp_path / "effects.txt"
    bot = delay_bot(tmp_path, seconds=2.0, marker=str(marker))
    run_id = svc.call("POST", "/runs", {"bot": str(bot)})["run_id"]
    svc.wait_for(lambda: marker.exists() and "before" in marker.read_text(), what="the first side effect")
    worker = svc.wait_for(lambda: [a for a in svc.call("GET", "/health")["active"] if a["run_id"] == run_id],
                          what="the worker")[0]
    os.kill(worker["pid"], signal.SIGKILL)
    svc.wait_for(lambda: _store_states(svc.home).get(run_id) == "succeeded", what="the resumed run to succeed")
    lines = marker.read_text().splitlines()
    assert lines == [f"before {run_id}", f"after {run_id}"]  # each side effect exactly once
    history = sqlite3.connect(svc.home / "runs.sqlite").execute(
        "SELECT state FROM state_changes WHERE run_id=? ORDER BY id", (run_id,)).fetchall()
    assert ("crashed",) in history


def test_sigterm_shuts_down_cleanly_and_the_stopped_run_continues_at_the_next_start(home, tmp_path):
    marker = tmp_path / "effects.txt"
    bot = delay_bot(tmp_path, seconds=3.0, marker=str(marker))
    svc = ServiceProcess(home, {"service.shutdown_grace": 0.5}).start()
    run_id = svc.call("POST", "/runs", {"bot": str(bot)})["run_id"]
    svc.wait_for(lambda: marker.exists(), what="the run to start")
    t0 = time.monotonic()
    assert svc.stop() == 0
    assert time.monotonic() - t0 < 20
    assert _store_states(home)[run_id] in ("cancelled", "crashed")
    again = ServiceProcess(home).start()
    try:
        again.wait_for(lambda: _store_states(home).get(run_id) == "succeeded", what="the run to continue")
    finally:
        again.stop()
    assert marker.read_text().splitlines() == [f"before {run_id}", f"after {run_id}"]


def test_fifty_files_dropped_at_once_start_exactly_fifty_runs(service, tmp_path):
    svc = service({"service.max_runs": 4})
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    bot = input_bot(tmp_path)
    svc.call("POST", "/schedules", {"bot": str(bot), "watch": str(inbox), "name": "inbox"})
    names = [f"invoice-{i:02d}.txt" for i in range(50)]
    staging = tmp_path / "staging"
    staging.mkdir()
    for name in names:
        (staging / name).write_text(name)
    for name in names:  # all at once: renames into the watched folder
        os.rename(staging / name, inbox / name)
    svc.wait_for(lambda: len(list((inbox / "done").glob("*"))) + len(list((inbox / "failed").glob("*"))) == 50,
                 timeout=180, what="every file to be done or failed")
    runs = [r for r in svc.runs() if r["trigger"] == "watch:inbox"]
    assert len(runs) == 50
    assert sorted(p.name for p in (inbox / "done").iterdir()) == names
    assert list((inbox / "processing").iterdir()) == []
    conn = sqlite3.connect(svc.home / "runs.sqlite")
    seen = sorted(Path(r[0]).name for r in conn.execute("SELECT inputs FROM runs WHERE trigger='watch:inbox'")
                  .fetchall() for r in [(eval_json(r[0])["file"],)])
    assert seen == names  # one run per file, none twice


def eval_json(text: str):
    import json

    return json.loads(text)


def test_a_webhook_starts_a_run_with_its_body_as_inputs(service, tmp_path):
    svc = service()
    bot = input_bot(tmp_path)
    svc.call("POST", "/schedules", {"bot": str(bot), "webhook": "new-invoice"})
    run_id = svc.call("POST", "/hooks/new-invoice", {"file": "INV-7"})["run_id"]
    svc.wait_for(lambda: _store_states(svc.home).get(run_id) == "succeeded", what="the webhook's run")
    shown = svc.call("GET", f"/runs/{run_id}")
    assert shown["outputs"] == {"seen": "INV-7"} and shown["trigger"] == "webhook:new-invoice"
    with pytest.raises(Exception, match="no webhook named 'nope'"):
        svc.call("POST", "/hooks/nope", {})


def test_the_api_refuses_requests_without_the_token(service):
    import httpx

    svc = service()
    base = svc.client.base
    assert httpx.get(base + "/health").status_code == 401
    assert httpx.get(base + "/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(base + "/metrics").status_code == 401
    assert httpx.post(base + "/runs", json={"bot": "x"}).status_code == 401
    token = (svc.home / "service" / "token")
    assert token.stat().st_mode & 0o777 == 0o600


def _other_addresses() -> list[str]:
    import socket

    found = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(info[4][0])
    except OSError:
        pass
    try:
        import subprocess

        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
        found.update(a for a in out if ":" not in a)
    except OSError:
        pass
    return sorted(a for a in found if not a.startswith("127."))


def test_the_api_is_bound_to_loopback_only(service):
    import socket

    svc = service()
    port = svc.client.state["port"]
    others = _other_addresses()
    if not others:
        pytest.skip("this machine has no address but loopback")
    for address in others:
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex((address, port)) != 0, f"the API answered on {address}"
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) == 0


def test_a_service_refuses_a_non_loopback_address(home):
    svc = ServiceProcess(home, {"service.host": "0.0.0.0"})
    with pytest.raises(AssertionError, match="binds only to a loopback address"):
        svc.start()


def test_metrics_parse_and_match_the_store(service, tmp_path):
    from prometheus_client.parser import text_string_to_metric_families

    svc = service()
    good = delay_bot(tmp_path, "good")
    from bots import write_bot

    bad = write_bot(tmp_path, "bad", {"start": {"type": "core.start"},
                                      "boom": {"type": "core.fail", "params": {"message": "no"}}}, [("start.out", "boom.in")])
    ids = [svc.call("POST", "/runs", {"bot": str(b)})["run_id"] for b in (good, good, bad)]
    svc.wait_for(lambda: all(_store_states(svc.home).get(i) in ("succeeded", "failed") for i in ids),
                 what="the runs")
    time.sleep(0.3)
    text = svc.call("GET", "/metrics")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    finished = {(s.labels["bot"], s.labels["state"]): s.value for s in families["botloom_runs_finished"].samples
                if s.name.endswith("_total")}
    states = _store_states(svc.home)
    assert finished == {("good", "succeeded"): 2.0, ("bad", "failed"): 1.0}
    assert sum(1 for i in ids if states[i] == "succeeded") == 2
    started = {s.labels["bot"]: s.value for s in families["botloom_runs_started"].samples if s.name.endswith("_total")}
    assert started == {"good": 2.0, "bad": 1.0}
    steps = [s for s in families["botloom_step_seconds"].samples if s.name.endswith("_count")]
    assert {s.labels["node_type"] for s in steps} >= {"core.start", "core.delay", "core.fail"}


def test_a_second_service_on_the_same_data_folder_is_refused(service, home):
    service()
    second = ServiceProcess(home)
    with pytest.raises(AssertionError, match="already runs on the data folder"):
        second.start()
