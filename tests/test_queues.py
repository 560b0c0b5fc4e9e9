"""Work queues: the store's rules, the queue nodes in real runs, `botloom queue`, and performers
killed at random while they drain a queue (real processes, one real SQLite file)."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import time

import pytest

from bots import bot_json
from botloom.runner import paths
from botloom.runner.errors import InputError
from botloom.runner.store import queues
from botloom.runner.store.db import connect


@pytest.fixture
def conn(botloom_home):
    c = connect(paths.store_path())
    yield c
    c.close()


def test_duplicate_reference_refused_and_order_by_priority_then_deadline(conn):
    queues.add(conn, "inv", "A-1", {"n": 1}, now=1)
    queues.add(conn, "inv", "A-2", {"n": 2}, priority="high", now=2)
    queues.add(conn, "inv", "A-3", None, priority="high", deadline=100, now=3)
    with pytest.raises(InputError, match="already has the reference 'A-1'"):
        queues.add(conn, "inv", "A-1", {"n": 9})
    queues.add(conn, "other", "A-1")  # unique per queue only
    order = [queues.next_item(conn, "inv", f"p{i}")["reference"] for i in range(3)]
    assert order == ["A-3", "A-2", "A-1"]
    assert queues.next_item(conn, "inv", "p9") is None


def test_a_step_run_again_gets_its_own_item_back_not_a_duplicate(conn):
    first = queues.add(conn, "q", "r", {"n": 1}, by="run-a/4")
    assert queues.add(conn, "q", "r", {"n": 1}, by="run-a/4")["id"] == first["id"]
    with pytest.raises(InputError, match="already has the reference 'r'"):
        queues.add(conn, "q", "r", {"n": 1}, by="run-b/4")
    item = queues.next_item(conn, "q", "run-a/5")
    done = queues.set_status(conn, item["id"], "succeeded", "run-a/5", output=1)
    assert queues.set_status(conn, item["id"], "succeeded", "run-a/5", output=1) == done  # ended so already
    assert [e["status"] for e in queues.history(conn, item["id"])] == ["new", "in_progress", "succeeded"]


def test_only_the_holder_ends_an_item_and_system_failures_are_retried(conn):
    queues.add(conn, "q", "r", max_retries=1)
    item = queues.next_item(conn, "q", "alice")
    assert queues.next_item(conn, "q", "alice")["id"] == item["id"]  # asked again: the same item
    with pytest.raises(InputError, match="not in progress by bob"):
        queues.set_status(conn, item["id"], "succeeded", "bob")
    again = queues.set_status(conn, item["id"], "failed_system", "alice", error="timeout")
    assert (again["status"], again["retries"]) == ("new", 1)
    item = queues.next_item(conn, "q", "carol")
    final = queues.set_status(conn, item["id"], "failed_system", "carol", error="timeout")
    assert (final["status"], final["retries"]) == ("failed_system", 1)
    assert queues.retry(conn, final["id"])["status"] == "new"


def test_abandoned_items_are_detected_and_retried_until_their_maximum(conn):
    queues.add(conn, "q", "r", max_retries=1, now=0)
    queues.next_item(conn, "q", "dead-1", now=10)
    assert queues.next_item(conn, "q", "p2", abandon_after=60, now=30) is None  # not yet
    item = queues.next_item(conn, "q", "p2", abandon_after=60, now=80)
    assert (item["retries"], item["performer"]) == (1, "p2")
    with pytest.raises(InputError, match="in_progress by p2"):
        queues.set_status(conn, item["id"], "succeeded", "dead-1")
    assert queues.mark_abandoned(conn, "q", 60, now=200) == [item["id"]]
    assert queues.get(conn, item["id"])["status"] == "abandoned"  # no retries left: it stays so
    assert [e["status"] for e in queues.history(conn, item["id"])].count("abandoned") == 2


def test_a_schema_5_store_gains_the_queue_tables(tmp_path):
    from botloom.runner.store.db import SCHEMA_VERSION

    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE runs (id VARCHAR PRIMARY KEY)")
    old.execute("PRAGMA user_version=5")
    old.commit()
    old.close()
    c = connect(path)
    assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    queues.add(c, "q", "r")
    assert c.execute("SELECT COUNT(*) FROM review_examples").fetchone()[0] == 0
    c.close()


def _performer_bot(log_path, *, abandon_after: float = 3, work_delay: float = 0.01) -> dict:
    """Takes items until the queue is empty; each item's work is a line in ``log_path``."""
    nodes = {
        "start": {"type": "core.start"},
        "loop": {"type": "core.while", "params": {"condition": True, "max_iterations": 5000}},
        "next": {"type": "queue.get_next", "params": {"queue": "work", "abandon_after": abandon_after}},
        "stop": {"type": "core.break"},
        "work": {"type": "files.append_text",
                 "params": {"path": str(log_path), "text": "{{ nodes.next.item.reference }}\n"}},
        "pause": {"type": "core.delay", "params": {"seconds": work_delay}},
        "done": {"type": "queue.set_status",
                 "params": {"item": "{{ nodes.next.item }}", "status": "succeeded",
                            "output": "{{ nodes.next.payload.n * 2 }}"}},
    }
    edges = [("start", "loop"), ("loop.body", "next"), ("next.empty", "stop"), ("next", "work"), ("work", "pause"),
             ("pause", "done")]
    return bot_json(nodes, edges, name="performer")


def test_nodes_add_take_and_end_items_in_a_run(cli, work, conn):
    adder = bot_json({"start": {"type": "core.start"},
                      "each": {"type": "core.for_each", "params": {"items": "{{ [1, 2, 3, 2] }}", "item_var": "n"}},
                      "add": {"type": "queue.add", "params": {"queue": "work", "reference": "R{{ n }}",
                                                              "payload": {"n": "{{ n }}"}}},
                      "dup": {"type": "core.log", "params": {"message": "duplicate R{{ n }}"}}},
                     [("start", "each"), ("each.body", "add"), ("add.duplicate", "dup")], name="adder")
    (work / "adder.bot.json").write_text(json.dumps(adder))
    out = cli("run", work / "adder.bot.json")
    assert out.returncode == 0, out.stderr
    assert "duplicate R2" in out.stdout + out.stderr
    (work / "performer.bot.json").write_text(json.dumps(_performer_bot(work / "log.txt")))
    out = cli("run", work / "performer.bot.json")
    assert out.returncode == 0, out.stderr
    items = queues.items(conn, "work")
    assert [(i["reference"], i["status"], i["output"]) for i in items] == [
        ("R1", "succeeded", 2), ("R2", "succeeded", 4), ("R3", "succeeded", 6)]
    listed = cli("queue", "list", "work", "--json")
    assert [i["reference"] for i in json.loads(listed.stdout)] == ["R1", "R2", "R3"]


def test_three_performers_drain_300_items_while_killed_at_random(cli, work, conn):
    """Every item ends succeeded exactly once, or failed after its maximum retries; the items of
    killed performers are detected as abandoned and handed on."""
    for n in range(300):
        queues.add(conn, "work", f"item-{n:03d}", {"n": n}, max_retries=3)
    bot = work / "performer.bot.json"
    bot.write_text(json.dumps(_performer_bot(work / "log.txt", abandon_after=2, work_delay=0.04)))
    rng = random.Random(15)
    procs, kills, started = [], 0, 0
    guard = time.monotonic() + 300  # a hang guard, not a speed assertion

    def unfinished() -> int:
        return conn.execute("SELECT COUNT(*) FROM queue_items WHERE status IN ('new', 'in_progress')").fetchone()[0]

    while unfinished() and time.monotonic() < guard:
        procs = [p for p in procs if p.poll() is None]
        while len(procs) < 3:
            procs.append(subprocess.Popen(cli.argv("run", bot), cwd=cli.cwd, env=cli.env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
            started += 1
        time.sleep(rng.uniform(0.05, 0.3))
        # a kill at random moments, paced by progress (every 25 items done) so a fast machine gets them too
        if kills < 10 and queues.counts(conn, "work")["work"].get("succeeded", 0) >= 20 + 25 * kills:
            victim = rng.choice(procs)
            if victim.poll() is None:
                victim.send_signal(signal.SIGKILL)
                kills += 1
    for p in procs:
        p.wait(timeout=60)
    assert not unfinished(), queues.counts(conn, "work")
    assert kills >= 5
    items = queues.items(conn, "work", limit=1000)
    assert len(items) == 300
    abandoned_seen = 0
    for item in items:
        events = [e["status"] for e in queues.history(conn, item["id"])]
        abandoned_seen += events.count("abandoned")
        if item["status"] == "succeeded":
            assert events.count("succeeded") == 1, (item, events)
            assert item["output"] == item["payload"]["n"] * 2
        else:
            assert item["status"] in ("abandoned", "failed_system") and item["retries"] == item["max_retries"], item
    assert abandoned_seen >= 1  # the items the killed performers held were found and handed on
    print(f"\n{kills} performers killed of {started} started; {abandoned_seen} abandonments detected; "  # noqa: T201
          f"{sum(i['status'] == 'succeeded' for i in items)} of 300 items succeeded")
    done = (work / "log.txt").read_text().split()
    assert {i["reference"] for i in items if i["status"] == "succeeded"} <= set(done)  # the work was done
