"""What `botloom show` tells about a run after the fact: both waits of a run that waited twice
and who answered them, timers as answers, old stores upgraded, old payloads pruned. Real bots,
the real CLI in child processes, real SQLite files."""

from __future__ import annotations

import getpass
import json
import sqlite3
import time
from pathlib import Path

from bots import write_bot

TESTS = Path(__file__).resolve().parent


def two_waits(folder: Path) -> Path:
    """start -> wait 'first' -> wait 'second' -> write both answers to answers.txt."""
    return write_bot(folder, "two-waits", {
        "start": {"type": "core.start"},
        "first": {"type": "core.wait_signal", "params": {"signal": "first"}},
        "second": {"type": "core.wait_signal", "params": {"signal": "second"}},
        "write": {"type": "files.append_text",
                  "params": {"path": "answers.txt", "text": "{{ nodes.first.data.a }} {{ nodes.second.data.b }}"}},
    }, [("start.out", "first.in"), ("first.out", "second.in"), ("second.out", "write.in")])


def test_a_run_that_waited_twice_shows_both_waits_and_both_answers(cli, tmp_path):
    bot = two_waits(tmp_path)
    assert cli("run", bot).returncode == 3
    run_id = cli.json("runs")[0]["id"]
    first = cli("signal", run_id[-6:], "first", "--data", "a=yes", "--by", "alice")  # a suffix names the run
    assert first.returncode == 3, first.stderr  # now waiting for the second
    second = cli("signal", run_id, "second", "--data", "b=42")  # --by defaults to the user's name
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "answers.txt").read_text().split() == ["yes", "42"]

    shown = cli.json("show", run_id)
    waits = shown["waits"]
    assert [(w["node_id"], w["signal"], w["answered_by"]) for w in waits] == [
        ("first", "first", "alice"), ("second", "second", getpass.getuser())]
    assert waits[0]["answer"] == {"signal": "first", "data": {"a": "yes"}}
    assert waits[1]["answer"] == {"signal": "second", "data": {"b": 42}}
    for w in waits:
        assert w["started_at"] <= w["answered_at"] and w["reason"] == f"waiting for signal '{w['signal']}'"
    assert waits[0]["answered_at"] <= waits[1]["started_at"]
    # both suspended rows are kept beside the rows of the steps run again
    steps = [(s["node_id"], s["state"]) for s in shown["steps"] if s["node_id"] in ("first", "second")]
    assert steps == [("first", "suspended"), ("first", "succeeded"), ("second", "suspended"), ("second", "succeeded")]

    text = cli("show", run_id).stdout
    assert "waits:" in text
    assert "waiting for signal 'first'" in text and "by alice: signal 'first' with {\"a\":\"yes\"}" in text
    assert f"by {getpass.getuser()}: signal 'second' with {{\"b\":42}}" in text


def test_a_wrong_signal_is_kept_as_an_answer_and_the_step_waits_again(cli, tmp_path):
    bot = two_waits(tmp_path)
    assert cli("run", bot).returncode == 3
    run_id = cli.json("runs")[0]["id"]
    assert cli("signal", run_id, "other", "--by", "bob").returncode == 3
    waits = cli.json("show", run_id)["waits"]
    assert [(w["node_id"], w["answered_by"], (w["answer"] or {}).get("signal")) for w in waits] == [
        ("first", "bob", "other"), ("first", None, None)]


def test_a_timer_that_falls_due_answers_its_wait(cli, tmp_path):
    bot = write_bot(tmp_path, "timer", {
        "start": {"type": "core.start"},
        "wait": {"type": "core.delay", "params": {"seconds": 0.2, "suspend_after": 0.1}},
    }, [("start.out", "wait.in")])
    assert cli("run", bot).returncode == 3
    run_id = cli.json("runs")[0]["id"]
    [wait] = cli.json("show", run_id)["waits"]
    time.sleep(max(0.0, wait["wake_at"] - time.time()) + 0.05)
    assert cli("resume", "--due").returncode == 0
    [wait] = cli.json("show", run_id)["waits"]
    assert wait["answered_by"] == "timer" and wait["answered_at"] >= wait["wake_at"]
    assert "by timer: (no data)" in cli("show", run_id).stdout


def _v2_store(path: Path, bot_text: str) -> None:
    """A store as Botloom wrote it at schema 2 (before the journal was append-only)."""
    db = sqlite3.connect(path)
    ddl = (TESTS / "data" / "store_schema_v2.sql").read_text(encoding="utf-8")
    db.executescript("\n".join(line for line in ddl.splitlines() if not line.startswith("--")))
    run = ("INSERT INTO runs (id, bot_name, bot_path, bot_hash, bot_snapshot, state, \"trigger\", inputs, started_at, "
           "ended_at, steps, wake, wake_at, signal) VALUES (?,?,NULL,'',?,?,'cli','{}',?,?,?,?,NULL,?)")
    db.execute(run, ("20261123-201512-3fa9c1", "old", bot_text, "succeeded", 1.0, 2.0, 2, None, None))
    wake = json.dumps({"reason": "waiting for signal 'go'", "wake_at": None, "signal": "go", "state": {}, "seq": 2})
    db.execute(run, ("20261124-090000-77aa00", "waiting", bot_text, "suspended", 3.0, None, 2, wake, "go"))
    step = ("INSERT INTO node_runs (run_id, seq, attempt, node_id, node_type, flow, state, port, params, outputs, writes, "
            "error, wake, started_at, duration) VALUES (?,?,?,?,?,'main',?,?,NULL,?,?,?,?,?,0.001)")
    db.execute(step, ("20261123-201512-3fa9c1", 1, 1, "start", "core.start", "succeeded", "out", None, None, None, None, 1.0))
    db.execute(step, ("20261123-201512-3fa9c1", 2, 2, "go", "core.wait_signal", "succeeded", "out", '{"data":{}}', None,
                      None, None, 1.2))
    db.execute(step, ("20261123-201512-3fa9c1", 2, 1, "go", "core.wait_signal", "failed", None, None, None,
                      '{"message":"flaky"}', None, 1.1))
    db.execute(step, ("20261124-090000-77aa00", 1, 1, "start", "core.start", "succeeded", "out", None, None, None, None, 3.0))
    db.execute(step, ("20261124-090000-77aa00", 2, 1, "go", "core.wait_signal", "suspended", None, None, None, None,
                      wake, 3.1))
    db.execute("PRAGMA user_version=2")
    db.commit()
    db.close()


def test_a_schema_2_store_is_upgraded_and_its_runs_read_and_resume(cli, tmp_path):
    from botloom.runner.store import RunStore
    from botloom.runner.store.db import SCHEMA_VERSION

    bot_text = json.dumps({"format": 1, "name": "old", "nodes": {
        "start": {"type": "core.start"}, "go": {"type": "core.wait_signal", "params": {"signal": "go"}}},
        "edges": [{"from": "start.out", "to": "go.in"}]})
    cli.home.mkdir(parents=True, exist_ok=True)
    _v2_store(cli.home / "runs.sqlite", bot_text)
    store = RunStore(cli.home / "runs.sqlite")
    try:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        done = store.load_replay(store.resolve("3fa9c1"))  # an old id, by its suffix
        assert done[2].state == "succeeded" and done[2].outputs == {"data": {}}  # the last attempt
        assert store.run_row("20261124-090000-77aa00")["wake"]["signal"] == "go"
        [open_wait] = store.waits("20261124-090000-77aa00")
        assert (open_wait["seq"], open_wait["signal"], open_wait["answered_at"]) == (2, "go", None)
        fresh = RunStore(tmp_path / "fresh.sqlite")
        try:
            for table in ("runs", "node_runs", "waits", "blobs", "run_bots", "state_changes", "artifacts"):
                sql = f"PRAGMA table_info({table})"
                assert store.conn.execute(sql).fetchall() == fresh.conn.execute(sql).fetchall(), table
            indexes = "SELECT name FROM sqlite_master WHERE type='index' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            assert store.conn.execute(indexes).fetchall() == fresh.conn.execute(indexes).fetchall()
        finally:
            fresh.close()
    finally:
        store.close()
    sent = cli("signal", "77aa00", "go", "--by", "carol")
    assert sent.returncode == 0, sent.stderr
    [answered] = cli.json("show", "77aa00")["waits"]
    assert answered["answered_by"] == "carol" and answered["answer"] == {"signal": "go", "data": {}}


def test_prune_drops_old_payloads_and_keeps_the_history(cli, tmp_path):
    bot = write_bot(tmp_path, "big", {
        "start": {"type": "core.start"},
        "make": {"type": "core.set_variable", "params": {"name": "rows", "value": "{{ range(3000) | list }}"}},
        "fail": {"type": "core.fail", "params": {"message": "stop here"}},
    }, [("start.out", "make.in"), ("make.out", "fail.in")], variables={"rows": {"type": "list", "default": []}})
    assert cli("run", bot).returncode == 1
    failed = cli.json("runs")[0]["id"]
    assert cli("run", two_waits(tmp_path)).returncode == 3  # not finished: never pruned
    db = cli.home / "runs.sqlite"

    def payloads(run_id):
        conn = sqlite3.connect(db)
        try:
            values = conn.execute("SELECT COUNT(params) + COUNT(outputs) + COUNT(writes) FROM node_runs WHERE run_id=?",
                                  (run_id,)).fetchone()[0]
            return values, conn.execute("SELECT COUNT(*) FROM blobs WHERE run_id=?", (run_id,)).fetchone()[0]
        finally:
            conn.close()

    waiting = [r["id"] for r in cli.json("runs") if r["id"] != failed][0]
    before = cli.json("show", failed)
    assert payloads(failed)[0] > 0 and payloads(failed)[1] == 1
    kept = cli("runs", "prune", "--payloads", "--older-than", "30d")
    assert kept.returncode == 0 and "0 run(s)" in kept.stdout and payloads(failed)[1] == 1  # too recent

    pruned = cli("runs", "prune", "--payloads", "--older-than", "0d", "--json")
    assert pruned.returncode == 0, pruned.stderr
    assert json.loads(pruned.stdout) == {"pruned": [failed]}
    assert payloads(failed) == (0, 0) and payloads(waiting)[0] > 0
    after = cli.json("show", failed)
    keep = ("entry", "seq", "node_id", "state", "error", "started_at", "duration")
    assert [{k: s[k] for k in keep} for s in after["steps"]] == [{k: s[k] for k in keep} for s in before["steps"]]
    assert after["history"] == before["history"] and after["run"]["pruned_at"]
    assert "the values of its steps were dropped" in cli("show", failed).stdout

    again = cli("resume", failed, "--retry")
    assert again.returncode == 2 and "cannot be resumed" in again.stderr and "runs prune" in again.stderr
    assert "Traceback" not in again.stderr


def test_prune_refuses_what_it_cannot_do(cli):
    no_what = cli("runs", "prune", "--older-than", "30d")
    assert no_what.returncode == 2 and "--payloads" in no_what.stderr
    bad_age = cli("runs", "prune", "--payloads", "--older-than", "soon")
    assert bad_age.returncode == 2 and "'soon' is not an age" in bad_age.stderr and "30d" in bad_age.stderr
    no_age = cli("runs", "prune", "--payloads")
    assert no_age.returncode == 2 and "--older-than" in no_age.stderr
