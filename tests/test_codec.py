"""The value codec carries every value a node may output or a variable may hold, losslessly,
and refuses, by name and place, what it cannot carry."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path, PurePosixPath, PureWindowsPath
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from botloom.runner import codec
from botloom.runner.sdk.types import Secret

ZONES = [dt.timezone.utc, dt.timezone(dt.timedelta(hours=5, minutes=30)), ZoneInfo("Europe/Paris"),
         ZoneInfo("America/New_York")]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**4000, max_value=10**4400),
    st.floats(allow_nan=False), st.sampled_from([math.inf, -math.inf]),
    st.decimals(allow_nan=False, allow_infinity=False), st.text(), st.binary(max_size=64),
    st.dates(), st.times(), st.timedeltas(),
    st.datetimes(), st.datetimes(timezones=st.sampled_from(ZONES)),
    st.times(timezones=st.sampled_from(ZONES[:2])),
    st.builds(Path, st.text(alphabet="abc/_.", min_size=1)),
    st.builds(PureWindowsPath, st.text(alphabet="abc\\/_.:", min_size=1)),
)
hashable = st.one_of(st.text(max_size=5), st.integers(), st.tuples(st.integers(), st.text(max_size=3)))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.text(max_size=6) | st.just("$t"), inner, max_size=4),
    st.dictionaries(hashable, inner, max_size=3),
    st.tuples(inner, inner),
    st.frozensets(hashable, max_size=3), st.sets(hashable, max_size=3),
), max_leaves=12)


def _same(a, b) -> bool:
    """Equal, and of the same types all the way down (1 == 1.0 == True must not pass)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (dt.datetime, dt.time)):
        return a == b and a.tzinfo == b.tzinfo and a.fold == b.fold and str(a) == str(b)
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, Decimal):
        return str(a) == str(b)
    return a == b


@settings(max_examples=400, deadline=None)
@given(values)
def test_every_value_round_trips_through_text(value):
    text = codec.dumps({"v": value})
    json.loads(text)  # strict JSON: no NaN, no Infinity
    assert _same(codec.loads(text)["v"], value)
    assert _same(codec.decode(codec.encode(value)), value)


@pytest.mark.parametrize("text", ["//./", "\\\\.\\", ".\\a:b", ".\\c:", "//server/share/x", "c:a"])
def test_windows_paths_whose_own_text_reads_back_differently_still_round_trip(text):
    # str() of these does not parse back to the same path (a UNC prefix with an empty share
    # prints two separators; a relative "a:b" prints like a drive)
    path = PureWindowsPath(text)
    back = codec.loads(codec.dumps(path))
    assert type(back) is PureWindowsPath and back.parts == path.parts and back == path


def test_datetime_keeps_its_zone_name_and_the_event_stream_agrees():
    when = dt.datetime(2024, 3, 31, 2, 30, tzinfo=ZoneInfo("Europe/Paris"))
    back = codec.loads(codec.dumps(when))
    assert back.tzinfo.key == "Europe/Paris" and back == when and back.year == 2024
    assert codec.loads(codec.to_json({"when": dt.datetime(2024, 1, 2)}))["when"] == dt.datetime(2024, 1, 2)


def test_a_secret_travels_as_its_name_only():
    secret = Secret("crm_password", lambda name: "hunter2")
    text = codec.dumps({"token": secret})
    assert "hunter2" not in text and "crm_password" in text
    back = codec.loads(text)["token"]
    assert isinstance(back, Secret) and back.name == "crm_password"


def test_user_data_that_looks_like_a_tag_stays_data():
    value = {"$t": "datetime", "v": "2024-01-02"}
    assert codec.loads(codec.dumps(value)) == value


def test_subclasses_and_numpy_values_are_carried_as_their_base_values():
    from collections import OrderedDict
    from enum import IntEnum, StrEnum

    class Colour(StrEnum):
        RED = "red"

    class Level(IntEnum):
        HIGH = 3

    assert codec.loads(codec.dumps([Colour.RED, Level.HIGH, OrderedDict(a=1)])) == ["red", 3, {"a": 1}]
    np = pytest.importorskip("numpy")
    assert codec.loads(codec.dumps({"n": np.int64(7), "a": np.arange(3)})) == {"n": 7, "a": [0, 1, 2]}


def test_a_value_it_cannot_carry_is_refused_with_its_type_and_place():
    with pytest.raises(codec.CodecError, match=r"type function cannot be stored.*at rows\[1\]\.f"):
        codec.check({"rows": [{"f": 1}, {"f": lambda: 1}]})
    with pytest.raises(codec.CodecError):
        codec.dumps(object())
    with pytest.raises(codec.CodecError, match="nested"):
        deep: list = []
        for _ in range(1000):
            deep = [deep]
        codec.check(deep)


def test_a_newer_tag_is_refused_clearly():
    with pytest.raises(ValueError, match="newer Botloom"):
        codec.loads('{"$t": "quaternion", "v": [1, 2, 3, 4]}')


def test_plain_json_stays_plain_json():
    value = {"name": "x", "rows": [{"a": 1, "b": 2.5, "c": None, "d": True}]}
    assert codec.dumps(value) == json.dumps(value, separators=(",", ":"))


def test_sets_are_written_in_the_same_order_by_every_process():
    import subprocess
    import sys

    code = "from botloom.runner import codec; print(codec.dumps({'s': {'pear', 'apple', 'fig', 'kiwi', 'plum'}}))"
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**__import__("os").environ, "PYTHONHASHSEED": str(seed)}).stdout for seed in (1, 2, 3)}
    assert len(outs) == 1 and '"apple","fig","kiwi","pear","plum"' in outs.pop()
