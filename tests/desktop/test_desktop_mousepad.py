"""Mousepad on the virtual screen: the sample bot types a Unicode note (accents, €, CJK),
saves it through Mousepad's own Save As dialog with hotkeys and closes the editor; the
saved file is compared byte for byte. Runs through the real `botloom run` command."""

from __future__ import annotations

import json
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bots" / "mousepad-note" / "mousepad-note.bot.json"
NOTE = "Grüße aus Köln: 12,50 €\nNaïve café — 東京, 北京\nEnd."


def test_sample_bot_types_unicode_and_saves_through_the_dialog(desktop, cli, tmp_path):
    target = tmp_path / "saved notes" / "note.txt"
    target.parent.mkdir()
    proc = cli("run", BOT, "--input", f"save_as={target}", "--json", timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert target.read_bytes() == NOTE.encode("utf-8")
    result = json.loads(proc.stdout)
    assert result["outputs"]["saved"] == str(target)


def test_other_text_through_the_engine(desktop, tmp_path):
    from desktop_helpers import outputs, run_bot

    text = "Ünïcödé ½ ¥ ₿ — Ωμέγα, Привет, 日本語テキスト, 한국어\n\tindented line\nlast"
    target = tmp_path / "other.txt"
    result, log = run_bot(BOT, {"note": text, "save_as": str(target)})
    assert result.state == "succeeded", result.error
    assert target.read_bytes() == text.encode("utf-8")
    assert outputs(log, "write")["engine"].startswith("auto")


def test_scroll_moves_the_view(desktop, tmp_path):
    """80 lines in Mousepad, back to the top, scroll down over the text, click the line now
    in the middle of the view and select it: it is far below the first lines."""
    from desktop_helpers import chain, outputs, run_bot, write_bot

    win = "Mousepad$"
    text = "\n".join(f"line {i}" for i in range(1, 81))
    middle = {"kind": "point", "x": 300, "y": 200, "window": win}
    bot = write_bot(tmp_path, "scroll", {
        "launch": {"type": "desktop.launch", "params": {"command": "mousepad", "wait_title": win}},
        "size": {"type": "desktop.move_window", "params": {"title": win, "x": 40, "y": 40, "width": 700,
                                                           "height": 500}},
        "focus": {"type": "desktop.activate_window", "params": {"title": win}},
        "write": {"type": "desktop.type_text", "params": {"text": text}},
        "typed": {"type": "desktop.wait_settle", "params": {"area": "window", "window": win}},
        "top": {"type": "desktop.hotkey", "params": {"keys": "ctrl+home"}},
        "at_top": {"type": "desktop.wait_settle", "params": {"area": "window", "window": win}},
        "wheel": {"type": "desktop.scroll", "params": {"amount": -10, "target": middle}},
        "settle": {"type": "desktop.wait_settle", "params": {"area": "window", "window": win}},
        "click": {"type": "desktop.click", "params": {"target": middle}},
        "clicked": {"type": "desktop.wait_settle", "params": {"area": "window", "window": win}},
        "home": {"type": "desktop.press_key", "params": {"key": "home"}},
        "select": {"type": "desktop.hotkey", "params": {"keys": "shift+end"}},
        "shown": {"type": "desktop.wait_settle", "params": {"area": "window", "window": win}},
        "read": {"type": "desktop.get_clipboard", "params": {"selection": "primary", "timeout": 5}},
    }, chain("launch", "size", "focus", "write", "typed", "top", "at_top", "wheel", "settle", "click", "clicked", "home", "select", "shown",
             "read"))
    result, log = run_bot(bot)
    assert result.state == "succeeded", result.error
    line = outputs(log, "read")["text"]
    assert line.startswith("line ") and int(line.split()[1]) >= 20, line
