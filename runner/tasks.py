"""Human tasks from the outside: complete one and resume its run; the review figures.

``complete_task`` is what the CLI, the designer's inbox and the service's API call. The answer is
checked and the task marked completed in one store transaction (``store/tasks.py``); then the
run is resumed with it: through the service's dispatcher when a service runs on the data folder
(so its limits and queue apply), else in this process. If that resume does not happen (the
service stopped, the machine went down), the task stays completed and its run suspended, and
the due job (the service's, or ``botloom resume --due``) resumes it: ``due_answers``.

``figures`` gives, per bot, the straight-through rate (items ``review.route`` sent straight
through, of all it routed), the human intervention rate (tasks a person completed, of the items
routed, or of the runs when the bot routes nothing) and the review turnaround (created to
completed, in seconds: median, 90th percentile, mean), for the metrics and for reports.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from .store import tasks as store_tasks


def complete_task(runner, ref: str, outcome: str, values: dict | None = None, *, by: str | None = None,
                  resume: bool = True, listeners=()) -> tuple[dict, Any]:
    """Complete task ``ref`` (id, prefix or suffix) with ``outcome`` and corrected ``values``;
    returns the completed task and the run's result (a RunResult in process, the service's
    queued request as a dict, or None when ``resume`` is false)."""
    store = runner.store()
    try:
        task_id = store_tasks.resolve(store.conn, ref)
        task = store_tasks.complete(store.conn, task_id, outcome, values, by)
    finally:
        store.close()
    if not resume:
        return task, None
    return task, deliver(runner, task, listeners=listeners)


def deliver(runner, task: dict, *, listeners=()) -> Any:
    """Resume the task's run with its answer: through the service when one runs, else here."""
    data, by = store_tasks.answer(task), task.get("by") or "review"
    from .server.client import Client

    client = Client.find(runner.home)
    if client is not None:
        from . import codec

        return client.call("POST", f"/runs/{task['run_id']}/resume", {"data": codec.encode(data), "by": by})
    return runner.resume_run(task["run_id"], data=data, by=by, listeners=listeners)


def due_answers(runner, *, now: float | None = None) -> dict[str, tuple[dict, str]]:
    """Expire the tasks whose deadline passed and list the runs to resume with an answer:
    run id -> (data, by). The due job resumes these with their data, other due runs without."""
    store = runner.store()
    try:
        return store_tasks.due(store.conn, now=now)
    finally:
        store.close()


def _turnaround(seconds: list[float]) -> dict[str, float | None]:
    if not seconds:
        return {"median": None, "p90": None, "mean": None}
    ordered = sorted(seconds)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return {"median": statistics.median(ordered), "p90": p90, "mean": statistics.fmean(ordered)}


def figures(conn, *, bot: str | None = None, since: float | None = None) -> dict[str, dict[str, Any]]:
    """Review figures per bot name, over runs started since ``since`` (epoch seconds; all when None):
    ``runs``, ``routed``, ``straight``, ``to_review``, ``straight_through_rate``, ``tasks``,
    ``completed``, ``by_person``, ``expired``, ``open``, ``intervention_rate`` and
    ``turnaround`` ({median, p90, mean} seconds). Rates are None when there is nothing to divide by."""
    since = since or 0.0
    where, args = "r.started_at >= ?", [since]
    if bot:
        where += " AND r.bot_name = ?"
        args.append(bot)
    out: dict[str, dict[str, Any]] = {}

    def entry(name: str) -> dict[str, Any]:
        return out.setdefault(name, {"runs": 0, "routed": 0, "straight": 0, "to_review": 0, "tasks": 0, "completed": 0,
                                     "by_person": 0, "expired": 0, "open": 0, "_seconds": []})

    for name, count in conn.execute(f"SELECT r.bot_name, COUNT(*) FROM runs r WHERE {where} GROUP BY r.bot_name", args):
        entry(name)["runs"] = count
    routed = conn.execute(
        "SELECT r.bot_name, n.port, COUNT(*) FROM node_runs n JOIN runs r ON r.id = n.run_id "
        "WHERE n.entry IN (SELECT MAX(entry) FROM node_runs WHERE node_type = 'review.route' GROUP BY run_id, seq) "
        f"AND n.port IN ('straight', 'review') AND {where} GROUP BY r.bot_name, n.port", args)
    for name, port, count in routed:
        e = entry(name)
        e["routed"] += count
        e["straight" if port == "straight" else "to_review"] += count
    for name, state, by, created, completed in conn.execute(
            f'SELECT t.bot, t.state, t."by", t.created_at, t.completed_at FROM tasks t JOIN runs r ON r.id = t.run_id '
            f"WHERE {where}", args):
        e = entry(name)
        e["tasks"] += 1
        e[{"open": "open", "expired": "expired"}.get(state, "completed")] += 1
        if state == store_tasks.COMPLETED and by != "deadline":
            e["by_person"] += 1
            if completed is not None:
                e["_seconds"].append(max(0.0, completed - created))
    for e in out.values():
        e["straight_through_rate"] = e["straight"] / e["routed"] if e["routed"] else None
        items = e["routed"] or e["runs"]
        e["intervention_rate"] = e["by_person"] / items if items else None
        e["turnaround"] = _turnaround(e.pop("_seconds"))
    return out


def age(task: dict, now: float | None = None) -> float:
    return (time.time() if now is None else now) - (task.get("created_at") or 0)


__all__ = ["age", "complete_task", "deliver", "due_answers", "figures"]
