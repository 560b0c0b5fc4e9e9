"""Starting and resuming runs: the glue between bot files, the store, logs and the engine.

Used by the CLI, the designer's child process and the scheduler alike.

Validation of a bot (graph checks over networkx) is cached by the bot's content and the
installed node packs, so starting a bot that has not changed since it last validated does
not pay for importing networkx; the first run of an edited bot validates it in full.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from . import __version__, botfile, paths
from .botfile.model import BotDoc
from .engine.engine import Engine
from .engine.runs import ResumeRequest, RunResult, bind_inputs, new_run_id
from .engine.signals import ListenerFailed
from .errors import InputError, InvalidBotError, ResumeError, StoreError, did_you_mean
from .problems import Problem
from .sdk.registry import Registry
from .store import RESUMABLE, RunStore


@dataclass
class LoadedBot:
    doc: BotDoc
    registry: Registry
    text: str
    digest: str
    warnings: list[Problem] = field(default_factory=list)


_registry: Registry | None = None


def registry() -> Registry:
    global _registry
    if _registry is None:
        _registry = Registry.discover(lazy=True)  # packs load when a bot uses their node types
    return _registry


def load_bot(path: str | os.PathLike, reg: Registry | None = None, *, cache: bool = True) -> LoadedBot:
    """Read and validate a bot file; raises BotFileError or InvalidBotError."""
    reg = reg or registry()
    doc, text = botfile.load_text(path)
    digest = hashlib.sha256(text.encode()).hexdigest()
    warnings = validate_cached(doc, text, reg, cache=cache)
    return LoadedBot(doc, reg, text, digest, warnings)


def validate_cached(doc: BotDoc, text: str, reg: Registry, *, cache: bool = True) -> list[Problem]:
    types = [spec.type for flow in doc.flows().values() for spec in flow.nodes.values()]
    key = hashlib.sha256(f"{__version__}|{reg.fingerprint(types)}|{text}".encode()).hexdigest()
    marker = paths.cache_dir("valid") / key
    if cache and marker.exists():
        return []
    from .validate import validate_doc

    problems = validate_doc(doc, reg)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InvalidBotError(doc.label, problems)
    if cache and not problems:
        marker.touch()
    return problems


def start_run(path: str | os.PathLike, inputs: dict | None = None, *, from_text: bool = False,
              listeners: Iterable[Any] = (), debugger: Any = None, trigger: str = "cli",
              loaded: LoadedBot | None = None, on_engine: Any = None, start_at: str | None = None) -> RunResult:
    """Run a bot file durably: journalled in the store, logged to files. ``start_at`` runs
    from that node instead of the start node."""
    bot = loaded or load_bot(path)
    values = bind_inputs(bot.doc.main.inputs, inputs, from_text=from_text, where=bot.doc.label)
    if start_at is not None and start_at not in bot.doc.main.nodes:
        raise InputError(f"there is no node '{start_at}' to start from{did_you_mean(start_at, bot.doc.main.nodes)}",
                         where=bot.doc.label, fix="give the id of a node of the main flow")
    run_id = new_run_id()
    store = RunStore()
    try:
        lock = store.lock(run_id)
        lock.acquire()
        store.create_run(run_id, bot_name=bot.doc.name, bot_path=os.path.abspath(path), bot_text=bot.text,
                         bot_hash=bot.digest, inputs=values, trigger=trigger, start_node=start_at)
        return _execute(store, lock, bot.doc, bot.registry, run_id, values, listeners, debugger,
                        base_dir=Path(path).resolve().parent, on_engine=on_engine, start_at=start_at)
    finally:
        store.close()


def resume_run(ref: str, *, action: str | None = None, data: dict | None = None,
               listeners: Iterable[Any] = (), debugger: Any = None, on_engine: Any = None) -> RunResult:
    """Continue a crashed, suspended, stopped or failed run from where it was.

    ``action`` decides the step that needs attention (or the step that failed): ``retry``
    runs it again, ``skip`` goes on as if it had succeeded with no outputs. ``data`` is
    handed to a suspended node (a signal's payload).
    """
    store = RunStore()
    try:
        store.detect_crashed()
        run_id = store.resolve(ref)
        row = store.run_row(run_id)
        state = row["state"]
        if state == "running":
            raise ResumeError(f"run {run_id} is still running (process {row['pid']} on {row['host']})",
                              fix="wait for it to finish, or stop it first")
        if state not in RESUMABLE:
            raise ResumeError(f"run {run_id} {state}; only a run that crashed, was stopped, failed, is suspended "
                              "or needs attention can be resumed", fix="start a new run with `botloom run`")
        request = _resume_request(store, run_id, row, action, data)
        lock = store.lock(run_id)
        if not lock.acquire():
            raise ResumeError(f"run {run_id} is being resumed by another process")
        doc = botfile.loads(row["bot_snapshot"], source=row["bot_path"] or row["bot_name"])
        base_dir = Path(row["bot_path"]).parent if row["bot_path"] else Path.cwd()
        return _execute(store, lock, doc, registry(), run_id, row["inputs"] or {}, listeners, debugger,
                        base_dir=base_dir, replay=store.load_replay(run_id), resume=request, on_engine=on_engine,
                        start_at=row["start_node"])
    finally:
        store.close()


def _resume_request(store: RunStore, run_id: str, row: dict, action: str | None, data: dict | None) -> ResumeRequest:
    state = row["state"]
    if state == "needs_attention":
        attention = row["attention"] or {}
        if action not in ("retry", "skip"):
            raise ResumeError(f"run {run_id} needs attention: {attention.get('reason')}",
                              fix=f"check whether step {attention.get('seq')} ('{attention.get('node')}') took effect, "
                                  f"then `botloom resume {run_id} --retry` to run it again or `--skip` to go on")
        return ResumeRequest(action, attention.get("seq"), data)
    if state == "failed":
        failed = [seq for seq, rec in store.load_replay(run_id).items() if rec.state == "failed" and not rec.port]
        if action not in ("retry", "skip") or not failed:
            raise ResumeError(f"run {run_id} failed" + (f" at step {max(failed)}" if failed else ""),
                              fix=f"`botloom resume {run_id} --retry` runs the failed step again, `--skip` goes on "
                                  "without it")
        return ResumeRequest(action, max(failed), data)
    if state == "suspended":
        wake = row["wake"] or {}
        return ResumeRequest(None, wake.get("seq"), data)
    return ResumeRequest(action, None, data)


def _execute(store: RunStore, lock, doc: BotDoc, reg: Registry, run_id: str, values: dict, listeners, debugger,
             *, base_dir: Path, replay=None, resume=None, on_engine=None, start_at=None) -> RunResult:
    from . import settings
    from .logs import RunLog

    conf = settings.load()
    journal = store.journal(run_id)
    log = RunLog(run_id, conf["logs.level"])
    all_listeners = [journal, log, *listeners]
    try:
        engine = Engine(doc, reg, run_id=run_id, listeners=all_listeners, debugger=debugger, replay=replay,
                        resume=resume, base_dir=base_dir)
        if on_engine is not None:
            on_engine(engine)
        return engine.run(values, bound=True, start_at=start_at)
    except BaseException as exc:
        # anything that escapes the engine (a store failure, a bug) leaves the run visibly crashed
        cause = exc.error if isinstance(exc, ListenerFailed) else exc
        try:
            store.set_state(run_id, "crashed", f"the runner stopped: {type(cause).__name__}: {cause}")
        except Exception:
            pass
        if isinstance(exc, ListenerFailed) or isinstance(cause, sqlite3.Error):
            what = (f"the run store {store.path} could not be written" if isinstance(cause, sqlite3.Error)
                    else f"its {type(exc.listener).__name__} listener failed")
            raise StoreError(f"run {run_id} stopped: {what} ({cause})",
                             fix=f"check free disk space and that nothing else locks the file, then "
                                 f"`botloom resume {run_id}`") from None
        raise
    finally:
        for listener in all_listeners:
            try:
                listener.close()
            except Exception:
                pass
        lock.release()


def prune_logs() -> list[str]:
    from . import settings
    from .logs import prune

    conf = settings.load()
    return prune(float(conf["logs.retention_days"]), int(conf["logs.max_runs"]))


__all__ = ["LoadedBot", "load_bot", "prune_logs", "registry", "resume_run", "start_run", "StoreError"]
