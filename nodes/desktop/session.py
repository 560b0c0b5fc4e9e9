"""The desktop session: display checks, pyautogui set-up, bot settings, preflight, failure evidence.

Nothing heavy is imported at module level: pyautogui, mss, numpy and OpenCV load on first use.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

from botloom.runner.sdk import BotloomError, NodeError, RunCancelled

INSTALL = "pip install 'botloom[desktop]'"
IS_LINUX = sys.platform.startswith("linux")


class DisplayError(NodeError):
    kind = "no_display"


# ---------------------------------------------------------------- display
def display_problem() -> str | None:
    """Why desktop nodes cannot run here, or None when a display is usable."""
    problem = _env_problem()
    if problem:
        return problem
    try:
        from . import screen

        screen.check()
        screen.screen_size()
    except ImportError:
        raise
    except Exception as exc:  # mss raises ScreenShotError when it cannot open or capture the display
        where = os.environ.get("DISPLAY", "")
        return (f"cannot capture the display {where} ({type(exc).__name__}: {exc}); the session may be locked "
                "or disconnected").replace("  ", " ")
    return None


DISPLAY_FIX = ("on a headless VM start Xvfb (e.g. `Xvfb :99 -screen 0 1280x800x24 & openbox &` and "
               "DISPLAY=:99) or log in a desktop session; a service account needs an interactive session")


def _env_problem() -> str | None:
    if IS_LINUX and not os.environ.get("DISPLAY"):
        if os.environ.get("WAYLAND_DISPLAY"):
            return ("no X display: this is a Wayland session without XWayland (DISPLAY is not set); "
                    "desktop nodes need X11")
        return "no display: DISPLAY is not set"
    xauthority_fallback()
    return None


def xauthority_fallback() -> None:
    """Point XAUTHORITY at a file that holds no usable cookie when there is no authority file.

    An X server started without access control (Xvfb on a headless VM, as the IT guide shows)
    needs no cookie, and X clients treat a missing file as "no cookie". The python3-xlib fork
    that pyautogui depends on raises instead, and it shares the ``Xlib`` folder with
    python-xlib, so which one answers depends on install order; python-xlib prints a warning
    for an empty file. One entry for no real display means "no cookie" to every X client."""
    if not IS_LINUX or os.environ.get("XAUTHORITY"):
        return
    home = os.environ.get("HOME")
    if home and os.path.exists(os.path.join(home, ".Xauthority")):
        return
    fd, path = tempfile.mkstemp(prefix="botloom-xauth-")
    os.close(fd)
    write_no_cookie_xauthority(path)
    atexit.register(_remove_quietly, path)
    os.environ["XAUTHORITY"] = path


def write_no_cookie_xauthority(path: str | os.PathLike) -> None:
    """An authority file with one entry that matches no display (local family, no such host)."""
    import struct

    def field(value: bytes) -> bytes:
        return struct.pack(">H", len(value)) + value

    entry = (struct.pack(">H", 256) + field(b"botloom-no-such-host") + field(b"65535")
             + field(b"MIT-MAGIC-COOKIE-1") + field(bytes(16)))
    Path(path).write_bytes(entry)


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def require_display(ctx=None) -> None:
    """Fail with a clear error when no display is usable. Inside a run (``ctx`` given) the
    preflight check has already captured the screen at the start, so only the environment is
    checked again (no X round trip per node)."""
    if ctx is not None:
        problem = _env_problem()
        if problem:
            raise DisplayError(problem, fix=DISPLAY_FIX)
        return
    problem = display_problem()
    if problem:
        raise DisplayError(problem, fix=DISPLAY_FIX)


def screen_scale() -> float:
    """The display's scaling factor (1.0 = 96 dpi / 100 %)."""
    for var in ("BOTLOOM_SCREEN_SCALE", "GDK_SCALE", "QT_SCALE_FACTOR"):
        value = os.environ.get(var)
        if value:
            try:
                return float(value)
            except ValueError:
                pass
    if sys.platform == "win32":  # pragma: no cover - Windows only
        try:
            import ctypes

            return ctypes.windll.shcore.GetScaleFactorForDevice(0) / 100.0
        except Exception:
            return 1.0
    if IS_LINUX and shutil.which("xrdb") and os.environ.get("DISPLAY"):
        import subprocess

        try:
            out = subprocess.run(["xrdb", "-query"], capture_output=True, text=True, timeout=5).stdout
            m = re.search(r"^Xft\.dpi:\s*([\d.]+)", out, re.M)
            if m:
                return round(float(m.group(1)) / 96.0, 2)
        except (OSError, subprocess.SubprocessError):
            pass
    return 1.0


# ---------------------------------------------------------------- bot settings
SETTINGS_KEYS = {"screen", "scale", "pace", "confidence", "scales", "failsafe", "type_engine", "timeout"}


def settings_of(ctx) -> dict:
    return ctx.settings("desktop") if ctx is not None else {}


def pace(ctx) -> float:
    try:
        return max(0.0, float(settings_of(ctx).get("pace", 0.0) or 0.0))
    except (TypeError, ValueError):
        raise NodeError(f"settings.desktop.pace must be a number of seconds, got {settings_of(ctx).get('pace')!r}",
                        kind="bad_input", fix='e.g. "pace": 0.2 for a slow application, 0 for full speed') from None


def gui(ctx=None):
    """pyautogui, imported after the display is known to work, with no pauses (or the bot's pace)."""
    if ctx is not None:
        def open_gui():  # (ctx.resource holds a lock while opening: no nested ctx.resource here)
            pag = ctx.require("pyautogui", INSTALL)
            _reconnect(pag)
            return pag

        require_display(ctx)
        pag = ctx.resource("desktop.pyautogui", open_gui)  # checked once per run
    else:
        require_display()
        import pyautogui as pag

        _reconnect(pag)
    pag.PAUSE = pace(ctx)
    pag.FAILSAFE = bool(settings_of(ctx).get("failsafe", False))
    pag.MINIMUM_DURATION = 0
    return pag


def _reconnect(pag) -> None:
    """pyautogui opens its X connection once, at import: reopen it when DISPLAY changed or
    the X server went away (a restarted server, a new login session)."""
    if not IS_LINUX:
        return
    x11 = getattr(pag, "platformModule", None)
    conn = getattr(x11, "_display", None)
    if conn is None:
        return
    display = os.environ.get("DISPLAY", "")
    alive = getattr(x11, "_botloom_display", display) == display
    if alive:
        try:
            conn.get_input_focus()
        except Exception:
            alive = False
    if not alive:
        from Xlib.display import Display

        try:
            conn.close()
        except Exception:
            pass
        x11._display = Display(display)
    x11._botloom_display = display


def human_wait(ctx) -> None:
    """The bot's pace between its own multi-step actions (0 by default: no wait)."""
    p = pace(ctx)
    if p:
        ctx.sleep(p)


# ---------------------------------------------------------------- preflight
def parse_screen(value: Any) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[x×X*]\s*(\d+)\s*", str(value))
    if not m:
        raise NodeError(f"settings.desktop.screen must look like '1280x800', got {value!r}", kind="bad_input",
                        where="settings.desktop.screen", fix='write the screen size as "WIDTHxHEIGHT", e.g. "1920x1080"')
    return int(m.group(1)), int(m.group(2))


def preflight(info) -> None:
    """Before an unattended run: a display exists, it can be captured, and its size and
    scaling are what the bot declares in ``settings.desktop``."""
    cfg = info.area("desktop")
    unknown = sorted(set(cfg) - SETTINGS_KEYS)
    if unknown:
        raise NodeError(f"unknown key(s) in settings.desktop: {', '.join(unknown)}", kind="bad_input",
                        where=f"{info.bot}: settings.desktop",
                        fix=f"use only: {', '.join(sorted(SETTINGS_KEYS))}")
    problem = display_problem()
    if problem:
        raise DisplayError(problem, where=info.bot, fix=DISPLAY_FIX)
    from . import screen

    width, height = screen.screen_size()  # display_problem() has just captured a pixel
    if "screen" in cfg and cfg["screen"]:
        want = parse_screen(cfg["screen"])
        if want != (width, height):
            raise DisplayError(f"the screen is {width}x{height} but the bot declares {want[0]}x{want[1]} "
                               "(settings.desktop.screen)", kind="screen_mismatch", where=info.bot,
                               fix=f"set the display resolution to {want[0]}x{want[1]} (for Xvfb: -screen 0 "
                                   f"{want[0]}x{want[1]}x24), or re-record the bot and change settings.desktop.screen")
    if "scale" in cfg and cfg["scale"] not in (None, ""):
        try:
            want_scale = float(cfg["scale"])
        except (TypeError, ValueError):
            raise NodeError(f"settings.desktop.scale must be a number such as 1.0 or 1.25, got {cfg['scale']!r}",
                            kind="bad_input", where=f"{info.bot}: settings.desktop.scale") from None
        actual = screen_scale()
        if abs(actual - want_scale) > 0.01:
            raise DisplayError(f"the display scaling is {actual:.0%} but the bot declares {want_scale:.0%} "
                               "(settings.desktop.scale)", kind="scale_mismatch", where=info.bot,
                               fix=f"set the display scaling to {want_scale:.0%}, or change settings.desktop.scale "
                                   "(image targets are matched at several scales, point targets are not)")
    pace_value = cfg.get("pace", 0)
    if not isinstance(pace_value, (int, float)) or isinstance(pace_value, bool) or pace_value < 0:
        raise NodeError(f"settings.desktop.pace must be a number of seconds >= 0, got {pace_value!r}",
                        kind="bad_input", where=f"{info.bot}: settings.desktop.pace")


# ---------------------------------------------------------------- failure evidence
def save_evidence(ctx, label: str = "failure") -> str | None:
    """Screenshot of the whole screen kept with the run; returns its path (None if no display)."""
    if display_problem():
        return None
    try:
        from . import screen

        image = screen.grab()
        folder = Path(tempfile.mkdtemp(prefix="botloom-desktop-"))
        tmp = folder / f"{ctx.node_id}-{label}.png"
        screen.save_png(image, str(tmp))
        kept = ctx.artifact(tmp, kind="screenshot")
        shutil.rmtree(folder, ignore_errors=True)
        return str(kept)
    except Exception:  # evidence is best effort: never hide the original failure
        return None


def with_evidence(fn: Callable) -> Callable:
    """Wrap a node function: on failure, keep a screenshot with the run and name it (and the
    best match score, when the failure carries one) in the error."""

    @functools.wraps(fn)
    def run(ctx, **params):
        try:
            return fn(ctx, **params)
        except RunCancelled:
            raise
        except DisplayError:
            raise
        except NodeError as exc:
            raise _attach(ctx, exc) from None
        except BotloomError:
            raise
        except Exception as exc:  # a library failure (pyautogui, X error...): still a clear NodeError
            err = NodeError(f"{type(exc).__name__}: {exc}", kind="desktop",
                            fix="see the screenshot kept with the run; check that the application is in the "
                                "state the bot expects")
            raise _attach(ctx, err) from exc

    return run


def _attach(ctx, exc: NodeError) -> NodeError:
    if exc.details.get("screenshot"):
        return exc
    shot = save_evidence(ctx)
    if shot:
        exc.details["screenshot"] = shot
        exc.message = f"{exc.message} (screenshot: {shot})"
        exc.args = (exc.message,)
    return exc
