"""Reading the run store when it cannot be written: a full disk or a read-only data folder.

SQLite in WAL mode reads through the ``-shm`` file. On a full disk it cannot give that file
its size (``SQLITE_IOERR_SHMSIZE``); on a read-only file system it cannot create it
(``SQLITE_CANTOPEN``). Either way a plain connection cannot even read, yet the history must
stay readable there (``botloom runs``, ``botloom show``). So when :func:`~.db.connect` fails
and :func:`botloom.runner.paths.storage_error` names the data folder as the cause,
:func:`open_for_reading` opens the store another way, first that works:

1. exclusive locking mode: SQLite keeps the WAL index in its own memory instead of ``-shm``
   and still reads the WAL, so the latest runs are there (a full disk; needs write access
   to the file for the lock);
2. ``mode=ro``: read-only, when ``-shm`` and ``-wal`` are already there;
3. ``immutable=1``: no locks and no ``-shm`` at all, which ignores the WAL, so only when
   there is no WAL content to miss (a read-only file system after a clean close).

The connection is a :class:`ReadOnlyStore`. Writing through it fails with an
``sqlite3.Error`` that ``storage_error`` explains. :func:`engine_for` makes SQLModel read
through the same connection: a second one would fail the same way, or wait on the exclusive
lock.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from .. import paths
from ..errors import StoreError


class ReadOnlyStore(sqlite3.Connection):
    """A store connection opened for reading only, because the data folder cannot be written."""


def open_for_reading(path: str | os.PathLike, exc: sqlite3.Error, schema_version: int) -> ReadOnlyStore:
    """A reading connection to the store at ``path`` after opening it failed with ``exc``;
    raises StoreError (what failed and what to do) when that is impossible."""
    path = Path(path)
    problem = paths.storage_error(exc, path.parent)
    if problem is None:
        raise StoreError(f"cannot open the run store {path}: {exc}",
                         fix="if the file is damaged, move it away; Botloom starts a new one")
    wal = path.with_name(path.name + "-wal")
    shm = path.with_name(path.name + "-shm")
    attempts = [(os.fspath(path), "PRAGMA locking_mode=EXCLUSIVE")]
    if shm.exists() and wal.exists():
        attempts.append((f"{path.resolve().as_uri()}?mode=ro", None))
    if not wal.exists() or wal.stat().st_size == 0:
        attempts.append((f"{path.resolve().as_uri()}?immutable=1", None))
    for target, pragma in attempts:
        conn = None
        try:
            conn = sqlite3.connect(target, uri=target.startswith("file:"), timeout=5, isolation_level=None,
                                   check_same_thread=False, factory=ReadOnlyStore)
            if pragma:
                conn.execute(pragma)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error:
            if conn is not None:
                conn.close()
            continue
        if version < schema_version:  # a new or older store needs writing before it can be read
            conn.close()
            raise problem
        return conn
    raise problem


def engine_for(conn: sqlite3.Connection, path: Path):
    """The SQLAlchemy engine RunStore reads through: its own connections normally, the store's
    one connection when that is a :class:`ReadOnlyStore`."""
    from sqlmodel import create_engine

    if not isinstance(conn, ReadOnlyStore):
        return create_engine(f"sqlite:///{path}")
    from sqlalchemy.pool import StaticPool

    return create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool)
