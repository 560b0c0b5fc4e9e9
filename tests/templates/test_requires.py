"""``requires`` and the first real format migration: format 1 files load as format 2, with the
packs their node types come from; what a bot requires is checked as it is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botloom.runner.botfile import dumps, load, loads
from botloom.runner.botfile.migrate import CURRENT_FORMAT
from botloom.runner.botfile.requires import infer, satisfied
from botloom.runner.errors import BotFileError

FORMATS = Path(__file__).resolve().parents[1] / "data" / "formats"


def test_a_format_1_file_loads_with_the_packs_of_its_node_types():
    path = FORMATS / "format-1.bot.json"
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == 1
    doc = load(path)
    assert doc.migrated_from == 1 and CURRENT_FORMAT == 2
    assert doc.requires == {"core": "*"}  # data.read_csv and core.log both come from the core pack
    written = json.loads(dumps(doc))
    assert written["format"] == 2 and written["requires"] == {"core": "*"}
    assert list(written)[:4] == ["format", "name", "version", "requires"]
    again = loads(dumps(doc))
    assert again.migrated_from is None and again.requires == doc.requires


def test_a_format_1_file_with_subflows_and_other_packs():
    doc = loads(json.dumps({"format": 1, "name": "mixed", "nodes": {"s": {"type": "core.start"},
                                                                   "c": {"type": "desktop.click"}},
                            "subflows": {"web": {"nodes": {"s": {"type": "core.start"},
                                                           "o": {"type": "browser.open"}}}}}))
    assert doc.requires == {"browser": "*", "core": "*", "desktop": "*"}


def test_requires_of_format_2_is_kept_as_written():
    doc = loads(json.dumps({"format": 2, "name": "b", "requires": {"core": ">=0.1, <2"},
                            "nodes": {"s": {"type": "core.start"}}}))
    assert doc.requires == {"core": ">=0.1, <2"}
    assert '"core": ">=0.1, <2"' in dumps(doc)


@pytest.mark.parametrize("bad, where", [({"core": "soon"}, "/requires/core"), ({"my pack": "*"}, "/requires/my pack"),
                                        ({"core": 1}, "/requires/core")])
def test_a_bad_requirement_points_at_itself(bad, where):
    with pytest.raises(BotFileError) as info:
        loads(json.dumps({"format": 2, "name": "b", "requires": bad}))
    assert info.value.pointer == where


@pytest.mark.parametrize("spec, installed, ok", [
    ("*", "0.0.1", True), ("", "3", True), ("0.1.0", "0.1.0", True), ("0.2", "0.1.9", False),
    (">=0.9", "0.10.0", True), (">=0.1, <2", "2.0", False), ("==1.2", "1.2.0", True), ("!=1.2", "1.2", False),
    (">1", "1.0.1rc1", True), ("<1", "1", False)])
def test_version_requirements(spec, installed, ok):
    assert satisfied(spec, installed) is ok


def test_infer_skips_what_is_not_a_type_id():
    assert infer(["core.log", 3, None, "nodot", "bad pack.x", "text.upper"]) == {"core": "*"}


def test_the_edit_model_keeps_requires_and_adds_the_pack_of_a_new_node_type():
    from botloom.runner.graph import Bot

    bot = Bot(load(Path(__file__).resolve().parents[2] / "bots" / "csv-report" / "csv-report.bot.json"))
    assert bot.to_doc().requires == {"core": ">=0.1.0"}
    bot.main.add_node("desktop.click", node_id="click")
    assert bot.to_doc().requires == {"core": ">=0.1.0", "desktop": "*"}
    assert '"desktop": "*"' in dumps(bot.to_doc())
