"""Work queues in the run store: the ``queue_items`` and ``queue_events`` tables, with ``sqlite3``.

An item has a reference unique in its queue (a second ``add`` of it is refused, naming the
first), a priority (higher first), an optional deadline (sooner first among equal priorities),
a payload and, once worked, an output or an error. Its life::

    new ─► in_progress ─┬─► succeeded                                  (final)
     ▲                  ├─► failed_business                            (final: the data is wrong)
     │                  ├─► failed_system ── retries < max_retries ──┐ (else final)
     │                  └─► abandoned     ── retries < max_retries ──┤ (else final; in progress
     └──────────────────────────────────────────────────────────────┘  longer than a limit)

``next_item`` is one ``BEGIN IMMEDIATE`` transaction: it marks abandoned the items held longer
than ``abandon_after`` seconds, then hands the best new item to the performer. SQLite's write
lock makes the choice and the update one step, so of any number of performers (threads or
processes) exactly one gets an item. A performer that asks again under the same name gets the
item it already holds (a step run again after its process died does not take a second item).
``set_status`` takes an item only from the performer that holds it: a performer that was
presumed dead (its item abandoned, given to another) cannot finish it a second time, so an item
succeeds exactly once. Every change is a row of ``queue_events``: the item's history.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime
from enum import StrEnum
from typing import Any

from ..errors import InputError, StoreError
from .db import dumps, loads, transaction


class ItemStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED_BUSINESS = "failed_business"
    FAILED_SYSTEM = "failed_system"
    ABANDONED = "abandoned"


ENDINGS = (ItemStatus.SUCCEEDED, ItemStatus.FAILED_BUSINESS, ItemStatus.FAILED_SYSTEM)  # what a performer sets
RETRYABLE = (ItemStatus.FAILED_BUSINESS, ItemStatus.FAILED_SYSTEM, ItemStatus.ABANDONED)  # by hand
PRIORITIES = {"low": 0, "normal": 5, "high": 10}
COLUMNS = ("id", "queue", "reference", "priority", "deadline", "status", "retries", "max_retries", "payload",
           "output", "error", "performer", "created_at", "started_at", "ended_at")
_SELECT = "SELECT " + ", ".join(COLUMNS) + " FROM queue_items"
_NEXT = (_SELECT + " WHERE queue=? AND status='new' ORDER BY priority DESC, deadline IS NULL, deadline, created_at, id "
         "LIMIT 1")


def _row(values) -> dict[str, Any]:
    item = dict(zip(COLUMNS, values))
    item["payload"] = loads(item["payload"])
    item["output"] = loads(item["output"])
    return item


def _event(conn, item_id: int, status: str, performer: str | None, detail: str | None, now: float) -> None:
    conn.execute("INSERT INTO queue_events (item_id, at, status, performer, detail) VALUES (?,?,?,?,?)",
                 (item_id, now, str(status), performer, detail))


def priority_of(value: Any, where: str = "priority") -> int:
    """An integer priority from a number or low / normal / high."""
    if isinstance(value, str) and value.strip().lower() in PRIORITIES:
        return PRIORITIES[value.strip().lower()]
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value if value not in (None, "") else 0)
    except (TypeError, ValueError):
        raise InputError(f"{where}: {value!r} is not a priority", fix="give a whole number (higher goes first) or "
                                                                    "low, normal, high") from None


def get(conn: sqlite3.Connection, item_id: int) -> dict[str, Any]:
    row = conn.execute(_SELECT + " WHERE id=?", (int(item_id),)).fetchone()
    if row is None:
        raise StoreError(f"no queue item {item_id}", fix="`botloom queue list QUEUE` lists a queue's items")
    return _row(row)


def find_ref(conn: sqlite3.Connection, queue: str, reference: str) -> dict[str, Any] | None:
    row = conn.execute(_SELECT + " WHERE queue=? AND reference=?", (queue, str(reference))).fetchone()
    return _row(row) if row else None


def resolve(conn: sqlite3.Connection, ref: str, queue: str | None = None) -> int:
    """An item's id from its number, or from its reference (in ``queue``, or in the one queue that has it)."""
    text = str(ref).strip()
    if text.isdigit() and conn.execute("SELECT 1 FROM queue_items WHERE id=?", (int(text),)).fetchone():
        return int(text)
    sql, args = "SELECT id, queue FROM queue_items WHERE reference=?", [text]
    if queue:
        sql, args = sql + " AND queue=?", [text, queue]
    found = conn.execute(sql + " LIMIT 5", args).fetchall()
    if not found:
        raise StoreError(f"no queue item '{text}'" + (f" in queue '{queue}'" if queue else ""),
                         fix="give the item's number or its reference; `botloom queue list QUEUE` lists them")
    if len(found) > 1:
        raise StoreError(f"the reference '{text}' is in several queues ({', '.join(q for _, q in found)})",
                         fix="name the queue: --queue NAME")
    return found[0][0]


def add(conn: sqlite3.Connection, queue: str, reference: Any, payload: Any = None, *, priority: Any = 0,
        deadline: float | None = None, max_retries: int = 2, by: str | None = None,
        now: float | None = None) -> dict[str, Any]:
    """A new item; an InputError naming the existing item when ``reference`` is already in ``queue``
    (unless ``by`` added it: a step run again after its process died gets its own item back)."""
    now = time.time() if now is None else now
    queue, reference = _name(queue, "queue"), _name(reference, "reference")
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise InputError(f"max_retries must be a whole number from 0, got {max_retries!r}",
                         fix="give how many times a system failure is retried, e.g. 2")
    with transaction(conn):
        first = find_ref(conn, queue, reference)
        if first is not None and by and conn.execute(
                "SELECT 1 FROM queue_events WHERE item_id=? AND detail='added' AND performer=?", (first["id"], by)).fetchone():
            return first
        if first is not None:
            raise InputError(f"queue '{queue}' already has the reference '{reference}' (item {first['id']}, "
                             f"{first['status']}, added {_when(first['created_at'])})",
                             fix="a reference names one piece of work: give another, or `botloom queue retry "
                                 f"{first['id']}` to work that item again")
        cur = conn.execute("INSERT INTO queue_items (queue, reference, priority, deadline, status, retries, max_retries, "
                           "payload, created_at) VALUES (?,?,?,?,?,0,?,?,?)",
                           (queue, reference, priority_of(priority), deadline, ItemStatus.NEW, max_retries,
                            dumps(payload), now))
        _event(conn, cur.lastrowid, ItemStatus.NEW, by, "added", now)
        return get(conn, cur.lastrowid)


def _name(value: Any, what: str) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise InputError(f"the {what} is empty", fix=f"give the item's {what}")
    if len(text) > 500:
        raise InputError(f"the {what} is {len(text)} characters long; at most 500", fix=f"give a shorter {what}")
    return text


def _when(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S") if epoch else "-"


def mark_abandoned(conn: sqlite3.Connection, queue: str | None, older_than: float, *, retry: bool = True,
                   now: float | None = None) -> list[int]:
    """Items in progress for more than ``older_than`` seconds become abandoned (their performer
    died or hangs); with ``retry``, those with retries left go back to new. Call inside a
    transaction (``next_item`` does) or alone (it opens one). Returns the ids abandoned."""
    now = time.time() if now is None else now
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN IMMEDIATE")
    try:
        sql, args = "SELECT id, performer, retries, max_retries FROM queue_items WHERE status='in_progress' AND " \
                    "started_at <= ?", [now - older_than]
        if queue:
            sql, args = sql + " AND queue=?", [*args, queue]
        stale = conn.execute(sql, args).fetchall()
        for item_id, performer, retries, max_retries in stale:
            detail = f"in progress for more than {older_than:g} s (its performer {performer} died or hangs)"
            _event(conn, item_id, ItemStatus.ABANDONED, performer, detail, now)
            if retry and retries < max_retries:
                conn.execute("UPDATE queue_items SET status='new', retries=retries+1, performer=NULL, error=? "
                             "WHERE id=?", (detail, item_id))
                _event(conn, item_id, ItemStatus.NEW, None, f"retry {retries + 1} of {max_retries}", now)
            else:
                conn.execute("UPDATE queue_items SET status='abandoned', ended_at=?, error=? WHERE id=?",
                             (now, detail, item_id))
    except BaseException:
        if own:
            conn.execute("ROLLBACK")
        raise
    if own:
        conn.execute("COMMIT")
    return [r[0] for r in stale]


def next_item(conn: sqlite3.Connection, queue: str, performer: str, *, abandon_after: float | None = None,
              retry_abandoned: bool = True, now: float | None = None) -> dict[str, Any] | None:
    """The item ``performer`` works on next (marked in progress), or None when the queue has none new."""
    now = time.time() if now is None else now
    with transaction(conn):
        if abandon_after:
            mark_abandoned(conn, queue, abandon_after, retry=retry_abandoned, now=now)
        held = conn.execute(_SELECT + " WHERE queue=? AND status='in_progress' AND performer=?",
                            (queue, performer)).fetchone()
        if held is not None:
            return _row(held)
        row = conn.execute(_NEXT, (queue,)).fetchone()
        if row is None:
            return None
        item = _row(row)
        taken = conn.execute("UPDATE queue_items SET status='in_progress', performer=?, started_at=?, ended_at=NULL "
                             "WHERE id=? AND status='new'", (performer, now, item["id"])).rowcount
        if not taken:  # cannot happen under the write lock; never hand out an item another holds
            raise StoreError(f"queue '{queue}': item {item['id']} was taken meanwhile", fix="ask for the next item again")
        _event(conn, item["id"], ItemStatus.IN_PROGRESS, performer, None, now)
        return get(conn, item["id"])


def set_status(conn: sqlite3.Connection, item_id: int, status: str, performer: str | None, *, output: Any = None,
               error: str | None = None, now: float | None = None) -> dict[str, Any]:
    """End ``performer``'s work on an item: succeeded, failed_business or failed_system (retried
    while it has retries left: back to new). Refused when the item is not in progress by ``performer``
    (None: whoever holds it), unless it already ended so by the same performer (a step run again)."""
    now = time.time() if now is None else now
    try:
        status = ItemStatus(status)
    except ValueError:
        raise InputError(f"{status!r} is not a status an item can be set to",
                         fix=f"choose one of: {', '.join(ENDINGS)}") from None
    if status not in ENDINGS:
        raise InputError(f"an item cannot be set to {status} by hand", fix=f"choose one of: {', '.join(ENDINGS)}")
    with transaction(conn):
        item = get(conn, item_id)
        where = f"queue '{item['queue']}', item {item['id']} ('{item['reference']}')"
        if item["status"] != ItemStatus.IN_PROGRESS or (performer and item["performer"] != performer):
            last = conn.execute("SELECT status, performer FROM queue_events WHERE item_id=? ORDER BY id DESC LIMIT 1",
                                (item["id"],)).fetchone()
            if last and last[0] == status and (not performer or last[1] == performer):
                return item  # this performer ended it so already: the step ran again after its process died
            raise InputError(f"the item is not in progress by {performer or 'anyone'}: it is {item['status']}"
                             + (f" by {item['performer']}" if item["performer"] else ""), where=where,
                             fix="it was abandoned and handed on (its performer took too long), or ended already; "
                                 "`botloom queue show` shows its history")
        retry = status == ItemStatus.FAILED_SYSTEM and item["retries"] < item["max_retries"]
        conn.execute("UPDATE queue_items SET status=?, output=?, error=?, ended_at=?, retries=retries+?, "
                     "performer=CASE WHEN ? THEN NULL ELSE performer END WHERE id=?",
                     (ItemStatus.NEW if retry else status, dumps(output), error, None if retry else now, int(retry),
                      int(retry), item["id"]))
        _event(conn, item["id"], status, item["performer"], error, now)
        if retry:
            _event(conn, item["id"], ItemStatus.NEW, None, f"retry {item['retries'] + 1} of {item['max_retries']}", now)
        return get(conn, item["id"])


def retry(conn: sqlite3.Connection, item_id: int, *, by: str | None = None, now: float | None = None) -> dict:
    """Work a failed or abandoned item again, with a fresh count of retries."""
    now = time.time() if now is None else now
    with transaction(conn):
        item = get(conn, item_id)
        if item["status"] not in RETRYABLE:
            raise InputError(f"item {item['id']} ('{item['reference']}') is {item['status']}; only a failed or "
                             "abandoned item is retried", fix="`botloom queue list --status failed_system` lists those")
        conn.execute("UPDATE queue_items SET status='new', retries=0, performer=NULL, ended_at=NULL, started_at=NULL "
                     "WHERE id=?", (item["id"],))
        _event(conn, item["id"], ItemStatus.NEW, by, "retried by hand", now)
        return get(conn, item["id"])


def items(conn: sqlite3.Connection, queue: str | None = None, *, status: str | None = None,
          limit: int = 200) -> list[dict[str, Any]]:
    where, args = [], []
    for column, value in (("queue", queue), ("status", status)):
        if value:
            where.append(f"{column}=?")
            args.append(value)
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY queue, id LIMIT ?"
    return [_row(r) for r in conn.execute(sql, (*args, max(1, min(int(limit), 100_000))))]


def history(conn: sqlite3.Connection, item_id: int) -> list[dict[str, Any]]:
    return [dict(zip(("at", "status", "performer", "detail"), r)) for r in conn.execute(
        "SELECT at, status, performer, detail FROM queue_events WHERE item_id=? ORDER BY id", (int(item_id),))]


def counts(conn: sqlite3.Connection, queue: str | None = None) -> dict[str, dict[str, int]]:
    """Queue -> status -> number of items."""
    sql, args = "SELECT queue, status, COUNT(*) FROM queue_items", []
    if queue:
        sql, args = sql + " WHERE queue=?", [queue]
    out: dict[str, dict[str, int]] = {}
    for name, status, n in conn.execute(sql + " GROUP BY queue, status ORDER BY queue", args):
        out.setdefault(name, {})[status] = n
    return out


def has_new(conn: sqlite3.Connection, queue: str) -> int:
    return conn.execute("SELECT COUNT(*) FROM queue_items WHERE queue=? AND status='new'", (queue,)).fetchone()[0]


__all__ = ["ENDINGS", "ItemStatus", "PRIORITIES", "add", "counts", "find_ref", "get", "has_new", "history", "items",
           "mark_abandoned", "next_item", "priority_of", "resolve", "retry", "set_status"]
