"""The engine: control flow, scopes, errors, settings, data, inputs, events, debugger, suspend."""

from __future__ import annotations

import threading
import time

import pytest
from bots import WaitingLog, chain, finished, make, messages, registry, registry_with, run

from botloom.runner.botfile import VarDecl
from botloom.runner.engine import Debugger, Engine, EventLog, ResumeRequest, StepRecord, bind_inputs
from botloom.runner.errors import InputError, InvalidBotError
from botloom.runner.sdk import NodeError, Output, Param, node

START = {"type": "core.start"}


@pytest.fixture(autouse=True)
def _home(monkeypatch, tmp_path):
    monkeypatch.setenv("BOTLOOM_HOME", str(tmp_path / "home"))


def log(message, **extra):
    return {"type": "core.log", "params": {"message": message}, **extra}


def setvar(name, value, **extra):
    return {"type": "core.set_variable", "params": {"name": name, "value": value}, **extra}


def if_(condition):
    return {"type": "core.if", "params": {"condition": condition}}


def for_each(items, **params):
    return {"type": "core.for_each", "params": {"items": items, **params}}


def fail(message, **params):
    return {"type": "core.fail", "params": {"message": message, **params}}


def run_ok(doc, inputs=None, **kw):
    result, events = run(doc, inputs, **kw)
    assert result.state == "succeeded", result.error
    return result, events


# ---------------------------------------------------------------- branching

@pytest.mark.parametrize("condition, port, expected", [
    ("1 < 2", "true", ["yes"]), ("{{ 1 > 2 }}", "false", ["no"]), (True, "true", ["yes"]),
    ("items | length == 0", "true", ["yes"]),
])
def test_if_takes_the_matching_port(condition, port, expected):
    doc = make({"start": START, "check": if_(condition), "yes": log("yes"), "no": log("no")},
               [("start", "check"), ("check.true", "yes"), ("check.false", "no")],
               variables={"items": {"type": "list", "default": []}})
    _, events = run_ok(doc)
    assert messages(events) == expected
    assert finished(events, "check")[0].port == port


@pytest.mark.parametrize("value, expected", [("b", ["case b"]), ("zzz", ["default"]), (2, ["case 2"])])
def test_switch_routes_to_a_case_or_default(value, expected):
    doc = make({"start": START,
                "sw": {"type": "core.switch", "params": {"value": value, "cases": ["a", "b", 2]}},
                "a": log("case a"), "b": log("case b"), "two": log("case 2"), "other": log("default")},
               [("start", "sw"), ("sw.a", "a"), ("sw.b", "b"), ("sw.2", "two"), ("sw.default", "other")])
    _, events = run_ok(doc)
    assert messages(events) == expected


# ---------------------------------------------------------------- loops

def test_for_each_over_a_list_sets_item_index_and_count():
    doc = make({"start": START, "loop": for_each(["x", "y", "z"]), "body": log("{{ index }}:{{ item }}"),
                "after": log("count={{ nodes.loop.count }}")},
               [("start", "loop"), ("loop.body", "body"), ("loop", "after")])
    _, events = run_ok(doc)
    assert messages(events) == ["0:x", "1:y", "2:z", "count=3"]
    assert finished(events, "loop")[0].outputs == {"count": 3}


def test_for_each_over_table_rows_reads_fields():
    rows = [{"name": "Ann", "age": 31}, {"name": "Bob", "age": 42}]
    doc = make({"start": START, "rows": setvar("people", rows),
                "loop": for_each("{{ people }}", item_var="person"),
                "body": log("{{ person.name }} is {{ person.age }}"),
                "total": setvar("total", "{{ total + person.age }}")},
               [*chain("start", "rows", "loop"), ("loop.body", "body"), ("body", "total")],
               variables={"total": {"type": "integer", "default": 0}}, outputs={"total": "integer"})
    result, events = run_ok(doc)
    assert messages(events) == ["Ann is 31", "Bob is 42"]
    assert result.outputs == {"total": 73}


def test_for_each_body_may_lead_back_to_the_loop_node():
    doc = make({"start": START, "loop": for_each([1, 2]), "body": log("{{ item }}"), "after": log("done")},
               [("start", "loop"), ("loop.body", "body"), ("body", "loop"), ("loop", "after")])
    _, events = run_ok(doc)
    assert messages(events) == ["1", "2", "done"]


def test_while_re_evaluates_its_condition_each_pass():
    doc = make({"start": START, "w": {"type": "core.while", "params": {"condition": "i < 3"}},
                "inc": setvar("i", "{{ i + 1 }}"), "after": log("i={{ i }} passes={{ nodes.w.iterations }}")},
               [("start", "w"), ("w.body", "inc"), ("w", "after")],
               variables={"i": {"type": "integer", "default": 0}})
    _, events = run_ok(doc)
    assert messages(events) == ["i=3 passes=3"]


def test_while_max_iterations_guard_fails_with_loop_guard():
    doc = make({"start": START, "w": {"type": "core.while", "params": {"condition": "true", "max_iterations": 3}},
                "body": log("pass"), "after": log("after")},
               [("start", "w"), ("w.body", "body"), ("w", "after")])
    result, events = run(doc)
    assert result.state == "failed"
    assert result.error["kind"] == "loop_guard"
    assert "3 times" in result.error["message"]
    assert "node 'w'" in result.error["where"]
    assert messages(events) == ["pass"] * 3


def test_while_with_false_condition_never_runs_its_body():
    doc = make({"start": START, "w": {"type": "core.while", "params": {"condition": "false"}},
                "body": log("pass"), "after": log("after")},
               [("start", "w"), ("w.body", "body"), ("w", "after")])
    _, events = run_ok(doc)
    assert messages(events) == ["after"]


def test_break_and_continue_inside_for_each():
    doc = make({"start": START, "loop": for_each([1, 2, 3, 4, 5]),
                "skip": if_("item == 2"), "cont": {"type": "core.continue"},
                "stop": if_("item == 4"), "brk": {"type": "core.break"},
                "body": log("{{ item }}"), "after": log("after")},
               [("start", "loop"), ("loop.body", "skip"), ("skip.true", "cont"), ("skip.false", "stop"),
                ("stop.true", "brk"), ("stop.false", "body"), ("loop", "after")])
    _, events = run_ok(doc)
    assert messages(events) == ["1", "3", "after"]


def test_nested_loops_and_break_leaves_only_the_inner_loop():
    doc = make({"start": START, "outer": for_each([1, 2], item_var="i"),
                "inner": for_each(["a", "b", "c"], item_var="j"),
                "stop": if_("j == 'c'"), "brk": {"type": "core.break"},
                "body": log("{{ i }}{{ j }}"), "end_outer": log("end {{ i }}"), "after": log("after")},
               [("start", "outer"), ("outer.body", "inner"), ("inner.body", "stop"), ("stop.true", "brk"),
                ("stop.false", "body"), ("inner", "end_outer"), ("outer", "after")])
    _, events = run_ok(doc)
    assert messages(events) == ["1a", "1b", "end 1", "2a", "2b", "end 2", "after"]


def test_break_outside_a_loop_fails_the_run():
    doc = make({"start": START, "brk": {"type": "core.break"}}, [("start", "brk")])
    result, _ = run(doc)
    assert result.state == "failed"
    assert "outside a loop" in result.error["message"]


def test_end_inside_a_loop_ends_the_flow_successfully():
    doc = make({"start": START, "loop": for_each([1, 2, 3]), "is2": if_("item == 2"),
                "end": {"type": "core.end"}, "body": setvar("last", "{{ item }}"), "after": log("after")},
               [("start", "loop"), ("loop.body", "is2"), ("is2.true", "end"), ("is2.false", "body"),
                ("loop", "after")],
               outputs={"last": "integer"})
    result, events = run(doc)
    assert result.state == "succeeded"
    assert result.outputs == {"last": 1}
    assert messages(events) == []
    assert not finished(events, "after")


# ---------------------------------------------------------------- try / catch / finally

def _try_bot(*, fails: bool, catch: bool):
    nodes = {"start": START, "t": {"type": "core.try"},
             "work": fail("boom", kind="network") if fails else log("work"),
             "fin": log("finally"), "after": log("after")}
    edges = [("start", "t"), ("t.try", "work"), ("t.finally", "fin"), ("t", "after")]
    if catch:
        nodes["c"] = log("caught {{ error.kind }}: {{ error.message }}")
        edges.append(("t.catch", "c"))
    return make(nodes, edges)


def test_try_catch_runs_catch_with_the_error_then_finally():
    result, events = run(_try_bot(fails=True, catch=True))
    assert result.state == "succeeded"
    assert messages(events) == ["caught network: boom", "finally", "after"]
    assert finished(events, "t")[0].writes["error"]["message"] == "boom"


def test_try_finally_runs_on_success_and_catch_does_not():
    result, events = run(_try_bot(fails=False, catch=True))
    assert result.state == "succeeded"
    assert messages(events) == ["work", "finally", "after"]


def test_try_without_catch_propagates_after_finally():
    result, events = run(_try_bot(fails=True, catch=False))
    assert result.state == "failed"
    assert result.error["message"] == "boom"
    assert result.error["kind"] == "network"
    assert "node 'work'" in result.error["where"]
    assert messages(events) == ["finally"]


def test_error_in_catch_propagates_after_finally():
    doc = make({"start": START, "t": {"type": "core.try"}, "work": fail("first"), "c": fail("second"),
                "fin": log("finally")},
               [("start", "t"), ("t.try", "work"), ("t.catch", "c"), ("t.finally", "fin")])
    result, events = run(doc)
    assert result.state == "failed"
    assert result.error["message"] == "second"
    assert messages(events) == ["finally"]


# ---------------------------------------------------------------- retry

def _retry_bot(attempts):
    return make({"start": START,
                 "r": {"type": "core.retry", "params": {"attempts": attempts, "delay": 0}},
                 "inc": setvar("n", "{{ n + 1 }}"), "early": if_("n < 3"),
                 "boom": fail("attempt {{ n }} failed", kind="flaky"), "ok": log("ok on {{ n }}"),
                 "after": log("used {{ nodes.r.attempts }}")},
                [("start", "r"), ("r.body", "inc"), ("inc", "early"), ("early.true", "boom"),
                 ("early.false", "ok"), ("r", "after")],
                variables={"n": {"type": "integer", "default": 0}}, outputs={"n": "integer"})


def test_retry_scope_succeeds_on_the_third_attempt():
    result, events = run(_retry_bot(3))
    assert result.state == "succeeded", result.error
    assert result.outputs == {"n": 3}
    assert messages(events)[-2:] == ["ok on 3", "used 3"]
    retrying = events.of("node_retrying")  # the same events as a node's own retry setting
    assert [(e.node, e.attempt, e.error["kind"]) for e in retrying] == [("r", 2, "flaky"), ("r", 3, "flaky")]


def test_retry_scope_and_retry_setting_share_their_rules():
    """Both leave alone the errors no retry can mend (here: an expression naming nothing)."""
    doc = make({"start": START, "r": {"type": "core.retry", "params": {"attempts": 3, "delay": 0}},
                "boom": log("{{ no_such_name }}")}, [("start", "r"), ("r.body", "boom")])
    result, events = run(doc)
    assert result.state == "failed" and events.of("node_retrying") == []


def test_retry_scope_fails_when_attempts_are_exhausted():
    result, events = run(_retry_bot(2))
    assert result.state == "failed"
    assert result.error["message"] == "attempt 2 failed"
    assert result.error["kind"] == "flaky"
    assert "after" not in [e.node for e in finished(events)]


@node("test.flaky", params=[Param("succeed_on", "integer", default=3)], outputs=[Output("attempt", "integer")])
def flaky(ctx, succeed_on):
    if ctx.attempt < succeed_on:
        raise NodeError(f"attempt {ctx.attempt} failed", kind="network")
    return {"attempt": ctx.attempt}


def test_node_retry_setting_retries_with_events():
    doc = make({"start": START, "f": {"type": "test.flaky", "settings": {"retry": {"attempts": 3, "delay": 0}}}},
               [("start", "f")])
    result, events = run(doc, reg=registry_with(flaky))
    assert result.state == "succeeded", result.error
    retrying = events.of("node_retrying")
    assert [(e.node, e.attempt, e.delay) for e in retrying] == [("f", 2, 0), ("f", 3, 0)]
    assert retrying[0].error["message"] == "attempt 1 failed"
    assert [(e.attempt, e.state) for e in finished(events, "f")] == [(1, "failed"), (2, "failed"), (3, "succeeded")]
    assert finished(events, "f")[-1].outputs == {"attempt": 3}


def test_node_retry_setting_gives_up_after_its_attempts():
    doc = make({"start": START, "f": {"type": "test.flaky", "params": {"succeed_on": 9},
                                      "settings": {"retry": {"attempts": 2, "delay": 0}}}},
               [("start", "f")])
    result, events = run(doc, reg=registry_with(flaky))
    assert result.state == "failed"
    assert result.error["message"] == "attempt 2 failed"
    assert len(events.of("node_retrying")) == 1


def test_a_deliberate_failure_is_retried_alike_by_the_retry_setting_and_the_retry_scope():
    """One rule for both: a Fail inside a retry scope is the usual way to ask for another attempt."""
    doc = make({"start": START, "f": {**fail("no"), "settings": {"retry": {"attempts": 3, "delay": 0}}}},
               [("start", "f")])
    result, events = run(doc)
    assert result.state == "failed"
    assert [e.attempt for e in events.of("node_retrying")] == [2, 3]
    scope, scope_events = run(make({"start": START, "r": {"type": "core.retry", "params": {"attempts": 3, "delay": 0}},
                                    "f": fail("no")}, [("start", "r"), ("r.body", "f")]))
    assert scope.state == "failed"
    assert [e.attempt for e in scope_events.of("node_retrying")] == [2, 3]


# ---------------------------------------------------------------- on_error, timeout, cancel

def test_on_error_continue_sets_error_and_goes_on():
    doc = make({"start": START,
                "f": {"type": "test.flaky", "params": {"succeed_on": 9}, "settings": {"on_error": "continue"}},
                "next": log("next: {{ error.message }}")},
               [("start", "f"), ("f", "next")])
    result, events = run(doc, reg=registry_with(flaky))
    assert result.state == "succeeded", result.error
    assert messages(events) == ["next: attempt 1 failed"]
    assert finished(events, "f")[0].state == "failed"
    assert finished(events, "f")[0].port == "out"


def test_error_port_edge_handles_the_failure():
    doc = make({"start": START, "f": fail("bad thing", kind="custom"), "handler": log("{{ error.kind }}: {{ error.message }}"),
                "after": log("after")},
               [("start", "f"), ("f.error", "handler"), ("handler", "after")],
               outputs={"error": "object"})
    result, events = run(doc)
    assert result.state == "succeeded", result.error
    assert messages(events) == ["custom: bad thing", "after"]
    assert result.outputs["error"]["message"] == "bad thing"
    assert finished(events, "f")[0].port == "error"
    assert finished(events, "f")[0].writes["error"]["kind"] == "custom"


def test_timeout_setting_stops_a_long_delay():
    doc = make({"start": START, "d": {"type": "core.delay", "params": {"seconds": 30}, "settings": {"timeout": 0.2}}},
               [("start", "d")])
    t0 = time.monotonic()
    result, _ = run(doc)
    elapsed = time.monotonic() - t0
    assert result.state == "failed"
    assert result.error["kind"] == "timeout"
    assert "node 'd'" in result.error["where"]
    assert elapsed < 3


def test_cancel_from_another_thread_stops_a_long_delay():
    doc = make({"start": START, "d": {"type": "core.delay", "params": {"seconds": 30}}, "after": log("after")},
               chain("start", "d", "after"))
    events = WaitingLog()
    engine = Engine(doc, registry(), listeners=[events])
    box = {}
    worker = threading.Thread(target=lambda: box.setdefault("result", engine.run()))
    worker.start()
    events.wait_for("node_started", node="d")
    t0 = time.monotonic()
    engine.cancel()
    worker.join(5)
    assert not worker.is_alive()
    assert time.monotonic() - t0 < 2
    assert box["result"].state == "cancelled"
    assert finished(events, "d")[0].state == "cancelled"
    assert not finished(events, "after")


# ---------------------------------------------------------------- fail, subflows

def test_fail_node_fails_the_run_with_message_and_where():
    doc = make({"start": START, "oops": fail("the invoice {{ 41 + 1 }} is missing"), "after": log("after")},
               [("start", "oops")])
    result, events = run(doc)
    assert result.state == "failed"
    assert result.error["message"] == "the invoice 42 is missing"
    assert result.error["kind"] == "failed"
    assert "node 'oops'" in result.error["where"] and "core.fail" in result.error["where"]
    assert events.of("run_finished")[0].error == result.error


def _subflow_bot(name="double", x="{{ 21 }}"):
    return make({"start": START,
                 "call": {"type": "core.call_subflow", "params": {"subflow": name, "inputs": {"x": x}}},
                 "keep": setvar("result", "{{ nodes.call.outputs.y }}")},
                chain("start", "call", "keep"), outputs={"result": "any"},
                subflows={"double": {"inputs": {"x": {"type": "integer", "required": True}},
                                     "outputs": {"y": "integer"},
                                     "nodes": {"start": START, "calc": setvar("y", "{{ x * 2 }}")},
                                     "edges": [("start", "calc")]}})


def test_call_subflow_passes_inputs_and_returns_outputs():
    result, events = run_ok(_subflow_bot())
    assert result.outputs == {"result": 42}
    assert finished(events, "call")[0].outputs == {"outputs": {"y": 42}}
    assert [e.flow for e in finished(events, "calc")] == ["double"]


def test_call_subflow_converts_its_inputs():
    result, _ = run_ok(_subflow_bot(x="5"))
    assert result.outputs == {"result": 10}


def test_call_of_an_unknown_subflow_fails_with_a_suggestion():
    result, _ = run(_subflow_bot(name="doubel"))
    assert result.state == "failed"
    assert "no subflow 'doubel'" in result.error["message"]
    assert "did you mean 'double'" in result.error["message"]
    assert "node 'call'" in result.error["where"]


def test_subflow_recursion_is_stopped_by_the_depth_guard():
    call = {"type": "core.call_subflow", "params": {"subflow": "again"}}
    doc = make({"start": START, "call": call}, [("start", "call")],
               subflows={"again": {"nodes": {"start": START, "call": call}, "edges": [("start", "call")]}})
    result, _ = run(doc)
    assert result.state == "failed"
    assert "levels deep" in result.error["message"]
    assert "subflow 'again'" in result.error["where"]


# ---------------------------------------------------------------- data

def test_data_edge_carries_a_node_output_into_a_parameter():
    doc = make({"start": START, "a": setvar("a", [1, 2, 3]), "b": {"type": "core.set_variable", "params": {"name": "b"}}},
               [*chain("start", "a", "b"), {"from": "a.value", "to": "b.value"}], outputs={"b": "any"})
    result, events = run_ok(doc)
    assert result.outputs == {"b": [1, 2, 3]}
    assert finished(events, "b")[0].params["value"] == [1, 2, 3]


def test_data_edge_from_a_node_that_did_not_run_is_a_clear_error():
    doc = make({"start": START, "check": if_("false"), "a": setvar("a", 1),
                "b": {"type": "core.set_variable", "params": {"name": "b"}}},
               [("start", "check"), ("check.true", "a"), ("check.false", "b"), {"from": "a.value", "to": "b.value"}])
    result, _ = run(doc)
    assert result.state == "failed"
    assert "a.value" in result.error["message"] and "has not run" in result.error["message"]
    assert "parameter 'value'" in result.error["where"]
    assert "'a' runs before 'b'" in result.error["fix"]


@pytest.mark.parametrize("text, expected", [
    ("{{ 1 + 2 }}", 3), ("{{ 2.5 * 2 }}", 5.0), ("{{ 1 < 2 }}", True), ("{{ [1, 'a'] }}", [1, "a"]),
    ("{{ {'k': 1} }}", {"k": 1}), ("{{ none }}", None), ("n = {{ 1 + 2 }}", "n = 3"),
    ("{{ 1 }}{{ 2 }}", "12"), ("plain", "plain"),
])
def test_expressions_keep_native_types(text, expected):
    doc = make({"start": START, "s": setvar("v", text)}, [("start", "s")], outputs={"v": "any"})
    result, _ = run_ok(doc)
    assert result.outputs["v"] == expected
    assert type(result.outputs["v"]) is type(expected)


def test_declared_variable_type_converts_and_refuses():
    ok = make({"start": START, "s": setvar("n", "42")}, [("start", "s")],
              variables={"n": "integer"}, outputs={"n": "any"})
    assert run_ok(ok)[0].outputs == {"n": 42}
    bad = make({"start": START, "s": setvar("n", "lots")}, [("start", "s")], variables={"n": "integer"})
    result, _ = run(bad)
    assert result.state == "failed"
    assert "variable 'n' is declared as integer" in result.error["message"]
    assert "node 's'" in result.error["where"]


def test_expression_error_at_run_time_names_the_parameter():
    doc = make({"start": START, "s": setvar("v", "{{ cuont + 1 }}")}, [("start", "s")],
               variables={"count": {"type": "integer", "default": 1}})
    result, _ = run(doc)
    assert result.state == "failed"
    assert result.error["kind"] == "expression"
    assert "did you mean 'count'" in result.error["message"]
    assert "parameter 'value'" in result.error["where"]


# ---------------------------------------------------------------- inputs

DECLS = {"count": VarDecl("integer", required=True), "tags": VarDecl("list", default=["a"]),
         "note": VarDecl("string")}


def test_bind_inputs_unknown_input_suggests_a_name():
    with pytest.raises(InputError) as info:
        bind_inputs(DECLS, {"count": 1, "tgas": []})
    assert "unknown input 'tgas'" in info.value.message
    assert "did you mean 'tags'" in info.value.message
    assert "count, note, tags" in info.value.fix


def test_bind_inputs_missing_required_input():
    with pytest.raises(InputError) as info:
        bind_inputs(DECLS, {"tags": []})
    assert "required input 'count' is missing" in info.value.message
    assert "--input count=" in info.value.fix


def test_bind_inputs_defaults_and_none():
    assert bind_inputs(DECLS, {"count": 2}) == {"count": 2, "tags": ["a"], "note": None}


def test_bind_inputs_converts_text():
    values = bind_inputs(DECLS, {"count": "3", "tags": '["x", 2]'}, from_text=True)
    assert values["count"] == 3 and values["tags"] == ["x", 2]
    with pytest.raises(InputError) as info:
        bind_inputs(DECLS, {"count": "3", "tags": "[oops"}, from_text=True)
    assert "input 'tags'" in info.value.message and "JSON" in info.value.message
    with pytest.raises(InputError, match="input 'count'"):
        bind_inputs(DECLS, {"count": "three"}, from_text=True)
    with pytest.raises(InputError, match="expected a list"):
        bind_inputs(DECLS, {"count": 1, "tags": '["x"]'})  # JSON text only when from_text


def test_engine_run_checks_inputs():
    doc = make({"start": START, "s": setvar("double", "{{ count * 2 }}")}, [("start", "s")],
               inputs={"count": {"type": "integer", "required": True}}, outputs={"double": "integer"})
    assert run_ok(doc, {"count": 4})[0].outputs == {"double": 8}
    with pytest.raises(InputError, match="required input 'count'"):
        run(doc, {})


def test_invalid_bot_is_refused_before_running():
    doc = make({"start": START, "x": {"type": "core.lgo"}}, [("start", "x")])
    with pytest.raises(InvalidBotError) as info:
        run(doc)
    assert [p.code for p in info.value.problems] == ["unknown-node-type"]


# ---------------------------------------------------------------- events, disabled

def test_event_order_and_sequence_numbers():
    doc = make({"start": START, "a": log("a"), "loop": for_each([1, 2]), "b": log("b{{ item }}")},
               [*chain("start", "a", "loop"), ("loop.body", "b")])
    result, events = run_ok(doc)
    kinds = [e.kind for e in events.events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert kinds.count("run_started") == kinds.count("run_finished") == 1
    started = events.of("node_started")
    done = finished(events)
    assert sorted(e.seq for e in started) == [e.seq for e in started] == list(range(1, 6))
    assert {e.seq: e.node for e in started} == {e.seq: e.node for e in done}
    for s in started:  # every node_finished comes after its node_started
        assert events.events.index(s) < next(i for i, e in enumerate(events.events)
                                            if e.kind == "node_finished" and e.seq == s.seq)
    assert [e.node for e in started] == ["start", "a", "loop", "b", "b"]
    assert result.steps == 5 and events.of("run_finished")[0].steps == 5


def test_disabled_node_is_skipped_and_the_path_continues():
    doc = make({"start": START, "a": log("a"), "off": log("off", disabled=True), "b": log("b")},
               chain("start", "a", "off", "b"))
    _, events = run_ok(doc)
    assert messages(events) == ["a", "b"]
    assert finished(events, "off")[0].state == "skipped"
    assert "off" not in [e.node for e in events.of("node_started")]


# ---------------------------------------------------------------- debugger

def _debug_run(debugger):
    doc = make({"start": START, "a": setvar("x", 1), "b": log("b"), "c": log("c")}, chain("start", "a", "b", "c"))
    events = WaitingLog()
    engine = Engine(doc, registry(), listeners=[events], debugger=debugger)
    box = {}
    worker = threading.Thread(target=lambda: box.setdefault("result", engine.run()), daemon=True)
    worker.start()
    return engine, events, box, worker


def test_debugger_breakpoint_step_and_resume():
    dbg = Debugger(breakpoints={"b"})
    engine, events, box, worker = _debug_run(dbg)
    paused = events.wait_for("paused")
    assert (paused.node, paused.reason) == ("b", "breakpoint")
    assert paused.variables == {"x": 1}
    assert dbg.paused
    assert messages(events) == []  # 'b' has not run yet
    assert "b" not in [e.node for e in events.of("node_started")]

    dbg.step()
    stepped = events.wait_for("paused", count=2)
    assert (stepped.node, stepped.reason) == ("c", "step")
    assert messages(events) == ["b"]

    dbg.resume()
    worker.join(5)
    assert not worker.is_alive()
    assert box["result"].state == "succeeded"
    assert messages(events) == ["b", "c"]
    assert len(events.of("paused")) == 2 and len(events.of("resumed")) == 2


def test_debugger_paused_before_start_then_resume():
    dbg = Debugger(paused=True)
    engine, events, box, worker = _debug_run(dbg)
    paused = events.wait_for("paused")
    assert (paused.node, paused.reason) == ("start", "pause")
    assert events.of("node_started") == []
    dbg.resume()
    worker.join(5)
    assert box["result"].state == "succeeded"
    assert messages(events) == ["b", "c"]


def test_a_flow_qualified_breakpoint_pauses_only_in_that_flow():
    """``inner/b`` pauses before the subflow's 'b', not before the main flow's node of that id."""
    doc = make({"start": START, "b": log("main b"), "call": {"type": "core.call_subflow", "params": {"subflow": "inner"}}},
               chain("start", "b", "call"),
               subflows={"inner": {"nodes": {"start": START, "b": log("inner b")},
                                   "edges": [{"from": "start.out", "to": "b.in"}]}})
    dbg = Debugger(breakpoints={"inner/b"})
    events = WaitingLog()
    engine = Engine(doc, registry(), listeners=[events], debugger=dbg)
    box = {}
    worker = threading.Thread(target=lambda: box.setdefault("result", engine.run()), daemon=True)
    worker.start()
    paused = events.wait_for("paused")
    assert (paused.flow, paused.node, paused.reason) == ("inner", "b", "breakpoint")
    assert messages(events) == ["main b"]
    dbg.resume()
    worker.join(5)
    assert box["result"].state == "succeeded"
    assert messages(events) == ["main b", "inner b"]
    assert [(e.flow, e.node) for e in events.of("resumed")] == [("inner", "b")]


def test_cancel_while_paused_in_the_debugger():
    dbg = Debugger(breakpoints={"c"})
    engine, events, box, worker = _debug_run(dbg)
    events.wait_for("paused", node="c")
    engine.cancel()
    worker.join(5)
    assert not worker.is_alive()
    assert box["result"].state == "cancelled"
    assert messages(events) == ["b"]


# ---------------------------------------------------------------- suspend and resume (in memory)

def _replay_from(*logs):
    """Step records as a journal keeps them, from the events of one or more runs (oldest first)."""
    replay = {}
    for events in logs:
        for e in finished(events):  # the last attempt of a step wins
            if not e.replayed:
                replay[e.seq] = StepRecord(e.node, e.state, e.port, e.outputs, e.writes, e.error, e.wake)
    return replay


def test_wait_signal_suspends_and_resumes_with_the_signal_data():
    doc = make({"start": START, "a": log("before"), "v": setvar("x", 7),
                "w": {"type": "core.wait_signal", "params": {"signal": "approve"}},
                "b": log("approved={{ nodes.w.data.ok }} x={{ x }}")},
               chain("start", "a", "v", "w", "b"))
    first, events = run(doc)
    assert first.state == "suspended"
    assert first.wake["signal"] == "approve"
    assert first.wake["seq"] == 4
    assert messages(events) == ["before"]
    assert finished(events, "w")[0].state == "suspended"

    second, events2 = run(doc, replay=_replay_from(events), run_id=first.run_id,
                          resume=ResumeRequest(data={"signal": "approve", "data": {"ok": True}},
                                               seq=first.wake["seq"]))
    assert second.state == "succeeded", second.error
    assert finished(events2, "w")[-1].outputs == {"data": {"ok": True}}
    assert messages(events2) == ["approved=True x=7"]  # 'a' was not run again
    replayed = [e.node for e in finished(events2) if e.replayed]
    assert replayed == ["start", "a", "v"]
    assert events2.of("run_started")[0].resumed is True


def test_resume_with_another_signal_stays_suspended():
    doc = make({"start": START, "w": {"type": "core.wait_signal", "params": {"signal": "approve"}}},
               [("start", "w")])
    first, events = run(doc)
    second, _ = run(doc, replay=_replay_from(events),
                    resume=ResumeRequest(data={"signal": "reject"}, seq=first.wake["seq"]))
    assert second.state == "suspended"
    assert second.wake["signal"] == "approve"


def test_suspend_inside_a_loop_resumes_in_the_right_pass():
    doc = make({"start": START, "loop": for_each(["a", "b"]),
                "w": {"type": "core.wait_signal", "params": {"signal": "go_{{ item }}"}},
                "body": log("{{ item }}: {{ nodes.w.data.n }}"), "after": log("after")},
               [("start", "loop"), ("loop.body", "w"), ("w", "body"), ("loop", "after")])
    first, events = run(doc)
    assert first.state == "suspended" and first.wake["signal"] == "go_a"

    second, events2 = run(doc, replay=_replay_from(events),
                          resume=ResumeRequest(data={"signal": "go_a", "data": {"n": 1}}, seq=first.wake["seq"]))
    assert second.state == "suspended" and second.wake["signal"] == "go_b"
    assert messages(events2) == ["a: 1"]

    third, events3 = run(doc, replay=_replay_from(events, events2),
                         resume=ResumeRequest(data={"signal": "go_b", "data": {"n": 2}}, seq=second.wake["seq"]))
    assert third.state == "succeeded", third.error
    assert messages(events3) == ["b: 2", "after"]  # 'a: 1' was replayed, not logged again


@node("test.charge", side_effects=True, idempotent=False, params=[Param("amount", "integer")])
def charge(ctx, amount):
    ctx.log(f"charged {amount}")


def _in_flight(action):
    doc = make({"start": START, "pay": {"type": "test.charge", "params": {"amount": 5}}, "after": log("after")},
               chain("start", "pay", "after"))
    reg = registry_with(charge)
    # the journal of a run that died while 'pay' (step 2) was running
    replay = {1: StepRecord("start", "succeeded", "out"), 2: StepRecord("pay", "running")}
    resume = ResumeRequest(action=action, seq=2) if action else None
    return run(doc, replay=replay, resume=resume, reg=reg)


def test_a_side_effect_in_flight_needs_attention():
    result, events = _in_flight(None)
    assert result.state == "needs_attention"
    assert result.attention["seq"] == 2 and result.attention["node"] == "pay"
    assert messages(events) == []


@pytest.mark.parametrize("action, expected", [("retry", ["charged 5", "after"]), ("skip", ["after"])])
def test_a_person_decides_to_retry_or_skip(action, expected):
    result, events = _in_flight(action)
    assert result.state == "succeeded", result.error
    assert messages(events) == expected


def test_break_inside_try_inside_a_loop_still_runs_finally():
    doc = make({
        "start": {"type": "core.start"},
        "loop": {"type": "core.for_each", "params": {"items": [1, 2, 3]}},
        "try": {"type": "core.try"},
        "stop": {"type": "core.break"},
        "tidy": {"type": "core.set_variable", "params": {"name": "tidied", "value": "{{ tidied + 1 }}"}},
    }, [("start", "loop"), ("loop.body", "try"), ("try.try", "stop"), ("try.finally", "tidy")],
        variables={"tidied": {"type": "integer", "default": 0}}, outputs={"tidied": "integer"})
    result, _ = run(doc)
    assert result.state == "succeeded" and result.outputs == {"tidied": 1}


def test_break_inside_a_subflow_does_not_steer_the_callers_loop():
    doc = make({
        "start": {"type": "core.start"},
        "loop": {"type": "core.for_each", "params": {"items": [1, 2]}},
        "call": {"type": "core.call_subflow", "params": {"subflow": "inner"}},
    }, [("start", "loop"), ("loop.body", "call")],
        subflows={"inner": {"nodes": {"start": {"type": "core.start"}, "stop": {"type": "core.break"}},
                            "edges": [{"from": "start.out", "to": "stop.in"}]}})
    result, _ = run(doc)
    assert result.state == "failed"
    assert "outside a loop in subflow 'inner'" in result.error["message"]


def test_engine_refuses_a_data_edge_into_an_unknown_parameter():
    from botloom.runner.errors import InvalidBotError

    doc = make({"start": {"type": "core.start"},
                "a": {"type": "core.set_variable", "params": {"name": "x", "value": 1}},
                "b": {"type": "core.log", "params": {"message": "m"}}},
               [("start", "a"), ("a", "b"), {"from": "a.value", "to": "b.mesage"}])
    with pytest.raises(InvalidBotError) as info:
        Engine(doc, registry())
    assert any(p.code == "unknown-param" and p.node == "b" for p in info.value.problems)


def test_a_resumed_retry_scope_does_not_wait_again_for_attempts_that_already_happened():
    """Replay re-runs scope nodes; the backoff of past attempts is not slept again."""
    nodes = {
        "start": {"type": "core.start"},
        "again": {"type": "core.retry", "params": {"attempts": 3, "delay": 0.05, "backoff": 1}},
        "count": {"type": "core.set_variable", "params": {"name": "tries", "value": "{{ tries + 1 }}"}},
        "check": {"type": "core.if", "params": {"condition": "tries < 3"}},
        "boom": {"type": "core.fail", "params": {"message": "not yet"}},
        "wait": {"type": "core.wait_signal", "params": {"signal": "go"}},
    }
    doc = make(nodes, [("start", "again"), ("again.body", "count"), ("count", "check"), ("check.true", "boom"),
                       ("again", "wait")], variables={"tries": {"type": "integer", "default": 0}})

    def engine_recording_waits(**kw):
        engine = Engine(doc, registry(), listeners=[log], **kw)
        waits, real_wait = [], engine._cancel.wait
        engine._cancel.wait = lambda timeout=None: waits.append(timeout) or real_wait(timeout)
        return engine, waits

    log = EventLog()
    engine, first_waits = engine_recording_waits()
    first = engine.run()
    assert first.state == "suspended" and first_waits == [0.05, 0.05]  # two failed attempts, two backoffs
    replay = {e.seq: StepRecord(e.node, e.state, e.port, e.outputs, e.writes, e.error, e.wake)
              for e in log.of("node_finished")}
    engine, second_waits = engine_recording_waits(replay=replay,
                                                  resume=ResumeRequest(data={"signal": "go"}, seq=first.wake["seq"]))
    assert engine.run().state == "succeeded"
    assert second_waits == []  # the attempts replayed without sleeping again


def test_a_failing_critical_listener_stops_the_run_and_is_not_a_node_error():
    """An error edge handles the node's failures, never a broken journal."""
    from botloom.runner.engine.signals import ListenerFailed

    class Broken:
        critical = True

        def handle(self, event):
            if event.kind == "node_started" and event.node == "risky":
                raise OSError("disk full")

    doc = make({"start": {"type": "core.start"},
                "risky": {"type": "core.log", "params": {"message": "x"}},
                "handler": {"type": "core.log", "params": {"message": "handled"}}},
               [("start", "risky"), ("risky.error", "handler")])
    with pytest.raises(ListenerFailed) as info:
        Engine(doc, registry(), listeners=[Broken()]).run()
    assert isinstance(info.value.error, OSError)


def test_each_run_starts_from_fresh_copies_of_the_defaults():
    @node("test.push", params=[Param("value", "any")])
    def push(ctx, value):
        ctx.var("seen").append(value)  # a careless node changing a list in place

    doc = make({"start": {"type": "core.start"}, "p": {"type": "test.push", "params": {"value": 1}}},
               [("start", "p")], variables={"seen": {"type": "list", "default": []}},
               inputs={"extra": {"type": "list", "default": []}}, outputs={"seen": "list"})
    reg = registry_with(push)
    first, _ = run(doc, reg=reg)
    second, _ = run(doc, reg=reg)
    assert first.outputs == second.outputs == {"seen": [1]}
    assert doc.main.variables["seen"].default == [] and doc.main.inputs["extra"].default == []


def _write(path, nodes, edges, **top):
    import json as _json

    from bots import bot_json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_json.dumps(bot_json(nodes, edges, **top)))
    return path


def test_call_bot_runs_another_file_with_its_own_folder_and_subflows(tmp_path):
    from botloom.runner.botfile import load

    _write(tmp_path / "lib" / "greet.bot.json", {
        "start": START,
        "sub": {"type": "core.call_subflow", "params": {"subflow": "shout", "inputs": {"text": "{{ who }}"}}},
        "save": {"type": "files.write_text", "params": {"path": "greeting.txt", "text": "{{ nodes.sub.outputs.loud }}"}},
        "set": {"type": "core.set_variable", "params": {"name": "greeting", "value": "hello {{ nodes.sub.outputs.loud }}"}},
    }, chain("start", "sub", "save", "set"), inputs={"who": "string"}, outputs={"greeting": "string"},
        subflows={"shout": {"inputs": {"text": {"type": "string"}}, "outputs": {"loud": {"type": "string"}},
                            "nodes": {"start": START, "up": {"type": "core.set_variable",
                                                            "params": {"name": "loud", "value": "{{ text | upper }}"}}},
                            "edges": [{"from": "start.out", "to": "up.in"}]}})
    main = _write(tmp_path / "main.bot.json", {
        "start": START,
        "call": {"type": "core.call_bot", "params": {"bot": "lib/greet.bot.json", "inputs": {"who": "ann"}}},
        "keep": {"type": "core.set_variable", "params": {"name": "said", "value": "{{ nodes.call.outputs.greeting }}"}},
    }, chain("start", "call", "keep"), outputs={"said": "string"})
    result, log = run(load(main))
    assert result.state == "succeeded", result.error
    assert result.outputs == {"said": "hello ANN"}
    assert (tmp_path / "lib" / "greeting.txt").read_text().strip() == "ANN"  # relative to the called bot
    assert {e.node for e in log.of("node_finished")} >= {"call", "sub", "up", "save"}


def test_call_bot_errors_name_the_file_and_its_problems(tmp_path):
    from botloom.runner.botfile import load

    _write(tmp_path / "broken.bot.json", {"start": START, "x": {"type": "core.lgo"}}, chain("start", "x"))
    main = _write(tmp_path / "main.bot.json", {
        "start": START,
        "missing": {"type": "core.call_bot", "params": {"bot": "nope.bot.json"}},
    }, chain("start", "missing"))
    result, _ = run(load(main))
    assert result.state == "failed" and result.error["kind"] == "bad_input"
    assert "file not found" in result.error["message"] and "nope.bot.json" in str(result.error)
    main = _write(tmp_path / "main2.bot.json", {
        "start": START, "bad": {"type": "core.call_bot", "params": {"bot": "broken.bot.json"}}}, chain("start", "bad"))
    result, _ = run(load(main))
    assert result.state == "failed" and "unknown node type 'core.lgo'" in result.error["message"]
    assert "botloom validate" in result.error["fix"]


def test_a_bot_calling_itself_hits_the_depth_guard(tmp_path):
    from botloom.runner.botfile import load

    me = _write(tmp_path / "me.bot.json", {
        "start": START, "again": {"type": "core.call_bot", "params": {"bot": "me.bot.json"}}}, chain("start", "again"))
    result, _ = run(load(me))
    assert result.state == "failed" and "levels deep" in result.error["message"]
