"""The append-only journal: every attempt and every wait kept, large values stored once, growing
lists as deltas, exact replay. Real SQLite files, the real engine, the real CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from bots import make, registry, write_bot
from botloom.runner.engine import Engine, ResumeRequest
from botloom.runner.store import RunStore
from botloom.runner.store.payloads import BLOB_MIN, PayloadReader, PayloadWriter



@pytest.fixture
def store(tmp_path):
    s = RunStore(tmp_path / "runs.sqlite")
    s.create_run("r1", bot_name="b", bot_path=None, bot_text="{}", bot_hash="", inputs={})
    yield s
    s.close()


def write_steps(store, payloads: list[dict], writer: PayloadWriter | None = None) -> list[str]:
    """Encode one payload per step as the journal does, commit them, return the column texts."""
    writer = writer or PayloadWriter(store.conn, "r1")
    texts = [writer.encode(p, ("w",), {}) for p in payloads]
    with store.conn:
        writer.write_pending(store.conn)
    return texts


def read_back(store, texts: list[str]) -> list:
    reader = PayloadReader(store.conn, "r1")
    return [reader.column(t) for t in texts]


def blobs(store) -> list[tuple]:
    return store.conn.execute("SELECT id, base, digest IS NOT NULL, size FROM blobs WHERE run_id='r1' ORDER BY id").fetchall()


def exact(value):
    """A value with the type of every part spelled out: 1, 1.0 and True differ."""
    if isinstance(value, dict):
        return ("dict", [(exact(k), exact(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(map(repr, value)) if isinstance(value, (set, frozenset)) else [exact(v) for v in value]
        return (type(value).__name__, items)
    return (type(value).__name__, repr(value))


def test_small_payloads_stay_plain_json_and_large_ones_become_blobs(store):
    big = [{"id": i, "name": f"row {i}"} for i in range(200)]
    texts = write_steps(store, [{"name": "x", "value": 1}, {"rows": big, "count": 200, "none": None}])
    assert json.loads(texts[0]) == {"name": "x", "value": 1}  # readable with sqlite3, as before
    assert texts[1].startswith("@") and len(texts[1]) < 100
    assert read_back(store, texts) == [{"name": "x", "value": 1}, {"rows": big, "count": 200, "none": None}]
    assert [b[1:3] for b in blobs(store)] == [(None, 1)]  # one whole value, with its digest


def test_every_kind_of_value_reads_back_exactly(store):
    when = dt.datetime(2026, 12, 2, 18, 30, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    kinds = {"none": None, "flag": True, "big_int": 10 ** 40, "nan": float("inf"), "money": Decimal("12.50"),
             "text": "é" * 3000, "raw": bytes(range(256)) * 8, "when": when, "day": dt.date(2026, 1, 2),
             "span": dt.timedelta(days=1, seconds=3), "pair": tuple(range(600)), "tags": set(range(400)),
             "path": Path("/tmp/a b"), "keys": {1: "one", (2, 3): "pair"}, "mixed": [1, 1.0, True, "1", None] * 100}
    values = [{name: value} for name, value in kinds.items()] + [kinds]
    got = read_back(store, write_steps(store, values))
    assert [exact(v) for v in got] == [exact(v) for v in values]
    assert all(row[3] > BLOB_MIN for row in blobs(store))  # only large values went to blobs


def test_a_list_that_grows_is_stored_as_its_new_items(store):
    acc, payloads = [], []
    for i in range(400):
        acc = acc + [{"n": i}]
        payloads.append({"acc": acc})
    texts = write_steps(store, payloads)
    rows = blobs(store)
    first = next(i for i, (_, base, _, _) in enumerate(rows) if base is None)
    assert [base for _, base, _, _ in rows[first + 1:]] == [rid for rid, _, _, _ in rows[first:-1]]  # a chain
    assert max(size for *_, size in rows[first + 1:]) < 20  # each delta holds one item
    assert read_back(store, texts) == payloads
    # read out of order, from a cold reader: the chain is walked from the whole value
    assert PayloadReader(store.conn, "r1").column(texts[250]) == payloads[250]


def test_equal_but_different_items_are_not_taken_as_the_same_list(store):
    ints = list(range(300))
    floats = [float(i) for i in ints] + [300.0]  # equal to ints item by item, but not the same values
    flags = [bool(i) for i in range(2)] + ints[2:]  # [False, True, 2, ...] == [0, 1, 2, ...]
    grown_in_place = list(range(300))
    writer = PayloadWriter(store.conn, "r1")
    texts = write_steps(store, [{"v": ints}, {"v": floats}, {"v": flags}, {"v": grown_in_place}], writer)
    grown_in_place[0] = "changed"  # the same list object, changed in place, then grown
    grown_in_place.append(300)
    texts += write_steps(store, [{"v": grown_in_place}], writer)
    got = read_back(store, texts)
    assert [exact(g) for g in got] == [exact({"v": v}) for v in (ints, floats, flags, list(range(300)),
                                                                  grown_in_place)]


def test_a_value_met_twice_in_one_step_is_stored_once(tmp_path):
    table = [{"row": i, "text": "x" * 20} for i in range(2000)]
    doc = make({"start": {"type": "core.start"},
                "keep": {"type": "core.set_variable", "params": {"name": "rows", "value": "{{ table }}"}}},
               [("start", "keep")], variables={"table": {"type": "list", "default": table}, "rows": "list"})
    store = RunStore(tmp_path / "runs.sqlite")
    try:
        store.create_run("r1", bot_name="b", bot_path=None, bot_text="{}", bot_hash="", inputs={})
        journal = store.journal("r1")
        Engine(doc, registry(), run_id="r1", listeners=[journal]).run()
        journal.close()
        # params, outputs and writes of the step all hold the table: one blob
        assert store.conn.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == 1
        step = store.load_replay("r1")[2]
        assert step.writes == {"rows": table} and step.outputs == {"value": table}
    finally:
        store.close()


def _accumulating_bot(n: int, pause_at: int | None = None) -> tuple[dict, list]:
    """for_each over n items; the body appends the index to `acc` ({{ acc + [index] }}); with
    ``pause_at``, the body also waits 60 s at that index on the first run."""
    nodes = {"start": {"type": "core.start"},
             "loop": {"type": "core.for_each", "params": {"items": f"{{{{ range({n}) | list }}}}"}},
             "add": {"type": "core.set_variable", "params": {"name": "acc", "value": "{{ acc + [index] }}"}}}
    edges = [("start.out", "loop.in"), ("loop.body", "add.in")]
    if pause_at is not None:
        nodes["slow"] = {"type": "core.delay",
                         "params": {"seconds": f"{{{{ 60 if index == {pause_at} and not again else 0 }}}}"}}
        edges.append(("add.out", "slow.in"))
    return nodes, edges


def test_accumulating_10000_items_keeps_the_store_small(tmp_path):
    """The csv-report pattern: the journal held the whole list at every step (10,000 rows made
    729 MB). Now each step stores its new item."""
    nodes, edges = _accumulating_bot(10_000)
    doc = make(nodes, edges, variables={"acc": {"type": "list", "default": []}}, outputs={"acc": "list"})
    path = tmp_path / "runs.sqlite"
    store = RunStore(path)
    try:
        store.create_run("r1", bot_name="acc", bot_path=None, bot_text="{}", bot_hash="", inputs={})
        journal = store.journal("r1")
        result = Engine(doc, registry(), run_id="r1", listeners=[journal]).run()
        journal.close()
        assert result.ok and result.outputs["acc"] == list(range(10_000))
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = path.stat().st_size + (os.path.getsize(f"{path}-wal") if os.path.exists(f"{path}-wal") else 0)
        assert size < 5_000_000, f"the store holds {size / 1e6:.1f} MB for 10,000 steps"
        steps = store.load_replay("r1")
        last = steps[max(steps)]
        assert last.writes == {"acc": list(range(10_000))}
        assert steps[5000].writes == {"acc": list(range(4998))}  # any step (seq 3 is index 0), as it was
    finally:
        store.close()


def test_resume_after_a_kill_mid_loop_rebuilds_the_list_exactly(cli, tmp_path):
    from test_durability import edit_snapshot, kill_when, only_run_id

    n, pause = 1200, 700
    nodes, edges = _accumulating_bot(n, pause)
    bot = write_bot(tmp_path, "acc-kill", nodes, edges, outputs={"acc": "list"},
                    variables={"acc": {"type": "list", "default": []}, "again": {"type": "boolean", "default": False}})
    db = cli.home / "runs.sqlite"

    def journalled_adds() -> int:
        if not db.exists():
            return 0
        conn = sqlite3.connect(db, timeout=5)
        try:
            return conn.execute("SELECT COUNT(*) FROM node_runs WHERE node_id='add'").fetchone()[0]
        except sqlite3.OperationalError:
            return 0
        finally:
            conn.close()

    proc = cli.start("run", bot)
    kill_when(proc, lambda: journalled_adds() >= pause - 256, "the loop's first steps in the journal")
    run_id = only_run_id(cli)
    assert cli.json("runs")[0]["state"] == "crashed"
    edit_snapshot(cli, run_id, lambda snap: snap["variables"]["again"].update({"default": True}))
    resumed = cli("resume", run_id, "--json", timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["outputs"]["acc"] == list(range(n))


def test_waits_and_answers_are_kept_in_process(tmp_path):
    doc = make({"start": {"type": "core.start"},
                "ask": {"type": "core.wait_signal", "params": {"signal": "go"}}}, [("start", "ask")])
    store = RunStore(tmp_path / "runs.sqlite")
    try:
        store.create_run("r1", bot_name="b", bot_path=None, bot_text="{}", bot_hash="", inputs={})
        first = Engine(doc, registry(), run_id="r1", listeners=[store.journal("r1")]).run()
        assert first.state == "suspended"
        [wait] = store.waits("r1")
        assert (wait["seq"], wait["node_id"], wait["signal"], wait["answered_at"]) == (2, "ask", "go", None)
        journal = store.journal("r1")
        request = ResumeRequest(None, first.wake["seq"], {"signal": "go", "data": {"ok": 1}}, "dana")
        done = Engine(doc, registry(), run_id="r1", listeners=[journal], replay=store.load_replay("r1"),
                      resume=request).run()
        journal.close()
        assert done.ok
        [wait] = store.waits("r1")
        assert wait["answered_by"] == "dana" and wait["answer"] == {"signal": "go", "data": {"ok": 1}}
        assert wait["answered_at"] >= wait["started_at"]
        states = [r[0] for r in store.conn.execute("SELECT state FROM node_runs WHERE seq=2 ORDER BY entry")]
        assert states == ["suspended", "succeeded"]  # the wait's row was not overwritten
    finally:
        store.close()
