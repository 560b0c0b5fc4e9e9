"""Browser nodes driving a real Chromium through the engine, against pages served on 127.0.0.1."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from bots import chain, finished, make, messages, run, WaitingLog

from botloom.runner.engine import Engine
from bots import registry

START = {"type": "core.start"}


def bot(*steps, edges=None, **top):
    """start -> s0 -> s1 ... ; a step is a node dict (ids s0, s1...) or (id, node dict)."""
    nodes, ids = {"start": START}, ["start"]
    for i, step in enumerate(steps):
        nid, spec = step if isinstance(step, tuple) else (f"s{i}", step)
        nodes[nid] = spec
        ids.append(nid)
    return make(nodes, edges if edges is not None else chain(*ids), **top)


def n(type_: str, settings: dict | None = None, **params) -> dict:
    spec = {"type": f"browser.{type_}", "params": params}
    if settings:
        spec["settings"] = settings
    return spec


def outputs(log, node: str) -> dict:
    return finished(log, node)[-1].outputs


def artifacts(log, kind: str | None = None) -> list:
    return [e for e in log.of("artifact") if kind is None or e.artifact_kind == kind]


# ---------------------------------------------------------------- sessions, cookies, tabs
def test_login_keeps_the_session_cookie_for_later_pages(site):
    doc = bot(("open", n("open", url=site.url + "/login")),
              ("user", n("fill", target="label=User name", value="alice")),
              ("pw", n("fill", target="label=Password", value="s3cret!")),
              ("signin", n("click", target='role=button[name="Sign in"]')),
              ("welcome", n("get_text", target="#welcome")),
              ("orders", n("goto", url=site.url + "/account/orders")),
              ("table", n("extract_table", target="css=#orders")))
    result, log = run(doc)
    assert result.state == "succeeded", result.error
    assert outputs(log, "welcome")["text"] == "Welcome, alice"
    assert outputs(log, "orders")["url"].endswith("/account/orders")  # not sent back to /login
    assert outputs(log, "table")["rows"] == [{"No": "A-1", "Total": "10.50"}]


def test_wrong_password_is_not_let_in(site):
    doc = bot(n("goto", url=site.url + "/login"), n("fill", target="label=User name", value="alice"),
              n("fill", target="label=Password", value="nope"), n("click", target="text=Sign in"),
              ("err", n("get_text", target=".error")))
    result, log = run(doc)
    assert result.state == "succeeded", result.error
    assert outputs(log, "err")["text"] == "Wrong user name or password"


def test_a_pop_up_tab_is_switched_to_and_back(site):
    doc = bot(n("goto", url=site.url + "/tabs"), n("click", target="#pop"),
              ("pop", n("switch_tab", tab="-1")), ("detail", n("get_text", target="#detail")),
              ("back", n("switch_tab", tab="Tabs")), ("link", n("get_text", target="#pop")),
              ("third", n("new_tab", url=site.url + "/")))
    result, log = run(doc)
    assert result.state == "succeeded", result.error
    assert outputs(log, "pop")["title"] == "Details" and outputs(log, "pop")["count"] == 2
    assert outputs(log, "detail")["text"] == "Order A-1 details"
    assert outputs(log, "back")["index"] == 0 and outputs(log, "link")["text"] == "Open details"
    assert outputs(log, "third")["index"] == 2


def test_a_persistent_profile_keeps_site_data_between_runs(site, work):
    profile = work / "profile"
    first = bot(n("open", profile=str(profile)), n("goto", url=site.url + "/remember?set=kept"))
    result, _ = run(first)
    assert result.state == "succeeded", result.error
    second = bot(n("open", profile=str(profile)), n("goto", url=site.url + "/remember"),
                 ("read", n("get_text", target="#stored")))
    result, log = run(second)
    assert result.state == "succeeded", result.error
    assert outputs(log, "read")["text"] == "kept"
    fresh = bot(n("goto", url=site.url + "/remember"), ("read", n("get_text", target="#stored")))
    result, log = run(fresh)
    assert outputs(log, "read")["text"] == "(nothing)"


# ---------------------------------------------------------------- dynamic pages and waits
def test_a_table_and_a_list_drawn_by_javascript_are_extracted(site):
    doc = bot(n("goto", url=site.url + "/table"),
              ("table", n("extract_table", target="#orders", infer_types=True)),
              ("cards", n("extract_list", items=".card", fields={"customer": ".name", "link": "a@href",
                                                                 "id": "@data-id", "missing": ".nope"})),
              ("totals", n("get_text", target=".card .total", all=True)),
              ("link", n("get_attribute", target="css=#cards li >> nth=1 >> css=a", name="href")),
              ("shot", n("screenshot", target="#orders")))
    result, log = run(doc)
    assert result.state == "succeeded", result.error
    (shot,) = artifacts(log, "screenshot")
    assert outputs(log, "shot")["path"] == shot.path and Path(shot.path).read_bytes()[:4] == b"\x89PNG"
    assert outputs(log, "table")["rows"] == [{"Order": 1, "Customer": "ACME Corp", "Total": 1250.0},
                                             {"Order": 2, "Customer": "Globex", "Total": 99.9},
                                             {"Order": 3, "Customer": "Initech", "Total": 7}]
    assert outputs(log, "cards")["rows"][0] == {"customer": "ACME Corp", "link": "/orders/1", "id": "1", "missing": None}
    assert outputs(log, "totals")["texts"] == ["1,250.00", "99.90", "7"]
    assert outputs(log, "link")["value"] == "/orders/2"


def test_waiting_for_a_slow_element_and_text(site):
    doc = bot(n("goto", url=site.url + "/slow"),
              ("el", n("wait", until="element", target="#done", timeout=10)),
              ("txt", n("wait", until="text", text="Report ready", timeout=10)),
              ("url", n("wait", until="url", url="/slow", timeout=5)),
              ("idle", n("wait", until="network_idle", timeout=10)),
              ("read", n("get_text", target="#done")))
    result, log = run(doc)
    assert result.state == "succeeded", result.error
    assert outputs(log, "read")["text"] == "Report ready"


def test_a_wait_that_runs_out_says_what_it_waited_for(site):
    doc = bot(n("goto", url=site.url + "/slow"), ("w", n("wait", until="text", text="Never shown", timeout=0.3)))
    result, log = run(doc)
    assert result.state == "failed"
    assert result.error["kind"] == "timeout"
    assert "'Never shown' did not appear within 0.3 s" in result.error["message"]
    assert "/slow" in result.error["message"]


# ---------------------------------------------------------------- files and dialogs
def test_a_download_is_saved_with_the_sites_file_name(site, work):
    doc = bot(n("goto", url=site.url + "/downloads"),
              ("dl", n("download", target="text=Monthly report", save_to=str(work / "reports") + "/", keep=True)))
    result, log = run(doc)
    assert result.state == "succeeded", result.error
    out = outputs(log, "dl")
    assert out["filename"] == "report-2026-11.csv"
    assert Path(out["path"]) == work / "reports" / "report-2026-11.csv"
    assert Path(out["path"]).read_text() == "month,total\n2026-10,1200\n2026-11,1350\n"
    assert [a.name for a in artifacts(log, "download")] == ["00003-report-2026-11.csv"]


def test_a_file_is_uploaded(site, work):
    invoice = work / "invoice.pdf"
    invoice.write_bytes(b"%PDF-1.4 test invoice")
    doc = bot(n("goto", url=site.url + "/upload"), ("up", n("upload", target="label=Invoice", files="invoice.pdf")),
              n("click", target='role=button[name="Upload"]'), ("res", n("get_text", target="#result")))
    result, log = run(doc, base_dir=work)  # relative paths resolve against the bot's folder
    assert result.state == "succeeded", result.error
    assert outputs(log, "up")["count"] == 1
    assert outputs(log, "res")["text"] == "Received invoice.pdf (21 bytes)"
    assert site.uploads[-1] == {"name": "invoice.pdf", "data": b"%PDF-1.4 test invoice"}


def test_javascript_dialogs_are_answered_as_told(site):
    doc = bot(n("goto", url=site.url + "/dialogs"),
              n("click", target="#confirm"), ("kept", n("get_text", target="#out")),
              ("d1", n("get_dialog")),
              n("handle_dialog", action="accept"), n("click", target="#confirm"), ("deleted", n("get_text", target="#out")),
              n("handle_dialog", action="accept", prompt_text="Bob"), n("click", target="#prompt"),
              ("hello", n("get_text", target="#out")),
              ("d2", n("get_dialog")), ("d3", n("get_dialog")))
    result, log = run(doc)
    assert result.state == "succeeded", result.error
    assert outputs(log, "kept")["text"] == "kept"  # no handler: dismissed
    assert outputs(log, "d1") == {"message": "Delete the order?", "type": "confirm", "action": "dismiss", "count": 1}
    assert outputs(log, "deleted")["text"] == "deleted"
    assert outputs(log, "hello")["text"] == "Hello Bob"
    assert outputs(log, "d2") == {"message": "Your name?", "type": "prompt", "action": "accept", "count": 2}
    assert finished(log, "d3")[-1].port == "none"


# ---------------------------------------------------------------- errors a user meets
def test_an_element_that_is_not_there_names_target_page_and_screenshot(site):
    doc = bot(n("goto", url=site.url + "/login"), ("c", n("click", target="#no-such-button", timeout=0.5)))
    result, log = run(doc)
    assert result.state == "failed"
    err = result.error
    assert err["kind"] == "not_found"
    assert err["message"] == f"no element matches the target 'css=#no-such-button' on {site.url}/login (waited 0.5 s)"
    shots = artifacts(log, "screenshot")
    assert len(shots) == 1 and Path(shots[0].path).read_bytes()[:4] == b"\x89PNG"
    assert err["details"]["screenshot"] == shots[0].path and shots[0].path in err["fix"]
    traces = artifacts(log, "trace")  # the run failed: its Playwright trace is kept
    assert len(traces) == 1 and Path(traces[0].path).stat().st_size > 1000


def test_a_target_matching_several_elements_says_so(site):
    doc = bot(n("goto", url=site.url + "/buttons"), n("click", target="text=Save"))
    result, _ = run(doc)
    assert result.state == "failed"
    assert result.error["kind"] == "bad_input"
    assert "matches 2 elements" in result.error["message"] and "nth=0" in result.error["fix"]
    doc = bot(n("goto", url=site.url + "/buttons"), n("click", target="text=Save >> nth=1"),
              n("click", target="testid=go"), ("t", n("get_text", target="testid=go")))
    result, log = run(doc)
    assert result.state == "succeeded", result.error
    assert outputs(log, "t")["text"] == "Gone"


def test_navigation_time_out_and_refused_connection(site):
    result, log = run(bot(n("goto", url=site.url + "/never", timeout=0.5)))
    assert result.state == "failed"
    assert result.error["kind"] == "timeout"
    assert result.error["message"] == f"{site.url}/never did not load within 0.5 s"
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result, _ = run(bot(n("goto", url=f"http://127.0.0.1:{port}/")))
    assert result.error["kind"] == "network"
    assert "ERR_CONNECTION_REFUSED" in result.error["message"]


def test_a_malformed_target_fails_before_the_browser_is_asked(site):
    result, _ = run(bot(n("goto", url=site.url + "/"), n("click", target="role=button[name=")))
    assert result.error["kind"] == "bad_input"
    assert "is not a role target" in result.error["message"]


def test_no_trace_when_the_run_succeeds_and_always_when_asked(site):
    result, log = run(bot(n("goto", url=site.url + "/")))
    assert result.state == "succeeded" and not artifacts(log, "trace")
    import zipfile

    def snapshots(trace) -> int:
        with zipfile.ZipFile(trace.path) as z:
            return sum(z.read(name).count(b'"frame-snapshot"') for name in z.namelist() if name.endswith(".trace"))

    doc = bot(n("goto", url=site.url + "/"), n("click", target="text=Log in"), settings={"browser": {"trace": "always"}})
    result, log = run(doc)
    assert result.state == "succeeded" and len(artifacts(log, "trace")) == 1
    assert snapshots(artifacts(log, "trace")[0]) == 0  # by default: actions, no DOM snapshots
    doc = bot(n("goto", url=site.url + "/"), n("click", target="text=Log in"),
              settings={"browser": {"trace": "always", "trace_snapshots": True}})
    result, log = run(doc)
    assert result.state == "succeeded" and snapshots(artifacts(log, "trace")[0]) > 0


# ---------------------------------------------------------------- threads, time-outs, cancel
def test_nodes_on_worker_threads_share_the_browser_and_survive_a_node_timeout(site):
    """A node with a timeout runs on a helper thread; Playwright is bound to one thread. The
    browser thread serves both, and a node that timed out does not break the session."""
    timed = {"timeout": 20}
    nodes = {"start": START,
             "open": n("open", url=site.url + "/slow", settings=timed),
             "a": n("get_text", target="h1"),
             "b": n("wait", until="text", text="Never shown", timeout=5, settings={"timeout": 0.5}),
             "c": n("get_text", target="h1", settings=timed),
             "d": n("wait", until="element", target="#done", timeout=10, settings=timed),
             "e": n("get_text", target="#done")}
    doc = make(nodes, chain("start", "open", "a", "b") + [("b.error", "c"), ("c", "d"), ("d", "e")])
    result, log = run(doc)
    assert result.state == "succeeded", result.error
    assert finished(log, "b")[-1].error["kind"] == "timeout"
    assert outputs(log, "c")["text"] == "Slow"
    assert outputs(log, "e")["text"] == "Report ready"


def _browser_children() -> dict[int, str]:
    """This process's descendants that belong to Playwright or Chromium: {pid: command line}."""
    me = os.getpid()
    parents, cmds = {}, {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            parents[int(pid)] = int(stat.rsplit(")", 1)[1].split()[1])
            cmds[int(pid)] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
    found = {}
    for pid, cmd in cmds.items():
        p, seen = pid, set()
        while p in parents and p not in seen and p != me:
            seen.add(p)
            p = parents[p]
        if p == me and pid != me and ("playwright" in cmd or "chrom" in cmd):
            found[pid] = cmd
    return found


def _alive(pids) -> list[int]:
    return [pid for pid in pids if Path(f"/proc/{pid}").exists()
            and "(zombie)" not in Path(f"/proc/{pid}/status").read_text(errors="replace")]


def _wait_until(check, timeout=10.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_a_stopped_run_closes_the_browser_at_once(site):
    doc = bot(n("goto", url=site.url + "/slow"), ("w", n("wait", until="text", text="Never shown", timeout=60)))
    log = WaitingLog()
    engine = Engine(doc, registry(), listeners=[log])
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("r", engine.run()))
    t.start()
    log.wait_for("node_started", node="w", timeout=30)
    running = _browser_children()
    assert any("chrom" in cmd for cmd in running.values())  # the browser is running
    engine.cancel()
    t.join(30)
    assert box["r"].state == "cancelled"
    assert _wait_until(lambda: not _alive(running)), [running[p] for p in _alive(running)]


def test_headed_without_a_display_fails_before_the_first_step(site, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result, log = run(bot(n("open", headless=False), n("goto", url=site.url + "/")))
    assert result.state == "failed" and not finished(log)
    assert "no display" in result.error["message"] and "Xvfb" in result.error["fix"]
    result, log = run(bot(n("goto", url=site.url + "/"), settings={"browser": {"headless": False}}))
    assert result.state == "failed" and not finished(log) and "no display" in result.error["message"]


def test_inside_a_frame_and_javascript(site):
    doc = bot(n("goto", url=site.url + "/frame"),
              n("type", target="frame=#payment >> label=Card number", text="4242"),
              ("echo", n("get_text", target="frame=#payment >> #echo")),
              ("js", n("run_script", script="(x) => document.title + ' ' + x", arg=7)),
              ("el", n("run_script", script="(el) => el.tagName", target="#payment")))
    result, log = run(doc)
    assert result.state == "succeeded", result.error
    assert outputs(log, "echo")["text"] == "4242"
    assert outputs(log, "js")["result"] == "Pay 7" and outputs(log, "el")["result"] == "IFRAME"


# ---------------------------------------------------------------- which browser
def test_a_browser_that_is_not_there_fails_the_run_before_its_first_step(site, monkeypatch):
    doc = bot(n("goto", url=site.url + "/"), settings={"browser": {"browser": "/opt/nowhere/chrome"}})
    result, log = run(doc)
    assert result.state == "failed"
    assert not finished(log)  # preflight: nothing ran
    assert "'/opt/nowhere/chrome' given by the bot's settings.browser.browser does not exist" in result.error["message"]
    assert "BOTLOOM_BROWSER" in result.error["fix"]

    monkeypatch.setenv("BOTLOOM_BROWSER", "msedge")
    monkeypatch.setenv("PATH", "/nonexistent")
    result, log = run(bot(n("goto", url=site.url + "/")))
    assert "Microsoft Edge was asked for by the environment variable BOTLOOM_BROWSER, but was not found" \
           in result.error["message"]
    assert "microsoft-edge" in result.error["message"]  # what was looked for


def test_the_browser_parameter_env_and_settings_pick_the_executable(site, monkeypatch):
    from botloom.nodes.browser import discover

    chromium = discover.resolve("auto").executable
    monkeypatch.setenv("BOTLOOM_BROWSER", chromium)
    result, log = run(bot(("open", n("open"))))
    assert result.state == "succeeded", result.error
    assert outputs(log, "open")["executable"] == chromium


def test_the_cli_reports_a_missing_element_without_a_traceback(site, cli, work):
    import json

    path = work / "missing.bot.json"
    path.write_text(json.dumps({"format": 1, "name": "missing", "nodes": {
        "start": START, "go": n("goto", url=site.url + "/login"),
        "click": n("click", target='role=button[name="Log out"]', timeout=0.5)},
        "edges": [{"from": "start.out", "to": "go.in"}, {"from": "go.out", "to": "click.in"}]}))
    proc = cli("run", path)
    assert proc.returncode == 1
    text = proc.stdout + proc.stderr
    assert "node 'click' (browser.click): no element matches the target 'role=button[name=\"Log out\"]'" in text
    assert f"on {site.url}/login" in text and "screenshot of the page:" in text
    assert "Traceback" not in text
    run_id = text.split("run ")[1].split()[0]
    shown = cli("show", run_id)
    assert "00003-click-failure.png" in shown.stdout and "browser-trace.zip" in shown.stdout, shown.stdout


def test_a_headed_browser_runs_on_a_virtual_display(site, monkeypatch):
    import shutil
    import subprocess

    xvfb = shutil.which("Xvfb")
    assert xvfb, "Xvfb is needed for this test: apt-get install xvfb (installer/apt/browser.txt)"
    read, write = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        with os.fdopen(read) as pipe:
            display = pipe.readline().strip()  # Xvfb writes the display number once it is ready
        assert display, "Xvfb did not start"
        monkeypatch.setenv("DISPLAY", f":{display}")
        doc = bot(("open", n("open", headless=False, url=site.url + "/login")),
                  ("shot", n("screenshot")), ("title", n("get_text", target="h1")))
        result, log = run(doc)
        assert result.state == "succeeded", result.error
        assert outputs(log, "title")["text"] == "Log in"
        assert "headed" in " ".join(messages(log))
    finally:
        proc.terminate()
        proc.wait(10)
