"""Labelled examples from reviews: the ``review_examples`` table (``models.ReviewExample``).

When a review task is completed, each of its fields becomes an example in the same
transaction (``store/tasks.complete`` calls ``record``): the value as the model or extractor
gave it, the value the person left (corrected, or confirmed), the field's confidence, and,
when the form carried them, the field's ``source`` (the model's or extractor's name) and the
``text`` it read. ``labelled`` gives a text classifier's training rows for one source;
``counts`` the number of examples per label (corrected ones apart), for the CLI and reports.
A task that was rejected confirms nothing: its fields are recorded with the outcome, and
``labelled`` leaves them out unless asked.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from .db import dumps, loads

_INSERT = ("INSERT INTO review_examples (task_id, bot, source, field, text, original, corrected, changed, confidence, "
           "outcome, at) VALUES (?,?,?,?,?,?,?,?,?,?,?)")


def record(conn: sqlite3.Connection, task: dict, *, now: float | None = None) -> int:
    """Write the examples of a completed task (inside the caller's transaction); how many."""
    from .tasks import corrections

    now = time.time() if now is None else now
    fields = {f["name"]: f for f in (task.get("form") or {}).get("fields") or []}
    rows = []
    for c in corrections(task):
        field = fields.get(c["field"], {})
        text = field.get("text")
        rows.append((task["id"], task.get("bot") or "", str(field.get("source") or ""), c["field"],
                     None if text is None else str(text), dumps(c["original"]), dumps(c["corrected"]),
                     bool(c["changed"]), c["confidence"], task.get("outcome"), now))
    conn.executemany(_INSERT, rows)
    return len(rows)


def examples(conn: sqlite3.Connection, source: str | None = None, *, field: str | None = None,
             bot: str | None = None) -> list[dict[str, Any]]:
    where, args = [], []
    for column, value in (("source", source), ("field", field), ("bot", bot)):
        if value is not None:
            where.append(f"{column}=?")
            args.append(value)
    sql = ("SELECT task_id, bot, source, field, text, original, corrected, changed, confidence, outcome, at "
           "FROM review_examples" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id")
    keys = ("task", "bot", "source", "field", "text", "original", "corrected", "changed", "confidence", "outcome", "at")
    out = []
    for row in conn.execute(sql, args):
        e = dict(zip(keys, row))
        e["original"], e["corrected"], e["changed"] = loads(e["original"]), loads(e["corrected"]), bool(e["changed"])
        out.append(e)
    return out


def labelled(conn: sqlite3.Connection, source: str, *, field: str | None = None,
             rejected: bool = False) -> list[tuple[str, str]]:
    """(text, label) rows for a classifier named ``source``: the text it read and the value the
    reviewer left. Examples with no text, or whose task was rejected (unless ``rejected``), are left out."""
    rows = []
    for e in examples(conn, source, field=field):
        if e["text"] in (None, "") or e["corrected"] in (None, "") or (e["outcome"] == "reject" and not rejected):
            continue
        rows.append((e["text"], str(e["corrected"])))
    return rows


def counts(conn: sqlite3.Connection, source: str | None = None) -> dict[str, dict[str, dict[str, int]]]:
    """source -> field -> {label: examples}, with ``"(corrected)"``: how many a person changed."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for e in examples(conn, source):
        per = out.setdefault(e["source"], {}).setdefault(e["field"], {})
        label = str(e["corrected"]) if e["corrected"] is not None else "(empty)"
        per[label] = per.get(label, 0) + 1
        if e["changed"]:
            per["(corrected)"] = per.get("(corrected)", 0) + 1
    return out


__all__ = ["counts", "examples", "labelled", "record"]
