"""The core text nodes, run through the engine: template, regex_extract, date_parse, date_format."""

from __future__ import annotations

import pytest
from nodes_helpers import outputs_of, run_bot, run_node


# ---------------------------------------------------------------- text.template
def test_template_renders_variables_loops_and_node_outputs():
    template = ("Dear {{ customer }},\n"
                "{% for item in items %}- {{ item.name }}: {{ item.qty }}\n{% endfor %}"
                "Total: {{ nodes.count.value }} lines\n")
    result, log = run_bot(
        {"count": {"type": "core.set_variable", "params": {"name": "n", "value": "{{ items | length }}"}},
         "t": {"type": "text.template", "params": {"template": template}},
         "out": {"type": "core.set_variable", "params": {"name": "mail", "value": "{{ nodes.t.text }}"}}},
        variables={"customer": {"type": "string", "default": "Ada"},
                   "items": {"type": "list", "default": [{"name": "bolts", "qty": 3}, {"name": "nuts", "qty": 5}]}},
        outputs={"mail": {"type": "string"}})
    assert result.state == "succeeded", result.error
    assert result.outputs["mail"] == "Dear Ada,\n- bolts: 3\n- nuts: 5\nTotal: 2 lines\n"


def test_template_strip_and_non_text_values():
    result, outs = run_node("text.template", {"template": "\n\n  hello {{ 'world' }}  \n\n", "strip": True})
    assert outs == {"text": "hello world"}
    result, outs = run_node("text.template", {"template": "{{ [1, 2] }}"})
    assert outs["text"].replace("\n", "").replace(" ", "") == "[1,2]"


# ---------------------------------------------------------------- text.regex_extract
def test_regex_first_match_with_group_and_groups():
    result, outs = run_node("text.regex_extract", {"text": "Invoice no. 4711 dated 2024-03-01; Invoice no. 4712",
                                                   "pattern": r"Invoice no\. (\d+)(?: dated (\S+))?", "group": 1})
    assert result.state == "succeeded", result.error
    assert outs["match"] == "4711"
    assert outs["groups"] == ["4711", "2024-03-01;"]
    assert outs["matches"] == ["4711"] and outs["count"] == 1 and outs["found"] is True


def test_regex_all_matches_named_group_and_ignore_case():
    result, outs = run_node("text.regex_extract", {"text": "ID: a1, id: B2, Id: c3", "pattern": r"id: (?P<code>\w+)",
                                                   "mode": "all", "group": "code", "ignore_case": True})
    assert outs["matches"] == ["a1", "B2", "c3"]
    assert outs["match"] == "a1" and outs["named"] == {"code": "a1"} and outs["count"] == 3


def test_regex_no_match_is_not_an_error():
    result, outs = run_node("text.regex_extract", {"text": "nothing here", "pattern": r"\d+", "mode": "all"})
    assert result.state == "succeeded"
    assert outs == {"match": None, "groups": [], "named": {}, "matches": [], "count": 0, "found": False}


def test_regex_found_drives_an_if_branch():
    result, _ = run_bot(
        {"rx": {"type": "text.regex_extract", "params": {"text": "order 77", "pattern": r"\d+"}},
         "if": {"type": "core.if", "params": {"condition": "nodes.rx.found"}},
         "yes": {"type": "core.set_variable", "params": {"name": "branch", "value": "{{ nodes.rx.match }}"}},
         "no": {"type": "core.set_variable", "params": {"name": "branch", "value": "none"}}},
        edges=[{"from": "start.out", "to": "rx.in"}, {"from": "rx.out", "to": "if.in"},
               {"from": "if.true", "to": "yes.in"}, {"from": "if.false", "to": "no.in"}],
        outputs={"branch": {"type": "any"}})
    assert result.outputs == {"branch": "77"}


def test_bad_regex_is_bad_input_naming_the_problem():
    result, _ = run_node("text.regex_extract", {"text": "x", "pattern": "(unclosed"})
    assert result.state == "failed"
    assert result.error["kind"] == "bad_input"
    assert "(unclosed" in result.error["message"] and "missing )" in result.error["message"]
    assert "position 0" in result.error["message"]
    assert "node 'n' (text.regex_extract)" in result.error["where"]


def test_missing_group_is_bad_input():
    result, _ = run_node("text.regex_extract", {"text": "ab", "pattern": "(a)b", "group": 2})
    assert result.error["kind"] == "bad_input" and "1 group" in result.error["message"]
    result, _ = run_node("text.regex_extract", {"text": "ab", "pattern": "(a)b", "group": "name"})
    assert result.error["kind"] == "bad_input" and "no group named 'name'" in result.error["message"]


# ---------------------------------------------------------------- text.date_parse
@pytest.mark.parametrize("text, expected", [
    ("2018-12-25", "2018-12-25"),
    ("2018-12-25T10:30:00Z", "2018-12-25"),
    ("20181225", "2018-12-25"),
    ("25/12/2018", "2018-12-25"),
    ("25.12.2018", "2018-12-25"),
    ("25.12.18 14:30", "2018-12-25"),
    ("12-01-19", "2019-01-12"),
    ("2018/12/25", "2018-12-25"),
    ("25 Dec 2018", "2018-12-25"),
    ("25-Dec-2018", "2018-12-25"),
    ("December 25, 2018", "2018-12-25"),
    ("Tuesday, 25th of December 2018", "2018-12-25"),
    ("Dec 25 99", "1999-12-25"),
    ("12/25/2018", "2018-12-25"),  # only one reading is a real date
    ("  1/2/2019  ", "2019-02-01"),
])
def test_date_parse_common_formats(text, expected):
    result, outs = run_node("text.date_parse", {"text": text})
    assert result.state == "succeeded", result.error
    year, month, day = map(int, expected.split("-"))
    assert outs == {"date": expected, "year": year, "month": month, "day": day}


def test_date_parse_month_first_when_day_first_is_off():
    result, outs = run_node("text.date_parse", {"text": "01/02/2019", "day_first": False})
    assert outs["date"] == "2019-01-02"


def test_date_parse_explicit_formats_are_tried_in_order_and_only_those():
    result, outs = run_node("text.date_parse", {"text": "2019|02|01", "formats": ["%d.%m.%Y", "%Y|%m|%d"]})
    assert outs["date"] == "2019-02-01"
    result, outs = run_node("text.date_parse", {"text": "01.02.2019", "formats": "%d.%m.%Y"})
    assert outs["date"] == "2019-02-01"
    result, _ = run_node("text.date_parse", {"text": "2019-02-01", "formats": ["%d.%m.%Y"]})
    assert result.state == "failed" and "%d.%m.%Y" in result.error["message"]


@pytest.mark.parametrize("text", ["not a date", "31/02/2018", "Dec 2018", "2018-13-45", ""])
def test_date_parse_unreadable_is_bad_input(text):
    result, _ = run_node("text.date_parse", {"text": text})
    assert result.state == "failed"
    assert result.error["kind"] == "bad_input"
    assert repr(text) in result.error["message"] and "formats" in result.error["fix"]


# ---------------------------------------------------------------- text.date_format
def test_date_format_with_add_days_across_month_end():
    result, outs = run_node("text.date_format", {"date": "2018-12-25", "format": "%d/%m/%Y", "add_days": 10})
    assert outs == {"text": "04/01/2019", "date": "2019-01-04"}
    result, outs = run_node("text.date_format", {"date": "2024-03-01T08:15:00", "format": "%A %d %B %Y %H:%M",
                                                 "add_days": -1})
    assert outs == {"text": "Thursday 29 February 2024 08:15", "date": "2024-02-29T08:15:00"}


def test_date_parse_feeds_date_format_through_a_data_edge():
    result, log = run_bot(
        {"p": {"type": "text.date_parse", "params": {"text": "December 25, 2018"}},
         "f": {"type": "text.date_format", "params": {"format": "%Y%m%d", "add_days": 7}}},
        edges=[{"from": "start.out", "to": "p.in"}, {"from": "p.out", "to": "f.in"},
               {"from": "p.date", "to": "f.date"}])
    assert result.state == "succeeded", result.error
    assert outputs_of(log, "f")["text"] == "20190101"


def test_date_format_refuses_non_iso_text():
    result, _ = run_node("text.date_format", {"date": "25/12/2018", "format": "%Y"})
    assert result.error["kind"] == "bad_input"
    assert "25/12/2018" in result.error["message"] and "text.date_parse" in result.error["fix"]
