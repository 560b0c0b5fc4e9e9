"""Shared fixtures. Every test gets its own BOTLOOM_HOME: tests never touch a user's data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
DEMO_PACK = TESTS / "data" / "packs"

# Before anything imports Botloom: nothing in a test session may reach the real data folder.
# Models derived on first use (the OCR engine's int8 recogniser) are made once per test session,
# not once per test: the per-test data folders would each need their own copy. Folders made
# here are removed when the session ends.
_SESSION_FOLDERS = []
for _name, _prefix in (("BOTLOOM_HOME", "botloom-test"), ("BOTLOOM_MODEL_CACHE", "botloom-test-models")):
    if _name not in os.environ:
        os.environ[_name] = str(Path(os.environ.get("TMPDIR", "/tmp")) / f"{_prefix}-{os.getpid()}")
        _SESSION_FOLDERS.append(Path(os.environ[_name]))


def pytest_sessionfinish(session, exitstatus):
    import shutil

    for folder in _SESSION_FOLDERS:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def botloom_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "botloom-home"
    monkeypatch.setenv("BOTLOOM_HOME", str(home))
    return home


@pytest.fixture
def work(tmp_path) -> Path:
    """A folder for a test's files, apart from its data folder."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


class Cli:
    """Runs the real `botloom` command in a child process."""

    def __init__(self, home: Path, cwd: Path):
        self.home = home
        self.cwd = cwd
        self.env = dict(os.environ, BOTLOOM_HOME=str(home), PYTHONPATH=str(DEMO_PACK), PYTHONUNBUFFERED="1")

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "botloom.runner.cli", *map(str, args)]

    def __call__(self, *args: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*args), cwd=self.cwd, env=self.env, input=input, capture_output=True,
                              text=True, timeout=timeout)

    def start(self, *args: str, **kw) -> subprocess.Popen:
        return subprocess.Popen(self.argv(*args), cwd=self.cwd, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, **kw)

    def json(self, *args: str) -> object:
        proc = self(*args, "--json")
        assert proc.stdout, proc.stderr
        return json.loads(proc.stdout)


@pytest.fixture
def cli(botloom_home, tmp_path) -> Cli:
    return Cli(botloom_home, tmp_path)
