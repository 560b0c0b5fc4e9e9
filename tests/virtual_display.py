"""A virtual X screen for tests and benchmarks: Xvfb + openbox, started and stopped here.

    from virtual_display import VirtualDisplay

    with VirtualDisplay(1280, 800) as vd:      # sets DISPLAY for this process while open
        vd.launch(["xcalc"])                    # a child with a throw-away HOME / XDG folders
        vd.wait_window("Calculator")

Reusable by every area (desktop, browser headed runs, designer screenshots). Xvfb picks a
free display number itself (``-displayfd``), so parallel sessions do not collide.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

REQUIRED = ("Xvfb", "openbox")


def missing_tools(tools=REQUIRED + ("xdotool", "wmctrl")) -> list[str]:
    return [t for t in tools if shutil.which(t) is None]


class VirtualDisplay:
    """Xvfb (+ openbox unless ``window_manager=False``) on a free display number.

    ``env`` is the environment children should get (DISPLAY, HOME and XDG_* folders inside
    ``home``, a private D-Bus address so desktop apps start clean)."""

    def __init__(self, width: int = 1280, height: int = 800, depth: int = 24, *,
                 window_manager: bool = True, set_environ: bool = True, home: str | os.PathLike | None = None):
        self.width, self.height, self.depth = width, height, depth
        self.window_manager = window_manager
        self.set_environ = set_environ
        self._own_home = home is None
        self.home = Path(home) if home else Path(tempfile.mkdtemp(prefix="botloom-vd-home-"))
        self.display: str | None = None
        self.xvfb: subprocess.Popen | None = None
        self.wm: subprocess.Popen | None = None
        self.children: list[subprocess.Popen] = []
        self._saved_env: dict[str, str | None] = {}

    # ------------------------------------------------------------ start / stop
    def start(self) -> "VirtualDisplay":
        gone = missing_tools(REQUIRED if self.window_manager else ("Xvfb",))
        if gone:
            raise RuntimeError(f"missing system packages for a virtual screen: {', '.join(gone)} "
                               "(apt-get install -y --no-install-recommends xvfb openbox xdotool wmctrl)")
        read_fd, write_fd = os.pipe()
        self.xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{self.width}x{self.height}x{self.depth}",
             "-nolisten", "tcp", "-noreset", "+extension", "RANDR"],
            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(write_fd)
        number = b""
        deadline = time.monotonic() + 30
        with os.fdopen(read_fd, "rb") as pipe:
            while not number.endswith(b"\n"):
                if time.monotonic() > deadline or self.xvfb.poll() is not None:
                    self.stop()
                    raise RuntimeError("Xvfb did not start")
                chunk = pipe.read(1)
                if not chunk:
                    self.stop()
                    raise RuntimeError("Xvfb exited before reporting its display number")
                number += chunk
        self.display = f":{int(number.strip())}"
        for sub in ("config", "data", "cache", "runtime"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.home / "runtime", 0o700)
        if self.set_environ:
            for key, value in self.env_updates().items():
                self._saved_env[key] = os.environ.get(key)
                os.environ[key] = value
        if self.window_manager:
            self.wm = subprocess.Popen(["openbox", "--sm-disable"], env=self.env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, start_new_session=True)
            self._wait(self._wm_ready, 15, "openbox did not take the screen")
        return self

    def env_updates(self) -> dict[str, str]:
        # Xvfb runs without access control: an authority file without a cookie for it says so to every
        # X client (python3-xlib, which pyautogui pulls in, raises when there is no file at all)
        from botloom.nodes.desktop.session import write_no_cookie_xauthority

        xauth = self.home / "Xauthority"
        if not xauth.exists():
            write_no_cookie_xauthority(xauth)
        return {"DISPLAY": self.display or "", "XDG_SESSION_TYPE": "x11", "XAUTHORITY": str(xauth)}

    @property
    def env(self) -> dict[str, str]:
        """Environment for an application child: this display, a throw-away HOME and XDG folders."""
        env = dict(os.environ)
        env.update(self.env_updates())
        env.update({"HOME": str(self.home), "XDG_CONFIG_HOME": str(self.home / "config"),
                    "XDG_DATA_HOME": str(self.home / "data"), "XDG_CACHE_HOME": str(self.home / "cache"),
                    "XDG_RUNTIME_DIR": str(self.home / "runtime"), "NO_AT_BRIDGE": "1",
                    "GTK_A11Y": "none", "LANG": env.get("LANG") or "C.UTF-8"})
        env.pop("WAYLAND_DISPLAY", None)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        return env

    def stop(self) -> None:
        for proc in reversed(self.children):
            _terminate(proc)
        self.children.clear()
        if self.wm is not None:
            _terminate(self.wm)
            self.wm = None
        if self.xvfb is not None:
            _terminate(self.xvfb)
            self.xvfb = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        if self._own_home:
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> "VirtualDisplay":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------ helpers for tests
    def launch(self, argv: list[str], **kw) -> subprocess.Popen:
        """Start an application on this display (stopped with the display)."""
        proc = subprocess.Popen(argv, env=kw.pop("env", self.env), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True, **kw)
        self.children.append(proc)
        return proc

    def xdotool(self, *args: str) -> str:
        return subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=20).stdout

    def window_ids(self, title_regex: str) -> list[str]:
        return self.xdotool("search", "--onlyvisible", "--name", title_regex).split()

    def wait_window(self, title_regex: str, timeout: float = 20) -> str:
        found: list[str] = []

        def ready():
            found[:] = self.window_ids(title_regex)
            return bool(found)

        self._wait(ready, timeout, f"no window titled /{title_regex}/ appeared")
        return found[0]

    def close_windows(self, title_regex: str) -> None:
        for wid in self.window_ids(title_regex):
            subprocess.run(["wmctrl", "-i", "-c", wid], env=self.env, capture_output=True, timeout=10)

    def _wm_ready(self) -> bool:
        proc = subprocess.run(["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"], env=self.env,
                              capture_output=True, text=True, timeout=10) if shutil.which("xprop") else None
        if proc is None:  # no xprop: fall back to wmctrl, which fails until a WM answers
            proc = subprocess.run(["wmctrl", "-m"], env=self.env, capture_output=True, text=True, timeout=10)
            return proc.returncode == 0
        return "window id" in proc.stdout

    @staticmethod
    def _wait(predicate, timeout: float, message: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise RuntimeError(message)
            time.sleep(0.05)

    # ------------------------------------------------------------ pictures on the screen
    def show_image(self, rgb, x: int = 0, y: int = 0, background=(40, 44, 52)) -> None:
        """Paint an RGB numpy image on the root window (as its background, so it stays put) at x, y.

        Needs no application: tests of image matching put a known picture on the screen."""
        import numpy as np
        from Xlib import X, display as xdisplay

        canvas = np.empty((self.height, self.width, 3), np.uint8)
        canvas[:] = background
        h, w = rgb.shape[:2]
        canvas[y:y + h, x:x + w] = rgb[: self.height - y, : self.width - x]
        bgrx = np.zeros((self.height, self.width, 4), np.uint8)
        bgrx[..., 0], bgrx[..., 1], bgrx[..., 2] = canvas[..., 2], canvas[..., 1], canvas[..., 0]
        d = xdisplay.Display(self.display)
        try:
            root = d.screen().root
            pixmap = root.create_pixmap(self.width, self.height, d.screen().root_depth)
            gc = pixmap.create_gc()
            rows = max(1, 200_000 // (self.width * 4))  # stay under the X request size limit
            for top in range(0, self.height, rows):
                chunk = bgrx[top:top + rows]
                pixmap.put_image(gc, 0, top, self.width, chunk.shape[0], X.ZPixmap, 24, 0, chunk.tobytes())
            root.change_attributes(background_pixmap=pixmap)
            root.clear_area(0, 0, self.width, self.height)
            d.sync()
            pixmap.free()
            d.sync()
        finally:
            d.close()


def _terminate(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
        proc.wait(timeout=5)
