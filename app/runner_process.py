"""Running a bot from the designer: always in a child process.

``RunProcess`` starts ``python -m botloom.runner.cli run BOT --events jsonl --control stdin``
with a ``QProcess``, turns each JSON line on its stdout into a Qt signal, and writes debugger
commands (pause, step, resume, stop, breakpoints) to its stdin as JSON lines. A bot that hangs
or crashes its process never takes the designer down: when the process dies without telling
how the run ended, ``crashed`` says so. The child runs in the data folder ``home`` given to
``RunProcess`` (its ``BOTLOOM_HOME``), the designer's own, not whatever the environment says.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

from botloom.runner import codec


class RunProcess(QObject):
    event = Signal(dict)          # every event of the run (node_started, node_finished, log, paused ...)
    output = Signal(str, str)     # ("stderr" | "stdout", a line that is not an event)
    finished = Signal(str, int)   # final run state ("succeeded", "failed", ..., "crashed"), exit code
    crashed = Signal(str)         # why the child process died

    def __init__(self, parent: QObject | None = None, python: str | None = None,
                 home: str | os.PathLike | None = None):
        super().__init__(parent)
        self.python = python or sys.executable
        self.home = home
        self.proc: QProcess | None = None
        self.run_id: str | None = None
        self.state: str | None = None   # state from run_finished
        self.paused_at: str | None = None
        self._buf = b""
        self._err = b""
        self.stderr_lines: list[str] = []

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.state() != QProcess.NotRunning

    def argv(self, bot: str | os.PathLike, *, breakpoints=(), start_at: str | None = None,
             inputs: dict | None = None) -> list[str]:
        # -q: the events carry every log line; the console copy on stderr would repeat them
        args = ["-m", "botloom.runner.cli", "run", str(bot), "--events", "jsonl", "--control", "stdin", "-q",
                "--trigger", "designer"]
        for node in sorted(breakpoints):
            args += ["--break", node]
        if start_at:
            args += ["--from", start_at]
        for name, value in (inputs or {}).items():
            text = value if isinstance(value, str) else json.dumps(value)
            args += ["--input", f"{name}={text}"]
        return args

    def start(self, bot: str | os.PathLike, **kw) -> None:
        """Run ``bot`` (breakpoints=, start_at=, inputs= as in :meth:`argv`)."""
        self._launch(self.argv(bot, **kw), Path(bot).resolve().parent, resume=False)

    def start_resume(self, run_id: str, action: str | None = None, cwd: str | os.PathLike | None = None) -> None:
        """``botloom resume RUN [--retry|--skip] --json`` (resumed runs report at the end)."""
        args = ["-m", "botloom.runner.cli", "resume", run_id, "--json"] + ([f"--{action}"] if action else [])
        self._launch(args, Path(cwd or os.getcwd()), resume=True)

    def _launch(self, args: list[str], cwd: Path, resume: bool) -> None:
        if self.running:
            raise RuntimeError("a run is already in progress")
        self.resume_mode = resume
        self._json_out: list[str] = []
        self.run_id, self.state, self.paused_at = None, None, None
        self._buf, self._err, self.stderr_lines = b"", b"", []
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        if self.home is not None:
            env.insert("BOTLOOM_HOME", os.fspath(self.home))
        proc.setProcessEnvironment(env)
        proc.setWorkingDirectory(str(cwd))
        proc.readyReadStandardOutput.connect(self._read_stdout)
        proc.readyReadStandardError.connect(self._read_stderr)
        proc.finished.connect(self._on_finished)
        proc.errorOccurred.connect(self._on_error)
        self.proc = proc
        proc.start(self.python, args)

    # ------------------------------------------------------------ commands to the child
    def send(self, cmd: str, **data) -> None:
        if self.running:
            self.proc.write((json.dumps({"cmd": cmd, **data}) + "\n").encode())

    def pause(self) -> None:
        self.send("pause")

    def resume(self) -> None:
        self.paused_at = None
        self.send("resume")

    def step(self) -> None:
        self.paused_at = None
        self.send("step")

    def stop(self) -> None:
        self.send("stop")
        self.send("resume")

    def set_breakpoint(self, node: str, on: bool) -> None:
        self.send("break", node=node, on=on)

    def kill(self) -> None:
        if self.running:
            self.proc.kill()

    def pid(self) -> int | None:
        return int(self.proc.processId()) if self.running else None

    # ------------------------------------------------------------ reading the child
    def _read_stdout(self) -> None:
        self._buf += bytes(self.proc.readAllStandardOutput())
        *lines, self._buf = self._buf.split(b"\n")
        for raw in lines:
            self._handle_line(raw)

    def _handle_line(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").strip()
        if not line:
            return
        if getattr(self, "resume_mode", False):
            self._json_out.append(line)
            return
        try:
            ev = codec.loads(line)  # the one value codec: dates, Decimals, bytes arrive as themselves
        except ValueError:
            self.output.emit("stdout", line)
            return
        if not isinstance(ev, dict) or "event" not in ev:
            self.output.emit("stdout", line)
            return
        kind = ev["event"]
        if kind == "run_started":
            self.run_id = ev.get("run_id")
        elif kind == "paused":
            self.paused_at = ev.get("node")
        elif kind == "resumed":
            self.paused_at = None
        elif kind == "run_finished":
            self.state = ev.get("state")
        self.event.emit(ev)

    def _read_stderr(self) -> None:
        self._err += bytes(self.proc.readAllStandardError())
        *lines, self._err = self._err.split(b"\n")
        for raw in lines:
            text = raw.decode("utf-8", "replace").rstrip()
            if text:
                self.stderr_lines.append(text)
                self.output.emit("stderr", text)

    def _on_finished(self, code: int, status) -> None:
        self._read_stdout()
        if self._buf:
            self._handle_line(self._buf)
            self._buf = b""
        self._read_stderr()
        if self._err:
            text = self._err.decode("utf-8", "replace").rstrip()
            self._err = b""
            if text:
                self.stderr_lines.append(text)
                self.output.emit("stderr", text)
        if getattr(self, "resume_mode", False) and self._json_out:
            try:
                result = json.loads("\n".join(self._json_out))
                self.run_id, self.state = result.get("run_id"), result.get("state")
                self.event.emit({"event": "run_finished", **result})
            except ValueError:
                for line in self._json_out:
                    self.output.emit("stdout", line)
        state = self.state
        if state is None:
            if code == 2 and status == QProcess.NormalExit:
                state = "not started"
                reason = "; ".join(self.stderr_lines[-3:]) or "the bot could not be started"
                self.crashed.emit(f"the run did not start: {reason}")
            else:
                state = "crashed"
                how = "was killed" if status == QProcess.CrashExit else f"exited with code {code}"
                tail = f": {self.stderr_lines[-1]}" if self.stderr_lines else ""
                self.crashed.emit(f"the run's process {how} before the run ended{tail}")
        self.paused_at = None
        self.finished.emit(state, int(code))

    def _on_error(self, error) -> None:
        if error == QProcess.FailedToStart:
            self.crashed.emit(f"the run could not be started: {self.proc.errorString()}")
            self.finished.emit("crashed", -1)
