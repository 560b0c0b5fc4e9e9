"""Property tests of the bot file loader and writer.

Whatever it is given, the loader returns a BotDoc or raises BotFileError (with a pointer into
the document, a message and the file's name), never another exception. Whatever loads can be
written and read back without change, and the JSON Schema agrees with the loader.
"""

from __future__ import annotations

import copy
import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from botloom.runner.botfile import BotDoc, dumps, load, loads
from botloom.runner.botfile.io import TOP_KEYS
from botloom.runner.botfile.strict import pointer_part
from botloom.runner.botfile.model import ON_ERROR
from botloom.runner.botfile.schema import bot_schema
from botloom.runner.errors import BotFileError
from botloom.runner.sdk.types import TYPES

SOURCE = "fuzz.bot.json"
SCHEMA = Draft202012Validator(bot_schema())

VALID = {
    "format": 1,
    "name": "fuzz",
    "description": "A bot to mutate.",
    "version": "1.0",
    "secrets": {"token": "an API token"},
    "inputs": {"folder": "path", "limit": {"type": "integer", "default": 5, "required": True}},
    "outputs": {"count": {"type": "integer", "description": "rows read"}},
    "variables": {"rows": "table"},
    "nodes": {
        "start": {"type": "core.start"},
        "loop": {"type": "core.for_each", "version": 1, "params": {"items": "{{ rows }}"}},
        "log": {"type": "core.log", "title": "Say", "params": {"message": "{{ item }}", "level": "info"},
                "settings": {"timeout": 5, "on_error": "continue",
                             "retry": {"attempts": 2, "delay": 0, "backoff": 1.5, "max_delay": 3, "on": ["timeout"]}},
                "disabled": False, "notes": "n"},
    },
    "edges": [{"from": "start.out", "to": "loop.in"}, {"from": "loop.body", "to": "log.in"},
              {"from": "loop.count", "to": "log.message"}],
    "subflows": {"helper": {"description": "d", "inputs": {"x": "any"}, "nodes": {"start": {"type": "core.start"}},
                            "edges": []}},
    "layout": {"main": {"nodes": {"start": [0, 0], "log": [10.5, -3]},
                        "notes": [{"id": "a", "text": "t", "x": 1, "y": 2, "width": 3, "height": 4}]},
               "helper": {"nodes": {"start": [1, 1]}}},
    "x-tool": {"by": "fuzz"},
}
VALID_TEXT = json.dumps(VALID, indent=2)

# ---------------------------------------------------------------- strategies

# No floats like 1.0: JSON Schema counts them as whole numbers where the loader does not (format, version).
scalars = (st.none() | st.booleans() | st.integers() | st.text(max_size=12)
           | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
# Values and keys the loader treats specially, so that mutations reach its deeper checks.
tricky_values = st.sampled_from([0, 1, 2, -1, 100, 101, 0.5, "", " ", "a", "a.b", "a.b.c", ".x", "x.", "main",
                                 "any", "integer", "fail", "continue", True, None, [], {}, [1, 2], ["timeout"]])
tricky_keys = st.sampled_from([*TOP_KEYS, "nods", "x-ext", "x-", "9bad", "a b", "main", "in", "type", "version",
                               "params", "settings", "retry", "attempts", "timeout", "on_error", "from", "to",
                               "id", "x", "width", "notes", "nodes", "default", "required"])
values = (tricky_values | json_values).map(copy.deepcopy)  # edits must not change a shared [] or {}
keys = tricky_keys | st.text(max_size=8)

ident = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
node_ids = ident | st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True)
finite = st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
positive = st.integers(1, 10**6) | st.floats(min_value=1e-6, max_value=1e6)
at_least_0 = st.integers(0, 10**6) | st.floats(min_value=0, max_value=1e6)

decls = st.dictionaries(ident, st.sampled_from(list(TYPES)) | st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(list(TYPES)), "default": json_values, "required": st.booleans(),
    "description": st.text(max_size=8)}), max_size=3)
node_settings = st.fixed_dictionaries({}, optional={
    "timeout": positive, "on_error": st.sampled_from(ON_ERROR),
    "retry": st.fixed_dictionaries({}, optional={"attempts": st.integers(1, 100), "delay": at_least_0,
                                                 "backoff": at_least_0, "max_delay": at_least_0,
                                                 "on": st.lists(st.text(max_size=6), max_size=2)})})
nodes = st.fixed_dictionaries({"type": st.text(min_size=1, max_size=12)}, optional={
    "version": st.integers(1, 9), "title": st.text(max_size=8), "notes": st.text(max_size=8),
    "params": st.dictionaries(st.text(max_size=6), json_values, max_size=3), "settings": node_settings,
    "disabled": st.booleans()})
endpoints = st.builds("{}.{}".format, node_ids, st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True))
edges = st.lists(st.fixed_dictionaries({"from": endpoints, "to": endpoints}), max_size=4,
                 unique_by=lambda e: (e["from"], e["to"]))
flows = st.fixed_dictionaries({"nodes": st.dictionaries(node_ids, nodes, max_size=4), "edges": edges}, optional={
    "description": st.text(max_size=8), "inputs": decls, "outputs": decls, "variables": decls})
flow_layouts = st.fixed_dictionaries({}, optional={
    "nodes": st.dictionaries(node_ids, st.lists(finite, min_size=2, max_size=2), max_size=3),
    "notes": st.lists(st.fixed_dictionaries({}, optional={
        "id": st.text(max_size=4), "text": st.text(max_size=8), "x": finite, "y": finite, "width": finite,
        "height": finite}), max_size=2)})


@st.composite
def valid_docs(draw) -> dict:
    """Documents built to load: every rule of the loader is followed."""
    data = {"format": 1, "name": draw(st.text(max_size=10).filter(str.strip))}
    data.update(draw(st.fixed_dictionaries({}, optional={
        "description": st.text(max_size=10), "version": st.text(max_size=5),
        "secrets": st.dictionaries(ident, st.text(max_size=8), max_size=2)})))
    data.update(draw(flows))
    subflows = draw(st.dictionaries(ident.filter(lambda n: n != "main"), flows, max_size=2))
    if subflows:
        data["subflows"] = subflows
    flow_names = ["main", *subflows]
    data["layout"] = draw(st.dictionaries(st.sampled_from(flow_names), flow_layouts, max_size=len(flow_names)))
    data.update(draw(st.dictionaries(st.from_regex(r"x-[a-z]{0,5}", fullmatch=True), json_values, max_size=2)))
    return data


def paths(value, prefix=()):
    """Every path into a JSON value (the root included), as tuples of keys and indexes."""
    yield prefix
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield from paths(item, prefix + (key,))


@st.composite
def mutated_docs(draw, base=VALID) -> dict:
    """A valid document with one to three random edits: drop, replace, rename or add a key."""
    data = copy.deepcopy(base)
    pick = draw(st.randoms(use_true_random=True))  # uniform over places (sampled_from favours the first)
    for _ in range(draw(st.integers(1, 3))):
        inner = list(paths(data))[1:]
        if not inner:
            break
        *parent_path, last = pick.choice(inner)
        parent = data
        for key in parent_path:
            parent = parent[key]
        action = pick.choice(["drop", "replace", "rename", "add"])
        if action == "drop":
            del parent[last]
        elif action == "replace":
            parent[last] = draw(values)
        elif isinstance(parent, dict):
            new_key = draw(keys)
            if action == "rename":
                parent[new_key] = parent.pop(last)
            else:
                parent[new_key] = draw(values)
        else:
            parent.insert(last, draw(values))
    return data


def parse(text: str):
    """BotDoc, or the BotFileError (which must name a place); any other exception fails the test."""
    try:
        return loads(text, source=SOURCE)
    except BotFileError as exc:
        assert exc.message, "an error without a message"
        assert SOURCE in str(exc)
        assert (exc.pointer.startswith("/") or re.search(r"at line \d+, column \d+", exc.message)
                or "holds one JSON object" in exc.message), f"an error that names no place: {exc}"
        return exc


def resolve(data, pointer: str):
    """The value a JSON pointer names in ``data``; raises LookupError if there is none."""
    value = data
    for part in pointer.split("/")[1:] if pointer else []:
        part = part.replace("~1", "/").replace("~0", "~")
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def assert_points_into(data, err: BotFileError) -> None:
    """The pointer names a place in the document, or a missing key of an object in it."""
    try:
        parent = resolve(data, err.pointer.rpartition("/")[0])
    except (LookupError, ValueError, TypeError):
        raise AssertionError(f"pointer {err.pointer!r} does not point into the document: {err}") from None
    try:
        resolve(data, err.pointer)
    except (LookupError, ValueError, TypeError):
        assert isinstance(parent, dict), f"pointer {err.pointer!r} names nothing in the document: {err}"


def content(doc: BotDoc):
    """Everything a BotDoc holds, in a form that does not depend on the order in the file."""
    flows = {name: (f.description, f.inputs, f.outputs, f.variables, f.nodes, sorted(f.edges), f.positions,
                    sorted(f.notes, key=lambda n: n.id))
             for name, f in doc.flows().items()}
    return doc.name, doc.description, doc.version, doc.secrets, doc.extra, flows


# ---------------------------------------------------------------- properties

bot_shaped = st.dictionaries(keys, values, max_size=6).map(lambda d: {"format": 1, "name": "b", **d})


@settings(max_examples=300, deadline=None)
@given(json_values | bot_shaped)
def test_any_json_value_loads_or_gives_a_bot_file_error(value):
    parse(json.dumps(value))


@settings(max_examples=300, deadline=None)
@given(st.text()
       | st.binary().map(lambda b: b.decode("latin-1"))
       | st.integers(0, len(VALID_TEXT)).map(lambda n: VALID_TEXT[:n])
       | st.tuples(st.integers(0, len(VALID_TEXT) - 1), st.characters())
         .map(lambda p: VALID_TEXT[:p[0]] + p[1] + VALID_TEXT[p[0] + 1:]))
def test_any_text_loads_or_gives_a_bot_file_error(text):
    parse(text)


@settings(max_examples=300, deadline=None)
@given(mutated_docs())
def test_mutated_documents_load_or_point_at_the_problem(data):
    result = parse(json.dumps(data))
    if isinstance(result, BotFileError):
        assert_points_into(data, result)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary()
       | st.binary().map(lambda b: b"\xef\xbb\xbf" + b)
       | st.integers(0, len(VALID_TEXT) - 1).map(lambda n: VALID_TEXT.encode()[:n])
       | st.tuples(st.integers(0, len(VALID_TEXT)), st.binary(min_size=1, max_size=3))
         .map(lambda p: VALID_TEXT.encode()[:p[0]] + p[1] + VALID_TEXT.encode()[p[0]:]))
def test_random_files_give_a_bot_file_error(tmp_path, raw):
    path = tmp_path / "random.bot.json"
    path.write_bytes(raw)
    try:
        doc = load(path)
    except BotFileError as exc:
        assert str(path) in str(exc)
    else:  # a few inserted bytes (white space, say) can leave a whole bot
        assert isinstance(doc, BotDoc)


@settings(max_examples=200, deadline=None)
@given(valid_docs() | mutated_docs())
def test_what_loads_is_written_and_read_back_unchanged(data):
    doc = parse(json.dumps(data))
    if isinstance(doc, BotFileError):
        return
    text = dumps(doc)
    again = loads(text, source=SOURCE)
    assert dumps(again) == text
    assert content(again) == content(doc)


@settings(max_examples=100, deadline=None)
@given(valid_docs())
def test_built_documents_load(data):
    assert isinstance(parse(json.dumps(data)), BotDoc)


@settings(max_examples=300, deadline=None)
@given(valid_docs() | mutated_docs())
def test_schema_agrees_with_the_loader(data):
    result = parse(json.dumps(data))
    schema_errors = [e.message for e in SCHEMA.iter_errors(data)]
    if isinstance(result, BotDoc):
        assert schema_errors == [], "the loader accepts what the schema refuses"
    elif not schema_errors:
        # What a schema cannot express: references between parts of the file.
        assert "layout for unknown flow" in result.message or "listed twice" in result.message, (
            f"the schema accepts what the loader refuses: {result}")


MARK = "@@not-json@@"
NOT_JSON = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "7" * 4301, '"a\\udc00"', '"\\ud800"',
                            "[" * 101 + "]" * 101])


@settings(max_examples=300, deadline=None)
@given(valid_docs(), st.randoms(use_true_random=False), NOT_JSON)
def test_what_is_not_json_is_refused_at_its_place(data, pick, bad):
    """Wherever a value JSON cannot carry stands, the error's pointer is exactly its place."""
    *parent_path, last = place = pick.choice(list(paths(data))[1:])
    parent = data
    for key in parent_path:
        parent = parent[key]
    parent[last] = MARK
    err = parse(json.dumps(data).replace(json.dumps(MARK), bad))
    assert isinstance(err, BotFileError)
    expected = "".join(f"/{pointer_part(key) if isinstance(key, str) else key}" for key in place)
    assert err.pointer == expected + ("/0" * (100 - len(place)) if bad.startswith("[") else ""), err
