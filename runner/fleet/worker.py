"""A runner as a Temporal worker: it polls its capability queues, its own queue and the workflow queue.

:class:`FleetWorker` connects to the Temporal server, then runs one Temporal ``Worker`` per
queue (Temporal routes by queue name; see :mod:`.routing`): the workflow queue (any runner
may run the deciding part of any run), the queue of every subset of its labels, its pinned
machine queue and its own queue. The runner's identity, ``NAME`` (default: the host name)
plus the process id, is what ``botloom fleet status`` shows with its labels.

``python -m botloom.runner.fleet.worker --address HOST:PORT --labels desktop,browser`` runs one
(``botloom runner serve --fleet`` runs the same inside the service).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from dataclasses import dataclass, field
from datetime import timedelta

from . import FleetError, require
from .routing import WORKFLOW_QUEUE, check_labels, polled_queues, worker_queue

# A runner keeps the runs it decides in memory (Temporal's sticky queue); when it dies, the next
# decision of its runs waits this long for it before any runner takes it from the history.
STICKY_SECONDS = 2.0


@dataclass
class FleetConfig:
    address: str = "localhost:7233"
    namespace: str = "default"
    labels: list[str] = field(default_factory=list)
    name: str = ""
    capacity: int = 8  # runs at once on this runner, over all its queues (the service: service.max_runs)
    tls: bool = False
    api_key: str | None = None
    tls_ca: str | None = None  # PEM files: the server's CA, and this runner's certificate and key (mutual TLS)
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_server_name: str | None = None

    def __post_init__(self):
        self.labels = check_labels(self.labels)
        if bool(self.tls_cert) != bool(self.tls_key):
            raise FleetError("mutual TLS needs both a client certificate and its key", where="fleet TLS",
                             fix="give --tls-cert and --tls-key together")
        self.name = (self.name or socket.gethostname().split(".")[0]).lower()
        if ":" not in self.address:
            raise FleetError(f"'{self.address}' is not HOST:PORT", where="fleet address",
                             fix="give the Temporal frontend, e.g. --fleet localhost:7233")

    @property
    def identity(self) -> str:
        return f"{self.name}-{os.getpid()}"


def tls_config(config: FleetConfig):
    """``True``/``False`` or a ``TLSConfig`` with the PEM files read (a missing or unreadable file
    is said with the option that named it)."""
    from pathlib import Path

    from temporalio.service import TLSConfig

    files = {}
    for option, name in (("--tls-ca", config.tls_ca), ("--tls-cert", config.tls_cert), ("--tls-key", config.tls_key)):
        if name:
            try:
                files[option] = Path(name).expanduser().read_bytes()
            except OSError as exc:
                raise FleetError(f"cannot read {option} '{name}': {exc.strerror or exc}", where="fleet TLS",
                                 fix="give the path of a PEM file this user can read") from None
    if not files and not config.tls_server_name:
        return config.tls
    return TLSConfig(server_root_ca_cert=files.get("--tls-ca"), client_cert=files.get("--tls-cert"),
                     client_private_key=files.get("--tls-key"), domain=config.tls_server_name)


async def connect(config: FleetConfig):
    from temporalio.client import Client

    from .converter import DATA_CONVERTER

    tls = tls_config(config)
    try:
        return await Client.connect(config.address, namespace=config.namespace, data_converter=DATA_CONVERTER,
                                    tls=tls, api_key=config.api_key,
                                    identity=f"{config.identity} labels={','.join(config.labels) or '-'}")
    except Exception as exc:  # a refused connection, a wrong namespace, TLS
        raise FleetError(f"cannot reach the Temporal server at {config.address} (namespace '{config.namespace}'): "
                         f"{exc}", where="fleet",
                         fix="start one (`botloom fleet dev` on this machine) or correct the address") from None


class FleetWorker:
    def __init__(self, config: FleetConfig, runner):
        require()
        self.config, self.runner = config, runner
        self.segments = None
        self._stop: asyncio.Event | None = None

    @property
    def queues(self) -> list[str]:
        return [WORKFLOW_QUEUE, *polled_queues(self.config.labels, self.config.name),
                worker_queue(self.config.identity)]

    async def run(self, ready=None) -> None:
        """Serve until :meth:`stop`; ``ready()`` is called once every queue is polled."""
        from temporalio.worker import Worker
        from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

        from .activities import Segments
        from .slots import MachineSlots, tuner
        from .workflow import BotRun

        client = await connect(self.config)
        self._stop = asyncio.Event()
        own = worker_queue(self.config.identity)
        self.segments = Segments(client, self.runner, self.config.identity, own, capacity=self.config.capacity)
        sandbox = SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules("botloom"))
        workers = [Worker(client, task_queue=WORKFLOW_QUEUE, workflows=[BotRun], workflow_runner=sandbox,
                          sticky_queue_schedule_to_start_timeout=timedelta(seconds=STICKY_SECONDS),
                          identity=f"{self.config.identity} labels={','.join(self.config.labels) or '-'}")]
        slots = MachineSlots(self.config.capacity)  # capacity runs at once over all of this runner's queues
        for queue in self.queues[1:]:
            workers.append(Worker(client, task_queue=queue, activities=[self.segments.run_segment], tuner=tuner(slots),
                                  identity=f"{self.config.identity} labels={','.join(self.config.labels) or '-'}"))
        runs = [asyncio.create_task(w.run()) for w in workers]
        if ready is not None:
            ready()
        stopped = asyncio.create_task(self._stop.wait())
        await asyncio.wait([stopped, *runs], return_when=asyncio.FIRST_COMPLETED)
        for w in workers:
            await w.shutdown()
        for task in runs:
            if task.done() and task.exception() and not stopped.done():
                raise task.exception()

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()


def main(argv: list[str] | None = None) -> int:
    from ..runtime import Runner

    ap = argparse.ArgumentParser(prog="botloom-fleet-worker")
    ap.add_argument("--address", default="localhost:7233")
    ap.add_argument("--namespace", default="default")
    ap.add_argument("--labels", default="")
    ap.add_argument("--name", default="")
    ap.add_argument("--home", default=None)
    ap.add_argument("--capacity", type=int, default=8, help="runs at once on this runner")
    from .cli import add_tls_arguments, tls_options

    add_tls_arguments(ap)
    args = ap.parse_args(argv)
    try:
        config = FleetConfig(args.address, args.namespace, args.labels.split(","), args.name, capacity=args.capacity,
                             **tls_options(args))
        worker = FleetWorker(config, Runner(args.home))
        asyncio.run(worker.run(ready=lambda: print(f"ready {config.identity}", flush=True)))
    except FleetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
