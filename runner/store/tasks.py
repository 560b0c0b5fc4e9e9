"""Human tasks in the run store: the ``tasks`` table (``models.Task``), written with ``sqlite3``.

A task is born in the journal: when a step suspends with ``state={"task": form}`` (the
``review.task`` node), its row is written in the same transaction as the wait (``UPSERT``), so
a task exists exactly when its run waits for it. A step that suspends again (a task escalated at
its deadline) updates its row and opens it again, unless it was completed meanwhile.

Completing a task is one transaction: the row is read, the answer is checked against the form
(the outcome is one the form offers; each value fits its field's type, through the same
``Param.check`` a node's parameters go through; a required field has a value; no field the form
does not have), and the row becomes ``completed`` only if it is still ``open``. Of two answers
to one task, exactly one is taken; the other is refused with who answered first. Delivering the
answer to the run (a resume) is the caller's: ``runner/tasks.py``.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timezone
from typing import Any

from ..errors import InputError, StoreError
from ..states import FINAL_STATES, RunState
from .db import dumps, loads, resolve_id, transaction

OPEN, COMPLETED, EXPIRED = "open", "completed", "expired"
STATES = (OPEN, COMPLETED, EXPIRED)

UPSERT_SQL = (
    'INSERT INTO tasks (id, run_id, seq, node, bot, queue, assignee, state, form, created_at, deadline) '
    "VALUES (?, ?, ?, ?, COALESCE((SELECT bot_name FROM runs WHERE id=?), ''), ?, ?, 'open', ?, ?, ?) "
    "ON CONFLICT (run_id, seq) DO UPDATE SET queue=excluded.queue, assignee=excluded.assignee, state='open', "
    "form=excluded.form, deadline=excluded.deadline WHERE tasks.state != 'completed'")
COLUMNS = ("id", "run_id", "seq", "node", "bot", "queue", "assignee", "state", "form", "outcome", "values", "by",
           "created_at", "deadline", "completed_at")
_SELECT = "SELECT " + ", ".join(f'"{c}"' for c in COLUMNS) + " FROM tasks"


def task_row(run_id: str, seq: int, node: str, wake: dict) -> tuple | None:
    """The UPSERT arguments for a step that suspended with ``wake`` (None when it is no task)."""
    form = (wake.get("state") or {}).get("task") if isinstance(wake, dict) else None
    if not isinstance(form, dict):
        return None
    from ..engine.runs import new_run_id

    return (new_run_id(), run_id, seq, node, run_id, form.get("queue"), form.get("assignee"), dumps(form),
            form.get("created_at") or time.time(), form.get("deadline"))


def _row(values) -> dict[str, Any]:
    task = dict(zip(COLUMNS, values))
    task["form"] = loads(task["form"]) or {}
    task["values"] = loads(task["values"])
    return task


def get(conn: sqlite3.Connection, task_id: str) -> dict[str, Any]:
    row = conn.execute(_SELECT + " WHERE id=?", (task_id,)).fetchone()
    if row is None:
        raise StoreError(f"no task '{task_id}'", fix="`botloom tasks list` lists the open tasks")
    return _row(row)


def resolve(conn: sqlite3.Connection, ref: str) -> str:
    """A task id from an exact id or a unique prefix or suffix (the last characters are random)."""
    return resolve_id(conn, "tasks", ref, "task", "botloom tasks list --all")


def find(conn: sqlite3.Connection, *, state: str | None = OPEN, bot: str | None = None, queue: str | None = None,
         assignee: str | None = None, older_than: float | None = None, due_within: float | None = None,
         limit: int = 200, now: float | None = None) -> list[dict[str, Any]]:
    """Tasks, oldest first. ``older_than``: created at least that many seconds ago;
    ``due_within``: a deadline within that many seconds (or past). Open tasks of runs that ended
    meanwhile (stopped, failed), or went on past them (answered by hand), are left out: nobody
    waits for their answer."""
    now = time.time() if now is None else now
    where, args = [], []
    if state == OPEN:  # and the run still waits for it: not ended, not gone on past it to another wait
        where.append(f"run_id NOT IN (SELECT id FROM runs WHERE state IN ({', '.join('?' * len(FINAL_STATES))}) OR "
                     "(state = 'suspended' AND json_valid(wake) AND json_extract(wake, '$.seq') != tasks.seq))")
        args += sorted(FINAL_STATES)
    for column, value in (("state", state), ("bot", bot), ("queue", queue), ("assignee", assignee)):
        if value:
            where.append(f"{column} = ?")
            args.append(value)
    if older_than is not None:
        where.append("created_at <= ?")
        args.append(now - older_than)
    if due_within is not None:
        where.append("deadline IS NOT NULL AND deadline <= ?")
        args.append(now + due_within)
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY created_at, id LIMIT ?"
    return [_row(r) for r in conn.execute(sql, (*args, max(1, min(int(limit), 10_000))))]


def check_answer(form: dict, outcome: Any, values: dict | None, where: str) -> dict:
    """The answer's values (every field: given, else as extracted), checked against the form;
    an InputError saying which field and why otherwise."""
    from ..sdk.params import Param
    from ..sdk.types import TypeMismatch

    outcomes = form.get("outcomes") or []
    if outcome not in outcomes:
        raise InputError(f"{outcome!r} is not an outcome of this task", where=where,
                         fix=f"choose one of: {', '.join(map(str, outcomes))}")
    values = dict(values or {})
    fields = {f["name"]: f for f in form.get("fields") or []}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise InputError(f"the task has no field {', '.join(map(repr, unknown))}", where=where,
                         fix=f"its fields: {', '.join(fields) or '(none)'}")
    checked, problems = {}, []
    for name, field in fields.items():
        value = values.get(name, field.get("value"))
        param = Param(name, field.get("type") or "any", required=bool(field.get("required")),
                      choices=tuple(field.get("choices") or ()))
        if param.required and value in (None, ""):
            problems.append(f"'{name}' is required")
            continue
        try:
            checked[name] = param.check(value)
        except TypeMismatch as exc:
            problems.append(f"'{name}': {exc}")
    if problems:
        raise InputError("the answer does not fit the form: " + "; ".join(problems), where=where,
                         fix="correct those values and complete the task again; it is still open")
    return checked


def complete(conn: sqlite3.Connection, task_id: str, outcome: Any, values: dict | None, by: str | None,
             *, now: float | None = None) -> dict[str, Any]:
    """Check the answer and mark the task completed, in one transaction; the completed task."""
    now = time.time() if now is None else now
    with transaction(conn):
        task = get(conn, task_id)
        where = f"task {task_id} (bot '{task['bot']}', node '{task['node']}')"
        if task["state"] == COMPLETED:
            when = datetime.fromtimestamp(task["completed_at"] or 0).strftime("%Y-%m-%d %H:%M:%S")
            raise InputError(f"{where} was already completed: {task['outcome']} by {task['by'] or 'someone'} "
                             f"at {when}", fix="nothing to do; `botloom tasks show` shows the answer")
        if task["state"] == EXPIRED:
            raise InputError(f"{where} expired at its deadline", fix="the run took its deadline's course; "
                                                                     "`botloom show " + task["run_id"] + "` shows it")
        run = conn.execute("SELECT state, wake FROM runs WHERE id=?", (task["run_id"],)).fetchone()
        if run is None or run[0] not in (RunState.SUSPENDED, RunState.CRASHED, RunState.RUNNING):
            raise InputError(f"{where}: its run {task['run_id']} is {run[0] if run else 'gone'} and waits for no "
                             "answer", fix="the task cannot be completed any more")
        waits_at = (loads(run[1]) or {}).get("seq") if run[0] == RunState.SUSPENDED else task["seq"]
        if waits_at != task["seq"]:  # answered another way (`botloom resume --data`): the run went on
            raise InputError(f"{where}: its run went on past this review (it now waits at step {waits_at})",
                             fix="the task cannot be completed any more")
        checked = check_answer(task["form"], outcome, values, where)
        done = conn.execute('UPDATE tasks SET state=?, outcome=?, "values"=?, "by"=?, completed_at=? '
                            "WHERE id=? AND state='open'", (COMPLETED, outcome, dumps(checked), by, now,
                                                            task_id)).rowcount
        if not done:  # cannot happen under the write lock, but never report a lost answer as taken
            raise StoreError(f"{where} changed while it was being completed", fix="look at it again and retry")
        from .examples import record  # the corrections become labelled examples with the answer

        record(conn, get(conn, task_id), now=now)
    return get(conn, task_id)


def assign(conn: sqlite3.Connection, task_id: str, *, assignee: str | None = None, queue: str | None = None) -> dict:
    """Give an open task to a person and/or a queue ("" clears one)."""
    with transaction(conn):
        task = get(conn, task_id)
        if task["state"] != OPEN:
            raise InputError(f"task {task_id} is {task['state']}; only an open task can be assigned")
        sets, args = [], []
        for column, value in (("assignee", assignee), ("queue", queue)):
            if value is not None:
                sets.append(f"{column}=?")
                args.append(value or None)
        if not sets:
            raise InputError("assign to whom?", fix="give --to USER and/or --queue NAME")
        conn.execute(f"UPDATE tasks SET {', '.join(sets)} WHERE id=? AND state='open'", (*args, task_id))
    return get(conn, task_id)


def answer(task: dict) -> dict:
    """The data a completed (or expired) task resumes its run with, as ``review.task`` reads it."""
    if task["state"] == EXPIRED:
        return {"task": task["id"], "expired": True}
    at = datetime.fromtimestamp(task["completed_at"], timezone.utc).isoformat(timespec="seconds")
    return {"task": task["id"], "outcome": task["outcome"], "values": task["values"] or {}, "by": task["by"],
            "at": at.replace("+00:00", "Z")}


def corrections(task: dict) -> list[dict[str, Any]]:
    """What the reviewer did to each field of a completed task, for labelled examples:
    ``{field, type, original, corrected, confidence, changed}``, in the form's order."""
    if task.get("state") != COMPLETED:
        return []
    given = task.get("values") or {}
    out = []
    for field in (task.get("form") or {}).get("fields") or []:
        original, corrected = field.get("value"), given.get(field["name"], field.get("value"))
        out.append({"field": field["name"], "type": field.get("type"), "original": original, "corrected": corrected,
                    "confidence": field.get("confidence"), "changed": corrected != original})
    return out


def due(conn: sqlite3.Connection, *, now: float | None = None) -> dict[str, tuple[dict, str]]:
    """What the due job delivers: open tasks past their deadline are marked expired (in one
    transaction, taken only when there is one), and each run still suspended at a task that is
    expired or completed (an answer whose resume did not happen: the service was down, the
    machine restarted) is listed. Returns run id -> (resume data, who answers)."""
    now = time.time() if now is None else now
    expiring = "FROM tasks WHERE state='open' AND deadline IS NOT NULL AND deadline <= ?"
    if conn.execute(f"SELECT 1 {expiring} LIMIT 1", (now,)).fetchone():  # the write lock only when needed
        with transaction(conn):
            conn.execute(f"UPDATE tasks SET state=?, completed_at=? WHERE id IN (SELECT id {expiring})",
                         (EXPIRED, now, now))
    rows = conn.execute("SELECT " + ", ".join(f'tasks."{c}"' for c in COLUMNS) + ", r.wake FROM tasks "
                        "JOIN runs r ON r.id = tasks.run_id WHERE tasks.state != 'open' AND r.state = 'suspended' "
                        "ORDER BY tasks.created_at").fetchall()
    out: dict[str, tuple[dict, str]] = {}
    for row in rows:
        task, wake = _row(row[:-1]), loads(row[-1]) or {}
        if wake.get("seq") == task["seq"]:  # the run waits at this task's step (not at a later one)
            out[task["run_id"]] = (answer(task), "deadline" if task["state"] == EXPIRED else (task["by"] or "review"))
    return out


__all__ = ["COMPLETED", "EXPIRED", "OPEN", "STATES", "answer", "assign", "check_answer", "complete", "corrections", "due",
           "find", "get", "resolve", "task_row"]
