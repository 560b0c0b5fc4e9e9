"""The journal: a run listener that writes every step to the run store.

Steps without side effects are buffered and written in batches (every 256 rows, every 0.2 s,
and at the end): if the process dies, the unwritten tail is simply run again on resume, which
is harmless because those steps change nothing outside the run. Before a side-effecting step
runs, the buffer and a "running" row for that step are committed; its outcome is committed as
soon as it finishes. So after a crash the store knows, for every side effect, whether it
finished, and whether it was in flight.
"""

from __future__ import annotations

import socket
import sqlite3
import time

from ..engine.events import FINAL_STATES, Listener
from .db import dumps, transaction

_NODE_SQL = ("INSERT OR REPLACE INTO node_runs (run_id, seq, attempt, node_id, node_type, flow, state, port, params, "
             "outputs, writes, error, wake, started_at, duration) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
BATCH_ROWS = 256
BATCH_SECONDS = 0.2


class Journal(Listener):
    critical = True  # a run whose steps cannot be journalled stops: nothing it did may go unrecorded

    def __init__(self, conn: sqlite3.Connection, run_id: str):
        self.conn = conn
        self.run_id = run_id
        self._rows: list[tuple] = []
        self._durable: set[int] = set()
        self._last_flush = time.monotonic()

    # -- writing
    def _flush(self) -> None:
        if self._rows:
            self._commit()

    def _commit(self, sql: str | None = None, args: tuple = ()) -> None:
        """Write the buffered steps, and optionally one more statement, in one transaction."""
        with transaction(self.conn) as conn:
            if self._rows:
                conn.executemany(_NODE_SQL, self._rows)
            if sql is not None:
                conn.execute(sql, args)
        self._rows.clear()
        self._last_flush = time.monotonic()

    def _state(self, state: str, detail: str | None = None) -> tuple:
        return ("INSERT INTO state_changes (run_id, at, state, detail) VALUES (?,?,?,?)",
                (self.run_id, time.time(), state, detail))

    # -- events
    def on_run_started(self, ev) -> None:
        self._commit("UPDATE runs SET state='running', pid=?, host=?, ended_at=NULL WHERE id=?",
                     (_pid(), socket.gethostname(), self.run_id))
        self._commit(*self._state("running", "resumed" if ev.resumed else "started"))

    def on_node_started(self, ev) -> None:
        if ev.durable:
            self._durable.add(ev.seq)
            self._commit(_NODE_SQL, (self.run_id, ev.seq, ev.attempt, ev.node, ev.type, ev.flow, "running", None,
                                     dumps(ev.params or None), None, None, None, None, ev.time, None))

    def on_node_finished(self, ev) -> None:
        if ev.replayed:
            return
        self._rows.append((self.run_id, ev.seq, ev.attempt, ev.node, ev.type, ev.flow, ev.state, ev.port,
                           dumps(ev.params or None), dumps(ev.outputs or None), dumps(ev.writes or None),
                           dumps(ev.error), dumps(ev.wake), ev.started, ev.duration))
        if ev.seq in self._durable or ev.state in ("suspended", "failed") or len(self._rows) >= BATCH_ROWS \
                or time.monotonic() - self._last_flush > BATCH_SECONDS:
            self._durable.discard(ev.seq)
            self._flush()

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


def _pid() -> int:
    import os

    return os.getpid()
