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

    @workflow.query
    def status(self) -> dict:
        return {"state": self.state, "worker": self.worker, "workers": list(self.workers), "segment": self.segment,
                "steps": len(self.events), "wake": (self.last or {}).get("wake"),
                "attention": (self.last or {}).get("attention")}

    @workflow.run
    async def run(self, spec: dict) -> dict:
        if not spec.get("run_id"):  # started by a Temporal Schedule: the run is named by its workflow
            spec = {**spec, "run_id": workflow.info().workflow_id}
        heartbeat = timedelta(seconds=float(spec.get("heartbeat", 10)))
        own: str | None = None
        request: dict | None = None
        moves = 0
        while True:
            self.segment += 1
            try:
                result = await workflow.execute_activity(
                    SEGMENT, {"spec": spec, "events": list(self.events), "last": self.last, "request": request,
                              "segment": self.segment},
                    task_queue=own or spec["queue"], heartbeat_timeout=heartbeat,
                    start_to_close_timeout=timedelta(days=30),
                    schedule_to_start_timeout=heartbeat * 2 if own else None,
                    retry_policy=RetryPolicy(maximum_attempts=1))
            except ActivityError as exc:
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

    async def _next_request(self, result: dict) -> dict:
        wake_at = (result.get("wake") or {}).get("wake_at")
        timeout = None
        if result["state"] == "suspended" and wake_at is not None:
            timeout = max(0.0, float(wake_at) - workflow.now().timestamp())
        try:
            await workflow.wait_condition(lambda: bool(self.answers), timeout=timeout)
        except asyncio.TimeoutError:
            return {"by": "timer"}
        return self.answers.pop(0)


__all__ = ["BotRun", "ENDED", "SEGMENT"]
