"""xcalc on the virtual screen, driven by Botloom bots: compute by clicking its buttons
(point targets relative to the window), verify the result from the screen by image match
and by reading its display; a mismatch fails with the best score and a screenshot."""

from __future__ import annotations

from desktop_helpers import artifacts, chain, messages, outputs, run_bot, write_bot

CALC = "^Calculator$"
# button centres relative to xcalc's client area (Debian's xcalc, default resources)
BUTTONS = {"1": (69, 361), "2": (113, 361), "3": (156, 361), "4": (69, 331), "5": (113, 331),
           "*": (200, 301), "=": (200, 391), "AC": (200, 83)}
DISPLAY_REGION = [10, 6, 225, 34]  # the number line of its display, relative to the window


def press(*keys: str) -> tuple[dict, list[str]]:
    nodes = {}
    for i, key in enumerate(keys):
        x, y = BUTTONS[key]
        nodes[f"b{i}"] = {"type": "desktop.click", "title": f"press {key}",
                          "params": {"target": {"kind": "point", "x": x, "y": y, "window": CALC}}}
    return nodes, list(nodes)


def test_xcalc_multiplies_by_clicks_and_the_screen_shows_the_result(desktop, tmp_path):
    folder = tmp_path / "bot"
    # 1. a reference picture of "408" on the display, entered directly (no computation)
    ref_nodes = {
        "launch": {"type": "desktop.launch", "params": {"command": "xcalc", "wait_title": CALC}},
        "place": {"type": "desktop.move_window", "params": {"title": CALC, "x": 100, "y": 60}},
        "focus": {"type": "desktop.activate_window", "params": {"title": CALC}},
        "keys": {"type": "desktop.type_text", "params": {"text": "408"}},
        "settle": {"type": "desktop.wait_settle", "params": {"area": "window", "window": CALC}},
        "shot": {"type": "desktop.screenshot", "params": {"area": "region", "window": CALC, "region": DISPLAY_REGION,
                                                          "save_to": "images/expected.png"}},
    }
    ref = write_bot(folder, "xcalc-reference", ref_nodes, chain("launch", "place", "focus", "keys", "settle", "shot"),
                    settings={"screen": "1280x800", "scale": 1.0, "pace": 0.0})
    result, log = run_bot(ref)
    assert result.state == "succeeded", result.error
    assert (folder / "images" / "expected.png").stat().st_size > 100
    assert artifacts(log, "screenshot")

    # 2. compute 12*34 by clicking buttons, then find the reference picture on the display
    nodes, ids = press("AC", "1", "2", "*", "3", "4", "=")
    nodes.update({
        "check": {"type": "desktop.wait_image", "params": {"target": {
            "kind": "image", "image": "images/expected.png", "confidence": 0.97, "window": CALC,
            "region": DISPLAY_REGION}, "timeout": 5}},
        "select": {"type": "desktop.click", "params": {"target": {"kind": "point", "x": 150, "y": 22,
                                                                  "window": CALC}}},
        "read": {"type": "desktop.get_clipboard", "params": {"selection": "primary"}},
    })
    compute = write_bot(folder, "xcalc-compute", nodes, chain(*ids, "check", "select", "read"),
                        settings={"screen": "1280x800"})
    result, log = run_bot(compute)
    assert result.state == "succeeded", result.error
    assert outputs(log, "check")["match"]["score"] >= 0.97
    assert outputs(log, "read")["text"] == "408"

    # 3. a different result does not match: image not found, best score and screenshot in the error
    nodes, ids = press("AC", "1", "2", "*", "3", "5", "=")
    nodes["check"] = {"type": "desktop.wait_image", "params": {"target": {
        "kind": "image", "image": "images/expected.png", "confidence": 0.97, "window": CALC,
        "region": DISPLAY_REGION}, "timeout": 0.5}}
    wrong = write_bot(folder, "xcalc-wrong", nodes, chain(*ids, "check"))
    result, log = run_bot(wrong)
    assert result.state == "failed"
    message = result.error["message"]
    assert message.startswith("image not found"), message
    assert "best score" in message and "screenshot:" in message
    assert result.error["details"]["best_score"] < 0.97
    shots = artifacts(log, "screenshot")
    assert shots and shots[-1].exists() and shots[-1].name.endswith("check-failure.png")
    assert str(shots[-1]) in message
