"""core.verify end to end: a check that holds, one that fails with an expected-versus-got
message and kind verify_failed (caught by the error port), and a value evaluated again during
the timeout (the clock, which passes the expected time while the node looks again)."""

import time

from bots import chain, make, messages, run

from botloom.runner.states import RunState


def _bot(params, extra=None, edges=None):
    nodes = {"start": {"type": "core.start"},
             "data": {"type": "core.set_variable", "params": {"name": "total", "value": "12.50"}},
             "check": {"type": "core.verify", "params": params}}
    nodes.update(extra or {})
    return make(nodes, edges or chain("start", "data", "check"), variables={"total": {"type": "string"}})


def test_a_check_that_holds_passes_and_says_so():
    result, log = run(_bot({"value": "{{ vars.total }}", "check": "equals", "expected": 12.5, "what": "the total"}))
    assert result.state == RunState.SUCCEEDED, result.error
    assert any("check passed: expected the total to equal 12.5, got '12.50'" in m for m in messages(log))


def test_a_failed_check_says_expected_and_got_and_can_be_caught():
    result, _ = run(_bot({"value": "{{ vars.total }}", "check": "greater", "expected": 20, "what": "the total"}))
    assert result.state == RunState.FAILED
    assert result.error["kind"] == "verify_failed"
    assert result.error["message"] == "expected the total to be greater than 20, got '12.50'"
    caught, log = run(_bot({"value": "{{ vars.total }}", "check": "less", "expected": 10},
                           extra={"said": {"type": "core.log", "params": {"message": "caught: {{ error.kind }}"}}},
                           edges=[*chain("start", "data", "check"), ("check.error", "said.in")]))
    assert caught.state == RunState.SUCCEEDED and "caught: verify_failed" in messages(log)


def test_the_value_is_evaluated_again_until_the_check_holds():
    soon = time.time() + 0.6  # the clock passes it while the node looks again
    result, _ = run(_bot({"value": "{{ now().timestamp() }}", "check": "greater", "expected": soon, "timeout": 10}))
    assert result.state == RunState.SUCCEEDED, result.error
    assert time.time() >= soon
    result, _ = run(_bot({"value": "{{ now().timestamp() }}", "check": "greater", "expected": time.time() + 3600,
                          "timeout": 0.3, "what": "the clock"}))
    assert result.state == RunState.FAILED and "checked" in result.error["message"]
    assert result.error["message"].startswith("expected the clock to be greater than")
