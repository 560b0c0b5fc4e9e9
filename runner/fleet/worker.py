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
    capacity: int = 8  # runs at once per queue
    tls: bool = False
    api_key: str | None = None

    def __post_init__(self):
        self.labels = check_labels(self.labels)
        self.name = (self.name or socket.gethostname().split(".")[0]).lower()
        if ":" not in self.address:
            raise FleetError(f"'{self.address}' is not HOST:PORT", where="fleet address",
                             fix="give the Temporal frontend, e.g. --fleet localhost:7233")

    @property
    def identity(self) -> str:
        return f"{self.name}-{os.getpid()}"


async def connect(config: FleetConfig):
    from temporalio.client import Client

    from .converter import DATA_CONVERTER

    try:
        return await Client.connect(config.address, namespace=config.namespace, data_converter=DATA_CONVERTER,
                                    tls=config.tls, api_key=config.api_key,
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
        from .workflow import BotRun

        client = await connect(self.config)
        self._stop = asyncio.Event()
        own = worker_queue(self.config.identity)
        self.segments = Segments(client, self.runner, self.config.identity, own)
        sandbox = SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules("botloom"))
        workers = [Worker(client, task_queue=WORKFLOW_QUEUE, workflows=[BotRun], workflow_runner=sandbox,
                          sticky_queue_schedule_to_start_timeout=timedelta(seconds=STICKY_SECONDS),
                          identity=f"{self.config.identity} labels={','.join(self.config.labels) or '-'}")]
        for queue in self.queues[1:]:
            workers.append(Worker(client, task_queue=queue, activities=[self.segments.run_segment],
                                  max_concurrent_activities=self.config.capacity,
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
    args = ap.parse_args(argv)
    try:
        config = FleetConfig(args.address, args.namespace, args.labels.split(","), args.name)
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
