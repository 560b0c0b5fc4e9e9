"""Opening the run store: one SQLite file in WAL mode, schema versioned by ``user_version``."""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ..errors import StoreError

SCHEMA_VERSION = 3

# MIGRATIONS[n]: the statements that bring a store of schema n to n + 1. A new store is created
# from the SQLModel models at the current version; an older one is upgraded step by step.
MIGRATIONS: dict[int, list[str]] = {
    1: ["ALTER TABLE runs ADD COLUMN start_node VARCHAR"],  # runs started from a chosen node
    2: [  # the bots a run calls, kept as they were when first called (models.RunBot)
        "CREATE TABLE run_bots (run_id VARCHAR NOT NULL, path VARCHAR NOT NULL, text VARCHAR NOT NULL, "
        "hash VARCHAR NOT NULL, PRIMARY KEY (run_id, path), FOREIGN KEY(run_id) REFERENCES runs (id))"],
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
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def _create_schema(path, conn: sqlite3.Connection) -> None:
    """Create the tables from schema.sql (generated from the SQLModel models in models.py)."""
    ddl = (Path(__file__).with_name("schema.sql")).read_text(encoding="utf-8")
    statements = [s.strip() for s in "\n".join(l for l in ddl.splitlines() if not l.startswith("--")).split(";")]
    with transaction(conn):
        if conn.execute("PRAGMA user_version").fetchone()[0] == 0:  # not created meanwhile by another process
            for statement in filter(None, statements):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


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
