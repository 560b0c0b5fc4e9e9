"""Many `botloom` processes on one data folder at once: real processes, one real SQLite store.

- Twenty simultaneous `botloom resume` of one crashed run (with `show` and `runs` looking on):
  exactly one proceeds; the others are told, clearly, that the run is taken (or already over),
  and nothing runs twice.
- Eight runs started at once in a fresh data folder: none fails on a lock (creating the store,
  journalling, the state history), and every run is recorded right: its state, outputs, steps.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections import Counter
from pathlib import Path

import pytest

import replay_corpus as rc

pytestmark = pytest.mark.skipif(os.name == "nt", reason="uses SIGKILL")

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def pythonpath(tmp_path_factory) -> list[Path]:
    return [rc.install_pack(tmp_path_factory.mktemp("replay-pack")), TESTS, TESTS / "data" / "packs"]


def state_history(home: Path, run_id: str) -> list[str]:
    db = sqlite3.connect(f"file:{home / 'runs.sqlite'}?mode=ro", uri=True)
    try:
        return [r[0] for r in db.execute("SELECT state FROM state_changes WHERE run_id=? ORDER BY id", (run_id,))]
    finally:
        db.close()


def start_all(chain: rc.Chain, argvs: list[list[str]]) -> list[subprocess.CompletedProcess]:
    """Start every command before waiting for any, so that they really run at the same time."""
    procs = [subprocess.Popen(chain.argv(*argv), cwd=chain.work, env=chain.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for argv in argvs]
    done = []
    for argv, proc in zip(argvs, procs):
        out, err = proc.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(argv, proc.returncode, out, err))
    return done


def test_twenty_simultaneous_resumes_of_a_crashed_run_let_exactly_one_proceed(tmp_path, pythonpath):
    flow = rc.Flow()
    flow.line("before", "before the crash")
    flow.then("gate", "replay.gate", {"label": "crash here"})
    flow.line("after", "after the crash")
    flow.then("slow", "core.delay", {"seconds": 1.0})  # the winner is still running while the others try
    flow.line("last", "the last line")
    chain = rc.Chain(tmp_path, {"format": 1, "name": "resume-race", **flow.json()}, {}, pythonpath)
    assert chain._once(("run", chain.bot), ("park", 1)) is None  # SIGKILLed in the gate
    run_id = chain.stored()["run_id"]
    assert chain.stored()["state"] == "running"  # what the dead process left; resume finds it crashed

    # five onlookers as well: `show` and `runs` look for crashed runs while the resumes race
    onlookers = [["show", run_id, "--json"], ["runs", "--json"]] * 2 + [["show", run_id, "--json"]]
    everything = start_all(chain, [["resume", run_id, "--json"] for _ in range(20)] + onlookers)
    results, looked = everything[:20], everything[20:]

    assert all(r.returncode == 0 and "Traceback" not in r.stderr for r in looked), [r.stderr for r in looked]
    codes = Counter(r.returncode for r in results)
    assert codes[0] == 1, [(r.returncode, r.stdout + r.stderr) for r in results]
    assert codes[2] == 19, codes
    winner = next(r for r in results if r.returncode == 0)
    assert json.loads(winner.stdout)["state"] == "succeeded"
    for r in results:
        assert "Traceback" not in r.stderr, r.stderr
        if r.returncode == 2:
            error = json.loads(r.stdout)["error"]
            # taken by another process, or (for one that came late) already over: never a crash
            assert run_id in error["message"] and error.get("fix"), error
    assert rc.lines(chain.work / rc.EFFECTS) == ["before the crash", "after the crash", "the last line"]
    history = state_history(chain.home, run_id)
    assert history == ["created", "running", "crashed", "running", "succeeded"], history
    shown = chain.shown()
    assert Counter((s["seq"], s["node_id"]) for s in shown["steps"] if s["state"] == "succeeded") == \
        {(seq, node): 1 for seq, node in enumerate(["start", "before", "gate", "after", "slow", "last"], 1)}


def test_eight_runs_at_once_in_one_data_folder_are_all_recorded(tmp_path, pythonpath):
    flow = rc.Flow(effects="{{ run.id }}.txt")
    loop = flow.then("each", "core.for_each", {"items": "{{ range(60) | list }}"})
    flow.add("count", "core.set_variable", {"name": "total", "value": "{{ total + item }}"})
    flow.link(f"{loop}.body", "count.in")
    flow.line("write", "line {{ item }}", after="count.out")  # a side effect: one commit per step
    flow.line("done", "total {{ total }}")
    bot = {"format": 1, "name": "eight", "outputs": {"total": "integer"},
           "variables": {"total": {"type": "integer", "default": 0}}, **flow.json()}
    chain = rc.Chain(tmp_path, bot, {}, pythonpath)
    assert not chain.home.exists()  # the eight runs also race to create the store

    results = start_all(chain, [["run", chain.bot, "--json"] for _ in range(8)])

    for r in results:
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stdout + r.stderr
        assert "locked" not in (r.stdout + r.stderr).lower(), r.stderr
    finished = [json.loads(r.stdout) for r in results]
    ids = {f["run_id"] for f in finished}
    assert len(ids) == 8
    assert all(f["state"] == "succeeded" and f["outputs"] == {"total": sum(range(60))} for f in finished)
    listed = json.loads(chain.call("runs", "--json").stdout)
    assert {r["id"] for r in listed} == ids and {r["state"] for r in listed} == {"succeeded"}
    steps = 1 + 1 + 60 * 2 + 1  # start, the loop, its body twice per item, the last line
    for run_id in ids:
        assert state_history(chain.home, run_id) == ["created", "running", "succeeded"]
        shown = json.loads(chain.call("show", run_id, "--json").stdout)
        assert shown["run"]["steps"] == steps and shown["run"]["outputs"] == {"total": sum(range(60))}
        assert sorted(s["seq"] for s in shown["steps"] if s["state"] == "succeeded") == list(range(1, steps + 1))
        assert rc.lines(chain.work / f"{run_id}.txt") == [f"line {i}" for i in range(60)] + [f"total {sum(range(60))}"]
