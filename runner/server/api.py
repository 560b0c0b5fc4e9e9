"""The service's local control API: FastAPI on 127.0.0.1 only, every call with the token.

The token is in ``service/token`` in the data folder (0600: readable by the folder's owner
alone); send it as ``Authorization: Bearer TOKEN``. The server binds the loopback address it
is given and refuses to bind any other (``service.host`` must be a loopback address), so it
cannot be reached from another machine. ``GET /openapi.json`` describes every call.

Errors come back as ``{"error": {"message", "where", "fix"}}`` with 400 (a request that cannot be
done as asked), 401 (no or a wrong token) or 404 (no such run or schedule).
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import time
from typing import Any, Literal, Optional

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import codec
from ..errors import BotloomError, StoreError
from .schedules import ScheduleError, make_schedule, parse_duration


class StartRun(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bot: str = Field(description="Path of the bot file on the service's machine")
    inputs: dict[str, Any] = Field(default_factory=dict)


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Optional[Literal["retry", "skip"]] = None
    data: Optional[dict[str, Any]] = None
    by: Optional[str] = Field(default=None, max_length=200)


class NewSchedule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bot: str
    name: Optional[str] = Field(default=None, max_length=200)
    cron: Optional[str] = Field(default=None, max_length=200)
    timezone: Optional[str] = Field(default=None, max_length=100)
    every: Optional[str] = Field(default=None, max_length=50, description="e.g. 30s, 15m, 2h")
    at: Optional[str] = Field(default=None, max_length=100, description="ISO 8601 date and time")
    watch: Optional[str] = None
    webhook: Optional[str] = Field(default=None, max_length=100)
    queue: Optional[str] = Field(default=None, max_length=500, description="a work queue: a run when items wait")
    mail: Optional[str] = Field(default=None, max_length=1000,
                                description="an IMAP folder, imaps://USER@HOST[:PORT]/FOLDER: a run per new message")
    mail_secret: Optional[str] = Field(default=None, max_length=200, description="the secret holding its password")
    mail_move_to: Optional[str] = Field(default=None, max_length=500,
                                        description="move each message there once its run has started")
    inputs: dict[str, Any] = Field(default_factory=dict)
    misfire: Literal["once", "skip", "catch_up"] = "once"
    grace: Optional[str] = Field(default=None, max_length=50)
    overlap: bool = False


def _error(status: int, exc: BotloomError) -> HTTPException:
    return HTTPException(status, {"message": exc.message, "where": exc.where, "fix": exc.fix})


def make_app(service) -> FastAPI:
    app = FastAPI(title="Botloom runner service", version="1", description=__doc__)

    def authorised(authorization: Optional[str] = Header(default=None)) -> None:
        expected = f"Bearer {service.token}"
        if authorization is None or not _same(authorization, expected):
            raise HTTPException(401, {"message": "a valid token is needed",
                                      "fix": "send 'Authorization: Bearer TOKEN'; the token is in the data folder's "
                                             "service/token file"})

    @app.exception_handler(StarletteHTTPException)  # FastAPI's own and Starlette's (a body it cannot parse, a 405)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, dict) else \
            {"message": str(exc.detail), "fix": "see /openapi.json for the calls and their fields"}
        return JSONResponse({"error": detail}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'body'}: {e.get('msg')}"
                             for e in exc.errors()[:5])
        return JSONResponse({"error": {"message": f"the request is not as this call takes it: {problems}",
                                       "fix": "see /openapi.json for the fields of each call"}}, status_code=422)

    @app.exception_handler(BotloomError)
    async def botloom_error(request: Request, exc: BotloomError):
        status = 404 if exc.message.startswith(("no run", "no schedule", "no webhook", "no task")) else 400
        return JSONResponse({"error": {"message": exc.message, "where": exc.where, "fix": exc.fix}}, status_code=status)

    auth = [Depends(authorised)]

    @app.get("/health", dependencies=auth)
    def health() -> dict:
        return codec.encode(service.health())

    @app.get("/runs", dependencies=auth)
    def list_runs(bot: Optional[str] = None, state: Optional[str] = None, limit: int = 50) -> list:
        limit = max(1, min(limit, 1000))
        sql, args = "SELECT id, bot_name, state, trigger, started_at, ended_at, steps FROM runs", []
        where = []
        if bot:
            where.append("bot_name = ?")
            args.append(bot)
        if state:
            where.append("state = ?")
            args.append(state)
        if where:
            sql += " WHERE " + " AND ".join(where)
        store = service.runner.store()
        try:
            rows = store.conn.execute(sql + " ORDER BY started_at DESC LIMIT ?", (*args, limit)).fetchall()
        finally:
            store.close()
        keys = ("id", "bot", "state", "trigger", "started_at", "ended_at", "steps")
        return [dict(zip(keys, r)) for r in rows]

    @app.get("/fleet/runs", dependencies=auth)
    def fleet_runs(limit: int = 50) -> list:
        """In fleet mode, the runs of every runner (Temporal's visibility), not only this one's."""
        if service.fleet is None:
            raise _error(409, BotloomError("this service is not in fleet mode",
                                           fix="start it with `botloom runner serve --fleet HOST:PORT`"))
        return service.fleet.runs(max(1, min(limit, 1000)))

    @app.post("/runs", dependencies=auth, status_code=202)
    def start_run(body: StartRun) -> dict:
        request = service.start_run(body.bot, codec.decode(body.inputs), trigger="api")
        return {"run_id": request.run_id, "queued": True}

    @app.get("/runs/{run_id}", dependencies=auth)
    def show_run(run_id: str) -> dict:
        store = service.runner.store()
        try:
            rid = store.resolve(run_id)
            row = store.run_row(rid)
            steps = store.conn.execute("SELECT seq, attempt, node_id, node_type, state, port, started_at, duration "
                                       "FROM node_runs WHERE run_id=? ORDER BY seq, entry", (rid,)).fetchall()
        finally:
            store.close()
        row.pop("bot_snapshot", None)
        keys = ("seq", "attempt", "node", "type", "state", "port", "started_at", "duration")
        return codec.encode({**row, "steps": [dict(zip(keys, s)) for s in steps]})

    @app.post("/runs/{run_id}/cancel", dependencies=auth)
    def cancel_run(run_id: str) -> dict:
        if service.fleet is not None:  # the run may be on any runner of the fleet
            service.fleet.cancel(run_id, by="api")
            return {"cancelled": run_id}
        if not service.dispatcher.cancel(run_id):
            raise HTTPException(404, {"message": f"run {run_id} is not queued or running in this service"})
        return {"cancelled": run_id}

    @app.post("/runs/{run_id}/resume", dependencies=auth, status_code=202)
    def resume_run(run_id: str, body: Decision) -> dict:
        request = service.resume(run_id, decision=body.decision, data=codec.decode(body.data), by=body.by)
        return {"run_id": request.run_id, "queued": True}

    @app.get("/runs/{run_id}/events", dependencies=auth)
    def follow(run_id: str, request: Request):
        """The run's events as server-sent events, from its first, until it ends."""
        store = service.runner.store()
        try:
            rid = store.resolve(run_id)
        finally:
            store.close()
        path = service.runner.paths.logs / f"{rid}.jsonl"
        return StreamingResponse(_tail(path, request), media_type="text/event-stream")

    @app.get("/schedules", dependencies=auth)
    def list_schedules() -> list:
        return codec.encode(service.list_schedules())

    @app.post("/schedules", dependencies=auth, status_code=201)
    def add_schedule(body: NewSchedule) -> dict:
        sched = make_schedule(body.bot, cron=body.cron, timezone_name=body.timezone,
                              every=parse_duration(body.every) if body.every else None, at=body.at, watch=body.watch,
                              webhook=body.webhook, name=body.name, inputs=codec.decode(body.inputs), misfire=body.misfire,
                              grace=parse_duration(body.grace) if body.grace else None, overlap=body.overlap,
                              queue=body.queue, mail=body.mail,
                              mail_options=_mail_options(body.mail_secret, body.mail_move_to))
        service.runner.load_bot(sched.bot)  # a bot that cannot run is refused now, not at its first fire
        return codec.encode(service.add_schedule(sched).to_dict())

    @app.post("/schedules/{ref}/pause", dependencies=auth)
    def pause(ref: str) -> dict:
        return codec.encode(service.pause_schedule(ref, True).to_dict())

    @app.post("/schedules/{ref}/resume", dependencies=auth)
    def resume(ref: str) -> dict:
        return codec.encode(service.pause_schedule(ref, False).to_dict())

    @app.delete("/schedules/{ref}", dependencies=auth)
    def remove(ref: str) -> dict:
        return codec.encode(service.remove_schedule(ref).to_dict())

    @app.post("/hooks/{name}", dependencies=auth, status_code=202)
    async def webhook(name: str, request: Request) -> dict:
        raw = await request.body()
        try:
            body = codec.loads(raw) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError):
            raise HTTPException(400, {"message": "the body is not JSON", "fix": "send a JSON object of the bot's inputs"})
        run = await asyncio.to_thread(service.webhook, name, body)
        return {"run_id": run.run_id, "queued": True}

    @app.get("/metrics", dependencies=auth, response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        from prometheus_client import CONTENT_TYPE_LATEST

        return PlainTextResponse(service.metrics.text(), media_type=CONTENT_TYPE_LATEST)

    @app.post("/service/stop", dependencies=auth, status_code=202)
    def stop() -> dict:
        service.request_stop()
        return {"stopping": True}

    from .api_tasks import add_task_routes  # /tasks: human review tasks

    add_task_routes(app, service, auth)
    return app


def _same(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


async def _tail(path, request: Request, poll: float = 0.2, idle_limit: float = 3600.0):
    """Lines of a run's JSON-lines log as SSE messages, following the file until the run ends."""
    position, idle = 0, 0.0
    while not await request.is_disconnected():
        lines: list[str] = []
        try:
            with open(path, encoding="utf-8") as f:
                f.seek(position)
                chunk = f.read()
                position += len(chunk.encode("utf-8"))
                lines = chunk.splitlines()
        except FileNotFoundError:
            pass
        for line in lines:
            yield f"data: {line}\n\n"
            if '"event":"run_finished"' in line:
                return
        idle = 0.0 if lines else idle + poll
        if idle > idle_limit:
            return
        await asyncio.sleep(poll)


def check_loopback(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise StoreError(f"the control API binds only to a loopback address, not {host}",
                         fix="set service.host to 127.0.0.1 (or ::1); reach the service remotely through SSH tunnels")


class ApiServer:
    """uvicorn in a thread of the service."""

    def __init__(self, service, host: str, port: int):
        check_loopback(host)
        self.service, self.host, self.port = service, host, port
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self) -> int:
        import uvicorn

        config = uvicorn.Config(make_app(self.service), host=self.host, port=self.port, log_level="warning",
                                lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="botloom-api", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ScheduleError(f"the control API could not listen on {self.host}:{self.port}",
                                    fix="another program may use the port: set service.port to a free one (0 picks one)")
            time.sleep(0.02)
        return self._server.servers[0].sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)


__all__ = ["ApiServer", "check_loopback", "make_app"]


def _mail_options(secret: str | None, move_to: str | None) -> dict:
    return {k: v for k, v in (("secret", secret), ("move_to", move_to)) if v}
