"""Listeners for terminals and parent processes: progress and log lines on stderr, and the
``--events jsonl`` stream on stdout."""

from __future__ import annotations

import sys
import time
from typing import IO

from .codec import SCHEMA, to_json
from .engine.events import Listener

_COLORS = {"warning": "\033[33m", "error": "\033[31m", "debug": "\033[2m"}


class Console(Listener):
    """Log messages as lines; on a terminal a live progress line for runs that take a while."""

    def __init__(self, stream: IO[str] | None = None, *, verbose: bool = False):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.verbose = verbose
        self._start = time.monotonic()
        self._last = 0.0
        self._progress = False

    def _write(self, text: str) -> None:
        if self._progress:
            self.stream.write("\r\033[K")
            self._progress = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def on_log(self, ev) -> None:
        if ev.level == "debug" and not self.verbose:
            return
        color = _COLORS.get(ev.level, "") if self.tty else ""
        reset = "\033[0m" if color else ""
        label = "" if ev.level == "info" else f"{ev.level}: "
        self._write(f"{color}[{ev.node}] {label}{ev.message}{reset}")

    def on_node_finished(self, ev) -> None:
        if self.verbose and not ev.replayed:
            self._write(f"  {ev.seq:>5} {ev.node} ({ev.type}) {ev.state} {ev.duration * 1000:.1f} ms")
        now = time.monotonic()
        elapsed = now - self._start
        if elapsed > 1.0 and now - self._last > (0.1 if self.tty else 10.0):
            self._last = now
            text = f"... step {ev.seq} ({ev.node}), {elapsed:.1f} s"
            if self.tty:
                self.stream.write("\r\033[K" + text)
                self.stream.flush()
                self._progress = True
            else:
                self._write(text)

    def on_node_retrying(self, ev) -> None:
        self._write(f"[{ev.node}] failed: {(ev.error or {}).get('message')}; retrying in {ev.delay:g} s "
                    f"(attempt {ev.attempt})")

    def on_paused(self, ev) -> None:
        self._write(f"paused before '{ev.node}' ({ev.reason})")

    def close(self) -> None:
        if self._progress:
            self.stream.write("\r\033[K")
            self.stream.flush()


class EventStream(Listener):
    """Every event as one JSON line (``botloom run --events jsonl``), flushed at once."""

    def __init__(self, stream: IO[str] | None = None):
        self.stream = stream or sys.stdout

    def handle(self, ev) -> None:
        data = ev.to_dict()
        data["schema"] = SCHEMA
        self.stream.write(to_json(data) + "\n")
        self.stream.flush()
