"""Per-run logs in the data folder: ``logs/RUN.jsonl`` (every event, one JSON object a line)
and ``logs/RUN.log`` (readable text). Old logs and artifacts are pruned by age, count and size
(settings ``logs.retention_days``, ``logs.max_runs`` and ``logs.max_mb``)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import IO

from . import paths
from .codec import to_json
from .engine.events import Listener
from .states import StepState

FLUSH_SECONDS = 0.5
MAX_VALUE_CHARS = 4000
_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


def log_paths(run_id: str, base: Path | None = None) -> tuple[Path, Path]:
    folder = paths.logs_dir(base)
    return folder / f"{run_id}.jsonl", folder / f"{run_id}.log"


def _clock(t: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t % 1 * 1000):03d}"


_encode = to_json  # the one value codec: a log line reads back as the values the run had


def _compact(value):
    if _surely_big(value):  # told by its length alone: a large table is not encoded only to be summarised
        return f"<{type(value).__name__} of {len(value)} items>" if not isinstance(value, str) else \
            f"<{len(value)} characters>"
    text = _encode(value)
    return value if len(text) <= MAX_VALUE_CHARS else f"<{len(text)} characters>"


def _surely_big(value) -> bool:
    if isinstance(value, str):
        return len(value) > MAX_VALUE_CHARS
    if isinstance(value, (list, tuple, set, frozenset)):
        return len(value) > MAX_VALUE_CHARS // 2  # each item takes at least two characters
    return False


def _shrink(data: dict) -> None:
    """Summarise, before encoding, the values of an event that are big by their length alone."""
    for key in ("outputs", "params", "writes", "inputs", "variables"):
        values = data.get(key)
        if isinstance(values, dict) and any(_surely_big(v) for v in values.values()):
            data[key] = {k: _compact(v) if _surely_big(v) else v for k, v in values.items()}


class RunLog(Listener):
    """Writes both log files; flushes at least every half second so ``logs --follow`` keeps up."""

    def __init__(self, run_id: str, level: str = "info", base: Path | None = None):
        jsonl, text = log_paths(run_id, base)
        self._json: IO[str] = paths.private_open(jsonl, "a", encoding="utf-8")  # 0600: logs hold run data
        self._text: IO[str] = paths.private_open(text, "a", encoding="utf-8")
        self._level = _LEVELS.get(level, 20)
        self._last = time.monotonic()

    def handle(self, ev) -> None:
        data = ev.to_dict()
        _shrink(data)
        line = _encode(data)
        if len(line) > MAX_VALUE_CHARS:  # keep log lines readable: big values are summarised
            for key in ("outputs", "params", "writes", "inputs", "variables"):
                if data.get(key):
                    data[key] = _compact(data[key])
            line = _encode(data)
        self._json.write(line + "\n")
        line = self._line(ev)
        if line:
            self._text.write(line + "\n")
        if time.monotonic() - self._last > FLUSH_SECONDS or ev.kind in ("run_finished", "paused"):
            self.flush()

    def _line(self, ev) -> str | None:
        kind = ev.kind
        if kind == "log":
            if _LEVELS.get(ev.level, 20) < self._level:
                return None
            return f"{_clock(ev.time)} {ev.level.upper():7} [{ev.node}] {ev.message}"
        if kind == "node_finished":
            if ev.replayed:
                return None
            if ev.state == StepState.FAILED:
                err = ev.error or {}
                return (f"{_clock(ev.started + ev.duration)} ERROR   [{ev.node}] {ev.type} failed (attempt {ev.attempt}): "
                        f"{err.get('message')}" + (f" -- fix: {err['fix']}" if err.get("fix") else ""))
            if self._level <= 10 or ev.state != StepState.SUCCEEDED:
                return f"{_clock(ev.started + ev.duration)} DEBUG   [{ev.node}] {ev.type} {ev.state} in {ev.duration * 1000:.1f} ms"
            return None
        if kind == "run_started":
            verb = "resumed" if ev.resumed else "started"
            return f"{_clock(ev.time)} INFO    run {ev.run_id} of bot '{ev.bot}' {verb}"
        if kind == "run_finished":
            extra = ""
            if ev.error:
                extra = f": {ev.error.get('message')}"
            elif ev.attention:
                extra = f": {ev.attention.get('reason')}"
            elif ev.wake:
                extra = f": {ev.wake.get('reason')}"
            return f"{_clock(ev.time)} INFO    run {ev.state} after {ev.steps} steps in {ev.duration:.3f} s{extra}"
        if kind == "node_retrying":
            return f"{_clock(time.time())} WARNING [{ev.node}] retrying (attempt {ev.attempt}) in {ev.delay:g} s"
        if kind == "artifact":
            return f"{_clock(time.time())} INFO    [{ev.node}] artifact {ev.name}: {ev.path}"
        return None

    def flush(self) -> None:
        self._json.flush()
        self._text.flush()
        self._last = time.monotonic()

    def close(self) -> None:
        self.flush()
        self._json.close()
        self._text.close()


def prune(retention_days: float, max_runs: int, now: float | None = None, base: Path | None = None, *,
          max_mb: float = 0, keep=()) -> list[str]:
    """Delete the log files and artifacts folder of runs past the age, count or size limits (in
    the data folder ``base``; the default one when None). ``max_mb`` (0: none) bounds logs and
    artifacts together: the newest runs that fit stay, the older go. The runs in ``keep`` (running
    now) stay whatever their size, and so does every file that is not a run's (the service's own
    ``service.log``). An artifacts folder whose logs are gone is judged by its own age."""
    import re
    import shutil

    now = time.time() if now is None else now
    folder = paths.logs_dir(base)
    artifacts = (base or paths.home()) / "artifacts"
    run_name = re.compile(r"[0-9a-hjkmnp-tv-z]{26}")  # a run id (a ULID, runner/engine/runs.py)
    runs: dict[str, float] = {}
    sizes: dict[str, int] = {}
    found = [f for f in folder.iterdir() if f.suffix in (".jsonl", ".log")]
    found += [d for d in artifacts.iterdir() if d.is_dir()] if artifacts.is_dir() else []
    for f in found:
        run_id = f.stem if f.is_file() else f.name
        if not run_name.fullmatch(run_id):
            continue
        try:
            runs[run_id] = max(runs.get(run_id, 0.0), f.stat().st_mtime)
            sizes[run_id] = sizes.get(run_id, 0) + (f.stat().st_size if f.is_file() else _tree_size(f))
        except OSError:  # gone meanwhile
            continue
    ordered = sorted(runs, key=runs.get, reverse=True)
    doomed = [r for i, r in enumerate(ordered) if i >= max_runs or now - runs[r] > retention_days * 86400]
    if max_mb and max_mb > 0:
        budget, total = max_mb * 1024 * 1024, 0
        for run_id in ordered:  # newest first: what still fits stays
            if run_id not in doomed:
                total += sizes[run_id]
                if total > budget:
                    doomed.append(run_id)
    kept = set(keep)
    doomed = [r for r in doomed if r not in kept]
    for run_id in doomed:
        for path in log_paths(run_id, base):
            path.unlink(missing_ok=True)
        shutil.rmtree(artifacts / run_id, ignore_errors=True)
    return doomed


def _tree_size(folder: Path) -> int:
    total = 0
    for f in folder.rglob("*"):
        try:
            total += f.stat().st_size if f.is_file() else 0
        except OSError:
            pass
    return total
