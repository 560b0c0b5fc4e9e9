"""Pause, resume, single-step and breakpoints, as an API for debuggers.

The engine calls ``before_step`` before every step; while paused it blocks there (on the
engine's thread) and emits ``paused`` with the variables, so a debugger can show them.
Other threads (a designer, a stdin command reader) call ``pause``, ``resume``, ``step``.
"""

from __future__ import annotations

import threading
from typing import Iterable

from .events import Paused, Resumed


class Debugger:
    def __init__(self, breakpoints: Iterable[str] = (), *, paused: bool = False):
        self.breakpoints: set[str] = set(breakpoints)
        self._cond = threading.Condition()
        self._paused = paused
        self._stepping = False

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._stepping = False
            self._cond.notify_all()

    def step(self) -> None:
        """Run exactly one more step, then pause again."""
        with self._cond:
            self._paused = False
            self._stepping = True
            self._cond.notify_all()

    def set_breakpoint(self, node_id: str, on: bool = True) -> None:
        with self._cond:
            (self.breakpoints.add if on else self.breakpoints.discard)(node_id)

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def before_step(self, engine, frame, cn, seq: int) -> None:
        with self._cond:
            if self._stepping:
                self._stepping = False
                self._paused = True
                reason = "step"
            elif self._paused:
                reason = "pause"
            elif cn.id in self.breakpoints or f"{cn.flow}/{cn.id}" in self.breakpoints:
                self._paused = True
                reason = "breakpoint"
            else:
                return
        engine._emit(Paused(engine.run_id, seq, cn.id, reason, dict(frame.vars), cn.flow))
        with self._cond:
            while self._paused and not engine.cancelled:
                self._cond.wait(0.25)
        engine._emit(Resumed(engine.run_id, seq, cn.id, cn.flow))
