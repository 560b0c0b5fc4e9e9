"""The second round of browser nodes, each against pages served on 127.0.0.1 with a real
Chromium: the element-exists branch, text waits in one element, reload/back/forward, cookies and
storage state, network waits, scroll, drag and drop, the mouse at coordinates, context settings,
pagination, verify nodes, navigation timeouts and target lint."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from bots import chain, finished, make, run
from test_browser_nodes import START, bot, n


def out(log, node: str) -> dict:
    return finished(log, node)[-1].outputs


def shots(log) -> list:
    return [e for e in log.of("artifact") if e.artifact_kind == "screenshot"]


def test_exists_branches_and_text_waits_inside_one_element(site):
    nodes = {"start": START, "go": n("goto", url=site.url + "/status"),
             "yes": n("exists", target="#status"), "no": n("exists", target="#absent", timeout=0.3),
             "wait": n("wait", until="text", target="#status", text="done:", timeout=5),
             "read": n("get_text", target="#status"),
             "found": {"type": "core.log", "params": {"message": "found"}},
             "missing": {"type": "core.log", "params": {"message": "missing"}},
             "lost": {"type": "core.fail", "params": {"message": "wrong port"}}}
    edges = chain("start", "go", "yes") + [("yes.found", "no"), ("yes.not_found", "lost"),
                                           ("no.not_found", "wait"), ("no.found", "lost")] + chain("wait", "read")
    result, log = run(make(nodes, edges))
    assert result.state == "succeeded", result.error
    assert out(log, "yes") == {"count": 1, "found": True} and out(log, "no") == {"count": 0, "found": False}
    assert out(log, "read")["text"] == "Done: 3 orders"  # "Done elsewhere" in another element did not count

    failing = bot(n("goto", url=site.url + "/status"),
                  ("w", n("wait", until="text", target="#other", text="orders", timeout=0.5)))
    result, _ = run(failing)
    assert result.state == "failed" and result.error["kind"] == "timeout"
    assert "the text 'orders' did not appear in 'css=#other'" in result.error["message"]
    assert "'Done elsewhere'" in result.error["message"]


def test_reload_back_forward_and_storage_state_saved_and_loaded(site, tmp_path):
    state = tmp_path / "state" / "login.json"
    first = bot(n("goto", url=site.url + "/remember?set=kept"), n("goto", url=site.url + "/"),
                ("back", n("history", action="back")), ("fwd", n("history", action="forward")),
                ("again", n("history", action="reload")),
                ("set", n("cookies", action="set", cookies=[{"name": "lang", "value": "de", "url": site.url}])),
                ("save", n("cookies", action="save", file=str(state))))
    result, log = run(first)
    assert result.state == "succeeded", result.error
    assert out(log, "back")["url"] == site.url + "/remember?set=kept" and out(log, "back")["moved"]
    assert out(log, "fwd")["url"] == site.url + "/" and out(log, "again")["title"] == "Home"
    assert [c["name"] for c in out(log, "set")["cookies"]] == ["lang"]
    saved = json.loads(state.read_text())
    assert saved["cookies"][0]["value"] == "de" and saved["origins"][0]["localStorage"][0]["value"] == "kept"

    second = bot(("load", n("cookies", action="load", file=str(state))), n("goto", url=site.url + "/remember"),
                 ("stored", n("get_text", target="#stored")), ("get", n("cookies", url=site.url)),
                 ("clear", n("cookies", action="clear")))
    result, log = run(second)  # a new browser: what it knows came from the file
    assert result.state == "succeeded", result.error
    assert out(log, "stored")["text"] == "kept"
    assert out(log, "get")["count"] == 1 and out(log, "clear")["count"] == 0

    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    result, _ = run(bot(n("cookies", action="load", file=str(bad))))
    assert result.state == "failed" and "is not a storage-state file" in result.error["message"]


def test_wait_for_a_response_scroll_drag_and_mouse(site):
    doc = bot(n("goto", url=site.url + "/shop"),
              ("resp", n("wait_network", url="/api/orders", after="#load", timeout=5)),
              ("req", n("wait_network", url="**/api/*", kind="request", after="#load", timeout=5)),
              n("goto", url=site.url + "/long"), ("down", n("scroll", to="bottom")),
              ("top", n("scroll", to="top")), ("far", n("scroll", target="#far")),
              n("goto", url=site.url + "/drag"), n("drag", target="#card", to="#bin"),
              ("dropped", n("get_text", target="#dropped")),
              n("goto", url=site.url + "/canvas"), n("mouse", x=120, y=80),
              ("at", n("get_text", target="#at")))
    result, log = run(doc)
    assert result.state == "succeeded", result.error
    resp = out(log, "resp")
    assert resp["status"] == 200 and resp["body"] == {"orders": [{"id": 1}, {"id": 2}]}
    assert resp["url"] == site.url + "/api/orders?page=1" and resp["method"] == "GET"
    assert out(log, "req")["status"] == 0 and out(log, "req")["url"].endswith("/api/orders?page=1")
    assert out(log, "down")["scroll_y"] > 2000 and out(log, "top")["scroll_y"] == 0
    assert out(log, "far")["scroll_y"] > 2000
    assert out(log, "dropped")["text"] == "dropped card"
    assert out(log, "at")["text"] == "120,80"

    result, log = run(bot(n("goto", url=site.url + "/shop"), n("wait_network", url="/api/nothing", timeout=0.5)))
    assert result.state == "failed" and result.error["kind"] == "timeout"
    assert "no response to '/api/nothing' came within 0.5 s" in result.error["message"] and shots(log)


def test_context_settings_user_agent_locale_time_zone_and_basic_auth(site):
    settings = {"browser": {"user_agent": "BotloomTest/1.0", "locale": "de-DE", "timezone": "Asia/Tokyo",
                            "http_credentials": {"username": "bob", "password": "hunter2"}}}
    doc = bot(n("goto", url=site.url + "/whoami"), ("server", n("get_text", target="#server")),
              ("js", n("get_text", target="#js")), n("goto", url=site.url + "/private"),
              ("secret", n("get_text", target="#secret")), settings=settings)
    result, log = run(doc)
    assert result.state == "succeeded", result.error
    server, js = json.loads(out(log, "server")["text"]), json.loads(out(log, "js")["text"])
    assert server["user_agent"] == "BotloomTest/1.0" and server["language"].startswith("de-DE")
    assert js == {"ua": "BotloomTest/1.0", "lang": "de-DE", "tz": "Asia/Tokyo"}
    assert out(log, "secret")["text"] == "Inside"

    result, _ = run(bot(n("goto", url=site.url + "/"), settings={"browser": {"http_credentials": {"user": "x"}}}))
    assert result.state == "failed" and "http_credentials needs a username and a password" in result.error["message"]


def test_pagination_follows_next_and_concatenates_rows(site):
    doc = bot(n("goto", url=site.url + "/paged"),
              ("table", n("extract_table", target="#t", next="css=a.next", infer_types=True)),
              n("goto", url=site.url + "/paged"),
              ("list", n("extract_list", items="li.it", fields={"name": "b"}, next="text=Next", max_pages=2)))
    result, log = run(doc)
    assert result.state == "succeeded", result.error
    table = out(log, "table")
    assert table["pages"] == 3 and [r["No"] for r in table["rows"]] == [1, 2, 3, 4, 5, 6]
    assert table["columns"] == ["No", "Name"]
    assert out(log, "list")["pages"] == 2
    assert [r["name"] for r in out(log, "list")["rows"]] == ["item 1", "item 2", "item 3", "item 4"]


def test_verify_nodes_wait_and_fail_with_expected_versus_got_and_a_screenshot(site):
    doc = bot(n("goto", url=site.url + "/status"),
              n("verify", check="text", target="#status", operator="starts_with", expected="Done", timeout=5),
              n("verify", check="title", expected="Status"), n("verify", check="url", operator="contains",
                                                               expected="/status"),
              n("verify", check="visible", target="#status"), n("verify", check="hidden", target="#absent"),
              n("verify", check="count", target="p", expected=2),
              n("goto", url=site.url + "/login"), n("fill", target="label=User name", value="ann"),
              n("verify", check="value", target="label=User name", expected="ann"),
              n("verify", check="enabled", target="text=Sign in"),
              ("bad", n("verify", check="text", target="css=form button", expected="Log out", timeout=0.4)))
    result, log = run(doc)
    assert result.state == "failed"
    err = result.error
    assert err["kind"] == "verify_failed" and err["details"]["actual"] == "Sign in"
    assert err["message"].startswith("expected the element's text of 'css=form button' to equal 'Log out', "
                                     "got 'Sign in' (checked ")
    assert err["message"].endswith(f"on {site.url}/login")
    (shot,) = shots(log)
    assert Path(shot.path).read_bytes()[:4] == b"\x89PNG" and shot.path in err["fix"]


def test_fill_form_reads_sibling_labels_with_random_ids_and_shadow_dom(site):
    record = {"First Name": "Ann", "Last Name": "Lee", "Company Name": "ACME", "Role in Company": "CEO",
              "Address": "1 Main St", "Email": "ann@example.com", "Phone Number": "555"}
    doc = bot(n("goto", url=site.url + "/angular"), ("fill", n("fill_form", record=record, submit="css=input[type=submit]")),
              ("got", n("get_text", target="#out")),
              n("goto", url=site.url + "/shadow"),
              ("shadow", n("fill_form", record={"Full name": "Bo Ek", "City": "Oslo", "Plan": "Pro"}, submit="#go")),
              ("echo", n("get_text", target="#out")))
    result, log = run(doc)
    assert result.state == "succeeded", result.error
    assert dict(json.loads(out(log, "got")["text"])) == record
    assert out(log, "echo")["text"] == "Bo Ek|Oslo|Pro"

    result, _ = run(bot(n("goto", url=site.url + "/angular"), n("fill_form", record={"Fax": "1"})))
    assert result.state == "failed"
    fix = result.error["fix"]
    assert "First Name" in fix and "Phone Number" in fix
    assert "id" not in fix.split("the form's labels are:")[1].split(";")[0].replace("(none)", "")


@pytest.fixture
def silent_server():
    """A server that accepts connections and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}/"
    srv.close()


def test_a_navigation_timeout_is_honoured_with_a_screenshot(silent_server):
    doc = bot(n("goto", url=silent_server), settings={"browser": {"navigation_timeout": 2}})
    result, log = run(doc)
    assert result.state == "failed" and result.error["kind"] == "timeout"
    assert result.error["message"] == f"{silent_server} did not load within 2 s"
    # the loading is stopped first: a page still waiting for the server cannot be captured
    (shot,) = shots(log)
    assert Path(shot.path).read_bytes()[:4] == b"\x89PNG" and shot.path in result.error["fix"]


def test_lint_reports_malformed_targets_before_any_browser_starts(cli, work):
    path = work / "bad.bot.json"
    path.write_text(json.dumps({"format": 1, "name": "bad", "nodes": {
        "start": START, "c": n("click", target='role=button[name="x"'), "d": n("drag", target="#a", to="div[x"),
        "t": n("extract_table", next="(//a"), "ok": n("click", target="{{ 'div' + '[' }}")},
        "edges": [{"from": "start.out", "to": "c.in"}, {"from": "c.out", "to": "d.in"},
                  {"from": "d.out", "to": "t.in"}, {"from": "t.out", "to": "ok.in"}]}))
    proc = cli("validate", path)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0, text
    assert "node 'c', parameter 'target': 'role=button[name=\"x\"' is not a role target (its [ is not closed)" in text
    assert "node 'd', parameter 'to': the target 'div[x' has a '[' that is not closed" in text
    assert "node 't', parameter 'next'" in text and "node 'ok'" not in text
    shown = cli("nodes", "show", "browser.goto")
    assert shown.stdout.count("(default:") == 1, shown.stdout


def test_a_browser_started_early_is_adopted_or_closed(site):
    """`botloom run` starts the browser while the run is prepared (the prestart hook); the first
    browser node adopts it when its options match, and it is closed when they do not."""
    from bots import messages

    from botloom.nodes.browser import session
    from botloom.runner.sdk.node import PreflightInfo

    adopted = "using the browser started while the run was prepared"
    session.prestart(PreflightInfo("t", {}, [("main", "open", {"headless": True})]))
    assert session._early
    result, log = run(bot(("open", n("open", headless=True)), ("go", n("goto", url=site.url + "/"))))
    assert result.state == "succeeded", result.error
    assert adopted in messages(log) and session._early == {}

    session.prestart(PreflightInfo("t", {"browser": {"timeout": 3}}, []))  # not what the bot opens
    thread = session._early["thread"]
    result, log = run(bot(n("goto", url=site.url + "/")))
    assert result.state == "succeeded", result.error
    assert adopted not in messages(log) and session._early == {}
    thread._thread.join(10)
    assert not thread._thread.is_alive()  # the early browser was closed, its thread stopped
