"""The comparisons and the waiting every pack's verify nodes share (runner/verify.py), and the
lint hook through which a node type checks its written-out parameters before any run."""

import threading
import time
from datetime import date

import pytest

import json

from botloom.runner import botfile, verify
from botloom.runner.sdk import Lint, NodePack, Param, node
from botloom.runner.sdk.registry import Registry
from botloom.runner.validate import validate_doc
from tests.bots import bot_json, chain


@pytest.mark.parametrize("actual, op, expected, ok", [
    ("Paid", "equals", "Paid", True), ("42", "equals", 42, True), ("1.50", "equals", 1.5, True),
    (42, "equals", "43", False), ("Total: 12", "contains", "12", True), (["a", "b"], "contains", "c", False),
    ("abc", "matches", r"^a.c$", True), (10, "greater", 9, True), ("10", "greater", 9, True),
    (date(2024, 1, 2), "less", date(2024, 1, 3), True), ([], "is_empty", None, True), ("x", "not_empty", None, True),
    ([1, 2], "length_equals", 2, True), (True, "is_true", None, True), (1, "is_true", None, False),
    ("Invoice", "starts_with", "Inv", True), ("report.pdf", "ends_with", ".csv", False),
])
def test_compare(actual, op, expected, ok):
    assert verify.compare(actual, op, expected).ok is ok


def test_failure_says_expected_and_got():
    out = verify.compare("Pending", "contains", "Paid", what="the status")
    assert not out.ok and out.message == "expected the status to contain 'Paid', got 'Pending'"
    bad = verify.compare(5, "starts_with", "x")
    assert not bad.ok and "has no text" in bad.message
    with pytest.raises(ValueError, match="did you mean 'equals'"):
        verify.compare(1, "equal", 1)


def test_poll_waits_for_a_late_value_and_gives_up_on_time():
    box = {"v": "loading"}
    threading.Timer(0.3, lambda: box.update(v="done")).start()
    out = verify.poll(lambda: box["v"], "equals", "done", timeout=5)
    assert out.ok and out.attempts > 1
    start = time.monotonic()
    out = verify.poll(lambda: 1 / 0, "equals", 1, timeout=0.3)
    assert not out.ok and "could not read it" in out.message and time.monotonic() - start < 3
    err = verify.failed(out, timeout=0.3)
    assert err.kind == "verify_failed" and "checked" in str(err)


def _doc(tmp_path, path):
    data = bot_json({"start": {"type": "core.start"}, "look": {"type": "lintdemo.look", "params": {"path": path}}},
                    chain("start", "look"))
    return botfile.loads(json.dumps(data), source=str(tmp_path / "b.bot.json"))


def _pack_with_lint():
    def lint(params, info):
        if params.get("path") and not info.path(params["path"]).exists():
            yield Lint(f"the image '{params['path']}' does not exist", param="path", fix="capture it again")

    @node("lintdemo.look", lint=lint, params=[Param("path", "string", required=True)])
    def look(ctx, path):
        return None

    return NodePack("lintdemo", "1", [look])


def test_lint_hook_reports_written_out_values_only(tmp_path):
    registry = Registry.discover(lazy=True)
    registry.add_pack(_pack_with_lint())
    problems = validate_doc(_doc(tmp_path, "nope.png"), registry)
    assert [(p.node, p.param) for p in problems if "does not exist" in p.message] == [("look", "path")]
    (tmp_path / "here.png").write_bytes(b"x")
    for path in ("here.png", "{{ inputs.image }}"):
        assert not [p for p in validate_doc(_doc(tmp_path, path), registry) if "does not exist" in p.message]
