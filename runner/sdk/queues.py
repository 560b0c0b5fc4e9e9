"""Work queues for node packs: the run store's ``queue_items`` through one connection per run.

``store(ctx)`` is the data folder's run store (the one the run is journalled in), opened once
per run and closed with it; the functions of ``botloom.runner.store.queues`` take it. A pack
imports this module, not the store, so the store's layout stays Botloom's own.
"""

from __future__ import annotations

from ..store import queues as _queues
from ..store.db import connect as _connect

queues = _queues


def store(ctx):
    """The run store's connection for ``ctx``'s run (autocommit; the queue functions group their writes)."""
    from .. import paths

    home = getattr(getattr(ctx, "_engine", None), "home", None)
    return ctx.resource("botloom.queue-store", lambda: _connect(paths.store_path(home)), lambda conn, _state: conn.close())


def performer(ctx) -> str:
    """The name a step holds an item under: its run and step, so a step run again finds its item."""
    return f"{ctx.run_id}/{ctx.seq}"


__all__ = ["performer", "queues", "store"]
