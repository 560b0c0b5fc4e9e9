"""Mouse, keyboard and clipboard: click, move, drag, scroll, type text, hotkeys, keys,
clipboard get/set. No fixed human-speed pauses unless the bot sets settings.desktop.pace.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

from botloom.runner.sdk import NodeError, Output, Param, node

from . import targets as tg
from .session import IS_LINUX, gui, human_wait, pace, preflight, require_display, with_evidence

CATEGORY = "Desktop"
BUTTONS = ("left", "right", "middle")

TARGET_HELP = ('Where: {"kind": "image", "image": "images/ok.png"}, {"kind": "point", "x": 10, "y": 20, '
               '"window": "Title"} or {"kind": "text", "text": "Save"}; optional "fallbacks": [...]. '
               "See docs/desktop.md.")


def target_param(name: str = "target", required: bool = True, description: str = TARGET_HELP) -> Param:
    if required:
        return Param(name, "object", required=True, widget="screen-target", description=description)
    return Param(name, "object", default=None, widget="screen-target", description=description)


TIMEOUT = Param("timeout", "number", default=5, minimum=0,
                description="Seconds to keep looking for the target (image, text, or a window that is not open yet).")
HIT_OUT = Output("match", "object", "Where the target was found: x, y, box, kind, score, scale, fallback "
                                    "(0 = the target itself), target.")


def _hold(pag, keys):
    keys = [str(k).strip().lower() for k in (keys or []) if str(k).strip()]
    for k in keys:
        _check_key(pag, k)
    return keys


def _check_key(pag, key: str) -> str:
    if key not in pag.KEYBOARD_KEYS and len(key) != 1:
        import difflib

        close = difflib.get_close_matches(key, pag.KEYBOARD_KEYS, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise NodeError(f"unknown key '{key}'{hint}", kind="bad_input",
                        fix="use key names such as enter, tab, esc, backspace, delete, up, down, left, right, "
                            "home, end, pageup, pagedown, f1..f12, ctrl, alt, shift, win, or a single character")
    return key


def _click_at(ctx, pag, x, y, button, clicks, hold):
    for k in hold:
        pag.keyDown(k)
    try:
        if clicks > 1 and IS_LINUX and _x11_multi_click(pag, x, y, button, clicks):
            return
        pag.click(x, y, clicks=clicks, interval=0.0, button=button)
    finally:
        for k in reversed(hold):
            pag.keyUp(k)


def _x11_multi_click(pag, x, y, button, clicks) -> bool:
    """A double or triple click on X11 sent as one batch of requests, flushed once: the X
    server stamps every press within a millisecond, so a loaded machine that pauses this
    process between two clicks cannot turn a double click into two single ones (toolkits
    count a double click only within about 400 ms)."""
    x11 = getattr(pag, "platformModule", None)
    conn = getattr(x11, "_display", None)
    number = getattr(x11, "BUTTON_NAME_MAPPING", {}).get(button)
    if conn is None or number is None:
        return False
    from Xlib import X
    from Xlib.ext.xtest import fake_input

    pag.moveTo(x, y)
    for _ in range(clicks):
        fake_input(conn, X.ButtonPress, number)
        fake_input(conn, X.ButtonRelease, number)
    conn.sync()
    return True


def _click_target(ctx, target, timeout, button, clicks, hold=()):
    """Find ``target`` and click it; the node's output."""
    pag = gui(ctx)
    hit = tg.locate(ctx, target, timeout)
    _click_at(ctx, pag, hit.x, hit.y, button, clicks, _hold(pag, hold))
    return {"match": hit.to_dict()}


@node("desktop.click", title="Click", category=CATEGORY, icon="mouse", side_effects=True, preflight=preflight, lint=tg.lint_targets,
      params=[target_param(),
              Param("button", "string", default="left", choices=BUTTONS),
              Param("clicks", "integer", default=1, minimum=1, maximum=3, description="2 for a double click."),
              Param("hold", "list", default=[], advanced=True,
                    description="Keys held during the click, e.g. [\"ctrl\"] or [\"shift\"]."),
              TIMEOUT],
      outputs=[HIT_OUT],
      aliases=("click image", "click text", "click button", "mouse click", "press button", "tap"))
@with_evidence
def click(ctx, target, button, clicks, hold, timeout):
    """Clicks a target: a point in a window, an image on the screen or a text label (OCR)."""
    return _click_target(ctx, target, timeout, button, clicks, hold)


@node("desktop.double_click", title="Double click", category=CATEGORY, icon="mouse", side_effects=True,
      preflight=preflight, lint=tg.lint_targets, params=[target_param(), TIMEOUT], outputs=[HIT_OUT], aliases=("dblclick", "open item"))
@with_evidence
def double_click(ctx, target, timeout):
    """Double-clicks a target."""
    return _click_target(ctx, target, timeout, "left", 2)


@node("desktop.right_click", title="Right click", category=CATEGORY, icon="mouse", side_effects=True,
      preflight=preflight, lint=tg.lint_targets, params=[target_param(), TIMEOUT], outputs=[HIT_OUT], aliases=("context menu",))
@with_evidence
def right_click(ctx, target, timeout):
    """Right-clicks a target (opens its context menu)."""
    return _click_target(ctx, target, timeout, "right", 1)


@node("desktop.move_mouse", title="Move mouse", category=CATEGORY, icon="mouse", side_effects=True,
      idempotent=True, preflight=preflight, lint=tg.lint_targets,
      params=[target_param(), TIMEOUT,
              Param("duration", "number", default=0, minimum=0, advanced=True,
                    description="Seconds the movement takes (0: jump; some menus need a visible movement).")],
      outputs=[HIT_OUT], aliases=("hover", "mouse over", "point at"))
@with_evidence
def move_mouse(ctx, target, timeout, duration):
    """Moves the mouse pointer onto a target (hover)."""
    pag = gui(ctx)
    hit = tg.locate(ctx, target, timeout)
    pag.moveTo(hit.x, hit.y, duration=float(duration or 0))
    return {"match": hit.to_dict()}


@node("desktop.drag", title="Drag", category=CATEGORY, icon="mouse", side_effects=True, preflight=preflight, lint=tg.lint_targets,
      params=[target_param("source", description="Where the drag starts. " + TARGET_HELP),
              target_param("destination", description="Where it is dropped. " + TARGET_HELP),
              Param("button", "string", default="left", choices=BUTTONS),
              Param("duration", "number", default=0.2, minimum=0, advanced=True,
                    description="Seconds the movement takes (applications need a few motion events)."),
              TIMEOUT],
      outputs=[Output("source", "object"), Output("destination", "object")],
      aliases=("drag and drop", "drop", "move item", "select range"))
@with_evidence
def drag(ctx, source, destination, button, duration, timeout):
    """Presses the mouse on one target, moves to another and releases it there."""
    pag = gui(ctx)
    a = tg.locate(ctx, source, timeout)
    b = tg.locate(ctx, destination, timeout)
    pag.moveTo(a.x, a.y)
    pag.mouseDown(button=button)
    try:
        steps = max(2, int(float(duration) / 0.02)) if duration else 2
        for i in range(1, steps + 1):
            pag.moveTo(a.x + (b.x - a.x) * i // steps, a.y + (b.y - a.y) * i // steps)
            if duration:
                time.sleep(float(duration) / steps)
    finally:
        pag.mouseUp(button=button)
    return {"source": a.to_dict(), "destination": b.to_dict()}


@node("desktop.scroll", title="Scroll", category=CATEGORY, icon="mouse", side_effects=True, preflight=preflight, lint=tg.lint_targets,
      params=[Param("amount", "integer", default=-3,
                    description="Wheel steps: negative scrolls down (or right), positive up (or left)."),
              Param("direction", "string", default="vertical", choices=("vertical", "horizontal")),
              target_param(required=False, description="Where to scroll (empty: where the mouse is). " + TARGET_HELP),
              TIMEOUT],
      outputs=[HIT_OUT], aliases=("mouse wheel", "scroll down", "scroll up"))
@with_evidence
def scroll(ctx, amount, direction, target, timeout):
    """Turns the mouse wheel, over a target or where the mouse is."""
    pag = gui(ctx)
    hit = tg.locate(ctx, target, timeout) if target else None
    if hit is not None:
        pag.moveTo(hit.x, hit.y)
    amount = int(amount)
    if direction == "horizontal":
        pag.hscroll(-amount)  # pyautogui: positive = right; here negative = right, like down
    else:
        pag.scroll(amount)
    return {"match": hit.to_dict() if hit else {}}


# ---------------------------------------------------------------- keyboard
TYPE_ENGINES = ("auto", "keys", "xdotool", "clipboard")


def _xdotool_type(text: str, delay_ms: int) -> None:
    proc = subprocess.run(["xdotool", "type", "--clearmodifiers", "--delay", str(delay_ms), "--", text],
                          capture_output=True, text=True, timeout=60 + len(text) * max(delay_ms, 5) / 1000)
    if proc.returncode != 0:
        raise NodeError(f"xdotool could not type the text: {proc.stderr.strip()}", kind="desktop")


def paste_text(pag, text: str) -> None:
    """Paste ``text`` through the clipboard and wait until the application has taken it."""
    if not text:
        return
    keys = ("command", "v") if sys.platform == "darwin" else ("ctrl", "v")
    if IS_LINUX:
        from .clip_x11 import PasteOwner

        owner = PasteOwner(text)
        try:
            pag.hotkey(*keys, interval=0.0)
            if not owner.wait_taken(5.0):
                raise NodeError("the application did not take the pasted text (Ctrl+V) within 5 s", kind="desktop",
                                fix="make sure a text field has the keyboard focus (click it first), or use "
                                    "engine 'xdotool'")
        finally:
            owner.close()
        return
    import pyperclip  # pragma: no cover - Windows / macOS

    previous = pyperclip.paste()
    pyperclip.copy(text)
    pag.hotkey(*keys, interval=0.0)
    time.sleep(0.15)  # the application reads the clipboard asynchronously
    pyperclip.copy(previous)


def _segments(text: str):
    """Split at newlines and tabs (pressed as Enter / Tab keys); each piece between them is
    typed as keys when it is ASCII, else pasted whole (fewer pastes = fewer round trips)."""
    import re

    out: list[tuple[str, str]] = []
    for piece in re.split(r"(\r\n|\n|\t)", text):
        if piece in ("\r\n", "\n"):
            out.append(("key", "enter"))
        elif piece == "\t":
            out.append(("key", "tab"))
        elif piece:
            piece = piece.replace("\r", "")
            out.append(("keys" if all(ord(c) < 128 for c in piece) else "paste", piece))
    return out


def type_text_now(ctx, pag, text: str, engine: str, interval: float) -> str:
    """Type ``text`` with the chosen engine; returns the engine used."""
    ascii_only = all(ord(c) < 128 for c in text)
    if engine == "auto" and ascii_only:
        engine = "keys"
    if engine == "keys":
        if not ascii_only:
            bad = sorted({c for c in text if ord(c) >= 128})
            raise NodeError(f"the 'keys' engine cannot type {''.join(bad)!r} (only ASCII)", kind="bad_input",
                            fix="use engine 'auto' or 'clipboard' for accented letters, € or CJK")
        pag.write(text, interval=interval)
    elif engine == "auto":
        # ASCII as key presses, other characters pasted, Enter/Tab as keys (so they still submit / move)
        for kind, part in _segments(text):
            if kind == "keys":
                pag.write(part, interval=interval)
            elif kind == "key":
                pag.press(part)
            else:
                paste_text(pag, part)
            if interval:
                time.sleep(interval)
        engine = "auto (keys + clipboard)"
    elif engine == "xdotool":
        if shutil.which("xdotool") is None:
            raise NodeError("the xdotool engine needs the xdotool program", kind="missing_dependency",
                            fix="apt-get install -y xdotool, or use engine 'clipboard'")
        _xdotool_type(text, max(12, int(interval * 1000)))
    else:
        paste_text(pag, text)
    return engine


@node("desktop.type_text", title="Type text", category=CATEGORY, icon="keyboard", side_effects=True,
      preflight=preflight, lint=tg.lint_targets,
      params=[Param("text", "string", required=True, multiline=True,
                    description="The text; newlines press Enter. Accented letters, € and CJK are typed too."),
              target_param(required=False, description="Click this target first (empty: type where the focus is). "
                                                         + TARGET_HELP),
              Param("engine", "string", default="auto", choices=TYPE_ENGINES, advanced=True,
                    description="auto: key presses for ASCII, the clipboard for other characters; keys: key "
                                "presses (ASCII only); clipboard: paste all; xdotool: xdotool type (X11)."),
              Param("interval", "number", default=None, minimum=0, advanced=True,
                    description="Seconds between characters (empty: the bot's pace, 0 by default)."),
              TIMEOUT],
      outputs=[Output("engine", "string", "The engine that typed the text.")],
      aliases=("send keys", "enter text", "input text", "write text", "fill"))
@with_evidence
def type_text(ctx, text, target, engine, interval, timeout):
    """Types text into the focused control (or into a target it clicks first)."""
    pag = gui(ctx)
    if target:
        hit = tg.locate(ctx, target, timeout)
        pag.click(hit.x, hit.y)
        human_wait(ctx)
    step = float(interval) if interval is not None else min(pace(ctx), 0.05)
    saved, pag.PAUSE = pag.PAUSE, 0  # the pace applies between characters (interval), not per key event
    try:
        used = type_text_now(ctx, pag, str(text), engine, step)
    finally:
        pag.PAUSE = saved
    return {"engine": used}


def parse_keys(pag, keys) -> list[str]:
    if isinstance(keys, (list, tuple)):
        parts = [str(k) for k in keys]
    else:
        text = str(keys).strip()
        parts = ["+"] if text == "+" else [p for p in text.replace(" ", "").split("+") if p] or []
        if text.endswith("++"):
            parts.append("+")
    if not parts:
        raise NodeError("no keys given", kind="bad_input", fix="write the keys like ctrl+s or alt+f4 or ctrl+shift+t")
    aliases = {"control": "ctrl", "return": "enter", "escape": "esc", "del": "delete", "cmd": "command",
               "super": "win", "windows": "win", "pgup": "pageup", "pgdn": "pagedown", "option": "alt"}
    return [_check_key(pag, aliases.get(p.lower(), p.lower() if len(p) > 1 else p)) for p in parts]


@node("desktop.hotkey", title="Hotkey", category=CATEGORY, icon="keyboard", side_effects=True, preflight=preflight,
      params=[Param("keys", "string", required=True, description="Keys pressed together, e.g. ctrl+s, alt+f4, "
                                                                  "ctrl+shift+esc.")],
      aliases=("shortcut", "key combination", "keyboard shortcut", "ctrl", "alt"))
@with_evidence
def hotkey(ctx, keys):
    """Presses a key combination (pressed in order, released in reverse)."""
    pag = gui(ctx)
    pag.hotkey(*parse_keys(pag, keys), interval=0.0)


@node("desktop.press_key", title="Press key", category=CATEGORY, icon="keyboard", side_effects=True,
      preflight=preflight,
      params=[Param("key", "string", required=True, description="A key name: enter, tab, esc, f5, down, a ..."),
              Param("presses", "integer", default=1, minimum=1, maximum=1000)],
      aliases=("key press", "press enter", "press tab", "send key"))
@with_evidence
def press_key(ctx, key, presses):
    """Presses and releases one key, once or several times."""
    pag = gui(ctx)
    names = parse_keys(pag, key)
    if len(names) != 1:
        raise NodeError(f"'{key}' is several keys", kind="bad_input", fix="use the Hotkey node for combinations")
    pag.press(names[0], presses=int(presses), interval=pag.PAUSE)


# ---------------------------------------------------------------- clipboard
def _xclip(selection: str) -> list[str]:
    if shutil.which("xclip") is None:
        raise NodeError("clipboard access needs the xclip program", kind="missing_dependency",
                        fix="apt-get install -y --no-install-recommends xclip")
    return ["xclip", "-selection", selection]


def clipboard_get(selection: str = "clipboard") -> str:
    require_display()
    if IS_LINUX:
        proc = subprocess.run(_xclip(selection) + ["-o"], capture_output=True, timeout=10)
        if proc.returncode != 0:
            return ""  # empty clipboard ("target STRING not available")
        return proc.stdout.decode("utf-8", "replace")
    import pyperclip  # pragma: no cover - Windows / macOS

    return pyperclip.paste()


def clipboard_set(text: str, selection: str = "clipboard") -> None:
    require_display()
    if IS_LINUX:
        # xclip stays in the background to serve the selection: do not wait on its output
        proc = subprocess.Popen(_xclip(selection) + ["-i"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        proc.communicate(text.encode("utf-8"), timeout=10)
        return
    import pyperclip  # pragma: no cover

    pyperclip.copy(text)


SELECTION = Param("selection", "string", default="clipboard", choices=("clipboard", "primary"), advanced=True,
                  description="X11 only: 'primary' is the text last selected with the mouse.")


@node("desktop.get_clipboard", title="Get clipboard", category=CATEGORY, icon="clipboard", preflight=preflight,
      params=[SELECTION,
              Param("timeout", "number", default=0, minimum=0,
                    description="Seconds to wait for the clipboard to hold text (applications fill it a moment "
                                "after Ctrl+C); 0 reads it once, empty or not.")],
      outputs=[Output("text", "string")], aliases=("paste", "read clipboard"))
@with_evidence
def get_clipboard(ctx, selection, timeout):
    """Reads the clipboard's text."""
    deadline = time.monotonic() + float(timeout or 0)
    while True:
        text = clipboard_get(selection)
        if text or time.monotonic() >= deadline:
            return {"text": text}
        ctx.sleep(0.05)


@node("desktop.set_clipboard", title="Set clipboard", category=CATEGORY, icon="clipboard", side_effects=True,
      idempotent=True, preflight=preflight,
      params=[Param("text", "string", required=True, multiline=True), SELECTION],
      aliases=("copy", "write clipboard"))
@with_evidence
def set_clipboard(ctx, text, selection):
    """Puts text on the clipboard."""
    clipboard_set(str(text), selection)
