"""Loadable but nonsensical bots: validation and the CLI give problems, never a traceback."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botloom.runner.botfile import loads
from botloom.runner.engine import Engine
from botloom.runner.errors import InvalidBotError
from botloom.runner.sdk.registry import Registry
from botloom.runner.validate import validate_doc

REGISTRY = Registry.discover()
TYPES = sorted(t.id for t in REGISTRY.latest() if t.pack == "core") + ["core.nope"]
PARAM_NAMES = sorted({p.name for t in REGISTRY.latest() for p in t.params}) + ["zzz"]
PORTS = ["out", "in", "true", "false", "body", "try", "catch", "finally", "error", "default", "rows", "value",
         "count", "items", "message", "x"]

values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "x", "{{ 1 + }}", "{{ nodes.a.rows }}", "{{ item }}", "GET", "info", "a.csv",
                       "{{ range(3) | list }}", "total > 1", "[1, 2]"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(PARAM_NAMES), inner, max_size=3),
    max_leaves=6)

node_ids = st.sampled_from(["start", "a", "b", "c", "d"])


@st.composite
def bots(draw):
    ids = draw(st.lists(node_ids, min_size=1, max_size=5, unique=True))
    nodes = {}
    for nid in ids:
        node_type = "core.start" if nid == "start" and draw(st.booleans()) else draw(st.sampled_from(TYPES))
        params = draw(st.dictionaries(st.sampled_from(PARAM_NAMES), values, max_size=3))
        block = {"type": node_type, "params": params}
        if draw(st.booleans()):
            block["settings"] = draw(st.sampled_from([{"timeout": 1}, {"retry": {"attempts": 2, "delay": 0}},
                                                      {"on_error": "continue"}]))
        nodes[nid] = block
    edges = draw(st.lists(st.builds(lambda a, p, b, q: {"from": f"{a}.{p}", "to": f"{b}.{q}"},
                                    st.sampled_from(ids + ["ghost"]), st.sampled_from(PORTS),
                                    st.sampled_from(ids), st.sampled_from(PORTS + ["in", "in", "in"])),
                          max_size=6, unique_by=lambda e: (e["from"], e["to"])))
    return {"format": 1, "name": "fuzz", "nodes": nodes, "edges": edges,
            "variables": {"total": {"type": "integer", "default": 0}}}


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bots())
def test_validation_and_compilation_never_crash(data):
    doc = loads(json.dumps(data))
    problems = validate_doc(doc, REGISTRY)
    for p in problems:
        assert p.severity in ("error", "warning") and p.message and str(p)
    try:
        Engine(doc, REGISTRY)
    except InvalidBotError as exc:
        assert exc.problems or "start" in str(exc)


text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
exprs = st.sampled_from(["{{ x }}", "{{ x + 1 }}", "{{ x ~ 'a' }}", "{{ nodes.a.value }}", "{{ missing }}",
                         "{{ [1, 2] }}", "{{ {'k': x} }}", "{{ x / 0 }}", "{{ x | int }}", "{{ 'a' * 3 }}"])
loose = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(-1e9, 1e9), text, exprs,
                  st.lists(st.integers(0, 3), max_size=3))


def step(draw, nid):
    """One node of a valid type with values that may still fail at run time."""
    kind = draw(st.sampled_from(["set", "log", "if", "regex", "date", "template", "fail", "each"]))
    if kind == "set":
        return {"type": "core.set_variable", "params": {"name": draw(st.sampled_from(["x", "y"])), "value": draw(loose)}}
    if kind == "log":
        return {"type": "core.log", "params": {"message": draw(st.one_of(text, exprs)) or "m"}}
    if kind == "if":
        return {"type": "core.if", "params": {"condition": draw(st.sampled_from(
            ["x > 1", "x", "missing", "x ==", "{{ x }}", "true", "nodes.a.value > 0"]))}}
    if kind == "regex":
        return {"type": "text.regex_extract", "params": {"pattern": draw(st.sampled_from(
            ["(\\d+)", "[", "(?P<n>a)", "a{2,1}", ".*"])), "text": draw(st.one_of(text, exprs))}}
    if kind == "date":
        return {"type": "text.date_parse", "params": {"text": draw(st.one_of(text, st.sampled_from(
            ["25/12/2018", "2018-12-25", "31/02/2020", "12-01-19", "{{ x }}"])))}}
    if kind == "template":
        return {"type": "text.template", "params": {"template": draw(st.one_of(text, exprs)) or "t"}}
    if kind == "fail":
        return {"type": "core.fail", "params": {"message": draw(text) or "stop"}}
    return {"type": "core.for_each", "params": {"items": draw(st.one_of(exprs, st.lists(st.integers(), max_size=3)))}}


@st.composite
def valid_bots(draw):
    count = draw(st.integers(1, 5))
    ids = [f"n{i}" for i in range(count)]
    nodes = {"start": {"type": "core.start"}}
    nodes.update({nid: step(draw, nid) for nid in ids})
    if draw(st.booleans()):
        nodes["a"] = {"type": "core.set_variable", "params": {"name": "z", "value": draw(loose)}}
        ids.insert(0, "a")
    order = ["start"] + ids
    edges = []
    for before, after in zip(order, order[1:]):
        port = {"core.if": "true", "core.for_each": "out"}.get(nodes[before]["type"], "out")
        if nodes[before]["type"] == "core.fail":
            break
        edges.append({"from": f"{before}.{port}", "to": f"{after}.in"})
    reached = {"start"} | {e["to"].split(".")[0] for e in edges}
    nodes = {k: v for k, v in nodes.items() if k in reached}
    return {"format": 1, "name": "fuzz-run", "nodes": nodes, "edges": edges,
            "variables": {"x": {"type": "any", "default": 2}}}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_bots())
def test_valid_bots_with_hostile_values_run_to_a_clear_outcome(data):
    """A bot that validates runs to a state; its failures are data (message, kind, where)."""
    doc = loads(json.dumps(data))
    errors = [p for p in validate_doc(doc, REGISTRY) if p.severity == "error"]
    if errors:  # some values are refused up front (an invalid literal): that is a clear outcome too
        assert all(p.message for p in errors)
        return
    result = Engine(doc, REGISTRY).run()
    assert result.state in ("succeeded", "failed")
    if result.state == "failed":
        error = result.error
        assert error["message"] and error["kind"] and error["where"]
        assert error["kind"] != "error", error  # "error" wraps an unexpected exception: a bug, not a user's mistake


# ---------------------------------------------------------------- hostile sizes

BOUND = 5.0  # seconds: a hostile file gets its answer within this


def _timed_problems(data):
    import time

    doc = loads(json.dumps(data))
    started = time.perf_counter()
    problems = validate_doc(doc, REGISTRY)
    return problems, time.perf_counter() - started


def test_a_value_with_100000_expressions_is_refused_quickly():
    """A 700 KB file with 100,000 {{ x }} in one value took 50 s to validate (Jinja compiling them all)."""
    data = {"format": 1, "name": "many", "variables": {"x": {"type": "any", "default": 1}},
            "nodes": {"start": {"type": "core.start"}, "log": {"type": "core.log", "params": {"message": "{{ x }}" * 100_000}}},
            "edges": [{"from": "start.out", "to": "log.in"}]}
    problems, took = _timed_problems(data)
    assert took < BOUND
    [problem] = [p for p in problems if p.severity == "error"]
    assert (problem.node, problem.param) == ("log", "message")
    assert "holds 100000 expressions" in problem.message and "MAX_EXPRESSIONS" in problem.message
    assert len(str(problem)) < 600


def test_a_value_with_1000_expressions_still_validates():
    data = {"format": 1, "name": "many", "variables": {"x": {"type": "any", "default": 1}},
            "nodes": {"start": {"type": "core.start"}, "log": {"type": "core.log", "params": {"message": "{{ x }} " * 1000}}},
            "edges": [{"from": "start.out", "to": "log.in"}]}
    problems, _ = _timed_problems(data)
    assert [p for p in problems if p.severity == "error"] == []


def test_a_huge_parameter_name_or_node_type_is_quoted_short_and_answered_quickly():
    huge = "p" * 5_000_000
    data = {"format": 1, "name": "huge",
            "nodes": {"start": {"type": "core.start"}, "log": {"type": "core.log", "params": {"message": "m", huge: 1}},
                      "odd": {"type": huge}},
            "edges": [{"from": "start.out", "to": "log.in"}, {"from": "log.out", "to": "odd.in"}]}
    problems, took = _timed_problems(data)
    assert took < BOUND
    messages = {p.code: str(p) for p in problems}
    assert "(5000000 characters)" in messages["unknown-param"] and "(5000000 characters)" in messages["unknown-node-type"]
    assert all(len(text) < 600 for text in messages.values()), messages


def test_a_problem_names_a_huge_parameter_or_edge_by_a_short_quote():
    from botloom.runner.problems import Problem

    edge = "start.out -> log." + "p" * 1_000_000
    assert str(Problem("x", "m", node="log", edge=edge)) == (
        f"error: node 'log', edge {edge[:60]!r}... ({len(edge)} characters): m")
    assert "parameter 'pppp" in str(Problem("x", "m", node="log", param="p" * 1000))
    assert len(str(Problem("x", "m", node="log", param="p" * 1000))) < 200
    assert str(Problem("x", "m", node="log", param="text", edge="a.out -> log.text")) == (
        "error: node 'log', parameter 'text', edge a.out -> log.text: m")


def test_an_edge_with_a_huge_port_or_node_is_quoted_short():
    huge = "p" * 2_000_000
    nodes = {"start": {"type": "core.start"}, "log": {"type": "core.log", "params": {"message": "m"}}}
    for edge in ({"from": "start.out", "to": "log." + huge}, {"from": "start." + huge, "to": "log.in"},
                 {"from": "log." + huge, "to": "log.message"}, {"from": "log.out", "to": "g" + huge + ".in"}):
        data = {"format": 1, "name": "huge", "nodes": nodes, "edges": [{"from": "start.out", "to": "log.in"}, edge]}
        problems, took = _timed_problems(data)
        assert took < BOUND
        [problem] = [p for p in problems if p.severity == "error"]
        assert problem.edge and "(2000" in problem.message and len(str(problem)) < 600, str(problem)[:300]
