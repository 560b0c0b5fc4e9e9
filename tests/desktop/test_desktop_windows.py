"""Window nodes on a real application (xcalc): launch, list, find, wait, move, resize,
minimise, activate, close; and the errors a user meets: no display, a screen that is not
what the bot declares, a window that is not there, coordinates outside the window/screen."""

from __future__ import annotations

import pytest

from pathlib import Path

from desktop_helpers import artifacts, chain, messages, outputs, run_bot, write_bot

CALC = "^Calculator$"


def test_window_lifecycle(desktop, tmp_path):
    bot = write_bot(tmp_path, "windows", {
        "launch": {"type": "desktop.launch", "params": {"command": "xcalc", "wait_title": CALC}},
        "list": {"type": "desktop.list_windows", "params": {"title": "calc"}},
        "byproc": {"type": "desktop.list_windows", "params": {"process": "xcalc"}},
        "move": {"type": "desktop.move_window", "params": {"title": CALC, "x": 200, "y": 150, "width": 300,
                                                           "height": 450}},
        "shot": {"type": "desktop.screenshot", "params": {"area": "window", "window": CALC, "name": "calc"}},
        "mini": {"type": "desktop.window_state", "params": {"title": CALC, "action": "minimize"}},
        "front": {"type": "desktop.activate_window", "params": {"title": CALC}},
        "find": {"type": "desktop.find_window", "params": {"title": CALC}},
        "close": {"type": "desktop.window_state", "params": {"title": CALC, "action": "close"}},
        "gone": {"type": "desktop.wait_window", "params": {"title": CALC, "state": "closed", "timeout": 10}},
        "after": {"type": "desktop.find_window", "params": {"title": CALC}},
        "none": {"type": "core.log", "params": {"message": "calculator closed"}},
    }, [*chain("launch", "list", "byproc", "move", "shot", "mini", "front", "find"), ("find.found", "close"), ("close", "gone"),
        ("gone", "after"), ("after.missing", "none")])
    result, log = run_bot(bot)
    assert result.state == "succeeded", result.error
    launched = outputs(log, "launch")
    assert launched["pid"] > 0 and launched["window"]["title"] == "Calculator"
    listed = outputs(log, "list")
    assert listed["count"] == 1 and listed["windows"][0]["title"] == "Calculator"
    assert [w["title"] for w in outputs(log, "byproc")["windows"]] == ["Calculator"]
    moved = outputs(log, "move")["window"]
    assert (moved["x"], moved["y"], moved["width"], moved["height"]) == (200, 150, 300, 450)
    shot = outputs(log, "shot")
    assert (shot["width"], shot["height"]) == (300, 450)
    assert shot["path"].endswith("calc.png") and artifacts(log, "screenshot")[0] == Path(shot["path"])
    assert Path(shot["path"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert outputs(log, "mini")["window"]["minimized"] is True
    front = outputs(log, "front")["window"]
    assert front["active"] is True and front["minimized"] is False
    assert outputs(log, "find")["found"] is True
    assert "calculator closed" in messages(log)


def test_no_display_fails_before_the_first_step(desktop, tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    marker = tmp_path / "ran.txt"
    bot = write_bot(tmp_path, "nodisplay", {
        "write": {"type": "files.write_text", "params": {"path": str(marker), "text": "side effect"}},
        "click": {"type": "desktop.click", "params": {"target": {"kind": "point", "x": 1, "y": 1}}},
    }, chain("write", "click"))
    result, log = run_bot(bot)
    assert result.state == "failed"
    assert result.error["message"] == "no display: DISPLAY is not set"
    assert "start Xvfb" in result.error["fix"] and "log in a desktop session" in result.error["fix"]
    assert not marker.exists()  # preflight: nothing ran
    assert not log.of("node_started")


def test_screen_size_and_scaling_must_match_the_bot(desktop, tmp_path):
    bot = write_bot(tmp_path, "bigscreen", {"shot": {"type": "desktop.screenshot"}}, chain("shot"),
                    settings={"screen": "1920x1080", "scale": 1.0})
    result, _ = run_bot(bot)
    assert result.state == "failed"
    assert result.error["message"] == ("the screen is 1280x800 but the bot declares 1920x1080 "
                                       "(settings.desktop.screen)")
    bot = write_bot(tmp_path, "scaled", {"shot": {"type": "desktop.screenshot"}}, chain("shot"),
                    settings={"screen": "1280x800", "scale": 1.5})
    result, _ = run_bot(bot)
    assert result.state == "failed"
    assert "display scaling is 100% but the bot declares 150%" in result.error["message"]
    bot = write_bot(tmp_path, "typo", {"shot": {"type": "desktop.screenshot"}}, chain("shot"),
                    settings={"screen": "1280x800", "pase": 0.3})
    result, _ = run_bot(bot)
    assert result.state == "failed" and "unknown key(s) in settings.desktop: pase" in result.error["message"]


def test_window_not_found_lists_the_open_windows(desktop, tmp_path):
    bot = write_bot(tmp_path, "nowin", {
        "launch": {"type": "desktop.launch", "params": {"command": "xcalc", "wait_title": CALC}},
        "focus": {"type": "desktop.activate_window", "params": {"title": "^Invoice entry", "timeout": 0.2}},
    }, chain("launch", "focus"))
    result, log = run_bot(bot)
    assert result.state == "failed"
    msg = result.error["message"]
    assert msg.startswith("no window with title /^Invoice entry/ within 0.2 s; open windows: 'Calculator'"), msg
    assert result.error["details"]["windows"] == ["Calculator"]
    assert "screenshot:" in msg


def test_bad_coordinates_are_refused(desktop, tmp_path):
    bot = write_bot(tmp_path, "badpoint", {
        "launch": {"type": "desktop.launch", "params": {"command": "xcalc", "wait_title": CALC}},
        "click": {"type": "desktop.click", "params": {"target": {"kind": "point", "x": 400, "y": 20,
                                                                 "window": CALC}}},
    }, chain("launch", "click"))
    result, _ = run_bot(bot)
    assert result.state == "failed" and result.error["kind"] == "bad_coordinates"
    assert result.error["message"].startswith("the point 400,20 is outside the window 'Calculator' (")
    bot = write_bot(tmp_path, "offscreen", {
        "click": {"type": "desktop.click", "params": {"target": {"kind": "point", "x": 1300, "y": 20}}},
    }, chain("click"))
    result, _ = run_bot(bot)
    assert result.state == "failed" and result.error["kind"] == "bad_coordinates"
    assert result.error["message"].startswith("the point 1300,20 is outside the 1280x800 screen")


def test_unknown_key_and_empty_target(desktop, tmp_path):
    bot = write_bot(tmp_path, "keys", {"keys": {"type": "desktop.hotkey", "params": {"keys": "ctrl+sift+s"}}},
                    chain("keys"))
    result, _ = run_bot(bot)
    assert result.state == "failed" and result.error["message"].startswith("unknown key 'sift' (did you mean shift")
    bot = write_bot(tmp_path, "kind", {"click": {"type": "desktop.click", "params": {
        "target": {"kind": "pixel", "x": 1, "y": 1}}}}, chain("click"))
    from botloom.runner.errors import InvalidBotError

    with pytest.raises(InvalidBotError) as refused:  # checked before the run starts (the target lint)
        run_bot(bot)
    assert "unknown kind 'pixel'" in str(refused.value)


def test_clipboard_round_trip_with_unicode(desktop, tmp_path):
    text = "Zürich — 5 € — 東京"
    bot = write_bot(tmp_path, "clip", {
        "set": {"type": "desktop.set_clipboard", "params": {"text": text}},
        "get": {"type": "desktop.get_clipboard"},
    }, chain("set", "get"))
    result, log = run_bot(bot)
    assert result.state == "succeeded", result.error
    assert outputs(log, "get")["text"] == text


def test_pace_setting_sets_the_pause_and_defaults_to_full_speed(desktop):
    from botloom.nodes.desktop import session

    class Ctx:
        def __init__(self, block):
            self.block = block

        def settings(self, area):
            return dict(self.block) if area == "desktop" else {}

        def resource(self, key, opener, closer=None):
            return opener()

        def require(self, module, install):
            import importlib

            return importlib.import_module(module)

    assert session.gui(Ctx({})).PAUSE == 0
    assert session.gui(Ctx({"pace": 0.25})).PAUSE == 0.25
    assert session.gui(Ctx({})).FAILSAFE is False
