"""Windows: launch an application, list/find/wait for windows, activate, move, resize,
minimise, maximise, close.

On X11 windows are read with python-xlib (EWMH client list, exact client geometry) and
changed with xdotool/wmctrl, which work under any EWMH window manager; elsewhere pywinctl.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass

from botloom.runner.sdk import NodeError, NodeTimeoutError, Output, Param, node

from .session import IS_LINUX, preflight, require_display, with_evidence

CATEGORY = "Desktop"


@dataclass
class Window:
    id: str
    title: str
    pid: int
    process: str
    x: int
    y: int
    width: int
    height: int
    minimized: bool = False
    active: bool = False
    wm_class: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.width, self.height


def _process_name(pid: int) -> str:
    if pid <= 0:
        return ""
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8") as fh:
            return fh.read().strip()
    except OSError:
        return ""


# ---------------------------------------------------------------- X11 backend
class _X11:
    def __init__(self):
        from Xlib import display as xdisplay

        from .session import xauthority_fallback

        xauthority_fallback()
        self.dpy = xdisplay.Display(os.environ.get("DISPLAY"))
        self.root = self.dpy.screen().root
        self.atoms: dict[str, int] = {}

    def atom(self, name: str) -> int:
        if name not in self.atoms:
            self.atoms[name] = self.dpy.intern_atom(name)
        return self.atoms[name]

    def prop(self, win, name: str, kind=0):
        from Xlib import X

        try:
            value = win.get_full_property(self.atom(name), kind or X.AnyPropertyType)
        except Exception:
            return None
        return value.value if value is not None else None

    def _active_id(self) -> int:
        active = self.prop(self.root, "_NET_ACTIVE_WINDOW")
        return int(active[0]) if active is not None and len(active) else 0

    def _window(self, wid: int, active_id: int) -> Window | None:
        win = self.dpy.create_resource_object("window", int(wid))
        try:
            name = self.prop(win, "_NET_WM_NAME", self.atom("UTF8_STRING"))
            if name is None:
                name = self.prop(win, "WM_NAME")
            title = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name or "")
            pid_v = self.prop(win, "_NET_WM_PID")
            pid = int(pid_v[0]) if pid_v is not None and len(pid_v) else 0
            cls = win.get_wm_class() or ("", "")
            state = self.prop(win, "_NET_WM_STATE")
            hidden = self.atom("_NET_WM_STATE_HIDDEN") in (list(state) if state is not None else [])
            geo = win.get_geometry()
            pos = win.translate_coords(self.root, 0, 0)
            return Window(id=hex(int(wid)), title=title, pid=pid, process=_process_name(pid),
                          x=-pos.x, y=-pos.y, width=geo.width, height=geo.height, minimized=hidden,
                          active=int(wid) == active_id, wm_class=".".join(c for c in cls if c))
        except Exception:  # the window went away while we looked
            return None

    def windows(self) -> list[Window]:
        ids = self.prop(self.root, "_NET_CLIENT_LIST")
        active_id = self._active_id()
        found = [self._window(int(wid), active_id) for wid in (ids if ids is not None else [])]
        return [w for w in found if w is not None]

    def active(self) -> Window | None:
        """The active window alone (cheaper than listing every window)."""
        active_id = self._active_id()
        return self._window(active_id, active_id) if active_id else None

    def close(self):
        self.dpy.close()


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    tool = argv[0]
    if shutil.which(tool) is None:
        raise NodeError(f"the system tool '{tool}' is not installed", kind="missing_dependency",
                        fix="apt-get install -y --no-install-recommends xdotool wmctrl xclip (see installer/apt/desktop.txt)")
    return subprocess.run(argv, capture_output=True, text=True, timeout=20)


def list_all() -> list[Window]:
    require_display()
    if IS_LINUX:
        x = _X11()
        try:
            return x.windows()
        finally:
            x.close()
    import pywinctl  # pragma: no cover - Windows / macOS

    found = []
    active = pywinctl.getActiveWindow()
    for w in pywinctl.getAllWindows():
        pid = w.getPID() or 0
        found.append(Window(id=str(w.getHandle()), title=w.title, pid=pid, process=w.getAppName() or "",
                            x=w.left, y=w.top, width=w.width, height=w.height, minimized=w.isMinimized,
                            active=active is not None and active.getHandle() == w.getHandle()))
    return found


def _compile(pattern: str, what: str = "title") -> re.Pattern:
    try:
        return re.compile(pattern, re.I)
    except re.error as exc:
        raise NodeError(f"the window {what} pattern '{pattern}' is not a valid regular expression: {exc}",
                        kind="bad_input", fix="escape special characters such as ( ) [ ] . * + ? with a backslash, "
                                              "or use a plain part of the title") from None


def matching(windows: list[Window], title: str = "", process: str = "") -> list[Window]:
    rx = _compile(title) if title else None
    out = []
    for w in windows:
        if rx is not None and not rx.search(w.title):
            continue
        if process:
            p = str(process)
            if p.isdigit():
                if w.pid != int(p):
                    continue
            elif p.lower() not in (w.process.lower(), *w.wm_class.lower().split(".")):
                continue
        out.append(w)
    # the active window first, then the most recently listed (newest)
    return sorted(out, key=lambda w: (not w.active, -out.index(w)))


def title_pattern(title: str) -> str:
    """A window title pattern that survives the changing part of a title: 'Untitled 1 - Mousepad'
    -> '- Mousepad$'; 'Save As' -> '^Save As$' (what recorded and picked targets name)."""
    title = title.strip()
    for sep in (" - ", " — "):
        if sep in title:
            return re.escape(sep.lstrip() + title.rsplit(sep, 1)[1]) + "$"
    return "^" + re.escape(title) + "$" if title else ""


def top_window_at(windows: list[Window], x: int, y: int) -> Window | None:
    """The window under a screen point: the active one if it is there, else the newest listed."""
    found = [w for w in windows if not w.minimized and w.x <= x < w.x + w.width and w.y <= y < w.y + w.height]
    if not found:
        return None
    active = [w for w in found if w.active]
    return active[0] if active else found[-1]


def window_at(x: int, y: int, skip_pids: tuple[int, ...] = ()) -> dict | None:
    """The window under a screen point as a picker shows it (the capability ``desktop.window_at``):
    title, pattern (see :func:`title_pattern`), process, x, y, width, height; None over the desktop."""
    win = top_window_at([w for w in list_all() if w.pid not in skip_pids], int(x), int(y))
    if win is None:
        return None
    return {"title": win.title, "pattern": title_pattern(win.title), "process": win.process, "x": win.x, "y": win.y,
            "width": win.width, "height": win.height}


def describe_windows(windows: list[Window], limit: int = 15) -> str:
    if not windows:
        return "no windows are open"
    shown = [f"'{w.title}' ({w.process or w.wm_class or 'pid ' + str(w.pid)})" for w in windows[:limit]]
    more = f" and {len(windows) - limit} more" if len(windows) > limit else ""
    return "open windows: " + ", ".join(shown) + more


def not_found_error(title: str, process: str, windows: list[Window], waited: float | None = None) -> NodeError:
    what = " and ".join(x for x in (f"title /{title}/" if title else "", f"process '{process}'" if process else "") if x)
    after = f" within {waited:g} s" if waited else ""
    return NodeError(f"no window with {what or 'any title'}{after}; {describe_windows(windows)}", kind="not_found",
                     details={"title": title, "process": process, "windows": [w.title for w in windows]},
                     fix="check the title pattern (a case-insensitive regular expression matched anywhere in the "
                         "title) and that the application is running; add a 'wait for window' node before")


def find(title: str = "", process: str = "", timeout: float = 0.0, ctx=None) -> Window:
    """The best window matching title/process, waiting up to ``timeout`` seconds."""
    deadline = time.monotonic() + max(0.0, timeout)
    while True:
        windows = list_all()
        found = matching(windows, title, process)
        if found:
            return found[0]
        if time.monotonic() >= deadline:
            raise not_found_error(title, process, windows, timeout or None)
        if ctx is not None:
            ctx.sleep(0.1)
        else:
            time.sleep(0.1)


def refresh(win: Window) -> Window:
    for w in list_all():
        if w.id == win.id:
            return w
    raise NodeError(f"the window '{win.title}' is gone", kind="not_found",
                    fix="the application closed it; re-open the application or wait for its window")


# ---------------------------------------------------------------- actions
def activate(win: Window) -> None:
    if IS_LINUX:
        if win.minimized:
            _run(["wmctrl", "-i", "-r", win.id, "-b", "remove,hidden"])
        _run(["wmctrl", "-i", "-a", win.id])
        # wait until the window manager made it active (keyboard input goes there afterwards)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            if any(w.id == win.id and w.active for w in list_all()):
                return
            time.sleep(0.02)
        raise NodeError(f"the window '{win.title}' could not be activated", kind="desktop",
                        fix="a window manager must run (on Xvfb start openbox); a modal dialog may block it")
    _pywinctl(win).activate(wait=True)  # pragma: no cover


def _frame_extents(win: Window) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) of the window manager's frame around the client area."""
    x = _X11()
    try:
        value = x.prop(x.dpy.create_resource_object("window", int(win.id, 16)), "_NET_FRAME_EXTENTS")
        return tuple(int(v) for v in value[:4]) if value is not None and len(value) >= 4 else (0, 0, 0, 0)
    finally:
        x.close()


def move_resize(win: Window, x=None, y=None, width=None, height=None) -> None:
    """Put the window's client area (inside its frame) at x, y with the given size."""
    if IS_LINUX:
        _run(["wmctrl", "-i", "-r", win.id, "-b", "remove,maximized_vert,maximized_horz"])
        want_w = int(width) if width is not None else win.width
        want_h = int(height) if height is not None else win.height
        want_x = int(x) if x is not None else win.x
        want_y = int(y) if y is not None else win.y
        left, _, top, _ = _frame_extents(win)
        fx, fy = want_x - left, want_y - top  # EWMH moves place the frame's outer corner
        now = win
        for _ in range(3):
            _run(["wmctrl", "-i", "-r", win.id, "-e", f"0,{fx},{fy},{want_w},{want_h}"])
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                now = refresh(win)
                if now.box == (want_x, want_y, want_w, want_h) or now.box != win.box:
                    break
                time.sleep(0.02)
            now = _settle_geometry(win)
            if (now.x, now.y) == (want_x, want_y):
                break
            fx, fy = fx + want_x - now.x, fy + want_y - now.y
        return
    w = _pywinctl(win)  # pragma: no cover
    if width is not None or height is not None:
        w.resizeTo(int(width or win.width), int(height or win.height), wait=True)
    if x is not None or y is not None:
        w.moveTo(int(x if x is not None else win.x), int(y if y is not None else win.y), wait=True)


def _settle_geometry(win: Window) -> Window:
    last = None
    for _ in range(50):
        now = refresh(win)
        if last is not None and now.box == last.box:
            return now
        last = now
        time.sleep(0.02)
    return last


def set_state(win: Window, action: str) -> None:
    if IS_LINUX:
        wid = win.id
        if action == "minimize":
            _run(["xdotool", "windowminimize", str(int(wid, 16))])
        elif action == "maximize":
            _run(["wmctrl", "-i", "-r", wid, "-b", "add,maximized_vert,maximized_horz"])
        elif action == "restore":
            _run(["wmctrl", "-i", "-r", wid, "-b", "remove,maximized_vert,maximized_horz,hidden"])
            _run(["wmctrl", "-i", "-a", wid])
        elif action == "close":
            _run(["wmctrl", "-i", "-c", wid])
        return
    w = _pywinctl(win)  # pragma: no cover
    {"minimize": w.minimize, "maximize": w.maximize, "restore": w.restore, "close": w.close}[action]()


def _pywinctl(win: Window):  # pragma: no cover - Windows / macOS
    import pywinctl

    for w in pywinctl.getAllWindows():
        if str(w.getHandle()) == win.id:
            return w
    raise NodeError(f"the window '{win.title}' is gone", kind="not_found")


def _wait_until(ctx, predicate, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        ctx.sleep(step)


# ---------------------------------------------------------------- nodes
WINDOW_PARAMS = [
    Param("title", "string", default="", description="A case-insensitive regular expression matched anywhere in the "
                                                     "window title, e.g. 'Mousepad$' or '^Calculator'."),
    Param("process", "string", default="", advanced=True,
          description="The application's process name (e.g. mousepad), its window class, or a process id."),
]
WINDOW_OUT = Output("window", "object", "The window: id, title, pid, process, x, y, width, height, minimized, active.")


def start_program(command: str, args=(), cwd: str | None = None) -> subprocess.Popen:
    """Start a desktop program in a session of its own (its process group can be stopped
    whole), with accessibility on; a clear error when it cannot start."""
    argv = shlex.split(command, posix=os.name != "nt") + [str(a) for a in (args or [])]
    if not argv:
        raise NodeError("no command given", kind="bad_input", fix="fill 'command' with the program to start")
    try:
        return subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True, env=launch_env())
    except FileNotFoundError:
        raise NodeError(f"cannot start '{argv[0]}': no such program", kind="not_found",
                        fix="give the full path of the program or install it; check the spelling") from None
    except OSError as exc:
        raise NodeError(f"cannot start '{argv[0]}': {exc.strerror or exc}", kind="io",
                        fix="check the program's path and permissions") from None


def launch_env() -> dict:
    """The environment an application starts with: accessibility on, so that element selectors
    can read its tree (on Linux: the session's toolkits are told through org.a11y.Status)."""
    from . import a11y

    if IS_LINUX and os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        try:
            a11y.backend().conn()  # starts the accessibility bus and turns accessibility on
        except Exception:  # noqa: BLE001 - no accessibility: the application still starts
            pass
    return a11y.app_env()


def _need_filter(title: str, process: str) -> None:
    if not title and not process:
        raise NodeError("give a window title pattern or a process", kind="bad_input",
                        fix="fill 'title' with a part of the window's title")


@node("desktop.launch", title="Launch application", category=CATEGORY, icon="rocket", side_effects=True,
      preflight=preflight,
      params=[Param("command", "string", required=True,
                    description="The program and its arguments, e.g. mousepad or \"C:\\\\Apps\\\\crm.exe\" /user x."),
              Param("args", "list", default=[], advanced=True, description="Extra arguments (one per item)."),
              Param("cwd", "path", default="", path="folder", advanced=True, description="Working folder."),
              Param("wait_title", "string", default="",
                    description="Wait for a window whose title matches this pattern (recommended)."),
              Param("timeout", "number", default=30, minimum=0, description="Seconds to wait for the window.")],
      outputs=[Output("pid", "integer", "Process id of the started program."), WINDOW_OUT],
      aliases=("start program", "open application", "run program", "exec"))
@with_evidence
def launch(ctx, command, args, cwd, wait_title, timeout):
    """Starts a desktop application and (optionally) waits for its main window."""
    require_display(ctx)
    proc = start_program(command, args, str(ctx.path(cwd)) if cwd else None)
    ctx.log(f"started {proc.args[0]} (pid {proc.pid})", "debug")
    window: dict = {}
    if wait_title:
        try:
            win = find(wait_title, "", float(timeout), ctx)
        except NodeError as exc:
            if proc.poll() is not None:
                exc.message += f" (the program exited with code {proc.returncode})"
            raise
        window = win.to_dict()
    return {"pid": proc.pid, "window": window}


@node("desktop.list_windows", title="List windows", category=CATEGORY, icon="window", preflight=preflight,
      params=WINDOW_PARAMS,
      outputs=[Output("windows", "list", "Matching windows, the active one first."),
               Output("count", "integer", "How many matched.")],
      aliases=("get windows", "find windows", "enumerate windows"))
@with_evidence
def list_windows(ctx, title, process):
    """Lists the open windows, optionally only those whose title or process matches."""
    found = matching(list_all(), title, process)
    return {"windows": [w.to_dict() for w in found], "count": len(found)}


@node("desktop.find_window", title="Find window", category=CATEGORY, icon="search", preflight=preflight,
      params=WINDOW_PARAMS, outputs=[WINDOW_OUT, Output("found", "boolean")], ports=("found", "missing"),
      aliases=("window exists", "get window"))
@with_evidence
def find_window(ctx, title, process):
    """Finds a window by title pattern or process; leaves through 'missing' when there is none."""
    from botloom.runner.sdk import Next

    _need_filter(title, process)
    found = matching(list_all(), title, process)
    if not found:
        return Next("missing", {"window": {}, "found": False})
    return Next("found", {"window": found[0].to_dict(), "found": True})


@node("desktop.wait_window", title="Wait for window", category=CATEGORY, icon="hourglass", preflight=preflight,
      params=[*WINDOW_PARAMS,
              Param("state", "string", default="open", choices=("open", "closed", "active")),
              Param("timeout", "number", default=30, minimum=0, description="Seconds to wait.")],
      outputs=[WINDOW_OUT], aliases=("wait for window", "window appears", "window closes"))
@with_evidence
def wait_window(ctx, title, process, state, timeout):
    """Waits until a window is open (or active, or closed)."""
    _need_filter(title, process)
    result: dict = {}

    def ready():
        windows = list_all()
        found = matching(windows, title, process)
        result["windows"] = windows
        if state == "closed":
            return not found
        if state == "active":
            found = [w for w in found if w.active]
        if found:
            result["window"] = found[0]
            return True
        return False

    if not _wait_until(ctx, ready, float(timeout), 0.1):
        if state == "closed":
            raise NodeTimeoutError(f"the window /{title}/ was still open after {float(timeout):g} s",
                                   fix="close it first, or raise the timeout")
        err = not_found_error(title, process, result.get("windows", []), float(timeout))
        if state == "active":
            err.message = err.message.replace("no window", "no active window", 1)
        raise NodeTimeoutError(err.message, fix=err.fix, details=err.details)
    win = result.get("window")
    return {"window": win.to_dict() if win else {}}


@node("desktop.activate_window", title="Activate window", category=CATEGORY, icon="window", side_effects=True,
      idempotent=True, preflight=preflight,
      params=[*WINDOW_PARAMS, Param("timeout", "number", default=5, minimum=0, advanced=True,
                                    description="Seconds to wait for the window to exist.")],
      outputs=[WINDOW_OUT], aliases=("focus window", "bring to front", "switch to window"))
@with_evidence
def activate_window(ctx, title, process, timeout):
    """Brings a window to the front and gives it the keyboard focus (restoring it if minimised)."""
    _need_filter(title, process)
    win = find(title, process, float(timeout), ctx)
    activate(win)
    return {"window": refresh(win).to_dict()}


@node("desktop.move_window", title="Move / resize window", category=CATEGORY, icon="move", side_effects=True,
      idempotent=True, preflight=preflight,
      params=[*WINDOW_PARAMS,
              Param("x", "integer", default=None, description="New left edge (screen pixels); empty keeps it."),
              Param("y", "integer", default=None, description="New top edge; empty keeps it."),
              Param("width", "integer", default=None, minimum=1, description="New width; empty keeps it."),
              Param("height", "integer", default=None, minimum=1, description="New height; empty keeps it.")],
      outputs=[WINDOW_OUT], aliases=("resize window", "set window position", "set window size"))
@with_evidence
def move_window(ctx, title, process, x, y, width, height):
    """Moves and/or resizes a window (its client area, without the title bar)."""
    _need_filter(title, process)
    win = find(title, process, 0, ctx)
    from . import screen

    sw, sh = screen.screen_size()
    if x is not None and not (-10_000 < int(x) < sw) or y is not None and not (-10_000 < int(y) < sh):
        raise NodeError(f"the position {x}, {y} is outside the {sw}x{sh} screen", kind="bad_input",
                        fix=f"use x between 0 and {sw - 1} and y between 0 and {sh - 1}")
    move_resize(win, x, y, width, height)
    return {"window": _settle_geometry(win).to_dict()}


@node("desktop.window_state", title="Minimise / maximise / restore / close window", category=CATEGORY,
      icon="window", side_effects=True, idempotent=True, preflight=preflight,
      params=[*WINDOW_PARAMS,
              Param("action", "string", required=True, choices=("minimize", "maximize", "restore", "close")),
              Param("wait", "boolean", default=True, advanced=True,
                    description="For close: wait until the window is gone (up to 'timeout')."),
              Param("timeout", "number", default=10, minimum=0, advanced=True)],
      outputs=[WINDOW_OUT],
      aliases=("minimise window", "minimize window", "maximize window", "close window", "restore window"))
@with_evidence
def window_state(ctx, title, process, action, wait, timeout):
    """Minimises, maximises, restores or closes a window (closing asks it politely, like its X button)."""
    _need_filter(title, process)
    win = find(title, process, 0, ctx)
    set_state(win, action)
    if action == "close":
        if wait and not _wait_until(ctx, lambda: all(w.id != win.id for w in list_all()), float(timeout)):
            raise NodeTimeoutError(f"the window '{win.title}' did not close within {float(timeout):g} s "
                                   f"(it may be asking to save changes)",
                                   fix="handle its dialog (e.g. a hotkey or a click on 'Don't save'), then wait "
                                       "for the window to close")
        return {"window": win.to_dict()}
    if action == "minimize":
        _wait_until(ctx, lambda: refresh(win).minimized, 3)
    return {"window": refresh(win).to_dict()}
