"""The figures of the run store, per bot, node type and period: one read-only pass of SQL.

``compute(conn, period)`` returns a :class:`Figures` (plain dicts and lists, JSON-able) with:

* per bot: runs by state, success and failure rates (of the runs that ended: succeeded, failed,
  cancelled, crashed; ``failed`` counts the ended runs that did not succeed), the top failure
  reasons (error kind and message of the failed runs), run latency (P50/P95/P99 and mean of
  ``ended_at - started_at``), robot time (a run's span less the time it waited for a signal, a
  timer or a person), items and throughput (items per robot hour), the human intervention and
  straight-through rates, review turnaround;
* per bot and node type: step latency P50/P95/P99 and mean, steps, failed steps;
* a series per bot and bucket (hour, day or week): runs, succeeded, did not succeed (``failed``),
  items, robot time and interventions (``roi.py`` prices each bucket: net saving per period);
* the task queues: open tasks and the age of the oldest, waiting time of completed tasks;
* the AI pack's models: confidence distribution and drift score (``nodes/ai/monitor.py``).

Percentiles are **nearest-rank** (the value at rank ``ceil(p/100 * n)`` of the ``n`` sorted
values): exact. Those of runs and task waits are computed by SQLite's window functions; those of
steps from one scan of the journal (see ``step_latency``: faster than SQLite's sorter on a
million records, ``benchmarks/insight.py``). A step is one journal row (one attempt) that ended:
``succeeded`` or ``failed``; a replayed step is not a row again, so a resumed run is not counted
twice.

Items: a run is one item, unless its bot's ``settings.roi.items_output`` names an output whose
value (a number, or a list's length) is the run's item count. Intervention: where the bot routes
items with ``review.route`` the review figures (``runner/tasks.py``) say it (items a person
handled, of the items routed, as the service's metrics give it); elsewhere a run needed a person
when it waited for a signal or a review task, or needed attention. :class:`InterventionSource`
is that seam: the review pack's figures feed it, and a later source (a work queue) can replace it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from ..states import RunState, StepState

PERCENTILES = (50, 95, 99)
BUCKETS = {"hour": 3600, "day": 86400, "week": 7 * 86400}
ENDED = (RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED, RunState.CRASHED)
TOP_REASONS = 5


@dataclass
class Period:
    """Runs started in ``[since, until)`` (epoch seconds; None: no bound), of ``bot`` (None: all)."""

    since: float | None = None
    until: float | None = None
    bot: str | None = None
    bucket: str = "day"

    def where(self, alias: str = "r") -> tuple[str, list]:
        clauses, args = ["1=1"], []
        if self.since is not None:
            clauses.append(f"{alias}.started_at >= ?")
            args.append(self.since)
        if self.until is not None:
            clauses.append(f"{alias}.started_at < ?")
            args.append(self.until)
        if self.bot:
            clauses.append(f"{alias}.bot_name = ?")
            args.append(self.bot)
        return " AND ".join(clauses), args

    def to_dict(self) -> dict:
        return {"since": self.since, "until": self.until, "bot": self.bot, "bucket": self.bucket}


@dataclass
class Figures:
    period: Period
    bots: dict[str, dict[str, Any]] = field(default_factory=dict)
    series: list[dict[str, Any]] = field(default_factory=list)
    queues: list[dict[str, Any]] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)
    computed_at: float = 0.0

    def to_dict(self) -> dict:
        return {"period": self.period.to_dict(), "computed_at": self.computed_at, "bots": self.bots,
                "series": self.series, "queues": self.queues, "models": self.models}


def _rank(p: int) -> str:
    """SQL for the nearest rank of percentile ``p`` among ``cnt`` values: ceil(p * cnt / 100)."""
    return f"(({p} * cnt + 99) / 100)"


def _pct_columns() -> str:
    return ", ".join(f"MAX(CASE WHEN rn = {_rank(p)} THEN v END)" for p in PERCENTILES)


def _pcts(row) -> dict[str, float | None]:
    return {f"p{p}": row[i] for i, p in enumerate(PERCENTILES)}


def nearest_rank(ordered: list[float], p: int) -> float:
    """The ``p``-th percentile of sorted values: the value at rank ceil(p/100 * n)."""
    return ordered[max(0, -(-p * len(ordered) // 100) - 1)]


def step_latency(conn: sqlite3.Connection, period: Period) -> dict[str, dict[str, dict]]:
    """bot -> node type -> {steps, failed, mean, p50, p95, p99} (seconds).

    One scan of the journal (no join, no SQL sort) and a sort per group in Python: on a million
    step records SQLite's sorter (a window function, or ORDER BY) takes longer than the scan and
    Python's sort together, and the journal gets no index it would pay for at every step."""
    where, args = period.where()
    bots = dict(conn.execute(f"SELECT r.id, r.bot_name FROM runs r WHERE {where}", args).fetchall())
    groups: dict[tuple[str, str], list[float]] = {}
    sql, args = "SELECT run_id, node_type, duration FROM node_runs WHERE duration IS NOT NULL AND state IN (?, ?)", \
        [StepState.SUCCEEDED, StepState.FAILED]
    if period.since is not None:  # a step starts after its run: the rows of older runs stay in SQLite
        sql += " AND started_at >= ?"
        args.append(period.since)
    last, bot = None, None
    for run_id, node_type, duration in conn.execute(sql, args):
        if run_id != last:  # a run's rows are written together: one look-up per run, not per row
            last, bot = run_id, bots.get(run_id)
        if bot is None:
            continue
        key = (bot, node_type)
        values = groups.get(key)
        if values is None:
            values = groups[key] = []
        values.append(duration)
    failed: dict[tuple[str, str], int] = {}
    for run_id, node_type in conn.execute(  # few rows: the failed steps
            "SELECT run_id, node_type FROM node_runs WHERE duration IS NOT NULL AND state = ?", (StepState.FAILED,)):
        if run_id in bots:
            key = (bots[run_id], node_type)
            failed[key] = failed.get(key, 0) + 1
    out: dict[str, dict[str, dict]] = {}
    for (bot, node_type), values in groups.items():
        values.sort()
        out.setdefault(bot, {})[node_type] = {"steps": len(values), "failed": failed.get((bot, node_type), 0),
                                              "mean": sum(values) / len(values),
                                              **{f"p{p}": nearest_rank(values, p) for p in PERCENTILES}}
    return out


def run_latency(conn: sqlite3.Connection, period: Period) -> dict[str, dict]:
    """bot -> {n, mean, p50, p95, p99} of the spans of the runs that ended (seconds)."""
    where, args = period.where()
    marks = ", ".join("?" * len(ENDED))
    sql = (
        "WITH d AS (SELECT r.bot_name AS bot, r.ended_at - r.started_at AS v, "
        "ROW_NUMBER() OVER (PARTITION BY r.bot_name ORDER BY r.ended_at - r.started_at) AS rn, "
        "COUNT(*) OVER (PARTITION BY r.bot_name) AS cnt FROM runs r "
        f"WHERE r.ended_at IS NOT NULL AND r.state IN ({marks}) AND {where}) "
        f"SELECT bot, cnt, SUM(v) / cnt, {_pct_columns()} FROM d GROUP BY bot")
    return {row[0]: {"n": row[1], "mean": row[2], **_pcts(row[3:])} for row in conn.execute(sql, [*ENDED, *args])}


class InterventionSource:
    """Where the intervention and straight-through rates come from: ``figures(conn, period)`` ->
    bot -> dict with at least ``intervention_rate``, ``straight_through_rate`` (None when there is
    nothing to divide by), ``interventions`` (items a person handled) and ``source``."""

    def figures(self, conn: sqlite3.Connection, period: Period, runs: dict[str, int]) -> dict[str, dict]:
        out = self._from_runs(conn, period, runs)
        review = self._from_review(conn, period)
        for bot, r in review.items():
            if r.get("routed"):  # the bot routes items: the review figures say it (as the metrics do)
                out[bot] = {"source": "review", "interventions": r["by_person"], "items_routed": r["routed"],
                            "to_review": r["to_review"], "intervention_rate": r["intervention_rate"],
                            "straight_through_rate": r["straight_through_rate"], "turnaround": r["turnaround"],
                            "tasks": r["tasks"], "open_tasks": r["open"]}
            elif bot in out:
                out[bot].update(turnaround=r["turnaround"], tasks=r["tasks"], open_tasks=r["open"])
        return out

    def _from_runs(self, conn, period: Period, runs: dict[str, int]) -> dict[str, dict]:
        where, args = period.where()
        sql = ("SELECT r.bot_name, COUNT(DISTINCT r.id) FROM runs r WHERE " + where + " AND ("
               "EXISTS (SELECT 1 FROM waits w WHERE w.run_id = r.id AND w.signal IS NOT NULL) OR "
               "EXISTS (SELECT 1 FROM tasks t WHERE t.run_id = r.id) OR "
               "EXISTS (SELECT 1 FROM state_changes s WHERE s.run_id = r.id AND s.state = ?)) GROUP BY r.bot_name")
        helped = dict(conn.execute(sql, [*args, RunState.NEEDS_ATTENTION]).fetchall())
        out = {}
        for bot, count in runs.items():
            n = helped.get(bot, 0)
            out[bot] = {"source": "runs", "interventions": n, "intervention_rate": n / count if count else None,
                        "straight_through_rate": (count - n) / count if count else None}
        return out

    def _from_review(self, conn, period: Period) -> dict[str, dict]:
        try:
            from ..tasks import figures
        except ImportError:  # the review work is not installed: the runs say it
            return {}
        data = figures(conn, bot=period.bot, since=period.since)
        if period.until is None:
            return data
        # the review figures know no upper bound: the counts of the runs started from `until` on are
        # taken away (counts add up; a turnaround's percentiles do not, so it is left out then)
        later = figures(conn, bot=period.bot, since=period.until)
        out = {}
        for bot, r in data.items():
            if not (later.get(bot) or {}).get("runs"):  # nothing of it after `until`: exact as it is
                out[bot] = r
                continue
            r = dict(r)
            for key in _COUNTS:
                r[key] -= (later.get(bot) or {}).get(key, 0)
            if not r["runs"]:
                continue
            r["straight_through_rate"] = r["straight"] / r["routed"] if r["routed"] else None
            items = r["routed"] or r["runs"]
            r["intervention_rate"] = r["by_person"] / items if items else None
            r["turnaround"] = {"median": None, "p90": None, "mean": None}
            out[bot] = r
        return out


_COUNTS = ("runs", "routed", "straight", "to_review", "tasks", "completed", "by_person", "expired", "open")


def _bot_settings(conn, period: Period) -> dict[str, dict]:
    """bot -> its ``settings`` block, from the snapshot of its latest run in the period."""
    where, args = period.where()
    # SQLite takes the bare column (the snapshot) from the row that has the MAX
    sql = f"SELECT r.bot_name, r.bot_snapshot, MAX(r.started_at) FROM runs r WHERE {where} GROUP BY r.bot_name"
    out = {}
    for bot, snapshot, _ in conn.execute(sql, args):
        try:
            settings = json.loads(snapshot or "{}").get("settings") or {}
        except (ValueError, AttributeError):
            settings = {}
        out[bot] = settings if isinstance(settings, dict) else {}
    return out


def _items(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, (list, tuple, dict)):
        return len(value)
    return None


def per_bot(conn: sqlite3.Connection, period: Period) -> dict[str, dict[str, Any]]:
    where, args = period.where()
    bots: dict[str, dict[str, Any]] = {}
    for bot, state, count in conn.execute(
            f"SELECT r.bot_name, r.state, COUNT(*) FROM runs r WHERE {where} GROUP BY r.bot_name, r.state", args):
        entry = bots.setdefault(bot, {"runs": 0, "states": {}})
        entry["runs"] += count
        entry["states"][state] = count
    settings = _bot_settings(conn, period)
    waited = dict(conn.execute(
        f"SELECT r.bot_name, SUM(MIN(COALESCE(w.answered_at, r.ended_at), r.ended_at) - w.started_at) "
        f"FROM waits w JOIN runs r ON r.id = w.run_id WHERE r.ended_at IS NOT NULL AND {where} GROUP BY r.bot_name",
        args).fetchall())
    for bot, entry in bots.items():
        states = entry["states"]
        ended = sum(states.get(s, 0) for s in ENDED)
        ok = states.get(RunState.SUCCEEDED, 0)
        entry.update(ended=ended, succeeded=ok, failed=ended - ok, success_rate=ok / ended if ended else None,
                     failure_rate=(ended - ok) / ended if ended else None, settings=settings.get(bot, {}))
        entry["top_failures"] = [
            {"kind": kind or "error", "message": message or "", "count": n} for kind, message, n in conn.execute(
                "SELECT json_extract(r.error, '$.kind'), json_extract(r.error, '$.message'), COUNT(*) AS n "
                f"FROM runs r WHERE {where} AND r.bot_name = ? AND r.state IN (?, ?) AND json_valid(r.error) "
                "GROUP BY 1, 2 ORDER BY n DESC, 1, 2 LIMIT ?",
                [*args, bot, RunState.FAILED, RunState.CRASHED, TOP_REASONS])]
        spans = conn.execute(f"SELECT SUM(r.ended_at - r.started_at) FROM runs r WHERE {where} AND r.bot_name = ? "
                             "AND r.ended_at IS NOT NULL", [*args, bot]).fetchone()[0] or 0.0
        entry["robot_seconds"] = max(0.0, spans - (waited.get(bot) or 0.0))
        entry["items"] = _count_items(conn, period, bot, (entry["settings"].get("roi") or {}).get("items_output"), ok)
        hours = entry["robot_seconds"] / 3600
        entry["items_per_hour"] = entry["items"] / hours if hours > 0 else None
    return bots


def _count_items(conn, period: Period, bot: str, output: str | None, succeeded: int) -> int:
    """Items the bot's succeeded runs handled: one each, or the count its ``items_output`` gives."""
    if not output or not isinstance(output, str):
        return succeeded
    from ..codec import loads

    where, args = period.where()
    total = 0
    for (outputs,) in conn.execute(f"SELECT r.outputs FROM runs r WHERE {where} AND r.bot_name = ? AND r.state = ?",
                                   [*args, bot, RunState.SUCCEEDED]):
        try:
            value = (loads(outputs) or {}).get(output)
        except Exception:  # an output the codec cannot read counts as one item
            value = None
        n = _items(value)
        total += 1 if n is None else n
    return total


_HELPED = ("(EXISTS (SELECT 1 FROM waits w WHERE w.run_id = r.id AND w.signal IS NOT NULL) OR "
           "EXISTS (SELECT 1 FROM tasks t WHERE t.run_id = r.id) OR "
           "EXISTS (SELECT 1 FROM state_changes c WHERE c.run_id = r.id AND c.state = 'needs_attention'))")
_WAITED = ("COALESCE((SELECT SUM(MIN(COALESCE(w.answered_at, r.ended_at), r.ended_at) - w.started_at) "
           "FROM waits w WHERE w.run_id = r.id), 0)")
# (``+t.state``: look the run's tasks up by run, not every completed task by state)
_BY_PERSON = ("(SELECT COUNT(*) FROM tasks t WHERE t.run_id = r.id AND +t.state = 'completed' "
              "AND t.\"by\" IS NOT 'deadline')")


def series(conn: sqlite3.Connection, period: Period, items_outputs: dict[str, str] | None = None) -> list[dict]:
    """Per bot and bucket, in time order: {bot, start (epoch s), runs, succeeded, failed (did not
    succeed), items, robot_seconds, helped (runs that needed a person), handled (review tasks a
    person completed)}: what the period's figures and ROI are made of, bucket by bucket."""
    width = BUCKETS.get(period.bucket)
    if width is None:
        from ..errors import InputError

        raise InputError(f"there is no period bucket '{period.bucket}'", fix=f"use one of {', '.join(BUCKETS)}")
    where, args = period.where()
    sql = (f"SELECT r.bot_name, CAST(r.started_at / {width} AS INTEGER) * {width} AS b, COUNT(*), "
           "SUM(r.state = ?), SUM(r.state IN (?, ?, ?)), "
           f"SUM(CASE WHEN r.ended_at IS NOT NULL THEN r.ended_at - r.started_at - {_WAITED} ELSE 0 END), "
           f"SUM({_HELPED}), SUM({_BY_PERSON}) FROM runs r WHERE {where} GROUP BY 1, 2 ORDER BY 2, 1")
    rows = [{"bot": bot, "start": float(start), "runs": n, "succeeded": ok, "failed": bad, "items": ok,
             "robot_seconds": max(0.0, robot or 0.0), "helped": helped, "handled": handled}
            for bot, start, n, ok, bad, robot, helped, handled
            in conn.execute(sql, [RunState.SUCCEEDED, RunState.FAILED, RunState.CRASHED, RunState.CANCELLED, *args])]
    for bot, output in (items_outputs or {}).items():
        counted = _items_by_bucket(conn, period, bot, output, width)
        for row in rows:
            if row["bot"] == bot:
                row["items"] = counted.get(row["start"], 0)
    return rows


def _items_by_bucket(conn, period: Period, bot: str, output: str, width: int) -> dict[float, int]:
    from ..codec import loads

    where, args = period.where()
    out: dict[float, int] = {}
    for start, outputs in conn.execute(
            f"SELECT CAST(r.started_at / {width} AS INTEGER) * {width}, r.outputs FROM runs r WHERE {where} "
            "AND r.bot_name = ? AND r.state = ?", [*args, bot, RunState.SUCCEEDED]):
        try:
            n = _items((loads(outputs) or {}).get(output))
        except Exception:  # an output the codec cannot read counts as one item, as in the totals
            n = None
        out[float(start)] = out.get(float(start), 0) + (1 if n is None else n)
    return out


def queues(conn: sqlite3.Connection, period: Period, now: float) -> list[dict[str, Any]]:
    """Review task queues: open tasks, the oldest one's age, and the waiting time (created to
    completed) of the completed ones, P50/P95 (seconds). A task with no queue is in '(none)'."""
    where, args = period.where()
    base = f"FROM tasks t JOIN runs r ON r.id = t.run_id WHERE {where}"
    out: dict[str, dict] = {}
    for queue, n, oldest in conn.execute(
            f"SELECT COALESCE(t.queue, '(none)'), COUNT(*), MIN(t.created_at) {base} AND t.state = 'open' GROUP BY 1",
            args):
        out[queue] = {"queue": queue, "open": n, "oldest_seconds": max(0.0, now - oldest), "completed": 0,
                      "wait": {"p50": None, "p95": None}}
    sql = (f"WITH d AS (SELECT COALESCE(t.queue, '(none)') AS q, t.completed_at - t.created_at AS v, "
           "ROW_NUMBER() OVER (PARTITION BY COALESCE(t.queue, '(none)') ORDER BY t.completed_at - t.created_at) AS rn,"
           " COUNT(*) OVER (PARTITION BY COALESCE(t.queue, '(none)')) AS cnt "
           f"{base} AND t.completed_at IS NOT NULL) "
           f"SELECT q, cnt, MAX(CASE WHEN rn = {_rank(50)} THEN v END), MAX(CASE WHEN rn = {_rank(95)} THEN v END) "
           "FROM d GROUP BY q")
    for queue, n, p50, p95 in conn.execute(sql, args):
        entry = out.setdefault(queue, {"queue": queue, "open": 0, "oldest_seconds": None})
        entry.update(completed=n, wait={"p50": p50, "p95": p95})
    return sorted(out.values(), key=lambda q: q["queue"])


def models(home=None) -> list[dict[str, Any]]:
    """The AI pack's models: predictions, confidence shares per tenth, drift of the active version.
    Empty when the pack has recorded nothing (no ``ai/monitor.sqlite``)."""
    from .. import paths

    db = (home or paths.home()) / "ai" / "monitor.sqlite"
    if not db.exists():
        return []
    try:
        from botloom.nodes.ai import monitor
        from botloom.nodes.ai.registry import Registry
    except ImportError:
        return []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT model, version, COUNT(*), "
                           + ", ".join(f"SUM(MIN(CAST(confidence * 10 AS INTEGER), 9) = {i})" for i in range(10))
                           + " FROM predictions GROUP BY model, version ORDER BY model, version").fetchall()
    except sqlite3.Error:
        return []
    finally:
        con.close()
    out = []
    for model, version, n, *counts in rows:
        entry = {"model": model, "version": version, "predictions": n,
                 "confidence": [c / n if n else 0.0 for c in counts], "drift": None}
        try:
            mv = Registry(db.parent.parent / "models").get(model, version)
            entry["drift"] = monitor.drift(model, version, mv.card.get("baseline") or {})
        except Exception as exc:  # a model removed from the registry: its predictions still count
            entry["drift"] = {"score": None, "warning": False, "note": f"drift not measured: {exc}"}
        out.append(entry)
    return out


def compute(conn: sqlite3.Connection, period: Period | None = None, *, home=None, now: float | None = None,
            source: InterventionSource | None = None, with_models: bool = True) -> Figures:
    """Every figure of ``period`` (all runs when None) in the store behind ``conn``."""
    period = period or Period()
    now = time.time() if now is None else now
    bots = per_bot(conn, period)
    steps = step_latency(conn, period)
    latency = run_latency(conn, period)
    people = (source or InterventionSource()).figures(conn, period, {b: e["runs"] for b, e in bots.items()})
    for bot, entry in bots.items():
        entry["node_types"] = dict(sorted(steps.get(bot, {}).items()))
        entry["run_seconds"] = latency.get(bot, {"n": 0, "mean": None, "p50": None, "p95": None, "p99": None})
        entry["people"] = people.get(bot, {})
        entry["intervention_rate"] = entry["people"].get("intervention_rate")
        entry["straight_through_rate"] = entry["people"].get("straight_through_rate")
    outputs = {bot: o for bot, e in bots.items()
               if isinstance(o := (e["settings"].get("roi") or {}).get("items_output"), str) and o}
    figures = Figures(period, dict(sorted(bots.items())), series(conn, period, outputs), queues(conn, period, now),
                      models(home) if with_models else [], now)
    return figures


__all__ = ["Figures", "InterventionSource", "Period", "compute", "nearest_rank", "run_latency", "step_latency"]
