"""The real service process for tests: `botloom runner serve` in a throw-away data folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bots import write_bot  # noqa: E402

from botloom.runner.server.client import Client  # noqa: E402


class ServiceProcess:
    """One `botloom runner serve` child; ``client`` talks to its API."""

    def __init__(self, home: Path, settings: dict | None = None, env: dict | None = None):
        self.home = home
        self.settings = {"service.port": 0, "service.due_seconds": 0.5, **(settings or {})}
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.client: Client | None = None

    def start(self, timeout: float = 30) -> "ServiceProcess":
        self.home.mkdir(parents=True, exist_ok=True)
        current = {}
        settings_file = self.home / "settings.json"
        if settings_file.exists():
            current = json.loads(settings_file.read_text())
        settings_file.write_text(json.dumps({**current, **self.settings}))
        env = {**os.environ, "BOTLOOM_HOME": str(self.home), **(self.env or {})}
        self.log = open(self.home / "service-test.log", "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "botloom.runner.cli", "runner", "serve"], env=env,
                                     stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the service exited ({self.proc.returncode}): {self.output()}")
            client = Client.find(self.home)
            if client is not None and client.state.get("pid") == self.proc.pid:
                self.client = client
                return self
            time.sleep(0.05)
        raise AssertionError(f"the service did not start: {self.output()}")

    def output(self) -> str:
        try:
            return (self.home / "service-test.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self, timeout: float = 60) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.log.close()

    def call(self, method: str, path: str, body=None):
        return self.client.call(method, path, body)

    def runs(self, **where) -> list[dict]:
        rows = self.call("GET", "/runs?limit=1000")
        return [r for r in rows if all(r.get(k) == v for k, v in where.items())]

    def wait_for(self, predicate, timeout: float = 60, what: str = "the condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; service log: {self.output()}")


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def service(home):
    started: list[ServiceProcess] = []

    def make(settings: dict | None = None, env: dict | None = None) -> ServiceProcess:
        svc = ServiceProcess(home, settings, env).start()
        started.append(svc)
        return svc

    yield make
    for svc in started:
        svc.stop()


def _edges(pairs):
    return [(f"{a}.out", f"{b}.in") for a, b in pairs]


def delay_bot(folder: Path, name: str = "delay", seconds: float = 0.0, marker: str | None = None) -> Path:
    """A bot that appends a line to ``marker`` (a side effect), waits, then appends another."""
    nodes = {"start": {"type": "core.start"},
             "wait": {"type": "core.delay", "params": {"seconds": seconds}}}
    edges = [("start", "wait")]
    if marker:
        nodes["before"] = {"type": "files.append_text", "params": {"path": marker, "text": "before {{ run.id }}\n"}}
        nodes["after"] = {"type": "files.append_text", "params": {"path": marker, "text": "after {{ run.id }}\n"}}
        edges = [("start", "before"), ("before", "wait"), ("wait", "after")]
    return write_bot(folder, name, nodes, _edges(edges))


def input_bot(folder: Path, name: str = "echo") -> Path:
    """A bot with an input ``file`` (text) and an output that echoes it."""
    return write_bot(folder, name,
                     {"start": {"type": "core.start"},
                      "set": {"type": "core.set_variable", "params": {"name": "seen", "value": "{{ file }}"}}},
                     _edges([("start", "set")]), inputs={"file": {"type": "string", "default": ""}},
                     variables={"seen": {"type": "string", "default": ""}}, outputs={"seen": {"type": "string"}})
