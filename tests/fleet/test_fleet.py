"""Fleet mode on a real Temporal dev server with three real worker processes (SIGKILL, real SQLite).

The workers: ``desk`` (label desktop), ``web`` (browser) and ``plain`` (no label). Runs use a
heartbeat timeout of HEARTBEAT seconds, so a killed worker is noticed that long after it died.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bots import write_bot
from conftest import wait_for

from botloom.runner.fleet.worker import STICKY_SECONDS

HEARTBEAT = 3.0


def start(fleet, path, inputs=None) -> str:
    return fleet.call(lambda c: c.start(path, inputs, heartbeat=HEARTBEAT))


def status(fleet, run_id) -> dict:
    return fleet.call(lambda c: c.status_of(run_id))


def result(fleet, run_id, timeout=60.0) -> dict:
    return fleet.call(lambda c: c.result(run_id, timeout))


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def local_state(fleet, identity, run_id) -> str | None:
    db = sqlite3.connect(fleet.homes[identity] / "runs.sqlite")
    try:
        row = db.execute("SELECT state FROM runs WHERE id=?", (run_id,)).fetchone()
    finally:
        db.close()
    return row and row[0]


def relaunch(fleet, identity) -> str:
    """Start a worker with the name, labels and data folder of one that was killed."""
    name = identity.rsplit("-", 1)[0]
    return fleet.start_worker(name, {"desk": "desktop", "web": "browser"}.get(name, ""))


def restart(fleet, identity) -> str:
    """SIGKILL a worker and start it again."""
    fleet.kill(identity)
    return relaunch(fleet, identity)


def test_runs_spread_by_capability(fleet, tmp_path):
    bots = {need: write_bot(tmp_path, f"needs-{need or 'none'}", {
        "start": {"type": "core.start"},
        "log": {"type": "core.log", "params": {"message": "hello"}},
    }, [("start.out", "log.in")], settings={"fleet": {"needs": [need]}} if need else {}) for need in
            ("desktop", "browser", None)}
    runs = {need: [start(fleet, path) for _ in range(10)] for need, path in bots.items()}
    done = {run_id: result(fleet, run_id) for ids in runs.values() for run_id in ids}
    assert all(r["state"] == "succeeded" for r in done.values()), done
    where = {need: {done[run_id]["worker"].rsplit("-", 1)[0] for run_id in ids} for need, ids in runs.items()}
    assert where["desktop"] == {"desk"} and where["browser"] == {"web"}, where
    # a run that needs nothing may go to any runner; which one is Temporal's matching, not ours
    assert where[None] <= {"desk", "web", "plain"}, where
    for run_id, r in done.items():  # each run is in the store of the runner that ran it, as on one machine
        assert local_state(fleet, r["worker"], run_id) == "succeeded"
    def listed():  # Temporal's visibility (what `botloom fleet runs` reads) follows a moment later
        runs = {run["id"]: run for run in fleet.call(lambda c: c.runs(limit=1000))}
        return set(done) <= set(runs) and all(runs[i]["status"] == "completed" for i in done)

    wait_for(listed, 10, "the fleet's run list to show every run completed")
    from botloom.runner.fleet.routing import polled_queues

    def runners():  # botloom fleet status
        st = fleet.call(lambda c: c.status(polled_queues(["desktop", "browser"], "-")))
        found = {w["identity"]: w for w in st["workers"]}
        return found if set(fleet.workers) <= set(found) else None

    found = wait_for(runners, 10, "fleet status to list every runner")
    desk = next(w for i, w in found.items() if i.startswith("desk-"))
    assert desk["labels"] == ["desktop"] and "botloom/run/desktop" in desk["queues"] and desk["load"] == 0
    plain = next(w for i, w in found.items() if i.startswith("plain-"))
    assert plain["labels"] == [] and "botloom/run/any" in plain["queues"] and "botloom/run/desktop" not in plain["queues"]


def test_killed_worker_run_finishes_elsewhere_and_repeats_no_side_effect(fleet, tmp_path):
    out = tmp_path / "out.txt"
    path = write_bot(tmp_path, "append-wait-append", {
        "start": {"type": "core.start"},
        "a": {"type": "files.append_text", "params": {"path": str(out), "text": "A\n"}},
        "wait": {"type": "core.delay", "params": {"seconds": 4}},
        "b": {"type": "files.append_text", "params": {"path": str(out), "text": "B\n"}},
        "c": {"type": "files.append_text", "params": {"path": str(out), "text": "C\n"}},
    }, [("start.out", "a.in"), ("a.out", "wait.in"), ("wait.out", "b.in"), ("b.out", "c.in")])
    run_id = start(fleet, path)
    wait_for(lambda: lines(out) == ["A"], 30, "the first side effect")
    first = wait_for(lambda: status(fleet, run_id)["worker"], 10, "the run's worker")
    fleet.kill(first)
    killed = time.monotonic()
    wait_for(lambda: status(fleet, run_id)["segment"] > 1, 30, "the run to move", every=0.05)
    assert time.monotonic() - killed < HEARTBEAT + STICKY_SECONDS + 2  # noticed at the heartbeat timeout
    relaunch(fleet, first)
    done = result(fleet, run_id)
    assert done["state"] == "succeeded" and done["worker"] != first
    assert lines(out) == ["A", "B", "C"]  # every completed side effect exactly once
    assert local_state(fleet, done["worker"], run_id) == "succeeded"


class SlowPosts(BaseHTTPRequestHandler):
    posts: list = []
    release = threading.Event()

    def do_POST(self):
        SlowPosts.posts.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        SlowPosts.release.wait(30)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_in_flight_non_idempotent_step_needs_attention(fleet, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowPosts)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out = tmp_path / "out.txt"
    url = f"http://127.0.0.1:{server.server_address[1]}/orders"
    path = write_bot(tmp_path, "post-order", {
        "start": {"type": "core.start"},
        "a": {"type": "files.append_text", "params": {"path": str(out), "text": "A\n"}},
        "post": {"type": "http.request", "params": {"method": "POST", "url": url, "body": {"order": 1}}},
        "b": {"type": "files.append_text", "params": {"path": str(out), "text": "B\n"}},
    }, [("start.out", "a.in"), ("a.out", "post.in"), ("post.out", "b.in")])
    try:
        run_id = start(fleet, path)
        wait_for(lambda: SlowPosts.posts, 30, "the order to be posted")
        first = status(fleet, run_id)["worker"]
        restart(fleet, first)
        SlowPosts.release.set()
        st = wait_for(lambda: (s := status(fleet, run_id))["state"] == "needs_attention" and s, 30,
                      "the run to need attention")
        assert st["attention"]["node"] == "post" and st["worker"] != first
        assert len(SlowPosts.posts) == 1 and lines(out) == ["A"]
        fleet.call(lambda c: c.answer(run_id, action="skip", by="tester"))  # a person checked: it took effect
        done = result(fleet, run_id)
        assert done["state"] == "succeeded"
        assert len(SlowPosts.posts) == 1 and lines(out) == ["A", "B"]
    finally:
        SlowPosts.release.set()
        server.shutdown()


def test_review_wait_survives_restart_of_every_worker(fleet, tmp_path):
    out = tmp_path / "out.txt"
    path = write_bot(tmp_path, "reviewed", {
        "start": {"type": "core.start"},
        "a": {"type": "files.append_text", "params": {"path": str(out), "text": "A\n"}},
        "review": {"type": "review.task", "params": {
            "title": "Check the total", "fields": [{"name": "total", "type": "number", "value": 10}]}},
        "b": {"type": "files.append_text",
              "params": {"path": str(out), "text": "{{ nodes.review.outcome }} {{ nodes.review.values.total }}\n"}},
    }, [("start.out", "a.in"), ("a.out", "review.in"), ("review.approve", "b.in")])
    run_id = start(fleet, path)
    st = wait_for(lambda: (s := status(fleet, run_id))["state"] == "suspended" and s, 30, "the review wait")
    assert st["wake"]["signal"] == "review"
    for identity in list(fleet.workers):
        restart(fleet, identity)
    fleet.call(lambda c: c.answer(run_id, data={"outcome": "approve", "values": {"total": 12}}, by="reviewer"))
    done = result(fleet, run_id)
    assert done["state"] == "succeeded", done
    assert lines(out) == ["A", "approve 12"]


def test_a_bot_that_cannot_run_is_refused_before_anything_is_queued(fleet, tmp_path):
    from botloom.runner.errors import BotloomError

    path = write_bot(tmp_path, "bad-pin", {"start": {"type": "core.start"}}, [], settings={"fleet": {"pin": 7}})
    with pytest.raises(BotloomError) as info:
        start(fleet, path)
    assert "settings.fleet.pin" in info.value.message and info.value.fix


def _fleet_service(fleet, tmp_path, labels="ocr"):
    """A runner service in fleet mode on its own data folder: (process, client, home, log)."""
    import json
    import os
    import subprocess
    import sys

    from botloom.runner.server.client import Client

    home = tmp_path / "service-home"
    home.mkdir()
    (home / "settings.json").write_text(json.dumps({"service.port": 0, "service.due_seconds": 0.2}))
    log = open(tmp_path / "service.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "botloom.runner.cli", "runner", "serve", "--fleet", fleet.address,
                             "--labels", labels], env={**os.environ, "BOTLOOM_HOME": str(home)}, stdout=log, stderr=log)
    client = wait_for(lambda: proc.poll() is None and (c := Client.find(home)) is not None
                      and c.state.get("pid") == proc.pid and c, 60, "the service")
    return proc, client, home, log


def test_service_in_fleet_mode_starts_runs_through_the_fleet(fleet, tmp_path):
    import json
    import os
    import subprocess
    import sys

    proc, client, home, log = _fleet_service(fleet, tmp_path)
    try:
        path = write_bot(tmp_path, "needs-ocr", {"start": {"type": "core.start"}}, [],
                         settings={"fleet": {"needs": ["ocr"]}})
        run_id = client.call("POST", "/runs", {"bot": str(path)})["run_id"]
        done = result(fleet, run_id)
        assert done["state"] == "succeeded" and done["worker"].endswith(f"-{proc.pid}")  # the one runner with ocr
        desk = write_bot(tmp_path, "needs-desktop", {"start": {"type": "core.start"}}, [],
                         settings={"fleet": {"needs": ["desktop"]}})
        elsewhere = start(fleet, desk)
        assert result(fleet, elsewhere)["worker"].startswith("desk-")
        listed = wait_for(lambda: (ls := {r["id"]: r for r in client.call("GET", "/fleet/runs?limit=1000")})
                          and all(ls.get(i, {}).get("status") == "completed" for i in (run_id, elsewhere)) and ls,
                          10, "the fleet's run list")  # Temporal's visibility follows a moment later
        assert listed[run_id]["queue"] == "botloom/run/ocr"  # and another runner's run, through this runner's API
        cli = subprocess.run([sys.executable, "-m", "botloom.runner.cli", "runs", "--fleet", "--json", "--limit", "1000"],
                             capture_output=True, text=True, env={**os.environ, "BOTLOOM_HOME": str(home)})
        assert cli.returncode == 0, cli.stderr
        assert {run_id, elsewhere} <= {r["id"] for r in json.loads(cli.stdout)}  # `botloom runs --fleet` agrees
        out = tmp_path / "out.txt"
        timed = write_bot(tmp_path, "timed-ocr", {
            "start": {"type": "core.start"},
            "wait": {"type": "core.delay", "params": {"seconds": 2, "suspend_after": 1}},
            "b": {"type": "files.append_text", "params": {"path": str(out), "text": "B\n"}},
        }, [("start.out", "wait.in"), ("wait.out", "b.in")], settings={"fleet": {"needs": ["ocr"]}})
        run_id = client.call("POST", "/runs", {"bot": str(timed)})["run_id"]
        assert result(fleet, run_id)["state"] == "succeeded"
        time.sleep(1.0)  # the service's due job runs every 0.2 s: it must leave the fleet's waits to Temporal
        assert lines(out) == ["B"]
        slow = _slow_bot(tmp_path, "slow-ocr", tmp_path / "slow.txt", settings={"fleet": {"needs": ["ocr"]}})
        run_id = client.call("POST", "/runs", {"bot": str(slow)})["run_id"]
        wait_for(lambda: lines(tmp_path / "slow.txt"), 30, "the slow run's first step")
        assert client.call("POST", f"/runs/{run_id}/cancel") == {"cancelled": run_id}  # through the service's API
        assert result(fleet, run_id, timeout=30)["state"] == "cancelled"
    finally:
        proc.terminate()
        proc.wait(60)
        log.close()


def test_a_fleet_mode_services_schedules_are_temporal_schedules(fleet, tmp_path):
    """`botloom schedule add --every` on a fleet-mode service makes a Temporal Schedule (it fires
    once for the whole fleet, not once per service); pause, list and remove go through it."""
    import os
    import subprocess
    import sys

    proc, client, home, log = _fleet_service(fleet, tmp_path, labels="")
    env = {**os.environ, "BOTLOOM_HOME": str(home)}

    def botloom(*args):
        done = subprocess.run([sys.executable, "-m", "botloom.runner.cli", *args], capture_output=True, text=True,
                              env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def on_fleet():
        return {s["name"]: s for s in fleet.call(lambda c: c.schedules())}

    try:
        out = tmp_path / "ticks.txt"
        path = write_bot(tmp_path, "svc-tick", {
            "start": {"type": "core.start"},
            "a": {"type": "files.append_text", "params": {"path": str(out), "text": "tick\n"}},
        }, [("start.out", "a.in")])
        botloom("schedule", "add", str(path), "--every", "1s", "--name", "svc-ticks")
        wait_for(lambda: "svc-ticks" in on_fleet(), 30, "the Temporal Schedule")
        wait_for(lambda: len(lines(out)) >= 2, 60, "two fires")
        runs = [r for r in fleet.call(lambda c: c.runs(limit=1000)) if r["id"].startswith("fleet-svc-ticks-")]
        assert runs and all(r["trigger"] == "schedule:svc-ticks" for r in runs)  # fired by Temporal
        listed = {s["name"]: s for s in client.call("GET", "/schedules")}
        assert listed["svc-ticks"]["on_fleet"] and listed["svc-ticks"]["next_fires"]
        botloom("schedule", "pause", "svc-ticks")
        handle = fleet.call(lambda c: c.client.get_schedule_handle("fleet-svc-ticks").describe())
        assert handle.schedule.state.paused
        botloom("schedule", "remove", "svc-ticks")
        wait_for(lambda: "svc-ticks" not in on_fleet(), 30, "the schedule to go")
    finally:
        proc.terminate()
        proc.wait(60)
        log.close()


def test_a_fleet_schedule_fires_runs_on_the_fleet(fleet, tmp_path):
    out = tmp_path / "ticks.txt"
    path = write_bot(tmp_path, "tick", {
        "start": {"type": "core.start"},
        "a": {"type": "files.append_text", "params": {"path": str(out), "text": "tick\n"}},
    }, [("start.out", "a.in")])
    fleet.call(lambda c: c.schedule("ticks", path, every=1.0))
    try:
        wait_for(lambda: len(lines(out)) >= 2, 60, "two fires")
        wait_for(lambda: "ticks" in [s["name"] for s in fleet.call(lambda c: c.schedules())], 30, "the listing")
        runs = [r for r in fleet.call(lambda c: c.runs(limit=1000)) if r["id"].startswith("fleet-ticks-")]
        assert runs and all(r["trigger"] == "schedule:ticks" for r in runs)
        from botloom.runner.errors import BotloomError

        with pytest.raises(BotloomError) as info:  # one name, one schedule
            fleet.call(lambda c: c.schedule("ticks", path, every=1.0))
        assert "already has a schedule" in info.value.message
    finally:
        fleet.call(lambda c: c.unschedule("ticks"))
    wait_for(lambda: "ticks" not in [s["name"] for s in fleet.call(lambda c: c.schedules())], 30, "the removal")


def test_a_timed_wait_is_a_temporal_timer(fleet, tmp_path):
    out = tmp_path / "out.txt"
    path = write_bot(tmp_path, "timed", {
        "start": {"type": "core.start"},
        "wait": {"type": "core.delay", "params": {"seconds": 2, "suspend_after": 1}},
        "b": {"type": "files.append_text", "params": {"path": str(out), "text": "B\n"}},
    }, [("start.out", "wait.in"), ("wait.out", "b.in")])
    run_id = start(fleet, path)
    st = wait_for(lambda: (s := status(fleet, run_id))["state"] == "suspended" and s, 30, "the timed wait")
    assert st["wake"]["wake_at"] and lines(out) == []  # no runner holds it: the workflow's timer wakes it
    done = result(fleet, run_id)
    assert done["state"] == "succeeded" and lines(out) == ["B"] and status(fleet, run_id)["segment"] == 2


def _slow_bot(tmp_path, name, out, seconds=20, **top):
    return write_bot(tmp_path, name, {
        "start": {"type": "core.start"},
        "a": {"type": "files.append_text", "params": {"path": str(out), "text": "A {{ run.id }}\n"}},
        "wait": {"type": "core.delay", "params": {"seconds": seconds}},
        "b": {"type": "files.append_text", "params": {"path": str(out), "text": "B {{ run.id }}\n"}},
    }, [("start.out", "a.in"), ("a.out", "wait.in"), ("wait.out", "b.in")], **top)


def test_cancel_stops_a_running_run_on_its_worker(fleet, tmp_path):
    out = tmp_path / "out.txt"
    run_id = start(fleet, _slow_bot(tmp_path, "slow", out))
    wait_for(lambda: len(lines(out)) == 1, 30, "the first step")
    worker = wait_for(lambda: status(fleet, run_id)["worker"], 10, "the run's worker")
    asked = time.monotonic()
    fleet.call(lambda c: c.cancel(run_id, by="operator"))
    done = result(fleet, run_id, timeout=30)
    assert done["state"] == "cancelled", done
    assert time.monotonic() - asked < 15  # the 20 s delay was woken, not waited out
    assert len(lines(out)) == 1  # the step after the delay never ran
    assert local_state(fleet, worker, run_id) == "cancelled"  # the runner's own history agrees


def test_cancel_ends_a_waiting_run_and_its_local_history(fleet, tmp_path):
    path = write_bot(tmp_path, "waits", {
        "start": {"type": "core.start"},
        "w": {"type": "core.wait_signal", "params": {"signal": "go"}},
    }, [("start.out", "w.in")])
    run_id = start(fleet, path)
    st = wait_for(lambda: (s := status(fleet, run_id))["state"] == "suspended" and s, 30, "the wait")
    fleet.call(lambda c: c.cancel(run_id, by="operator"))
    done = result(fleet, run_id, timeout=30)
    assert done["state"] == "cancelled" and "operator" in done["error"]["message"], done
    assert local_state(fleet, st["worker"], run_id) == "cancelled", (done.get("error"), done.get("queue"))
    from botloom.runner.fleet import FleetError

    with pytest.raises(FleetError, match="cannot cancel"):
        fleet.call(lambda c: c.cancel(run_id))  # it has ended


def test_a_runner_takes_at_most_its_capacity_over_all_its_queues(fleet, tmp_path):
    """A runner with capacity 1 polls several queues (its label's and its machine's): runs that
    reach it through two of them run one after the other, never two at once."""
    solo = fleet.start_worker("solo", "ocr", capacity=1)
    try:
        out = tmp_path / "out.txt"
        by_label = _slow_bot(tmp_path, "needs-ocr", out, seconds=1, settings={"fleet": {"needs": ["ocr"]}})
        pinned = _slow_bot(tmp_path, "pinned", out, seconds=1, settings={"fleet": {"pin": "solo"}})
        runs = [start(fleet, path) for path in (by_label, pinned, by_label, pinned)]
        for run_id in runs:
            assert result(fleet, run_id, timeout=60)["worker"] == solo
        seen = lines(out)
        assert len(seen) == 8
        for i in range(0, 8, 2):  # each run's A and B are next to each other
            assert seen[i][0] == "A" and seen[i + 1][0] == "B" and seen[i].split()[1] == seen[i + 1].split()[1], seen
    finally:
        fleet.kill(solo)
