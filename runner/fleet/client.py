"""Starting, answering and listing the fleet's runs, from any machine.

:class:`FleetClient` wraps a Temporal client with the codec's data converter. ``start`` loads
and validates the bot here (a bad bot is refused before anything is queued), works out the
queue from what the bot needs (:mod:`.routing`) and starts a ``BotRun`` workflow whose id is
the run id, so a run id names the same run on every runner. ``answer`` signals a waiting run
(a signal's data, retry/skip), ``cancel`` stops one wherever it is, ``runs`` lists them through Temporal's visibility and ``status``
lists the runners that poll the fleet's queues.
"""

from __future__ import annotations

import os
from datetime import timedelta

from . import FleetError
from .routing import WORKFLOW_QUEUE, needs_of, run_queue
from .worker import FleetConfig, connect

HEARTBEAT_SECONDS = 10.0
SEEN_SECONDS = 90.0  # a live runner polls at least this often (long polls last a minute)


class FleetClient:
    def __init__(self, client, runner=None):
        self.client, self.runner = client, runner

    @classmethod
    async def connect(cls, config: FleetConfig, runner=None) -> "FleetClient":
        return cls(await connect(config), runner)

    def _spec(self, path, inputs, *, trigger: str, heartbeat: float, run_id: str | None, from_text: bool) -> dict:
        """What a BotRun workflow is started with: the bot as it is now, its inputs, its queue."""
        from ..engine.runs import bind_inputs
        from ..runtime import Runner

        runner = self.runner or Runner()
        bot = runner.load_bot(path)
        values = bind_inputs(bot.doc.main.inputs, inputs, from_text=from_text, where=bot.doc.label)
        needs, pin = needs_of(bot.doc)
        return {"run_id": run_id, "bot_name": bot.doc.name, "bot_path": os.path.abspath(path), "bot_text": bot.text,
                "bot_hash": bot.digest, "inputs": values, "trigger": trigger, "needs": needs, "pin": pin,
                "queue": run_queue(needs, pin), "heartbeat": heartbeat}

    async def start(self, path: str | os.PathLike, inputs: dict | None = None, *, trigger: str = "fleet",
                    heartbeat: float = HEARTBEAT_SECONDS, run_id: str | None = None, from_text: bool = False) -> str:
        from ..engine.runs import new_run_id

        spec = self._spec(path, inputs, trigger=trigger, heartbeat=heartbeat, run_id=run_id or new_run_id(),
                          from_text=from_text)
        await self.client.start_workflow("BotRun", spec, id=spec["run_id"], task_queue=WORKFLOW_QUEUE,
                                         memo={"bot": spec["bot_name"], "queue": spec["queue"], "trigger": trigger})
        return spec["run_id"]

    async def schedule(self, name: str, path: str | os.PathLike, inputs: dict | None = None, *,
                       cron: str | None = None, every: float | None = None, timezone: str | None = None,
                       overlap: bool = False, heartbeat: float = HEARTBEAT_SECONDS) -> str:
        """A Temporal Schedule that starts a run of the bot (as it is now) by cron or interval: it
        fires once for the whole fleet, whichever runners are up. Each run's id is the
        schedule's workflow id (``fleet-NAME-`` and the fire time)."""
        from temporalio.client import (Schedule, ScheduleActionStartWorkflow, ScheduleAlreadyRunningError,
                                       ScheduleIntervalSpec, ScheduleOverlapPolicy, SchedulePolicy, ScheduleSpec)

        if (cron is None) == (every is None):
            raise FleetError("a fleet schedule needs exactly one of a cron expression and an interval",
                             where=f"schedule '{name}'", fix="give --cron '0 7 * * MON-FRI' or --every 15m")
        spec = self._spec(path, inputs, trigger=f"schedule:{name}", heartbeat=heartbeat, run_id=None, from_text=False)
        when = ScheduleSpec(cron_expressions=[cron] if cron else [], time_zone_name=timezone,
                            intervals=[ScheduleIntervalSpec(every=timedelta(seconds=every))] if every else [])
        action = ScheduleActionStartWorkflow("BotRun", spec, id=f"fleet-{name}", task_queue=WORKFLOW_QUEUE,
                                             memo={"bot": spec["bot_name"], "queue": spec["queue"],
                                                   "trigger": spec["trigger"]})
        policy = SchedulePolicy(overlap=ScheduleOverlapPolicy.ALLOW_ALL if overlap else ScheduleOverlapPolicy.SKIP)
        try:
            await self.client.create_schedule(f"fleet-{name}", Schedule(action=action, spec=when, policy=policy))
        except ScheduleAlreadyRunningError:
            raise FleetError(f"the fleet already has a schedule named '{name}'", where=f"schedule '{name}'",
                             fix=f"remove it first (`botloom fleet schedule remove {name}`) or pick another name") from None
        return f"fleet-{name}"

    async def schedules(self) -> list[dict]:
        out = []
        async for entry in await self.client.list_schedules():
            if entry.id.startswith("fleet-"):
                info = entry.info
                out.append({"name": entry.id[len("fleet-"):], "next": [t.timestamp() for t in
                                                                       (info.next_action_times if info else [])][:3],
                            "recent": [a.action.workflow_id for a in (info.recent_actions if info else [])][-3:]})
        return out

    async def pause_schedule(self, name: str, paused: bool) -> None:
        from temporalio.service import RPCError

        handle = self.client.get_schedule_handle(f"fleet-{name}")
        try:
            await (handle.pause() if paused else handle.unpause())
        except RPCError as exc:
            raise FleetError(f"cannot {'pause' if paused else 'resume'} the fleet schedule '{name}': {exc.message}",
                             fix="`botloom fleet schedule list` lists them") from None

    async def unschedule(self, name: str) -> None:
        from temporalio.service import RPCError

        try:
            await self.client.get_schedule_handle(f"fleet-{name}").delete()
        except RPCError as exc:
            raise FleetError(f"cannot remove the fleet schedule '{name}': {exc.message}",
                             fix="`botloom fleet schedule list` lists them") from None

    async def result(self, run_id: str, timeout: float | None = None) -> dict:
        import asyncio

        handle = self.client.get_workflow_handle(run_id)
        return await asyncio.wait_for(handle.result(), timeout)

    async def status_of(self, run_id: str) -> dict:
        return await self.client.get_workflow_handle(run_id).query("status")

    async def answer(self, run_id: str, *, data: dict | None = None, action: str | None = None,
                     by: str | None = None) -> None:
        from temporalio.service import RPCError

        try:
            await self.client.get_workflow_handle(run_id).signal("answer", {"data": data, "action": action, "by": by})
        except RPCError as exc:
            raise FleetError(f"cannot answer run {run_id}: {exc.message}",
                             fix="`botloom fleet runs` lists the fleet's runs and which are waiting") from None

    async def cancel(self, run_id: str, by: str | None = None) -> None:
        """Stop a run of the fleet wherever it is (running, waiting or not yet taken)."""
        from temporalio.service import RPCError

        try:
            await self.client.get_workflow_handle(run_id).signal("cancel", {"by": by})
        except RPCError as exc:
            raise FleetError(f"cannot cancel run {run_id}: {exc.message}",
                             fix="`botloom fleet runs` lists the fleet's runs; a run that has ended cannot be "
                                 "cancelled") from None

    async def signal(self, run_id: str, name: str, data: dict | None = None, by: str | None = None) -> None:
        """What ``botloom signal RUN NAME`` does for a run of the fleet."""
        await self.answer(run_id, data={"signal": name, "data": data or {}}, by=by)

    async def runs(self, limit: int = 50) -> list[dict]:
        out = []
        async for wf in self.client.list_workflows("WorkflowType='BotRun'"):
            memo = await wf.memo()
            out.append({"id": wf.id, "bot": memo.get("bot"), "queue": memo.get("queue"),
                        "trigger": memo.get("trigger"), "status": wf.status.name.lower() if wf.status else None,
                        "started_at": wf.start_time.timestamp() if wf.start_time else None,
                        "ended_at": wf.close_time.timestamp() if wf.close_time else None})
            if len(out) >= limit:
                break
        return out

    async def status(self, queues: list[str] | None = None) -> dict:
        """The runners polling the fleet (identity and labels), per queue, and the runs open now."""
        from temporalio.api.enums.v1 import DescribeTaskQueueMode, TaskQueueType
        from temporalio.api.taskqueue.v1 import TaskQueue
        from temporalio.service import RPCError
        from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

        workers: dict[str, dict] = {}

        async def pollers(queue: str, kind) -> list:
            # A task queue has several partitions and a poll lands on any of them; the default ("legacy")
            # describe reports the root partition's pollers only, so a live runner can be missing from it.
            # The enhanced mode asks every partition; older servers without it get the root's list.
            def describe(**mode):
                return self.client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
                    namespace=self.client.namespace, task_queue=TaskQueue(name=queue), **mode))

            try:
                reply = await describe(api_mode=DescribeTaskQueueMode.DESCRIBE_TASK_QUEUE_MODE_ENHANCED,
                                       task_queue_types=[kind], report_pollers=True)
            except RPCError:
                return list((await describe(task_queue_type=kind)).pollers)
            seen: dict[str, object] = {}
            for version in reply.versions_info.values():
                for info in version.types_info.values():
                    for p in info.pollers:  # the latest poll of each runner
                        old = seen.get(p.identity)
                        if old is None or p.last_access_time.seconds > old.last_access_time.seconds:
                            seen[p.identity] = p
            return list(seen.values())

        import time

        for p in await pollers(WORKFLOW_QUEUE, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW):
            if time.time() - p.last_access_time.seconds > SEEN_SECONDS:
                continue  # the server keeps a poller a few minutes after it went away
            ident, _, labels = p.identity.partition(" labels=")
            workers[ident] = {"identity": ident, "labels": [x for x in labels.split(",") if x and x != "-"],
                              "queues": [], "last_poll": p.last_access_time.seconds}
        for queue in queues or []:
            for p in await pollers(queue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
                ident = p.identity.partition(" labels=")[0]
                if ident not in workers:
                    continue
                workers.setdefault(ident, {"identity": ident, "labels": [], "queues": []})["queues"].append(queue)
        running: dict[str, int] = {}
        count = 0
        async for wf in self.client.list_workflows("WorkflowType='BotRun' AND ExecutionStatus='Running'"):
            count += 1
            try:
                where = (await self.client.get_workflow_handle(wf.id).query("status")).get("worker")
            except Exception:
                where = None
            if where:
                running[where] = running.get(where, 0) + 1
        for ident, info in workers.items():
            info["load"] = running.get(ident, 0)
        return {"workers": sorted(workers.values(), key=lambda w: w["identity"]), "open_runs": count}


__all__ = ["HEARTBEAT_SECONDS", "FleetClient"]
