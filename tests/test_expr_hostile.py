"""Hostile expressions: nothing changes, nothing is exhausted, every refusal is a clear error.

The payloads (tests/expr_payloads.py) run in a fresh process with its address space capped,
so one that got through could not take the machine down; each is timed and its peak memory
measured (tracemalloc). The 2 s bound is on CPU time: a busy machine stretches the wall clock
(the budget's own deadline is wall-clock time, MAX_SECONDS). Then: the same limits through a
real run and through the CLI.
"""

from __future__ import annotations

import collections
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bots import bot_json, make, run

from botloom.runner.errors import ExpressionError
from botloom.runner.expr import MAX_STEPS, evaluate

import expr_payloads

HERE = Path(__file__).parent
BIN = Path(sys.executable).parent
SECONDS, MEGABYTES = 2.0, 200  # the bound on each payload: CPU time and peak memory
BUSY = 3  # the wall clock may run this much slower on a machine busy with other work
CLEAR = re.compile(r"MAX_[A-Z]+|in place|not allowed|another evaluation|recursion limit|refused by the sandbox"
                   r"|unknown name|has no attribute|syntax error|cannot assign")


def _cap_memory():
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("payloads") / "results.json"
    started = time.monotonic()
    subprocess.run([sys.executable, str(HERE / "expr_payloads.py"), str(out)], check=True, timeout=300,
                   preexec_fn=_cap_memory, cwd=HERE)
    return json.loads(out.read_text()), time.monotonic() - started


def test_there_are_over_150_payloads_of_every_kind():
    kinds = {kind for kind, _ in expr_payloads.PAYLOADS}
    assert len(expr_payloads.PAYLOADS) >= 150
    assert kinds == {"mutation", "memory", "cpu", "huge numbers", "recursion"}
    assert len({text for _, text in expr_payloads.PAYLOADS}) == len(expr_payloads.PAYLOADS)


def test_every_payload_is_refused_quickly_with_a_clear_error(results):
    found, _ = results
    assert len(found) == len(expr_payloads.PAYLOADS)
    problems = []
    for r in found:
        error = r["error"]
        if error is None:
            problems.append(f"not refused, gave {r['value']}: {r['text']}")
        elif "escaped" in error:
            problems.append(f"not an ExpressionError ({error['escaped']}): {r['text']}")
        elif not CLEAR.search(error["message"]) or "Traceback" in error["message"]:
            problems.append(f"unclear error {error['message'][-150:]!r}: {r['text']}")
        if r["cpu"] > SECONDS or r["seconds"] > BUSY * SECONDS or r["peak_mb"] > MEGABYTES:
            problems.append(f"took {r['cpu']:.2f} s of CPU ({r['seconds']:.2f} s) and {r['peak_mb']:.0f} MB: "
                            f"{r['text']}")
        if r["changed"]:
            problems.append(f"changed a value, a file or a kept object: {r['text']}")
    assert not problems, "\n".join(problems)


def test_the_batch_runs_well_under_a_minute(results):
    found, elapsed = results
    cpu = sum(r["cpu"] for r in found)
    print(f"{len(found)} payloads in {cpu:.1f} s of CPU ({elapsed:.1f} s on the clock, with start-up); "
          f"slowest {max(r['cpu'] for r in found):.2f} s of CPU; largest peak {max(r['peak_mb'] for r in found):.0f} MB")
    assert cpu < 30
    assert elapsed < BUSY * 60


# ---------------------------------------------------------------- what still works

@pytest.mark.parametrize("text, expected", [
    ("{% set ns = namespace(a=1) %}{% set ns.a = ns.a + 1 %}{{ ns.a }}", "2"),
    ("{% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}", "aba"),
    ("{% set j = joiner('-') %}{% for i in [1, 2] %}{{ j() }}{{ i }}{% endfor %}", "1-2"),
    ("{% for i in items %}{{ loop.index }}/{{ loop.length }}{{ loop.cycle(',', ';') }}{% endfor %}", "1/2,2/2;"),
    ("{{ '%*d|%-5s|%.2f' % (4, 7, 'a', 1.005) }}", "   7|a    |1.00"),
    ("{{ '{:>{}}|{:{w}}'.format('x', 3, 'y', w=2) }}", "  x|y "),
    ("{{ '{0:{1}{2}}'.format('', 1, 2) | length }}", 12),
    ("{{ sum([[1], [2, 3]], []) }}", [1, 2, 3]), ("{{ [[1], [2]] | sum(start=[]) }}", [1, 2]),
    ("{{ items | sum }}", 3), ("{{ 2 ** 10000 > 0 }}", True), ("{{ (10 ** 4299) | string | length }}", 4300),
    ("{{ {'b': 1, 'a': [1, '<']} | tojson }}", '{"a": [1, "\\u003c"], "b": 1}'),
    ("{{ range(5) | join(',') }}", "0,1,2,3,4"), ("{{ 'a b' | replace(' ', '--') }}", "a--b"),
    ("{{ folder.name }}|{{ folder.with_suffix('.csv').name }}|{{ folder.suffix }}", "keep.txt|keep.csv|.txt"),
    ("{{ dict(a=1) }}", {"a": 1}), ("{{ row.keys() | list }}", ["name"]), ("{{ str(12) ~ 'x' }}", "12x"),
    ("{{ round(2.567, 2) }}", 2.57), ("{{ 'ab'.center(6, '*') }}", "**ab**"), ("{{ lipsum(1, False) | length > 0 }}", True),
])
def test_ordinary_expressions_still_work(text, expected, tmp_path):
    ns = {"items": [1, 2], "row": {"name": "Ann"}, "folder": tmp_path / "keep.txt"}
    assert evaluate(text, ns) == expected


def test_an_object_kept_from_an_earlier_evaluation_is_read_only():
    stored = evaluate("{{ namespace(x=1) }}", {})
    assert evaluate("{{ stored.x }}", {"stored": stored}) == 1
    with pytest.raises(ExpressionError, match="made by another evaluation"):
        evaluate("{% set stored.x = 41 %}{{ stored.x }}", {"stored": stored})
    assert stored.x == 1


def test_unbound_methods_cannot_change_the_variables():
    variables = {"count": 0}
    for text in ("{{ dict.update(vars, {'count': 41}) }}", "{{ dict.clear(vars) }}",
                 "{{ dict.pop(vars, 'count') }}", "{{ dict.setdefault(vars, 'x', 1) }}"):
        with pytest.raises(ExpressionError):
            evaluate(text, {"vars": variables, "count": 0})
    assert variables == {"count": 0}


def test_reading_a_missing_key_of_a_defaultdict_does_not_add_it():
    counts = collections.defaultdict(int, a=1)
    assert evaluate("{{ counts.a + counts['a'] }}", {"counts": counts}) == 2
    for text in ("{{ counts.b }}", "{{ counts['b'] }}", "{{ counts | attr('b') }}"):
        with pytest.raises(ExpressionError, match="no attribute 'b'"):
            evaluate(text, {"counts": counts})
    assert counts == {"a": 1}


def test_methods_that_reach_the_file_system_are_refused(tmp_path):
    keep = tmp_path / "keep.txt"
    keep.write_text("kept")
    for text in ("{{ folder.read_text() }}", "{{ folder.unlink() }}", "{{ folder.exists() }}"):
        with pytest.raises(ExpressionError, match="not allowed in an expression"):
            evaluate(text, {"folder": keep})
    assert keep.read_text() == "kept"


def test_steps_are_counted_in_loops_without_calls():
    text = "{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}{{ 1 }}"
    with pytest.raises(ExpressionError, match="MAX_STEPS") as info:
        evaluate(text, {})
    assert f"{MAX_STEPS:,}" in info.value.message
    assert info.value.fix


# ---------------------------------------------------------------- through a real run, through the CLI

@pytest.mark.parametrize("payload", [
    "{{ '%*d' % (999999999, 1) }}",
    "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
    "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}{{ 1 }}",
    "{{ dict.update(vars, {'count': 41}) }}",
])
def test_a_hostile_parameter_fails_its_run_naming_the_node_and_parameter(payload, monkeypatch, tmp_path):
    monkeypatch.setenv("BOTLOOM_HOME", str(tmp_path / "home"))
    doc = make({"start": {"type": "core.start"},
                "say": {"type": "core.log", "params": {"message": payload}},
                "after": {"type": "core.log", "params": {"message": "count={{ count }}"}}},
               [("start", "say"), ("say", "after")], variables={"count": {"type": "integer", "default": 0}})
    started = time.monotonic()
    result, _ = run(doc)
    assert time.monotonic() - started < SECONDS
    assert result.state == "failed"
    assert result.error["kind"] == "expression"
    assert "node 'say'" in result.error["where"] and "parameter 'message'" in result.error["where"]
    assert CLEAR.search(result.error["message"])
    assert result.error.get("fix")


@pytest.mark.parametrize("payload", ["{{" * 1000, "{{ " + "(" * 1000 + "1" + ")" * 1000 + " }}",
                                     "{{ " + "1+" * 20000 + "1 }}"])
def test_validate_reports_a_text_too_deep_to_read_as_a_problem(payload, tmp_path):
    bot = tmp_path / "deep.bot.json"
    bot.write_text(json.dumps(bot_json({"start": {"type": "core.start"},
                                        "say": {"type": "core.log", "params": {"message": payload}}},
                                       [("start", "say")])))
    done = subprocess.run([str(BIN / "botloom"), "validate", str(bot)], capture_output=True, text=True,
                          timeout=60, env={"BOTLOOM_HOME": str(tmp_path / "home"), "PATH": str(BIN)})
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output and "RecursionError" not in output
    assert "say" in output and "message" in output
    assert re.search(r"MAX_DEPTH|MAX_CODE", output), output


def test_the_docs_list_every_limit_with_its_value():
    from botloom.runner import expr_limits

    text = (HERE.parent / "docs" / "bot-format.md").read_text()
    rows = dict(re.findall(r"^\| `(MAX_[A-Z]+)` \| ([\d,. ]+)s? \|", text, re.M))
    limits = {name: getattr(expr_limits, name) for name in dir(expr_limits) if name.startswith("MAX_")}
    limits.pop("MAX_BITS")  # derived from MAX_DIGITS
    assert {name: float(value.replace(",", "")) for name, value in rows.items()} == limits
