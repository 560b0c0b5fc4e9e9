"""The service's scheduler: APScheduler 3.x, its job store in the run store's SQLite file.

Every time-based schedule is an APScheduler job with the schedule's id, its trigger and its
misfire options (``coalesce``, ``misfire_grace_time``: see ``schedules.py``). The job store keeps
each job's next fire time, so after a restart the scheduler knows which fire times were missed
while the service was down and treats them by the schedule's policy.

Jobs are not run by calling a function: a small executor of our own (:class:`FireExecutor`)
takes each due fire time, applies the misfire grace exactly as APScheduler's executors do, and
hands ``(schedule id, scheduled time)`` to the service, which queues the run. So the scheduled
time of every run is known (the lag from it to the bot's first step is measured), and no
module-level state is needed to find the live service from a job.

Two more jobs of the service's own, in memory (not schedules: nothing to keep across restarts):
``due`` wakes suspended runs whose timer is due (``service.due_seconds``, default 2 s; the
systemd timer that ran ``botloom resume --due`` is no longer needed), and ``retention`` applies
the ``logs.*`` retention (age, count, size) at start and every ``service.retention_seconds``,
and ``alerts`` checks the alert thresholds (``runner/insight/alerts.py``) at start and every
``alerts.check_seconds``.
"""

from __future__ import annotations

import time

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Callable

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.base import BaseExecutor

JOB_FUNC = "botloom.runner.server.scheduling:scheduled_job"


def scheduled_job(schedule_id: str) -> None:
    """The reference stored with each job. Never called: :class:`FireExecutor` dispatches jobs."""
    raise RuntimeError(f"schedule {schedule_id} was run outside a Botloom service")


class FireExecutor(BaseExecutor):
    def __init__(self, on_fire: Callable[[str, datetime], None], on_missed: Callable[[str, datetime], None],
                 workers: int = 4):
        super().__init__()
        self.on_fire = on_fire
        self.on_missed = on_missed
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="botloom-fire")

    def _do_submit_job(self, job, run_times):
        self._pool.submit(self._fire, job, list(run_times))

    def _fire(self, job, run_times) -> None:
        events = []
        now = datetime.now(timezone.utc)
        for run_time in run_times:
            late = (now - run_time).total_seconds()
            if job.misfire_grace_time is not None and late > job.misfire_grace_time:
                events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, job._jobstore_alias, run_time))
                self._guard(self.on_missed, job.id, run_time)
                continue
            self._guard(self.on_fire, job.id, run_time)
            events.append(JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, job._jobstore_alias, run_time))
        self._run_job_success(job.id, events)

    def _guard(self, fn, job_id, run_time) -> None:
        try:
            fn(job_id, run_time)
        except Exception:  # one schedule's trouble must not stop the scheduler
            self._logger.exception("schedule %s could not start its run", job_id)

    def shutdown(self, wait=True):
        self._pool.shutdown(wait=wait)


def _store_sync(dbapi_connection, _record) -> None:
    """The job store's connections commit like the run store's own (runner/store/db.py): WAL with
    ``synchronous=NORMAL`` (one fsync per checkpoint, not per job written), FULL with
    ``BOTLOOM_STORE_SYNC=full``."""
    import os

    sync = "FULL" if os.environ.get("BOTLOOM_STORE_SYNC", "").lower() == "full" else "NORMAL"
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA synchronous={sync}")
    cursor.close()


LOOK_UP = object()


class Scheduler:
    def __init__(self, store_path, on_fire, on_missed, on_due, *, due_seconds: float = 2.0, on_retention=None,
                 retention_seconds: float = 3600.0, on_alerts=None, alerts_seconds: float = 300.0):
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        self.jobstore = SQLAlchemyJobStore(url=f"sqlite:///{store_path}",
                                           engine_options={"connect_args": {"timeout": 30}})
        from sqlalchemy import event

        event.listen(self.jobstore.engine, "connect", _store_sync)
        self.scheduler = BackgroundScheduler(
            jobstores={"default": self.jobstore, "memory": MemoryJobStore()},
            executors={"default": FireExecutor(on_fire, on_missed),
                       "service": FireExecutor(lambda job_id, _: self._service_jobs[job_id](), lambda *_: None, 2)},
            job_defaults={"max_instances": 1000}, timezone=timezone.utc)
        self.due_seconds = due_seconds
        self.retention_seconds = retention_seconds
        self.alerts_seconds = alerts_seconds
        self._service_jobs = {"due": on_due, "retention": on_retention, "alerts": on_alerts}

    def start(self, schedules) -> float:
        """Start, after making the job store agree with the schedules (a job per timed schedule,
        kept as it is when it exists already, so its missed fire times are still known).

        Returns the time the scheduler first looks at the jobs: fire times before it were missed."""
        from apscheduler.triggers.interval import IntervalTrigger

        self.scheduler.start(paused=True)
        wanted = {s.id: s for s in schedules if s.timed}
        jobs = {job.id: job for job in self.scheduler.get_jobs(jobstore="default")}  # one read, not one per job
        for job in jobs.values():
            if job.id not in wanted:
                job.remove()
        for sched in wanted.values():
            self.add(sched, keep=True, existing=jobs.get(sched.id))
        self.scheduler.add_job(JOB_FUNC, IntervalTrigger(seconds=self.due_seconds), args=["due"], id="due",
                               jobstore="memory", executor="service", coalesce=True, misfire_grace_time=None)
        if self._service_jobs["retention"] is not None:  # at start, then every retention_seconds
            self.scheduler.add_job(JOB_FUNC, IntervalTrigger(seconds=self.retention_seconds), args=["retention"],
                                   id="retention", jobstore="memory", executor="service", coalesce=True,
                                   misfire_grace_time=None, next_run_time=datetime.now(timezone.utc))
        if self._service_jobs["alerts"] is not None:  # at start, then every alerts_seconds
            self.scheduler.add_job(JOB_FUNC, IntervalTrigger(seconds=self.alerts_seconds), args=["alerts"],
                                   id="alerts", jobstore="memory", executor="service", coalesce=True,
                                   misfire_grace_time=None, next_run_time=datetime.now(timezone.utc))
        looks = time.time()
        self.scheduler.resume()
        return looks

    def add(self, sched, *, keep: bool = False, existing=LOOK_UP) -> None:
        """Make the schedule's job; ``keep``: leave the one there is as it is (``existing``: that job,
        or None for none, when the caller knows already)."""
        job = existing if existing is not LOOK_UP or not keep else self.scheduler.get_job(sched.id, jobstore="default")
        if job is None or not keep:
            self.scheduler.add_job(JOB_FUNC, sched.trigger(), args=[sched.id], id=sched.id, name=sched.name,
                                   jobstore="default", executor="default", replace_existing=True,
                                   **sched.job_options())
            job = self.scheduler.get_job(sched.id, jobstore="default")
        if job is None:  # a one-off date in the past: APScheduler drops it at once
            return
        if sched.paused and job.next_run_time is not None:
            job.pause()
        elif not sched.paused and job.next_run_time is None:
            job.resume()

    def remove(self, schedule_id: str) -> None:
        if self.scheduler.get_job(schedule_id, jobstore="default") is not None:
            self.scheduler.remove_job(schedule_id, jobstore="default")

    def pause(self, schedule_id: str) -> None:
        if self.scheduler.get_job(schedule_id, jobstore="default") is not None:
            self.scheduler.pause_job(schedule_id, jobstore="default")

    def resume(self, schedule_id: str) -> None:
        if self.scheduler.get_job(schedule_id, jobstore="default") is not None:
            self.scheduler.resume_job(schedule_id, jobstore="default")

    def next_fire(self, schedule_id: str) -> datetime | None:
        job = self.scheduler.get_job(schedule_id, jobstore="default")
        return job.next_run_time if job is not None else None

    def stop(self) -> None:
        self.scheduler.shutdown(wait=True)


__all__ = ["FireExecutor", "JOB_FUNC", "Scheduler", "scheduled_job"]
