"""Work queues and review examples for node packs, through the data folder's run store.

``work_queue(ctx)`` gives a step the queue functions of ``botloom.runner.store.queues`` bound
to the run store the run is journalled in (one connection per run, closed with it) and to the
name the step holds items under: its run and step, so a step run again after its process died
finds the item it took. ``review_examples(source)`` gives the (text, label) rows that
completed reviews left for a model. A pack calls these, not the store, so the store's layout
stays Botloom's own; the store is imported on first use, which keeps the SDK cheap to import.
"""

from __future__ import annotations

from typing import Any


class WorkQueue:
    """The queue functions for one step: ``add``, ``next``, ``set_status``, ``find``, ``priority``."""

    def __init__(self, conn, performer: str):
        from ..store import queues

        self._q, self.conn, self.performer = queues, conn, performer

    def priority(self, value: Any, where: str = "priority") -> int:
        return self._q.priority_of(value, where)

    def add(self, queue: str, reference: Any, payload: Any = None, **kw: Any) -> dict:
        return self._q.add(self.conn, queue, reference, payload, by=self.performer, **kw)

    def find(self, queue: str, reference: str) -> dict | None:
        return self._q.find_ref(self.conn, queue, reference)

    def next(self, queue: str, **kw: Any) -> dict | None:
        return self._q.next_item(self.conn, queue, self.performer, **kw)

    def set_status(self, item_id: int, status: str, holder: str | None, **kw: Any) -> dict:
        return self._q.set_status(self.conn, item_id, status, holder, **kw)


def work_queue(ctx) -> WorkQueue:
    """The work queues of ``ctx``'s data folder, for ``ctx``'s step."""
    from .. import paths
    from ..store.db import connect

    home = getattr(getattr(ctx, "_engine", None), "home", None)
    conn = ctx.resource("botloom.queue-store", lambda: connect(paths.store_path(home)),
                        lambda c, _state: c.close())
    return WorkQueue(conn, f"{ctx.run_id}/{ctx.seq}")


def review_examples(source: str) -> list[tuple[str, str]]:
    """(text, label) rows from the completed reviews of fields whose ``source`` is ``source``
    (a model's name): the text the model read and the value the reviewer left."""
    from .. import paths
    from ..store.db import connect
    from ..store.examples import labelled

    conn = connect(paths.store_path())
    try:
        return labelled(conn, source)
    finally:
        conn.close()


__all__ = ["WorkQueue", "review_examples", "work_queue"]
