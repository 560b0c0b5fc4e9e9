"""The activity that runs a segment of a bot run on this runner, and the journal it keeps.

``run_segment`` runs the engine through this runner's :class:`~botloom.runner.runtime.Runner`
(its own data folder, store, logs and artifacts) on a thread, and heartbeats while it runs.
A :class:`Forwarder` listener sends the run's step events to the workflow with the ``steps``
signal: a signal is in the workflow's history when the call returns, so the event of a
side-effecting step that starts is recorded before the step acts, and its outcome before the
next step. Side-effect-free steps are batched with the next recorded event (one round trip
per side effect, not per step): if the runner dies, those are only run again.

A run this runner has not seen (it was moved here) is first rebuilt in the local store from
the workflow's events, written through the same :class:`~botloom.runner.store.journal.Journal`
that wrote them on the first runner; then it is resumed as after a crash, so the engine's
replay rules hold unchanged: completed steps are not repeated, and a non-idempotent step that
was in flight stops the run as ``needs_attention``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from temporalio import activity
from temporalio.client import Client

from ..engine.events import ArtifactAdded, Listener, NodeFinished, NodeStarted, RunFinished, WaitAnswered
from ..errors import BotloomError
from ..states import RunState, StepState
from .workflow import SEGMENT

_KINDS = {cls.kind: cls for cls in (NodeStarted, NodeFinished, WaitAnswered, ArtifactAdded)}
_AT_ONCE = (StepState.SUSPENDED, StepState.FAILED, StepState.CANCELLED)
SIGNAL_TIMEOUT = 60.0


class Forwarder(Listener):
    """Sends the run's journal events to its workflow; ``critical``: a run whose steps cannot
    be recorded stops (as the local journal does)."""

    critical = True

    def __init__(self, loop: asyncio.AbstractEventLoop, handle, segment: int, worker: str):
        self.loop, self.workflow, self.segment, self.worker = loop, handle, segment, worker
        self.pending: list[dict] = []
        self.durable: set[int] = set()
        self.sent = 0

    def handle(self, event) -> None:  # noqa: D401  (the Listener entry point)
        if isinstance(event, NodeStarted):
            if event.durable:
                self.durable.add(event.seq)
                self._add(event, now=True)
        elif isinstance(event, NodeFinished):
            if not event.replayed:
                self._add(event, now=event.seq in self.durable or event.state in _AT_ONCE)
                self.durable.discard(event.seq)
        elif isinstance(event, (WaitAnswered, ArtifactAdded)):
            self._add(event, now=True)
        elif isinstance(event, RunFinished):
            self.flush()

    def _add(self, event, now: bool) -> None:
        self.pending.append(event.to_dict())
        if now:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        future = asyncio.run_coroutine_threadsafe(
            self._signal({"segment": self.segment, "worker": self.worker, "events": batch}), self.loop)
        future.result(SIGNAL_TIMEOUT)
        self.sent += len(batch)

    async def _signal(self, batch: dict) -> None:
        await self.workflow.signal("steps", batch)

    def close(self) -> None:
        self.flush()


def rebuild(store, spec: dict, events: list[dict], last: dict | None, moved: bool) -> None:
    """Write a run this store has not got (or the events it lacks) from the workflow's journal."""
    run_id = spec["run_id"]
    known = store.conn.execute("SELECT MAX(seq) FROM node_runs WHERE run_id=?", (run_id,)).fetchone()
    exists = store.conn.execute("SELECT 1 FROM runs WHERE id=?", (run_id,)).fetchone() is not None
    if not exists:
        store.create_run(run_id, bot_name=spec["bot_name"], bot_path=spec["bot_path"], bot_text=spec["bot_text"],
                         bot_hash=spec["bot_hash"], inputs=spec["inputs"], trigger=spec.get("trigger") or "fleet",
                         start_node=spec.get("start_at"))
    after = (known[0] if exists and known[0] is not None else 0) if exists else -1
    journal = store.journal(run_id)
    try:
        for data in events:
            if exists and data.get("seq", 0) <= after:
                continue
            kind = data.pop("event")
            journal.handle(_KINDS[kind](**data))
            data["event"] = kind
        if last is not None:
            journal.handle(RunFinished(run_id, last["state"], last.get("outputs"), last.get("error"),
                                       last.get("attention"), last.get("wake"), 0.0, last.get("steps", 0), time.time()))
    finally:
        journal.close()
    if moved or last is None:
        store.set_state(run_id, RunState.CRASHED, "moved to this runner: the runner that ran it stopped")


class Segments:
    """The activities of one runner (bound to its client, Runner and own queue)."""

    def __init__(self, client: Client, runner, identity: str, queue: str, threads: int = 64, capacity: int = 8):
        self.client, self.runner, self.identity, self.queue = client, runner, identity, queue
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="botloom-fleet-run")
        self.gate = asyncio.Semaphore(max(1, capacity))  # see slots.py: the limit holds for what runs
        self.load = 0
        self._load_lock = threading.Lock()

    @activity.defn(name=SEGMENT)
    async def run_segment(self, arg: dict) -> dict:
        info = activity.info()
        loop = asyncio.get_running_loop()
        forward = Forwarder(loop, self.client.get_workflow_handle(info.workflow_id), arg["segment"],
                            self.identity)
        await forward._signal({"segment": arg["segment"], "worker": self.identity, "events": []})  # taken: by whom
        beat = max(0.2, (info.heartbeat_timeout.total_seconds() if info.heartbeat_timeout else 10.0) / 4)
        while True:  # taken in the instant this runner filled up: wait for a free slot, heartbeating
            try:
                await asyncio.wait_for(self.gate.acquire(), timeout=beat)
                break
            except asyncio.TimeoutError:
                activity.heartbeat(forward.sent)
        try:
            return await self._run_here(arg, forward, loop, beat)
        finally:
            self.gate.release()

    async def _run_here(self, arg: dict, forward: Forwarder, loop, beat: float) -> dict:
        engines: list = []  # the segment's engine, once it exists (``on_engine``)
        work = loop.run_in_executor(self.pool, self._run, arg, forward, engines.append)
        while True:
            activity.heartbeat(forward.sent)
            try:
                done, _ = await asyncio.wait({work}, timeout=beat)
            except asyncio.CancelledError:
                details = activity.cancellation_details()
                if details is None or not details.cancel_requested:
                    raise  # the worker is shutting down, or lost the server: the workflow moves the run
                for engine in engines:  # `botloom fleet cancel`: stop at the next step, answer when stopped
                    engine.cancel()
                return await asyncio.shield(work)
            if done:
                break
        return work.result()

    def _run(self, arg: dict, forward: Forwarder, on_engine) -> dict:
        with self._load_lock:
            self.load += 1
        try:
            return self._segment(arg, forward, on_engine)
        finally:
            with self._load_lock:
                self.load -= 1

    def _segment(self, arg: dict, forward: Forwarder, on_engine=None) -> dict:
        spec, request = arg["spec"], dict(arg.get("request") or {})
        run_id = spec["run_id"]
        runner = self.runner
        store = runner.store()
        try:
            local = store.conn.execute("SELECT 1 FROM runs WHERE id=?", (run_id,)).fetchone() is not None
            fresh = not local and not arg["events"] and arg.get("last") is None
            if not fresh and (not local or request.get("moved")):
                rebuild(store, spec, arg["events"], arg.get("last"), bool(request.get("moved")))
        finally:
            store.close()
        answer = request.get("keep") or request
        if answer.get("action") == "cancel":  # a waiting run, cancelled: recorded here, nothing runs
            return self._cancel_waiting(run_id, answer.get("by"))
        try:
            if fresh:
                bot = runner.load_text(spec["bot_text"], spec["bot_path"] or spec["bot_name"])
                result = runner.start_run(spec["bot_path"] or spec["bot_name"], spec["inputs"], loaded=bot,
                                          trigger=spec.get("trigger") or "fleet", run_id=run_id,
                                          start_at=spec.get("start_at"), listeners=[forward], on_engine=on_engine)
            else:
                result = runner.resume_run(run_id, action=answer.get("action"), data=answer.get("data"),
                                           by=answer.get("by"), listeners=[forward], on_engine=on_engine)
        except BotloomError as exc:  # e.g. an answer without retry/skip for a run that needs attention
            store = runner.store()
            try:
                row = store.run_row(run_id)
            finally:
                store.close()
            return {"run_id": run_id, "state": row["state"], "outputs": row["outputs"] or {}, "error": exc.to_dict(),
                    "attention": row["attention"], "wake": row["wake"], "steps": row["steps"],
                    "worker": self.identity, "queue": self.queue, "refused": True}
        return {"run_id": run_id, "state": str(result.state), "outputs": result.outputs or {}, "error": result.error,
                "attention": result.attention, "wake": result.wake, "steps": result.steps,
                "worker": self.identity, "queue": self.queue}

    def _cancel_waiting(self, run_id: str, by: str | None) -> dict:
        """End a waiting run of this store as cancelled (its open waits closed), as ``botloom cancel``
        ends a local one."""
        store = self.runner.store()
        try:
            row = store.run_row(run_id)
            error = {"message": f"cancelled by {by or 'someone'} while it waited", "kind": "cancelled"}
            journal = store.journal(run_id)
            try:
                journal.handle(RunFinished(run_id, RunState.CANCELLED, row["outputs"], error, None, None, 0.0,
                                           row["steps"] or 0, time.time()))
            finally:
                journal.close()
        finally:
            store.close()
        return {"run_id": run_id, "state": str(RunState.CANCELLED), "outputs": row["outputs"] or {}, "error": error,
                "attention": None, "wake": None, "steps": row["steps"] or 0, "worker": self.identity,
                "queue": self.queue}


__all__ = ["Forwarder", "Segments", "rebuild"]
