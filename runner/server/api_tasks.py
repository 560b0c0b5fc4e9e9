"""The service API's human-task calls (added to the app by ``api.make_app``).

    GET  /tasks                   open tasks; ?state=&bot=&queue=&assignee=&older_than=&due_within= (seconds)
    GET  /tasks/figures           straight-through and intervention rates, review turnaround per bot
    GET  /tasks/{id}              one task with its form
    POST /tasks/{id}/complete     {"outcome", "values", "by"}: checked against the form and recorded in one
                                  transaction, then the run is resumed through the dispatcher (202)
    POST /tasks/{id}/assign       {"assignee", "queue"}

An answer that does not fit the form is a 400 saying which field and why; the task stays open.
A task completed twice: the second answer is a 400 naming who answered first.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field

from .. import codec
from ..errors import BotloomError
from ..store import tasks as store_tasks


class TaskAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(max_length=200)
    values: dict[str, Any] = Field(default_factory=dict)
    by: Optional[str] = Field(default=None, max_length=200)


class TaskAssignment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignee: Optional[str] = Field(default=None, max_length=200)
    queue: Optional[str] = Field(default=None, max_length=200)


def add_task_routes(app, service, auth) -> None:
    def with_store(fn):
        store = service.runner.store()
        try:
            return fn(store.conn)
        finally:
            store.close()

    @app.get("/tasks", dependencies=auth)
    def list_tasks(state: Optional[str] = "open", bot: Optional[str] = None, queue: Optional[str] = None,
                   assignee: Optional[str] = None, older_than: Optional[float] = None,
                   due_within: Optional[float] = None, limit: int = 200) -> list:
        found = with_store(lambda conn: store_tasks.find(conn, state=state or None, bot=bot, queue=queue,
                                                         assignee=assignee, older_than=older_than,
                                                         due_within=due_within, limit=limit))
        return codec.encode(found)

    @app.get("/tasks/figures", dependencies=auth)
    def task_figures(bot: Optional[str] = None, since: Optional[float] = None) -> dict:
        from ..tasks import figures

        return codec.encode(with_store(lambda conn: figures(conn, bot=bot, since=since)))

    @app.get("/tasks/{task_id}", dependencies=auth)
    def show_task(task_id: str) -> dict:
        return codec.encode(with_store(lambda conn: store_tasks.get(conn, store_tasks.resolve(conn, task_id))))

    @app.post("/tasks/{task_id}/complete", dependencies=auth, status_code=202)
    def complete_task(task_id: str, body: TaskAnswer) -> dict:
        task = with_store(lambda conn: store_tasks.complete(conn, store_tasks.resolve(conn, task_id), body.outcome,
                                                            codec.decode(body.values), body.by))
        done = {"task": task["id"], "outcome": task["outcome"], "run_id": task["run_id"], "queued": True}
        if service.dispatcher.busy_with(run_id=task["run_id"]):  # the due job took the answer up already
            return done
        try:
            service.resume(task["run_id"], data=store_tasks.answer(task), by=task["by"] or "review")
        except BotloomError as exc:  # recorded all the same: the due job resumes the run when it can
            return {**done, "queued": False, "note": f"the run is resumed later: {exc.message}"}
        return done

    @app.post("/tasks/{task_id}/assign", dependencies=auth)
    def assign_task(task_id: str, body: TaskAssignment) -> dict:
        task = with_store(lambda conn: store_tasks.assign(conn, store_tasks.resolve(conn, task_id),
                                                          assignee=body.assignee, queue=body.queue))
        return codec.encode({k: v for k, v in task.items() if k != "form"})
