"""Run-wide pieces that node packs build on: bot settings, shared resources, preflight checks,
CLI and doctor plugins."""

from __future__ import annotations

import threading

import pytest
from bots import chain, make, messages, registry_with, run

from botloom.runner import botfile
from botloom.runner.errors import BotloomError, BotFileError
from botloom.runner.sdk import Output, Param, node

START = {"type": "core.start"}
OPENED: list = []
CLOSED: list = []


@node("rt.use", params=[Param("fail", "boolean", default=False)], outputs=[Output("session", "integer")])
def use(ctx, fail):
    session = ctx.resource("session", lambda: OPENED.append(len(OPENED)) or len(OPENED),
                           lambda value, state: CLOSED.append((value, state)))
    if fail:
        raise BotloomError("broken on purpose")
    return {"session": session}


def _no_display(info):
    screen = info.area("rt").get("screen", "none")
    raise BotloomError(f"no display for {len(info.nodes)} node(s); the bot wants {screen}",
                       where=info.bot, fix="start Xvfb")


@node("rt.needs_display", preflight=_no_display, side_effects=True)
def needs_display(ctx):
    ctx.log("ran anyway")


@node("rt.needs_display_too", preflight=_no_display)
def needs_display_too(ctx):
    pass


@node("rt.settings", outputs=[Output("pace", "any")])
def read_settings(ctx):
    return {"pace": ctx.settings("rt").get("pace")}


REG = registry_with(use, needs_display, needs_display_too, read_settings)


@pytest.fixture(autouse=True)
def _clear():
    OPENED.clear()
    CLOSED.clear()


def _doc(*steps, **top):
    nodes = {"start": START, **{f"n{i}": s for i, s in enumerate(steps)}}
    return make(nodes, chain("start", *[f"n{i}" for i in range(len(steps))]), **top)


@pytest.mark.parametrize("fail, state", [(False, "succeeded"), (True, "failed")])
def test_a_resource_is_opened_once_per_run_and_closed_with_the_final_state(fail, state):
    doc = _doc({"type": "rt.use"}, {"type": "rt.use"}, {"type": "rt.use", "params": {"fail": fail}})
    result, _ = run(doc, reg=REG)
    assert result.state == state
    assert OPENED == [0]
    assert CLOSED == [(1, state)]


def test_a_cancelled_run_closes_its_resources():
    gate = threading.Event()

    @node("rt.wait")
    def wait(ctx):
        gate.set()
        ctx.sleep(30)

    from botloom.runner.engine import Engine, EventLog

    doc = _doc({"type": "rt.use"}, {"type": "rt.wait"})
    engine = Engine(doc, registry_with(use, wait), listeners=[EventLog()])
    threading.Thread(target=lambda: (gate.wait(5), engine.cancel()), daemon=True).start()
    assert engine.run().state == "cancelled"
    assert CLOSED == [(1, "cancelled")]


def test_preflight_fails_the_run_before_any_step_once_per_check():
    doc = _doc({"type": "rt.needs_display"}, {"type": "rt.needs_display_too"}, settings={"rt": {"screen": "1280x800"}})
    result, events = run(doc, reg=REG)
    assert result.state == "failed"
    assert result.error["message"] == "no display for 2 node(s); the bot wants 1280x800"
    assert result.error["fix"] == "start Xvfb"
    assert events.of("node_started") == [] and messages(events) == []


def test_a_disabled_node_does_not_trigger_its_preflight():
    doc = _doc({"type": "rt.needs_display_too", "disabled": True})
    assert run(doc, reg=REG)[0].state == "succeeded"


def test_bot_settings_round_trip_and_reach_nodes():
    doc = _doc({"type": "rt.settings"}, settings={"rt": {"pace": 0.25}, "empty": {}})
    assert doc.settings == {"rt": {"pace": 0.25}, "empty": {}}
    text = botfile.dumps(doc)
    assert '"settings": {\n    "rt": {\n      "pace": 0.25\n    }\n  }' in text
    assert botfile.loads(text).settings == {"rt": {"pace": 0.25}}
    result, _ = run(doc, reg=REG)
    assert result.state == "succeeded"


@pytest.mark.parametrize("settings, pointer", [([1], "/settings"), ({"rt": 3}, "/settings/rt"),
                                               ({"bad name": {}}, "/settings/bad name")])
def test_malformed_settings_are_refused_with_a_pointer(settings, pointer):
    with pytest.raises(BotFileError) as info:
        _doc(settings=settings)
    assert info.value.pointer == pointer


def test_doctor_lists_checks_of_every_pack(cli):
    out = cli("doctor", "--json")
    import json

    checks = json.loads(out.stdout)
    assert checks[0]["area"] == "botloom" and checks[0]["ok"] is True
    assert out.returncode in (0, 1)
