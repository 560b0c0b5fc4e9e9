"""The runtime seams: the Runner object, thread-safe lazy packs, compare-and-set resume,
called bots snapshotted with their run, and one validation path."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from bots import registry, write_bot

from botloom.runner.engine import EventLog
from botloom.runner.errors import ResumeError
from botloom.runner.runtime import Runner
from botloom.runner.sdk import NodePack, Output, node
from botloom.runner.sdk.registry import Registry, UnknownNodeType


def _at_once(count: int, call) -> None:
    """Run ``call()`` in ``count`` threads released together, and wait for all of them."""
    barrier = threading.Barrier(count)

    def go():
        barrier.wait()
        call()

    threads = [threading.Thread(target=go) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# ---------------------------------------------------------------- lazy packs and threads

@node("slow.echo", outputs=[Output("text", "string")])
def _slow_echo(ctx):
    return {"text": "echo"}


class _SlowEntryPoint:
    """An entry point whose pack takes a while to import (as a heavy pack does)."""

    def __init__(self, name: str, nodes: list):
        self.name, self.value, self.nodes, self.loads = name, f"tests:{name}", nodes, 0

    def load(self):
        self.loads += 1
        time.sleep(0.2)  # widens the window in which other threads ask for its types
        return NodePack(self.name, "1.0", self.nodes)


def test_threads_asking_for_a_pack_that_is_still_loading_never_see_an_unknown_type():
    reg = Registry()
    slow, other = _SlowEntryPoint("slow", [_slow_echo]), _SlowEntryPoint("other", [])
    reg._pending = {"other": other, "slow": slow}  # what discover(lazy=True) leaves: nothing imported yet
    found, failures = [], []

    def ask():
        try:
            found.append(reg.get("slow.echo"))
        except UnknownNodeType as exc:
            failures.append(exc.message)

    _at_once(16, ask)
    assert failures == []
    assert found == [_slow_echo] * 16
    assert slow.loads == 1 and other.loads == 0  # the pack was imported once; the other not at all


# ---------------------------------------------------------------- the Runner

def _bot(folder: Path, name: str, nodes: dict, edges: list, **top) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_bot(folder, name, {"start": {"type": "core.start"}, **nodes}, edges, **top)


def test_two_runners_with_different_homes_share_nothing(tmp_path, work):
    bot = _bot(work, "hello", {"log": {"type": "core.log", "params": {"message": "hi"}}}, [("start.out", "log.in")])
    first, second = Runner(tmp_path / "one"), Runner(tmp_path / "two", settings={"logs.level": "debug"})
    assert first.registry is not second.registry
    a = first.start_run(bot)
    b = second.start_run(bot)
    assert a.state == b.state == "succeeded" and a.run_id != b.run_id
    for runner, mine, theirs in ((first, a, b), (second, b, a)):
        store = runner.store()
        try:
            assert store.path == runner.home / "runs.sqlite"
            assert [r.id for r in store.list_runs()] == [mine.run_id]  # the other's run is not here
        finally:
            store.close()
        assert (runner.home / "logs" / f"{mine.run_id}.jsonl").exists()
        assert not (runner.home / "logs" / f"{theirs.run_id}.jsonl").exists()
    assert first.settings["logs.level"] == "info" and second.settings["logs.level"] == "debug"
    assert not (Path(os.environ["BOTLOOM_HOME"]) / "runs.sqlite").exists()  # nor the environment's data folder


@node("keeps.file")
def _keeps_file(ctx):
    ctx.artifact(b"kept", "kept.bin")


def test_a_runs_artifacts_go_to_its_runners_data_folder(tmp_path, work):
    reg = Registry.discover(lazy=True)
    reg.add_pack(NodePack("keeps", "1.0", [_keeps_file]))
    bot = _bot(work, "keeper", {"keep": {"type": "keeps.file"}}, [("start.out", "keep.in")])
    runner = Runner(tmp_path / "own", registry=reg)
    result = runner.start_run(bot)
    assert result.state == "succeeded", result.error
    assert (runner.home / "artifacts" / result.run_id / "kept.bin").read_bytes() == b"kept"
    assert not (Path(os.environ["BOTLOOM_HOME"]) / "artifacts").exists()


def test_the_runner_keeps_no_module_level_registry():
    import botloom.runner.service as service

    assert not hasattr(service, "_registry") and not hasattr(service, "registry")
    assert Runner().registry is not Runner().registry


# ---------------------------------------------------------------- compare-and-set resume

def test_threads_resuming_one_run_at_once_exactly_one_proceeds(tmp_path, work):
    bot = _bot(work, "waits", {"wait": {"type": "core.wait_signal", "params": {"signal": "go"}},
                               "log": {"type": "core.log", "params": {"message": "after"}}},
               [("start.out", "wait.in"), ("wait.out", "log.in")])
    home, reg = tmp_path / "home", registry()
    first = Runner(home, registry=reg).start_run(bot)
    assert first.state == "suspended"
    proceeded, refused = [], []

    def resume():
        runner = Runner(home, registry=reg)  # one runtime per caller, as separate processes would have
        try:
            proceeded.append(runner.resume_run(first.run_id, data={"signal": "go", "data": {}}))
        except ResumeError as exc:
            refused.append(exc.message)

    _at_once(12, resume)
    assert [r.state for r in proceeded] == ["succeeded"], refused
    assert len(refused) == 11
    assert all(any(why in m for why in ("already running", "being resumed", "succeeded; only")) for m in refused), refused
    store = Runner(home, registry=reg).store()
    try:
        rows = store.node_runs(first.run_id)
        assert [r.node_id for r in rows if r.state == "succeeded"].count("log") == 1  # the rest of the run ran once
    finally:
        store.close()


def test_a_refused_resume_leaves_the_run_as_it_was(tmp_path, work):
    bot = _bot(work, "risky", {"boom": {"type": "core.fail", "params": {"message": "no"}}}, [("start.out", "boom.in")])
    runner = Runner(tmp_path / "home", registry=registry())
    run = runner.start_run(bot)
    assert run.state == "failed"
    with pytest.raises(ResumeError, match="--retry"):
        runner.resume_run(run.run_id)  # a failed run needs --retry or --skip
    store = runner.store()
    try:
        assert store.run_row(run.run_id)["state"] == "failed"
        assert not store.lock(run.run_id).held_elsewhere()
    finally:
        store.close()


# ---------------------------------------------------------------- called bots

def test_a_resume_runs_the_called_bot_as_it_was_not_the_changed_file(tmp_path, work):
    def inner(word: str) -> Path:
        return _bot(work / "lib", "inner", {
            "said": {"type": "core.log", "params": {"message": f"{word} before"}},
            "wait": {"type": "core.wait_signal", "params": {"signal": "go"}},
            "after": {"type": "core.set_variable", "params": {"name": "word", "value": word}}},
            [("start.out", "said.in"), ("said.out", "wait.in"), ("wait.out", "after.in")],
            outputs={"word": "string"})

    inner("old")
    outer = _bot(work, "outer", {"call": {"type": "core.call_bot", "params": {"bot": "lib/inner.bot.json"}}},
                 [("start.out", "call.in")], variables={"got": {"type": "object"}})
    runner = Runner(tmp_path / "home", registry=registry())
    first = runner.start_run(outer)
    assert first.state == "suspended", first.error
    inner("new")  # edited while the run waits
    log = EventLog()
    resumed = runner.resume_run(first.run_id, data={"signal": "go", "data": {}}, listeners=[log], by="ana")
    assert resumed.state == "succeeded", resumed.error
    assert [(e.node, e.by) for e in log.of("wait_answered")] == [("wait", "ana")]  # who answered, for the journal
    call = [e for e in log.of("node_finished") if e.node == "call"][-1]
    assert call.outputs == {"outputs": {"word": "old"}}
    store = runner.store()
    try:
        kept = store.conn.execute("SELECT path, text FROM run_bots WHERE run_id=?", (first.run_id,)).fetchall()
    finally:
        store.close()
    assert [Path(p).name for p, _ in kept] == ["inner.bot.json"] and '"old before"' in kept[0][1]


# ---------------------------------------------------------------- one validation path

def test_a_run_checks_each_node_once(tmp_path, work, monkeypatch):
    from botloom.runner.engine import plan

    bot = _bot(work, "three", {"a": {"type": "core.log", "params": {"message": "a"}},
                               "b": {"type": "core.log", "params": {"message": "b"}}},
               [("start.out", "a.in"), ("a.out", "b.in")])
    checked = []
    real = plan.check_node
    monkeypatch.setattr(plan, "check_node", lambda spec, *a, **kw: checked.append(spec.id) or real(spec, *a, **kw))
    runner = Runner(tmp_path / "home", registry=registry())
    assert runner.start_run(bot).state == "succeeded"  # validated in full (nothing cached yet), then run
    assert sorted(checked) == ["a", "b", "start"]


def test_a_cached_bot_and_the_bot_it_calls_run_without_networkx(tmp_path, work):
    _bot(work, "inner", {"a": {"type": "core.log", "params": {"message": "a"}}}, [("start.out", "a.in")])
    outer = _bot(work, "outer", {"call": {"type": "core.call_bot", "params": {"bot": "inner.bot.json"}}},
                 [("start.out", "call.in")])
    home = tmp_path / "home"
    assert Runner(home).start_run(outer).state == "succeeded"  # both validated in full once, and remembered
    code = ("import sys; from botloom.runner.runtime import Runner; r = Runner(sys.argv[1]).start_run(sys.argv[2]); "
            "print(r.state, r.steps, 'networkx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(home), str(outer)], capture_output=True, text=True)
    assert out.stdout.split() == ["succeeded", "4", "False"], out.stderr


@pytest.mark.parametrize("edge", [
    ("c", "ture", "a", "in"),             # no such control port
    ("loop", "cuont", "a", "message"),    # no such data output
    ("loop", "count", "a", "mesage"),     # no such parameter
    ("a", "out", "start", "in"),          # into the start node
    ("loop", "count", "items", "items"),  # integer into a list
    ("c", "true", "a", "message"),        # a control port into a value
    ("loop", "count", "a", "in"),         # a value into 'in'
])
def test_the_canvas_refuses_an_edge_with_the_words_validation_uses(edge):
    from botloom.app.ports import check_connection
    from botloom.runner.graph import Bot
    from botloom.runner.validate import validate_doc

    from bots import make

    nodes = {"start": {"type": "core.start"}, "c": {"type": "core.if", "params": {"condition": "true"}},
             "loop": {"type": "core.for_each", "params": {"items": [1]}},
             "items": {"type": "core.for_each"}, "a": {"type": "core.log", "params": {"message": "x"}}}
    base = [("start", "c"), ("c.false", "loop"), ("loop", "items"), ("items.body", "a")]
    source, source_port, target, target_port = edge
    said = [p.message for p in validate_doc(make(nodes, [*base, {"from": f"{source}.{source_port}",
                                                                  "to": f"{target}.{target_port}"}]), registry())
            if p.edge == f"{source}.{source_port} -> {target}.{target_port}"]
    refused = check_connection(Bot(make(nodes, base)).main, registry(), *edge)
    assert said == [refused]


def test_a_lock_taken_on_the_file_its_holder_just_removed_is_not_a_second_lock(tmp_path, monkeypatch):
    from botloom.runner.store.lock import RunLock

    path = tmp_path / "locks" / "run.lock"
    holder = RunLock(path)
    assert holder.acquire()
    stale = os.open(path, os.O_RDWR)  # a resume that opened the file just before the holder let go
    holder.release()  # the holder removes the file
    other = RunLock(path)
    assert other.acquire()  # a resume that came later makes a new file and holds it
    late = RunLock(path)
    opened = iter([stale])
    real_open = RunLock._open
    monkeypatch.setattr(RunLock, "_open", lambda self: next(opened, None) or real_open(self))
    assert not late.acquire()  # the removed file's lock is free, but it is not the run's lock any more
    other.release()
    assert late.acquire()
    late.release()
