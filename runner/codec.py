"""The value codec: how every value crosses every boundary, losslessly.

The journal, the log files, the ``--events jsonl`` stream, the designer's protocol and any later
API encode values with this module and nothing else, so a value read back is the value written:
a datetime stays a datetime (with its time zone), a Decimal stays exact, bytes stay bytes.

Plain JSON values pass through as they are (a journal stays readable with ``sqlite3``); every
other value becomes a small tagged object ``{"$t": TAG, "v": ...}``::

    None, bool, str, list            as JSON
    int                              as JSON; over ~3,900 digits {"$t": "int", "v": HEX}
    float                            as JSON; NaN and infinities {"$t": "float", "v": "nan"}
    dict with text keys              as JSON; other keys, or a "$t" key: {"$t": "map", "v": [[k, v], ...]}
    tuple, set, frozenset            {"$t": "tuple" | "set" | "frozenset", "v": [...]}
    Decimal                          {"$t": "decimal", "v": "12.50"}
    bytes, bytearray                 {"$t": "bytes" | "bytearray", "v": BASE64}
    date, time, datetime             {"$t": "date" | "time" | "datetime", "v": ISO 8601}; a datetime
                                     whose zone is an IANA zone also keeps its name: "tz": "Europe/Paris"
    timedelta                        {"$t": "timedelta", "v": [days, seconds, microseconds]}
    paths                            {"$t": "path", "v": "/a/b"}; Windows paths "wpath"
    Secret                           {"$t": "secret", "name": NAME}: the name, never the text

Subclasses of str, int, float, list and dict (enums, OrderedDict...) are carried as their base
type; NumPy scalars and arrays as the Python numbers and lists they hold. Anything else is refused
with :class:`CodecError` (never a silent ``repr``): the engine turns that into an error of the step
that produced the value, naming the node and the output.

``SCHEMA`` versions the event stream's shape; a reader refuses a newer one.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import math
from decimal import Decimal
from pathlib import Path, PurePath, PureWindowsPath
from typing import Any

SCHEMA = 1  # version of the event stream and the designer's protocol
TAG = "$t"
_BIG_BITS = 13_000  # ints beyond this (~3,900 digits) are written in hex: JSON readers cap decimal digits
_MAX_DEPTH = 200


class CodecError(TypeError):
    """A value the codec cannot carry. ``path`` says where inside the value it was found."""

    def __init__(self, message: str, path: str = ""):
        super().__init__(message + (f" (at {path})" if path else ""))
        self.reason = message
        self.path = path


def describe(value: Any) -> str:
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


# ------------------------------------------------------------------ encoding
def encode(value: Any) -> Any:
    """The JSON-able form of ``value``; raises CodecError for a value it cannot carry."""
    return _enc(value, 0)


def _enc(v: Any, depth: int) -> Any:
    t = type(v)
    if t is str or v is None or t is bool:
        return v
    if t is int:
        return v if v.bit_length() <= _BIG_BITS else {TAG: "int", "v": format(v, "x")}
    if t is float:
        return v if math.isfinite(v) else {TAG: "float", "v": repr(v)}
    if depth > _MAX_DEPTH:
        raise CodecError(f"the value is nested more than {_MAX_DEPTH} levels deep")
    if t is list:
        return [_enc(x, depth + 1) for x in v]
    if t is dict:
        for k in v:
            if type(k) is not str or k == TAG:
                return {TAG: "map", "v": [[_enc(k, depth + 1), _enc(x, depth + 1)] for k, x in v.items()]}
        return {k: _enc(x, depth + 1) for k, x in v.items()}
    encoder = _ENCODERS.get(t)
    if encoder is not None:
        return encoder(v, depth + 1)
    return _enc_other(v, depth)


def _zoned(tag: str):
    """An encoder for datetime or time: ISO text, plus the IANA zone's name and the fold when set."""
    def encode(v, depth: int) -> dict:
        out = {TAG: tag, "v": v.isoformat()}
        key = getattr(v.tzinfo, "key", None)  # zoneinfo.ZoneInfo keeps its IANA name
        if isinstance(key, str):
            out["tz"] = key
        if v.fold:
            out["fold"] = 1
        return out

    return encode


_enc_datetime = _zoned("datetime")
_enc_time = _zoned("time")


def _enc_secret(v: Any, depth: int) -> dict:
    return {TAG: "secret", "name": v.name}


def _seq(tag: str):
    return lambda v, depth: {TAG: tag, "v": [_enc(x, depth) for x in v]}


def _members(tag: str):
    """Sets in a repeatable order (their iteration order changes from process to process)."""
    def encode_set(v, depth):
        items = [_enc(x, depth) for x in v]
        return {TAG: tag, "v": sorted(items, key=_encode_json)}

    return encode_set


def _bytes(tag: str):
    return lambda v, depth: {TAG: tag, "v": base64.b64encode(v).decode("ascii")}


def _path(v: PurePath, depth: int) -> dict:
    if not isinstance(v, PureWindowsPath):
        return {TAG: "path", "v": str(v)}
    rest = "\\".join(v.parts[1:] if v.drive or v.root else v.parts)
    # pathlib's own text does not always read back the same: a drive that already ends in a
    # separator (a UNC prefix with an empty share, as in \\.\) gets its root printed as a
    # second one and reads back as a bare root; a relative first part that looks like a drive
    # ("a:b" from ".\\a:b") loses its ".\\" and reads back as a drive
    for text in (str(v), v.drive + ("" if v.drive.endswith("\\") else v.root) + rest, ".\\" + rest):
        if PureWindowsPath(text) == v:
            return {TAG: "wpath", "v": text}
    raise CodecError(f"the Windows path {str(v)!r} cannot be written so that it reads back the same")


_ENCODERS: dict[type, Any] = {
    tuple: _seq("tuple"),
    set: _members("set"),
    frozenset: _members("frozenset"),
    bytes: _bytes("bytes"),
    bytearray: _bytes("bytearray"),
    Decimal: lambda v, depth: {TAG: "decimal", "v": str(v)},
    _dt.datetime: _enc_datetime,
    _dt.date: lambda v, depth: {TAG: "date", "v": v.isoformat()},
    _dt.time: _enc_time,
    _dt.timedelta: lambda v, depth: {TAG: "timedelta", "v": [v.days, v.seconds, v.microseconds]},
}


def _enc_other(v: Any, depth: int) -> Any:
    """Types met less often: subclasses, paths, secrets, NumPy values."""
    from .sdk.types import Secret

    t = type(v)
    if isinstance(v, Secret):
        encoder = _enc_secret
    elif isinstance(v, PurePath):
        encoder = _path
    elif isinstance(v, _dt.datetime):
        encoder = _enc_datetime
    elif isinstance(v, _dt.date):
        encoder = _ENCODERS[_dt.date]
    elif isinstance(v, bool):
        return bool(v)
    elif isinstance(v, str):
        return _enc(str(v), depth)
    elif isinstance(v, int):
        return _enc(int(v), depth)
    elif isinstance(v, float):
        return _enc(float(v), depth)
    elif isinstance(v, dict):
        return _enc(dict(v), depth)
    elif isinstance(v, (list, tuple)):
        return _enc(list(v) if isinstance(v, list) else tuple(v), depth)
    elif t.__module__ == "numpy" and hasattr(v, "tolist"):  # numpy scalars and arrays
        return _enc(v.tolist(), depth)
    else:
        raise CodecError(f"a value of type {describe(v)} cannot be stored or sent")
    _ENCODERS.setdefault(t, encoder)  # the next value of this type takes the fast path
    return encoder(v, depth + 1)


def check(value: Any) -> None:
    """Raise CodecError if ``value`` holds anything the codec cannot carry, naming where.

    The common case (plain data, dates, Decimals...) is walked by the C JSON encoder, some fifty
    times faster than :func:`encode`: the engine checks every value a step makes, so a list that
    grows by one item per step must not cost a Python walk of the whole list each time."""
    if type(value) in _SCALARS and (type(value) is not int or value.bit_length() <= _BIG_BITS):
        return
    try:
        _check_json(value)
        return
    except CodecError:
        pass  # found a value of a type the codec does not know: say where, below
    except (TypeError, ValueError, RecursionError):
        pass  # keys that are not text, very deep values: the codec's own walk decides
    try:
        encode(value)
    except CodecError as exc:
        if exc.path or exc.reason.startswith("the value is nested"):
            raise
        raise CodecError(exc.reason, _locate(value) or "") from None
    except RecursionError:
        raise CodecError(f"the value is nested more than {_MAX_DEPTH} levels deep") from None


def _locate(value: Any, path: str = "") -> str | None:
    """Where inside ``value`` the first value the codec refuses is (``rows[3].when``)."""
    try:
        encode(value)
        return None
    except CodecError:
        pass
    if isinstance(value, dict):
        for k, x in value.items():
            found = _locate(x, f"{path}.{k}" if path else str(k))
            if found is not None:
                return found
    elif isinstance(value, (list, tuple, set, frozenset)):
        for i, x in enumerate(value):
            found = _locate(x, f"{path}[{i}]")
            if found is not None:
                return found
    return path


def _one_shot(default=None, *, allow_nan: bool) -> Any:
    """``encode(value) -> str`` with the C encoder made once. ``json.JSONEncoder.encode`` makes it
    anew at every call, which is most of the cost of encoding a step's small values."""
    from json import encoder as std

    plain = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=allow_nan, check_circular=False,
                             default=default).encode
    try:
        make = std.c_make_encoder(None, default or _unknown, std.encode_basestring, None, ":", ",", False, False,
                                  allow_nan)
    except TypeError:  # no C speedups in this Python (c_make_encoder is None), or another signature
        return plain

    def encode(value: Any) -> str:
        if type(value) is str:
            return std.encode_basestring(value)
        return "".join(make(value, 0))

    return encode


def _unknown(v: Any) -> Any:
    raise TypeError(f"Object of type {type(v).__name__} is not JSON serializable")


_encode_json = _one_shot(allow_nan=False)


def _known(v: Any) -> Any:
    """For :func:`check`'s C walk: a stand-in for a value the codec carries; sets are walked."""
    if isinstance(v, (set, frozenset)):
        return list(v)
    if type(v) in _ENCODERS or isinstance(v, (PurePath, _dt.date, _dt.time)):
        return None
    from .sdk.types import Secret

    if isinstance(v, Secret) or (type(v).__module__ == "numpy" and hasattr(v, "tolist")):
        return None
    raise CodecError(f"a value of type {describe(v)} cannot be stored or sent")


_check_json = _one_shot(_known, allow_nan=True)
_SCALARS = frozenset({str, int, float, bool, type(None)})


def dumps(value: Any) -> str | None:
    """JSON text for ``value`` (None for None, so SQL columns stay NULL)."""
    if value is None:
        return None
    if type(value) is dict and _flat_plain(value):  # most steps' parameters and outputs: no walk needed
        return _encode_json(value)
    return _encode_json(_enc(value, 0))


def to_json(value: Any) -> str:
    """JSON text for ``value``, ``null`` included (one line of an event stream)."""
    if type(value) is dict and _flat_plain(value):
        return _encode_json(value)
    return _encode_json(_enc(value, 0))


def _flat_plain(d: dict) -> bool:
    """True for a dict of text keys and plain scalar values, which JSON carries as they are."""
    for k, v in d.items():
        if type(k) is not str or k == TAG:
            return False
        t = type(v)
        if t is str or t is bool or v is None:
            continue
        if t is int:
            if v.bit_length() > _BIG_BITS:
                return False
        elif t is not float or not math.isfinite(v):
            return False
    return True


def display(value: Any, limit: int | None = None) -> str:
    """Readable text of a value for people (the console, the designer's variables): JSON with dates as
    ISO text, Decimals as numbers' text, bytes as their size, secrets as ``<secret NAME>``. For
    showing only; what is read back goes through :func:`dumps`."""
    if isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, default=_shown, allow_nan=True)
    return text if limit is None or len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def _shown(v: Any) -> Any:
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    if isinstance(v, _dt.timedelta):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return f"<{len(v)} bytes>"
    if isinstance(v, (set, frozenset, tuple)):
        return list(v)
    if type(v).__module__ == "numpy" and hasattr(v, "tolist"):
        return v.tolist()
    return str(v)  # Decimal, paths, Secret (prints as <secret NAME>)


# ------------------------------------------------------------------ decoding
def _clock(parse):
    """A decoder for datetime or time: the ISO text, then its IANA zone and fold when kept."""
    def decode(obj: dict):
        value = parse(obj["v"])
        if "tz" in obj:
            from zoneinfo import ZoneInfo

            value = value.replace(tzinfo=ZoneInfo(obj["tz"]))
        if obj.get("fold"):
            value = value.replace(fold=1)
        return value

    return decode


def _dec_secret(obj: dict) -> Any:
    from .secrets import SecretStore
    from .sdk.types import Secret

    return Secret(obj["name"], SecretStore().get)


_DECODERS: dict[str, Any] = {
    "int": lambda o: int(o["v"], 16),
    "float": lambda o: float(o["v"]),
    "map": lambda o: {_freeze(k): x for k, x in o["v"]},
    "tuple": lambda o: tuple(o["v"]),
    "set": lambda o: {_freeze(x) for x in o["v"]},
    "frozenset": lambda o: frozenset(_freeze(x) for x in o["v"]),
    "decimal": lambda o: Decimal(o["v"]),
    "bytes": lambda o: base64.b64decode(o["v"]),
    "bytearray": lambda o: bytearray(base64.b64decode(o["v"])),
    "datetime": _clock(_dt.datetime.fromisoformat),
    "date": lambda o: _dt.date.fromisoformat(o["v"]),
    "time": _clock(_dt.time.fromisoformat),
    "timedelta": lambda o: _dt.timedelta(days=o["v"][0], seconds=o["v"][1], microseconds=o["v"][2]),
    "path": lambda o: Path(o["v"]),
    "wpath": lambda o: PureWindowsPath(o["v"]),
    "secret": _dec_secret,
}


def _freeze(value: Any) -> Any:
    """Dict keys and set members decode as lists when they were tuples of lists: keep them hashable."""
    return tuple(_freeze(x) for x in value) if isinstance(value, list) else value


def _hook(obj: dict) -> Any:
    tag = obj.get(TAG)
    if tag is None:
        return obj
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise ValueError(f"unknown value tag {tag!r}: written by a newer Botloom?")
    return decoder(obj)


def decode(obj: Any) -> Any:
    """The value an ``encode`` result stands for (``decode(encode(v)) == v``)."""
    return json.loads(json.dumps(obj), object_hook=_hook) if _has_tag(obj) else obj


def _has_tag(obj: Any) -> bool:
    if isinstance(obj, dict):
        return TAG in obj or any(_has_tag(x) for x in obj.values())
    if isinstance(obj, list):
        return any(_has_tag(x) for x in obj)
    return False


def loads(text: str | bytes | None) -> Any:
    """The value of JSON text written by :func:`dumps` (None for None)."""
    if text is None:
        return None
    return json.loads(text, object_hook=_hook)


__all__ = ["CodecError", "SCHEMA", "check", "decode", "display", "dumps", "encode", "loads", "to_json"]
