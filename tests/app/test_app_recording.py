"""Recording in the browser from the designer: Flow ▸ Record in browser runs the real recorder
in a child process (its browser headless here, driven over the DevTools protocol as a person
would drive it); the steps count up in the status bar, Stop ends it, and the recorded nodes
are appended after the selected node as one undoable step."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from todo_app import TodoApp, free_port, page_over_cdp

from botloom.runner.sdk.registry import Registry


@pytest.fixture
def bwin(win, registry):
    """The test window with the browser pack as well (the recorded nodes are browser nodes)."""
    from botloom.nodes.browser import pack

    reg = Registry()
    for p in registry.packs.values():
        reg.add_pack(p)
    reg.add_pack(pack())
    win.registry = reg
    return win


@pytest.fixture
def todo_app():
    app = TodoApp()
    yield app
    app.stop()


def test_recording_appends_the_steps_after_the_selected_node_as_one_undo_step(bwin, qtbot, todo_app):
    from playwright.sync_api import sync_playwright

    win = bwin
    win.new_bot()
    flow = win.scene.flow
    assert flow.node_ids() == ["start"]
    win.scene.select_nodes(["start"])
    port = free_port()
    win.recorder_extra = ["--headless", "--cdp-port", str(port)]
    assert win.record_web(todo_app.url)
    assert win.recording_bar.label.text() == "Starting the browser…"
    with qtbot.waitSignal(win.recorder.ready, timeout=60_000):
        pass  # the browser is open (connected to the recorder's context from here on)
    assert win.recording_bar.label.text() == "● Recording in the browser: 0 steps"
    with sync_playwright() as pw:
        browser, page = page_over_cdp(pw, port, todo_app.url)
        page.get_by_placeholder("What needs to be done?").click()
        page.keyboard.type("Buy milk")
        page.keyboard.press("Enter")
        page.get_by_text("Buy milk").click()
        page.wait_for_function("() => document.querySelector('li input') && document.querySelector('li input').checked")
        page.get_by_label("Sync PIN").fill("4711")  # a password field
        qtbot.waitUntil(lambda: "5 steps" in win.recording_bar.label.text(), timeout=20_000)
        undo_before = win.doc.undo.count()
        with qtbot.waitSignal(win.recorder.finished, timeout=30_000):
            qtbot.mouseClick(win.recording_bar.button, Qt.LeftButton)
        browser.close()
    assert win.recording_bar is None  # the bar is gone
    assert win.doc.undo.count() == undo_before + 1 and win.doc.undo.undoText() == "Record 6 browser step(s)"
    types = {nid: flow.node(nid).type for nid in flow.node_ids()}
    chain, node = [], "start"
    while True:
        nxt = [e.target for e in flow.edges() if e.source == node and e.source_port == "out"]
        if not nxt:
            break
        node = nxt[0]
        chain.append(types[node])
    assert chain == ["browser.open", "browser.click", "browser.fill", "browser.press", "browser.check", "browser.fill"]
    fill = next(flow.node(n) for n in flow.node_ids() if types[n] == "browser.fill")
    pin = [flow.node(n) for n in flow.node_ids() if types[n] == "browser.fill"][-1]
    assert pin.params["secret"] == "password" and "4711" not in repr(pin.params)
    assert list(win.doc.bot.secrets) == ["password"]  # declared with the nodes, in the same undo step
    assert fill.params == {"target": "role=textbox[name=What needs to be done?]", "value": "Buy milk"}
    assert fill.title == "Fill 'What needs to be done?'"
    xs = [flow.position(n)[0] for n in flow.node_ids()]
    assert len(set(xs)) == len(xs)  # side by side, none on top of another
    assert win.doc.problems() == []
    win.doc.undo.undo()
    assert flow.node_ids() == ["start"] and win.doc.bot.secrets == {}
    win.doc.undo.redo()
    assert len(flow.node_ids()) == 7 and list(win.doc.bot.secrets) == ["password"]


def test_a_recorder_that_cannot_start_says_why_and_leaves_the_flow_alone(bwin, qtbot, tmp_path):
    win = bwin
    win.new_bot()
    win.recorder_extra = ["--headless", "--browser", str(tmp_path / "no-such-browser")]
    assert win.record_web("about:blank")
    with qtbot.waitSignal(win.recorder.failed, timeout=60_000) as failed:
        pass
    assert "no-such-browser" in failed.args[0]
    assert win.recording_bar is None and win.scene.flow.node_ids() == ["start"]
    assert win.messages[-1][0] == "error" and "Recording:" in win.messages[-1][1]


def test_desktop_recording_appends_clicks_and_typing_and_the_designer_steps_aside(mousepad_screen, qtbot, tmp_path):
    import subprocess
    import time

    from botloom.nodes.desktop import windows

    win, vd = mousepad_screen
    win.new_bot()
    bot = tmp_path / "desk" / "desk.bot.json"
    bot.parent.mkdir()
    win.ask_save_path = lambda: str(bot)
    win.recorder_extra = ["--no-ocr"]  # text targets are the Mousepad recorder test's; here the designer's part
    assert win.record_desktop()
    assert bot.is_file() and win.recording_bar.isWindow() and win.isMinimized()
    with qtbot.waitSignal(win.recorder.ready, timeout=60_000):
        pass
    mp = windows.matching(windows.list_all(), "Mousepad$")[0]
    for args in (["mousemove", str(mp.x + 200), str(mp.y + 200)], ["click", "1"], ["type", "--delay", "20", "hello"]):
        subprocess.run(["xdotool", *args], env=vd.env, check=True, timeout=20)
        time.sleep(0.3)
    qtbot.waitUntil(lambda: "2 steps" in win.recording_bar.label.text(), timeout=30_000)
    with qtbot.waitSignal(win.recorder.finished, timeout=30_000):
        qtbot.mouseClick(win.recording_bar.button, Qt.LeftButton)
    assert win.recording_bar is None and not win.isMinimized()
    flow = win.scene.flow
    types = sorted(flow.node(n).type for n in flow.node_ids())
    assert types == ["core.start", "desktop.click", "desktop.type_text"]
    click = next(flow.node(n) for n in flow.node_ids() if flow.node(n).type == "desktop.click")
    assert click.params["target"] == {"kind": "point", "x": 200, "y": 200, "window": "\\-\\ Mousepad$",
                                      "process": "mousepad"}
    assert win.doc.undo.undoText() == "Record 2 desktop step(s)"
    win.doc.undo.undo()
    assert flow.node_ids() == ["start"]


def test_pick_names_the_clicked_element_in_the_target_as_one_undo_step(bwin, qtbot, todo_app, tmp_path):
    from bots import write_bot
    from playwright.sync_api import sync_playwright

    win = bwin
    path = write_bot(tmp_path, "picking", {
        "start": {"type": "core.start"},
        "open": {"type": "browser.open", "params": {"url": todo_app.url}},
        "add": {"type": "browser.click", "params": {"target": "#old"}},
    }, [("start.out", "open.in"), ("open.out", "add.in")])
    assert win.open_path(str(path))
    win.scene.select_nodes(["add"])
    field = win.inspector.fields["target"]
    assert field.pick_button.text() == "Pick…"
    asked = []
    win.ask_text = lambda title, label, text="", multiline=False: asked.append(text) or text
    port = free_port()
    win.recorder_extra = ["--headless", "--cdp-port", str(port)]
    field.pick_button.click()
    assert asked == [todo_app.url]  # the address the flow opens
    with qtbot.waitSignal(win.recorder.ready, timeout=60_000):
        pass
    with sync_playwright() as pw:
        browser, page = page_over_cdp(pw, port, todo_app.url)
        with qtbot.waitSignal(win.recorder.picked, timeout=30_000):
            page.get_by_role("button", name="Add").click()
        browser.close()
    assert win.doc.flow("main").node("add").params["target"] == 'role=button[name="Add"]'
    assert win.doc.undo.undoText() == "Change 'Target' of 'Click'" and todo_app.todos == []
    qtbot.waitUntil(lambda: win.recording_bar is None, timeout=30_000)
    assert field.editor.text() == 'role=button[name="Add"]' or win.inspector.fields["target"].editor.text() == \
        'role=button[name="Add"]'
