"""Queue triggers on the real service: items added to a work queue start a run of the bot that
works them; the run takes every item, and no run starts while the queue is empty."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bots import bot_json
from botloom.runner.store import queues
from botloom.runner.store.db import connect


def _performer(folder) -> str:
    nodes = {"start": {"type": "core.start"},
             "loop": {"type": "core.while", "params": {"condition": True, "max_iterations": 1000}},
             "next": {"type": "queue.get_next", "params": {"queue": "claims"}},
             "stop": {"type": "core.break"},
             "done": {"type": "queue.set_status", "params": {"item": "{{ nodes.next.item }}",
                                                            "output": "{{ nodes.next.payload.amount + 1 }}"}}}
    edges = [("start", "loop"), ("loop.body", "next"), ("next.empty", "stop"), ("next", "done")]
    path = folder / "claims-performer.bot.json"
    path.write_text(json.dumps(bot_json(nodes, edges, name="claims-performer")))
    return str(path)


def test_items_arriving_in_a_queue_start_a_run_that_works_them(service, home, tmp_path):
    svc = service()
    bot = _performer(tmp_path)
    env = {**os.environ, "BOTLOOM_HOME": str(home)}
    added = subprocess.run([sys.executable, "-m", "botloom.runner.cli", "schedule", "add", bot, "--queue", "claims",
                            "--name", "claims"], env=env, capture_output=True, text=True)
    assert added.returncode == 0, added.stderr
    assert "items arriving in queue 'claims'" in added.stdout
    svc.wait_for(lambda: svc.call("GET", "/schedules"), what="the schedule")
    assert not svc.runs(bot="claims-performer")  # an empty queue starts nothing
    for n in range(5):
        out = subprocess.run([sys.executable, "-m", "botloom.runner.cli", "queue", "add", "claims", f"C-{n}",
                              "--payload", json.dumps({"amount": n})], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
    def items():
        conn = connect(home / "runs.sqlite")
        try:
            return queues.items(conn, "claims")
        finally:
            conn.close()

    # a run that finds the queue empty ends; items that arrive later start another
    svc.wait_for(lambda: all(i["status"] == "succeeded" for i in items()), what="every item worked")
    assert [(i["reference"], i["output"]) for i in items()] == [(f"C-{n}", n + 1) for n in range(5)]
    runs = svc.wait_for(lambda: [r for r in svc.runs(bot="claims-performer") if r["state"] == "succeeded"],
                        what="the queue's runs")
    assert runs and all(r["trigger"] == "queue:claims" for r in runs)
