"""A browser run killed (SIGKILL, a real ``botloom`` process) and resumed gets its page back.

The browser session lived in the killed process; the resumed run replays the journalled steps,
running again the ones whose effect was in that session only (open, go to, fill), and not the
ones that reached the site (the click that signed in). Each run is stopped by the debugger
before a chosen step, when everything before it is journalled, then killed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name == "nt", reason="uses SIGKILL")


def _bot(tmp_path: Path, name: str, steps: list[tuple[str, str, dict]], outputs: dict) -> Path:
    nodes = {"start": {"type": "core.start", "params": {}}}
    edges, last = [], "start"
    for node_id, type_, params in steps:
        nodes[node_id] = {"type": type_, "params": params}
        edges.append({"from": f"{last}.out", "to": f"{node_id}.in"})
        last = node_id
    bot = {"format": 1, "name": name, "outputs": {k: "string" for k in outputs},
           "variables": {k: {"type": "string", "default": ""} for k in outputs},
           "settings": {"browser": {"headless": True, "timeout": 5}}, "nodes": nodes, "edges": edges}
    for var, expr in outputs.items():
        nodes[f"set_{var}"] = {"type": "core.set_variable", "params": {"name": var, "value": expr}}
        edges.append({"from": f"{last}.out", "to": f"set_{var}.in"})
        last = f"set_{var}"
    path = tmp_path / f"{name}.bot.json"
    path.write_text(json.dumps(bot), encoding="utf-8")
    return path


def _env(home: Path) -> dict:
    return dict(os.environ, BOTLOOM_HOME=str(home), PYTHONUNBUFFERED="1")


def _killed_before(bot: Path, node: str, home: Path) -> None:
    """``botloom run`` paused by the debugger before ``node``, then SIGKILLed."""
    proc = subprocess.Popen([sys.executable, "-m", "botloom.runner.cli", "run", str(bot), "--events", "jsonl",
                             "--control", "stdin", "--break", node], cwd=bot.parent, env=_env(home),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if json.loads(line).get("event") == "paused":
                break
        else:
            raise AssertionError(f"the run ended before '{node}': {proc.communicate(timeout=60)}")
        proc.kill()  # SIGKILL: nothing of the process's own clean-up runs
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _journal(home: Path) -> dict[str, str]:
    conn = sqlite3.connect(f"file:{home / 'runs.sqlite'}?mode=ro", uri=True)
    try:
        return {node: state for node, state in conn.execute("SELECT node_id, state FROM node_runs ORDER BY entry")}
    finally:
        conn.close()


def _resume(bot: Path, home: Path) -> dict:
    proc = subprocess.run([sys.executable, "-m", "botloom.runner.cli", "resume", "last", "--json"], cwd=bot.parent,
                          env=_env(home), capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip(), proc.stderr
    return json.loads(proc.stdout)


def _outputs(result: dict) -> dict:
    from botloom.runner.codec import decode

    return decode(result.get("outputs"))


def test_a_resumed_run_reads_the_page_it_had_opened(tmp_path, site):
    """The issue's reproduction: open, go to a page, (killed), read its heading."""
    bot = _bot(tmp_path, "heading", [("open", "browser.open", {}),
                                     ("goto", "browser.goto", {"url": f"{site.url}/index"}),
                                     ("pause", "core.delay", {"seconds": 0.1}),
                                     ("h1", "browser.get_text", {"target": "h1"})],
               {"heading": "{{ nodes.h1.text }}"})
    home = tmp_path / "home"
    _killed_before(bot, "h1", home)
    assert _journal(home).get("goto") == "succeeded"  # the page was open when the process died

    result = _resume(bot, home)
    assert result["state"] == "succeeded", result.get("error")
    assert _outputs(result) == {"heading": "Home"}


def test_a_resumed_run_refills_its_fields_but_does_not_sign_in_twice(tmp_path, site):
    """Filled fields are filled again (they lived in the page); the click that signed in reached
    the site and keeps its recorded outcome; the steps after it find the page they go to."""
    bot = _bot(tmp_path, "login", [("goto", "browser.goto", {"url": f"{site.url}/login"}),
                                   ("user", "browser.fill", {"target": "label=User name", "value": "alice"}),
                                   ("typed", "browser.type", {"target": "#pw", "text": "s3cret!"}),
                                   ("sign_in", "browser.click", {"target": "role=button[name='Sign in']"}),
                                   ("signed_in", "browser.get_text", {"target": "#welcome"}),
                                   ("again", "browser.goto", {"url": f"{site.url}/login"}),
                                   ("retyped", "browser.fill", {"target": "#pw", "value": "x"}),
                                   ("read_user", "browser.get_text", {"target": "label=User name"}),
                                   ("read_pw", "browser.get_text", {"target": "#pw"})],
               {"after_sign_in": "{{ nodes.signed_in.text }}", "user": "{{ nodes.read_user.text }}",
                "password": "{{ nodes.read_pw.text }}"})
    home = tmp_path / "home"
    sessions = len(site.sessions)
    _killed_before(bot, "read_user", home)
    assert len(site.sessions) == sessions + 1
    assert _journal(home).get("retyped") == "succeeded"

    result = _resume(bot, home)
    assert result["state"] == "succeeded", result.get("error")
    assert len(site.sessions) == sessions + 1  # the sign-in was not sent again
    outputs = _outputs(result)
    assert outputs["password"] == "x" and outputs["user"] == ""  # the page 'again' opened, as 'retyped' left it
    assert outputs["after_sign_in"] == "Welcome, alice"  # as recorded by the first process


def test_a_page_that_cannot_be_opened_again_stops_the_resume_with_the_step_named(tmp_path):
    """The site is gone when the run resumes: the error names the step run again and how to go on."""
    from browser_site import Site

    gone = Site().start()
    bot = _bot(tmp_path, "gone", [("goto", "browser.goto", {"url": f"{gone.url}/index", "timeout": 5}),
                                  ("h1", "browser.get_text", {"target": "h1"})],
               {"heading": "{{ nodes.h1.text }}"})
    home = tmp_path / "home"
    _killed_before(bot, "h1", home)
    gone.stop()

    result = _resume(bot, home)
    assert result["state"] == "failed"
    error = result["error"]
    assert "step 2, node 'goto' (browser.goto), ran again" in error["message"], error
    assert "--retry" in error["fix"], error
    assert "Traceback" not in json.dumps(result)
