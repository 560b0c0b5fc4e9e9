"""The journal: a run listener that writes every step to the run store.

Steps that are not durable (no side effects, and no use of the run's session:
``NodeType.durable``) are buffered and written in batches (every 256 rows, every 0.2 s, and at
the end): if the process dies, the unwritten tail is simply run again on resume, which is
harmless because those steps change nothing outside the run. Before a durable step runs, the
buffer and a "running" row for that step are committed; its outcome is committed as soon as it
finishes. So after a crash the store knows, for every side effect, whether it
finished, and whether it was in flight.

It only appends. Each attempt of a step in each process is a row of its own (``entry`` orders
them): the "running" row of a side-effecting step is completed by its outcome in the same
process, but a step that waited, or was in flight when its process died, keeps that row when a
resumed run runs it again, and the new outcome is a new row. A wait is a row of ``waits`` from
the moment the step suspends; the answer that resumes it (its data, who gave it, when) is written
into that row once, when the resumed run hands it to the step (the ``wait_answered`` event).
Large values are stored once (see ``payloads.py``), in the same transaction as the steps that
refer to them.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time

from ..engine.events import Listener
from ..states import FINAL_STATES, RunState, StepState
from .db import dumps, transaction
from .payloads import PayloadWriter
from .tasks import UPSERT_SQL as _TASK_SQL, task_row

_NODE_SQL = ("INSERT INTO node_runs (run_id, seq, attempt, node_id, node_type, flow, state, port, params, "
             "outputs, writes, error, wake, started_at, duration) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
_OUTCOME_SQL = ("UPDATE node_runs SET state=?, port=?, params=?, outputs=?, writes=?, error=?, wake=?, started_at=?, "
                "duration=? WHERE entry=? AND state='running'")
_WAIT_SQL = "INSERT INTO waits (run_id, seq, node_id, reason, signal, wake_at, started_at) VALUES (?,?,?,?,?,?,?)"
_FLUSH_NOW = frozenset({StepState.SUSPENDED, StepState.FAILED})
BATCH_ROWS = 256
BATCH_SECONDS = 0.2


class Journal(Listener):
    critical = True  # a run whose steps cannot be journalled stops: nothing it did may go unrecorded

    def __init__(self, conn: sqlite3.Connection, run_id: str):
        self.conn = conn
        self.run_id = run_id
        self._rows: list[tuple] = []
        self._waits: list[tuple] = []
        self._tasks: list[tuple] = []  # human tasks (review.task): written with their waits
        self._running: dict[int, int] = {}  # seq -> entry of its "running" row, for a step in flight
        self._payloads = PayloadWriter(conn, run_id)
        self._last_flush = time.monotonic()

    # -- writing
    def _flush(self) -> None:
        if self._rows:
            self._commit()

    def _commit(self, sql: str | None = None, args: tuple = ()) -> int | None:
        """Write the buffered steps (and the blobs they refer to), and optionally one more
        statement, in one transaction; returns the row id of that statement."""
        row_id = None
        with transaction(self.conn) as conn:
            self._payloads.write_pending(conn)
            if self._rows:
                conn.executemany(_NODE_SQL, self._rows)
            if self._waits:
                conn.executemany(_WAIT_SQL, self._waits)
            if self._tasks:
                conn.executemany(_TASK_SQL, self._tasks)
            if sql is not None:
                row_id = conn.execute(sql, args).lastrowid
        self._rows.clear()
        self._waits.clear()
        self._tasks.clear()
        self._last_flush = time.monotonic()
        return row_id

    def _state(self, state: str, detail: str | None = None) -> tuple:
        return ("INSERT INTO state_changes (run_id, at, state, detail) VALUES (?,?,?,?)",
                (self.run_id, time.time(), state, detail))

    # -- events
    def on_run_started(self, ev) -> None:
        self._commit("UPDATE runs SET state='running', pid=?, host=?, ended_at=NULL WHERE id=?",
                     (os.getpid(), socket.gethostname(), self.run_id))
        self._commit(*self._state(RunState.RUNNING, "resumed" if ev.resumed else "started"))

    def on_node_started(self, ev) -> None:
        if ev.durable:
            params = self._payloads.encode(ev.params, ("p", ev.node), {})
            self._running[ev.seq] = self._commit(_NODE_SQL, (
                self.run_id, ev.seq, ev.attempt, ev.node, ev.type, ev.flow, StepState.RUNNING, None, params, None, None,
                None, None, ev.time, None))

    def on_node_finished(self, ev) -> None:
        if ev.replayed:
            return
        params, outputs, writes = self._payloads.encode_step(ev.node, ev.params, ev.outputs, ev.writes)
        if ev.state in _FLUSH_NOW or self._running:
            self._finished_now(ev, params, outputs, writes)
            return
        self._rows.append((self.run_id, ev.seq, ev.attempt, ev.node, ev.type, ev.flow, ev.state, ev.port,
                           params, outputs, writes, dumps(ev.error), dumps(ev.wake), ev.started, ev.duration))
        if len(self._rows) >= BATCH_ROWS or time.monotonic() - self._last_flush > BATCH_SECONDS:
            self._flush()

    def _finished_now(self, ev, params: str | None, outputs: str | None, writes: str | None) -> None:
        """A step that waits or failed, or the outcome of a side-effecting step: written at once."""
        error, wake = dumps(ev.error), dumps(ev.wake)
        if ev.state == StepState.SUSPENDED:
            wait = ev.wake or {}
            self._waits.append((self.run_id, ev.seq, ev.node, wait.get("reason"), wait.get("signal"),
                                wait.get("wake_at"), time.time()))
            task = task_row(self.run_id, ev.seq, ev.node, wait)
            if task is not None:
                self._tasks.append(task)
        entry = self._running.pop(ev.seq, None)
        if entry is not None:  # the outcome of a side-effecting step completes its "running" row
            self._commit(_OUTCOME_SQL, (ev.state, ev.port, params, outputs, writes, error, wake, ev.started,
                                        ev.duration, entry))
            return
        self._rows.append((self.run_id, ev.seq, ev.attempt, ev.node, ev.type, ev.flow, ev.state, ev.port,
                           params, outputs, writes, error, wake, ev.started, ev.duration))
        if ev.state in _FLUSH_NOW or len(self._rows) >= BATCH_ROWS or time.monotonic() - self._last_flush > BATCH_SECONDS:
            self._flush()

    def on_wait_answered(self, ev) -> None:
        """The answer to a wait, kept with the wait it answers (a wait the journal did not see
        begin, from an older store, gets a row of its own)."""
        answer = dumps(ev.data)
        with transaction(self.conn) as conn:
            done = conn.execute(
                "UPDATE waits SET answered_at=?, answered_by=?, answer=? WHERE id=(SELECT MAX(id) FROM waits "
                "WHERE run_id=? AND seq=? AND answered_at IS NULL)",
                (ev.time, ev.by, answer, self.run_id, ev.seq)).rowcount
            if not done:
                conn.execute("INSERT INTO waits (run_id, seq, node_id, signal, started_at, answered_at, answered_by, "
                             "answer) VALUES (?,?,?,?,?,?,?,?)",
                             (self.run_id, ev.seq, ev.node, ev.signal, ev.time, ev.time, ev.by, answer))

    def on_artifact(self, ev) -> None:
        self._commit("INSERT INTO artifacts (run_id, seq, node_id, name, kind, path, created_at) VALUES (?,?,?,?,?,?,?)",
                     (self.run_id, ev.seq, ev.node, ev.name, ev.artifact_kind, ev.path, time.time()))

    def on_run_finished(self, ev) -> None:
        wake = ev.wake or {}
        self._commit("UPDATE runs SET state=?, outputs=?, error=?, attention=?, wake=?, wake_at=?, signal=?, "
                     "ended_at=?, steps=MAX(steps, ?) WHERE id=?",
                     (ev.state, dumps(ev.outputs or None), dumps(ev.error), dumps(ev.attention), dumps(ev.wake),
                      wake.get("wake_at"), wake.get("signal"), ev.time if ev.state in FINAL_STATES else None, ev.steps, self.run_id))
        detail = (ev.error or {}).get("message") or (ev.attention or {}).get("reason") or (ev.wake or {}).get("reason")
        self._commit(*self._state(ev.state, detail))

    def close(self) -> None:
        self._flush()
