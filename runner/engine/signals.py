"""Exceptions the engine uses to steer a run (not errors a user sees)."""

from __future__ import annotations


class FlowSignal(Exception):
    """Leaves the current loop body (break/continue) or flow (end). ``port`` is journalled."""

    port = "@signal"


class BreakLoop(FlowSignal):
    port = "@break"


class ContinueLoop(FlowSignal):
    port = "@continue"


class EndFlow(FlowSignal):
    port = "@end"


SIGNALS = {cls.port: cls for cls in (BreakLoop, ContinueLoop, EndFlow)}


class Suspend(Exception):
    """A node waits for something outside the run: the run is saved and the process may exit.

    ``wake_at`` (epoch seconds) wakes it by time, ``signal`` by ``botloom signal RUN NAME``.
    ``state`` is given back to the node, as ``ctx.suspended_state``, when the run resumes.
    """

    def __init__(self, reason: str, *, wake_at: float | None = None, signal: str | None = None,
                 state: dict | None = None):
        super().__init__(reason)
        self.reason = reason
        self.wake = {"reason": reason, "wake_at": wake_at, "signal": signal, "state": state or {}}


class NeedsAttention(Exception):
    """A side-effecting step was in flight when the run died; a person must decide."""

    def __init__(self, seq: int, node: str, title: str, reason: str):
        super().__init__(reason)
        self.info = {"seq": seq, "node": node, "title": title, "reason": reason}


class ListenerFailed(BaseException):
    """A listener (the journal, a log file) failed. Not an error of the node being run, so no
    catch block or error edge may handle it: it stops the run. ``__cause__`` is the failure."""

    def __init__(self, listener: object, error: BaseException):
        super().__init__(f"{type(listener).__name__} failed: {type(error).__name__}: {error}")
        self.listener = listener
        self.error = error
