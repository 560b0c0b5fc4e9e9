"""The service object: one per data folder, holding every part of ``botloom runner serve``.

Start-up, in order: take the data folder's service lock (a second service on one folder is
refused, naming the first); write the API token (0600) and ``service/service.json`` (pid, port)
so the CLI and the designer find it; recover (runs left running by a crash or power loss are
marked crashed and resumed from their journal or left for a person, by the bot's
``settings.runner.on_crash``); take up the queue the last service left; start the scheduler
(with its jobs for due timers, log retention and alerts), the folder watches and the control API.

Shutdown (SIGTERM, SIGINT, ``botloom runner stop``, the API): stop firing schedules and taking
runs, let running runs finish within ``service.shutdown_grace`` seconds, then stop them with their
state saved; they are queued to resume at the next start.
"""

from __future__ import annotations

import json
import os
import secrets as _secrets
import signal
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import BotloomError
from ..settings import DEFAULTS as _ALL_SETTINGS
from .dispatcher import Dispatcher, RunRequest
from .schedules import Schedule, ScheduleError, ScheduleStore

# The service's settings and their defaults: the ``service.*`` part of runner/settings.py's one list
# (so `botloom config service.max_runs 2` knows them).
DEFAULTS: dict[str, Any] = {k: v for k, v in _ALL_SETTINGS.items() if k.startswith("service.")}


class ServiceError(BotloomError):
    exit_code = 2


def service_dir(home: Path) -> Path:
    from ..paths import private_dir

    return private_dir(home / "service")


class Service:
    def __init__(self, runner=None, *, settings: dict | None = None):
        from ..runtime import Runner

        self.runner = runner or Runner()
        self.settings = {**DEFAULTS, **{k: v for k, v in self.runner.settings.items() if k.startswith("service.")},
                         **(settings or {})}
        self.folder = service_dir(self.runner.home)
        self.started_at = time.time()
        self.port: int | None = None
        self.scheduler_started_at: float | None = None
        self.token = ""
        self._stop = threading.Event()
        self._stopped = False
        self._lock_fd: int | None = None
        self._watches: dict[str, Any] = {}
        self.mail_polls: dict[str, float] = {}  # mail schedules: when each last looked (mail_trigger.py)
        self._api = None
        self.scheduler = None
        self.dispatcher: Dispatcher | None = None
        self.schedules: ScheduleStore | None = None
        self.displays = None
        self.metrics = None
        self.alerts = None  # runner/insight/alerts.py: the thresholds' check, its alerts for the metrics
        self.fleet = None  # runner/fleet/dispatch.py: in fleet mode (a service.fleet address) runs go through Temporal

    # ------------------------------------------------------------ life
    def start(self) -> "Service":
        from ..store.db import connect
        from .display import Displays
        from .metrics import Metrics
        from .scheduling import Scheduler

        self._take_lock()
        self.token = self._token()
        self.schedules = ScheduleStore(connect(self.runner.paths.store))
        self.metrics = Metrics(self.runner)
        self.displays = Displays(str(self.settings["service.virtual_display"]))
        self.dispatcher = Dispatcher(self.runner, self.schedules, metrics=self.metrics, displays=self.displays,
                                     settings=self.settings)
        self.dispatcher.start()
        if self.settings.get("service.fleet"):
            from ..fleet.dispatch import FleetDispatch
            from ..fleet.worker import FleetConfig

            get = self.settings.get
            labels = get("service.fleet_labels") or ()
            self.fleet = FleetDispatch(self.runner, FleetConfig(  # at most service.max_runs runs at once here too
                str(get("service.fleet")), str(get("service.fleet_namespace") or "default"),
                [x.strip() for x in (labels.split(",") if isinstance(labels, str) else labels) if x.strip()],
                capacity=max(1, int(get("service.max_runs") or 1)), tls=bool(get("service.fleet_tls")),
                tls_ca=get("service.fleet_tls_ca") or None, tls_cert=get("service.fleet_tls_cert") or None,
                tls_key=get("service.fleet_tls_key") or None,
                tls_server_name=get("service.fleet_tls_server_name") or None,
                api_key=os.environ.get("BOTLOOM_FLEET_API_KEY") or None)).start()
        self.recover()
        from ..insight.alerts import Watch

        self.alerts = Watch(self.runner, queue_length=lambda: len(self.dispatcher.queued()),
                            start=lambda bot, inputs: self.start_run(bot, inputs, trigger="alert"))
        self.metrics.alerts = self.alerts
        self.scheduler = Scheduler(self.runner.paths.store, self._on_fire, self._on_missed, self.resume_due,
                                   due_seconds=float(self.settings["service.due_seconds"]),
                                   on_retention=self.apply_retention,
                                   retention_seconds=float(self.settings["service.retention_seconds"]),
                                   on_alerts=self.check_alerts, alerts_seconds=float(
                                       self.settings.get("alerts.check_seconds")
                                       or self.runner.settings["alerts.check_seconds"]))
        all_schedules = self.schedules.all()
        # fire times before this one were missed while no service ran
        local = [sched for sched in all_schedules if not self._on_fleet(sched)]
        self.scheduler_started_at = self.scheduler.start(local)
        for sched in all_schedules:
            if self._on_fleet(sched):  # made on the fleet when added; again if the cluster lost it
                self.fleet.schedule(sched, existing_ok=True)
        for sched in all_schedules:
            if sched.kind == "watch" and not sched.paused:
                self._watch(sched)
        from .api import ApiServer

        self._api = ApiServer(self, str(self.settings["service.host"]), int(self.settings["service.port"]))
        self.port = self._api.start()
        self._write_state()
        return self

    def serve_forever(self) -> None:
        """Run until SIGTERM/SIGINT (or a stop through the API), then shut down gracefully."""
        def on_signal(signum, frame):
            self._stop.set()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not self._stop.wait(1.0):
                pass
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
            self.stop()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._stop.set()
        if self.scheduler is not None:
            self.scheduler.stop()
        for watch in self._watches.values():
            watch.stop()
        if self.fleet is not None:
            self.fleet.stop()
        if self.dispatcher is not None:
            self.dispatcher.stop(float(self.settings["service.shutdown_grace"]))
        if self.displays is not None:
            self.displays.stop()
        if self._api is not None:
            self._api.stop()
        try:
            (self.folder / "service.json").unlink()
        except OSError:
            pass
        if self.schedules is not None:
            self.schedules.conn.close()
        self._release_lock()

    def _take_lock(self) -> None:
        from ..filelock import try_lock
        from ..paths import private_fd

        fd = private_fd(str(self.folder / "service.lock"), os.O_RDWR | os.O_CREAT)
        if not try_lock(fd):
            os.close(fd)
            state = read_state(self.runner.home) or {}
            raise ServiceError(f"a Botloom service already runs on the data folder {self.runner.home}"
                               + (f" (process {state.get('pid')}, port {state.get('port')})" if state else ""),
                               fix="stop it first (`botloom runner stop`), or give this one another BOTLOOM_HOME")
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _token(self) -> str:
        from ..paths import private_open

        path = self.folder / "token"
        if path.exists():
            token = path.read_text(encoding="utf-8").strip()
            if token:
                return token
        token = _secrets.token_urlsafe(32)
        with private_open(path, "w", encoding="utf-8") as f:
            f.write(token + "\n")
        return token

    def _write_state(self) -> None:
        from ..paths import private_open

        tmp = self.folder / "service.json.tmp"
        with private_open(tmp, "w", encoding="utf-8") as f:
            json.dump({"pid": os.getpid(), "host": self.settings["service.host"], "port": self.port,
                       "version": __version__, "started_at": self.started_at,
                       "scheduler_started_at": self.scheduler_started_at}, f)
        os.replace(tmp, self.folder / "service.json")

    # ------------------------------------------------------------ recovery and timers
    def recover(self) -> list[str]:
        """Runs left running by a crash or power loss: marked crashed, then resumed from their
        journal or left for a person, by each bot's policy."""
        store = self.runner.store()
        try:
            crashed = store.detect_crashed()
        finally:
            store.close()
        if self.fleet is not None:  # a fleet's runs move and resume through Temporal, never from here
            return []
        resumed = []
        for run_id in crashed:
            if self.dispatcher.busy_with(run_id=run_id):
                continue  # its request is in the queue already
            request = RunRequest("resume", run_id=run_id, trigger="recovery", by="service")
            try:
                self.dispatcher.describe(request)
            except BotloomError:
                continue
            if request.on_crash == "resume":
                self.dispatcher.submit(request)
                resumed.append(run_id)
        return resumed

    def resume_due(self) -> None:
        from ..tasks import due_answers
        from .mail_trigger import fire_mail_triggers
        from .queue_trigger import fire_queue_triggers

        fire_queue_triggers(self)  # queue schedules: a run when items wait in their queue
        fire_mail_triggers(self)  # mail schedules: a run per new message
        if self.fleet is not None:  # in fleet mode waits are Temporal's signals and timers
            return

        answers = due_answers(self.runner)  # review tasks expired at their deadline, or answered but not resumed
        store = self.runner.store()
        try:
            due = list(dict.fromkeys([*answers, *store.due_runs()]))
        finally:
            store.close()
        for run_id in due:
            if not self.dispatcher.busy_with(run_id=run_id):
                data, by = answers.get(run_id, (None, "timer"))
                try:
                    self.dispatcher.submit(RunRequest("resume", run_id=run_id, trigger="timer", data=data, by=by))
                except BotloomError:
                    pass

    def apply_retention(self) -> list[str]:
        """The ``logs.*`` retention (age, count, size: read afresh, so `botloom config` applies at
        the next pass); the runs of this service that are running keep their logs and artifacts."""
        import logging

        doomed = self.runner.prune_logs(keep={a["run_id"] for a in self.dispatcher.active()})
        if doomed:
            logging.getLogger(__name__).info("retention: deleted the logs and artifacts of %d run(s)", len(doomed))
        return doomed

    def check_alerts(self) -> list:
        """The alert job: thresholds checked, new alerts logged (and the alert bot started), the
        ones that hold kept for the metrics' ``botloom_alert`` gauge."""
        import logging

        try:
            return self.alerts.check()
        except Exception as exc:  # a bad settings block or a busy store: said in the log, checked again later
            logging.getLogger(__name__).warning("alerts: the check failed: %s", exc)
            return []

    # ------------------------------------------------------------ runs
    def start_run(self, bot: str, inputs: dict | None = None, *, trigger: str = "api", **extra) -> RunRequest:
        submit = self.fleet.submit if self.fleet is not None else self.dispatcher.submit
        return submit(RunRequest("start", bot=str(Path(bot).expanduser().resolve()),
                                 inputs=dict(inputs or {}), trigger=trigger, **extra))

    def resume(self, run_id: str, *, decision: str | None = None, data: dict | None = None,
               by: str | None = None) -> RunRequest:
        submit = self.fleet.submit if self.fleet is not None else self.dispatcher.submit
        return submit(RunRequest("resume", run_id=run_id, decision=decision, data=data, by=by, trigger="api"))

    def webhook(self, name: str, body: dict) -> RunRequest:
        hooks = [s for s in self.schedules.all() if s.kind == "webhook" and s.spec.get("name") == name]
        if not hooks:
            raise ScheduleError(f"no webhook named '{name}'", fix="add one: botloom schedule add BOT --webhook NAME")
        sched = hooks[0]
        if sched.paused:
            raise ScheduleError(f"the webhook '{name}' is paused", fix=f"botloom schedule resume {sched.name}")
        if not isinstance(body, dict):
            raise ScheduleError("a webhook's body must be a JSON object of the bot's inputs",
                                fix='e.g. {"invoice": "INV-1", "amount": 12.5}')
        request = self.start_run(sched.bot, {**sched.inputs, **body}, trigger=f"webhook:{name}", schedule_id=sched.id)
        self.schedules.record_fire(sched.id, None, "started", run_id=request.run_id)
        return request

    def _on_fire(self, schedule_id: str, run_time: datetime) -> None:
        sched = self.schedules.find(schedule_id, missing_ok=True)
        if sched is None:
            return
        at = run_time.timestamp()
        if not sched.overlap and self.dispatcher.busy_with(schedule_id=sched.id):
            self.schedules.record_fire(sched.id, at, "skipped", "a run of this schedule is still queued or running")
            return
        try:
            request = self.start_run(sched.bot, sched.inputs, trigger=f"schedule:{sched.name}", schedule_id=sched.id,
                                     scheduled_at=at)
        except BotloomError as exc:
            self.schedules.record_fire(sched.id, at, "refused", exc.message)
            return
        self.schedules.record_fire(sched.id, at, "started", run_id=request.run_id)

    def _on_missed(self, schedule_id: str, run_time: datetime) -> None:
        self.schedules.record_fire(schedule_id, run_time.timestamp(), "missed",
                                   "later than its grace time (the service was down or busy)")

    def _on_file(self, sched: Schedule, claimed: Path) -> None:
        spec = sched.spec
        inputs = {**sched.inputs, spec.get("input") or "file": str(claimed)}
        file = {"path": str(claimed), "done": spec["done"], "failed": spec["failed"]}
        try:
            request = self.start_run(sched.bot, inputs, trigger=f"watch:{sched.name}", schedule_id=sched.id, file=file)
        except BotloomError as exc:
            from .watch import move_into

            move_into(claimed, Path(spec["failed"]))
            self.schedules.record_fire(sched.id, None, "refused", f"{claimed.name}: {exc.message}")
            return
        self.schedules.record_fire(sched.id, None, "started", claimed.name, run_id=request.run_id)

    def _watch(self, sched: Schedule) -> None:
        from .watch import FolderWatch

        watch = FolderWatch(sched, self._on_file)
        referenced = {str((r.get("file") or {}).get("path")) for _, r in self.schedules.queued()}
        for orphan in watch.orphans(referenced):
            self._on_file(sched, orphan)
        watch.start()
        self._watches[sched.id] = watch


    # ------------------------------------------------------------ schedules
    def _on_fleet(self, sched: Schedule) -> bool:
        """In fleet mode cron and interval schedules are Temporal Schedules (docs/fleet.md)."""
        return self.fleet is not None and sched.kind in ("cron", "interval")

    def add_schedule(self, sched: Schedule) -> Schedule:
        if self._on_fleet(sched):
            self.fleet.schedule(sched)  # refused (a name the fleet has) before it is stored
        self.schedules.add(sched)
        if sched.timed and not self._on_fleet(sched):
            self.scheduler.add(sched)
        elif sched.kind == "watch":
            self._watch(sched)
        return sched

    def remove_schedule(self, ref: str) -> Schedule:
        sched = self.schedules.remove(ref)
        if self._on_fleet(sched):
            self.fleet.unschedule(sched.name)
        self.scheduler.remove(sched.id)
        watch = self._watches.pop(sched.id, None)
        if watch is not None:
            watch.stop()
        return sched

    def pause_schedule(self, ref: str, paused: bool) -> Schedule:
        sched = self.schedules.set_paused(ref, paused)
        if self._on_fleet(sched):
            self.fleet.pause_schedule(sched.name, paused)
        elif sched.timed:
            (self.scheduler.pause if paused else self.scheduler.resume)(sched.id)
        elif sched.kind == "watch":
            watch = self._watches.pop(sched.id, None)
            if watch is not None:
                watch.stop()
            if not paused:
                self._watch(sched)
        return sched

    def list_schedules(self) -> list[dict]:
        out = []
        fleet_fires = self.fleet.next_fires() if self.fleet is not None else {}
        for sched in self.schedules.all():
            data = sched.to_dict()
            if self._on_fleet(sched):
                fires = fleet_fires.get(sched.name) or []
                data["on_fleet"] = True
                data["next_fire"] = (datetime.fromtimestamp(fires[0], timezone.utc).isoformat()
                                     if fires and not sched.paused else None)
                data["next_fires"] = [datetime.fromtimestamp(t, timezone.utc).isoformat() for t in fires]
                out.append(data)
                continue
            nxt = self.scheduler.next_fire(sched.id) if sched.timed else None
            data["next_fire"] = nxt.isoformat() if nxt else None
            data["next_fires"] = [t.isoformat() for t in sched.next_fire_times(5)] if sched.timed and not sched.paused \
                else []
            out.append(data)
        return out

    def health(self) -> dict:
        return {"status": "ok", "version": __version__, "pid": os.getpid(), "home": str(self.runner.home),
                "uptime": time.time() - self.started_at, "active": self.dispatcher.active(),
                "queued": self.dispatcher.queued(), "displays": self.displays.describe(),
                "schedules": len(self.schedules.all())}


def read_state(home: Path) -> dict | None:
    """The running service's pid and port for this data folder, or None when none runs."""
    path = Path(home) / "service" / "service.json"
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    try:
        os.kill(int(state["pid"]), 0)
    except (OSError, KeyError, ValueError, TypeError):
        return None
    return state



__all__ = ["DEFAULTS", "Service", "ServiceError", "read_state", "service_dir"]
