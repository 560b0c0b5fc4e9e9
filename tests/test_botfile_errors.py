"""Bot file errors point at the problem and say how to fix it; writing is canonical."""

from __future__ import annotations

import copy
import difflib
import json

import pytest

from botloom.runner.botfile import Edge, NodeSpec, dumps, from_json, load, loads, save
from botloom.runner.botfile import migrate
from botloom.runner.errors import BotFileError, FormatTooNewError

BOT = {
    "format": 1,
    "name": "invoices",
    "inputs": {"folder": "path"},
    "nodes": {
        "start": {"type": "core.start"},
        "log": {"type": "core.log", "params": {"message": "reading {{ folder }}"}},
        "write": {"type": "core.set_variable", "params": {"name": "done", "value": True}},
    },
    "edges": [
        {"from": "start.out", "to": "log.in"},
        {"from": "log.out", "to": "write.in"},
    ],
    "layout": {"main": {"nodes": {"start": [0, 0], "log": [200, 0], "write": [400, 0]}}},
}


def bot(**changes) -> dict:
    data = copy.deepcopy(BOT)
    data.update(changes)
    return data


def node(**spec) -> dict:
    return {"nodes": {"a": {"type": "core.log", **spec}}, "edges": [], "layout": {}}


def error_for(text: str) -> BotFileError:
    with pytest.raises(BotFileError) as info:
        loads(text, source="bad.bot.json")
    return info.value


# (document as JSON text or data, expected pointer, a part of the message or fix)
CASES = {
    "unknown key, did you mean": (bot(nods={}), "/nods", "did you mean 'nodes'?"),
    "duplicate key": ('{"format": 1, "name": "a", "name": "b"}', "/name", "the key 'name' appears twice"),
    "duplicate key inside": ('{"format": 1, "name": "a", "nodes": {"s": {"type": "core.start", "type": "x"}}}',
                             "/nodes/s/type", "the key 'type' appears twice"),
    "newer format": (bot(format=3), "/format", "upgrade Botloom"),
    "requires a version that is not one": (bot(requires={"core": "latest"}), "/requires/core",
                                           "is not a version requirement"),
    "format 0": (bot(format=0), "/format", "at least 1, got 0"),
    "format as text": (bot(format="1"), "/format", "whole number"),
    "no format": ({"name": "a"}, "/format", "missing 'format'"),
    "not an object": ("[1, 2]", "", "holds one JSON object {...}, this one holds a list of 2 items"),
    "NaN alone": ("NaN", "", "holds one JSON object {...}, this one holds a single value: NaN is not JSON"),
    "long number alone": ("7" * 5000, "", "holds a single value: a whole number of 5000 digits"),
    "missing name": ({"format": 1}, "/name", "the bot has no name"),
    "blank name": (bot(name="  "), "/name", "the bot has no name"),
    "bad node id": (bot(nodes={"9lives": {"type": "core.log"}}, edges=[], layout={}), "/nodes/9lives",
                    "'9lives' is not a valid node id"),
    "node without type": (bot(nodes={"a": {"title": "A"}}, edges=[], layout={}), "/nodes/a", "has no 'type'"),
    "edge without port": (bot(edges=[{"from": "start", "to": "log.in"}]), "/edges/0/from",
                          "'start' is not of the form node.port"),
    "edge with two dots": (bot(edges=[{"from": "start.out", "to": "log.in.x"}]), "/edges/0/to",
                           "not of the form node.port"),
    "edge listed twice": (bot(edges=[{"from": "start.out", "to": "log.in"}] * 2), "/edges/1", "listed twice"),
    "retry attempts 0": (bot(**node(settings={"retry": {"attempts": 0}})), "/nodes/a/settings/retry/attempts",
                         "from 1 to 100, got 0"),
    "retry attempts 101": (bot(**node(settings={"retry": {"attempts": 101}})),
                           "/nodes/a/settings/retry/attempts", "from 1 to 100, got 101"),
    "timeout 0": (bot(**node(settings={"timeout": 0})), "/nodes/a/settings/timeout", "more than 0 seconds"),
    "on_error": (bot(**node(settings={"on_error": "ignore"})), "/nodes/a/settings/on_error", "fail, continue"),
    "unknown type name": (bot(inputs={"folder": "paht"}), "/inputs/folder", "did you mean 'path'?"),
    "unknown type in full": (bot(variables={"n": {"type": "int"}}), "/variables/n/type", "use one of: any,"),
    "layout for unknown flow": (bot(layout={"mian": {"nodes": {}}}), "/layout/mian",
                                "layout for unknown flow 'mian' (did you mean 'main'?)"),
    "position not a pair": (bot(layout={"main": {"nodes": {"log": [1, 2, 3]}}}), "/layout/main/nodes/log",
                            "a position is [x, y]"),
    "subflow called main": (bot(subflows={"main": {}}), "/subflows/main", "cannot be called 'main'"),
    "invalid JSON": ('{"format": 1,\n  "name": "a",\n  "nodes": {,}\n}', "", "at line 3, column 13"),
    "huge number": ('{"format": 1, "name": "a", "x-n": [1, ' + "7" * 5000 + "]}", "/x-n/1",
                    "a whole number of 5000 digits"),
    "huge negative number": ('{"format": 1, "name": "a", "x-n": -' + "7" * 4301 + "}", "/x-n", "4301 digits"),
    "NaN": ('{"format": 1, "name": "a", "inputs": {"n": {"type": "number", "default": NaN}}}',
            "/inputs/n/default", "NaN is not JSON"),
    "Infinity": ('{"format": 1, "name": "a", "x-n": {"a": [0, Infinity]}}', "/x-n/a/1", "Infinity is not JSON"),
    "-Infinity": ('{"format": 1, "name": "a", "x-n": -Infinity}', "/x-n", "-Infinity is not JSON"),
    "overflowing number": ('{"format": 1, "name": "a", "x-n": [1e400]}', "/x-n/0", "too large"),
    "lone surrogate": ('{"format": 1, "name": "a", "nodes": {"s": {"type": "core.start", "title": "a\\udc00"}}}',
                       "/nodes/s/title", "lone surrogate"),
    "lone surrogate in a key": ('{"format": 1, "name": "a", "x-e": {"k\\ud800": 1}}', "/x-e/k\\ud800",
                                "lone surrogate"),
    "nested too deeply for the parser": ('{"format": 1,\n "name": "a",\n "x-deep": ' + "[" * 100_000 + "]" * 100_000
                                         + "}", "", "nested more than 100 levels deep at line 3, column 111"),
    "nested too deeply": (bot(**{"x-deep": json.loads("[" * 120 + "]" * 120)}), "/x-deep" + "/0" * 99,
                          "nested more than 100 levels deep"),
}


@pytest.mark.parametrize("document, pointer, expected", CASES.values(), ids=CASES.keys())
def test_error_points_at_the_problem(document, pointer, expected):
    text = document if isinstance(document, str) else json.dumps(document, indent=2)
    err = error_for(text)
    assert err.pointer == pointer
    assert expected in str(err)
    assert str(err).startswith("bad.bot.json")


def test_newer_format_is_refused_and_the_file_left_unchanged(tmp_path):
    path = tmp_path / "future.bot.json"
    path.write_text(json.dumps(bot(format=7, future_key={"a": 1})), encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(FormatTooNewError) as info:
        load(path)
    assert "format 7" in info.value.message and "upgrade Botloom" in str(info.value)
    assert path.read_bytes() == before


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.bot.json"
    path.write_bytes('{"format": 1,\n "name": "Café"}'.encode("latin-1"))
    with pytest.raises(BotFileError) as info:
        load(path)
    assert "not UTF-8 text at line 2, column 14 (byte 27)" in info.value.message
    assert "save the file as UTF-8" in str(info.value)
    assert str(path) in str(info.value)


def test_utf8_with_byte_order_mark_loads(tmp_path):
    path = tmp_path / "bom.bot.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(BOT).encode())
    assert load(path).name == "invoices"


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(BotFileError, match="file not found"):
        load(tmp_path / "nothing.bot.json")
    with pytest.raises(BotFileError, match="is a folder"):
        load(tmp_path)


# ---------------------------------------------------------------- canonical writing

def test_saving_twice_gives_identical_bytes(tmp_path):
    first, second = tmp_path / "1.bot.json", tmp_path / "2.bot.json"
    save(loads(json.dumps(BOT)), first)
    save(load(first), second)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes().endswith(b"}\n")


def test_moving_a_node_changes_one_line():
    doc = loads(json.dumps(BOT))
    before = dumps(doc).splitlines()
    doc.main.positions["log"] = (260, 40)
    after = dumps(doc).splitlines()
    changed = [line for line in difflib.unified_diff(before, after, lineterm="", n=0)
               if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ['-        "log": [200, 0],', '+        "log": [260, 40],']


def test_adding_a_node_only_adds_lines_in_nodes_and_edges():
    doc = loads(json.dumps(BOT))
    before = dumps(doc).splitlines()
    doc.main.nodes["notify"] = NodeSpec(id="notify", type="core.log", params={"message": "failed"})
    doc.main.edges.append(Edge("log", "error", "notify", "in"))
    after = dumps(doc).splitlines()

    opcodes = difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes()
    assert {tag for tag, *_ in opcodes} == {"equal", "insert"}
    inserted = [j for tag, _, _, j1, j2 in opcodes if tag == "insert" for j in range(j1, j2)]
    nodes_at, edges_at, layout_at = (after.index(f'  "{key}": ' + bracket)
                                     for key, bracket in (("nodes", "{"), ("edges", "["), ("layout", "{")))
    assert inserted and all(nodes_at < j < edges_at or edges_at < j < layout_at for j in inserted)
    assert any('"notify": {' in after[j] for j in inserted)
    assert any('"log.error"' in after[j] for j in inserted)


def test_ids_edges_and_positions_are_sorted():
    data = bot(nodes={name: {"type": "core.log"} for name in ("zeta", "alpha", "mid")},
               edges=[{"from": "zeta.out", "to": "alpha.in"}, {"from": "alpha.out", "to": "mid.in"}],
               layout={"main": {"nodes": {"zeta": [0, 0], "alpha": [1, 1]}}})
    written = json.loads(dumps(loads(json.dumps(data))))
    assert list(written["nodes"]) == ["alpha", "mid", "zeta"]
    assert [e["from"] for e in written["edges"]] == ["alpha.out", "zeta.out"]
    assert list(written["layout"]["main"]["nodes"]) == ["alpha", "zeta"]


def test_saving_keeps_the_description_and_orders_layout_like_subflows():
    data = bot(description="Reads invoices.", subflows={"zeta": {}, "alpha": {}},
               layout={"zeta": {"nodes": {"s": [0, 0]}}, "main": {"nodes": {"log": [1, 1]}},
                       "alpha": {"nodes": {"s": [2, 2]}}})
    text = dumps(loads(json.dumps(data)))
    written = json.loads(text)
    assert written["description"] == "Reads invoices."
    assert list(written["subflows"]) == ["alpha", "zeta"]
    assert list(written["layout"]) == ["main", "alpha", "zeta"]
    assert dumps(loads(text)) == text


def test_one_edge_and_one_position_per_line():
    text = dumps(loads(json.dumps(BOT)))
    assert '    {"from": "log.out", "to": "write.in"},\n' in text
    assert '        "write": [400, 0]\n' in text


# ---------------------------------------------------------------- format migrations

def test_older_format_is_migrated_on_load(monkeypatch):
    def to_2(data: dict) -> dict:
        data["description"] = data.pop("summary")
        return data

    monkeypatch.setattr(migrate, "CURRENT_FORMAT", 2)
    monkeypatch.setattr(migrate, "MIGRATIONS", {1: to_2})
    doc = loads(json.dumps(bot(summary="reads invoices")))
    assert doc.migrated_from == 1
    assert doc.description == "reads invoices"
    assert json.loads(dumps(doc))["format"] == 2
    assert loads(dumps(doc)).migrated_from is None


def test_older_format_without_a_migration_is_refused(monkeypatch):
    monkeypatch.setattr(migrate, "CURRENT_FORMAT", 2)
    monkeypatch.setattr(migrate, "MIGRATIONS", {})
    err = error_for(json.dumps(BOT))
    assert err.pointer == "/format"
    assert "cannot upgrade from format 1" in err.message


def test_lone_surrogate_is_refused_but_a_real_pair_loads():
    with pytest.raises(BotFileError, match="lone surrogate"):
        loads('{"format": 1, "name": "a\\ud800b"}')
    doc = loads('{"format": 1, "name": "smile \\ud83d\\ude00"}')
    assert loads(dumps(doc)).name == "smile \U0001F600"


@pytest.mark.parametrize("key", ["nodes", "inputs"])
def test_a_trailing_newline_is_not_part_of_a_valid_name(key):
    value = {"a\n": {"type": "core.log"}} if key == "nodes" else {"a\n": "string"}
    with pytest.raises(BotFileError, match="not a valid"):
        loads(json.dumps({"format": 1, "name": "x", key: value}))


# ---------------------------------------------------------------- hostile values and sizes

def test_a_huge_bad_value_is_quoted_short():
    err = error_for(json.dumps(bot(format="7" * 50_000_000)))  # it was echoed whole (2.1 GB of memory)
    assert err.pointer == "/format"
    assert "got the text '777777" in err.message and "... (50000000 characters)" in err.message
    assert len(str(err)) < 200


def test_a_huge_unknown_key_is_shortened_in_the_pointer_and_the_message():
    key = "k" * 1_000_000
    err = error_for(json.dumps(bot(nodes={"a": {"type": "core.log", key: 1}}, edges=[], layout={})))
    assert err.pointer == "/nodes/a/" + "k" * 60 + "...(1000000 characters)"
    assert "unknown key 'kkkk" in err.message and "(1000000 characters)" in err.message
    assert len(str(err)) < 400


def test_a_huge_list_in_the_wrong_place_is_described_not_copied():
    err = error_for(json.dumps(bot(version=list(range(1_000_000)))))
    assert err.pointer == "/version" and err.message == "expected text, got a list of 1000000 items"


@pytest.mark.parametrize("value, expected", [
    (float("nan"), "NaN is not JSON"),
    (float("-inf"), "too large"),
    (10 ** 5000, "more than 4300 digits"),
    ("a\ud800", "lone surrogate"),
], ids=["nan", "infinity", "long number", "surrogate"])
def test_a_value_json_cannot_carry_is_refused_when_saved_and_when_built(value, expected):
    doc = loads(json.dumps(BOT), source="bad.bot.json")
    doc.main.nodes["log"].params["message"] = value
    with pytest.raises(BotFileError) as info:
        dumps(doc)
    assert info.value.pointer == "/nodes/log/params/message"
    assert "cannot be saved" in info.value.message and expected in info.value.message
    data = bot()
    data["nodes"]["log"]["params"]["message"] = value
    with pytest.raises(BotFileError) as info:
        from_json(data, source="built")
    assert info.value.pointer == "/nodes/log/params/message" and expected in info.value.message


def test_a_number_longer_than_python_reads_is_located_with_the_limit_turned_off(monkeypatch):
    import sys

    monkeypatch.setattr(sys, "get_int_max_str_digits", lambda: 0)  # as if set to 0 (no limit)
    err = error_for('{"format": 1, "name": "a", "x-n": {"deep": [' + "9" * 4301 + "]}}")
    assert err.pointer == "/x-n/deep/0" and "4301 digits" in err.message


def test_a_lower_digit_limit_of_the_interpreter_is_reported_as_such():
    import sys

    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(1000)
    try:
        err = error_for('{"format": 1, "name": "a", "x-n": [' + "9" * 2000 + "]}")
    finally:
        sys.set_int_max_str_digits(before)
    assert err.pointer == "/x-n/0" and "2000 digits is more than the 1000 digits" in err.message
