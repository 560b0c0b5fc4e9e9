"""Validation (one test per problem code) and the graph edit API."""

from __future__ import annotations

import pytest
from bots import make, registry, registry_with

from botloom.runner import botfile
from botloom.runner.botfile import Edge
from botloom.runner.graph import Bot, EditError
from botloom.runner.problems import Problem
from botloom.runner.sdk import Param, node
from botloom.runner.validate import validate_doc

START = {"type": "core.start"}


def log(message="hello", **extra):
    return {"type": "core.log", "params": {"message": message}, **extra}


def for_each(items=(1, 2), **extra):
    return {"type": "core.for_each", "params": {"items": list(items)}, **extra}


def problems(doc, reg=None):
    found = validate_doc(doc, reg or registry())
    assert all(isinstance(p, Problem) for p in found)
    return found


def only(doc, code, reg=None) -> Problem:
    """The one problem of the bot, which must have this code."""
    found = problems(doc, reg)
    assert [p.code for p in found] == [code], [str(p) for p in found]
    return found[0]


def codes(doc, reg=None):
    return [p.code for p in problems(doc, reg)]


# ---------------------------------------------------------------- clean

def test_a_clean_bot_has_no_problems():
    doc = make({"start": START, "loop": for_each(), "body": log("{{ item }}"), "after": log("done"),
                "w": {"type": "core.while", "params": {"condition": "false"}}, "inner": log("never")},
               [("start", "loop"), ("loop.body", "body"), ("body", "loop"), ("loop", "after"), ("after", "w"),
                ("w.body", "inner")],
               variables={"n": {"type": "integer", "default": 1}}, inputs={"tags": {"type": "list", "default": []}})
    assert problems(doc) == []


# ---------------------------------------------------------------- node types and parameters

def test_unknown_node_type_suggests_a_name():
    p = only(make({"start": START, "a": {"type": "core.lgo"}}, [("start", "a")]), "unknown-node-type")
    assert p.node == "a" and p.severity == "error"
    assert "unknown node type 'core.lgo'" in p.message and "did you mean 'core.log'" in p.message
    assert p.fix


def test_unknown_param_suggests_a_name():
    doc = make({"start": START, "a": {"type": "core.log", "params": {"message": "x", "levle": "info"}}},
               [("start", "a")])
    p = only(doc, "unknown-param")
    assert (p.node, p.param) == ("a", "levle")
    assert "did you mean 'level'" in p.message
    assert "message, level" in p.fix


def test_missing_param():
    p = only(make({"start": START, "a": {"type": "core.log"}}, [("start", "a")]), "missing-param")
    assert (p.node, p.param) == ("a", "message")
    assert "required" in p.message


def test_a_data_edge_supplies_a_required_param():
    doc = make({"start": START, "v": {"type": "core.set_variable", "params": {"name": "v", "value": "x"}},
                "a": {"type": "core.log"}},
               [("start", "v"), ("v", "a"), {"from": "v.value", "to": "a.message"}])
    assert problems(doc) == []


@pytest.mark.parametrize("params, param, says", [
    ({"message": "x", "level": "loud"}, "level", "'loud' is not one of: debug, info, warning, error"),
    ({"message": ["a", "list"]}, "message", "expected text"),
])
def test_invalid_param(params, param, says):
    p = only(make({"start": START, "a": {"type": "core.log", "params": params}}, [("start", "a")]), "invalid-param")
    assert (p.node, p.param) == ("a", param)
    assert says in p.message


def test_invalid_param_wrong_type_and_range():
    doc = make({"start": START, "d": {"type": "core.delay", "params": {"seconds": "soon"}},
                "w": {"type": "core.while", "params": {"condition": "true", "max_iterations": 0}}},
               [("start", "d"), ("d", "w")])
    found = problems(doc)
    assert [(p.code, p.node, p.param) for p in found] == [("invalid-param", "d", "seconds"),
                                                          ("invalid-param", "w", "max_iterations")]
    assert "expected a number" in found[0].message
    assert "below the minimum" in found[1].message


def test_bad_expression():
    p = only(make({"start": START, "a": log("total {{ 1 + }}")}, [("start", "a")]), "bad-expression")
    assert (p.node, p.param) == ("a", "message")
    assert "syntax error" in p.message


def test_bad_bare_condition():
    p = only(make({"start": START, "c": {"type": "core.if", "params": {"condition": "total >"}}}, [("start", "c")]),
             "bad-expression")
    assert p.param == "condition"


def test_hidden_required_param_is_not_missing():
    @node("demo.fetch", params=[Param("mode", choices=("file", "web"), default="file"),
                                Param("url", required=True, show_if={"mode": "web"})])
    def fetch(ctx, mode, url):
        pass

    reg = registry_with(fetch)
    doc = make({"start": START, "f": {"type": "demo.fetch", "params": {"mode": "file"}}}, [("start", "f")])
    assert problems(doc, reg) == []
    doc = make({"start": START, "f": {"type": "demo.fetch", "params": {"mode": "web"}}}, [("start", "f")])
    assert only(doc, "missing-param", reg).param == "url"


# ---------------------------------------------------------------- start nodes and edges

def test_no_start():
    p = only(make({"a": log()}), "no-start")
    assert p.node is None and p.flow == "main"
    assert "core.start" in p.fix


def test_many_starts():
    found = problems(make({"start": START, "again": START, "a": log()}, [("start", "a")]))
    assert "many-starts" in [f.code for f in found]
    p = next(f for f in found if f.code == "many-starts")
    assert "2 start nodes" in p.message and "again" in p.message and "start" in p.message


def test_dangling_edge_suggests_the_node():
    p = only(make({"start": START, "log": log()}, [("start", "log"), ("log", "lgo")]), "dangling-edge")
    assert "node 'lgo', which does not exist" in p.message
    assert "did you mean 'log'" in p.message
    assert p.edge == "log.out -> lgo.in"
    assert p.pointer == "/edges"


def test_unknown_control_port_suggests_a_port():
    p = only(make({"start": START, "c": {"type": "core.if", "params": {"condition": "true"}}, "a": log()},
                  [("start", "c"), ("c.ture", "a")]), "unknown-port")
    assert p.node == "c" and p.edge == "c.ture -> a.in"
    assert "no control port 'ture'" in p.message and "did you mean 'true'" in p.message
    assert "true, false, error" in p.fix


def test_unknown_data_output_suggests_an_output():
    doc = make({"start": START, "loop": for_each(), "a": log()},
               [("start", "loop"), ("loop", "a"), {"from": "loop.cuont", "to": "a.message"}])
    p = only(doc, "unknown-port")
    assert "no data output 'cuont'" in p.message and "did you mean 'count'" in p.message


def test_data_edge_into_an_unknown_param():
    doc = make({"start": START, "loop": for_each(), "a": log()},
               [("start", "loop"), ("loop", "a"), {"from": "loop.count", "to": "a.mesage"}])
    p = only(doc, "unknown-param")
    assert "did you mean 'message'" in p.message


def test_no_input_into_start():
    doc = make({"start": START, "a": log(), "b": log()}, [("start", "a"), ("b", "start")])
    found = problems(doc)
    assert "no-input" in [p.code for p in found]
    p = next(p for p in found if p.code == "no-input")
    assert p.node == "start" and p.edge == "b.out -> start.in"
    assert "cannot be entered" in p.message


@pytest.mark.parametrize("source, target", [
    ("loop.count", "items_loop.items"),     # integer -> list
    ("w.data", "guard.max_iterations"),     # object -> integer
])
def test_type_mismatch(source, target):
    doc = make({"start": START, "loop": for_each(), "w": {"type": "core.wait_signal", "params": {"signal": "go"}},
                "items_loop": {"type": "core.for_each", "params": {} if target.startswith("items_loop") else {"items": [1]}},
                "guard": {"type": "core.while", "params": {"condition": "false"}}},
               [("start", "loop"), ("loop", "w"), ("w", "items_loop"), ("items_loop", "guard"),
                {"from": source, "to": target}])
    p = only(doc, "type-mismatch")
    assert p.node == target.split(".")[0] and p.param == target.split(".")[1]
    assert p.edge == f"{source} -> {target}"
    assert source in p.message


def test_compatible_data_edges_are_accepted():
    # integer -> number widens; any -> anything
    doc = make({"start": START, "loop": for_each(), "d": {"type": "core.delay"},
                "v": {"type": "core.set_variable", "params": {"name": "x", "value": 1}}, "a": {"type": "core.log"}},
               [("start", "loop"), ("loop", "d"), ("d", "v"), ("v", "a"),
                {"from": "loop.count", "to": "d.seconds"}, {"from": "v.value", "to": "a.message"}])
    assert problems(doc) == []


def test_fed_twice_is_a_warning():
    doc = make({"start": START, "v": {"type": "core.set_variable", "params": {"name": "x", "value": 1}},
                "a": log("literal")},
               [("start", "v"), ("v", "a"), {"from": "v.value", "to": "a.message"}])
    p = only(doc, "fed-twice")
    assert p.severity == "warning" and p.param == "message"


def test_fan_out():
    p = only(make({"start": START, "a": log(), "b": log()}, [("start", "a"), ("start", "b")]), "fan-out")
    assert p.node == "start"
    assert "leads to 2 nodes (a, b)" in p.message


# ---------------------------------------------------------------- structure

def test_unreachable_is_a_warning():
    p = only(make({"start": START, "a": log(), "island": log()}, [("start", "a")]), "unreachable")
    assert p.node == "island" and p.severity == "warning"


def test_cycle_without_a_loop_node():
    p = only(make({"start": START, "a": log(), "b": log()}, [("start", "a"), ("a", "b"), ("b", "a")]), "cycle")
    assert p.severity == "error"
    assert "a -> b -> a" in p.message
    assert "core.while" in p.fix


def test_self_loop_is_a_cycle():
    p = only(make({"start": START, "a": {"type": "core.if", "params": {"condition": "true"}}},
                  [("start", "a"), ("a.true", "a")]), "cycle")
    assert p.node == "a"


@pytest.mark.parametrize("loop", [for_each(), {"type": "core.while", "params": {"condition": "i < 3"}}])
def test_a_loop_body_returning_to_its_loop_is_not_a_cycle(loop):
    doc = make({"start": START, "loop": loop, "a": log(), "b": log(), "after": log()},
               [("start", "loop"), ("loop.body", "a"), ("a", "b"), ("b", "loop"), ("loop", "after")])
    assert problems(doc) == []


def test_nested_loops_returning_to_their_loops_are_not_cycles():
    doc = make({"start": START, "outer": for_each(), "inner": for_each(), "a": log(), "b": log()},
               [("start", "outer"), ("outer.body", "inner"), ("inner.body", "a"), ("a", "inner"),
                ("inner", "b"), ("b", "outer")])
    assert problems(doc) == []


def test_a_scope_that_is_not_a_loop_cannot_be_reentered():
    doc = make({"start": START, "t": {"type": "core.try"}, "a": log()},
               [("start", "t"), ("t.try", "a"), ("a", "t")])
    assert "cycle" in codes(doc)


def test_body_leak():
    doc = make({"start": START, "loop": for_each(), "a": log(), "shared": log()},
               [("start", "loop"), ("loop.body", "a"), ("a", "shared"), ("loop", "shared")])
    p = only(doc, "body-leak")
    assert p.node == "loop"
    assert "runs into 'shared'" in p.message


def test_data_order_is_a_warning():
    doc = make({"start": START, "a": {"type": "core.set_variable", "params": {"name": "a"}},
                "b": {"type": "core.set_variable", "params": {"name": "b", "value": 1}}},
               [("start", "a"), ("a", "b"), {"from": "b.value", "to": "a.value"}])
    p = only(doc, "data-order")
    assert p.severity == "warning"
    assert (p.node, p.param) == ("a", "value")
    assert "'b', which does not run before" in p.message


# ---------------------------------------------------------------- special parameters and settings

def _caller(subflow):
    return make({"start": START, "c": {"type": "core.call_subflow", "params": {"subflow": subflow}}},
                [("start", "c")], subflows={"double": {"nodes": {"start": START}}})


def test_unknown_subflow_suggests_a_name():
    p = only(_caller("doubel"), "unknown-subflow")
    assert (p.node, p.param) == ("c", "subflow")
    assert "no subflow 'doubel'" in p.message and "did you mean 'double'" in p.message
    assert problems(_caller("double")) == []
    assert problems(_caller("{{ 'dou' ~ 'ble' }}")) == []  # an expression is checked when it runs


def test_dynamic_ports():
    doc = make({"start": START, "sw": {"type": "core.switch", "params": {"value": 1, "cases": "{{ [1, 2] }}"}}},
               [("start", "sw")])
    p = only(doc, "dynamic-ports")
    assert (p.node, p.param) == ("sw", "cases")


def test_switch_case_ports_are_known():
    doc = make({"start": START, "sw": {"type": "core.switch", "params": {"value": 1, "cases": ["a", 2]}},
                "a": log(), "two": log(), "other": log()},
               [("start", "sw"), ("sw.a", "a"), ("sw.2", "two"), ("sw.default", "other")])
    assert problems(doc) == []
    doc = make({"start": START, "sw": {"type": "core.switch", "params": {"value": 1, "cases": ["a"]}}, "b": log()},
               [("start", "sw"), ("sw.b", "b")])
    assert only(doc, "unknown-port").message.startswith("'core.switch' has no control port 'b'")


def test_timeout_on_scope():
    doc = make({"start": START, "loop": for_each(settings={"timeout": 5}), "a": log(settings={"timeout": 5})},
               [("start", "loop"), ("loop.body", "a")])
    p = only(doc, "timeout-on-scope")
    assert p.node == "loop"


@node("demo.login", params=[Param("user", required=True), Param("password", "secret", required=True)])
def login(ctx, user, password):
    pass


def test_undeclared_secret_is_a_warning():
    reg = registry_with(login)
    nodes = {"start": START, "login": {"type": "demo.login", "params": {"user": "ann", "password": "crm_pw"}}}
    p = only(make(nodes, [("start", "login")]), "undeclared-secret", reg)
    assert p.severity == "warning" and (p.node, p.param) == ("login", "password")
    assert "'crm_pw'" in p.message and '"crm_pw"' in p.fix
    assert problems(make(nodes, [("start", "login")], secrets={"crm_pw": "the CRM password"}), reg) == []


def test_secret_param_must_be_a_name():
    doc = make({"start": START, "login": {"type": "demo.login", "params": {"user": "ann", "password": 1234}}},
               [("start", "login")], secrets={"crm_pw": "x"})
    p = only(doc, "invalid-param", registry_with(login))
    assert p.param == "password" and "secret's name" in p.message


def test_bad_default():
    doc = make({"start": START}, variables={"n": {"type": "integer", "default": "many"}},
               inputs={"tags": {"type": "list", "default": "a,b"}, "ok": {"type": "integer", "default": None}})
    found = problems(doc)
    assert [p.code for p in found] == ["bad-default", "bad-default"]
    text = " ".join(p.message for p in found)
    assert "variable 'n'" in text and "input 'tags'" in text


def test_problems_in_subflows_name_the_subflow():
    doc = make({"start": START, "c": {"type": "core.call_subflow", "params": {"subflow": "sub"}}}, [("start", "c")],
               subflows={"sub": {"nodes": {"start": START, "x": {"type": "core.log", "params": {"levl": "info"}}},
                                 "edges": [("start", "x")]}})
    found = problems(doc)
    assert {p.flow for p in found} == {"sub"}
    p = next(p for p in found if p.code == "unknown-param")
    assert p.pointer == "/subflows/sub/nodes/x/params/levl"
    assert str(p).startswith("error: subflow 'sub', node 'x', parameter 'levl': ")


def test_errors_come_before_warnings():
    doc = make({"start": START, "a": {"type": "core.lgo"}, "island": log()}, [("start", "a")])
    assert [(p.code, p.severity) for p in problems(doc)] == [("unknown-node-type", "error"),
                                                             ("unreachable", "warning")]


# ---------------------------------------------------------------- Problem

def test_problem_pointer_and_text():
    p = Problem("invalid-param", "bad value", node="a", param="level", fix="use info")
    assert p.pointer == "/nodes/a/params/level"
    assert str(p) == "error: node 'a', parameter 'level': bad value -- fix: use info"
    assert p.to_dict() == {"code": "invalid-param", "message": "bad value", "flow": "main", "node": "a",
                           "param": "level", "severity": "error", "fix": "use info",
                           "pointer": "/nodes/a/params/level"}
    q = Problem("unreachable", "never runs", flow="sub", node="b", severity="warning")
    assert q.pointer == "/subflows/sub/nodes/b"
    assert str(q) == "warning: subflow 'sub', node 'b': never runs"
    e = Problem("dangling-edge", "gone", edge="a.out -> b.in")
    assert e.pointer == "/edges" and "edge a.out -> b.in" in str(e)
    assert Problem("no-start", "none").pointer == "/"
    assert str(Problem("no-start", "none")) == "error: bot: none"


# ---------------------------------------------------------------- graph edit API

def _edited_bot():
    bot = Bot.new("demo")
    first = bot.main.add_node("core.log", params={"message": "one"}, position=(100, 0))
    second = bot.main.add_node("core.log", params={"message": "two"}, position=(200, 0))
    bot.main.connect("start", "out", first)
    bot.main.connect(first, "out", second)
    return bot, first, second


def test_add_node_ids_are_readable_and_unique():
    bot, first, second = _edited_bot()
    assert (first, second) == ("log", "log_2")
    assert bot.main.add_node("core.log") == "log_3"
    assert bot.main.add_node("core.for_each") == "for_each"
    assert bot.main.add_node("core.log", node_id="greeting") == "greeting"
    with pytest.raises(EditError, match="already exists"):
        bot.main.add_node("core.log", node_id="log")
    with pytest.raises(EditError, match="not a valid node id"):
        bot.main.add_node("core.log", node_id="9 lives")
    assert bot.main.node_ids() == ["for_each", "greeting", "log", "log_2", "log_3", "start"]


def test_an_edited_bot_validates_and_runs_in_order():
    bot, _, _ = _edited_bot()
    assert bot.validate(registry()) == []
    assert bot.main.edges() == [Edge("log", "out", "log_2", "in"), Edge("start", "out", "log", "in")]


def test_connect_and_disconnect():
    bot, first, second = _edited_bot()
    with pytest.raises(EditError, match="already connected"):
        bot.main.connect(first, "out", second)
    with pytest.raises(EditError, match="no node 'ghost'"):
        bot.main.connect(first, "out", "ghost")
    data = bot.main.connect("start", "out", second, "message")
    assert data == Edge("start", "out", "log_2", "message")
    edge = Edge(first, "out", second, "in")
    bot.main.disconnect(edge)
    assert edge not in bot.main.edges()
    with pytest.raises(EditError, match="no edge"):
        bot.main.disconnect(edge)
    assert "unreachable" in [p.code for p in bot.validate(registry())]


def test_remove_node_returns_what_restores_it():
    bot, first, second = _edited_bot()
    before = botfile.dumps(bot.to_doc())
    spec, pos, removed = bot.main.remove_node(first)
    assert first not in bot.main
    assert spec.params == {"message": "one"} and pos == (100, 0)
    assert sorted(removed) == [Edge(first, "out", second, "in"), Edge("start", "out", first, "in")]
    assert all(first not in (e.source, e.target) for e in bot.main.edges())
    bot.main.insert_node(spec, pos)
    for e in removed:
        bot.main.connect(e.source, e.source_port, e.target, e.target_port)
    assert botfile.dumps(bot.to_doc()) == before
    with pytest.raises(EditError):
        bot.main.remove_node("ghost")


def test_move_changes_only_the_position():
    bot, first, _ = _edited_bot()
    before = bot.to_doc()
    assert bot.main.move(first, 5.5, -3) == (100, 0)
    after = bot.to_doc()
    assert after.main.positions[first] == (5.5, -3)
    assert {k: v for k, v in after.main.positions.items() if k != first} == \
        {k: v for k, v in before.main.positions.items() if k != first}
    assert after.main.logic_json() == before.main.logic_json()


def test_set_param_and_setting_return_the_old_value():
    bot, first, _ = _edited_bot()
    assert bot.main.set_param(first, "message", "uno") == "one"
    assert bot.main.set_param(first, "level", "warning") is None
    assert bot.main.set_param(first, "level", None) == "warning"
    assert bot.main.node(first).params == {"message": "uno"}
    assert bot.main.set_setting(first, "timeout", 3) is None
    assert bot.main.node(first).settings == {"timeout": 3}


def test_to_doc_round_trips_through_the_file_format():
    bot, first, _ = _edited_bot()
    sub = bot.add_subflow("helper")
    sub.add_node("core.log", params={"message": "in helper"}, position=(10, 20))
    sub.connect("start", "out", "log")
    bot.main.set_setting(first, "retry", {"attempts": 2, "delay": 0})
    bot.settings["desktop"] = {"pace": 0.1}
    doc = bot.to_doc()
    text = botfile.dumps(doc)
    again = botfile.loads(text)
    assert again.main == doc.main
    assert again.subflows == doc.subflows
    assert (again.name, again.secrets, again.settings) == (doc.name, doc.secrets, {"desktop": {"pace": 0.1}})
    assert Bot(again).to_doc().settings == {"desktop": {"pace": 0.1}}
    assert botfile.dumps(again) == text
    assert Bot(again).validate(registry()) == []
    with pytest.raises(EditError, match="already exists"):
        bot.add_subflow("helper")


def test_a_called_bot_file_that_does_not_exist_is_a_warning(tmp_path):
    import json as _json

    from botloom.runner.botfile import load

    path = tmp_path / "caller.bot.json"
    path.write_text(_json.dumps({"format": 1, "name": "caller", "nodes": {
        "start": {"type": "core.start"},
        "call": {"type": "core.call_bot", "params": {"bot": "lib/gone.bot.json"}}},
        "edges": [{"from": "start.out", "to": "call.in"}]}))
    problems = validate_doc(load(path), registry())
    [missing] = [p for p in problems if p.code == "missing-bot"]
    assert missing.severity == "warning" and missing.node == "call" and "gone.bot.json" in missing.message
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "gone.bot.json").write_text("{}")
    assert not [p for p in validate_doc(load(path), registry()) if p.code == "missing-bot"]
