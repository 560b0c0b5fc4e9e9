"""Desktop sessions for unattended desktop bots.

A desktop bot needs a screen. When the service runs inside a desktop session (``DISPLAY`` is
set, or on Windows an interactive session), desktop runs use it, one at a time. On a Linux VM
with no session, the service starts and owns a virtual display: Xvfb at the screen size the bot
declares (``settings.desktop.screen``, default 1280x800) with the openbox window manager (without
one, windows cannot be activated). Each display serves one desktop run at a time; displays of
other sizes are started beside it as bots ask, and all are stopped with the service.

``service.virtual_display``: ``auto`` (the default: own a display only when there is no session),
``always`` or ``never`` (desktop runs then fail their preflight clearly when there is no session).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from ..errors import BotloomError

DEFAULT_SCREEN = "1280x800"


class DisplayError(BotloomError):
    pass


class Display:
    """One screen: the session's own, or a virtual one this service started."""

    def __init__(self, name: str, size: str, owned: bool, procs: tuple = (), home: Path | None = None):
        self.name = name
        self.size = size
        self.owned = owned
        self.procs = procs
        self.home = home
        self.busy = False

    def env(self) -> dict[str, str]:
        env = {"DISPLAY": self.name}
        if self.owned and self.home is not None:  # apps on a service display start clean
            env.update({"XDG_CONFIG_HOME": str(self.home / "config"), "XDG_DATA_HOME": str(self.home / "data"),
                        "XDG_CACHE_HOME": str(self.home / "cache"), "XDG_RUNTIME_DIR": str(self.home / "runtime")})
        return env

    def stop(self) -> None:
        for proc in reversed(self.procs):
            try:
                proc.terminate()
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
        if self.home is not None:
            shutil.rmtree(self.home, ignore_errors=True)


class Displays:
    def __init__(self, mode: str = "auto", session: str | None = None):
        self.mode = mode
        self.session = session if session is not None else os.environ.get("DISPLAY")
        self._displays: list[Display] = []
        self._lock = threading.Lock()

    def _use_session(self) -> bool:
        return bool(self.session) and self.mode != "always"

    def free(self, screen: str | None) -> bool:
        """Could a desktop run with this screen size start now?"""
        with self._lock:
            if self._use_session() or self.mode == "never":
                return not any(d.busy for d in self._displays)
            size = screen or DEFAULT_SCREEN
            return not any(d.busy for d in self._displays if d.size == size)

    def acquire(self, screen: str | None) -> Display:
        with self._lock:
            if self._use_session() or self.mode == "never":
                display = next((d for d in self._displays if not d.owned), None)
                if display is None:
                    display = Display(self.session or "", screen or "", owned=False)
                    self._displays.append(display)
            else:
                size = screen or DEFAULT_SCREEN
                display = next((d for d in self._displays if d.size == size and not d.busy), None)
                if display is None:
                    display = start_virtual(size)
                    self._displays.append(display)
            display.busy = True
            return display

    def release(self, display: Display) -> None:
        with self._lock:
            display.busy = False

    def describe(self) -> list[dict]:
        with self._lock:
            return [{"display": d.name, "size": d.size, "virtual": d.owned, "busy": d.busy} for d in self._displays]

    def stop(self) -> None:
        with self._lock:
            for d in self._displays:
                if d.owned:
                    d.stop()
            self._displays.clear()


def start_virtual(size: str) -> Display:
    """Start Xvfb (it picks a free display number) and openbox on it."""
    missing = [tool for tool in ("Xvfb", "openbox") if shutil.which(tool) is None]
    if missing:
        raise DisplayError(f"a desktop bot needs a screen and this machine has no desktop session; starting a virtual "
                           f"one needs {' and '.join(missing)}", fix="install them (Debian/Ubuntu: apt-get install xvfb "
                           "openbox), or run the service inside a desktop session")
    try:
        width, height = (int(x) for x in size.lower().split("x"))
    except ValueError:
        raise DisplayError(f"settings.desktop.screen must look like '1280x800', got {size!r}") from None
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24",
                             "-nolisten", "tcp", "-noreset"], pass_fds=(write_fd,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    os.close(write_fd)
    number = b""
    deadline = time.monotonic() + 30
    with os.fdopen(read_fd, "rb") as pipe:
        while not number.endswith(b"\n"):
            chunk = pipe.read(1)
            if not chunk or time.monotonic() > deadline:
                xvfb.kill()
                raise DisplayError("the virtual display (Xvfb) did not start", fix="check that Xvfb runs on this machine")
            number += chunk
    name = f":{int(number.strip())}"
    home = Path(tempfile.mkdtemp(prefix="botloom-display-"))
    for sub in ("config", "data", "cache", "runtime"):
        (home / sub).mkdir(mode=0o700)
    env = {**os.environ, "DISPLAY": name, "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_RUNTIME_DIR": str(home / "runtime")}
    wm = subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          start_new_session=True)
    _wait_for_window_manager(name, env)
    return Display(name, size, owned=True, procs=(xvfb, wm), home=home)


def _wait_for_window_manager(name: str, env: dict, timeout: float = 10.0) -> None:
    if shutil.which("xprop") is None:
        time.sleep(0.5)
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"], env=env, capture_output=True, text=True)
        if "window id" in out.stdout:
            return
        time.sleep(0.1)


__all__ = ["DEFAULT_SCREEN", "Display", "DisplayError", "Displays", "start_virtual"]
