"""The JSON Schema of the bot file: committed, current, valid, and in step with the loader."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from botloom.runner.botfile import dumps, load, loads
from botloom.runner.botfile.schema import bot_schema, schema_text
from botloom.runner.errors import BotFileError

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "docs" / "bot-format.schema.json"
REGENERATE = ("python -c \"from botloom.runner.botfile.schema import write_schema; "
              "write_schema('docs/bot-format.schema.json')\"")

RICH = {
    "format": 1,
    "name": "invoice-intake",
    "description": "Reads invoices from a folder and posts the totals.",
    "version": "1.2.0",
    "secrets": {"crm_token": "API token of the CRM"},
    "inputs": {
        "folder": "path",
        "limit": {"type": "integer", "default": 10, "required": False, "description": "At most this many."},
    },
    "outputs": {"total": "number"},
    "variables": {"total": {"type": "number", "default": 0}, "rows": "table"},
    "nodes": {
        "start": {"type": "core.start"},
        "each": {"type": "core.for_each", "params": {"items": "{{ rows }}", "item_var": "row"}},
        "add": {"type": "core.set_variable", "title": "Add up",
                "params": {"name": "total", "value": "{{ total + row.amount }}"},
                "settings": {"timeout": 2.5, "on_error": "continue",
                             "retry": {"attempts": 3, "delay": 0.5, "backoff": 2, "max_delay": 10,
                                       "on": ["timeout"]}},
                "notes": "Amounts are in euros."},
        "report": {"type": "core.call_subflow", "version": 1, "params": {"subflow": "report"}, "disabled": True,
                   "x-owner": "finance"},
        "end": {"type": "core.end"},
    },
    "edges": [
        {"from": "start.out", "to": "each.in"},
        {"from": "each.body", "to": "add.in"},
        {"from": "each.out", "to": "report.in"},
        {"from": "report.out", "to": "end.in"},
        {"from": "each.count", "to": "report.inputs"},
    ],
    "subflows": {
        "report": {
            "description": "Logs the total.",
            "inputs": {"total": "number"},
            "nodes": {"start": {"type": "core.start"},
                      "log": {"type": "core.log", "params": {"message": "total: {{ total }}"}}},
            "edges": [{"from": "start.out", "to": "log.in"}],
        },
    },
    "layout": {
        "main": {"nodes": {"start": [0, 0], "each": [200, 0], "add": [200, 150.5], "end": [400, 0]},
                 "notes": [{"id": "n1", "text": "Totals only", "x": 10, "y": -40, "width": 180, "height": 60}]},
        "report": {"nodes": {"start": [0, 0], "log": [200, 0]}},
    },
    "x-generator": {"tool": "botloom-designer", "version": "0.1"},
}


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    return Draft202012Validator(bot_schema())


def schema_errors(validator: Draft202012Validator, data) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(data)]


def test_committed_schema_is_current():
    assert SCHEMA_FILE.exists(), f"{SCHEMA_FILE} is missing; generate it with: {REGENERATE}"
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == bot_schema(), (
        f"docs/bot-format.schema.json is out of date; regenerate it with: {REGENERATE}")
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), f"reformat it with: {REGENERATE}"


def test_schema_is_a_valid_draft_2020_12_schema():
    schema = bot_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://botloom.dev/schema/bot-2.json"
    assert schema["title"] and schema["description"]


def test_bot_files_in_the_repository_validate(validator):
    """Every bot of the current format in bots/ and tests/data/ fits the schema. Files in tests/data that
    the loader refuses are deliberately broken fixtures; older formats have migration tests."""
    problems = {}
    for path in sorted({*ROOT.glob("bots/**/*.bot.json"), *ROOT.glob("tests/data/**/*.bot.json")}):
        name = str(path.relative_to(ROOT))
        try:
            doc = load(path)
        except BotFileError as exc:
            if name.startswith("bots"):
                problems[name] = [str(exc)]
            continue
        if doc.migrated_from is None:
            problems[name] = schema_errors(validator, json.loads(path.read_text(encoding="utf-8-sig")))
    assert {name: found for name, found in problems.items() if found} == {}


def test_rich_example_loads_and_validates(validator):
    assert schema_errors(validator, RICH) == []
    doc = loads(json.dumps(RICH))
    assert doc.main.nodes["add"].settings["retry"]["attempts"] == 3


def test_canonical_output_validates(validator):
    written = json.loads(dumps(loads(json.dumps(RICH))))
    assert schema_errors(validator, written) == []
    assert list(written) == [k for k in ("format", "name", "description", "version", "requires", "secrets",
                                         "inputs", "outputs", "variables", "nodes", "edges", "subflows", "layout",
                                         "x-generator")]


def changed(path: str, value) -> dict:
    """RICH with the value at a slash-separated path replaced (or, with DROP, removed)."""
    data = copy.deepcopy(RICH)
    *parents, last = path.split("/")
    target = data
    for key in parents:
        target = target[int(key) if isinstance(target, list) else key]
    if value is DROP:
        del target[last]
    else:
        target[int(last) if isinstance(target, list) else last] = value
    return data


DROP = object()
REJECTED = {
    "unknown top-level key": changed("nods", {}),
    "edge not node.port": changed("edges/0/from", "start"),
    "edge with two dots": changed("edges/0/to", "each.in.x"),
    "format 0": changed("format", 0),
    "format 3": changed("format", 3),
    "requires a bad pack name": changed("requires", {"no pack": "*"}),
    "requires a bad version": changed("requires", {"core": "newest"}),
    "missing name": changed("name", DROP),
    "blank name": changed("name", " \t"),
    "bad node id": changed("nodes/9lives", {"type": "core.log"}),
    "node without type": changed("nodes/end/type", DROP),
    "node version 0": changed("nodes/end/version", 0),
    "unknown node key": changed("nodes/end/params_", {}),
    "timeout 0": changed("nodes/add/settings/timeout", 0),
    "retry attempts 101": changed("nodes/add/settings/retry/attempts", 101),
    "negative delay": changed("nodes/add/settings/retry/delay", -1),
    "on_error": changed("nodes/add/settings/on_error", "ignore"),
    "disabled as text": changed("nodes/report/disabled", "yes"),
    "unknown type name": changed("inputs/folder", "paht"),
    "required as text": changed("inputs/limit/required", "no"),
    "bad secret name": changed("secrets/crm-token", "dash"),
    "subflow called main": changed("subflows/main", {}),
    "unknown subflow key": changed("subflows/report/layout", {}),
    "position of three": changed("layout/main/nodes/start", [0, 0, 0]),
    "position as text": changed("layout/main/nodes/start", ["0", 0]),
    "note width as text": changed("layout/main/notes/0/width", "wide"),
}


@pytest.mark.parametrize("data", REJECTED.values(), ids=REJECTED.keys())
def test_schema_rejects_what_the_loader_rejects(validator, data):
    with pytest.raises(BotFileError):
        loads(json.dumps(data))
    assert schema_errors(validator, data) != []


def test_extension_keys_are_allowed_where_they_are_kept_and_refused_elsewhere(validator):
    for path in ("x-top", "nodes/add/x-mine", "nodes/add/settings/x-mine"):
        data = changed(path, {"any": ["value"]})
        doc = loads(json.dumps(data))
        assert schema_errors(validator, data) == [], path
        assert '"x-' in dumps(doc)  # written back when saved
        data = changed(path.replace("x-", "y-"), 1)
        with pytest.raises(BotFileError):
            loads(json.dumps(data))
        assert schema_errors(validator, data) != [], path
    for path in ("edges/0/x-mine", "inputs/limit/x-mine", "subflows/report/x-mine", "layout/main/x-mine"):
        data = changed(path, 1)
        with pytest.raises(BotFileError, match="not kept here"):
            loads(json.dumps(data))
        assert schema_errors(validator, data) != [], path
