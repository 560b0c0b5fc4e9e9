"""How many runs a runner of the fleet takes at once, over all the queues it polls.

A runner polls several activity queues (one per subset of its labels, its machine's, its own);
Temporal's own limit (``max_concurrent_activities``) is per queue, so a machine with four
queues and ``service.max_runs`` 4 could run sixteen segments. :class:`MachineSlots` is one
slot supplier shared by all of the runner's activity workers: when ``capacity`` segments run,
no queue of this runner polls for more, so the next run goes to a runner with room.

A poller reserves its slot before it polls; idle reservations are not counted, only slots in
use (``mark_slot_used``). Two tasks that reach two idle pollers in the same instant can both
start; :class:`~.activities.Segments` then holds the one over the limit until a slot is free
(its heartbeat goes on meanwhile), so the limit holds exactly for what runs.
"""

from __future__ import annotations

import asyncio
import threading

from temporalio.worker import CustomSlotSupplier, SlotPermit


class _Permit(SlotPermit):
    def __init__(self) -> None:
        self.used = False


class MachineSlots(CustomSlotSupplier):
    def __init__(self, capacity: int):
        self.capacity = max(1, int(capacity))
        self.used = 0
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []

    async def reserve_slot(self, ctx) -> SlotPermit:
        while True:
            with self._lock:
                if self.used < self.capacity:
                    return _Permit()
                loop = asyncio.get_running_loop()
                waiter = loop.create_future()
                self._waiters.append((loop, waiter))
            await waiter  # woken when a slot in use is released (cancelled at shutdown: that is allowed)

    def try_reserve_slot(self, ctx) -> SlotPermit | None:
        with self._lock:
            return _Permit() if self.used < self.capacity else None

    def mark_slot_used(self, ctx) -> None:
        permit = ctx.permit
        with self._lock:
            if isinstance(permit, _Permit) and not permit.used:
                permit.used = True
                self.used += 1

    def release_slot(self, ctx) -> None:
        permit = ctx.permit
        with self._lock:
            if not (isinstance(permit, _Permit) and permit.used):
                return  # an idle reservation given back
            permit.used = False
            self.used -= 1
            waiters, self._waiters = self._waiters, []
        for loop, waiter in waiters:
            loop.call_soon_threadsafe(lambda w=waiter: w.done() or w.set_result(None))


def tuner(slots: MachineSlots):
    """A worker tuner whose activity slots are the machine's; workflow tasks are not limited here
    (they only decide, and any runner may take them)."""
    from temporalio.worker import FixedSizeSlotSupplier, WorkerTuner

    return WorkerTuner.create_composite(workflow_supplier=FixedSizeSlotSupplier(100), activity_supplier=slots,
                                        local_activity_supplier=FixedSizeSlotSupplier(10),
                                        nexus_supplier=FixedSizeSlotSupplier(10))


__all__ = ["MachineSlots", "tuner"]
