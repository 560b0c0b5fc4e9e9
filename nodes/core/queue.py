"""Work queues: ``queue.add``, ``queue.get_next``, ``queue.set_status``.

A dispatcher bot adds items (a unique reference each: a duplicate is refused, or leaves through
``duplicate`` when that port is connected); performer bots, as many as there are robots, take
the next item and end it succeeded, failed (business: the data is wrong, not retried; system:
retried up to the item's ``max_retries``). Items held longer than ``abandon_after`` seconds are
abandoned (their performer died) and retried while they have retries left. The queue lives in
the data folder's run store (see ``runner/store/queues.py``), so ``botloom queue ...`` and the
service's queue triggers see it. Each step holds an item under its run and step: a step run
again after its process died gets the same item back, so these nodes are safe to run twice.
"""

from __future__ import annotations

from botloom.runner.sdk import BotloomError, Next, NodeError, Output, Param, node, work_queue

CATEGORY = "Queues"
STATUSES = ("succeeded", "failed_business", "failed_system")




def _fail(ctx, exc: BotloomError, parameter: str | None = None):
    where = f"node '{ctx.node_id}'" + (f", parameter '{parameter}'" if parameter else "")
    return NodeError(exc.message, kind="bad_input", where=where, fix=exc.fix)


def _deadline(ctx, value) -> float | None:
    """Epoch seconds from seconds-from-now or an ISO date and time (no zone: the machine's)."""
    if value in (None, ""):
        return None
    from datetime import datetime

    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return ctx.timestamp() + float(value)
        if isinstance(value, datetime):
            return value.timestamp()
        return datetime.fromisoformat(str(value).strip().replace("Z", "+00:00")).timestamp()
    except (TypeError, ValueError):
        raise NodeError(f"the deadline {value!r} is neither seconds nor an ISO date and time", kind="bad_input",
                        where=f"node '{ctx.node_id}', parameter 'deadline'",
                        fix="give seconds from now (3600) or a date and time (2026-12-31T17:00)") from None


@node("queue.add", title="Add queue item", category=CATEGORY, icon="inbox", side_effects=True, idempotent=True,
      ports=("out", "duplicate"),
      params=[Param("queue", "string", required=True, description="The queue's name, e.g. invoices."),
              Param("reference", "string", required=True,
                    description="What names this piece of work, unique in the queue (an invoice number)."),
              Param("payload", "any", default=None, description="The item's data, e.g. {{ row }}."),
              Param("priority", "string", default="normal",
                    description="low, normal, high, or a whole number (higher goes first)."),
              Param("deadline", "any", default=None, description="Seconds from now, or an ISO date and time."),
              Param("max_retries", "integer", default=2, minimum=0,
                    description="How often a system failure (or a performer that died) is retried.")],
      outputs=[Output("item", "object", "The item: id, queue, reference, status, payload..."),
               Output("duplicate", "boolean", "True when the reference was already in the queue.")],
      aliases=("enqueue", "add transaction item", "work queue"))
def add(ctx, queue, reference, payload, priority, deadline, max_retries):
    """Adds an item to a work queue; a reference already in it is refused (or leaves through 'duplicate')."""
    queues = work_queue(ctx)
    at = _deadline(ctx, deadline)
    try:
        priority = queues.priority(priority, "priority")
    except BotloomError as exc:
        raise _fail(ctx, exc, "priority") from None
    try:
        item = queues.add(queue, reference, payload, priority=priority, deadline=at, max_retries=max_retries)
    except BotloomError as exc:
        first = queues.find(str(queue).strip(), str(reference).strip())
        if first is not None and ctx.has_branch("duplicate"):
            return Next("duplicate", {"item": first, "duplicate": True})
        raise _fail(ctx, exc, "reference") from None
    return {"item": item, "duplicate": False}


@node("queue.get_next", title="Get next queue item", category=CATEGORY, icon="inbox", side_effects=True,
      idempotent=True, ports=("out", "empty"),
      params=[Param("queue", "string", required=True),
              Param("abandon_after", "number", default=3600, minimum=0,
                    description="Items in progress longer than this many seconds are abandoned (0: never)."),
              Param("retry_abandoned", "boolean", default=True,
                    description="Give abandoned items with retries left to a performer again.")],
      outputs=[Output("item", "object", "The item now in progress (None when the queue is empty)."),
               Output("payload", "any", "The item's payload.")],
      aliases=("dequeue", "get transaction item", "next item"))
def get_next(ctx, queue, abandon_after, retry_abandoned):
    """Takes the next new item of a queue (by priority, deadline, age); exactly one performer gets it.
    Leaves through 'empty' when there is none (or 'out' with no item when 'empty' is not connected)."""
    item = work_queue(ctx).next(str(queue).strip(), abandon_after=abandon_after or None,
                                retry_abandoned=retry_abandoned)
    if item is None:
        return Next("empty" if ctx.has_branch("empty") else "out", {"item": None, "payload": None})
    return {"item": item, "payload": item["payload"]}


@node("queue.set_status", title="Set queue item status", category=CATEGORY, icon="inbox", side_effects=True,
      idempotent=True,
      params=[Param("item", "any", required=True, description="The item from Get next queue item: {{ nodes.next.item }}."),
              Param("status", "string", default="succeeded", choices=STATUSES),
              Param("output", "any", default=None, description="What the work produced, kept with the item."),
              Param("reason", "string", default="", description="Why it failed, for the people who look at it.")],
      outputs=[Output("item", "object", "The item as it is now (a system failure with retries left is new again).")],
      aliases=("set transaction status", "complete item", "fail item"))
def set_status(ctx, item, status, output, reason):
    """Ends the work on an item this run holds: succeeded, failed_business or failed_system (retried)."""
    if isinstance(item, dict):
        item_id, holder = item.get("id"), item.get("performer")
    else:
        item_id, holder = item, None
    if not isinstance(item_id, int) or isinstance(item_id, bool):
        raise NodeError(f"'item' is not a queue item (got {type(item).__name__})", kind="bad_input",
                        where=f"node '{ctx.node_id}', parameter 'item'",
                        fix="give the item Get next queue item took: {{ nodes.NEXT.item }}")
    try:
        return {"item": work_queue(ctx).set_status(item_id, status, holder, output=output, error=reason or None)}
    except BotloomError as exc:
        raise _fail(ctx, exc, "item") from None
