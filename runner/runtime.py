"""The runtime: one object that owns what running bots takes, so a process can hold several.

A :class:`Runner` carries its data folder (``home``) explicitly and hands it down to the run
store, the logs, the locks and the validation cache; it owns its node registry (packs load
lazily, thread-safe), its settings and its secret store. The CLI makes one per command, the
designer one per window, a test one per data folder; two Runners with different homes in one
process share nothing. Nothing here is module-level state.

Loading a bot validates it once (``validate.check_doc``) and keeps the compiled plans for the
engine. Validation is cached by the bot's text and the node packs it uses: starting a bot that
has not changed since it last validated compiles it (node and edge rules) but skips the graph
checks and the networkx import. A bot the run calls (Call bot) goes through the same load,
and its text is snapshotted with the run (table ``run_bots``): a resume runs the called bot as
it was, never a file that changed since.

Resuming is compare-and-set under the run's lock: the lock first, then the run's state, then
``running`` only if the state is still the one read. Of two resumes of one run at the same
moment, exactly one proceeds; the other says the run is already running or being resumed.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from . import __version__, botfile, paths, trust
from .botfile.model import BotDoc
from .engine.plan import FlowPlan, compile_bot
from .engine.runs import ResumeRequest, RunResult, bind_inputs, new_run_id
from .engine.signals import ListenerFailed
from .errors import InputError, InvalidBotError, ResumeError, StoreError, did_you_mean
from .problems import Problem
from .sdk.registry import Registry
from .states import RESUMABLE, RunState, StepState
from .store import RunStore
from .store.db import transaction


@dataclass
class LoadedBot:
    """A bot file read and validated: its text (as the run keeps it) and its compiled plans."""

    doc: BotDoc
    registry: Registry
    text: str
    digest: str
    warnings: list[Problem] = field(default_factory=list)
    plans: dict[str, FlowPlan] | None = None


@dataclass(frozen=True)
class Paths:
    """The folders of one data folder (``runner/paths.py`` with an explicit base)."""

    home: Path

    @property
    def store(self) -> Path:
        return paths.store_path(self.home)

    @property
    def logs(self) -> Path:
        return paths.logs_dir(self.home)

    def artifacts(self, run_id: str) -> Path:
        return paths.artifacts_dir(run_id, self.home)

    def cache(self, name: str) -> Path:
        return paths.cache_dir(name, self.home)


class Runner:
    def __init__(self, home: str | os.PathLike | None = None, settings: dict | None = None,
                 registry: Registry | None = None, secrets: Any = None):
        """``home``: the data folder (default: ``$BOTLOOM_HOME`` or the platform's, read now);
        ``settings`` override the folder's ``settings.json``; ``secrets``: a SecretStore."""
        self.home = paths.private_dir(Path(home).expanduser().resolve()) if home else paths.home()
        self.paths = Paths(self.home)
        self._overrides = dict(settings or {})
        self._registry = registry
        self._registry_lock = threading.Lock()
        if secrets is None:
            from .secrets import SecretStore

            secrets = SecretStore(home=self.home, settings=self._overrides)
        self.secrets = secrets

    def __repr__(self) -> str:
        return f"Runner(home={str(self.home)!r})"

    @property
    def registry(self) -> Registry:
        """The installed node packs, found on first use; each pack loads when a bot uses it."""
        with self._registry_lock:
            if self._registry is None:
                self._registry = Registry.discover(lazy=True)
            return self._registry

    @property
    def settings(self) -> dict[str, Any]:
        from . import settings

        return {**settings.load(self.home), **self._overrides}

    def store(self) -> RunStore:
        """A connection to this data folder's run store (close it when done)."""
        return RunStore(self.paths.store)

    # ------------------------------------------------------------ bots
    def load_bot(self, path: str | os.PathLike, *, cache: bool = True) -> LoadedBot:
        """Read and validate a bot file; raises BotFileError or InvalidBotError (or TemplateError
        for a file of an installed template that changed since it was installed)."""
        doc, text = botfile.load_text(path)
        from .templates.install import check_installed

        check_installed(self.home, path)
        return self._checked(doc, text, cache)

    def load_text(self, text: str, source: str, *, cache: bool = True) -> LoadedBot:
        """Validate a bot kept as text (a run's snapshot); ``source`` is where it came from."""
        return self._checked(botfile.loads(text, source=source), text, cache)

    def _checked(self, doc: BotDoc, text: str, cache: bool) -> LoadedBot:
        reg = self.registry
        digest = hashlib.sha256(text.encode()).hexdigest()
        types = [spec.type for flow in doc.flows().values() for spec in flow.nodes.values()]
        key = hashlib.sha256(f"{__version__}|{reg.fingerprint(types)}|{text}".encode()).hexdigest()
        try:
            marker = self.paths.cache("valid") / key
        except OSError:  # a read-only data folder without a cache yet
            marker, cache = None, False
        if cache and marker.exists():
            plans, problems = compile_bot(doc, reg)  # the node and edge rules: cheap, and what runs needs
            if not [p for p in problems if p.severity == "error"]:
                return LoadedBot(doc, reg, text, digest, [], plans)
        from .validate import check_doc

        checked = check_doc(doc, reg)
        if checked.errors:
            raise InvalidBotError(doc.label, checked.problems)
        if cache and not checked.problems:
            try:  # 0600; on a full disk or a read-only data folder the bot is just checked again next time
                paths.private_open(marker, "a").close()
            except OSError:
                pass
        return LoadedBot(doc, reg, text, digest, checked.problems, checked.plans)

    # ------------------------------------------------------------ runs
    def start_run(self, path: str | os.PathLike, inputs: dict | None = None, *, from_text: bool = False,
                  listeners: Iterable[Any] = (), debugger: Any = None, trigger: str = "cli",
                  loaded: LoadedBot | None = None, on_engine: Any = None, start_at: str | None = None,
                  run_id: str | None = None) -> RunResult:
        """Run a bot file durably: journalled in the store, logged to files. ``start_at`` runs
        from that node instead of the start node. ``run_id`` is the id to give the run (the service
        assigns it when it queues the run, so a relaunch after a crash cannot start it twice)."""
        bot = loaded or self.load_bot(path)
        values = bind_inputs(bot.doc.main.inputs, inputs, from_text=from_text, where=bot.doc.label)
        if start_at is not None and start_at not in bot.doc.main.nodes:
            raise InputError(f"there is no node '{start_at}' to start from{did_you_mean(start_at, bot.doc.main.nodes)}",
                             where=bot.doc.label, fix="give the id of a node of the main flow")
        trust.check(self.home, bot.doc, path, bot.text)  # a bot from elsewhere, not approved: refused, nothing recorded
        run_id = run_id or new_run_id()
        store = self.store()
        try:
            lock = store.lock(run_id)
            lock.acquire()
            store.create_run(run_id, bot_name=bot.doc.name, bot_path=os.path.abspath(path), bot_text=bot.text,
                             bot_hash=bot.digest, inputs=values, trigger=trigger, start_node=start_at)
            return self._execute(store, lock, bot, run_id, values, listeners, debugger,
                                 base_dir=Path(path).resolve().parent, on_engine=on_engine, start_at=start_at)
        finally:
            store.close()

    def resume_run(self, ref: str, *, action: str | None = None, data: dict | None = None,
                   listeners: Iterable[Any] = (), debugger: Any = None, on_engine: Any = None,
                   by: str | None = None) -> RunResult:
        """Continue a crashed, suspended, stopped or failed run from where it was.

        ``action`` decides the step that needs attention (or the step that failed): ``retry``
        runs it again, ``skip`` goes on as if it had succeeded with no outputs. ``data`` is
        handed to a suspended node (a signal's payload); ``by`` says who answers (a user name,
        "timer", a service), for the journal.

        The run's lock is taken before its state is read; everything the resume needs (the
        request, the bot) is built from what was read under the lock, and the run moves to
        ``running`` only if its state is still the one read (compare-and-set), so nothing it
        was built from can have changed.
        """
        store = self.store()
        try:
            store.detect_crashed()
            run_id = store.resolve(ref)
            lock = store.lock(run_id)
            if not lock.acquire():
                raise _busy(run_id, store.run_row(run_id))
            try:
                row = store.run_row(run_id)
                state = row["state"]
                if state == RunState.RUNNING:  # its lock was free: the process that ran it is gone
                    store.set_state(run_id, RunState.CRASHED, "the process running it is gone", only_if=state)
                    state = row["state"] = RunState.CRASHED
                if state not in RESUMABLE:
                    raise ResumeError(f"run {run_id} {state}; only a run that crashed, was stopped, failed, is "
                                      "suspended or needs attention can be resumed",
                                      fix="start a new run with `botloom run`")
                request = _resume_request(store, run_id, row, action, data, by)
                bot = self.load_text(row["bot_snapshot"], row["bot_path"] or row["bot_name"])
                if not store.claim(run_id, only_if=state):
                    raise _busy(run_id, store.run_row(run_id))
            except BaseException:
                lock.release()
                raise
            base_dir = Path(row["bot_path"]).parent if row["bot_path"] else Path.cwd()
            return self._execute(store, lock, bot, run_id, row["inputs"] or {}, listeners, debugger,
                                 base_dir=base_dir, replay=store.load_replay(run_id), resume=request,
                                 on_engine=on_engine, start_at=row["start_node"])
        finally:
            store.close()

    def _execute(self, store: RunStore, lock, bot: LoadedBot, run_id: str, values: dict, listeners, debugger,
                 *, base_dir: Path, replay=None, resume=None, on_engine=None, start_at=None) -> RunResult:
        from .audit import AuditError, AuditListener, AuditTrail
        from .engine.engine import Engine
        from .insight.tracing import listeners as tracing  # [] unless an OpenTelemetry exporter is configured
        from .logs import RunLog

        journal = store.journal(run_id)
        log = RunLog(run_id, self.settings["logs.level"], self.home)
        audit = AuditListener(AuditTrail(self.home), bot_hash=bot.digest, bot_path=bot.doc.source,  # critical
                              resumed=replay is not None)
        all_listeners = [journal, audit, log, *tracing(self.settings), *listeners]
        try:
            engine = Engine(bot.doc, self.registry, run_id=run_id, listeners=all_listeners, debugger=debugger,
                            secrets=trust.restrict(self.secrets, bot.doc, trust.TrustStore(self.home).untrusted(
                                bot.doc.source, bot.text)),  # a bot from elsewhere reads only what it declares
                            replay=replay, resume=resume, base_dir=base_dir, plans=bot.plans,
                            bots=CalledBots(self, store, run_id), home=self.home)
            if on_engine is not None:
                on_engine(engine)
            return engine.run(values, bound=True, start_at=start_at)
        except BaseException as exc:
            # anything that escapes the engine (a store failure, a bug) leaves the run visibly crashed
            cause = exc.error if isinstance(exc, ListenerFailed) else exc
            try:
                store.set_state(run_id, RunState.CRASHED, f"the runner stopped: {type(cause).__name__}: {cause}")
            except Exception:
                pass
            if isinstance(cause, (OSError, sqlite3.Error)):  # a full disk, a read-only data folder: say so
                told = paths.storage_error(cause, self.home, then=f"`botloom resume {run_id}`")
                if told is not None:
                    raise told from None
            if isinstance(exc, ListenerFailed) and isinstance(cause, AuditError):  # it says what to do itself
                raise AuditError(f"run {run_id} stopped: {cause.message}", fix=f"{cause.fix}; then "
                                 f"`botloom resume {run_id}`") from None
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

    def prune_logs(self, keep=()) -> list[str]:
        """Apply the ``logs.*`` retention; the runs in ``keep`` (running now) are left alone."""
        from .logs import prune

        conf = self.settings
        return prune(float(conf["logs.retention_days"]), int(conf["logs.max_runs"]), base=self.home,
                     max_mb=float(conf["logs.max_mb"]), keep=keep)


class CalledBots:
    """The bots one run calls: loaded through the runner (validation cache and all) and kept
    with the run the first time each is called; on a resume, taken from what was kept."""

    def __init__(self, runner: Runner, store: RunStore, run_id: str):
        self.runner, self.store, self.run_id = runner, store, run_id
        self._lock = threading.Lock()
        self._kept = dict(store.conn.execute("SELECT path, text FROM run_bots WHERE run_id=?", (run_id,)))

    def __call__(self, target: Path) -> tuple[BotDoc, dict[str, FlowPlan]]:
        key = str(target)
        with self._lock:
            text = self._kept.get(key)
            if text is not None:
                bot = self.runner.load_text(text, key)
            else:
                bot = self.runner.load_bot(target)
                with transaction(self.store.conn) as conn:  # kept before any of its steps is journalled
                    conn.execute("INSERT OR IGNORE INTO run_bots (run_id, path, text, hash) VALUES (?,?,?,?)",
                                 (self.run_id, key, bot.text, bot.digest))
                self._kept[key] = bot.text
        return bot.doc, bot.plans


def _busy(run_id: str, row: dict) -> ResumeError:
    if row["state"] == RunState.RUNNING:
        return ResumeError(f"run {run_id} is already running (process {row['pid']} on {row['host']})",
                           fix="wait for it to finish, or stop it first")
    return ResumeError(f"run {run_id} is being resumed by another process",
                       fix=f"wait for it; `botloom show {run_id}` shows how it goes")


def _resume_request(store: RunStore, run_id: str, row: dict, action: str | None, data: dict | None,
                    by: str | None = None) -> ResumeRequest:
    state = row["state"]
    if state == RunState.NEEDS_ATTENTION:
        attention = row["attention"] or {}
        if action not in ("retry", "skip"):
            raise ResumeError(f"run {run_id} needs attention: {attention.get('reason')}",
                              fix=f"check whether step {attention.get('seq')} ('{attention.get('node')}') took effect, "
                                  f"then `botloom resume {run_id} --retry` to run it again or `--skip` to go on")
        return ResumeRequest(action, attention.get("seq"), data, by)
    if state == RunState.FAILED:
        failed = [seq for seq, rec in store.load_replay(run_id).items()
                  if rec.state == StepState.FAILED and not rec.port]
        if action not in ("retry", "skip") or not failed:
            raise ResumeError(f"run {run_id} failed" + (f" at step {max(failed)}" if failed else ""),
                              fix=f"`botloom resume {run_id} --retry` runs the failed step again, `--skip` goes on "
                                  "without it")
        return ResumeRequest(action, max(failed), data, by)
    if state == RunState.SUSPENDED:
        wake = row["wake"] or {}
        return ResumeRequest(None, wake.get("seq"), data, by)
    return ResumeRequest(action, None, data, by)


__all__ = ["CalledBots", "LoadedBot", "Paths", "Runner"]
