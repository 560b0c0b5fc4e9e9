"""The workflow of one bot run: it decides where the run's steps run and records what they did.

It does no I/O (the Temporal sandbox replays it). It runs the bot in *segments*: one activity,
``botloom.run_segment``, runs the engine on a runner until the run ends, waits or needs a
person. The first segment goes to the run's capability queue; the runner that takes it
answers with its own queue, and later segments go there. While a segment runs, the runner
sends each step's events with the ``steps`` signal before the run goes on (a side-effecting
step's ``running`` event before the step acts, its outcome before the next step): the
workflow's history is the run's journal.

When the runner stops heartbeating (it died), or its own queue has no poller when a segment
is due, the next segment goes back to the capability queue with the events so far: another
runner rebuilds the run in its store and resumes it. Signals from a segment that was given up
are ignored (``segment`` numbers), so a runner that was only slow cannot add to the journal.

Waits become Temporal: a suspended run waits for the ``answer`` signal (a signal's data, a
review's answer, retry/skip for a run that needs attention) or for a durable timer
(``wake_at``); then the next segment resumes it.

The ``cancel`` signal stops a run wherever it is: a running segment's activity is cancelled,
and the runner that runs it stops the engine at the next step (the run ends ``cancelled`` in
its store, as a local cancel does); a waiting run gets one more segment, on its runner, that
records it as cancelled; a run no runner has taken yet ends at once.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

SEGMENT = "botloom.run_segment"
ENDED = ("succeeded", "failed", "cancelled")  # runner/states.py FINAL_STATES (the sandbox imports nothing)
WAITING = ("suspended", "needs_attention", "crashed")
MAX_MOVES = 10


@workflow.defn(name="BotRun")
class BotRun:
    def __init__(self) -> None:
        self.events: list = []
        self.answers: list = []
        self.segment = 0
        self.state = "created"
        self.worker: str | None = None
        self.workers: list = []
        self.last: dict | None = None
        self.cancel_by: str | None = None

    @workflow.signal
    def steps(self, batch: dict) -> None:
        """Events of the running segment (``{"segment": n, "events": [...]}``)."""
        if batch.get("segment") == self.segment:
            self.events.extend(batch.get("events") or ())
            self.state, self.worker = "running", batch.get("worker")
            if self.worker not in self.workers:
                self.workers.append(self.worker)

    @workflow.signal
    def answer(self, answer: dict) -> None:
        """``{"data": ..., "action": "retry"|"skip"|None, "by": ...}`` for a waiting run."""
        self.answers.append(answer)

    @workflow.signal
    def cancel(self, request: dict) -> None:
        """``{"by": ...}``: stop the run (see the module's docstring)."""
        if self.cancel_by is None:
            self.cancel_by = str((request or {}).get("by") or "someone")

    @workflow.query
    def status(self) -> dict:
        return {"state": self.state, "worker": self.worker, "workers": list(self.workers), "segment": self.segment,
                "steps": len(self.events), "wake": (self.last or {}).get("wake"),
                "attention": (self.last or {}).get("attention"), "cancel_requested": self.cancel_by is not None}

    @workflow.run
    async def run(self, spec: dict) -> dict:
        if not spec.get("run_id"):  # started by a Temporal Schedule: the run is named by its workflow
            spec = {**spec, "run_id": workflow.info().workflow_id}
        heartbeat = timedelta(seconds=float(spec.get("heartbeat", 10)))
        own: str | None = None
        request: dict | None = None
        moves = 0
        while True:
            if self.cancel_by is not None and self.segment == 0:  # no runner has the run yet: nothing to stop
                return self._cancelled(spec, "before it started")
            self.segment += 1
            try:
                result = await self._segment(spec, request, own, heartbeat)
            except ActivityError as exc:
                if self.cancel_by is not None:  # cancelled before a runner took the segment, or it died meanwhile
                    return self._cancelled(spec, "while no runner had it")
                moves += 1
                if moves > MAX_MOVES:
                    self.state = "crashed"
                    return {"state": "crashed", "error": {"message": f"the run was moved {MAX_MOVES} times and "
                                                                    f"failed each time: {exc.cause or exc}"}}
                workflow.logger.warning("run %s: segment %d lost (%s); moving it", spec["run_id"], self.segment,
                                        exc.cause or exc)
                own, self.worker = None, None
                request = {"moved": True, **({"keep": request} if request and "moved" not in request else {})}
                continue
            moves = 0
            own, self.worker, self.state, self.last = result["queue"], result["worker"], result["state"], result
            if result["worker"] not in self.workers:
                self.workers.append(result["worker"])
            if result["state"] in ENDED:
                return result
            request = await self._next_request(result)

    def _cancelled(self, spec: dict, when: str) -> dict:
        self.state = "cancelled"
        return {"run_id": spec["run_id"], "state": "cancelled", "outputs": {}, "worker": self.worker,
                "steps": len(self.events), "error": {"message": f"cancelled by {self.cancel_by} {when}",
                                                     "kind": "cancelled"}}

    async def _segment(self, spec: dict, request: dict | None, own: str | None, heartbeat: timedelta) -> dict:
        """One segment on a runner; a ``cancel`` signal while it runs cancels its activity, and the
        runner answers once the engine has stopped (``WAIT_CANCELLATION_COMPLETED``)."""
        handle = workflow.start_activity(
            SEGMENT, {"spec": spec, "events": list(self.events), "last": self.last, "request": request,
                      "segment": self.segment},
            task_queue=own or spec["queue"], heartbeat_timeout=heartbeat, start_to_close_timeout=timedelta(days=30),
            schedule_to_start_timeout=heartbeat * 2 if own else None, retry_policy=RetryPolicy(maximum_attempts=1),
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
        recording_cancel = ((request or {}).get("keep") or request or {}).get("action") == "cancel"
        if not recording_cancel:  # that segment only records the cancel: let it run
            await workflow.wait_condition(lambda: handle.done() or self.cancel_by is not None)
            if not handle.done():
                handle.cancel()
        return await handle

    async def _next_request(self, result: dict) -> dict:
        wake_at = (result.get("wake") or {}).get("wake_at")
        timeout = None
        if result["state"] == "suspended" and wake_at is not None:
            timeout = max(0.0, float(wake_at) - workflow.now().timestamp())
        try:
            await workflow.wait_condition(lambda: bool(self.answers) or self.cancel_by is not None, timeout=timeout)
        except asyncio.TimeoutError:
            return {"by": "timer"}
        if self.cancel_by is not None:
            return {"action": "cancel", "by": self.cancel_by}
        return self.answers.pop(0)


__all__ = ["BotRun", "ENDED", "SEGMENT"]
