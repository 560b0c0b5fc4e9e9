"""5,000 mutated bot files through loading and validation: a clean answer with a place, quickly.

The mutants start from the example bots in ``bots/`` and from generated ones (subflows,
settings, layout notes, declarations, extension keys), and are changed the way broken and
hostile files are: flipped, inserted and deleted bytes, truncation, deleted, renamed and
duplicated keys, values of the wrong type, NaN / Infinity / -Infinity, lone surrogates,
5,000-digit numbers, nesting 100,000 deep, huge strings and huge lists. Each mutant is a
real file read by ``service.load_bot(path, cache=False)``, as ``botloom validate`` reads it.

Every mutant either loads or raises a BotloomError whose message names a place: a JSON
pointer into the file (or a missing key of an object in it), a line and column for what is
not JSON, a flow, node, parameter or edge for a validation problem. Nothing else escapes,
no message quotes a value whole, and each mutant takes under 5 seconds.

The mutations come from ``random.Random(SEED)``: a failure names its case number, and
``mutant(case)`` rebuilds that file.
"""

from __future__ import annotations

import copy
import json
import random
import re
import time
from pathlib import Path

import pytest

from botloom.runner import botfile, service
from botloom.runner.errors import BotFileError, BotloomError, InvalidBotError
from botloom.runner.sdk.registry import Registry

SEED = 20261202
CASES = 5000
BOUND = 5.0  # seconds one mutant may take, huge ones included
LONGEST = 2000  # characters of one error message or problem (a short quote of a bad value)
ROOT = Path(__file__).resolve().parent.parent
REAL = sorted((ROOT / "bots").glob("*/*.bot.json"))
LINE_COLUMN = re.compile(r"at line \d+, column \d+")
FLOW_PROBLEMS = {"no-start", "bad-default"}  # about a flow or its declarations, not one node


def generated() -> list[dict]:
    """Bots that use what the example bots do not: subflows, settings, notes, x- keys."""
    base = json.loads(REAL[0].read_text(encoding="utf-8"))
    sub = {"description": "helper", "inputs": {"x": "any", "n": {"type": "integer", "default": 2}},
           "outputs": {"y": {"type": "number"}}, "variables": {"y": {"type": "number", "default": 0.5}},
           "nodes": {"start": {"type": "core.start"},
                     "set": {"type": "core.set_variable", "title": "Set", "params": {"name": "y", "value": "{{ x }}"},
                             "settings": {"timeout": 2.5, "on_error": "continue",
                                          "retry": {"attempts": 3, "delay": 0, "backoff": 2, "max_delay": 1,
                                                    "on": ["timeout"]}},
                             "notes": "n", "x-tool": {"k": [1, 2]}}},
           "edges": [{"from": "start.out", "to": "set.in"}]}
    rich = copy.deepcopy(base)
    rich.update({"description": "generated", "secrets": {"token": "an API token"},
                 "settings": {"desktop": {"pace": 0.25}}, "subflows": {"helper": sub},
                 "x-editor": {"zoom": 1.5, "open": ["main", "helper"]}})
    rich.setdefault("layout", {})["helper"] = {"nodes": {"start": [0, 0], "set": [200.5, -40]},
                                               "notes": [{"id": "a", "text": "why", "x": 1, "y": 2,
                                                          "width": 300, "height": 80}]}
    chain = {"format": 1, "name": "chain", "variables": {"total": {"type": "integer", "default": 0}},
             "nodes": {"start": {"type": "core.start"},
                       **{f"n{i}": {"type": "core.set_variable",
                                    "params": {"name": "total", "value": f"{{{{ total + {i} }}}}"}} for i in range(30)}},
             "edges": [{"from": "start.out", "to": "n0.in"}]
                      + [{"from": f"n{i}.out", "to": f"n{i + 1}.in"} for i in range(29)],
             "layout": {"main": {"nodes": {f"n{i}": [i * 10, 0] for i in range(30)}}}}
    return [rich, chain, sub | {"format": 1, "name": "sub-as-bot"}]


SOURCES = [json.loads(p.read_text(encoding="utf-8")) for p in REAL] + generated()
HUGE = 5_000_000  # characters of a huge string (100 times a large bot); the few huge mutants are the slow ones


# ---------------------------------------------------------------- mutations of the text

def _flip(rng, text):
    i = rng.randrange(len(text))
    return text[:i] + chr(rng.choice([0, 9, 10, 34, 44, 58, 91, 92, 93, 123, 125, rng.randrange(32, 0x3000)])) \
        + text[i + 1:]


def _truncate(rng, text):
    return text[:rng.randrange(len(text))]


def _insert(rng, text):
    i = rng.randrange(len(text) + 1)
    return text[:i] + rng.choice([",", "}", "]", "{", "[", '"', ":", "\\", "null", "\ufeff", "\x00", "01"]) + text[i:]


def _delete(rng, text):
    i = rng.randrange(len(text))
    return text[:i] + text[i + rng.randint(1, 40):]


def _repeat(rng, text):
    i = rng.randrange(len(text))
    j = min(len(text), i + rng.randint(1, 200))
    return text[:j] + text[i:j] + text[j:]


MARK = "@@mutant@@"


def _get(data, place):
    for key in place:
        data = data[key]
    return data


def _replace(rng, data, kinds, replacement: str) -> str:
    """The text of ``data`` with one value of one of ``kinds`` (chosen at random) written as
    ``replacement``, which need not be JSON."""
    places = [p for p in _places(data) if p and type(_get(data, p)) in kinds]
    if places:
        *parent, last = rng.choice(places)
        _get(data, parent)[last] = MARK
    else:
        data["x-mutant"] = MARK
    return json.dumps(data, indent=2, ensure_ascii=False).replace(json.dumps(MARK), replacement, 1)


NUMBERS = {int, float}
SCALARS = {int, float, str, bool, type(None)}


def _not_json(rng, data):
    return _replace(rng, data, NUMBERS, rng.choice(["NaN", "Infinity", "-Infinity", "1e400", "-1e999"]))


def _surrogate(rng, data):
    """A lone surrogate escape inside a text or a key."""
    escape = rng.choice(["\\ud800", "\\udfff", "\\udc00x", "\\ud83d"])
    places = [p for p in _places(data) if p and (type(_get(data, p)) is str or type(p[-1]) is str)]
    *parent, last = rng.choice(places)
    holder = _get(data, parent)
    value = holder[last]
    if type(value) is str and (type(last) is not str or rng.random() < 0.7):
        i = rng.randrange(len(value) + 1)
        holder[last] = value[:i] + MARK + value[i:]
    else:
        i = rng.randrange(len(last) + 1)
        holder[last[:i] + MARK + last[i:]] = holder.pop(last)
    return json.dumps(data, indent=2, ensure_ascii=False).replace(MARK, escape, 1)


def _long_number(rng, data):
    return _replace(rng, data, NUMBERS, rng.choice(["", "-"]) + "7" * rng.choice([4301, 5000, 20000]))


def _deep(rng, data):
    n = rng.choice([101, 999, 100_000])
    open_, close = rng.choice([("[", "]"), ('{"a":', "}")])
    return _replace(rng, data, SCALARS, open_ * n + "1" + close * n)


def _huge_string(rng, data):
    return _replace(rng, data, SCALARS, json.dumps(rng.choice("ab{.") * HUGE))


def _huge_list(rng, data):
    item = rng.choice(["0", '"x"', "{}", "[1]", '{"from": "a.out", "to": "b.in"}'])
    return _replace(rng, data, SCALARS, "[" + ",".join([item] * 100_000) + "]")


def _huge_name(rng, data):
    """A huge port or node in an edge, or a huge parameter name: names the loader lets through."""
    flows = [data, *data.get("subflows", {}).values()]
    flow = rng.choice([f for f in flows if f.get("edges")] or flows)
    edges, nodes = flow.get("edges") or [], [n for n in flow.get("nodes", {}).values() if "params" in n]
    if edges and (not nodes or rng.random() < 0.6):
        edge = rng.choice(edges)
        end = rng.choice(["from", "to"])
        node, _, port = edge[end].partition(".")
        edge[end] = rng.choice([f"{node}.{'p' * HUGE}", f"{'n' * HUGE}.{port}"])
    elif nodes:
        rng.choice(nodes)["params"]["q" * HUGE] = 1
    return json.dumps(data, indent=2, ensure_ascii=False)


TEXT = [_flip, _truncate, _insert, _delete, _repeat]
HOSTILE = [_not_json, _surrogate, _long_number, _deep]
HUGE_ONES = [_huge_string, _huge_list, _huge_name]


# ---------------------------------------------------------------- mutations of the data

def _places(value, path=()):
    yield path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield from _places(item, path + (key,))


WRONG = [None, True, 0, -1, 101, 0.5, "", "x", "a.b", "main", "core.log", "{{ x }}", "{{ 1 + }}", "{{ x }}" * 5000,
         [], [1, "a"], {}, {"type": "core.log"}, {"from": "a.out", "to": "b.in"}, "x" * 300, "9bad", "a b"]
KEYS = ["type", "params", "nodes", "edges", "settings", "retry", "x-a", "nods", "from", "to", "name", "format",
        "layout", "default", "9", "", "k" * 500]


def _edit(rng, data):
    places = list(_places(data))[1:]
    # most edits go where the loader lets anything through, so that validation sees them
    free = [p for p in places if {"params", "edges", "default"} & set(p[:-1])]
    if free and rng.random() < 0.7:
        places = free
    if not places:
        return data
    *parent_path, last = rng.choice(places)
    parent = data
    for key in parent_path:
        parent = parent[key]
    action = rng.choice(["drop", "wrong", "rename", "add", "swap"])
    if action == "drop":
        del parent[last]
    elif action == "wrong":
        parent[last] = copy.deepcopy(rng.choice(WRONG))
    elif action == "swap":
        other_path = rng.choice(places)
        other = data
        for key in other_path:
            other = other[key]
        if other is not parent:
            parent[last] = copy.deepcopy(other)
    elif isinstance(parent, dict):
        key = rng.choice(KEYS)
        if action == "rename":
            parent[key] = parent.pop(last)
        else:
            parent[key] = copy.deepcopy(rng.choice(WRONG))
    else:
        parent.insert(last, copy.deepcopy(rng.choice(WRONG)))
    return data


def _duplicate_key(rng, text):
    """Write one member of an object twice (an unfinished merge), the later one changed."""
    m = rng.choice(list(re.finditer(r'\n(\s+)("[^"\\]+": [^\n{\[]+?),?\n', text)))
    return text[:m.end(2)] + ",\n" + m.group(1) + m.group(2) + text[m.end(2):]


def mutant(case: int) -> tuple[str, bool]:
    """The text of mutant number ``case`` (deterministic), and whether it must be refused:
    what is not JSON or too large to hold never loads, whatever else the file holds."""
    rng = random.Random(SEED * 10_000 + case)
    data = copy.deepcopy(rng.choice(SOURCES))
    roll = rng.random()
    if roll < 0.45:
        for _ in range(rng.choice([1, 1, 2, 3])):
            data = _edit(rng, data)
        return json.dumps(data, indent=rng.choice([None, 2]), ensure_ascii=rng.random() < 0.5), False
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if roll < 0.75:
        return rng.choice(TEXT)(rng, text), False
    if roll < 0.80:
        return _duplicate_key(rng, text), True
    if roll < 0.994:
        return rng.choice(HOSTILE)(rng, data), True
    return rng.choice(HUGE_ONES)(rng, data), False


# ---------------------------------------------------------------- what a clean answer is

def _lenient(text: str):
    """The document as Python's json reads it (NaN and all), or None if even that fails."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _resolve(data, pointer: str):
    value = data
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def assert_file_error_has_a_place(exc: BotFileError, path: Path, text: str) -> None:
    assert exc.file == str(path) and str(path) in str(exc)
    if LINE_COLUMN.search(exc.message):
        return
    assert exc.pointer.startswith("/") or "holds one JSON object" in exc.message, f"no place: {exc}"
    data = _lenient(text)
    if data is None or "characters)" in exc.pointer:  # a long key is shown shortened in the pointer
        return
    parent_pointer = exc.pointer.rpartition("/")[0]
    try:
        parent = _resolve(data, parent_pointer)
    except (LookupError, ValueError, TypeError):
        raise AssertionError(f"pointer {exc.pointer!r} is not in the file: {exc}") from None
    assert isinstance(parent, (dict, list)), f"pointer {exc.pointer!r} goes through a value: {exc}"


def assert_problem_has_a_place(problem, flows: dict) -> None:
    assert problem.message and len(str(problem)) < LONGEST, str(problem)[:300]
    assert problem.flow in flows, problem
    if problem.node is not None:
        assert problem.node in flows[problem.flow].nodes, problem
    assert problem.node is not None or problem.edge is not None or problem.code in FLOW_PROBLEMS, (
        f"a problem that names no node or edge: {problem}")


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.discover()


def check(case: int, folder: Path, registry: Registry) -> str:
    """Load and validate mutant ``case``; returns how it ended ("loaded", or the error's kind)."""
    text, must_be_refused = mutant(case)
    path = folder / f"mutant-{case}.bot.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    started = time.perf_counter()
    try:
        bot = service.load_bot(path, registry, cache=False)
        outcome = "loaded"
        for problem in bot.warnings:
            assert_problem_has_a_place(problem, bot.doc.flows())
    except InvalidBotError as exc:
        outcome = "invalid"
        flows = botfile.load(path).flows()
        assert exc.problems
        for problem in exc.problems:
            assert_problem_has_a_place(problem, flows)
    except BotFileError as exc:
        outcome = "bad file"
        assert len(str(exc)) < LONGEST, f"case {case}: the message quotes too much: {str(exc)[:300]}"
        assert_file_error_has_a_place(exc, path, text)
    except BotloomError as exc:
        raise AssertionError(f"case {case}: {type(exc).__name__} is not about the file: {exc}") from None
    except Exception as exc:  # a traceback where the user should have read what to fix
        raise AssertionError(f"case {case}: {type(exc).__name__} escaped: {str(exc)[:300]}") from exc
    finally:
        path.unlink()
    took = time.perf_counter() - started
    assert took < BOUND, f"case {case} took {took:.1f} s"
    assert outcome == "bad file" or not must_be_refused, f"case {case} is not JSON or too large, yet it loaded"
    return outcome


def test_mutated_bot_files_load_or_name_the_place(tmp_path, registry):
    outcomes: dict[str, int] = {}
    for case in range(CASES):
        try:
            outcome = check(case, tmp_path, registry)
        except AssertionError as exc:
            raise AssertionError(f"mutant {case}: {exc}") from None
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    # each way out is taken often: the mutants reach the loader's and the validator's checks
    assert all(outcomes.get(kind, 0) >= 100 for kind in ("loaded", "invalid", "bad file")), outcomes


def test_the_mutants_are_the_same_each_time():
    assert [mutant(c) for c in (0, 17, 4999)] == [mutant(c) for c in (0, 17, 4999)]
    assert len({mutant(c)[0] for c in range(200)}) > 190
