"""Replay: how a resumed run walks the steps its journal already has.

For each step the journal finished, the recorded outcome (port, outputs, variable writes) is
applied instead of running the node; scopes run again so that the steps inside them replay in
order. A step that was waiting is run again with the answer (``wait_answered`` is emitted with
who gave it). A side-effecting step found in flight runs again only if its node type is
idempotent; otherwise the run stops as needing attention. A step recorded for another node
than the walk reaches stops the resume: the path through the bot changed.

A finished step whose node type declares a ``session_effect`` (opening a browser, going to a
page, filling a field: an effect that lived in the old process's run resources only) is run
again before its recorded outcome is applied, so that the live steps after it find the session
they expect; the recorded port, outputs and variable writes still stand, so the path and the
values are those of the first run. Steps whose effect reached the outside world (a click that
submits, a key press, a download) are not repeated. The re-run is not journalled (the journal
keeps the first outcome); if it fails, the step is journalled as failed and the resume stops
with an error that names it, so ``--retry`` can run it again once the cause is fixed.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from ..errors import BotloomError, NodeError, ResumeError, RunCancelled
from ..states import StepState
from .context import Context
from .events import NodeFinished, WaitAnswered, now
from .executor import NodeAbandoned, run_with_timeout
from .runs import StepRecord
from .signals import SIGNALS, NeedsAttention

LIVE = object()  # the step is not replayed: it runs (again)
_EMPTY: dict = {}


class ReplayMixin:
    """The replay half of :class:`~botloom.runner.engine.engine.Engine`."""

    def _replay_step(self, frame, cn, seq: int, rec: StepRecord) -> Any:
        if rec.node != cn.id:
            raise ResumeError(f"cannot resume: step {seq} was node '{rec.node}' when the run started, but is "
                              f"node '{cn.id}' now", where=self.bot.label,
                              fix="the path through the bot depends on something that changed (the time, "
                                  "random values or outside data read in an expression); start a new run")
        if cn.scope:
            return LIVE  # loops and scopes run again so that the steps inside them replay
        resolving = self._resume is not None and self._resume.seq == seq
        if resolving and self._resume.action == "retry":
            return LIVE
        if resolving and self._resume.action == "skip":
            frame.nodes[cn.id] = _EMPTY
            self._finished(frame, cn, seq, 1, StepState.SKIPPED, "out", None, None, None, now(), 0.0, None)
            return "out"
        state = rec.state
        params = rec.params if rec.params is not None else cn.static
        if state == StepState.SUCCEEDED and cn.type.restores_session(params):
            self._restore_session(frame, cn, seq)
        if state in (StepState.SUCCEEDED, StepState.SKIPPED) or (state == StepState.FAILED and rec.port):
            if rec.writes:
                frame.vars.update(rec.writes)
            frame.nodes[cn.id] = rec.outputs or _EMPTY
            if self._listeners:
                self._emit(NodeFinished(self.run_id, seq, cn.id, cn.type.id, cn.flow, 1, state, rec.port, rec.outputs,
                                        rec.writes, rec.error, now(), 0.0, None, True))
            if rec.port in SIGNALS:
                raise SIGNALS[rec.port]()
            return rec.port
        if state == StepState.FAILED:
            error = NodeError((rec.error or {}).get("message", "failed"), kind=(rec.error or {}).get("kind"),
                              where=(rec.error or {}).get("where"), fix=(rec.error or {}).get("fix"))
            raise error
        if state == StepState.SUSPENDED:
            if resolving:  # the answer to this wait: kept in the journal with who gave it and when
                self._emit(WaitAnswered(self.run_id, seq, cn.id, (rec.wake or {}).get("signal"), self._resume.data,
                                        getattr(self._resume, "by", None), now()))
            return LIVE
        # "running" or "cancelled": the step was in flight when the run stopped
        if cn.type.repeatable(params) or cn.type.restores_session(params):  # its session died with it
            return LIVE
        raise NeedsAttention(seq, cn.id, cn.title,
                             f"step {seq}, node '{cn.id}' ({cn.type.id}), has side effects and was in flight when "
                             "the run stopped: it may or may not have taken effect")

    def _restore_session(self, frame, cn, seq: int) -> None:
        """Run a finished session-effect step again for its effect alone (its outcome is not
        recorded again); a failure is journalled as the step's and stops the resume."""
        if self._cancel.is_set():
            raise RunCancelled("the run was stopped")
        started, t0 = now(), perf_counter()
        ctx = Context(self, frame, cn, seq, 1)
        kw = None
        try:
            kw = self._resolve(frame, cn)
            if cn.timeout:
                run_with_timeout(lambda: self.executor.execute(cn.type, kw, ctx), ctx, cn.timeout, self.timeout_grace)
                if self._cancel.is_set():
                    raise RunCancelled("the run was stopped")
            else:
                self.executor.execute(cn.type, kw, ctx)
            return
        except (RunCancelled, NodeAbandoned):
            raise  # the step keeps its record: the next resume sets the session up again
        except NodeError as exc:
            error = exc
        except BotloomError as exc:
            error = NodeError(exc.message, where=exc.where, fix=exc.fix)
        except Exception as exc:
            error = NodeError(f"{type(exc).__name__}: {exc}")
        failure = NodeError(f"cannot resume: step {seq}, node '{cn.id}' ({cn.type.id}), ran again to set up the "
                            f"session the steps after it need (what it did lived in the stopped run's process), "
                            f"and failed: {error.message}", kind=error.kind, where=error.where or cn.where,
                            fix=(error.fix + "; then " if error.fix else "fix the cause (is the site up?), then ")
                                + f"`botloom resume {self.run_id} --retry` runs it again",
                            details=error.details)
        self._finished(frame, cn, seq, 1, StepState.FAILED, None, None, None, failure.to_dict(), started,
                       perf_counter() - t0, kw)
        raise failure

    def _resume_data_for(self, seq: int) -> dict | None:
        if self._resume is not None and self._resume.data is not None:
            rec = self._replay.get(seq) if self._replay else None
            if rec is not None and rec.state == StepState.SUSPENDED:
                return self._resume.data
        return None

    def _suspended_state_for(self, seq: int) -> dict:
        rec = self._replay.get(seq) if self._replay else None
        if rec is not None and rec.state == StepState.SUSPENDED and rec.wake:
            return rec.wake.get("state") or {}
        return {}


__all__ = ["LIVE", "ReplayMixin"]
