"""The engine's seams for long-lived processes: listener tiers, the true final state for
resources, timeouts that end, values refused at the step that made them, the executor."""

from __future__ import annotations

import datetime as dt
import logging
import time

import pytest
from bots import make, registry_with, run

from botloom.runner.engine import Engine, EventLog
from botloom.runner.engine.executor import InProcessExecutor
from botloom.runner.engine.signals import ListenerFailed
from botloom.runner.sdk import Output, Param, node

START = {"type": "core.start"}


@pytest.fixture(autouse=True)
def _home(monkeypatch, tmp_path):
    monkeypatch.setenv("BOTLOOM_HOME", str(tmp_path / "home"))


class Raising:
    """A best-effort listener that breaks on the first step."""

    def __init__(self):
        self.calls = 0

    def handle(self, event):
        self.calls += 1
        if event.kind == "node_started":
            raise RuntimeError("dashboard went away")


def _two_logs():
    return make({"start": START, "a": {"type": "core.log", "params": {"message": "one"}},
                 "b": {"type": "core.log", "params": {"message": "two"}}}, [("start", "a"), ("a", "b")])


def test_a_best_effort_listener_that_raises_is_set_aside_and_the_run_succeeds(caplog):
    broken = Raising()
    with caplog.at_level(logging.WARNING, logger="botloom.runner"):
        result, events = run(_two_logs(), listeners=[broken])
    assert result.state == "succeeded"
    calls = broken.calls
    assert calls <= 3  # run_started, then the node_started it failed on: told nothing after that
    warnings = [e.message for e in events.of("log") if e.level == "warning"]
    assert any("Raising listener failed" in m and "dashboard went away" in m for m in warnings)
    assert [e.message for e in events.of("log") if e.level == "info"] == ["one", "two"]
    assert "dashboard went away" in caplog.text


@node("test.resource_user", params=[], outputs=[])
def resource_user(ctx):
    ctx.resource("thing", lambda: object(), lambda value, state: CLOSED.append(state))


CLOSED: list = []


def test_resources_are_told_the_true_state_when_a_critical_listener_stops_the_run():
    class BrokenJournal:
        critical = True

        def handle(self, event):
            if event.kind == "node_finished" and event.node == "b":
                raise OSError("disk full")

    CLOSED.clear()
    doc = make({"start": START, "use": {"type": "test.resource_user"},
                "b": {"type": "core.log", "params": {"message": "x"}}}, [("start", "use"), ("use", "b")])
    engine = Engine(doc, registry_with(resource_user), listeners=[BrokenJournal()])
    with pytest.raises(ListenerFailed):
        engine.run()
    assert CLOSED == ["crashed"]  # not "succeeded": a browser keeps its trace for such a run


@node("test.stubborn", params=[Param("seconds", "number", default=30)], outputs=[])
def stubborn(ctx, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:  # ignores ctx.cancelled on purpose
        time.sleep(0.01)


def test_a_node_that_ignores_its_timeout_is_abandoned_and_the_run_stops():
    doc = make({"start": START,
                "hang": {"type": "test.stubborn", "settings": {"timeout": 0.2, "on_error": "continue"}},
                "after": {"type": "core.log", "params": {"message": "must not run"}}},
               [("start", "hang"), ("hang", "after")])
    engine = Engine(doc, registry_with(stubborn), listeners=[log := EventLog()])
    engine.timeout_grace = 0.2
    t0 = time.monotonic()
    result = engine.run()
    assert time.monotonic() - t0 < 5
    assert result.state == "failed"
    assert result.error["kind"] == "abandoned"
    assert "kept running" in result.error["message"] and "restarted" in result.error["fix"]
    assert "after" not in [e.node for e in log.of("node_finished")]  # on_error=continue cannot carry on


@node("test.polite", params=[], outputs=[Output("stopped", "boolean")])
def polite(ctx):
    ctx.sleep(30)


def test_a_node_that_stops_when_told_fails_with_a_timeout_a_catch_can_handle():
    doc = make({"start": START, "wait": {"type": "test.polite", "settings": {"timeout": 0.2}},
                "handled": {"type": "core.log", "params": {"message": "handled"}}},
               [("start", "wait"), ("wait.error", "handled")])
    result, events = run(doc, reg=registry_with(polite))
    assert result.state == "succeeded"
    assert events.of("node_finished")[1].error["kind"] == "timeout"


def test_a_nodes_timeout_covers_evaluating_its_parameters():
    """Parameters that take long to evaluate count against the node's own time limit."""
    doc = make({"start": START, "l": {"type": "core.log", "params": {"message": "{{ 1 }}"},
                                      "settings": {"timeout": 0.2}}}, [("start", "l")])
    engine = Engine(doc, registry_with(stubborn))
    engine.timeout_grace = 2.0
    real_resolve = engine._resolve

    def slow_resolve(frame, cn):
        if cn.id == "l":
            time.sleep(0.6)  # longer than the timeout, shorter than timeout + grace
        return real_resolve(frame, cn)

    engine._resolve = slow_resolve
    result = engine.run()
    assert result.state == "failed"
    assert result.error["kind"] == "timeout"


@node("test.makes_an_object", params=[], outputs=[Output("thing", "any")])
def makes_an_object(ctx):
    return {"thing": object()}


def test_an_output_the_codec_cannot_carry_fails_its_own_step_naming_node_and_output():
    doc = make({"start": START, "make": {"type": "test.makes_an_object"}}, [("start", "make")])
    result, _ = run(doc, reg=registry_with(makes_an_object))
    assert result.state == "failed"
    assert result.error["kind"] == "bad_output"
    assert "output 'thing'" in result.error["message"] and "object" in result.error["message"]
    assert "node 'make'" in result.error["where"]


def test_an_expression_that_names_a_function_is_refused_at_its_parameter():
    doc = make({"start": START, "s": {"type": "core.set_variable", "params": {"name": "x", "value": "{{ now }}"}}},
               [("start", "s")], variables={"x": {"type": "any"}})
    result, _ = run(doc)
    assert result.state == "failed"
    assert "parameter 'value'" in result.error["where"] and "cannot be recorded" in result.error["message"]


def test_datetimes_stay_datetimes_in_variables_and_outputs():
    doc = make({"start": START,
                "s": {"type": "core.set_variable", "params": {"name": "when", "value": "{{ parse_date('2024-01-02') }}"}},
                "y": {"type": "core.set_variable", "params": {"name": "year", "value": "{{ when.year }}"}}},
               [("start", "s"), ("s", "y")], variables={"when": {"type": "any"}, "year": {"type": "any"}},
               outputs={"when": "any", "year": "any"})
    result, _ = run(doc)
    assert result.outputs == {"when": dt.datetime(2024, 1, 2), "year": 2024}


def test_nodes_run_through_the_executor_and_scopes_do_not():
    seen = []

    class Recording(InProcessExecutor):
        def execute(self, node_type, params, ctx):
            seen.append(node_type.id)
            return super().execute(node_type, params, ctx)

    doc = make({"start": START, "loop": {"type": "core.for_each", "params": {"items": [1, 2]}},
                "l": {"type": "core.log", "params": {"message": "{{ item }}"}}},
               [("start", "loop"), ("loop.body", "l")])
    result, _ = run(doc, executor=Recording())
    assert result.state == "succeeded"
    assert seen == ["core.start", "core.log", "core.log"]
