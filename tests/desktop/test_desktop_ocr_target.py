"""Text targets: the click node finds a label on the virtual screen by OCR (through the OCR
pack's find_text) and really clicks it."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_helpers import chain, outputs, run_bot, write_bot


def labels_screen() -> tuple[np.ndarray, dict]:
    import cv2

    screen = np.full((800, 1280, 3), 245, np.uint8)
    boxes = {}
    for word, (x, y) in {"Cancel": (200, 300), "Save": (520, 300), "Open": (840, 300)}.items():
        cv2.rectangle(screen, (x, y), (x + 200, y + 70), (90, 90, 90), 2)
        cv2.putText(screen, word, (x + 40, y + 48), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (10, 10, 10), 2, cv2.LINE_AA)
        boxes[word] = (x, y, 200, 70)
    return screen, boxes


def test_click_text_label(desktop, tmp_path):
    pytest.importorskip("botloom.nodes.ocr.api", reason="text targets use the OCR pack")
    screen, boxes = labels_screen()
    desktop.show_image(screen)
    bot = write_bot(tmp_path, "click-save", {"click": {"type": "desktop.click", "params": {
        "target": {"kind": "text", "text": "Save"}, "timeout": 10}}}, chain("click"))
    result, log = run_bot(bot)
    assert result.state == "succeeded", result.error
    match = outputs(log, "click")["match"]
    assert match["kind"] == "text" and match["score"] >= 0.5
    import pyautogui

    x, y = pyautogui.position()
    bx, by, bw, bh = boxes["Save"]
    assert bx < x < bx + bw and by < y < by + bh, (x, y)


def test_absent_label_falls_back_to_the_next_text_target(desktop, tmp_path):
    pytest.importorskip("botloom.nodes.ocr.api", reason="text targets use the OCR pack")
    screen, boxes = labels_screen()
    desktop.show_image(screen)
    bot = write_bot(tmp_path, "click-delete", {"click": {"type": "desktop.click", "params": {
        "target": {"kind": "text", "text": "Delete", "fallbacks": [{"kind": "text", "text": "Open"}]},
        "timeout": 0}}}, chain("click"))
    result, log = run_bot(bot)
    assert result.state == "succeeded", result.error
    match = outputs(log, "click")["match"]
    assert match["fallback"] == 1 and match["target"] == "text 'Open'"


def test_double_click_and_drag_select_text_in_mousepad(desktop, tmp_path):
    """Text targets in a real app: double-click a word, then drag across words; the X
    primary selection says what got selected."""
    pytest.importorskip("botloom.nodes.ocr.api", reason="text targets use the OCR pack")
    win = "Mousepad$"
    bot = write_bot(tmp_path, "select", {
        "launch": {"type": "desktop.launch", "params": {"command": "mousepad", "wait_title": win}},
        "size": {"type": "desktop.move_window", "params": {"title": win, "x": 40, "y": 40, "width": 900,
                                                           "height": 500}},
        "focus": {"type": "desktop.activate_window", "params": {"title": win}},
        "write": {"type": "desktop.type_text", "params": {"text": "ALPHA BRAVO CHARLIE DELTA"}},
        "settle": {"type": "desktop.wait_settle", "params": {"area": "window", "window": win}},
        "word": {"type": "desktop.double_click", "params": {"target": {"kind": "text", "text": "CHARLIE",
                                                                       "window": win}, "timeout": 10}},
        "shown": {"type": "desktop.wait_settle", "params": {"area": "window", "window": win}},
        "one": {"type": "desktop.get_clipboard", "params": {"selection": "primary", "timeout": 5}},
        "drag": {"type": "desktop.drag", "params": {
            "source": {"kind": "text", "text": "BRAVO", "window": win, "offset": [-20, 0]},
            "destination": {"kind": "text", "text": "DELTA", "window": win}, "timeout": 10}},
        "dragged": {"type": "desktop.wait_settle", "params": {"area": "window", "window": win}},
        "span": {"type": "desktop.get_clipboard", "params": {"selection": "primary", "timeout": 5}},
    }, chain("launch", "size", "focus", "write", "settle", "word", "shown", "one", "drag", "dragged",
                                     "span"))
    result, log = run_bot(bot)
    assert result.state == "succeeded", result.error
    assert outputs(log, "one")["text"] == "CHARLIE", (outputs(log, "word"), [e.message for e in log.of("log")])
    span = outputs(log, "span")["text"]
    assert "BRAVO CHARLIE" in span and not span.startswith("ALPHA"), span


def test_the_quick_look_and_the_detector_agree_on_real_apps(desktop, tmp_path):
    """Every line the detector reads on real application windows (Mousepad, xcalc) is found
    by search_text at that place; most are answered by the quick look, without the detector."""
    pytest.importorskip("botloom.nodes.ocr.api", reason="text targets use the OCR pack")
    import time

    from botloom.nodes.desktop.screen import grab
    from botloom.nodes.ocr.api import _loose, search_text
    from botloom.nodes.ocr.engines import get_engine

    note = tmp_path / "note.txt"
    note.write_text("Dear customer,\nyour invoice INV-2024-0042 is overdue.\nPlease pay 1,234.56 EUR by "
                    "15.04.2024.\nKind regards\nAccounts team\n", encoding="utf-8")
    desktop.launch(["mousepad", str(note)])
    desktop.wait_window("note")
    desktop.launch(["xcalc"])
    desktop.wait_window("Calculator")
    time.sleep(1.5)  # let both windows paint
    screen = np.asarray(grab())
    engine = get_engine("rapidocr", {"threads": 2})
    detector_runs = []
    read_staged = engine.read_staged

    def counting(*args, **kwargs):
        detector_runs.append(1)
        return read_staged(*args, **kwargs)

    lines = [ln for ln in engine.read(screen).lines if ln.confidence >= 0.9 and len(_loose(ln.text)) >= 3]
    assert len(lines) >= 15, [ln.text for ln in lines]
    wrong, quick = [], 0
    try:
        engine.read_staged = counting
        for line in lines:
            detector_runs.clear()
            matches, _ = search_text(screen, line.text, engine=engine)
            quick += not detector_runs
            cx, cy = matches[0].center if matches else (-1, -1)
            same = [o for o in lines if _loose(o.text) == _loose(line.text) or _loose(line.text) in _loose(o.text)]
            if not any(o.box[0] <= cx <= o.box[0] + o.box[2] and o.box[1] <= cy <= o.box[1] + o.box[3] for o in same):
                wrong.append((line.text, line.box, matches[:1]))
    finally:
        del engine.read_staged
    assert wrong == []
    assert quick >= len(lines) // 2, f"the quick look answered {quick} of {len(lines)}"


def test_an_absent_text_says_so_and_keeps_to_its_timeout(desktop, tmp_path):
    """A text that is not on the screen: the message says it did not match (not "matched"), the
    fix speaks of the text (not of re-capturing an image), and the search stops at its timeout
    instead of starting a whole-screen read it cannot finish in time."""
    pytest.importorskip("botloom.nodes.ocr.api", reason="text targets use the OCR pack")
    screen, _ = labels_screen()
    desktop.show_image(screen)
    bot = write_bot(tmp_path, "click-absent", {"click": {"type": "desktop.click", "params": {
        "target": {"kind": "text", "text": "Delete forever"}, "timeout": 3}}}, chain("click"))
    result, _ = run_bot(bot)
    assert result.state == "failed"
    err = result.error
    assert err["kind"] == "not_found"
    assert err["message"].startswith("text not found: the target did not match within 3 s"), err["message"]
    assert "check the text" in err["fix"] and "image" not in err["fix"]
    assert err["details"]["waited"] < 3 + 5  # one whole-screen read past the timeout at most, not 17 s
