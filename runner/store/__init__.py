"""The durable run store: runs, node runs (every attempt), waits and their answers, state
history, artifacts, and the large values of step payloads (``payloads.py``).

``RunStore`` opens (and if needed creates) ``runs.sqlite`` in the data folder. Writes during
a run go through the :class:`Journal` listener; reads for the CLI and the designer go
through SQLModel (``models.py``).
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

from .. import paths
from ..engine.runs import StepRecord
from ..errors import ResumeError, StoreError
from ..states import FINAL_STATES, RESUMABLE, RunState
from .db import connect, dumps, loads, resolve_id, transaction
from .journal import Journal
from .payloads import PayloadReader, StoredStep
from .lock import RunLock


class RunStore:
    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path else paths.store_path()
        self.conn = connect(self.path)
        self._engine = None

    def close(self) -> None:
        self.conn.close()
        if self._engine is not None:
            self._engine.dispose()

    # ------------------------------------------------------------ writing
    def lock(self, run_id: str) -> RunLock:
        return RunLock(self.path.parent / "locks" / f"{run_id}.lock")  # the store's own data folder

    def create_run(self, run_id: str, *, bot_name: str, bot_path: str | None, bot_text: str, bot_hash: str,
                   inputs: dict, trigger: str = "cli", start_node: str | None = None) -> None:
        now = time.time()
        with transaction(self.conn) as conn:
            conn.execute(
                "INSERT INTO runs (id, bot_name, bot_path, bot_hash, bot_snapshot, state, trigger, inputs, start_node, "
            "started_at, steps, pid, host) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (run_id, bot_name, bot_path, bot_hash, bot_text, RunState.RUNNING, trigger, dumps(inputs), start_node, now,
                 0, os.getpid(), socket.gethostname()))
            conn.execute("INSERT INTO state_changes (run_id, at, state, detail) VALUES (?,?,?,?)",
                         (run_id, now, "created", trigger))

    def journal(self, run_id: str) -> Journal:
        return Journal(self.conn, run_id)

    def set_state(self, run_id: str, state: str, detail: str | None = None, *, only_if: str | None = None) -> bool:
        """Change a run's state (only if it is still ``only_if``, when given); True if changed."""
        with transaction(self.conn) as conn:
            if only_if is None:
                changed = conn.execute("UPDATE runs SET state=? WHERE id=?", (state, run_id)).rowcount
            else:
                changed = conn.execute("UPDATE runs SET state=? WHERE id=? AND state=?",
                                       (state, run_id, only_if)).rowcount
            if changed:
                conn.execute("INSERT INTO state_changes (run_id, at, state, detail) VALUES (?,?,?,?)",
                             (run_id, time.time(), state, detail))
        return bool(changed)

    def claim(self, run_id: str, only_if: str) -> bool:
        """Move a run to running for this process, only if its state is still ``only_if``
        (compare-and-set, for a resume that holds the run's lock); True if it did. The state
        history gets its "running" row when the run starts (the journal's ``run_started``)."""
        with transaction(self.conn) as conn:
            changed = conn.execute("UPDATE runs SET state=?, pid=?, host=? WHERE id=? AND state=?",
                                   (RunState.RUNNING, os.getpid(), socket.gethostname(), run_id, only_if)).rowcount
        return bool(changed)

    def detect_crashed(self) -> list[str]:
        """Mark runs left 'running' by a process that no longer exists as 'crashed'."""
        crashed = []
        for (run_id, pid, host) in self.conn.execute("SELECT id, pid, host FROM runs WHERE state=?",
                                                     (RunState.RUNNING,)).fetchall():
            lock = self.lock(run_id)
            if lock.path.exists():
                alive = lock.held_elsewhere()
            else:
                alive = host == socket.gethostname() and pid is not None and _pid_alive(pid) and pid != os.getpid()
            # only_if: the run may have finished (and released its lock) since it was read above
            if not alive and self.set_state(run_id, RunState.CRASHED, "the process running it is gone",
                                            only_if=RunState.RUNNING):
                crashed.append(run_id)
        return crashed

    # ------------------------------------------------------------ reading (hot paths: sqlite3)
    def resolve(self, ref: str) -> str:
        """A run id from an exact id, a unique prefix or suffix, or 'last'."""
        if ref in ("last", "latest"):
            row = self.conn.execute("SELECT id FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
            if row is None:
                raise StoreError("there are no runs yet", fix="start one with `botloom run BOT`")
            return row[0]
        return resolve_id(self.conn, "runs", ref, "run", "botloom runs")

    def run_row(self, run_id: str) -> dict[str, Any]:
        cur = self.conn.execute("SELECT * FROM runs WHERE id=?", (run_id,))
        row = cur.fetchone()
        if row is None:
            raise StoreError(f"no run '{run_id}'", fix="`botloom runs` lists the runs")
        data = dict(zip([c[0] for c in cur.description], row))
        for key in ("inputs", "outputs", "error", "attention", "wake"):
            data[key] = loads(data[key])
        return data

    def load_replay(self, run_id: str) -> dict[int, StepRecord]:
        """The latest row of every step (rows are only appended: a later one is a later attempt,
        or the step run again after it waited or was in flight); payloads decode when read."""
        pruned = self.conn.execute("SELECT pruned_at FROM runs WHERE id=?", (run_id,)).fetchone()
        if pruned is not None and pruned[0] is not None:
            raise ResumeError(f"run {run_id} cannot be resumed: the values of its steps were dropped on "
                              f"{time.strftime('%Y-%m-%d', time.localtime(pruned[0]))} by `botloom runs prune "
                              "--payloads` (its history is kept)", fix="start a new run")
        reader = PayloadReader(self.conn, run_id)
        records: dict[int, StepRecord] = {}
        for seq, node, state, port, outputs, writes, error, wake, params in self.conn.execute(
                "SELECT seq, node_id, state, port, outputs, writes, error, wake, params FROM node_runs WHERE run_id=? "
                "ORDER BY entry", (run_id,)):
            records[seq] = StoredStep(reader, node, state, port, loads(error), loads(wake), outputs, writes, params)
        return records

    def waits(self, run_id: str) -> list[dict[str, Any]]:
        """Every wait of the run, in order, with its answer (``answer`` is the data given)."""
        cur = self.conn.execute("SELECT * FROM waits WHERE run_id=? ORDER BY id", (run_id,))
        names = [c[0] for c in cur.description]
        waits = [dict(zip(names, row)) for row in cur.fetchall()]
        for wait in waits:
            wait["answer"] = loads(wait["answer"])
        return waits

    # ------------------------------------------------------------ retention
    def prune_payloads(self, older_than_days: float, *, now: float | None = None) -> list[str]:
        """Drop the step values (params, outputs, writes, blobs) of runs that finished more than
        ``older_than_days`` ago. Their rows, states, errors, timings, waits and answers stay;
        such a run can no longer be resumed. Returns the ids of the runs pruned."""
        cutoff = (time.time() if now is None else now) - older_than_days * 86400
        states = sorted(FINAL_STATES)
        with transaction(self.conn) as conn:
            ids = [r[0] for r in conn.execute(
                f"SELECT id FROM runs WHERE pruned_at IS NULL AND ended_at IS NOT NULL AND ended_at < ? "
                f"AND state IN ({','.join('?' * len(states))}) ORDER BY started_at", (cutoff, *states))]
            at = time.time()
            for run_id in ids:
                conn.execute("UPDATE node_runs SET params=NULL, outputs=NULL, writes=NULL WHERE run_id=?", (run_id,))
                conn.execute("DELETE FROM blobs WHERE run_id=?", (run_id,))
                conn.execute("UPDATE runs SET pruned_at=? WHERE id=?", (at, run_id))
        return ids

    def due_runs(self, at: float | None = None) -> list[str]:
        at = time.time() if at is None else at
        return [r[0] for r in self.conn.execute(
            "SELECT id FROM runs WHERE state='suspended' AND wake_at IS NOT NULL AND wake_at <= ? ORDER BY wake_at",
            (at,))]

    # ------------------------------------------------------------ reading (SQLModel)
    def session(self):
        from sqlmodel import Session

        from .fallback import engine_for

        if self._engine is None:
            self._engine = engine_for(self.conn, self.path)  # the store's own connection when read-only
        return Session(self._engine)

    def list_runs(self, *, bot: str | None = None, state: str | None = None, limit: int = 50) -> list:
        from sqlmodel import select

        from .models import Run

        query = select(Run)
        if bot:
            query = query.where(Run.bot_name == bot)
        if state:
            query = query.where(Run.state == state)
        query = query.order_by(Run.started_at.desc()).limit(limit)
        with self.session() as s:
            return list(s.exec(query))

    def node_runs(self, run_id: str) -> list:
        from sqlmodel import select

        from .models import NodeRun

        with self.session() as s:
            return list(s.exec(select(NodeRun).where(NodeRun.run_id == run_id).order_by(NodeRun.seq, NodeRun.entry)))

    def history(self, run_id: str) -> list:
        from sqlmodel import select

        from .models import StateChange

        with self.session() as s:
            return list(s.exec(select(StateChange).where(StateChange.run_id == run_id).order_by(StateChange.id)))

    def artifacts(self, run_id: str) -> list:
        from sqlmodel import select

        from .models import Artifact

        with self.session() as s:
            return list(s.exec(select(Artifact).where(Artifact.run_id == run_id).order_by(Artifact.id)))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


__all__ = ["Journal", "RESUMABLE", "RunLock", "RunStore"]
