"""Value types shared by parameters, data ports, bot inputs and variables.

Botloom values are JSON values (strings, numbers, booleans, null, lists, objects), so they can
be journalled and replayed exactly. A *table* is a list of row objects. A *secret* parameter
holds the secret's name; the node receives a :class:`Secret` whose text is fetched on demand.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from typing import Any, Callable


class TypeMismatch(ValueError):
    """A value does not fit a type; the message says what was expected and what was found."""


def describe(value: Any) -> str:
    """A short, readable description of a value for error messages."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}" if not isinstance(value, str) else text


class Secret:
    """A named secret. It prints as ``<secret NAME>``; ``reveal()`` gives the text."""

    __slots__ = ("name", "_fetch")

    def __init__(self, name: str, fetch: Callable[[str], str]):
        self.name = name
        self._fetch = fetch

    def reveal(self) -> str:
        return self._fetch(self.name)

    def __repr__(self) -> str:
        return f"<secret {self.name}>"

    __str__ = __repr__


def _string(v):
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    raise TypeMismatch(f"expected text, got {describe(v)}")


def _integer(v):
    if isinstance(v, bool):
        raise TypeMismatch(f"expected a whole number, got {describe(v)}")
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        try:
            return int(v.strip())
        except ValueError:
            pass
    raise TypeMismatch(f"expected a whole number, got {describe(v)}")


def _number(v):
    if isinstance(v, bool):
        raise TypeMismatch(f"expected a number, got {describe(v)}")
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            raise TypeMismatch(f"expected a finite number, got {v}")
        return v
    if isinstance(v, str):
        try:
            number = float(v.strip())
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return int(number) if number.is_integer() and "." not in v and "e" not in v.lower() else number
    raise TypeMismatch(f"expected a number, got {describe(v)}")


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0", ""}


def _boolean(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
        return v.strip().lower() in _TRUE
    raise TypeMismatch(f"expected true or false, got {describe(v)}")


def _list(v):
    if isinstance(v, list):
        return v
    if isinstance(v, tuple):
        return list(v)
    raise TypeMismatch(f"expected a list, got {describe(v)}")


def _object(v):
    if isinstance(v, dict):
        return v
    raise TypeMismatch(f"expected an object (key/value pairs), got {describe(v)}")


def _table(v):
    rows = _list(v) if not isinstance(v, list) else v
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise TypeMismatch(f"expected a table (a list of rows), but row {i} is {describe(row)}")
    return rows


def _path(v):
    if isinstance(v, str):
        return v
    try:
        import os

        return os.fspath(v)
    except TypeError:
        raise TypeMismatch(f"expected a file or folder path, got {describe(v)}") from None


def _any(v):
    return v


class ValueType:
    """A named type: how to check and convert a value, and its JSON Schema."""

    __slots__ = ("name", "coerce", "schema", "title")

    def __init__(self, name: str, coerce: Callable[[Any], Any], schema: dict, title: str):
        self.name = name
        self.coerce = coerce
        self.schema = schema
        self.title = title


TYPES: dict[str, ValueType] = {
    t.name: t
    for t in (
        ValueType("any", _any, {}, "any value"),
        ValueType("string", _string, {"type": "string"}, "text"),
        ValueType("integer", _integer, {"type": "integer"}, "whole number"),
        ValueType("number", _number, {"type": "number"}, "number"),
        ValueType("boolean", _boolean, {"type": "boolean"}, "true/false"),
        ValueType("list", _list, {"type": "array"}, "list"),
        ValueType("object", _object, {"type": "object"}, "object"),
        ValueType("table", _table, {"type": "array", "items": {"type": "object"}}, "table"),
        ValueType("path", _path, {"type": "string"}, "file or folder path"),
        ValueType("secret", _string, {"type": "string"}, "secret name"),
    )
}

# Which value types a data edge may carry into which (source -> accepted targets).
_WIDENS = {"integer": {"number"}, "table": {"list"}, "path": {"string"}, "string": {"path"}}


def compatible(source: str, target: str) -> bool:
    """Whether a data port of type ``source`` may feed a parameter of type ``target``."""
    if source == target or "any" in (source, target):
        return True
    return target in _WIDENS.get(source, ())


def coerce(type_name: str, value: Any) -> Any:
    return TYPES[type_name].coerce(value)


def parse_text(type_name: str, text: str) -> Any:
    """Convert text typed by a person (CLI ``--input k=v``) to a value of ``type_name``."""
    if type_name in ("list", "object", "table") or (type_name == "any" and text[:1] in "[{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            if type_name == "any":
                return text
            raise TypeMismatch(f"expected JSON for a {TYPES[type_name].title}: {exc.msg}") from None
        return coerce(type_name, value)
    return coerce(type_name, text)


def check_json(value: Any, where: str) -> None:
    """Raise TypeMismatch if ``value`` is not a plain JSON value (needed to journal it)."""
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeMismatch(f"{where}: {value} cannot be stored")
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            check_json(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeMismatch(f"{where}: object keys must be text, got {describe(key)}")
            check_json(item, f"{where}.{key}")
        return
    raise TypeMismatch(f"{where}: {describe(value)} is not a value Botloom can store "
                       "(use text, numbers, true/false, lists or objects)")
