"""Queue triggers: a run of a schedule's bot starts when items wait in its work queue.

A ``queue`` schedule (``botloom schedule add BOT --queue NAME``) is checked by the service's
due job (every ``service.due_seconds``): when its queue has new items and no run of the
schedule is queued or running (or the schedule allows ``overlap``), a run starts with the
trigger ``queue:NAME``; the bot takes the items with ``queue.get_next`` until the queue is
empty. Abandoned items (their performer died) are found here too, by the same limit as
``queue.get_next``'s default unless the schedule's spec gives ``abandon_after``, so a queue
no run works on still hands them on.
"""

from __future__ import annotations

import logging

from ..errors import BotloomError

DEFAULT_ABANDON_AFTER = 3600.0


def fire_queue_triggers(service) -> list[str]:
    """Start the runs that the queue schedules call for; the ids of the runs started."""
    from ..store import queues
    from ..store.db import connect

    wanted = [s for s in service.schedules.all() if s.kind == "queue" and not s.paused]
    if not wanted:
        return []
    started = []
    conn = connect(service.runner.paths.store)
    try:
        for sched in wanted:
            name = sched.spec.get("queue") or ""
            queues.mark_abandoned(conn, name, float(sched.spec.get("abandon_after") or DEFAULT_ABANDON_AFTER))
            waiting = queues.has_new(conn, name)
            if not waiting or (not sched.overlap and service.dispatcher.busy_with(schedule_id=sched.id)):
                continue
            try:
                request = service.start_run(sched.bot, sched.inputs, trigger=f"queue:{name}", schedule_id=sched.id)
            except BotloomError as exc:
                service.schedules.record_fire(sched.id, None, "refused", exc.message)
                continue
            service.schedules.record_fire(sched.id, None, "started", f"{waiting} item(s) new in queue '{name}'",
                                          run_id=request.run_id)
            started.append(request.run_id)
    except Exception as exc:  # a busy or broken store: said in the log, checked again at the next pass
        logging.getLogger(__name__).warning("queue triggers: the check failed: %s", exc)
    finally:
        conn.close()
    return started
