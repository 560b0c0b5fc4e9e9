"""Schedules: what should start which bot, when, with which inputs, and what to do when late.

A schedule is kept in the run store's file (table ``service_schedules``), so the CLI can add one
while no service runs; the service makes an APScheduler job of every time-based schedule
(cron, interval, one-off date) and watches the folders of ``watch`` schedules; ``webhook``
schedules start a run when the local API receives a POST for their name.

Misfire policies (a fire time the service could not keep, e.g. while it was down):

- ``once`` (default): run once, however many fire times were missed, if within the grace time;
- ``skip``: run only if at most ``grace`` seconds late (default 30 s), otherwise skip it;
- ``catch_up``: run once for every missed fire time within the grace time.

``grace`` (seconds, None for no limit) bounds how late a run may start. ``overlap`` false (the
default) skips a fire while a run of the same schedule is still queued or running.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import BotloomError

KINDS = ("cron", "interval", "date", "watch", "webhook", "queue", "mail")
MISFIRE = ("once", "skip", "catch_up")
TIMED = ("cron", "interval", "date")
SKIP_GRACE = 30.0
SCHEMA_VERSION = 1

_DDL = [
    """CREATE TABLE IF NOT EXISTS service_meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS service_schedules (
        id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL UNIQUE, bot VARCHAR NOT NULL, kind VARCHAR NOT NULL,
        spec TEXT NOT NULL, inputs TEXT, misfire VARCHAR NOT NULL, grace FLOAT, overlap INTEGER NOT NULL,
        paused INTEGER NOT NULL DEFAULT 0, created_at FLOAT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS service_queue (
        id INTEGER PRIMARY KEY AUTOINCREMENT, request TEXT NOT NULL, queued_at FLOAT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS service_fires (
        id INTEGER PRIMARY KEY AUTOINCREMENT, schedule_id VARCHAR NOT NULL, scheduled_at FLOAT,
        fired_at FLOAT NOT NULL, outcome VARCHAR NOT NULL, detail VARCHAR, run_id VARCHAR)""",
    """CREATE INDEX IF NOT EXISTS ix_service_fires_schedule ON service_fires (schedule_id, fired_at)""",
]


class ScheduleError(BotloomError):
    """A schedule cannot be made as asked (exit code 2: nothing was changed)."""

    exit_code = 2


@dataclass
class Schedule:
    id: str
    name: str
    bot: str
    kind: str
    spec: dict[str, Any]
    inputs: dict[str, Any] = field(default_factory=dict)
    misfire: str = "once"
    grace: float | None = None
    overlap: bool = False
    paused: bool = False
    created_at: float = 0.0

    @property
    def timed(self) -> bool:
        return self.kind in TIMED

    def describe(self) -> str:
        s = self.spec
        if self.kind == "cron":
            return f"cron '{s['cron']}' ({s.get('timezone') or 'local time'})"
        if self.kind == "interval":
            return f"every {s['seconds']:g} s"
        if self.kind == "date":
            return f"once at {datetime.fromtimestamp(s['at'], timezone.utc).isoformat()}"
        if self.kind == "watch":
            return f"files arriving in {s['folder']}"
        if self.kind == "queue":
            return f"items arriving in queue '{s['queue']}'"
        if self.kind == "mail":
            return f"new mail in {s['folder']} at {s['user'] + '@' if s.get('user') else ''}{s['host']}:{s['port']}"
        return f"webhook '{s['name']}'"

    def trigger(self):
        """The APScheduler trigger of a time-based schedule."""
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.date import DateTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        s = self.spec
        if self.kind == "cron":
            return CronTrigger.from_crontab(s["cron"], timezone=s.get("timezone") or _local_zone())
        if self.kind == "interval":
            start = datetime.fromtimestamp(s.get("start") or self.created_at, timezone.utc)
            return IntervalTrigger(seconds=s["seconds"], start_date=start, timezone=timezone.utc)
        if self.kind == "date":
            return DateTrigger(datetime.fromtimestamp(s["at"], timezone.utc))
        raise ScheduleError(f"schedule '{self.name}' ({self.kind}) has no time trigger")

    def job_options(self) -> dict[str, Any]:
        """APScheduler's misfire options for this schedule's policy."""
        grace = self.grace
        if self.misfire == "skip" and grace is None:
            grace = SKIP_GRACE
        if grace is not None:  # APScheduler takes whole seconds, at least one
            grace = max(1, math.ceil(grace))
        return {"coalesce": self.misfire != "catch_up", "misfire_grace_time": grace}

    def next_fire_times(self, count: int = 5, after: datetime | None = None) -> list[datetime]:
        if not self.timed:
            return []
        trig = self.trigger()
        now = after or datetime.now(timezone.utc)
        times, previous = [], None
        for _ in range(count):
            nxt = trig.get_next_fire_time(previous, now if previous is None else previous)
            if nxt is None or (previous is not None and nxt <= previous):
                break
            times.append(nxt)
            previous = nxt
            now = nxt
        return times

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["trigger"] = self.describe()
        return data


def _local_zone():
    return datetime.now().astimezone().tzinfo


def make_schedule(bot: str, *, cron: str | None = None, timezone_name: str | None = None,
                  every: float | None = None, at: float | str | None = None, watch: str | None = None,
                  webhook: str | None = None, name: str | None = None, inputs: dict | None = None,
                  misfire: str = "once", grace: float | None = None, overlap: bool = False,
                  watch_options: dict | None = None, queue: str | None = None, mail: str | None = None,
                  mail_options: dict | None = None) -> Schedule:
    """A checked schedule (not stored): exactly one trigger; a clear error for each bad part."""
    given = [k for k, v in (("cron", cron), ("every", every), ("at", at), ("watch", watch),
                            ("webhook", webhook), ("queue", queue), ("mail", mail)) if v is not None]
    if len(given) != 1:
        raise ScheduleError("a schedule takes exactly one trigger: --cron, --every, --at, --watch, --webhook, --queue "
                            "or --mail"
                            + (f" (got {', '.join(given)})" if given else ""),
                            fix="e.g. --cron '0 7 * * MON-FRI' --timezone Europe/Paris, or --every 15m")
    if misfire not in MISFIRE:
        raise ScheduleError(f"unknown misfire policy '{misfire}'", fix=f"choose one of: {', '.join(MISFIRE)}")
    if grace is not None and grace < 0:
        raise ScheduleError("the grace time cannot be negative", fix="give seconds, e.g. --grace 300")
    now = time.time()
    bot_path = str(Path(bot).expanduser().resolve())
    if cron is not None:
        kind, spec = "cron", {"cron": cron.strip(), "timezone": timezone_name}
    elif every is not None:
        if every <= 0:
            raise ScheduleError("an interval must be longer than 0 seconds", fix="e.g. --every 30s, 15m, 1h")
        kind, spec = "interval", {"seconds": float(every), "start": now}
    elif at is not None:
        kind, spec = "date", {"at": parse_when(at)}
    elif watch is not None:
        folder = Path(watch).expanduser().resolve()
        if not folder.is_dir():
            raise ScheduleError(f"there is no folder {folder} to watch", fix="create it first, or give another")
        spec = {"folder": str(folder), "pattern": "*", "input": "file", "settle": 1.0,
                "done": str(folder / "done"), "failed": str(folder / "failed"),
                "processing": str(folder / "processing"), **(watch_options or {})}
        kind = "watch"
    elif queue is not None:  # runs start when items arrive in a work queue (server/queue_trigger.py)
        if not queue.strip():
            raise ScheduleError("the queue's name is empty", fix="give the work queue's name, e.g. --queue invoices")
        kind, spec = "queue", {"queue": queue.strip()}
    elif mail is not None:  # a run per new message in an IMAP folder (server/mail_trigger.py)
        kind, spec = "mail", {**parse_mail_url(mail), **(mail_options or {})}
    else:
        if not webhook.replace("-", "").replace("_", "").isalnum():
            raise ScheduleError(f"a webhook name takes letters, digits, '-' and '_', got '{webhook}'")
        kind, spec = "webhook", {"name": webhook}
    sched = Schedule(uuid.uuid4().hex[:12], name or f"{Path(bot).name.split('.')[0]}-{kind}", bot_path, kind, spec,
                     dict(inputs or {}), misfire, grace, bool(overlap), False, now)
    if sched.timed:
        try:
            sched.trigger()
        except (ValueError, KeyError, TypeError) as exc:
            raise ScheduleError(f"the {kind} trigger is not valid: {exc}",
                                fix="cron takes five fields: minute hour day-of-month month day-of-week, e.g. "
                                    "'*/15 8-18 * * MON-FRI'; time zones are IANA names such as Europe/Paris") from None
    return sched


def parse_mail_url(url: str) -> dict[str, Any]:
    """host, port, security, user and folder from imaps://USER@HOST[:PORT]/FOLDER."""
    from urllib.parse import unquote, urlsplit

    fix = "e.g. imaps://invoices@mail.example.com/INBOX (imap:// without TLS, imap+starttls:// for STARTTLS)"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ScheduleError(f"cannot read the mail address '{url}': {exc}", fix=fix) from None
    security = {"imaps": "ssl", "imap": "none", "imap+starttls": "starttls"}.get(parts.scheme.lower())
    if security is None or not parts.hostname:
        raise ScheduleError(f"'{url}' is not an IMAP folder address", fix=fix)
    if parts.password:
        raise ScheduleError("the mail address must not hold a password", fix="store it as a secret "
                            "(`botloom secret set NAME`) and give --mail-secret NAME")
    return {"host": parts.hostname, "port": port or (993 if security == "ssl" else 143), "security": security,
            "user": unquote(parts.username or ""), "folder": unquote(parts.path.lstrip("/")) or "INBOX"}


def parse_when(value: float | str) -> float:
    """Epoch seconds from a number or an ISO 8601 date and time (local time when it has no zone)."""
    if isinstance(value, (int, float)):
        return float(value)
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ScheduleError(f"'{value}' is not a date and time", fix="write ISO 8601, e.g. 2026-12-24T18:00 or "
                                                                      "2026-12-24T18:00+01:00") from None
    if when.tzinfo is None:
        when = when.astimezone()
    return when.timestamp()


def parse_duration(text: str) -> float:
    """Seconds from '90', '90s', '15m', '2h', '1d'."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    raw = text.strip().lower()
    try:
        if raw and raw[-1] in units:
            return float(raw[:-1]) * units[raw[-1]]
        return float(raw)
    except ValueError:
        raise ScheduleError(f"'{text}' is not a duration", fix="write e.g. 30s, 15m, 2h or 1d") from None


class ScheduleStore:
    """The schedules, the durable run queue and the fire history, in the run store's SQLite file."""

    def __init__(self, conn: sqlite3.Connection):
        import threading

        from ..store.db import transaction

        self.conn = conn
        self.lock = threading.RLock()  # the service's threads share this connection: one statement group at a time
        self._tx = self._locked_tx
        self._transaction = transaction
        with transaction(conn):
            for statement in _DDL:
                conn.execute(statement)
            row = conn.execute("SELECT value FROM service_meta WHERE key='schema'").fetchone()
            if row is None:
                conn.execute("INSERT INTO service_meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise ScheduleError(f"the service's tables were written by a newer Botloom (schema {row[0]}, this "
                                    f"one knows {SCHEMA_VERSION})", fix="upgrade Botloom on this machine")

    def _locked_tx(self, conn):
        from contextlib import contextmanager

        @contextmanager
        def tx():
            with self.lock, self._transaction(conn) as c:
                yield c

        return tx()

    # -- schedules
    def add(self, sched: Schedule) -> Schedule:
        if self.find(sched.name, missing_ok=True) is not None:
            raise ScheduleError(f"there is already a schedule named '{sched.name}'",
                                fix="give another --name, or remove the old one first")
        with self._tx(self.conn) as c:
            c.execute("INSERT INTO service_schedules (id, name, bot, kind, spec, inputs, misfire, grace, overlap, paused, "
                      "created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                      (sched.id, sched.name, sched.bot, sched.kind, json.dumps(sched.spec), _dumps(sched.inputs),
                       sched.misfire, sched.grace, int(sched.overlap), int(sched.paused), sched.created_at))
        return sched

    def all(self) -> list[Schedule]:
        with self.lock:
            rows = self.conn.execute("SELECT id, name, bot, kind, spec, inputs, misfire, grace, overlap, paused, created_at "
                                 "FROM service_schedules ORDER BY created_at").fetchall()
        return [_row(r) for r in rows]

    def find(self, ref: str, *, missing_ok: bool = False) -> Schedule | None:
        for s in self.all():
            if ref in (s.id, s.name):
                return s
        matches = [s for s in self.all() if s.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if missing_ok:
            return None
        names = ", ".join(s.name for s in self.all()) or "(none)"
        raise ScheduleError(f"no schedule '{ref}'", fix=f"`botloom schedule list` shows them: {names}")

    def set_paused(self, ref: str, paused: bool) -> Schedule:
        sched = self.find(ref)
        with self._tx(self.conn) as c:
            c.execute("UPDATE service_schedules SET paused=? WHERE id=?", (int(paused), sched.id))
        sched.paused = paused
        return sched

    def remove(self, ref: str) -> Schedule:
        sched = self.find(ref)
        with self._tx(self.conn) as c:
            c.execute("DELETE FROM service_schedules WHERE id=?", (sched.id,))
        return sched

    # -- the fire history
    def record_fire(self, schedule_id: str, scheduled_at: float | None, outcome: str, detail: str | None = None,
                    run_id: str | None = None) -> None:
        with self._tx(self.conn) as c:
            c.execute("INSERT INTO service_fires (schedule_id, scheduled_at, fired_at, outcome, detail, run_id) "
                      "VALUES (?,?,?,?,?,?)", (schedule_id, scheduled_at, time.time(), outcome, detail, run_id))

    def fires(self, schedule_id: str | None = None, limit: int = 100) -> list[dict]:
        sql = "SELECT schedule_id, scheduled_at, fired_at, outcome, detail, run_id FROM service_fires"
        args: tuple = ()
        if schedule_id:
            sql, args = sql + " WHERE schedule_id=?", (schedule_id,)
        with self.lock:
            rows = self.conn.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
        keys = ("schedule_id", "scheduled_at", "fired_at", "outcome", "detail", "run_id")
        return [dict(zip(keys, r)) for r in rows]

    # -- the durable queue
    def enqueue(self, request: dict) -> int:
        with self._tx(self.conn) as c:
            return c.execute("INSERT INTO service_queue (request, queued_at) VALUES (?, ?)",
                             (_dumps(request), time.time())).lastrowid

    def dequeue(self, entry: int) -> None:
        with self._tx(self.conn) as c:
            c.execute("DELETE FROM service_queue WHERE id=?", (entry,))

    def queued(self) -> list[tuple[int, dict]]:
        from ..codec import loads

        with self.lock:
            rows = self.conn.execute("SELECT id, request FROM service_queue ORDER BY id").fetchall()
        return [(i, loads(r)) for i, r in rows]


def _dumps(value: Any) -> str:
    from ..codec import to_json

    return to_json(value)


def _row(r: tuple) -> Schedule:
    from ..codec import loads

    return Schedule(r[0], r[1], r[2], r[3], json.loads(r[4]), loads(r[5]) or {}, r[6], r[7], bool(r[8]), bool(r[9]),
                    r[10])


__all__ = ["KINDS", "MISFIRE", "Schedule", "ScheduleError", "ScheduleStore", "make_schedule", "parse_duration",
           "parse_when"]
