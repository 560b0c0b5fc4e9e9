"""Fleet mode inside the runner service (``botloom runner serve --fleet HOST:PORT``).

:class:`FleetDispatch` runs this machine's :class:`~.worker.FleetWorker` and a client on one
asyncio loop on a thread of the service. In fleet mode every run the service would start or
resume (the API, schedules, webhooks, watched folders, queue triggers all go through
``Service.start_run`` / ``Service.resume``) is handed to Temporal instead of the local
dispatcher, so it runs on whichever runner has what the bot needs; the run id the service
answers with names the run on every runner. ``runs()`` is what ``GET /fleet/runs`` shows.
The service's cron and interval schedules become Temporal Schedules (``schedule``): they fire
once for the whole fleet, whichever runners are up; folder watches, webhooks and queue
triggers stay with the machine where their events happen.
"""

from __future__ import annotations

import asyncio
import threading

from . import FleetError, require
from .worker import FleetConfig, FleetWorker

START_SECONDS = 30.0


class FleetDispatch:
    def __init__(self, runner, config: FleetConfig):
        require()
        self.runner, self.config = runner, config
        self.loop = asyncio.new_event_loop()
        self.worker = FleetWorker(config, runner)
        self.client = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failed: BaseException | None = None

    def start(self) -> "FleetDispatch":
        self._thread = threading.Thread(target=self._serve, name="botloom-fleet", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_SECONDS) and self._failed is None:
            raise FleetError(f"the fleet worker did not start within {START_SECONDS:g} s", where="--fleet",
                             fix=f"check that the Temporal server at {self.config.address} answers")
        if self._failed is not None:
            raise self._failed
        return self

    def _serve(self) -> None:
        from .client import FleetClient

        asyncio.set_event_loop(self.loop)

        async def main():
            self.client = await FleetClient.connect(self.config, self.runner)
            await self.worker.run(ready=self._ready.set)

        try:
            self.loop.run_until_complete(main())
        except BaseException as exc:  # said by start(), or in the service's log once it runs
            self._failed = exc
            self._ready.set()

    def _call(self, coro, timeout: float = 60.0):
        if self.client is None or self._failed is not None:
            raise FleetError("the fleet connection is not up", where="--fleet",
                             fix=f"check the Temporal server at {self.config.address}, then restart the service")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def submit(self, request):
        """Start a :class:`~botloom.runner.server.dispatcher.RunRequest` on the fleet (``start``)
        or answer its run (``resume``); returns the request with its run id."""
        from ..engine.runs import new_run_id

        if request.action == "resume":
            self._call(self.client.answer(request.run_id, data=request.data, action=request.decision,
                                          by=request.by))
            return request
        request.run_id = request.run_id or new_run_id()
        self._call(self.client.start(request.bot, request.inputs, trigger=request.trigger, run_id=request.run_id))
        return request

    def cancel(self, run_id: str, by: str | None = None) -> bool:
        self._call(self.client.cancel(run_id, by))
        return True

    # the service's cron and interval schedules, as Temporal Schedules (they fire once for the fleet)
    def schedule(self, sched, *, existing_ok: bool = False) -> None:
        spec = sched.spec
        try:
            self._call(self.client.schedule(sched.name, sched.bot, sched.inputs, cron=spec.get("cron"),
                                            every=spec.get("seconds") if sched.kind == "interval" else None,
                                            timezone=spec.get("timezone"), overlap=sched.overlap))
        except FleetError as exc:
            if not (existing_ok and "already has a schedule" in exc.message):
                raise
        if sched.paused:
            self._call(self.client.pause_schedule(sched.name, True))

    def pause_schedule(self, name: str, paused: bool) -> None:
        self._call(self.client.pause_schedule(name, paused))

    def unschedule(self, name: str) -> None:
        self._call(self.client.unschedule(name))

    def next_fires(self) -> dict[str, list[float]]:
        return {row["name"]: row["next"] for row in self._call(self.client.schedules())}

    def runs(self, limit: int = 50) -> list[dict]:
        return self._call(self.client.runs(limit))

    def stop(self) -> None:
        if self._thread is None:
            return
        self.loop.call_soon_threadsafe(self.worker.stop)
        self._thread.join(30)


__all__ = ["FleetDispatch"]
