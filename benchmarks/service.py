"""Botloom runner service benchmarks, with plain APScheduler measured as the peer in the same run.

    .venv/bin/python benchmarks/service.py            # full run (about two minutes)
    .venv/bin/python benchmarks/service.py --quick    # smoke run (about half a minute)
    .venv/bin/python benchmarks/service.py --json results.json

What is measured, each on a real `botloom runner serve` process in a throw-away data folder:

(a) Start-up with 1,000 schedules (daily cron, in five time zones): the wall time from spawning
    the process to its API answering /health, with none (a restart on an existing store), then
    with 1,000 at the first start (the scheduler writes a job for each) and at a restart (the
    jobs are read back).
(b) Lag from a schedule's fire time to its bot's first step (the first step's start in the run
    store minus the fire time the scheduler recorded), P50 and P99 over interval fires of one
    second; it includes the worker process's start (no warm pool).
(c) The scheduler's own fire lag (fire time to the run queued, as the service records it),
    against a plain APScheduler BackgroundScheduler with the same kind of SQLite job store and
    a trivial interval job, run at the same time in this process.
(d) The idle service (with the 1,000 schedules, nothing due): resident memory and CPU share
    over an idle window, against a plain APScheduler process holding the same 1,000 jobs.

Prints the figures, ratios against the peer, and a "targets" block. The exit code is 0 whether
or not targets are met (it is a report); non-zero only if a measurement broke.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

from _common import arguments, percentile, print_targets, tiny_bot, write_json

FULL = {"schedules": 1000, "fires": 40, "idle_seconds": 20.0, "starts": 3}
QUICK = {"schedules": 100, "fires": 5, "idle_seconds": 3.0, "starts": 1}
TARGETS = {"lag_p99": 1.0, "rss_mb": 150.0, "cpu_pct": 1.0}
ZONES = ("UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney")


class Serve:
    """A `botloom runner serve` child on a data folder."""

    def __init__(self, home: Path, settings: dict):
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        (home / "settings.json").write_text(json.dumps({"service.port": 0, **settings}), encoding="utf-8")
        self.proc: subprocess.Popen | None = None
        self.client = None

    def start(self) -> float:
        from botloom.runner.server.client import Client

        t0 = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-m", "botloom.runner.cli", "runner", "serve"],
                                     env={**os.environ, "BOTLOOM_HOME": str(self.home)},
                                     stdout=subprocess.DEVNULL, stderr=open(self.home / "serve.err", "ab"))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the service exited: {(self.home / 'serve.err').read_text()[-2000:]}")
            client = Client.find(self.home)
            if client is not None and client.state.get("pid") == self.proc.pid:
                try:
                    client.call("GET", "/health")
                except Exception:
                    time.sleep(0.01)
                    continue
                self.client = client
                return time.perf_counter() - t0
            time.sleep(0.01)
        raise RuntimeError("the service did not start within 120 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def add_schedules(home: Path, bot: Path, n: int) -> None:
    """n daily cron schedules written straight into the store (as `botloom schedule add` does offline)."""
    from botloom.runner.server.schedules import ScheduleStore, make_schedule
    from botloom.runner.store.db import connect

    store = ScheduleStore(connect(home / "runs.sqlite"))
    try:
        for i in range(n):
            store.add(make_schedule(str(bot), cron=f"{i % 60} {i % 24} * * *", timezone_name=ZONES[i % len(ZONES)],
                                    name=f"daily-{i:04d}"))
    finally:
        store.conn.close()


# ---------------------------------------------------------------- (a) start-up
def timed_starts(serve: Serve, n: int) -> list[float]:
    times = []
    for _ in range(n):
        times.append(serve.start())
        serve.stop()
    return times


def startup(cfg: dict, work: Path, bot: Path) -> dict:
    """Median of ``starts`` starts each (the machine may be busy): none, 1,000 at the first start
    (once: it writes the jobs), 1,000 at a restart. The loaded service is left running for (d)."""
    empty = Serve(work / "empty", {})
    timed_starts(empty, 1)  # untimed: creates the store
    t_empty = timed_starts(empty, cfg["starts"])
    home = work / "loaded"
    Serve(home, {})  # writes the settings
    add_schedules(home, bot, cfg["schedules"])
    first = Serve(home, {})
    t_first = first.start()
    listed = first.client.call("GET", "/schedules")
    first.stop()
    if len(listed) != cfg["schedules"] or not all(s["next_fire"] for s in listed):
        raise RuntimeError(f"the service lists {len(listed)} schedules with next fire times, not {cfg['schedules']}")
    again = Serve(home, {})
    t_again = timed_starts(again, cfg["starts"] - 1) + [again.start()]
    return {"empty_s": statistics.median(t_empty), "first_s": t_first, "restart_s": statistics.median(t_again),
            "empty_all": t_empty, "restart_all": t_again, "schedules": cfg["schedules"], "serve": again}


# ---------------------------------------------------------------- (b), (c) lag, with the peer alongside
class PlainAPScheduler:
    """The peer: a BackgroundScheduler with an SQLAlchemy SQLite job store and a trivial interval job."""

    def __init__(self, path: Path, interval: float):
        from apscheduler.events import EVENT_JOB_SUBMITTED
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        self.lags: list[float] = []
        self.scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{path}")})
        self.scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        self._pending: dict[str, list] = {}
        self._lock = threading.Lock()
        self.scheduler.start()
        self.scheduler.add_job(f"{__name__}:trivial_job", IntervalTrigger(seconds=interval), id="peer",
                               args=[], max_instances=100, replace_existing=True)

    def _submitted(self, event) -> None:
        now = time.time()
        for run_time in event.scheduled_run_times:
            self.lags.append(now - run_time.timestamp())

    def stop(self) -> None:
        self.scheduler.shutdown(wait=True)


def trivial_job() -> None:
    pass


def lag(cfg: dict, work: Path, bot: Path) -> dict:
    home = work / "lag"
    serve = Serve(home, {})
    serve.start()
    peer = PlainAPScheduler(work / "peer.sqlite", 1.0)
    try:
        made = serve.client.call("POST", "/schedules", {"bot": str(bot), "every": "1s", "name": "tick", "overlap": True})
        deadline = time.monotonic() + cfg["fires"] * 3 + 60
        conn = sqlite3.connect(home / "runs.sqlite", timeout=30)
        rows: list = []
        while time.monotonic() < deadline:
            rows = conn.execute(
                "SELECT f.scheduled_at, f.fired_at, (SELECT MIN(n.started_at) FROM node_runs n WHERE n.run_id=f.run_id) "
                "FROM service_fires f WHERE f.schedule_id=? AND f.outcome='started' ORDER BY f.scheduled_at",
                (made["id"],)).fetchall()
            if len([r for r in rows if r[2] is not None]) >= cfg["fires"]:
                break
            time.sleep(0.25)
        serve.client.call("DELETE", f"/schedules/{made['id']}")
        conn.close()
    finally:
        peer.stop()
        serve.stop()
    done = [r for r in rows if r[2] is not None][:cfg["fires"]]
    if len(done) < cfg["fires"]:
        raise RuntimeError(f"only {len(done)} of {cfg['fires']} fires reached their first step")
    first_step = [step - at for at, _, step in done]
    fire = [fired - at for at, fired, _ in done]
    peer_lags = peer.lags[:len(done)] or [float("nan")]
    return {"n": len(done), "first_step_p50": percentile(first_step, 50), "first_step_p99": percentile(first_step, 99),
            "fire_p50": percentile(fire, 50), "fire_p99": percentile(fire, 99),
            "peer_n": len(peer.lags), "peer_p50": percentile(peer_lags, 50), "peer_p99": percentile(peer_lags, 99)}


# ---------------------------------------------------------------- (d) idle
PEER_IDLE = textwrap.dedent("""
    import sys, time
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    zones = {zones!r}
    s = BackgroundScheduler(jobstores={{"default": SQLAlchemyJobStore(url="sqlite:///" + sys.argv[1])}})
    s.start()
    for i in range({n}):
        s.add_job("time:sleep", CronTrigger(minute=i % 60, hour=i % 24, timezone=zones[i % len(zones)]), args=[0],
                  id=f"daily-{{i}}", replace_existing=True)
    print("ready", flush=True)
    time.sleep(3600)
""")


def sample(pid: int, seconds: float) -> dict:
    """RSS (MB) at the end and CPU share (%) over ``seconds`` of one process, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    def rss() -> float:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    c0, t0 = cpu(), time.monotonic()
    time.sleep(seconds)
    c1, t1 = cpu(), time.monotonic()
    return {"rss_mb": rss(), "cpu_pct": 100 * (c1 - c0) / (t1 - t0)}


def idle(cfg: dict, work: Path, serve: Serve) -> dict:
    peer = subprocess.Popen([sys.executable, "-c", PEER_IDLE.format(zones=ZONES, n=cfg["schedules"]),
                             str(work / "peer-idle.sqlite")], stdout=subprocess.PIPE, text=True)
    try:
        if peer.stdout.readline().strip() != "ready":
            raise RuntimeError("the plain APScheduler process did not start")
        time.sleep(2.0)  # both settle (the service's start-up retention pass, imports)
        results: dict = {}

        def measure(name, pid):
            results[name] = sample(pid, cfg["idle_seconds"])

        threads = [threading.Thread(target=measure, args=("service", serve.proc.pid)),
                   threading.Thread(target=measure, args=("peer", peer.pid))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        peer.kill()
        peer.wait()
    return {**results, "seconds": cfg["idle_seconds"]}


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    args = arguments(__doc__.splitlines()[0]).parse_args(argv)
    cfg = QUICK if args.quick else FULL
    from apscheduler import __version__ as aps_version

    from botloom.runner import __version__

    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
               "botloom": __version__, "apscheduler": aps_version, "load_before": loadavg()}
    print("Botloom runner service benchmark" + (" (--quick: smoke run, figures not meaningful)" if args.quick else ""))
    print(f"machine: {machine['cpus']} CPUs, Python {machine['python']}, {machine['platform']}, "
          f"load {machine['load_before']}")
    print(f"versions: botloom {machine['botloom']}, APScheduler {machine['apscheduler']}")
    with tempfile.TemporaryDirectory(prefix="botloom-bench-") as tmp:
        work = Path(tmp)
        bot = tiny_bot(work)
        s = startup(cfg, work, bot)
        serve = s.pop("serve")
        try:
            d = idle(cfg, work, serve)
        finally:
            serve.stop()
        lg = lag(cfg, work, bot)
    machine["load_after"] = loadavg()
    n = s["schedules"]
    print(f"\n(a) start-up, spawn to /health answering (median of {cfg['starts']}): no schedules {s['empty_s']:.2f} s; "
          f"{n} schedules {s['first_s']:.2f} s at the first start (jobs written), {s['restart_s']:.2f} s at a "
          f"restart ({s['restart_s'] - s['empty_s']:+.2f} s for the {n})")
    print(f"(b) fire time -> bot's first step, {lg['n']} interval fires: P50 {lg['first_step_p50'] * 1000:.0f} ms, "
          f"P99 {lg['first_step_p99'] * 1000:.0f} ms (a new worker process each)")
    ratio = lg["fire_p50"] / lg["peer_p50"] if lg["peer_p50"] > 0 else float("nan")
    print(f"(c) scheduler fire lag: botloom (fire -> run queued) P50 {lg['fire_p50'] * 1000:.1f} ms, P99 "
          f"{lg['fire_p99'] * 1000:.1f} ms; plain APScheduler (fire -> job submitted, {lg['peer_n']} fires) P50 "
          f"{lg['peer_p50'] * 1000:.1f} ms, P99 {lg['peer_p99'] * 1000:.1f} ms; ratio P50 {ratio:.1f}x")
    sv, pr = d["service"], d["peer"]
    print(f"(d) idle over {d['seconds']:.0f} s with {n} schedules: service RSS {sv['rss_mb']:.0f} MB, CPU "
          f"{sv['cpu_pct']:.2f} %; plain APScheduler process RSS {pr['rss_mb']:.0f} MB, CPU {pr['cpu_pct']:.2f} % "
          f"(ratio RSS {sv['rss_mb'] / pr['rss_mb']:.1f}x)")
    print(f"load average after: {machine['load_after']}")
    targets = [(f"fire -> first step P99 <= {TARGETS['lag_p99']:g} s ({lg['first_step_p99']:.3f} s)",
                lg["first_step_p99"] <= TARGETS["lag_p99"]),
               (f"idle RSS <= {TARGETS['rss_mb']:g} MB ({sv['rss_mb']:.0f} MB)", sv["rss_mb"] <= TARGETS["rss_mb"]),
               (f"idle CPU <= {TARGETS['cpu_pct']:g} % ({sv['cpu_pct']:.2f} %)", sv["cpu_pct"] <= TARGETS["cpu_pct"])]
    print_targets(targets)
    write_json(args.json, {"machine": machine, "config": cfg, "startup": s, "lag": lg, "idle": d,
                           "targets": [{"target": label, "pass": ok} for label, ok in targets]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
