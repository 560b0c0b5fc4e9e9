"""Desktop fixtures: one virtual screen (Xvfb 1280x800 + openbox) for the whole session, a
throw-away HOME/XDG for every test's applications, and clean-up of what a test started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from virtual_display import VirtualDisplay, missing_tools  # noqa: E402

SCREEN = (1280, 800)


@pytest.fixture(scope="session")
def vdisplay():
    gone = missing_tools(("Xvfb", "openbox", "xdotool", "wmctrl", "xclip", "xcalc", "mousepad"))
    if gone:
        pytest.fail(f"desktop tests need the system packages of installer/apt/desktop.txt; missing: {', '.join(gone)}")
    vd = VirtualDisplay(*SCREEN)
    vd.start()
    yield vd
    vd.stop()


def _children() -> set[int]:
    me = str(os.getpid())
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            found.add(int(entry))
    return found


@pytest.fixture
def desktop(vdisplay, tmp_path, monkeypatch):
    """The virtual screen, with a throw-away HOME/XDG for the apps this test's bots launch;
    afterwards the apps the test started are stopped and the screen is cleared."""
    home = tmp_path / "app-home"
    env = {"HOME": home, "XDG_CONFIG_HOME": home / "config", "XDG_DATA_HOME": home / "data",
           "XDG_CACHE_HOME": home / "cache", "XDG_RUNTIME_DIR": home / "runtime"}
    for key, path in env.items():
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(key, str(path))
    os.chmod(home / "runtime", 0o700)
    monkeypatch.setenv("DISPLAY", vdisplay.display)
    monkeypatch.setenv("NO_AT_BRIDGE", "1")
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    before = _children()
    yield vdisplay
    for pid in _children() - before:
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for pid in _children() - before:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    # apps a `botloom run` child started outlive it: disconnect every remaining X client window
    ids = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "."], env=vdisplay.env,
                         capture_output=True, text=True, timeout=10).stdout.split()
    for wid in ids:
        subprocess.run(["xdotool", "windowkill", wid], env=vdisplay.env, capture_output=True, timeout=10)
    subprocess.run(["xdotool", "mousemove", "0", "0"], env=vdisplay.env, capture_output=True, timeout=10)
