"""The web recorder: a person's actions in a real browser (here driven through Playwright's input,
which reaches the page as a person's would) become browser nodes with Playwright's locators; the
saved bot replays them green against the same to-do app, whose server keeps what was done."""

from __future__ import annotations

import json

import pytest
from todo_app import TodoApp

from botloom.nodes.browser.recorder import Recording, WebRecorder, target_of
from botloom.nodes.browser.targets import parse
from botloom.runner import botfile
from botloom.runner.sdk import recording

@pytest.fixture
def todo_app():
    app = TodoApp()
    yield app
    app.stop()


def record(app: TodoApp) -> list[recording.Step]:
    rec = WebRecorder(app.url, headless=True).start()
    try:
        page = rec.page
        page.get_by_placeholder("What needs to be done?").click()
        page.keyboard.type("Buy milk")
        page.keyboard.press("Enter")  # Enter submits the form
        page.get_by_text("Buy milk").wait_for()
        page.get_by_placeholder("What needs to be done?").click()
        page.keyboard.type("Walk the dog")
        page.get_by_role("button", name="Add").click()
        page.get_by_text("Walk the dog").wait_for()
        page.get_by_text("Buy milk").click()  # the label ticks its checkbox
        page.wait_for_function("() => document.querySelector('li input').checked")
        page.select_option("#show", "done")
        page.get_by_label("Sync PIN").fill("4711")  # a password field: its text must not go into the bot
        page.get_by_role("link", name="Statistics").click()
        page.wait_for_url("**/stats")
        rec.pump(0.5)
    finally:
        steps = rec.stop()
    return steps


def test_recorded_todos_become_browser_nodes_that_replay_green(todo_app, cli, work):
    steps = record(todo_app)
    recorded = todo_app.state()
    assert recorded == {"todos": [("Buy milk", True), ("Walk the dog", False)], "show": "done", "saw_stats": True}

    kinds = [s.type for s in steps]
    assert kinds[0] == "browser.open" and steps[0].params["url"] == todo_app.url
    assert kinds.count("browser.fill") == 3 and "browser.press" in kinds and "browser.check" in kinds
    assert "browser.select" in kinds and kinds[-1] == "browser.click"
    fills = [s.params["value"] for s in steps if s.type == "browser.fill"]
    assert fills == ["Buy milk", "Walk the dog", ""]  # one fill per field, not one per key
    press = next(s for s in steps if s.type == "browser.press")
    assert press.params["key"] == "Enter"
    # the click the browser makes by itself when Enter submits the form is not a step (it would submit twice)
    assert [s.params.get("target") for s in steps].count("role=button[name=Add]") == 1
    # Playwright's locators, not CSS paths
    targets = [s.params["target"] for s in steps if "target" in s.params and s.params["target"]]
    assert all(t.split("=", 1)[0] in ("role", "label", "placeholder", "text", "testid") for t in targets), targets
    assert next(s for s in steps if s.type == "browser.check").params == {"target": "role=checkbox[name=Buy milk]",
                                                                         "checked": True}
    assert next(s for s in steps if s.type == "browser.select").params == {"target": "label=Show", "option": "done",
                                                                          "by": "value"}
    pin = next(s for s in steps if s.type == "browser.fill" and "PIN" in s.params["target"])
    assert pin.params == {"target": "role=textbox[name=Sync PIN]" if "role=" in pin.params["target"] else
                          pin.params["target"], "value": "", "secret": "password"} and "not kept" in pin.warning
    assert pin.secrets == {"password": "the password typed while recording"}
    assert "4711" not in json.dumps([s.to_json() for s in steps])
    assert [s.warning for s in steps if s.warning] == [pin.warning]

    path = work / "recorded-todos.bot.json"
    bot = recording.bot_from_steps("recorded-todos", steps)
    assert list(bot.secrets) == ["password"]  # declared, so validation has nothing to warn about
    botfile.save(bot, path)
    todo_app.reset()
    cli.env.pop("PYTHON_KEYRING_BACKEND", None)
    cli.env["BOTLOOM_KEYRING_KEY"] = "key of this test"
    assert cli("secret", "set", "password", input="4711\n").returncode == 0
    checked = cli("validate", path)
    assert checked.returncode == 0 and "undeclared-secret" not in checked.stdout + checked.stderr
    proc = cli("run", path, "--json", timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert todo_app.state() == recorded


def test_the_recorder_reports_steps_as_json_lines_and_stops_on_request(todo_app):
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "botloom.runner.cli", "record-web", todo_app.url, "--events", "jsonl",
                             "--headless"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        first = json.loads(proc.stdout.readline())
        assert first == {"event": "ready"}
        proc.stdin.write("stop\n")
        proc.stdin.flush()
        events = [json.loads(line) for line in proc.stdout]
    finally:
        proc.wait(30)
    assert proc.returncode == 0
    assert events[-1]["event"] == "done"
    assert events[-1]["steps"][0] == {"type": "browser.open", "params": {"url": todo_app.url}, "title": "Open browser"}


def test_a_browser_that_cannot_start_is_one_clear_line(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "botloom.runner.cli", "record-web", "about:blank", "--events", "jsonl",
                           "--headless", "--browser", str(tmp_path / "no-such-browser")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    event = json.loads(proc.stdout.splitlines()[-1])
    assert event["event"] == "error" and "no-such-browser" in event["message"]


@pytest.mark.parametrize("locator, target", [
    ({"kind": "role", "body": "button", "options": {"name": "Save", "exact": False, "attrs": []}},
     "role=button[name=Save]"),
    ({"kind": "role", "body": "button", "options": {"name": "Save", "exact": True, "attrs": []}},
     'role=button[name="Save"]'),
    ({"kind": "role", "body": "link", "options": {"name": "Next [2]", "exact": False, "attrs": []}},
     'role=link[name="Next [2]"]'),
    ({"kind": "test-id", "body": "submit"}, "testid=submit"),
    ({"kind": "label", "body": "E-mail", "options": {"exact": False}}, "label=E-mail"),
    ({"kind": "text", "body": "Sign in", "options": {"exact": True}}, 'text="Sign in"'),
    ({"kind": "placeholder", "body": "Search", "options": {"exact": False}}, "placeholder=Search"),
    ({"kind": "default", "body": "#orders td.total"}, "#orders td.total"),
    ({"kind": "default", "body": "text=odd"}, "css=text=odd"),
    ({"kind": "role", "body": "row", "options": {"attrs": []},
      "next": {"kind": "has-text", "body": "Invoice 7", "next": {"kind": "nth", "body": "1"}}},
     "role=row >> has-text=Invoice 7 >> nth=1"),
    ({"kind": "default", "body": "#pay", "next": {"kind": "frame", "next": {
        "kind": "label", "body": "Card", "options": {"exact": False}}}}, "frame=#pay >> label=Card"),
    ({"kind": "frame-locator", "body": "iframe[name=x]", "next": {"kind": "role", "body": "button",
                                                                   "options": {"name": "OK"}}},
     "frame=iframe[name=x] >> role=button[name=OK]"),
    ({"kind": "role", "body": "list", "options": {}, "next": {"kind": "last"}}, "role=list >> nth=-1"),
])
def test_playwright_locators_become_botloom_targets(locator, target):
    got, warning = target_of(locator)
    assert (got, warning) == (target, "")
    parse(got)


def test_what_a_target_cannot_say_is_a_warning_on_the_node():
    got, warning = target_of({"kind": "role", "body": "heading", "options": {
        "name": "Orders", "attrs": [{"name": "level", "value": 2}]}})
    assert got == "role=heading[name=Orders]" and "level=2" in warning
    got, warning = target_of({"kind": "role", "body": "row", "options": {}, "next": {"kind": "has-not-text",
                                                                                      "body": "x"}})
    assert got == "role=row" and "has-not-text" in warning
    nodes, _ = recording.plan([recording.Step("browser.click", {"target": got}, "Click", warning)], [], [])
    assert nodes[0][0].notes == warning  # the designer shows it with the node


def test_actions_in_another_tab_get_a_switch_tab_and_a_click_with_modifiers_is_flagged():
    rec = Recording(url="http://x/")
    loc = {"kind": "role", "body": "link", "options": {"name": "Help"}}
    rec.add({"name": "openPage", "pageGuid": "p1", "url": "about:blank"})
    rec.add({"name": "navigate", "pageGuid": "p1", "url": "http://x/"})
    rec.add({"name": "click", "pageGuid": "p1", "locator": loc, "clickCount": 1, "modifiers": 2})
    rec.add({"name": "openPage", "pageGuid": "p2", "url": "http://x/help"})
    rec.add({"name": "click", "pageGuid": "p2", "locator": loc, "clickCount": 2})
    rec.add({"name": "press", "pageGuid": "p2", "locator": loc, "key": "a", "modifiers": 2 | 8})
    steps = rec.steps()
    assert [s.type for s in steps] == ["browser.open", "browser.click", "browser.switch_tab", "browser.click",
                                       "browser.press"]
    assert "Control" in steps[1].warning and steps[2].params == {"tab": "1"}
    assert steps[3].params["double"] is True and steps[4].params["key"] == "Control+Shift+a"


def test_plan_appends_after_a_node_without_clashing_ids():
    steps = [recording.Step("browser.click", {"target": "text=A"}), recording.Step("browser.click", {"target": "text=B"})]
    nodes, edges = recording.plan(steps, {"start", "click"}, [(0, 0), (260, 0)], after=("click", "out"),
                                  origin=(520, 0))
    assert [s.id for s, _ in nodes] == ["click_2", "click_3"]
    assert [(e.source, e.source_port, e.target, e.target_port) for e in edges] == [
        ("click", "out", "click_2", "in"), ("click_2", "out", "click_3", "in")]
    assert [p for _, p in nodes] == [(520, 0), (780, 0)]


def test_record_web_writes_a_bot_file_when_the_recording_ends(todo_app, work):
    import signal
    import subprocess
    import sys

    from playwright.sync_api import sync_playwright
    from todo_app import free_port, page_over_cdp

    out = work / "typed.bot.json"
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "botloom.runner.cli", "record-web", todo_app.url, "--out", str(out),
                             "--headless", "--cdp-port", str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("Recording in the browser at")  # then the browser is ready
        with sync_playwright() as pw:
            browser, page = page_over_cdp(pw, port, todo_app.url)
            page.get_by_placeholder("What needs to be done?").fill("Call the bank")
            page.get_by_role("button", name="Add").click()
            printed = [proc.stdout.readline().strip() for _ in range(3)]  # each step as it is recorded
            assert printed == ["Open browser", "Fill 'What needs to be done?'", "Click 'Add'"]
            proc.send_signal(signal.SIGINT)  # Ctrl+C ends the recording
            rest = proc.stdout.read()
    finally:
        proc.wait(30)
    assert proc.returncode == 0 and "3 step(s) written to" in rest
    doc = botfile.load(out)
    assert doc.name == "typed" and [n.type for n in doc.main.nodes.values()].count("browser.fill") == 1
    proc = subprocess.run([sys.executable, "-m", "botloom.runner.cli", "record-web", todo_app.url, "--out", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "exists already" in proc.stderr and "Traceback" not in proc.stderr


def test_has_text_narrows_what_the_parts_before_it_found(real_browser):
    from playwright.sync_api import sync_playwright

    from botloom.nodes.browser.targets import locate

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=real_browser.executable, headless=True)
        page = browser.new_page()
        page.set_content("<ul><li>Buy milk <button>Edit</button></li><li>Walk the dog <button>Edit</button></li></ul>")
        assert locate(page, parse("role=listitem >> has-text=milk >> role=button")).count() == 1
        assert locate(page, parse("role=listitem >> has-text=Walk")).inner_text().startswith("Walk the dog")
        assert locate(page, parse("role=listitem >> has-text=cat")).count() == 0
        browser.close()


PICK_PAGE = """<!doctype html><html><body>
<form><label for="mail">E-mail</label><input id="mail" name="mail">
<input id="q7731" placeholder="Search orders"></form>
<button data-testid="save-order">Save</button>
<ul><li>Order 1 <button>Edit</button></li><li>Order 2 <button>Edit</button></li></ul>
<button aria-label="Close dialog">×</button>
<div><span>plain</span><span>plain</span></div>
<a href="#next" id="next-link">Next page</a>
<script>window.clicked = []; document.addEventListener('click', e => window.clicked.push(e.target.textContent));</script>
</body></html>"""


def picked(picker) -> dict:
    """The picker's result, once the click has been reported (up to 10 s)."""
    for _ in range(200):
        if picker.result is not None:
            break
        picker.pump(0.05)
    return picker.result


@pytest.mark.parametrize("selector, best", [
    ("#mail", 'role=textbox[name="E-mail"]'),
    ("#q7731", 'placeholder="Search orders"'),
    ("[data-testid=save-order]", "testid=save-order"),
    ("li:nth-child(2) button", 'role=listitem >> has-text="Order 2" >> role=button[name="Edit"]'),
    ("[aria-label='Close dialog']", 'role=button[name="Close dialog"]'),
    ("div span:nth-child(2)", "body > div > span:nth-of-type(2)"),
    ("#next-link", 'role=link[name="Next page"]'),
])
def test_picking_an_element_gives_the_best_target_that_finds_it_alone(real_browser, selector, best):
    """A click in the picking browser is kept from the page and named by Playwright-verified targets."""
    from botloom.nodes.browser.recorder import WebPicker
    from botloom.nodes.browser.targets import locate

    picker = WebPicker("about:blank", headless=True).start()
    try:
        page = picker.page
        page.route("http://pick.test/", lambda route: route.fulfill(body=PICK_PAGE, content_type="text/html"))
        page.goto("http://pick.test/")
        page.click(selector)
        result = picked(picker)
        assert result["target"] == best, result
        for target in [result["target"], *result["alternatives"]]:  # every one finds that element
            assert locate(page, parse(target)).count() == 1
            assert locate(page, parse(target)).evaluate("(el) => el === window.__botloomPicked"), target
        assert page.evaluate("window.clicked") == []  # nothing was clicked in the page
    finally:
        picker.stop()


FRAMES = {
    "http://pick.test/": '<!doctype html><p>Shop</p><iframe name="pay" src="http://pick.test/pay"></iframe>',
    "http://pick.test/pay": '<!doctype html><label for="card">Card number</label><input id="card">'
                            '<iframe title="Terms" src="http://pick.test/terms"></iframe>'
                            '<section><iframe src="http://pick.test/note"></iframe></section>',
    "http://pick.test/terms": '<!doctype html><button>Accept</button>'
                              "<script>window.clicked = []; document.addEventListener('click', "
                              "e => window.clicked.push(e.target.textContent));</script>",
    "http://pick.test/note": '<!doctype html><a href="#n">Read the note</a>',
}


@pytest.mark.parametrize("inside, selector, best", [
    (["iframe[name=pay]"], "#card", 'frame=iframe[name="pay"] >> role=textbox[name="Card number"]'),
    (["iframe[name=pay]", "iframe[title=Terms]"], "button",
     'frame=iframe[name="pay"] >> frame=iframe[title="Terms"] >> role=button[name="Accept"]'),
    # an <iframe> with no id, name or title: its CSS path
    (["iframe[name=pay]", "section iframe"], "a",
     'frame=iframe[name="pay"] >> frame=body > section > iframe >> role=link[name="Read the note"]'),
])
def test_picking_an_element_inside_frames_names_the_frames_on_the_way(real_browser, inside, selector, best):
    from botloom.nodes.browser.recorder import WebPicker
    from botloom.nodes.browser.targets import locate

    picker = WebPicker("about:blank", headless=True).start()
    try:
        page = picker.page
        page.route("http://pick.test/**", lambda route: route.fulfill(body=FRAMES[route.request.url],
                                                                       content_type="text/html"))
        page.goto("http://pick.test/")
        scope = page
        for frame in inside:
            scope = scope.frame_locator(frame)
        scope.locator(selector).click()
        result = picked(picker)
        assert result["target"] == best, result
        for target in [result["target"], *result["alternatives"]]:  # each finds it from the page
            assert target.startswith('frame=iframe[name="pay"] >> ')
            assert locate(page, parse(target)).count() == 1, target
        if len(inside) == 2:
            terms = page.frame_locator("iframe[name=pay]").frame_locator("iframe[title=Terms]")
            assert terms.locator("body").evaluate("() => window.clicked") == []  # nothing was clicked
    finally:
        picker.stop()


def test_pick_reports_the_target_as_a_json_line(todo_app):
    import subprocess
    import sys

    from playwright.sync_api import sync_playwright
    from todo_app import free_port, page_over_cdp

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "botloom.runner.cli", "record-web", todo_app.url, "--pick",
                             "--events", "jsonl", "--headless", "--cdp-port", str(port)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert json.loads(proc.stdout.readline()) == {"event": "ready"}
        with sync_playwright() as pw:
            _browser, page = page_over_cdp(pw, port, todo_app.url)
            page.get_by_role("button", name="Add").click()
            events = [json.loads(line) for line in proc.stdout]
    finally:
        proc.wait(30)
    assert events[0] == {"event": "picked", "target": 'role=button[name="Add"]',
                         "alternatives": ['text="Add"', "#add > button"]}
    assert events[-1] == {"event": "done", "steps": []} and todo_app.todos == []
