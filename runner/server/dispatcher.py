"""The dispatcher: a durable queue of runs, limits, and one worker process per run.

Every run the service starts or resumes is a :class:`RunRequest`. It is written to the queue
table before anything else happens and removed only when its worker has finished, so a service
that dies loses no request; a start carries the run id it was given when it was queued, so a
request relaunched after a crash can never start its run twice (the worker sees the run exists,
and start-up recovery resumes it from its journal instead).

Limits: at most ``max_runs`` workers at once; per capability (a bot's node types tell which it
needs) at most one desktop run per display, and ``browser``/``documents`` runs up to their
settings. A request that does not fit waits; the others pass it (no head-of-line blocking).

Each run has a time limit (the request's, else the bot's ``settings.runner.time_limit``, else the
service's ``service.time_limit``; 0 for none). Past it the worker is sent SIGTERM, which stops the
run at its next step with its state saved; a worker that does not stop within ``stop_grace``
seconds is killed, and its run is left crashed for a person.

When a worker dies (killed, out of memory, a bug), its run is marked crashed and handled by the
bot's policy ``settings.runner.on_crash``: ``resume`` (the default: continue from the journal,
where a side effect that was in flight stops the run as needing attention) or ``leave``, at most
``service.max_recoveries`` times in a row.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from .. import codec
from ..errors import BotloomError
from ..states import RunState

CAPABILITIES = {"desktop.": "desktop", "browser.": "browser", "ocr.": "documents", "ai.": "documents"}


@dataclass
class RunRequest:
    action: str  # "start" or "resume"
    bot: str | None = None
    run_id: str | None = None
    inputs: dict = field(default_factory=dict)
    trigger: str = "service"
    schedule_id: str | None = None
    scheduled_at: float | None = None
    data: dict | None = None
    by: str | None = None
    decision: str | None = None
    time_limit: float | None = None
    file: dict | None = None  # a watched folder's file: {"path", "done", "failed"}
    recoveries: int = 0
    capabilities: list = field(default_factory=list)
    screen: str | None = None
    on_crash: str = "resume"
    bot_name: str = ""
    queued_at: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RunRequest":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class Active:
    request: RunRequest
    entry: int
    proc: subprocess.Popen
    started: float
    deadline: float | None
    display: Any = None
    stopping: str | None = None  # why the service is stopping it: "time_limit", "shutdown", "cancel"
    state: str | None = None
    first_step: float | None = None


class Dispatcher:
    def __init__(self, runner, schedules, *, metrics=None, displays=None, settings: dict | None = None,
                 on_finished: Callable[[RunRequest, str | None], None] | None = None):
        self.runner = runner
        self.schedules = schedules  # ScheduleStore: the durable queue
        self.metrics = metrics
        self.displays = displays
        conf = settings or {}
        self.max_runs = int(conf.get("service.max_runs", 4))
        self.limits = {"browser": int(conf.get("service.browser_runs", 2)),
                       "documents": int(conf.get("service.document_runs", 2))}
        self.time_limit = float(conf.get("service.time_limit", 0) or 0)
        self.stop_grace = float(conf.get("service.stop_grace", 10))
        self.max_recoveries = int(conf.get("service.max_recoveries", 3))
        self.on_finished = on_finished
        self._queue: list[tuple[int, RunRequest]] = []
        self._active: dict[int, Active] = {}
        self._cond = threading.Condition()
        self._db = threading.Lock()
        self._accepting = True
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="botloom-dispatcher", daemon=True)

    # ------------------------------------------------------------ public
    def start(self) -> None:
        """Take up the requests a previous service left in the queue, then start dispatching."""
        with self._db:
            left = self.schedules.queued()
        with self._cond:
            for entry, data in left:
                self._queue.append((entry, RunRequest.from_dict(data)))
        self._thread.start()

    def submit(self, request: RunRequest) -> RunRequest:
        """Queue a run (durably) and return the request, with its run id and capabilities filled in."""
        if not self._accepting:
            raise BotloomError("the service is shutting down and takes no new runs", fix="start it again")
        self.describe(request)
        request.queued_at = time.time()
        with self._db:
            entry = self.schedules.enqueue(request.to_dict())
        with self._cond:
            self._queue.append((entry, request))
            self._cond.notify_all()
        if self.metrics is not None:
            self.metrics.queue_changed(self.queue_length())
        return request

    def busy_with(self, *, schedule_id: str | None = None, run_id: str | None = None) -> bool:
        """True while a run of this schedule (or this run) is queued or running."""
        with self._cond:
            requests = [r for _, r in self._queue] + [a.request for a in self._active.values()]
        return any((schedule_id and r.schedule_id == schedule_id) or (run_id and r.run_id == run_id) for r in requests)

    def queue_length(self) -> int:
        with self._cond:
            return len(self._queue)

    def active(self) -> list[dict]:
        with self._cond:
            return [{"run_id": a.request.run_id, "bot": a.request.bot_name, "trigger": a.request.trigger,
                     "started": a.started, "pid": a.proc.pid, "capabilities": a.request.capabilities}
                    for a in self._active.values()]

    def queued(self) -> list[dict]:
        with self._cond:
            return [{"run_id": r.run_id, "bot": r.bot_name, "action": r.action, "trigger": r.trigger,
                     "queued_at": r.queued_at} for _, r in self._queue]

    def cancel(self, run_id: str) -> bool:
        """Stop a run of this service: a queued one leaves the queue, a running one is told to stop."""
        with self._cond:
            for i, (entry, r) in enumerate(self._queue):
                if r.run_id == run_id:
                    del self._queue[i]
                    with self._db:
                        self.schedules.dequeue(entry)
                    return True
            for a in self._active.values():
                if a.request.run_id == run_id:
                    a.stopping = "cancel"
                    _terminate(a.proc)
                    return True
        return False

    def stop(self, grace: float = 30.0) -> None:
        """Graceful shutdown: take no new runs, let running ones finish within ``grace`` seconds,
        then stop them with their state saved (they are queued to resume at the next start)."""
        self._accepting = False
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
            deadline = time.monotonic() + grace
            while self._active and time.monotonic() < deadline:
                self._cond.wait(min(0.2, max(0.0, deadline - time.monotonic())))
            for a in self._active.values():
                a.stopping = "shutdown"
                _terminate(a.proc)
            deadline = time.monotonic() + self.stop_grace
            while self._active and time.monotonic() < deadline:
                self._cond.wait(0.1)
            for a in self._active.values():
                _kill(a.proc)
        self._thread.join(timeout=5)

    # ------------------------------------------------------------ deciding
    def describe(self, request: RunRequest) -> None:
        """Fill in what the dispatcher needs to know of the bot: its capabilities, screen, policies."""
        from ..engine.runs import new_run_id

        if request.action == "start":
            bot = self.runner.load_bot(request.bot)  # a bad bot is refused now, clearly, not in a worker
            request.run_id = request.run_id or new_run_id()
        else:
            store = self.runner.store()
            try:
                run_id = store.resolve(request.run_id)
                row = store.run_row(run_id)
            finally:
                store.close()
            request.run_id = run_id
            bot = self.runner.load_text(row["bot_snapshot"], row["bot_path"] or row["bot_name"])
        doc = bot.doc
        request.bot_name = doc.name
        types = {spec.type for flow in doc.flows().values() for spec in flow.nodes.values()}
        request.capabilities = sorted({cap for prefix, cap in CAPABILITIES.items()
                                       if any(t.startswith(prefix) for t in types)})
        desktop = doc.settings.get("desktop") or {}
        request.screen = desktop.get("screen") if "desktop" in request.capabilities else None
        policy = doc.settings.get("runner") or {}
        request.on_crash = policy.get("on_crash", "resume")
        if request.time_limit is None and policy.get("time_limit"):
            request.time_limit = float(policy["time_limit"])

    def _fits(self, request: RunRequest) -> bool:
        if len(self._active) >= self.max_runs:
            return False
        running = [a.request for a in self._active.values()]
        for cap, limit in self.limits.items():
            if cap in request.capabilities and sum(cap in r.capabilities for r in running) >= limit:
                return False
        if "desktop" in request.capabilities:
            if self.displays is None:
                return not any("desktop" in r.capabilities for r in running)
            return self.displays.free(request.screen)
        return True

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    # the workers die with the thread that started them (PR_SET_PDEATHSIG): this thread
                    # stays until the last of them has ended
                    while self._active:
                        self._cond.wait(0.2)
                        self._check_deadlines()
                    return
                chosen = next((item for item in self._queue if self._fits(item[1])), None)
                if chosen is None:
                    self._cond.wait(0.5)
                    self._check_deadlines()
                    continue
                self._queue.remove(chosen)
            self._launch(*chosen)
            with self._cond:
                self._check_deadlines()

    def _check_deadlines(self) -> None:
        now = time.monotonic()
        for a in self._active.values():
            if a.deadline is not None and now > a.deadline and a.stopping is None:
                a.stopping = "time_limit"
                _terminate(a.proc)
            elif a.stopping == "time_limit" and a.deadline is not None and now > a.deadline + self.stop_grace:
                _kill(a.proc)

    # ------------------------------------------------------------ running
    def _launch(self, entry: int, request: RunRequest) -> None:
        env = dict(os.environ)
        env["BOTLOOM_HOME"] = str(self.runner.home)
        display = None
        if "desktop" in request.capabilities and self.displays is not None:
            try:
                display = self.displays.acquire(request.screen)
            except BotloomError as exc:
                self._refused(entry, request, exc)
                return
            env.update(display.env())
        payload = {**request.to_dict(), "home": str(self.runner.home)}
        err_path = self.runner.paths.logs / f"worker-{request.run_id}.err"
        from ..paths import private_open

        with private_open(err_path, "a", encoding="utf-8") as err:
            proc = subprocess.Popen([sys.executable, "-m", "botloom.runner.server.worker"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=err, env=env, start_new_session=True,
                                    preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        limit = request.time_limit if request.time_limit is not None else self.time_limit
        active = Active(request, entry, proc, time.time(), time.monotonic() + limit if limit else None, display)
        with self._cond:
            self._active[proc.pid] = active
        if self.metrics is not None:
            self.metrics.run_started(request)
            self.metrics.queue_changed(self.queue_length())
        proc.stdin.write(codec.to_json(payload).encode())
        proc.stdin.close()
        threading.Thread(target=self._read, args=(active,), name=f"botloom-worker-{proc.pid}", daemon=True).start()

    def _refused(self, entry: int, request: RunRequest, exc: BotloomError) -> None:
        with self._db:
            self.schedules.dequeue(entry)
        if self.on_finished is not None:
            self.on_finished(request, None)

    def _read(self, active: Active) -> None:
        for raw in active.proc.stdout:
            try:
                ev = codec.loads(raw)
            except ValueError:
                continue
            kind = ev.get("event") if isinstance(ev, dict) else None
            if kind == "node_finished" and not ev.get("replayed"):
                if active.first_step is None:
                    active.first_step = ev.get("started") or time.time()
                if self.metrics is not None:
                    self.metrics.step_finished(ev.get("type", ""), float(ev.get("duration") or 0.0), ev.get("state"))
            elif kind == "node_started" and active.first_step is None:
                active.first_step = ev.get("time") or time.time()
            elif kind == "run_finished":
                active.state = ev.get("state")
        code = active.proc.wait()
        self._finished(active, code)

    def _finished(self, active: Active, code: int) -> None:
        request = active.request
        state = self._store_state(request.run_id)
        if state == RunState.RUNNING:  # the worker died with its run in flight
            state = self._mark_crashed(request, active.stopping)
        with self._cond:
            self._active.pop(active.proc.pid, None)
            self._cond.notify_all()
        with self._db:
            self.schedules.dequeue(active.entry)
        if active.display is not None:
            self.displays.release(active.display)
        err = self.runner.paths.logs / f"worker-{request.run_id}.err"
        try:
            if err.stat().st_size == 0:  # kept only when the worker said something
                err.unlink()
        except OSError:
            pass
        if self.metrics is not None:
            self.metrics.run_finished(request, state, active)
        if active.stopping == "shutdown" and state in (RunState.CANCELLED, RunState.CRASHED):
            again = RunRequest("resume", run_id=request.run_id, trigger=request.trigger, file=request.file,
                               schedule_id=request.schedule_id, capabilities=request.capabilities,
                               screen=request.screen, on_crash=request.on_crash, bot_name=request.bot_name,
                               queued_at=time.time())
            with self._db:  # resumed when the service starts again
                self.schedules.enqueue(again.to_dict())
        elif state == RunState.CRASHED and active.stopping is None and request.on_crash == "resume" \
                and request.recoveries < self.max_recoveries:
            again = RunRequest("resume", run_id=request.run_id, trigger=request.trigger, file=request.file,
                               schedule_id=request.schedule_id, recoveries=request.recoveries + 1)
            try:
                self.submit(again)
            except BotloomError:
                pass
        else:
            self._file_done(request, state)
        if self.on_finished is not None:
            self.on_finished(request, state)

    def _store_state(self, run_id: str | None) -> str | None:
        if run_id is None:
            return None
        store = self.runner.store()
        try:
            row = store.conn.execute("SELECT state FROM runs WHERE id=?", (run_id,)).fetchone()
            return row[0] if row else None
        finally:
            store.close()

    def _mark_crashed(self, request: RunRequest, why: str | None) -> str:
        detail = {"time_limit": "stopped: it ran past its time limit and did not stop when told",
                  "shutdown": "stopped: the service shut down and the run did not stop in time",
                  "cancel": "stopped by a person and did not stop in time"}.get(why or "", "its worker process died")
        store = self.runner.store()
        try:
            store.set_state(request.run_id, RunState.CRASHED, detail, only_if=RunState.RUNNING)
        finally:
            store.close()
        return RunState.CRASHED

    def _file_done(self, request: RunRequest, state: str | None) -> None:
        """Move a watched folder's file to done/ or failed/ once its run has ended for good."""
        if not request.file or state in (RunState.SUSPENDED, RunState.NEEDS_ATTENTION):
            return
        target_dir = Path(request.file["done" if state == RunState.SUCCEEDED else "failed"])
        source = Path(request.file["path"])
        if source.exists():
            from .watch import move_into

            move_into(source, target_dir)


def _terminate(proc: subprocess.Popen) -> None:
    try:
        proc.send_signal(signal.SIGTERM)
    except OSError:
        pass


def _kill(proc: subprocess.Popen) -> None:
    try:
        proc.kill()
    except OSError:
        pass


def _die_with_parent() -> None:
    """In the worker, before exec: receive SIGKILL when the service dies, so no run goes on unseen
    (its journal shows it in flight; start-up recovery continues it)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


__all__ = ["Active", "CAPABILITIES", "Dispatcher", "RunRequest"]
