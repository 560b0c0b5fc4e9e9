"""Opening the run store: one SQLite file in WAL mode, schema versioned by ``user_version``."""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from ..errors import StoreError

SCHEMA_VERSION = 6

# MIGRATIONS[n]: the statements (or functions of the connection) that bring a store of schema n to
# n + 1, in one transaction. A new store is created from the SQLModel models at the current
# version; an older one is upgraded step by step. The DDL here is frozen as each version had it.
MIGRATIONS: dict[int, list[str | Callable[[sqlite3.Connection], None]]] = {
    1: ["ALTER TABLE runs ADD COLUMN start_node VARCHAR"],  # runs started from a chosen node
    2: [  # the bots a run calls, kept as they were when first called (models.RunBot)
        "CREATE TABLE run_bots (run_id VARCHAR NOT NULL, path VARCHAR NOT NULL, text VARCHAR NOT NULL, "
        "hash VARCHAR NOT NULL, PRIMARY KEY (run_id, path), FOREIGN KEY(run_id) REFERENCES runs (id))"],
    3: [lambda conn: _append_only_journal(conn)],  # every row kept, waits and answers, large values once
    4: [  # human tasks: the review forms of suspended steps and their answers (models.Task)
        "CREATE TABLE tasks (\n\tid VARCHAR NOT NULL, \n\trun_id VARCHAR NOT NULL, \n\tseq INTEGER NOT NULL, "
        "\n\tnode VARCHAR NOT NULL, \n\tbot VARCHAR NOT NULL, \n\tqueue VARCHAR, \n\tassignee VARCHAR, "
        "\n\tstate VARCHAR NOT NULL, \n\tform VARCHAR NOT NULL, \n\toutcome VARCHAR, \n\t\"values\" VARCHAR, "
        "\n\t\"by\" VARCHAR, \n\tcreated_at FLOAT NOT NULL, \n\tdeadline FLOAT, \n\tcompleted_at FLOAT, "
        "\n\tPRIMARY KEY (id), \n\tFOREIGN KEY(run_id) REFERENCES runs (id)\n)",
        "CREATE UNIQUE INDEX ix_tasks_run_id_seq ON tasks (run_id, seq)",
        "CREATE INDEX ix_tasks_state_queue ON tasks (state, queue)"],
    5: [  # work queues (models.QueueItem, QueueEvent) and the labelled examples of reviews (models.ReviewExample)
        'CREATE TABLE queue_items (\n\tid INTEGER NOT NULL, \n\tqueue VARCHAR NOT NULL, \n\treference VARCHAR NOT NULL, \n\tpriority INTEGER NOT NULL, \n\tdeadline FLOAT, \n\tstatus VARCHAR NOT NULL, \n\tretries INTEGER NOT NULL, \n\tmax_retries INTEGER NOT NULL, \n\tpayload VARCHAR, \n\toutput VARCHAR, \n\terror VARCHAR, \n\tperformer VARCHAR, \n\tcreated_at FLOAT NOT NULL, \n\tstarted_at FLOAT, \n\tended_at FLOAT, \n\tPRIMARY KEY (id)\n)',
        'CREATE TABLE review_examples (\n\tid INTEGER NOT NULL, \n\ttask_id VARCHAR NOT NULL, \n\tbot VARCHAR NOT NULL, \n\tsource VARCHAR NOT NULL, \n\tfield VARCHAR NOT NULL, \n\ttext VARCHAR, \n\toriginal VARCHAR, \n\tcorrected VARCHAR, \n\tchanged BOOLEAN NOT NULL, \n\tconfidence FLOAT, \n\toutcome VARCHAR, \n\tat FLOAT NOT NULL, \n\tPRIMARY KEY (id)\n)',
        'CREATE TABLE queue_events (\n\tid INTEGER NOT NULL, \n\titem_id INTEGER NOT NULL, \n\tat FLOAT NOT NULL, \n\tstatus VARCHAR NOT NULL, \n\tperformer VARCHAR, \n\tdetail VARCHAR, \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(item_id) REFERENCES queue_items (id)\n)',
        'CREATE UNIQUE INDEX ix_queue_items_queue_reference ON queue_items (queue, reference)',
        'CREATE INDEX ix_queue_items_queue_status ON queue_items (queue, status, priority)',
        'CREATE INDEX ix_review_examples_source_field ON review_examples (source, field)',
        'CREATE INDEX ix_review_examples_task_id ON review_examples (task_id)',
        'CREATE INDEX ix_queue_events_item_id ON queue_events (item_id)',
    ],
}


def connect(path: str | os.PathLike) -> sqlite3.Connection:
    """A connection in autocommit mode; callers group writes with ``transaction(conn)``."""
    try:
        conn = sqlite3.connect(os.fspath(path), timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives the process being killed; FULL also survives
        # power loss at ~1 fsync per commit (BOTLOOM_STORE_SYNC=full).
        sync = "FULL" if os.environ.get("BOTLOOM_STORE_SYNC", "").lower() == "full" else "NORMAL"
        conn.execute(f"PRAGMA synchronous={sync}")
        conn.execute("PRAGMA foreign_keys=ON")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        from .fallback import open_for_reading  # a full disk or read-only folder: read it another way

        conn = open_for_reading(path, exc, SCHEMA_VERSION)  # or a StoreError saying what to do
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(f"the run store {path} was written by a newer Botloom (schema {version}, this one "
                         f"knows {SCHEMA_VERSION})", fix="upgrade Botloom, or point BOTLOOM_HOME elsewhere")
    if version == 0:
        _create_schema(path, conn)
    elif version < SCHEMA_VERSION:
        _migrate(conn, version)
    return conn


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    with transaction(conn):
        current = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have done it
        for step in range(current, SCHEMA_VERSION):
            for statement in MIGRATIONS[step]:
                statement(conn) if callable(statement) else conn.execute(statement)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


_NODE_RUNS_V4 = """CREATE TABLE node_runs (
	entry INTEGER NOT NULL, 
	run_id VARCHAR NOT NULL, 
	seq INTEGER NOT NULL, 
	attempt INTEGER NOT NULL, 
	node_id VARCHAR NOT NULL, 
	node_type VARCHAR NOT NULL, 
	flow VARCHAR NOT NULL, 
	state VARCHAR NOT NULL, 
	port VARCHAR, 
	params VARCHAR, 
	outputs VARCHAR, 
	writes VARCHAR, 
	error VARCHAR, 
	wake VARCHAR, 
	started_at FLOAT NOT NULL, 
	duration FLOAT, 
	PRIMARY KEY (entry), 
	FOREIGN KEY(run_id) REFERENCES runs (id)
)"""
_STEP_COLUMNS = ("run_id, seq, attempt, node_id, node_type, flow, state, port, params, outputs, writes, error, wake, "
                 "started_at, duration")


def _append_only_journal(conn: sqlite3.Connection) -> None:
    """Schema 3 -> 4. ``node_runs`` was keyed by (run, seq, attempt) and written with INSERT OR
    REPLACE; it is rebuilt keyed by ``entry``, its rows in the order the old key sorted them (so
    the latest row of a step is the one a resume used). ``waits`` starts with the waits still
    open (the answered ones were overwritten by the old journal); ``blobs`` starts empty."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "node_runs" in tables:
        conn.execute("ALTER TABLE node_runs RENAME TO node_runs_v3")
    conn.execute(_NODE_RUNS_V4)
    conn.execute("CREATE INDEX ix_node_runs_run_id_seq ON node_runs (run_id, seq)")
    if "node_runs" in tables:
        conn.execute(f"INSERT INTO node_runs ({_STEP_COLUMNS}) SELECT {_STEP_COLUMNS} FROM node_runs_v3 "
                     "ORDER BY run_id, seq, attempt")
        conn.execute("DROP TABLE node_runs_v3")
    conn.execute("ALTER TABLE runs ADD COLUMN pruned_at FLOAT")
    conn.execute("CREATE TABLE waits (\n\tid INTEGER NOT NULL, \n\trun_id VARCHAR NOT NULL, \n\tseq INTEGER NOT NULL, "
                 "\n\tnode_id VARCHAR NOT NULL, \n\treason VARCHAR, \n\tsignal VARCHAR, \n\twake_at FLOAT, "
                 "\n\tstarted_at FLOAT NOT NULL, \n\tanswered_at FLOAT, \n\tanswered_by VARCHAR, \n\tanswer VARCHAR, "
                 "\n\tPRIMARY KEY (id), \n\tFOREIGN KEY(run_id) REFERENCES runs (id)\n)")
    conn.execute("CREATE INDEX ix_waits_run_id ON waits (run_id)")
    conn.execute("CREATE TABLE blobs (\n\trun_id VARCHAR NOT NULL, \n\tid INTEGER NOT NULL, \n\tbase INTEGER, "
                 "\n\tdigest VARCHAR, \n\tdata VARCHAR NOT NULL, \n\tsize INTEGER NOT NULL, "
                 "\n\tPRIMARY KEY (run_id, id), \n\tFOREIGN KEY(run_id) REFERENCES runs (id)\n)\n WITHOUT ROWID")
    open_waits = conn.execute("SELECT n.run_id, n.seq, n.node_id, n.wake, n.started_at + COALESCE(n.duration, 0) "
                              "FROM node_runs n JOIN runs r ON r.id = n.run_id "
                              "WHERE n.state = 'suspended' AND r.state = 'suspended' ORDER BY n.entry").fetchall()
    for run_id, seq, node_id, wake, started in open_waits:
        try:
            wake = json.loads(wake) if wake else {}
        except ValueError:
            wake = {}
        wake = wake if isinstance(wake, dict) else {}
        conn.execute("INSERT INTO waits (run_id, seq, node_id, reason, signal, wake_at, started_at) VALUES (?,?,?,?,?,?,?)",
                     (run_id, seq, node_id, wake.get("reason"), wake.get("signal"), wake.get("wake_at"), started))


def _create_schema(path, conn: sqlite3.Connection) -> None:
    """Create the tables from schema.sql (generated from the SQLModel models in models.py)."""
    ddl = (Path(__file__).with_name("schema.sql")).read_text(encoding="utf-8")
    statements = [s.strip() for s in "\n".join(l for l in ddl.splitlines() if not l.startswith("--")).split(";")]
    with transaction(conn):
        if conn.execute("PRAGMA user_version").fetchone()[0] == 0:  # not created meanwhile by another process
            for statement in filter(None, statements):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def resolve_id(conn: sqlite3.Connection, table: str, ref: str, noun: str, listing: str) -> str:
    """The id in ``table`` named by ``ref``: exact, or the one id starting or ending with it (LIKE
    ignores case), as a run or a task is named on the command line. ``noun`` ("run") and
    ``listing`` (the command that lists them) word the error."""
    like = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    ids = [r[0] for r in conn.execute(f"SELECT id FROM {table} WHERE id = ? OR id LIKE ? ESCAPE '\\' OR id LIKE ? "
                                      f"ESCAPE '\\' LIMIT 5", (ref, like + "%", "%" + like))]
    if ref in ids:
        return ref
    if not ids:
        raise StoreError(f"no {noun} '{ref}'", fix=f"`{listing}` lists the {noun}s")
    if len(ids) > 1:
        raise StoreError(f"'{ref}' matches several {noun}s ({', '.join(ids[:3])}, ...)",
                         fix="give more of the id: its last characters are random, a few of them are enough")
    return ids[0]


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction. IMMEDIATE takes the write lock up front, so two processes writing
    the store wait for each other instead of failing with "database is locked" mid-way."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# Every JSON column is written and read through the one value codec (runner/codec.py).
from ..codec import dumps, loads  # noqa: E402  (re-exported: the store's callers use these names)
