"""A crash loses nothing and repeats no side effect: real processes, SIGKILL, real SQLite."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from bots import write_bot

pytestmark = pytest.mark.skipif(os.name == "nt", reason="uses SIGKILL")


def wait_for(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def kill_when(proc, predicate, what):
    try:
        wait_for(lambda: predicate() or proc.poll() is not None, what=what)
        assert proc.poll() is None, f"the run ended before it could be killed: {proc.communicate()}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()


def append_wait_append(folder: Path, name: str, file: str, first: str, second: str, seconds) -> Path:
    """start -> append `first` -> wait `seconds` -> append `second`: a side effect on each side of a wait."""
    return write_bot(folder, name, {
        "start": {"type": "core.start"},
        "a": {"type": "files.append_text", "params": {"path": file, "text": first}},
        "wait": {"type": "core.delay", "params": {"seconds": seconds}},
        "b": {"type": "files.append_text", "params": {"path": file, "text": second}},
    }, [("start.out", "a.in"), ("a.out", "wait.in"), ("wait.out", "b.in")])


def edit_snapshot(cli, run_id: str, change) -> None:
    """Change the copy of the bot a run replays (resume uses it, not the file on disk)."""
    db = sqlite3.connect(cli.home / "runs.sqlite")
    snap = json.loads(db.execute("SELECT bot_snapshot FROM runs WHERE id=?", (run_id,)).fetchone()[0])
    change(snap)
    db.execute("UPDATE runs SET bot_snapshot=? WHERE id=?", (json.dumps(snap), run_id))
    db.commit()
    db.close()


def step_state(cli, node_id: str) -> str | None:
    """The journalled state of a node's last step, read straight from the store (None if none yet)."""
    path = cli.home / "runs.sqlite"
    if not path.exists():
        return None
    db = sqlite3.connect(path, timeout=5)
    try:
        row = db.execute("SELECT state FROM node_runs WHERE node_id=? ORDER BY rowid DESC LIMIT 1", (node_id,)).fetchone()
    except sqlite3.OperationalError:  # the run has not created its tables yet
        return None
    finally:
        db.close()
    return row[0] if row else None


def only_run_id(cli) -> str:
    runs = cli.json("runs")
    assert len(runs) == 1, runs
    return runs[0]["id"]


def test_sigkill_between_side_effects_resumes_without_repeating(cli, tmp_path):
    out = tmp_path / "out.txt"
    bot = append_wait_append(tmp_path, "two-appends", "out.txt", "line A", "line B", 5)
    proc = cli.start("run", bot)
    # killed during the wait: after the first append is written *and* journalled as done
    # (a kill between the write and its journal entry is the in-flight case tested below)
    kill_when(proc, lambda: lines(out) == ["line A"] and step_state(cli, "a") == "succeeded", "the first line")
    assert lines(out) == ["line A"]

    run_id = only_run_id(cli)
    assert cli.json("runs")[0]["state"] == "crashed"  # detected: the process is gone
    resumed = cli("resume", run_id, "--json")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert json.loads(resumed.stdout)["state"] == "succeeded"
    assert lines(out) == ["line A", "line B"]  # each line exactly once

    shown = cli.json("show", run_id)
    assert [h["state"] for h in shown["history"]] == ["created", "running", "crashed", "running", "succeeded"]
    first = [s for s in shown["steps"] if s["node_id"] == "a"]
    assert [s["state"] for s in first] == ["succeeded"]  # completed once, never re-run


def test_step_in_flight_without_idempotence_needs_attention(cli, tmp_path):
    out = tmp_path / "out.txt"
    bot = write_bot(tmp_path, "in-flight", {
        "start": {"type": "core.start"},
        "charge": {"type": "demo.append_then_wait", "params": {"path": "out.txt", "text": "charged", "seconds": 30}},
        "after": {"type": "files.append_text", "params": {"path": "out.txt", "text": "receipt"}},
    }, [("start.out", "charge.in"), ("charge.out", "after.in")])
    proc = cli.start("run", bot)
    kill_when(proc, lambda: lines(out) == ["charged"], "the side effect")
    run_id = only_run_id(cli)

    first = cli("resume", run_id)
    assert first.returncode == 3, first.stderr
    assert "needs attention" in first.stderr and "charge" in first.stderr and "--retry" in first.stderr
    assert lines(out) == ["charged"]  # nothing was repeated behind the user's back
    assert cli.json("show", run_id)["run"]["state"] == "needs_attention"

    again = cli("resume", run_id)  # without a decision it refuses, clearly
    assert again.returncode == 2 and "--retry" in again.stderr and "--skip" in again.stderr

    skipped = cli("resume", run_id, "--skip")
    assert skipped.returncode == 0, skipped.stderr
    assert lines(out) == ["charged", "receipt"]
    states = {s["node_id"]: s["state"] for s in cli.json("show", run_id)["steps"]}
    assert states["charge"] == "skipped" and states["after"] == "succeeded"
    # the journal only appends: the row of the attempt that was in flight is kept beside the skip
    charge = [s for s in cli.json("show", run_id)["steps"] if s["node_id"] == "charge"]
    assert [s["state"] for s in charge] == ["running", "skipped"] and charge[0]["entry"] < charge[1]["entry"]


def test_retry_runs_the_in_flight_step_again(cli, tmp_path):
    out = tmp_path / "out.txt"
    bot = write_bot(tmp_path, "retry-flight", {
        "start": {"type": "core.start"},
        "charge": {"type": "demo.append_then_wait", "params": {"path": "out.txt", "text": "charged", "seconds": 30}},
    }, [("start.out", "charge.in")])
    proc = cli.start("run", bot)
    kill_when(proc, lambda: lines(out) == ["charged"], "the side effect")
    run_id = only_run_id(cli)
    assert cli("resume", run_id).returncode == 3
    # the retried step appends again and then waits again: it is enough to see the second line
    retry = cli.start("resume", run_id, "--retry")
    kill_when(retry, lambda: lines(out) == ["charged", "charged"], "the retried side effect")
    assert lines(out) == ["charged", "charged"]  # the user chose to repeat it


def test_idempotent_step_in_flight_is_rerun_automatically(cli, tmp_path):
    out = tmp_path / "state.txt"
    bot = write_bot(tmp_path, "idempotent", {
        "start": {"type": "core.start"},
        "save": {"type": "demo.write_then_wait",
                 "params": {"path": "state.txt", "text": "saved", "seconds": "{{ 30 if first else 0 }}"}},
        "done": {"type": "files.append_text", "params": {"path": "done.txt", "text": "done"}},
    }, [("start.out", "save.in"), ("save.out", "done.in")], variables={"first": {"type": "boolean", "default": True}})
    proc = cli.start("run", bot)
    kill_when(proc, lambda: lines(out) == ["saved"], "the write")
    run_id = only_run_id(cli)
    # make the re-run quick: the bot file is replayed from the run's snapshot, so edit the store's copy
    edit_snapshot(cli, run_id, lambda snap: snap["variables"]["first"].update({"default": False}))
    resumed = cli("resume", run_id)
    assert resumed.returncode == 0, resumed.stderr
    assert lines(out) == ["saved"] and lines(tmp_path / "done.txt") == ["done"]


def test_loop_progress_survives_a_crash(cli, tmp_path):
    """Inside a loop, finished iterations are not repeated after a crash."""
    out = tmp_path / "items.txt"
    bot = write_bot(tmp_path, "loop-crash", {
        "start": {"type": "core.start"},
        "loop": {"type": "core.for_each", "params": {"items": ["a", "b", "c", "d"]}},
        "write": {"type": "files.append_text", "params": {"path": "items.txt", "text": "{{ item }}"}},
        "slow": {"type": "core.delay", "params": {"seconds": "{{ 10 if item == 'b' and not vars.get('again') else 0 }}"}},
    }, [("start.out", "loop.in"), ("loop.body", "write.in"), ("write.out", "slow.in")])
    proc = cli.start("run", bot)
    kill_when(proc, lambda: lines(out) == ["a", "b"] and step_state(cli, "write") == "succeeded", "two items")
    run_id = only_run_id(cli)
    edit_snapshot(cli, run_id, lambda snap: snap.update({"variables": {"again": {"type": "boolean", "default": True}}}))
    resumed = cli("resume", run_id)
    assert resumed.returncode == 0, resumed.stderr
    assert lines(out) == ["a", "b", "c", "d"]


def test_suspended_run_is_resumed_by_another_process(cli, tmp_path):
    out = tmp_path / "decision.txt"
    bot = write_bot(tmp_path, "approval", {
        "start": {"type": "core.start"},
        "before": {"type": "files.append_text", "params": {"path": "decision.txt", "text": "asked"}},
        "wait": {"type": "core.wait_signal", "params": {"signal": "approval"}},
        "after": {"type": "files.append_text",
                  "params": {"path": "decision.txt", "text": "{{ nodes.wait.data.answer }}"}},
    }, [("start.out", "before.in"), ("before.out", "wait.in"), ("wait.out", "after.in")])
    first = cli("run", bot)
    assert first.returncode == 3, first.stderr
    assert "botloom signal" in first.stderr and "approval" in first.stderr
    run_id = only_run_id(cli)
    assert cli.json("runs")[0]["state"] == "suspended"
    # a wrong signal leaves it waiting
    wrong = cli("signal", run_id, "other")
    assert wrong.returncode == 3
    sent = cli("signal", run_id, "approval", "--data", "answer=yes")
    assert sent.returncode == 0, sent.stderr
    assert lines(out) == ["asked", "yes"]


def test_timer_suspension_and_resume_due(cli, tmp_path):
    out = tmp_path / "t.txt"
    bot = write_bot(tmp_path, "timer", {
        "start": {"type": "core.start"},
        "wait": {"type": "core.delay", "params": {"seconds": 1.5, "suspend_after": 1}},
        "after": {"type": "files.append_text", "params": {"path": "t.txt", "text": "woke"}},
    }, [("start.out", "wait.in"), ("wait.out", "after.in")])
    first = cli("run", bot)
    assert first.returncode == 3 and "due at" in first.stderr, first.stderr
    early = cli("resume", "--due")
    assert "no suspended run is due" in early.stderr and not out.exists()
    time.sleep(1.6)
    due = cli("resume", "--due")
    assert due.returncode == 0, due.stderr
    assert lines(out) == ["woke"]


def test_stopped_run_can_be_resumed(cli, tmp_path):
    out = tmp_path / "s.txt"
    bot = append_wait_append(tmp_path, "stoppable", "s.txt", "a", "b", "{{ 20 if not vars.get('again') else 0 }}")
    proc = cli.start("run", bot)
    wait_for(lambda: lines(out) == ["a"], what="first line")
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    assert proc.wait(10) == 130
    assert time.monotonic() - t0 < 5  # the delay woke at once
    run_id = only_run_id(cli)
    assert cli.json("runs")[0]["state"] == "cancelled"
    edit_snapshot(cli, run_id, lambda snap: snap.update({"variables": {"again": {"type": "boolean", "default": True}}}))
    assert cli("resume", run_id).returncode == 0
    assert lines(out) == ["a", "b"]


def test_whether_a_step_may_repeat_can_depend_on_its_parameters():
    from botloom.runner.sdk.registry import Registry

    reg = Registry.discover()
    write_csv, request = reg.get("data.write_csv"), reg.get("http.request")
    assert write_csv.repeatable({"append": False}) is True
    assert write_csv.repeatable({"append": True}) is False
    assert write_csv.repeatable({}) is False  # an expression decides at run time: assume not
    assert request.repeatable({"method": "GET"}) and request.repeatable({"method": "put"})
    assert not request.repeatable({"method": "POST"})
    assert reg.get("files.append_text").repeatable({}) is False
    assert reg.get("core.log").repeatable({}) is True  # no side effects
    assert write_csv.describe()["idempotent"] == "depends on parameters"


def test_a_store_that_cannot_be_written_stops_the_run_with_a_clear_error(cli, tmp_path):
    """The journal's table is made read-only mid-run (as a full disk would): no traceback, the
    run is reported with what to do."""
    bot = append_wait_append(tmp_path, "store-fails", "x.txt", "a", "b", 1.0)
    proc = cli.start("run", bot)
    wait_for(lambda: lines(tmp_path / "x.txt") == ["a"], what="the first step")
    db = sqlite3.connect(cli.home / "runs.sqlite")
    db.execute("CREATE TRIGGER no_more BEFORE INSERT ON node_runs BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    db.commit()
    db.close()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2, err
    assert "could not be written" in err and "botloom resume" in err and "Traceback" not in err
    assert lines(tmp_path / "x.txt") == ["a"]  # the next side effect did not run unjournalled


def test_run_from_a_chosen_node_and_resume_from_there(cli, tmp_path):
    out = tmp_path / "from.txt"
    bot = write_bot(tmp_path, "partial", {
        "start": {"type": "core.start"},
        "a": {"type": "files.append_text", "params": {"path": "from.txt", "text": "a"}},
        "b": {"type": "files.append_text", "params": {"path": "from.txt", "text": "b"}},
        "wait": {"type": "core.delay", "params": {"seconds": "{{ 20 if not vars.get('again') else 0 }}"}},
        "c": {"type": "files.append_text", "params": {"path": "from.txt", "text": "c"}},
    }, [("start.out", "a.in"), ("a.out", "b.in"), ("b.out", "wait.in"), ("wait.out", "c.in")])
    proc = cli.start("run", bot, "--from", "b")
    kill_when(proc, lambda: lines(out) == ["b"] and step_state(cli, "b") == "succeeded", "the first step from b")
    run_id = only_run_id(cli)
    edit_snapshot(cli, run_id, lambda snap: snap.update({"variables": {"again": {"type": "boolean", "default": True}}}))
    assert cli("resume", run_id).returncode == 0
    assert lines(out) == ["b", "c"]  # 'a' never ran, 'b' was not repeated
    wrong = cli("run", bot, "--from", "bb")
    assert wrong.returncode == 2 and "did you mean 'b'" in wrong.stderr


def test_an_older_run_store_is_upgraded_in_place(tmp_path):
    from botloom.runner.store import RunStore
    from botloom.runner.store.db import SCHEMA_VERSION

    path = tmp_path / "runs.sqlite"
    old = sqlite3.connect(path)  # the schema-1 runs table, as an earlier Botloom created it
    old.execute("CREATE TABLE runs (id VARCHAR PRIMARY KEY, bot_name VARCHAR, bot_path VARCHAR, bot_hash VARCHAR, "
                "bot_snapshot VARCHAR, state VARCHAR, trigger VARCHAR, inputs VARCHAR, outputs VARCHAR, "
                "error VARCHAR, attention VARCHAR, wake VARCHAR, wake_at FLOAT, signal VARCHAR, started_at FLOAT, "
                "ended_at FLOAT, steps INTEGER, pid INTEGER, host VARCHAR)")
    old.execute("INSERT INTO runs (id, bot_name, state, started_at, steps) VALUES ('r1', 'old', 'succeeded', 1, 3)")
    old.execute("PRAGMA user_version=1")
    old.commit()
    old.close()
    store = RunStore(path)
    try:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        row = store.run_row("r1")
        assert row["bot_name"] == "old" and row["start_node"] is None  # kept, and the new column is there
    finally:
        store.close()


def test_crash_detection_never_overwrites_a_run_that_just_finished(tmp_path):
    from botloom.runner.store import RunStore

    store = RunStore(tmp_path / "runs.sqlite")
    try:
        store.create_run("r1", bot_name="b", bot_path=None, bot_text="{}", bot_hash="h", inputs={})
        store.set_state("r1", "succeeded")  # finished between detect_crashed's read and its update
        assert store.set_state("r1", "crashed", "gone", only_if="running") is False
        assert store.run_row("r1")["state"] == "succeeded"
        assert [h.state for h in store.history("r1")] == ["created", "succeeded"]
    finally:
        store.close()


def test_committed_store_schema_matches_the_sqlmodel_models():
    from pathlib import Path

    import botloom.runner.store as store_pkg
    from botloom.runner.store.models import schema_sql

    committed = (Path(store_pkg.__file__).parent / "schema.sql").read_text(encoding="utf-8")
    assert committed == schema_sql(), \
        "runner/store/schema.sql is stale: python -m botloom.runner.store.models > runner/store/schema.sql"


def test_new_store_is_made_without_importing_sqlmodel(tmp_path):
    import subprocess
    import sys

    code = ("import sys; from botloom.runner.store import RunStore; s = RunStore(sys.argv[1]); "
            "print(s.conn.execute('PRAGMA user_version').fetchone()[0], 'sqlmodel' in sys.modules, "
            "sorted(r[0] for r in s.conn.execute(\"SELECT name FROM sqlite_master WHERE type='table'\")))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "new.sqlite")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    from botloom.runner.store.db import SCHEMA_VERSION

    assert out.stdout.strip() == f"{SCHEMA_VERSION} False ['artifacts', 'blobs', 'node_runs', 'queue_events', 'queue_items', " \
        "'review_examples', 'run_bots', 'runs', 'state_changes', 'tasks', 'waits']"


def test_crash_inside_a_called_bot_resumes_inside_it(cli, tmp_path):
    out = tmp_path / "lib" / "called.txt"
    out.parent.mkdir()
    write_bot(tmp_path / "lib", "inner", {
        "start": {"type": "core.start"},
        "a": {"type": "files.append_text", "params": {"path": "called.txt", "text": "a"}},
        "wait": {"type": "core.delay", "params": {"seconds": "{{ 20 if first else 0 }}"}},
        "b": {"type": "files.append_text", "params": {"path": "called.txt", "text": "b"}},
    }, [("start.out", "a.in"), ("a.out", "wait.in"), ("wait.out", "b.in")], inputs={"first": "boolean"})
    bot = write_bot(tmp_path, "outer", {
        "start": {"type": "core.start"},
        "call": {"type": "core.call_bot", "params": {"bot": "lib/inner.bot.json", "inputs": {"first": "{{ first }}"}}},
    }, [("start.out", "call.in")], variables={"first": {"type": "boolean", "default": True}})
    proc = cli.start("run", bot)
    kill_when(proc, lambda: lines(out) == ["a"] and step_state(cli, "a") == "succeeded", "the called bot's first step")
    run_id = only_run_id(cli)
    edit_snapshot(cli, run_id, lambda snap: snap["variables"]["first"].update({"default": False}))
    assert cli("resume", run_id).returncode == 0
    assert lines(out) == ["a", "b"]
