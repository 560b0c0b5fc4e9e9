"""The desktop recorder on the virtual screen: typing and saving in Mousepad (a click in the text,
typing, a click on the File menu and Escape, Ctrl+S, the file name in the Save As dialog) is
recorded by `botloom record-desktop` in its own process (input sent with XTest reaches it
as a person's would); the bot written from the steps replays it green in a fresh Mousepad."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from desktop_helpers import start_recorder, stop_recorder

from botloom.nodes.desktop.recorder import Keys
from botloom.nodes.desktop.windows import title_pattern
from botloom.runner.sdk import recording

TEXT = "Recorded note: 12 apples, 3 pears"


def xdo(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, timeout=20)


def wait_window(title: str, timeout: float = 20.0):
    from botloom.nodes.desktop import windows

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = windows.matching(windows.list_all(), title)
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no window /{title}/")


def open_mousepad():
    proc = subprocess.Popen(["mousepad"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    win = wait_window("Mousepad$")
    subprocess.run(["wmctrl", "-i", "-r", win.id, "-e", "0,60,60,720,480"], check=True, timeout=10)
    subprocess.run(["wmctrl", "-i", "-a", win.id], check=True, timeout=10)
    time.sleep(1.0)  # drawn at its place
    return proc, wait_window("Mousepad$")


def on_screen_text(text: str, win) -> tuple[int, int]:
    """Where ``text`` is drawn in the window (OCR), as the person's eyes would find it."""
    from botloom.nodes.desktop.screen import grab
    from botloom.nodes.ocr.api import find_text

    found = find_text(grab((win.x, win.y, win.width, 120)), text, min_confidence=0.6)
    assert found, f"'{text}' is not on the screen"
    cx, cy = found[0].center
    return win.x + cx, win.y + cy


def test_typing_and_saving_in_mousepad_is_recorded_and_replays_green(desktop, cli, tmp_path):
    saved = tmp_path / "recorded.txt"
    bot_dir = tmp_path / "bot"
    mousepad, win = open_mousepad()
    rec = start_recorder(bot_dir / "images")
    try:
        xdo("mousemove", str(win.x + 300), str(win.y + 250))
        time.sleep(0.3)
        xdo("click", "1")
        time.sleep(0.3)
        xdo("type", "--delay", "20", TEXT)
        fx, fy = on_screen_text("File", win)
        xdo("mousemove", str(fx), str(fy))
        time.sleep(0.4)
        xdo("click", "1")  # the File menu opens
        time.sleep(0.8)
        xdo("key", "Escape")
        time.sleep(0.5)
        xdo("key", "ctrl+s")
        wait_window("^Save As$")
        time.sleep(0.8)
        xdo("type", "--delay", "20", str(saved))
        time.sleep(0.8)  # a person looks before pressing Enter (the name field completes the path)
        xdo("key", "Return")
        deadline = time.monotonic() + 20
        while not saved.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert saved.read_text(encoding="utf-8") == TEXT
        time.sleep(0.5)
    finally:
        steps = stop_recorder(rec)
    kinds = [(s.type, s.params.get("keys") or s.params.get("key") or s.params.get("text") or
              s.params.get("title") or s.params.get("window") or s.params["target"]["kind"]) for s in steps]
    # where the person waited (0.8 s here) for the application, a Wait for the screen to settle;
    # shorter pauses may add one as well (the machine's speed decides), which only makes the replay wait
    settled = [i for i, (kind, _) in enumerate(kinds) if kind == "desktop.wait_settle"]
    menu, esc = kinds.index(("desktop.click", "image")), kinds.index(("desktop.press_key", "esc"))
    assert any(menu < i < esc for i in settled), kinds
    assert kinds[-2:] == [("desktop.wait_settle", "^Save\\ As$"), ("desktop.press_key", "enter")], kinds
    kinds = [k for k in kinds if k[0] != "desktop.wait_settle"]
    assert kinds == [("desktop.click", "point"), ("desktop.type_text", TEXT), ("desktop.click", "image"),
                     ("desktop.press_key", "esc"), ("desktop.hotkey", "ctrl+s"),
                     ("desktop.wait_window", "^Save\\ As$"), ("desktop.type_text", str(saved)),
                     ("desktop.press_key", "enter")], kinds
    text_area, file_menu = steps[0].params["target"], next(
        s.params["target"] for s in steps if s.type == "desktop.click" and s.params["target"]["kind"] == "image")
    # a blank text area has no image or text to recognise: the point relative to the window
    assert text_area == {"kind": "point", "x": 300, "y": 250, "window": "\\-\\ Mousepad$", "process": "mousepad"}
    # the File menu: its image, the word read there, then the point in the window
    assert file_menu["window"] == "\\-\\ Mousepad$" and (bot_dir / file_menu["image"]).is_file()
    fallbacks = file_menu["fallbacks"]
    assert [f["kind"] for f in fallbacks] == ["text", "point"] and fallbacks[0]["text"] == "File"
    assert (fallbacks[1]["x"], fallbacks[1]["y"]) == (fx - win.x, fy - win.y)

    mousepad.terminate()
    mousepad.wait(10)
    saved.unlink()
    path = bot_dir / "recorded-note.bot.json"
    recording.write_bot(path, "recorded-note", steps)
    _again, _win = open_mousepad()
    proc = cli("run", path, "--json", timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    deadline = time.monotonic() + 10
    while not saved.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert saved.read_text(encoding="utf-8") == TEXT


def test_keys_become_typing_hotkeys_and_key_presses():
    keys = Keys()
    for name, char in [(None, "H"), (None, "i"), ("space", None), (None, "x"), ("backspace", None), (None, "y"),
                       ("enter", None), ("ctrl_l", None), (None, "\x13"), ("tab", None), ("tab", None),
                       ("down", None)]:
        keys.press(name, char)
        if name == "ctrl_l":
            continue
        if char == "\x13":
            keys.release("ctrl_l")
    assert keys.take() == [("type", "Hi y\n"), ("hotkey", "ctrl+s"), ("key", "tab", 2), ("key", "down", 1)]
    keys.press("shift", None)
    keys.press(None, "A")  # Shift only changes the letter
    keys.press("alt", None)
    keys.press("f4", None)
    assert keys.take() == [("type", "A"), ("hotkey", "alt+shift+f4")]


@pytest.mark.parametrize("title, pattern", [
    ("Untitled 1 - Mousepad", "\\-\\ Mousepad$"),
    ("Save As", "^Save\\ As$"),
    ("report.pdf — Document Viewer", "—\\ Document\\ Viewer$"),
    ("", ""),
])
def test_window_titles_become_patterns_that_survive_the_changing_part(title, pattern):
    assert title_pattern(title) == pattern
    if title:
        import re

        assert re.search(pattern, title, re.I)


def test_a_recorder_without_a_display_is_one_clear_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run([sys.executable, "-m", "botloom.runner.cli", "record-desktop", "--events", "jsonl"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    event = json.loads(proc.stdout.splitlines()[-1])
    assert event["event"] == "error" and "display" in event["message"].lower()


def test_the_steps_go_into_a_bot_with_its_images(tmp_path):
    steps = [recording.Step("desktop.click", {"target": {"kind": "image", "image": "images/recorded-1.png"}}, "Click")]
    path: Path = tmp_path / "b.bot.json"
    recording.write_bot(path, "b", steps)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["nodes"]["click"]["params"]["target"]["image"] == "images/recorded-1.png"
    assert {"from": "start.out", "to": "click.in"} in data["edges"]


def test_typing_into_a_password_field_is_not_kept(monkeypatch):
    """A click on an element whose accessible role is a password field: what is typed after it
    (even with a pause in the middle) becomes one Type text of a secret, never the text; after
    Tab the typing is kept again."""
    from botloom.nodes.desktop import recorder as rec
    from botloom.runner.sdk import recording

    r = rec.DesktopRecorder(ocr=False)
    roles = iter(["password text", "text"])

    class FakeTargets:
        role = None

        def target(self, click):
            self.role = next(roles)
            return {"kind": "point", "x": click.x, "y": click.y}, ""

    r.targets = FakeTargets()
    r.pending = rec.Click(0.0, 10, 10, "left")
    r._flush_click()
    for char in "hunter":
        r.keys.press(None, char)
    r._keys_to_steps()  # typing that paused
    for char in "2!":
        r.keys.press(None, char)
    r.keys.press("tab", None)
    for char in "ok":
        r.keys.press(None, char)
    r._keys_to_steps()
    r.pending = rec.Click(1.0, 50, 10, "left")
    r._flush_click()
    for char in "plain":
        r.keys.press(None, char)
    r.keys.press("enter", None)
    r._keys_to_steps()
    steps = [(s.type, s.params.get("text") or s.params.get("key")) for s in r.steps()]
    assert steps == [("desktop.click", None), ("desktop.type_text", "{{ secrets.password }}"),
                     ("desktop.press_key", "tab"), ("desktop.type_text", "ok"), ("desktop.click", None),
                     ("desktop.type_text", "plain"), ("desktop.press_key", "enter")]
    assert "hunter" not in repr(r.steps()) and "botloom secret set password" in r.steps()[1].warning
    assert r.steps()[1].secrets == {"password": "the password typed while recording"}
    assert recording.bot_from_steps("signed-in", r.steps()).secrets == {"password": "the password typed while recording"}
