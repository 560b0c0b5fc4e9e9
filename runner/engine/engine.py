"""The engine: walks a bot's flow graph, one step at a time, reporting to listeners.

Control flow follows control edges from port to port; a node that runs other nodes (loops,
try/catch, retry scope, subflow call) does it through ``ctx.run_branch(port)``, so those
constructs are ordinary node types. Data flows through variables, node outputs
(``nodes.ID.NAME`` in expressions) and data edges into parameters.

Durability is replay: every step has a sequence number; the journal (a listener) records each
step's outcome. Resuming a run walks the same graph again and, for each step the journal has
finished, applies the recorded outcome instead of running the node. A side-effecting step
that was in flight when the process died is re-run only if its node type is idempotent;
otherwise the run stops as ``needs_attention`` until a person chooses retry or skip.
"""

from __future__ import annotations

import copy
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any, Callable, Iterable

from ..botfile.model import BotDoc
from ..errors import (BotloomError, ExpressionError, InputError, InvalidBotError, NodeError, RunCancelled, did_you_mean)
from ..sdk.node import ERROR_PORT, Next
from ..sdk.params import MISSING
from ..sdk.registry import Registry
from ..codec import CodecError, check as check_value
from ..sdk.types import TYPES, TypeMismatch
from ..states import RunState, StepState
from .context import Context
from .events import (Event, LogMessage, NodeFinished, NodeRetrying, NodeStarted, RunFinished, RunStarted, now)
from .executor import GRACE_SECONDS, InProcessExecutor, NodeAbandoned, NodeExecutor, run_with_timeout
from .retry import RetryPolicy
from .plan import CompiledNode, FlowPlan, compile_bot
from .replay import LIVE as _LIVE, ReplayMixin
from .runs import ResumeRequest, RunResult, StepRecord, bind_inputs, new_run_id
from .signals import EndFlow, FlowSignal, ListenerFailed, NeedsAttention, Suspend

MAX_DEPTH = 50
_EMPTY: dict = {}


@dataclass
class BotUnit:
    """A bot taking part in a run: the run's own bot, or one it calls with Call bot."""

    doc: BotDoc
    plans: dict[str, FlowPlan]
    base_dir: Path


class Frame:
    """The state of one flow invocation: variables, inputs and node outputs."""

    __slots__ = ("plan", "unit", "vars", "inputs", "nodes", "active", "depth")

    def __init__(self, plan: FlowPlan, inputs: dict, depth: int, unit: BotUnit):
        self.plan = plan
        self.unit = unit
        self.inputs = inputs
        # defaults are copied: a node changing a list in place must not change the next run's start
        self.vars = {name: copy.deepcopy(d.default) for name, d in plan.doc.variables.items()
                     if d.default is not MISSING}
        self.vars.update(inputs)
        self.nodes: dict[str, dict] = {}
        self.active: set[str] = set()
        self.depth = depth


class Engine(ReplayMixin):
    def __init__(self, bot: BotDoc, registry: Registry, *, run_id: str | None = None,
                 listeners: Iterable[Any] = (), debugger: Any = None, secrets: Any = None,
                 replay: dict[int, StepRecord] | None = None, resume: ResumeRequest | None = None,
                 base_dir: str | Path | None = None, plans: dict[str, FlowPlan] | None = None,
                 executor: NodeExecutor | None = None, bots: Callable[[Path], tuple[BotDoc, dict]] | None = None,
                 home: Path | None = None):
        """``plans``: the bot already compiled (what validation made); ``bots(path)`` loads a bot
        that Call bot names, as ``(doc, plans)`` (the runtime's cached and snapshotted load;
        by default the file is read and validated here); ``home``: the data folder the run's
        artifacts go to (the runtime's; the default one when None)."""
        self.bot = bot
        self.executor: NodeExecutor = executor or InProcessExecutor()
        self.registry = registry
        if plans is None:
            plans, problems = compile_bot(bot, registry)
            errors = [p for p in problems if p.severity == "error"]
            if errors:
                raise InvalidBotError(bot.label, errors)
        self.plans = plans
        if self.plans["main"].start is None:
            from ..problems import Problem

            raise InvalidBotError(bot.label, [Problem("no-start", "the bot has no start node",
                                                      fix="add a 'core.start' node")])
        self.run_id = run_id or new_run_id()
        self._listeners: list[Any] = []
        self._critical: set[int] = set()
        for listener in listeners:
            self.add_listener(listener)
        self._debugger = debugger
        if secrets is None:
            from ..secrets import SecretStore

            secrets = SecretStore()
        from ..masking import Masker
        from ..secrets import RunSecrets

        self.masker = Masker()  # every secret revealed in this run: events are masked before any listener sees them
        self.secrets = RunSecrets(secrets, self.masker, run_id=self.run_id, bot=bot.name)
        self._replay = replay or None
        self._resume = resume
        self.base_dir = Path(base_dir) if base_dir else (Path(bot.source).resolve().parent if bot.source and
                                                           Path(bot.source).exists() else Path.cwd())
        self._unit = BotUnit(bot, self.plans, self.base_dir)
        self._called: dict[Path, BotUnit] = {}
        self._load_bot = bots or self._read_bot
        self.home = home
        self._cancel = threading.Event()
        self._node_cancels: set[threading.Event] = set()
        self._seq = 0
        self._run_info = {"id": self.run_id, "bot": bot.name}
        self._resources: dict[str, tuple[Any, Any]] = {}
        self._resource_lock = threading.Lock()
        self.timeout_grace = GRACE_SECONDS  # how long a timed-out node may take to stop before it is abandoned

    # ------------------------------------------------------------ public API
    def add_listener(self, listener: Any) -> None:
        """Add a listener. One whose ``critical`` attribute is true (the journal) stops the run when it
        fails; any other is best-effort: its failure is logged, it is set aside, and the run goes on."""
        self._listeners.append(listener)
        if getattr(listener, "critical", False):
            self._critical.add(id(listener))

    def cancel(self) -> None:
        """Stop the run at the next step; waiting nodes wake at once."""
        self._cancel.set()
        for event in list(self._node_cancels):
            event.set()
        if self._debugger is not None:
            self._debugger.wake()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def replaying(self) -> bool:
        """True while a resumed run walks steps the journal already has (waits are skipped:
        the time they stood for has passed)."""
        return self._replay is not None and (self._seq + 1) in self._replay

    def run(self, inputs: dict | None = None, *, bound: bool = False, start_at: str | None = None) -> RunResult:
        """Run the bot's main flow to the end (or until it suspends, fails or is stopped).

        ``start_at`` runs from that node of the main flow instead of the start node (to try
        out a part of a bot; nodes before it do not run, so their outputs are missing)."""
        plan = self.plans["main"]
        if start_at is not None and start_at not in plan.nodes:
            raise InputError(f"there is no node '{start_at}' to start from{did_you_mean(start_at, plan.nodes)}",
                             where=self.bot.label, fix="give the id of a node of the main flow")
        values = (inputs or {}) if bound else bind_inputs(plan.doc.inputs, inputs, where=self.bot.label)
        frame = Frame(plan, values, 0, self._unit)
        t0 = perf_counter()
        self._emit(RunStarted(self.run_id, self.bot.name, values, self._replay is not None, now()))
        # CRASHED until the run reaches an outcome: when something escapes (a journal that cannot write,
        # a KeyboardInterrupt), resources are told the truth, e.g. so a browser keeps its failure trace
        state, error, attention, wake, outputs = RunState.CRASHED, None, None, None, {}
        try:
            try:
                self.preflight()
                self._run_chain(frame, start_at or plan.start)
            except EndFlow:
                pass
            outputs = {name: frame.vars.get(name) for name in plan.doc.outputs}
            state = RunState.SUCCEEDED
        except FlowSignal as sig:
            state, error = RunState.FAILED, NodeError(f"'{sig.port[1:]}' was used outside a loop", kind="bad_input",
                                                      where=self.bot.label).to_dict()
        except Suspend as s:
            state, wake = RunState.SUSPENDED, s.wake
        except NeedsAttention as n:
            state, attention = RunState.NEEDS_ATTENTION, n.info
        except RunCancelled:
            state = RunState.CANCELLED
        except NodeAbandoned as abandoned:
            state, error = RunState.FAILED, abandoned.error.to_dict()
        except BotloomError as exc:
            state, error = RunState.FAILED, exc.to_dict()
        finally:
            self._close_resources(state)
        duration = perf_counter() - t0
        if self.masker:  # what the caller prints (run --json, the error on stderr) is masked too
            outputs, error = self.masker.mask(outputs), self.masker.mask(error)
        self._emit(RunFinished(self.run_id, state, outputs, error, attention, wake, duration, self._seq, now()))
        return RunResult(self.run_id, state, outputs, error, attention, wake, duration, self._seq)

    def preflight(self) -> None:
        """Run the preflight checks of the node types this bot uses (each check once), before
        any step: a machine that cannot run the bot's desktop or browser nodes fails the run
        with a clear error before it has done anything."""
        from ..sdk.node import PreflightInfo

        checks: dict[Any, list] = {}
        for plan in self._unit.plans.values():  # the run's own bot: one it calls is loaded only when called
            for cn in plan.nodes.values():
                fn = cn.type.preflight
                if fn is not None and not cn.disabled:
                    checks.setdefault(fn, []).append((cn.flow, cn.id, dict(cn.static)))
        for fn, nodes in checks.items():
            fn(PreflightInfo(self.bot.label, self.bot.settings, nodes))

    def resource(self, key: str, opener: Callable[[], Any], closer: Callable[[Any, str], None] | None = None) -> Any:
        """A value shared by the nodes of this run (a browser session, a window handle...):
        opened by the first node that asks for ``key``, closed when the run ends, whatever
        the end (succeeded, failed, cancelled, suspended). ``closer(value, state)`` gets the
        run's final state, e.g. to keep a trace when it failed."""
        with self._resource_lock:
            if key not in self._resources:
                self._resources[key] = (opener(), closer)
            return self._resources[key][0]

    def _close_resources(self, state: str) -> None:
        with self._resource_lock:
            items = list(self._resources.items())
            self._resources.clear()
        for key, (value, closer) in reversed(items):  # last opened, first closed
            if closer is None:
                continue
            try:
                closer(value, state)
            except Exception as exc:  # a failed close must not hide the run's own outcome
                self._emit(LogMessage(self.run_id, self._seq, "", "warning",
                                      f"closing {key} failed: {type(exc).__name__}: {exc}", now()))

    # ------------------------------------------------------------ internals
    def _emit(self, event: Event) -> None:
        if self.masker:
            event = self.masker.mask_event(event)
        for listener in self._listeners:
            try:
                listener.handle(event)
            except Exception as exc:
                if id(listener) in self._critical:
                    raise ListenerFailed(listener, exc) from exc
                self._set_aside(listener, event, exc)

    def _set_aside(self, listener: Any, event: Event, exc: Exception) -> None:
        """A best-effort listener failed: log it, stop telling it, and go on with the run."""
        import logging

        name = type(listener).__name__
        logging.getLogger("botloom.runner").warning("run %s: the %s listener failed on %s and is set aside: %s: %s",
                                                    self.run_id, name, event.kind, type(exc).__name__, exc,
                                                    exc_info=exc)
        self._listeners = [other for other in self._listeners if other is not listener]
        self._emit(LogMessage(self.run_id, self._seq, getattr(event, "node", "") or "", "warning",
                              f"the {name} listener failed ({type(exc).__name__}: {exc}) and was set aside; "
                              "the run goes on without it", now()))

    def _run_chain(self, frame: Frame, node_id: str | None) -> None:
        nodes = frame.plan.nodes
        active = frame.active
        step = self._step
        while node_id is not None:
            if node_id in active:  # back to a loop that is running its body: this pass ends
                return
            cn = nodes[node_id]
            node_id = cn.next.get(step(frame, cn))

    def _run_branch(self, frame: Frame, cn: CompiledNode, port: str) -> None:
        target = cn.next.get(port)
        if target is None:
            return
        frame.active.add(cn.id)
        try:
            self._run_chain(frame, target)
        finally:
            frame.active.discard(cn.id)

    def _call_flow(self, frame: Frame, cn: CompiledNode, name: str, inputs: dict, unit: BotUnit | None = None) -> dict:
        """Run flow ``name`` of ``unit`` (the calling frame's bot by default) in a frame of its own."""
        by_name = unit is None  # a subflow call names a subflow; a bot call runs "main"
        unit = unit or frame.unit
        plan = unit.plans.get(name)
        if plan is None or (by_name and name == "main"):
            subflows = unit.doc.subflows
            raise NodeError(f"there is no subflow '{name}'{did_you_mean(name, subflows)}", kind="bad_input",
                            where=cn.where, fix=f"subflows of this bot: {', '.join(subflows) or '(none)'}")
        if frame.depth + 1 >= MAX_DEPTH:
            raise NodeError(f"subflows call each other more than {MAX_DEPTH} levels deep", kind="bad_input",
                            where=cn.where, fix="check for a subflow that calls itself without end")
        try:
            values = bind_inputs(plan.doc.inputs, inputs, where=cn.where)
        except InputError as exc:
            raise NodeError(exc.message, kind="bad_input", where=cn.where, fix=exc.fix) from None
        sub = Frame(plan, values, frame.depth + 1, unit)
        try:
            self._run_chain(sub, plan.start)
        except EndFlow:
            pass
        except FlowSignal as sig:  # a loop of the caller cannot be steered from inside a subflow
            raise NodeError(f"'{sig.port[1:]}' was used outside a loop in subflow '{name}'", kind="bad_input",
                            where=cn.where, fix="use Break and Continue only inside a loop of the same flow") from None
        return {name: sub.vars.get(name) for name in plan.doc.outputs}

    def _call_bot(self, frame: Frame, cn: CompiledNode, path: str, inputs: dict) -> dict:
        """Run the main flow of another bot file, in this run (journalled, replayed, stoppable)."""
        unit = self._load_unit(frame, cn, path)
        return self._call_flow(frame, cn, "main", inputs, unit)

    def _load_unit(self, frame: Frame, cn: CompiledNode, path: str) -> BotUnit:
        target = Path(path).expanduser()
        target = (target if target.is_absolute() else frame.unit.base_dir / target).resolve()
        unit = self._called.get(target)
        if unit is not None:
            return unit
        try:
            doc, plans = self._load_bot(target)
        except InvalidBotError as exc:
            errors = [p for p in exc.problems if p.severity == "error"]
            listed = "; ".join(f"{p.location}: {p.message}" for p in errors[:3])
            raise NodeError(f"the called bot {target} has {len(errors)} problem(s): {listed}", kind="bad_input",
                            where=cn.where, fix=f"run `botloom validate {target}` and correct it") from None
        except BotloomError as exc:  # the file is missing, unreadable or not a bot
            raise NodeError(f"cannot call the bot: {exc.message}", kind="bad_input", where=cn.where,
                            fix=exc.fix or f"check the path (relative paths start in {frame.unit.base_dir})",
                            details={"file": exc.where}) from None
        unit = self._called[target] = BotUnit(doc, plans, target.parent)
        return unit

    def _read_bot(self, target: Path) -> tuple[BotDoc, dict[str, FlowPlan]]:
        """A called bot straight from its file (when the engine runs without a runtime)."""
        from .. import botfile
        from ..validate import check_doc

        doc = botfile.load(target)
        checked = check_doc(doc, self.registry)
        if checked.errors:
            raise InvalidBotError(doc.label, checked.errors)
        return doc, checked.plans

    def _assign(self, frame: Frame, name: str, value: Any, cn: CompiledNode) -> None:
        decl = frame.plan.doc.variables.get(name)
        if decl is not None and decl.type != "any":
            try:
                value = TYPES[decl.type].coerce(value)
            except TypeMismatch as exc:
                raise NodeError(f"variable '{name}' is declared as {decl.type}: {exc}", kind="bad_input",
                                where=cn.where) from None
        try:
            check_value(value)
        except CodecError as exc:
            raise NodeError(f"variable '{name}' cannot hold this value: {exc}", kind="bad_input", where=cn.where,
                            fix="variables hold data (text, numbers, dates, lists, tables...), not objects") from None
        frame.vars[name] = value

    def _namespace(self, frame: Frame) -> dict:
        ns = dict(frame.vars)
        ns["vars"] = frame.vars
        ns["inputs"] = frame.inputs
        ns["nodes"] = frame.nodes
        ns["run"] = self._run_info
        ns["secrets"] = self.secrets.view
        return ns

    def _evaluate(self, frame: Frame, cn: CompiledNode, name: str) -> Any:
        """The current value of one parameter (a loop condition is checked on every pass)."""
        for param, expr in cn.dynamic:
            if param.name == name:
                try:
                    return param.check(expr(self._namespace(frame)))
                except ExpressionError as exc:
                    raise NodeError(exc.message, kind="expression", where=f"{cn.where}, parameter '{name}'",
                                    fix=exc.fix) from None
                except TypeMismatch as exc:
                    raise NodeError(f"{exc} (from {expr.source!r})", kind="bad_input",
                                    where=f"{cn.where}, parameter '{name}'") from None
        return self._resolve(frame, cn)[name]

    def _resolve(self, frame: Frame, cn: CompiledNode) -> dict:
        if not cn.dynamic and not cn.edges_in and not cn.secrets:
            return cn.static
        kw = dict(cn.static)
        if cn.dynamic:
            ns = self._namespace(frame)
            for param, expr in cn.dynamic:
                try:
                    value = expr(ns)
                except ExpressionError as exc:
                    raise NodeError(exc.message, kind="expression", where=f"{cn.where}, parameter '{param.name}'",
                                    fix=exc.fix) from None
                try:
                    kw[param.name] = param.check(value)
                    check_value(kw[param.name])
                except TypeMismatch as exc:
                    raise NodeError(f"{exc} (from {expr.source!r})", kind="bad_input",
                                    where=f"{cn.where}, parameter '{param.name}'") from None
                except CodecError as exc:
                    raise NodeError(f"the expression {expr.source!r} gives a value that cannot be recorded: {exc}",
                                    kind="bad_input", where=f"{cn.where}, parameter '{param.name}'",
                                    fix="give data (text, numbers, dates, lists...); call a helper, e.g. now(), "
                                        "instead of naming it") from None
        for param, source, port in cn.edges_in:
            outputs = frame.nodes.get(source)
            if outputs is None or port not in outputs:
                raise NodeError(f"its input comes from {source}.{port}, which has no value yet "
                                f"(node '{source}' has not run on this path)", kind="bad_input",
                                where=f"{cn.where}, parameter '{param.name}'",
                                fix=f"make sure '{source}' runs before '{cn.id}'")
            try:
                kw[param.name] = param.check(outputs[port])
            except TypeMismatch as exc:
                raise NodeError(f"{exc} (from {source}.{port})", kind="bad_input",
                                where=f"{cn.where}, parameter '{param.name}'") from None
        for name in cn.secrets:
            if kw.get(name):
                kw[name] = self.secrets.secret(kw[name])
        return kw

    def _step(self, frame: Frame, cn: CompiledNode) -> str | None:
        self._seq += 1
        seq = self._seq
        if self._debugger is not None:
            self._debugger.before_step(self, frame, cn, seq)
        if self._cancel.is_set():
            raise RunCancelled("the run was stopped")
        if self._replay is not None:
            record = self._replay.get(seq)
            if record is not None:
                port = self._replay_step(frame, cn, seq, record)
                if port is not _LIVE:
                    return port
        if cn.disabled:
            self._finished(frame, cn, seq, 1, StepState.SKIPPED, "out", None, None, None, now(), 0.0, None)
            return "out"
        attempt = 1
        while True:
            started = now()
            t0 = perf_counter()
            ctx = Context(self, frame, cn, seq, attempt)
            resolved: list = [None]  # the parameters as evaluated, for the record
            try:
                if cn.timeout:  # the time limit covers evaluating the parameters too
                    result = run_with_timeout(lambda: self._execute(frame, cn, ctx, started, resolved), ctx,
                                              cn.timeout, self.timeout_grace)
                    if self._cancel.is_set():
                        raise RunCancelled("the run was stopped")
                else:
                    result = self._execute(frame, cn, ctx, started, resolved)
            except FlowSignal as sig:
                self._finished(frame, cn, seq, attempt, StepState.SUCCEEDED, sig.port, None, ctx.writes, None,
                               started, perf_counter() - t0, resolved[0])
                raise
            except Suspend as s:
                s.wake.setdefault("seq", seq)
                self._finished(frame, cn, seq, attempt, StepState.SUSPENDED, None, None, ctx.writes, None,
                               started, perf_counter() - t0, resolved[0], s.wake)
                raise
            except RunCancelled:
                self._finished(frame, cn, seq, attempt, StepState.CANCELLED, None, None, ctx.writes, None,
                               started, perf_counter() - t0, resolved[0])
                raise
            except NeedsAttention:
                raise
            except NodeAbandoned as abandoned:
                self._finished(frame, cn, seq, attempt, StepState.FAILED, None, None, None, abandoned.error.to_dict(),
                               started, perf_counter() - t0, resolved[0])
                raise
            except NodeError as exc:
                error = exc
            except BotloomError as exc:
                error = NodeError(exc.message, kind="error", where=exc.where or cn.where, fix=exc.fix)
            except Exception as exc:
                error = NodeError(f"{type(exc).__name__}: {exc}", kind="error", where=cn.where,
                                  details={"traceback": "".join(traceback.format_exception(exc)[-3:])})
            else:
                if result is None:
                    port, outputs = "out", _EMPTY
                elif type(result) is dict:
                    port, outputs = "out", result
                else:
                    port, outputs = self._unpack(cn, result)
                error = _unrecordable(cn, outputs)
                if error is None:
                    frame.nodes[cn.id] = outputs
                    self._finished(frame, cn, seq, attempt, StepState.SUCCEEDED, port, outputs, ctx.writes, None,
                                   started, perf_counter() - t0, resolved[0])
                    return port
            kw = resolved[0]
            if error.where is None:
                error.where = cn.where
            retry = cn.retry
            if retry is not None and retry.should_retry(error, attempt):
                self._finished(frame, cn, seq, attempt, StepState.FAILED, None, None, ctx.writes, error.to_dict(),
                               started, perf_counter() - t0, kw)
                self._wait_to_retry(seq, cn, attempt, error, retry)
                attempt += 1
                continue
            record = error.to_dict()
            if ERROR_PORT in cn.next or cn.on_error == "continue":
                port = ERROR_PORT if ERROR_PORT in cn.next else "out"
                writes = dict(ctx.writes or {})
                writes["error"] = record
                frame.vars["error"] = record
                frame.nodes[cn.id] = {"error": record}
                self._finished(frame, cn, seq, attempt, StepState.FAILED, port, frame.nodes[cn.id], writes, record,
                               started, perf_counter() - t0, kw)
                return port
            self._finished(frame, cn, seq, attempt, StepState.FAILED, None, None, ctx.writes, record,
                           started, perf_counter() - t0, kw)
            raise error

    def _execute(self, frame: Frame, cn: CompiledNode, ctx: Context, started: float, resolved: list) -> Any:
        """Evaluate a step's parameters, announce it (a side-effecting step is journalled as running
        before it acts), then execute it: control-flow nodes here, others through the executor."""
        kw = resolved[0] = self._resolve(frame, cn)
        if self._listeners:
            self._emit(NodeStarted(self.run_id, ctx.seq, cn.id, cn.type.id, cn.flow, ctx.attempt, kw, cn.durable,
                                   started))
        if cn.scope:
            return cn.run(ctx, **kw)
        return self.executor.execute(cn.type, kw, ctx)

    def _wait_to_retry(self, seq: int, cn: CompiledNode, attempt: int, error: NodeError, policy: RetryPolicy) -> None:
        """Announce the next attempt and wait for it (not while replaying: that time has passed)."""
        delay = policy.delay_before(attempt)
        self._emit(NodeRetrying(self.run_id, seq, cn.id, attempt + 1, error.to_dict(), delay))
        if delay > 0 and not self.replaying and self._cancel.wait(delay):
            raise RunCancelled("the run was stopped")

    def _retry_branch(self, frame: Frame, cn: CompiledNode, seq: int, port: str, policy: RetryPolicy) -> int:
        """Run the chain behind ``port`` until it succeeds, by the same rules as a node's retry setting;
        returns the attempts it took."""
        attempt = 1
        while True:
            try:
                self._run_branch(frame, cn, port)
                return attempt
            except NodeError as exc:
                if not policy.should_retry(exc, attempt):
                    raise
                self._wait_to_retry(seq, cn, attempt, exc, policy)
                attempt += 1

    def _finished(self, frame, cn, seq, attempt, state, port, outputs, writes, error, started, duration,
                  params, wake=None) -> None:
        if self._listeners:
            self._emit(NodeFinished(self.run_id, seq, cn.id, cn.type.id, cn.flow, attempt, state, port, outputs,
                                    writes, error, started, duration, params, False, wake))

    def _unpack(self, cn: CompiledNode, result: Any) -> tuple[str, dict]:
        if isinstance(result, Next):
            if result.port not in cn.type.ports and result.port not in cn.type.ports_for(cn.static):
                raise NodeError(f"the node left through port '{result.port}', which '{cn.type.id}' does not declare",
                                kind="error", where=cn.where)
            return result.port, result.outputs or _EMPTY
        raise NodeError(f"the node returned {type(result).__name__}; a node returns None, a dict of outputs "
                        "or Next(port)", kind="error", where=cn.where)


def _unrecordable(cn: CompiledNode, outputs: dict) -> NodeError | None:
    """The error for a node output the codec cannot carry (it could not be journalled or resumed)."""
    for name, value in outputs.items():
        try:
            check_value(value)
        except CodecError as exc:
            return NodeError(f"output '{name}' cannot be recorded: {exc}", kind="bad_output", where=cn.where,
                             fix=f"the node type '{cn.type.id}' must return data (text, numbers, dates, lists, "
                                 "tables, bytes...); report this to its pack's authors")
    return None
