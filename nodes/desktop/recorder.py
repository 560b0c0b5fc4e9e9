"""The desktop recorder: clicks and keystrokes on the real screen become desktop nodes.

pynput listens to the mouse and the keyboard (on X11 through the RECORD extension, so what
any application receives is seen, including input sent with XTest). What is recorded:

- a click (left, right, double) becomes a Click whose target says where, up to four ways, tried
  in order: the **element** there by its accessibility selector (when the application exposes
  its tree), an **image** of what was under the pointer (cut from a screenshot taken before the
  press, while the pointer was still off it, so no hover highlight is in it; kept only when the
  patch is not a blank area and appears once in its window), the **text** read there by OCR
  (when the OCR pack is installed and the text appears once in the window), and the **point**
  relative to the window's top-left corner, which always works while the window keeps its
  layout. The window is named by a title pattern (the part after the last " - ", so
  "Untitled 1 - Mousepad" is matched as "- Mousepad$") and its process;
- typed characters become one Type text per run of typing (a pause of a second ends a run;
  Enter is a new line in it, Backspace takes back the last character typed); an Enter that
  ends the typing becomes Wait for the window to settle and Press key enter (it submits:
  completion pop-ups go first);
- a key pressed with Control, Alt or Super becomes a Hotkey; Tab, Escape, arrows, function
  keys and the like become Press key (repeats counted);
- when the active window changes between two steps (a dialog opened), a Wait for window for
  the new one goes in between, so the replay waits for the dialog as the person did; when the
  person waited half a second or more after a click or a key (a menu opened, a list loaded),
  a Wait for the screen to settle goes in between.

Clicks and keys in the windows of ``ignore_pids`` (the designer's own) are not recorded.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botloom.runner.sdk import NodeError, capability, recording

from .windows import title_pattern, top_window_at

Step = recording.Step
PATCH = (72, 30)  # the image cut around a click, width x height
DOUBLE_CLICK_S = 0.4
PAUSE_S = 0.5  # a person who waits this long after a click or a key waits for the application
TYPING_PAUSE_S = 1.0  # typing that pauses this long is a step of its own (shown while recording)
# Typing into a password field (the accessible role of the field clicked) is not kept: the step
# types a secret instead, which the person stores once.
PASSWORD_ROLES = frozenset({"password text"})
PASSWORD_NOTE = ("a password was typed here and is not kept in the bot: store it with `botloom secret set "
                 f"{recording.PASSWORD_SECRET}` (the bot declares the secret)")
FRAME_EVERY_S = 0.08
FRAME_KEEP = 12  # about a second of pointer moves (a 1920x1080 still is 6 MB)
MODIFIERS = {"ctrl": "ctrl", "ctrl_l": "ctrl", "ctrl_r": "ctrl", "alt": "alt", "alt_l": "alt", "alt_r": "alt",
             "alt_gr": "altgr", "cmd": "win", "cmd_l": "win", "cmd_r": "win", "shift": "shift", "shift_l": "shift",
             "shift_r": "shift"}
# pynput's special keys -> the key names desktop nodes take
KEY_NAMES = {"esc": "esc", "tab": "tab", "backspace": "backspace", "delete": "delete", "up": "up", "down": "down",
             "left": "left", "right": "right", "home": "home", "end": "end", "page_up": "pageup",
             "page_down": "pagedown", "insert": "insert", "menu": "apps", "enter": "enter", "space": "space",
             "caps_lock": "capslock", "print_screen": "printscreen", "pause": "pause",
             **{f"f{i}": f"f{i}" for i in range(1, 25)}}


@dataclass
class Frame:
    at: float
    pointer: tuple[int, int]
    image: Any  # RGB array of the whole screen


@dataclass
class Click:
    at: float
    x: int
    y: int
    button: str
    count: int = 1
    frame: Frame | None = None
    window: Any = None  # windows.Window under the pointer


@dataclass
class Keys:
    """Turns key presses into Type text / Hotkey / Press key steps."""

    out: list = field(default_factory=list)  # ("type", text) | ("hotkey", keys) | ("key", name, presses)
    held: set = field(default_factory=set)

    def press(self, name: str | None, char: str | None) -> None:
        mod = MODIFIERS.get(name or "")
        if mod:
            self.held.add(mod)
            return
        combo = sorted(m for m in self.held if m in ("ctrl", "alt", "win"))
        if char is not None and len(char) == 1 and ord(char) < 32 and combo:
            char = chr(ord(char) + 96)  # Control+S is reported as '\x13'
        if combo:
            key = (char.lower() if char else KEY_NAMES.get(name or "", name or ""))
            if key:
                order = [m for m in ("ctrl", "alt", "shift", "win") if m in self.held]
                self.out.append(("hotkey", "+".join([*order, key])))
            return
        if char and char.isprintable():
            self._type(char)
        elif name == "space":
            self._type(" ")
        elif name == "enter":
            self._type("\n")
        elif name == "backspace" and self.out and self.out[-1][0] == "type" and self.out[-1][1]:
            text = self.out[-1][1][:-1]
            self.out[-1] = ("type", text)
            if not text:
                self.out.pop()
        elif name in KEY_NAMES:
            key = KEY_NAMES[name]
            if self.out and self.out[-1][0] == "key" and self.out[-1][1] == key:
                self.out[-1] = ("key", key, self.out[-1][2] + 1)
            else:
                self.out.append(("key", key, 1))

    def release(self, name: str | None) -> None:
        mod = MODIFIERS.get(name or "")
        if mod:
            self.held.discard(mod)

    def _type(self, text: str) -> None:
        if self.out and self.out[-1][0] == "type":
            self.out[-1] = ("type", self.out[-1][1] + text)
        else:
            self.out.append(("type", text))

    def take(self) -> list:
        out, self.out = self.out, []
        return out


def _distinct(patch) -> bool:
    """Whether an image patch has something to recognise (not a plain background)."""
    import numpy as np

    grey = patch.astype(np.float32).mean(axis=2)
    return float(grey.std()) >= 12.0


def _once_in(haystack, patch, at: tuple[int, int]) -> bool:
    """Whether the patch matches only at ``at`` (top-left, haystack pixels) in the haystack."""
    import cv2
    import numpy as np

    if haystack.shape[0] < patch.shape[0] or haystack.shape[1] < patch.shape[1]:
        return False
    scores = cv2.matchTemplate(haystack, patch, cv2.TM_CCOEFF_NORMED)
    ys, xs = np.where(scores >= 0.95)
    return all(abs(x - at[0]) <= 4 and abs(y - at[1]) <= 4 for x, y in zip(xs, ys))


def _words_at(ocr, image, box: tuple[int, int, int, int], x: int, y: int) -> tuple[str, int]:
    """The text under (x, y) read in ``box`` of the screen image (the word there, with the words
    set as close to it as words of one label are), and how often it is there."""
    bx, by, bw, bh = box
    result = ocr(image[by:by + bh, bx:bx + bw])
    px, py = x - bx, y - by
    best = ""
    for line in result.lines:
        words = list(line.words)
        hit = next((i for i, w in enumerate(words) if w.box[0] - 3 <= px <= w.box[0] + w.box[2] + 3 and
                    w.box[1] - 3 <= py <= w.box[1] + w.box[3] + 3), None)
        if hit is None:
            continue
        gap = 0.35 * max(w.box[3] for w in words)  # between words of one label; menu items stand further apart
        lo = hi = hit
        while lo > 0 and words[lo].box[0] - (words[lo - 1].box[0] + words[lo - 1].box[2]) <= gap:
            lo -= 1
        while hi < len(words) - 1 and words[hi + 1].box[0] - (words[hi].box[0] + words[hi].box[2]) <= gap:
            hi += 1
        best = " ".join(w.text for w in words[lo:hi + 1]).strip()
        break
    if len(best.strip(" .:…")) < 2 or len(best) > 40:
        return "", 0
    low = best.lower()
    return best, sum(line.text.lower().count(low) for line in result.lines)


class Targets:
    """Builds the target of a recorded click (image, text, point) and keeps the images."""

    def __init__(self, folder: Path | None, prefix: str = "images", ocr: bool = True):
        self.folder, self.prefix, self.n = folder, prefix, 0
        self.a11y = True  # until the accessibility bus is found missing
        self.role: str | None = None  # the accessible role of the element last clicked
        self.ocr = None
        self.ocr_note = ""
        if ocr:
            try:
                self.ocr = capability("ocr.read_image", purpose="text targets of recorded clicks",
                                      install="pip install 'botloom[ocr]'")
            except NodeError as exc:
                self.ocr_note = f"no text target: {exc.message}"

    def target(self, click: Click) -> tuple[dict, str]:
        win = click.window
        notes = []
        point: dict = {"kind": "point", "x": click.x, "y": click.y}
        if win is not None:
            point = {"kind": "point", "x": click.x - win.x, "y": click.y - win.y, "window": title_pattern(win.title)}
            if win.process:
                point["process"] = win.process
        where = {k: point[k] for k in ("window", "process") if k in point}
        chain: list[dict] = []
        element = self._element(click, win)
        self.role = element.get("role") if element else None
        if element:  # the application says what is there: the most lasting target
            chain.append({"kind": "element", "selector": element["selector"], **where})
        image = click.frame.image if click.frame is not None else None
        if image is not None:
            h, w = image.shape[:2]
            box = (win.x, win.y, win.width, win.height) if win is not None else (0, 0, w, h)
            bx, by = max(0, box[0]), max(0, box[1])
            bw, bh = min(w, box[0] + box[2]) - bx, min(h, box[1] + box[3]) - by
            pw, ph = PATCH
            x0 = min(max(click.x - pw // 2, bx), max(bx, bx + bw - pw))
            y0 = min(max(click.y - ph // 2, by), max(by, by + bh - ph))
            patch = image[y0:y0 + ph, x0:x0 + pw]
            if patch.size and _distinct(patch) and _once_in(image[by:by + bh, bx:bx + bw], patch, (x0 - bx, y0 - by)):
                name = self._save(patch)
                if name:
                    t = {"kind": "image", "image": name, **where}
                    offset = [click.x - (x0 + patch.shape[1] // 2), click.y - (y0 + patch.shape[0] // 2)]
                    if offset != [0, 0]:
                        t["offset"] = offset
                    chain.append(t)
            if self.ocr is not None and bw > 0 and bh > 0:
                try:
                    text, times = _words_at(self.ocr, image, (bx, by, bw, bh), click.x, click.y)
                except Exception as exc:  # an OCR engine that fails: the other targets still work
                    text, times = "", 0
                    notes.append(f"no text target: OCR failed ({exc})")
                if text and times == 1:
                    chain.append({"kind": "text", "text": text, **where})
            elif self.ocr_note:
                notes.append(self.ocr_note)
        chain.append(point)
        first, rest = chain[0], chain[1:]
        if rest:
            first = {**first, "fallbacks": rest}
        return first, "; ".join(notes)

    def _element(self, click: Click, win) -> dict | None:
        """The accessible element clicked (when the application exposes its tree); after the
        first sign that there is no accessibility bus here, not asked again."""
        from . import a11y

        if not self.a11y or win is None:
            return None
        try:
            a11y.backend().applications()
        except NodeError:
            self.a11y = False
            return None
        return a11y.element_at(click.x, click.y, title_pattern(win.title), win.process)

    def _save(self, patch) -> str:
        if self.folder is None:
            return ""
        from PIL import Image

        self.folder.mkdir(parents=True, exist_ok=True)
        while True:
            self.n += 1
            name = f"recorded-{self.n}.png"
            if not (self.folder / name).exists():
                break
        Image.fromarray(patch).save(self.folder / name)
        return f"{self.prefix}/{name}" if self.prefix else name


class DesktopRecorder:
    """Listens to the mouse and the keyboard until :meth:`stop`; :meth:`steps` are the steps so far."""

    def __init__(self, images: Path | None = None, prefix: str = "images", ignore_pids: set[int] = frozenset(),
                 ocr: bool = True):
        self.images, self.prefix, self.ignore_pids, self.use_ocr = images, prefix, set(ignore_pids), ocr
        self.dirty, self.closed = threading.Event(), threading.Event()
        self.events: queue.Queue = queue.Queue()
        self.frames: list[Frame] = []
        self.frames_lock = threading.Lock()
        self.last_action_at = 0.0
        self._steps: list[Step] = []
        self._lock = threading.Lock()
        self.keys = Keys()
        self.pending: Click | None = None
        self.last_window: str | None = None
        self.listeners: list = []
        self.worker: threading.Thread | None = None
        self._local = threading.local()
        self.reacting_since: float | None = None  # when the last click, hotkey or key was made
        self.in_password = False  # the last click was on a password field: what is typed is not kept
        self.password_typed = False  # ... and its Type the password step is made

    # ---------------------------------------------------------------- listening (pynput's threads)
    def _grab(self, pointer) -> None:
        from .screen import grab

        now = time.monotonic()
        with self.frames_lock:
            if self.frames and now - self.frames[-1].at < FRAME_EVERY_S and self.frames[-1].at > self.last_action_at:
                return
        try:
            image = grab()
        except Exception:
            return
        with self.frames_lock:
            self.frames.append(Frame(now, pointer, image))
            del self.frames[:-FRAME_KEEP]

    def _on_move(self, x, y) -> None:
        self._grab((int(x), int(y)))

    def _x11(self):
        """This listener thread's own X connection (Xlib connections are not shared by threads)."""
        x = getattr(self._local, "x11", None)
        if x is None:
            from .windows import _X11

            x = self._local.x11 = _X11()
        return x

    def _on_click(self, x, y, button, pressed) -> None:
        if not pressed:
            return
        now = time.monotonic()
        frame = self._frame_before(int(x), int(y), now)
        self.last_action_at = now
        self.events.put(("click", now, int(x), int(y), getattr(button, "name", str(button)), frame,
                         self._window_at(int(x), int(y))))

    def _on_press(self, key) -> None:
        now = time.monotonic()
        self.last_action_at = now
        name = getattr(key, "name", None)
        # the window the key goes to, now: by the time the worker gets to it a dialog may be open
        active = self._active_window() if MODIFIERS.get(name or "") is None else None
        self.events.put(("press", now, name, getattr(key, "char", None), active))

    def _on_release(self, key) -> None:
        self.events.put(("release", time.monotonic(), getattr(key, "name", None), None))

    def _frame_before(self, x: int, y: int, now: float) -> Frame | None:
        """The newest screenshot taken since the last action with the pointer off the patch
        around (x, y); else the newest one since the last action; else one taken now."""
        pw, ph = PATCH
        with self.frames_lock:
            fresh = [f for f in self.frames if f.at >= self.last_action_at]
        off = [f for f in fresh if abs(f.pointer[0] - x) > pw // 2 + 8 or abs(f.pointer[1] - y) > ph // 2 + 8]
        if off and now - off[-1].at < 3.0:
            return off[-1]
        if fresh:
            return fresh[-1]
        from .screen import grab

        try:
            return Frame(now, (x, y), grab())
        except Exception:
            return None

    # ---------------------------------------------------------------- turning events into steps (the worker)
    def _window_at(self, x: int, y: int):
        try:
            return top_window_at(self._x11().windows(), x, y)
        except Exception:
            return None

    def _active_window(self):
        try:
            return self._x11().active()
        except Exception:
            return None

    def _add(self, step: Step) -> None:
        with self._lock:
            self._steps.append(step)
        self.dirty.set()

    def _keys_to_steps(self) -> None:
        for item in self.keys.take():
            if item[0] == "type" and self.in_password:
                if not self.password_typed:  # typing that paused is still the one password
                    self._add(Step("desktop.type_text", {"text": "{{ secrets.%s }}" % recording.PASSWORD_SECRET},
                                   "Type the password", PASSWORD_NOTE, dict(recording.PASSWORD_SECRETS)))
                    self.password_typed = True
                if item[1].endswith("\n"):
                    self._add(Step("desktop.press_key", {"key": "enter"}, "Press enter"))
                    self.in_password = False  # Enter submits
                continue
            if item[0] != "type":
                self.in_password = False  # Tab, a hotkey: the focus may be elsewhere now
            if item[0] == "type" and item[1].endswith("\n"):
                # Enter at the end of typing submits (a dialog, a form): type, let the screen settle
                # (completion pop-ups), then press Enter, as a person looks before pressing it
                if item[1][:-1]:
                    self._add(Step("desktop.type_text", {"text": item[1][:-1]}, f"Type '{_short(item[1][:-1])}'"))
                    if self.last_window:
                        self._add(Step("desktop.wait_settle", {"area": "window", "window": self.last_window,
                                                               "stable_for": 0.6}, "Wait for the window to settle"))
                self._add(Step("desktop.press_key", {"key": "enter"}, "Press enter"))
            elif item[0] == "type":
                self._add(Step("desktop.type_text", {"text": item[1]}, f"Type '{_short(item[1])}'"))
            elif item[0] == "hotkey":
                self._add(Step("desktop.hotkey", {"keys": item[1]}, f"Hotkey {item[1]}"))
            else:
                params = {"key": item[1]} if item[2] == 1 else {"key": item[1], "presses": item[2]}
                self._add(Step("desktop.press_key", params, f"Press {item[1]}" + (f" x{item[2]}" if item[2] > 1 else "")))

    def _window_changed(self, win, state: str) -> None:
        """A Wait for window step when the next step happens in another window than the last
        one: keys go to the active window (wait until it is active), a click to the window under
        the pointer (wait until it is open: the click activates it)."""
        if win.pid in self.ignore_pids:
            return
        pattern = title_pattern(win.title)
        if self.last_window is not None and pattern and pattern != self.last_window:
            params = {"title": pattern, "state": state}
            if win.process:
                params["process"] = win.process
            self._add(Step("desktop.wait_window", params, f"Wait for '{win.title}'"))
        if pattern:
            self.last_window = pattern

    def _flush_click(self) -> None:
        click, self.pending = self.pending, None
        if click is None:
            return
        target, note = self.targets.target(click)
        self.in_password, self.password_typed = self.targets.role in PASSWORD_ROLES, False
        params: dict = {"target": target}
        if click.button != "left":
            params["button"] = click.button
        if click.count > 1:
            params["clicks"] = click.count
        what = {"text": target.get("text"), "image": "image", "element": target.get("selector")}.get(target["kind"]) \
            or "point"
        verb = "Double-click" if click.count == 2 else "Right-click" if click.button == "right" else "Click"
        self._add(Step("desktop.click", params, f"{verb} {what!r}" if target["kind"] in ("text", "element")
                       else f"{verb} ({what})", note))

    def _settle_if_paused(self, at: float, window) -> None:
        """After a click or a key the application reacted to while the person waited (a menu
        opened, a list loaded), a Wait for the screen to settle, so the replay waits too (not
        when the next step is in another window: its Wait for window waits)."""
        since, self.reacting_since = self.reacting_since, None
        if since is None or at - since < PAUSE_S:
            return
        if window is not None and self.last_window and title_pattern(window.title) != self.last_window:
            return
        self._flush_click()
        self._keys_to_steps()
        params = {"area": "window", "window": self.last_window, "stable_for": 0.5} if self.last_window else \
            {"area": "screen", "stable_for": 0.5}
        self._add(Step("desktop.wait_settle", params, "Wait for the screen to settle"))

    def _work(self) -> None:
        last_key = 0.0
        while True:
            try:
                event = self.events.get(timeout=0.2)
            except queue.Empty:  # idle: a click that cannot become a double click, typing that paused
                now = time.monotonic()
                if self.pending is not None and now - self.pending.at > DOUBLE_CLICK_S:
                    self._flush_click()
                if self.keys.out and now - last_key > TYPING_PAUSE_S and not self.keys.held:
                    self._keys_to_steps()
                continue
            if event is None:
                break
            kind = event[0]
            if kind == "press":
                last_key = event[1]
            if kind == "click":
                _, at, x, y, button, frame, window = event
                if window is not None and window.pid in self.ignore_pids:
                    continue
                p = self.pending
                if p is not None and button == p.button and at - p.at <= DOUBLE_CLICK_S and \
                        abs(x - p.x) <= 4 and abs(y - p.y) <= 4 and p.count < 3:
                    p.count += 1
                    p.at = self.reacting_since = at
                    continue
                self._settle_if_paused(at, window)
                self._flush_click()
                self._keys_to_steps()
                if window is not None:
                    self._window_changed(window, "open")
                self.pending = Click(at, x, y, button, 1, frame, window)
                self.reacting_since = at
            elif kind == "press":
                _, at, name, char, active = event
                if active is not None and active.pid in self.ignore_pids:
                    continue
                if MODIFIERS.get(name or "") is None:
                    self._settle_if_paused(at, active)
                    self._flush_click()
                    if not self.keys.out and active is not None:
                        self._window_changed(active, "active")
                before = len(self.keys.out), (self.keys.out[-1] if self.keys.out else None)
                self.keys.press(name, char)
                if self.keys.out and self.keys.out[-1][0] in ("hotkey", "key") and \
                        (len(self.keys.out), self.keys.out[-1]) != before:
                    self._keys_to_steps()  # a hotkey or key is a step at once: what follows may be another window
                    self.reacting_since = at
            elif kind == "release":
                self.keys.release(event[2])
            self.dirty.set()

    # ---------------------------------------------------------------- the recorder's interface
    def start(self) -> "DesktopRecorder":
        from .session import require_display

        require_display()
        try:
            from pynput import keyboard, mouse
        except ImportError as exc:
            raise NodeError(f"the desktop recorder needs the Python package pynput ({exc})", kind="missing_dependency",
                            fix="pip install pynput") from None
        self.targets = Targets(self.images, self.prefix, self.use_ocr)
        self.worker = threading.Thread(target=self._work, name="desktop-recorder", daemon=True)
        self.worker.start()
        ml = mouse.Listener(on_move=self._on_move, on_click=self._on_click)
        kl = keyboard.Listener(on_press=self._on_press, on_release=self._on_release)
        for listener in (ml, kl):
            listener.start()
        for listener in (ml, kl):
            listener.wait()
        self.listeners = [ml, kl]
        active = self._active_window()
        self.last_window = title_pattern(active.title) if active is not None and active.pid not in self.ignore_pids \
            else None
        return self

    def pump(self, seconds: float) -> None:
        time.sleep(seconds)

    def steps(self) -> list[Step]:
        with self._lock:
            return list(self._steps)

    def stop(self) -> list[Step]:
        for listener in self.listeners:
            try:
                listener.stop()
            except Exception:
                pass
        self.listeners = []
        if self.worker is not None:
            self.events.put(None)
            self.worker.join(60)
            self.worker = None
        self._flush_click()
        self._keys_to_steps()
        self.closed.set()
        return self.steps()


def _short(text: str) -> str:
    text = text.replace("\n", "⏎")
    return text if len(text) <= 30 else text[:29] + "…"
