"""Accessibility selectors on the virtual screen: two real GTK applications (galculator and
Mousepad) driven through their AT-SPI trees, under a D-Bus session bus the tests start."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from desktop_helpers import messages, outputs, run_bot, write_bot

CALC = "galculator"
DISPLAY_TEXT = "scroll pane >> text"  # galculator's number display


@pytest.fixture
def a11y_desktop(desktop, monkeypatch):
    """The virtual screen with a private D-Bus session bus (the accessibility bus starts on it)."""
    if not shutil.which("dbus-daemon") or not os.path.exists("/usr/libexec/at-spi-bus-launcher"):
        pytest.fail("accessibility tests need the packages of installer/apt/a11y.txt (dbus, at-spi2-core)")
    if not shutil.which(CALC):
        pytest.fail("accessibility tests need galculator (installer/apt/a11y.txt)")
    out = subprocess.run(["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
                         capture_output=True, text=True, timeout=30, env=dict(os.environ)).stdout.split()
    address, pid = out[0], int(out[1])
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    monkeypatch.delenv("NO_AT_BRIDGE", raising=False)
    yield desktop
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def _press(keys: str, window: str = CALC) -> tuple[dict, list[str]]:
    nodes = {f"k{i}_{n}": {"type": "desktop.element_click", "params": {"selector": f'button[name="{k}"]',
                                                                        "window": window}}
             for n, (i, k) in enumerate(enumerate(keys))}
    return nodes, list(nodes)


def _edges(ids: list[str], start: str) -> list[tuple[str, str]]:
    return [(start, ids[0]), *zip(ids, ids[1:])]


def _windows(title: str) -> list:
    from botloom.nodes.desktop import windows

    return windows.matching(windows.list_all(), title, "")


def test_galculator_computes_by_selectors_and_they_survive_moving_and_resizing(a11y_desktop, tmp_path):
    first, first_ids = _press("12*34=")
    again, again_ids = _press("+1=")
    again = {k.replace("k", "m", 1): v for k, v in again.items()}
    again_ids = [k.replace("k", "m", 1) for k in again_ids]
    nodes = {
        "app": {"type": "desktop.app", "params": {"command": CALC, "window": f"^{CALC}$"}},
        "clear": {"type": "desktop.click", "params": {"target": {
            "kind": "element", "selector": 'button[name="AC"]', "window": CALC,
            "fallbacks": [{"kind": "text", "text": "AC", "window": CALC}]}}},
        **first,
        "check": {"type": "desktop.verify", "params": {"check": "element_text", "selector": DISPLAY_TEXT,
                                                       "window": CALC, "expected": "408"}},
        "move": {"type": "desktop.move_window", "params": {"title": CALC, "x": 600, "y": 300,
                                                           "width": 420, "height": 460}},
        **again,
        "read": {"type": "desktop.element_read", "params": {"selector": DISPLAY_TEXT, "window": CALC}},
    }
    body = ["clear", *first_ids, "check", "move", *again_ids, "read"]
    edges = [("start", "app"), ("app.body", f"{body[0]}.in"), *zip(body, body[1:])]
    bot = write_bot(tmp_path / "bot", "calc-a11y", nodes, edges, settings={"screen": "1280x800"})
    result, log = run_bot(bot)
    assert result.state == "succeeded", result.error
    assert outputs(log, "read")["text"] == "409"
    assert outputs(log, "k0_0")["method"] == "action"
    assert outputs(log, "clear")["match"]["kind"] == "element"  # the selector matched, not the OCR fallback
    moved = outputs(log, "move")["window"]
    assert abs(moved["x"] - 600) < 30 and abs(moved["y"] - 300) < 40 and moved["width"] >= 400
    assert not _windows(f"^{CALC}$")  # the scope closed it


def test_mousepad_text_is_typed_and_saved_through_its_elements(a11y_desktop, tmp_path):
    target = tmp_path / "a11y-note.txt"
    text = "Typed through the accessibility tree: 12 × 34 = 408"
    nodes = {
        "app": {"type": "desktop.app", "params": {"command": "mousepad --disable-server", "window": "Mousepad$"}},
        "type": {"type": "desktop.element_type", "params": {"selector": "text", "window": "Mousepad$", "text": text}},
        "save": {"type": "desktop.hotkey", "params": {"keys": "ctrl+s"}},
        "dialog": {"type": "desktop.element_wait", "params": {
            "selector": 'file chooser[name="File Chooser Widget"] >> text', "window": "^Save As$", "timeout": 10}},
        "name": {"type": "desktop.element_type", "params": {
            "selector": 'file chooser[name="File Chooser Widget"] >> text', "window": "^Save As$",
            "text": str(target)}},
        "ok": {"type": "desktop.element_click", "params": {"selector": 'button[name="Save"]', "window": "^Save As$"}},
        "saved": {"type": "desktop.verify", "params": {"check": "window_title", "window": "Mousepad$",
                                                       "operator": "contains", "expected": target.name,
                                                       "timeout": 10}},
    }
    body = ["type", "save", "dialog", "name", "ok", "saved"]
    edges = [("start", "app"), ("app.body", f"{body[0]}.in"), *zip(body, body[1:])]
    bot = write_bot(tmp_path / "bot", "mousepad-a11y", nodes, edges, settings={"screen": "1280x800"})
    result, log = run_bot(bot)
    assert result.state == "succeeded", (result.error, messages(log)[-5:])
    assert target.read_text(encoding="utf-8").rstrip("\n") == text
    assert outputs(log, "type")["text"] == text
    assert not _windows("Mousepad$")


def test_the_application_scope_closes_the_app_when_its_body_fails(a11y_desktop, tmp_path):
    nodes = {
        "app": {"type": "desktop.app", "params": {"command": CALC, "window": f"^{CALC}$"}},
        "press": {"type": "desktop.element_click", "params": {"selector": 'button[name="7"]', "window": CALC}},
        "boom": {"type": "core.fail", "params": {"message": "the body failed"}},
    }
    edges = [("start", "app"), ("app.body", "press.in"), ("press", "boom")]
    bot = write_bot(tmp_path / "bot", "scope-fails", nodes, edges, settings={"screen": "1280x800"})
    result, log = run_bot(bot)
    assert result.state == "failed"
    assert "the body failed" in result.error["message"]
    assert not _windows(f"^{CALC}$")
    assert not subprocess.run(["pgrep", "-x", CALC], capture_output=True).stdout.strip()


def test_a_missing_element_fails_clearly_within_its_timeout_and_inspect_prints_selectors(a11y_desktop, tmp_path):
    nodes = {
        "app": {"type": "desktop.app", "params": {"command": CALC, "window": f"^{CALC}$"}},
        "press": {"type": "desktop.element_click", "params": {"selector": 'button[name="no such key"]',
                                                              "window": CALC, "timeout": 1}},
    }
    edges = [("start", "app"), ("app.body", "press.in")]
    bot = write_bot(tmp_path / "bot", "missing", nodes, edges, settings={"screen": "1280x800"})
    started = time.monotonic()
    result, _ = run_bot(bot)
    assert time.monotonic() - started < 15
    assert result.state == "failed"
    assert result.error["message"].startswith('element not found: button[name="no such key"]')
    assert "botloom inspect" in result.error["fix"]
    assert result.error["details"].get("screenshot")

    proc = subprocess.Popen([CALC], env=_app_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        cli = [sys.executable, "-m", "botloom.runner.cli", "inspect", "--window", f"^{CALC}$", "--timeout", "15"]
        out = subprocess.run(cli, capture_output=True, text=True, timeout=90)
        assert out.returncode == 0, out.stderr
        assert 'button[name="7"]' in out.stdout
        found = subprocess.run(cli + ["--selector", 'button[name="7"]', "--json"], capture_output=True, text=True,
                               timeout=90)
        rows = json.loads(found.stdout)
        assert len(rows) == 1 and rows[0]["role"] == "toggle button" and rows[0]["name"] == "7"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


def test_element_clicks_at_full_speed_drop_no_digit(a11y_desktop, tmp_path):
    """galculator dropped clicks of point targets at pace 0 (137592 for 7006652); pressing its
    buttons by their own action does not race the application's redraw."""
    keys = "7006652"
    nodes, ids = _press(keys)
    nodes["check"] = {"type": "desktop.verify", "params": {"check": "element_text", "selector": DISPLAY_TEXT,
                                                           "window": CALC, "expected": keys}}
    nodes = {"app": {"type": "desktop.app", "params": {"command": CALC, "window": f"^{CALC}$"}}, **nodes}
    body = [*ids, "check"]
    edges = [("start", "app"), ("app.body", f"{body[0]}.in"), *zip(body, body[1:])]
    bot = write_bot(tmp_path / "bot", "fast-clicks", nodes, edges, settings={"screen": "1280x800", "pace": 0})
    result, log = run_bot(bot)
    assert result.state == "succeeded", result.error
    assert all(outputs(log, i)["method"] == "action" for i in ids)


def _app_env() -> dict:
    from botloom.nodes.desktop import windows

    return windows.launch_env()


def test_the_element_under_a_point_is_offered_by_its_selector(a11y_desktop):
    """What the designer's point picker offers: at a point over galculator's "7", its selector
    (which finds that one button); over the desktop, nothing."""
    from botloom.nodes.desktop import a11y, windows

    proc = subprocess.Popen([CALC], env=_app_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        seven = a11y.locate('button[name="7"]', window=f"^{CALC}$", timeout=20)
        x, y, w, h = seven.box()
        win = windows.window_at(x + w // 2, y + h // 2)
        assert win["pattern"] == "^galculator$" and win["process"] == "galculator"
        got = a11y.element_at(x + w // 2, y + h // 2, win["pattern"], win["process"])
        assert got["name"] == "7" and got["box"] == [x, y, w, h]
        found = a11y.search(got["selector"], window=win["pattern"], process=win["process"])[0]
        assert len(found) == 1 and found[0].box() == (x, y, w, h), got
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


def test_recorded_clicks_on_galculator_name_its_buttons_and_replay(a11y_desktop, tmp_path, cli):
    """The desktop recorder asks the accessibility tree what was clicked: each click on a key of
    galculator becomes a Click on that button by its selector (the image, text and point behind
    it); the bot replays 7 + 8 = in a fresh galculator and its display says 15."""
    from botloom.nodes.desktop import a11y
    from botloom.runner.sdk import recording

    def start_calc():
        proc = subprocess.Popen([CALC], env=_app_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        a11y.locate('button[name="7"]', window=f"^{CALC}$", timeout=20)
        time.sleep(0.5)
        return proc

    from desktop_helpers import start_recorder, stop_recorder

    calc = start_calc()
    try:
        rec = start_recorder(tmp_path / "bot" / "images", "--no-ocr")
        for key in "7+8=":
            x, y, w, h = a11y.locate(f'button[name="{key}"]', window=f"^{CALC}$", timeout=5).box()
            subprocess.run(["xdotool", "mousemove", str(x + w // 2), str(y + h // 2)], check=True, timeout=10)
            time.sleep(0.3)
            subprocess.run(["xdotool", "click", "1"], check=True, timeout=10)
            time.sleep(0.3)
        steps = stop_recorder(rec)
    finally:
        os.killpg(calc.pid, signal.SIGTERM)
        calc.wait(10)
    clicks = [s.params["target"] for s in steps if s.type == "desktop.click"]
    assert [(t["kind"], t["selector"]) for t in clicks] == [("element", f'toggle button[name="{k}"]') for k in "7+8="], clicks
    assert all(t["window"] == "^galculator$" and t["fallbacks"][-1]["kind"] == "point" for t in clicks)
    steps.append(recording.Step("desktop.verify", {"check": "element_text", "selector": DISPLAY_TEXT,
                                                   "window": CALC, "expected": "15"}, "The display says 15"))
    path = tmp_path / "bot" / "sum.bot.json"
    recording.write_bot(path, "sum", steps)
    again = start_calc()
    try:
        proc = cli("run", path, "--json", timeout=120)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    finally:
        os.killpg(again.pid, signal.SIGTERM)
        again.wait(10)
