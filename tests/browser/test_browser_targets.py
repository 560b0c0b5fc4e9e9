"""Targets, browser discovery and the doctor's checks: the parts that need no browser running."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from botloom.nodes.browser import discover
from botloom.nodes.browser.targets import Part, parse
from botloom.runner.errors import NodeError


@pytest.mark.parametrize("text, parts", [
    ("#login button", (Part("css", "#login button"),)),
    ("css=a[href='x=y']", (Part("css", "a[href='x=y']"),)),
    ("input[name=q]", (Part("css", "input[name=q]"),)),
    ('//button[@type="submit"]', (Part("xpath", '//button[@type="submit"]'),)),
    ("text=Sign in", (Part("text", "Sign in"),)),
    ('text="Sign in"', (Part("text", "Sign in", True),)),
    ('role=button[name="Sign in"]', (Part("role", "button", True, "Sign in"),)),
    ("role=button[name=Sign]", (Part("role", "button", False, "Sign"),)),
    ("role=checkbox", (Part("role", "checkbox"),)),
    ("label=E-mail", (Part("label", "E-mail"),)),
    ("placeholder=Search", (Part("placeholder", "Search"),)),
    ("testid=submit", (Part("testid", "submit"),)),
    ("css=#results li >> nth=-1", (Part("css", "#results li"), Part("nth", "-1"))),
    ("form#a >> label=Name >> nth=0", (Part("css", "form#a"), Part("label", "Name"), Part("nth", "0"))),
    ("frame=#pay >> label=Card", (Part("frame", "#pay"), Part("label", "Card"))),
    ("role=row >> has-text=Invoice 7", (Part("role", "row"), Part("has-text", "Invoice 7"))),
])
def test_targets_parse(text, parts):
    assert parse(text) == parts


@pytest.mark.parametrize("text, says", [
    ("", "the target is empty"),
    ("label=", "has no value"),
    ("nth=1", "starts with nth="),
    ("li >> nth=first", "is not a whole number"),
    ("role=button[name=", "is not a role target"),
    ("id=login", "'id=' is not a target kind"),
    ("li >>  >> a", "empty part"),
    ("frame=#pay", "ends with a frame"),
    ("has-text=Milk", "starts with has-text="),
])
def test_bad_targets_say_what_is_wrong(text, says):
    with pytest.raises(NodeError) as exc:
        parse(text)
    assert exc.value.kind == "bad_input" and says in exc.value.message
    assert exc.value.fix


def _fake_exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


@pytest.mark.skipif(sys.platform != "linux", reason="fake browsers are laid out as on Linux")
def test_playwrights_own_chromium_is_preferred_then_system_browsers(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "pw"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.delenv("BOTLOOM_BROWSER", raising=False)
    monkeypatch.setattr(discover, "_fixed_paths", lambda family: [])
    with pytest.raises(NodeError) as exc:
        discover.resolve("auto")
    assert exc.value.kind == "not_found"
    assert str(tmp_path / "pw") in exc.value.message and "google-chrome" in exc.value.message
    assert "BOTLOOM_BROWSER" in exc.value.fix and "apt-get install chromium" in exc.value.fix

    chromium = _fake_exe(tmp_path / "bin" / "chromium")
    assert discover.resolve("auto").executable == str(chromium)
    edge = _fake_exe(tmp_path / "bin" / "microsoft-edge")
    assert discover.resolve("auto").family == "msedge"  # Edge before Chromium
    assert discover.resolve("edge").executable == str(edge)
    old = _fake_exe(tmp_path / "pw" / "chromium-1100" / "chrome-linux" / "chrome")
    new = _fake_exe(tmp_path / "pw" / "chromium-1200" / "chrome-linux64" / "chrome")
    found = discover.resolve("auto")
    assert (found.family, found.executable) == ("playwright", str(new)) and old != new
    assert discover.resolve("chromium").executable == str(chromium)
    assert [f.family for f in discover.find_all().found] == ["playwright", "msedge", "chromium"]
    with pytest.raises(NodeError) as exc:
        discover.resolve("chrome", "the node's browser parameter")
    assert "Google Chrome was asked for by the node's browser parameter, but was not found" in exc.value.message


def test_the_choice_comes_from_the_node_then_the_bot_then_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("BOTLOOM_BROWSER", "chromium")
    assert discover.choose("msedge", {"browser": "chrome"}) == ("msedge", "the node's browser parameter")
    assert discover.choose("auto", {"browser": "chrome"}) == ("chrome", "the bot's settings.browser.browser")
    assert discover.choose(None, {}) == ("chromium", "the environment variable BOTLOOM_BROWSER")
    monkeypatch.delenv("BOTLOOM_BROWSER")
    assert discover.choose("", {"browser": "auto"}) == ("auto", "automatic detection")
    with pytest.raises(NodeError) as exc:
        discover.resolve(str(tmp_path), "the environment variable BOTLOOM_BROWSER")
    assert "is a folder, not a program" in exc.value.message


def test_doctor_lists_the_browsers_found(monkeypatch):
    from botloom.nodes.browser.doctor import checks

    monkeypatch.delenv("BOTLOOM_BROWSER", raising=False)
    found = {c.name: c for c in checks()}
    assert found["playwright"].ok is True
    real = discover.resolve("auto")
    assert found[f"{real.family} browser"].ok is True and real.executable in found[f"{real.family} browser"].detail
    assert found["will use"].ok is True and "automatic detection" in found["will use"].detail
    monkeypatch.setenv("BOTLOOM_BROWSER", "/opt/nowhere/chrome")
    found = {c.name: c for c in checks()}
    assert found["will use"].ok is False and "BOTLOOM_BROWSER" in found["will use"].fix


def test_the_doctor_entry_point_is_this_packs_checks():
    from importlib.metadata import entry_points

    (ep,) = [e for e in entry_points(group="botloom.doctor") if e.name == "browser"]
    assert {c.area for c in ep.load()()} == {"browser"}


def test_importing_the_pack_does_not_import_playwright():
    code = ("import sys; from botloom.nodes.browser import pack; p = pack(); "
            "assert len(p.nodes) >= 20, len(p.nodes); "
            "print('playwright' in sys.modules, 'greenlet' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]
