"""The node SDK: parameters, the node decorator, node descriptions and the registry."""

from __future__ import annotations

import json

import pytest
from bots import make, registry, registry_with, run

from botloom.runner.errors import MissingDependencyError
from botloom.runner.sdk import MISSING, Next, NodePack, Output, Param, Requirement, TypeMismatch, node
from botloom.runner.sdk.registry import Registry, UnknownNodeType
from botloom.runner.validate import validate_doc

START = {"type": "core.start"}


@pytest.fixture(autouse=True)
def _home(monkeypatch, tmp_path):
    monkeypatch.setenv("BOTLOOM_HOME", str(tmp_path / "home"))


# ---------------------------------------------------------------- Param.check

@pytest.mark.parametrize("type_, given, expected", [
    ("integer", "3", 3), ("integer", " 42 ", 42), ("integer", 7.0, 7), ("integer", 5, 5),
    ("number", "2.5", 2.5), ("number", "3", 3), ("number", 4, 4),
    ("boolean", "yes", True), ("boolean", "No", False), ("boolean", "on", True), ("boolean", 0, False),
    ("boolean", True, True),
    ("string", 12, "12"), ("string", True, "true"), ("string", "x", "x"),
    ("list", (1, 2), [1, 2]), ("object", {"a": 1}, {"a": 1}),
    ("table", [{"a": 1}, {"a": 2}], [{"a": 1}, {"a": 2}]), ("table", [], []),
    ("any", {"x": [1]}, {"x": [1]}), ("path", "/tmp/x", "/tmp/x"),
])
def test_param_check_converts(type_, given, expected):
    value = Param("p", type_).check(given)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("type_, given, says", [
    ("integer", "3.5", "whole number"), ("integer", True, "whole number"), ("integer", 2.5, "whole number"),
    ("integer", "three", "whole number"), ("number", "nan", "number"), ("number", False, "number"),
    ("number", float("inf"), "finite"), ("boolean", "maybe", "true or false"), ("boolean", 2, "true or false"),
    ("string", [1], "text"), ("list", "a,b", "list"), ("object", [1], "object"),
    ("table", [{"a": 1}, 2], "row 1"), ("table", {"a": 1}, "list"),
])
def test_param_check_refuses(type_, given, says):
    with pytest.raises(TypeMismatch) as info:
        Param("p", type_).check(given)
    assert says in str(info.value)


def test_param_check_choices_and_range():
    level = Param("level", choices=("low", "high"))
    assert level.check("low") == "low"
    with pytest.raises(TypeMismatch, match="'medium' is not one of: low, high"):
        level.check("medium")
    size = Param("size", "integer", minimum=1, maximum=10)
    assert size.check("10") == 10
    with pytest.raises(TypeMismatch, match="below the minimum 1"):
        size.check(0)
    with pytest.raises(TypeMismatch, match="above the maximum 10"):
        size.check(11)


def test_param_check_none():
    assert Param("p", "integer").check(None) is None
    with pytest.raises(TypeMismatch):
        Param("p", "integer", required=True).check(None)


def test_param_declaration_errors():
    with pytest.raises(ValueError, match="unknown type 'strnig'"):
        Param("p", "strnig")
    with pytest.raises(ValueError, match="path must be one of"):
        Param("p", "path", path="read")
    with pytest.raises(ValueError, match="unknown type"):
        Output("o", "text")


def test_param_defaults_and_title():
    p = Param("max_rows")
    assert p.title == "Max rows"
    assert p.default is MISSING and not p.has_default
    assert Param("x", default=None).has_default


def test_show_if():
    url = Param("url", required=True, show_if={"mode": "web"})
    assert url.shown({"mode": "web"})
    assert not url.shown({"mode": "file"})
    assert not url.shown({})
    both = Param("x", show_if={"mode": ["a", "b"], "on": True})
    assert both.shown({"mode": "b", "on": True})
    assert not both.shown({"mode": "b", "on": False})
    assert not both.shown({"mode": "c", "on": True})
    assert Param("y").shown({})


def test_ui_schema_carries_hints():
    assert Param("password", "secret").ui_schema()["x-botloom"] == {"type": "secret", "secret": True}
    opened = Param("file", "path", path="open").ui_schema()
    assert opened["type"] == "string" and opened["x-botloom"]["path"] == "open"
    body = Param("body", multiline=True, placeholder="Dear ...", advanced=True).ui_schema()
    assert body["x-botloom"] == {"type": "string", "multiline": True, "placeholder": "Dear ...", "advanced": True}
    shown = Param("url", show_if={"mode": "web"}).ui_schema()
    assert shown["x-botloom"]["show_if"] == {"mode": "web"}
    cond = Param("condition", "boolean", expression=True).ui_schema()
    assert cond["type"] == "boolean" and cond["x-botloom"]["expression"] is True
    num = Param("n", "integer", title="Count", description="How many", default=3, minimum=0, maximum=9,
                choices=(1, 3, 9)).ui_schema()
    assert num == {"type": "integer", "title": "Count", "description": "How many", "default": 3, "enum": [1, 3, 9],
                   "minimum": 0, "maximum": 9, "x-botloom": {"type": "integer"}}
    table = Param("rows", "table").ui_schema()
    assert table["items"] == {"type": "object"}
    plain = Param("text").ui_schema()
    assert "secret" not in plain["x-botloom"] and "multiline" not in plain["x-botloom"]


# ---------------------------------------------------------------- node decorator

def test_node_decorator_builds_a_node_type():
    @node("demo.greet", params=[Param("who", required=True)], outputs=[Output("text")], aliases=["hello"])
    def greet(ctx, who):
        """Says hello.

        Twice, if asked."""
        return {"text": f"hello {who}"}

    assert greet.id == "demo.greet"
    assert greet.title == "Greet"
    assert greet.description == "Says hello.\n\nTwice, if asked."
    assert greet.aliases == ("hello",)
    assert greet.param("who").required and greet.param("nobody") is None
    assert greet.output("text").type == "any"
    assert greet.control_ports == ("out", "error")
    assert not greet.is_scope
    assert greet.run(None, who="Ann") == {"text": "hello Ann"}


@pytest.mark.parametrize("type_id", ["Bad.Id", "nodot", "demo.", "demo.has-dash", "1demo.x", "demo..x"])
def test_node_decorator_refuses_a_bad_type_id(type_id):
    with pytest.raises(ValueError, match="must look like 'pack.name'"):
        node(type_id)(lambda ctx: None)


def test_node_decorator_refuses_a_param_the_function_does_not_accept():
    with pytest.raises(TypeError) as info:
        @node("demo.x", params=[Param("a"), Param("b"), Param("c")])
        def x(ctx, a):
            pass
    assert "does not accept parameter(s) b, c" in str(info.value)
    assert "x()" in str(info.value)

    @node("demo.kw", params=[Param("a"), Param("b")])
    def kw(ctx, **params):  # **kwargs accepts every parameter
        return params

    assert kw.id == "demo.kw"


def test_node_decorator_refuses_duplicate_params():
    with pytest.raises(ValueError, match="duplicate parameter"):
        node("demo.x", params=[Param("a"), Param("a", "integer")])(lambda ctx, a: None)


@pytest.mark.parametrize("ports, body_ports", [(("out",), ("out",)), (("error",), ()), (("out",), ("error",))])
def test_node_decorator_refuses_a_port_clash(ports, body_ports):
    with pytest.raises(ValueError, match="port names clash"):
        node("demo.x", ports=ports, body_ports=body_ports)(lambda ctx: None)


def test_ports_for_adds_the_values_of_ports_from():
    sw = registry().get("core.switch")
    assert sw.ports_for({"cases": ["a", 2]}) == ("a", "2", "default", "error")
    assert sw.ports_for({}) == ("default", "error")
    assert registry().get("core.for_each").control_ports == ("out", "body", "error")


def test_describe_is_json_for_every_installed_node():
    reg = registry()
    for nt in reg.latest():
        info = nt.describe()
        assert json.loads(json.dumps(info)) == info
        assert info["type"] == nt.id and set(info["params"]) == {p.name for p in nt.params}
    log = reg.get("core.log").describe()
    assert log["pack"] == "core"
    assert log["required"] == ["message"]
    assert log["params"]["level"]["enum"] == ["debug", "info", "warning", "error"]
    assert log["params"]["message"]["x-botloom"]["multiline"] is True
    loop = reg.get("core.for_each").describe()
    assert loop["body_ports"] == ["body"] and loop["loop"] is True
    assert loop["outputs"] == {"count": {"type": "integer", "description": "How many items were processed."}}
    assert reg.get("core.start").describe()["has_input"] is False
    assert reg.get("core.switch").describe()["ports_from"] == "cases"


def test_describe_lists_requirements():
    @node("demo.ocr", requires=[Requirement("botloom_no_such_module", "pip install 'botloom[ocr]'"),
                                Requirement("json", "pip install json")])
    def ocr(ctx):
        pass

    assert ocr.describe()["requires"] == [
        {"module": "botloom_no_such_module", "install": "pip install 'botloom[ocr]'", "available": False},
        {"module": "json", "install": "pip install json", "available": True}]
    assert [r.module for r in ocr.missing_requirements()] == ["botloom_no_such_module"]


# ---------------------------------------------------------------- registry

@node("demo.greet", version=1, params=[Param("message", required=True)], outputs=[Output("text", "string")])
def greet_v1(ctx, message):
    return {"text": f"v1 {message}"}


def _rename_message(params):
    if "message" in params:
        params["text"] = params.pop("message")
    return params


@node("demo.greet", version=2, params=[Param("text", required=True), Param("punct", default="!")],
      outputs=[Output("text", "string")], migrations={1: _rename_message}, legacy_ids=["old.greeting"],
      aliases=["salute"])
def greet_v2(ctx, text, punct):
    ctx.set_var("said", text + punct)
    return {"text": text + punct}


def _demo_registry(*nodes):
    reg = Registry()
    reg.add_pack(NodePack("demo", "2.0", list(nodes)))
    return reg


def test_add_pack_and_get():
    reg = _demo_registry(greet_v2)
    assert reg.packs["demo"].version == "2.0"
    assert greet_v2.pack == "demo"
    assert reg.get("demo.greet") is greet_v2
    assert "demo.greet" in reg and "demo.nope" not in reg
    assert reg.ids() == ["demo.greet"]


def test_latest_version_and_a_kept_older_version():
    reg = _demo_registry(greet_v1, greet_v2)
    assert reg.get("demo.greet") is greet_v2
    assert reg.get("demo.greet", 2) is greet_v2
    assert reg.get("demo.greet", 1) is greet_v1  # an old implementation that is still installed
    assert reg.latest() == [greet_v2]


def test_older_version_is_served_by_the_latest_with_migrations():
    reg = _demo_registry(greet_v2)
    assert reg.get("demo.greet", 1) is greet_v2
    assert reg.upgrade_params(greet_v2, 1, {"message": "hi"}) == {"text": "hi"}
    assert reg.upgrade_params(greet_v2, 2, {"text": "hi"}) == {"text": "hi"}
    original = {"message": "hi"}
    reg.upgrade_params(greet_v2, 1, original)
    assert original == {"message": "hi"}  # the bot's own params are not changed


def test_a_version_1_bot_runs_with_upgraded_params():
    reg = registry_with(greet_v2)
    doc = make({"start": START, "g": {"type": "demo.greet", "version": 1, "params": {"message": "hi"}}},
               [("start", "g")], outputs={"said": "string"})
    assert validate_doc(doc, reg) == []
    result, events = run(doc, reg=reg)
    assert result.state == "succeeded", result.error
    assert result.outputs == {"said": "hi!"}
    assert events.of("node_started")[1].params == {"text": "hi", "punct": "!"}
    assert doc.main.nodes["g"].params == {"message": "hi"}


def test_a_version_newer_than_installed_is_refused():
    reg = _demo_registry(greet_v2)
    with pytest.raises(UnknownNodeType) as info:
        reg.get("demo.greet", 3)
    assert "newer" in info.value.message and "version 2" in info.value.message
    assert "upgrade the node pack 'demo'" in info.value.fix
    doc = make({"start": START, "g": {"type": "demo.greet", "version": 3, "params": {"text": "x"}}}, [("start", "g")])
    problems = validate_doc(doc, registry_with(greet_v2))
    assert [(p.code, p.node) for p in problems] == [("unknown-node-type", "g")]
    assert "newer" in problems[0].message


def test_legacy_ids_resolve():
    reg = _demo_registry(greet_v2)
    assert "old.greeting" in reg
    assert reg.canonical_id("old.greeting") == "demo.greet"
    assert reg.get("old.greeting") is greet_v2


def test_unknown_id_suggests_the_closest():
    with pytest.raises(UnknownNodeType) as info:
        registry().get("core.lgo")
    assert "unknown node type 'core.lgo'" in info.value.message
    assert "did you mean 'core.log'" in info.value.message
    assert info.value.fix
    assert info.value.exit_code == 2


def test_search_by_alias_title_and_id():
    reg = registry()
    assert "core.log" in [nt.id for nt in reg.search("print")]
    assert "core.call_subflow" in [nt.id for nt in reg.search("Invoke Workflow")]
    assert "core.try" in [nt.id for nt in reg.search("finally")]
    assert [nt.id for nt in reg.search("for_each")] == ["core.for_each"]
    assert reg.search("zzz-nothing") == []
    assert [nt.id for nt in _demo_registry(greet_v2).search("salute")] == ["demo.greet"]


def test_fingerprint_changes_with_the_packs():
    reg = _demo_registry(greet_v1)
    before = reg.fingerprint()
    assert before == _demo_registry(greet_v1).fingerprint()
    reg.add_pack(NodePack("other", "1.0", [greet_v2]))
    assert reg.fingerprint() != before


def test_discover_finds_the_core_pack():
    reg = Registry.discover()
    assert reg.broken == []
    assert "core" in reg.packs
    assert "core.log" in reg and "core.start" in reg
    assert reg.get("core.log").pack == "core"


# ---------------------------------------------------------------- ctx.require

@node("demo.needs_xyz", outputs=[Output("module")])
def needs_xyz(ctx):
    ctx.require("botloom_no_such_module", "pip install 'botloom[xyz]'")
    return {"module": "loaded"}


@node("demo.needs_json", outputs=[Output("dumped", "string")])
def needs_json(ctx):
    return {"dumped": ctx.require("json", "pip install json").dumps([1])}


def test_require_of_a_missing_module_names_the_install_command():
    reg = registry_with(needs_xyz)
    doc = make({"start": START, "x": {"type": "demo.needs_xyz", "settings": {"retry": {"attempts": 3, "delay": 0}}}},
               [("start", "x")])
    result, events = run(doc, reg=reg)
    assert result.state == "failed"
    assert result.error["kind"] == "missing_dependency"
    assert result.error["type"] == MissingDependencyError.__name__
    assert result.error["fix"] == "run: pip install 'botloom[xyz]'"
    assert "botloom_no_such_module" in result.error["message"]
    assert "node 'x'" in result.error["where"]
    assert events.of("node_retrying") == []  # installing takes a person: no retries


def test_require_of_an_installed_module_returns_it():
    result, events = run(make({"start": START, "j": {"type": "demo.needs_json"}}, [("start", "j")]),
                         reg=registry_with(needs_json))
    assert result.state == "succeeded"
    assert events.of("node_finished")[-1].outputs == {"dumped": "[1]"}


# ---------------------------------------------------------------- results a node may return

@node("demo.route", ports=["left", "right"], params=[Param("where")])
def route(ctx, where):
    return Next(where, {"went": where}) if where != "list" else [where]


@pytest.mark.parametrize("where, ok, says", [
    ("left", True, None), ("right", True, None),
    ("up", False, "port 'up', which 'demo.route' does not declare"),
    ("list", False, "returned list"),
])
def test_node_results(where, ok, says):
    doc = make({"start": START, "r": {"type": "demo.route", "params": {"where": where}},
                "l": {"type": "core.log", "params": {"message": "L"}}, "rr": {"type": "core.log", "params": {"message": "R"}}},
               [("start", "r"), ("r.left", "l"), ("r.right", "rr")])
    result, events = run(doc, reg=registry_with(route))
    assert result.ok is ok
    if ok:
        assert [e.message for e in events.of("log")] == [{"left": "L", "right": "R"}[where]]
        assert events.of("node_finished")[1].outputs == {"went": where}
    else:
        assert says in result.error["message"]


def test_a_lazy_registry_loads_a_pack_when_its_types_are_asked_for_and_answers_like_an_eager_one():
    from botloom.runner.sdk.registry import Registry

    lazy, eager = Registry.discover(lazy=True), Registry.discover()
    assert lazy._packs == {}
    assert "core.log" in lazy and set(lazy._packs) == {"core"}
    assert lazy.get("desktop.click").pack == "desktop" and set(lazy._packs) == {"core", "desktop"}
    assert "nosuch.node" not in lazy
    assert lazy.ids() == eager.ids() and set(lazy.packs) == set(eager.packs)
    assert lazy.fingerprint() == eager.fingerprint()
    assert lazy.fingerprint(["core.log"]) != lazy.fingerprint()
    assert lazy.fingerprint(["core.log", "nosuch.node"]) == lazy.fingerprint()
