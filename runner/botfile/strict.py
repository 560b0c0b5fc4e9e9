"""Strict JSON for bot files: refuse what JSON does not allow, and say where it is.

Python's ``json`` module reads more than JSON (``NaN``, ``Infinity``, ``-Infinity``, numbers
that overflow to infinity), and what it refuses on other grounds it refuses without a place
(a whole number of more than 4,300 digits, nesting deeper than the interpreter's stack, a
lone UTF-16 surrogate such as ``"\\ud800"``, which is no character and cannot be saved
again). Here every refusal has a place: a JSON syntax error or a nesting too deep for the
parser has a line and a column; a value the parser read but a bot file cannot hold has a
JSON pointer.

Cost: a file that parses cleanly pays for one walk over its lists and objects (the depth
check), which looks at each one's item types at C speed. The parser's hooks mark a refused
value where it stands, so finding its pointer needs no second parse; strings are searched for
lone surrogates, and floats for infinity, only when the text shows one could be there.

Messages quote at most a short prefix of a value (``errors.quote``) and pointers show at most
a prefix of a long key (:func:`pointer_part`): a 50 MB value in a wrong place gives an error
of one line, not a copy of the value.
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

from ..errors import quote

MAX_DEPTH = 100  # nesting of lists and objects; the canonical writer recurses once per level
MAX_DIGITS = 4300  # digits of a whole number (Python's default limit for int <-> text)
QUOTE = 60  # characters of a key shown in a JSON pointer

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_OVERFLOW = re.compile(r"[eE]\+?\d{3}|\d{300}")  # where a number may be read as infinity (1e400)
# a JSON string (skipped whole) or a bracket, for finding where nesting goes too deep
_BRACKETS = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')


class Unfit(ValueError):
    """What a bot file cannot hold, and where: a JSON ``pointer``, or (when the parser itself
    gave up) a line and column in the message."""

    def __init__(self, message: str, *, pointer: str = "", fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.pointer = pointer
        self.fix = fix


def printable(text: str) -> str:
    """The text with lone surrogates written as ``\\udxxx`` escapes (they cannot be printed)."""
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def pointer_part(key: Any) -> str:
    """A key as one part of a JSON pointer (``~`` and ``/`` escaped); a long key is shortened
    to a prefix and its length, so that an error about it stays readable."""
    text = printable(str(key)).replace("~", "~0").replace("/", "~1")
    if len(text) > QUOTE:
        return f"{text[:QUOTE]}...({len(text)} characters)"
    return text


class _Refused:
    """Put by the parser in place of a value that is not JSON or too large to hold."""

    __slots__ = ("message", "fix")

    def __init__(self, message: str, fix: str):
        self.message = message
        self.fix = fix


class _Duplicated(dict):
    """An object in which ``key`` appears twice (the later value is kept, as json does)."""

    __slots__ = ("key",)


def _pairs(pairs: list) -> dict:
    data = dict(pairs)
    if len(data) == len(pairs):
        return data
    seen: set = set()
    key = next(k for k, _ in pairs if k in seen or seen.add(k))
    marked = _Duplicated(data)
    marked.key = key
    return marked


def _constant(text: str) -> _Refused:
    return _Refused(f"{text} is not JSON (JSON numbers are finite)",
                    "write a number, null, or the text in quotes (\"NaN\")")


def _integer(text: str) -> int | _Refused:
    digits = len(text.lstrip("-"))
    if digits <= MAX_DIGITS:
        try:
            return int(text)
        except ValueError:  # the interpreter's own limit was set lower
            pass
    limit = min(MAX_DIGITS, sys.get_int_max_str_digits() or MAX_DIGITS)
    return _Refused(f"a whole number of {digits} digits is more than the {limit} digits a bot file holds",
                    "shorten the number, or write it as text in quotes")


def parse(text: str) -> Any:
    """The JSON value of ``text``; raises :class:`Unfit` with a place for what is not JSON."""
    limit = sys.get_int_max_str_digits()
    # Python's own limit refuses long numbers without saying where; the hook says where (and
    # also guards an interpreter whose limit was raised or turned off)
    hooks = {} if 0 < limit <= MAX_DIGITS else {"parse_int": _integer}
    try:
        data = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant, **hooks)
    except json.JSONDecodeError as exc:
        raise Unfit(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                    fix="correct the JSON syntax at that place") from None
    except RecursionError:
        line, column = _line_column(text, _too_deep_at(text))
        raise Unfit(f"the values are nested more than {MAX_DEPTH} levels deep at line {line}, column {column}",
                    fix="flatten the value (Botloom could not save a file nested this deeply)") from None
    except ValueError:  # a number over Python's digit limit: read again, marking it where it stands
        data = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant, parse_int=_integer)
    if type(data) is _Refused:  # NaN or a long number alone: the whole file is the place
        raise Unfit(f"a bot file holds one JSON object {{...}}, this one holds a single value: {data.message}",
                    fix="start the file with { and end it with }")
    if type(data) not in _HOLDERS:
        return data  # the reader says what it holds instead of an object
    strings = _SURROGATE_ESCAPE.search(text) is not None or _SURROGATE.search(text) is not None
    check(data, strings=strings, floats=_OVERFLOW.search(text) is not None)
    return data


_HOLDERS = frozenset({dict, list, _Duplicated})
_SUSPECT = _HOLDERS | {_Refused, float}


def check(data: Any, *, strings: bool = True, numbers: bool = False, floats: bool = True) -> None:
    """Raise :class:`Unfit` at the first value, in the order of the file, that a bot file cannot
    hold: nesting deeper than MAX_DEPTH, a refused number, a duplicated key, a number that is
    not finite, (with ``strings``) a text or key with a lone surrogate and (with ``numbers``,
    for values built in Python rather than parsed) a whole number of more than MAX_DIGITS.
    Without ``floats`` (the text has no number that could overflow) floats are not looked at."""
    suspect = _SUSPECT | {str} if strings else _SUSPECT
    if not floats:
        suspect = suspect - {float}
    if numbers:
        suspect = suspect | {int}
    stack = [(data, "", 0)]
    while stack:
        value, ptr, depth = stack.pop()
        kind = type(value)
        if kind not in _HOLDERS:
            _check_scalar(value, ptr)
            continue
        if depth >= MAX_DEPTH:
            raise Unfit(f"the values are nested more than {MAX_DEPTH} levels deep", pointer=ptr,
                        fix="flatten the value (Botloom could not save a file nested this deeply)")
        if kind is _Duplicated:
            raise Unfit(f"the key {quote(value.key)} appears twice in one object",
                        pointer=f"{ptr}/{pointer_part(value.key)}",
                        fix="remove one copy (an unfinished git merge can leave two)")
        if kind is list:
            keys, values = None, value
        else:
            if strings:
                for key in value:
                    if _SURROGATE.search(key):
                        raise Unfit(f"the key {quote(key)} holds a lone surrogate (\\ud800-\\udfff), which is "
                                    "not a character", pointer=f"{ptr}/{pointer_part(key)}",
                                    fix="remove or correct that escape sequence")
            keys, values = None, value.values()
        if suspect.isdisjoint(map(type, values)):  # the common case, at C speed: nothing in here to look into
            continue
        if kind is not list:
            keys, values = list(value), list(values)
        kinds = list(map(type, values))
        children = []
        for i in [i for i, k in enumerate(kinds) if k in suspect]:  # a plain loop only over the suspects
            item = values[i]
            if _suspect(item, strings, numbers):
                children.append((item, f"{ptr}/{i if keys is None else pointer_part(keys[i])}", depth + 1))
        stack.extend(reversed(children))


_TOO_LONG = 10 ** MAX_DIGITS  # the smallest whole number of more than MAX_DIGITS digits


def _suspect(item: Any, strings: bool, numbers: bool) -> bool:
    kind = type(item)
    if kind is float:
        return not math.isfinite(item)
    if kind is str:
        return strings and _SURROGATE.search(item) is not None
    if kind is int:
        return numbers and item.bit_length() > 14_000 and abs(item) >= _TOO_LONG
    return kind in _SUSPECT


def _check_scalar(value: Any, ptr: str) -> None:
    if type(value) is _Refused:
        raise Unfit(value.message, pointer=ptr, fix=value.fix)
    if not _suspect(value, True, True):
        return
    if type(value) is int:
        raise Unfit(f"a whole number of more than {MAX_DIGITS} digits is more than a bot file holds", pointer=ptr,
                    fix="shorten the number, or write it as text in quotes")
    if type(value) is float:
        if math.isnan(value):
            raise Unfit("NaN is not JSON (JSON numbers are finite)", pointer=ptr, fix="write a number or null")
        raise Unfit("the number is too large for a bot file (beyond 1.8e308 it is read as infinity)", pointer=ptr,
                    fix="write a smaller number, or the number as text in quotes")
    raise Unfit(f"the text {quote(value)} holds a lone surrogate (\\ud800-\\udfff), which is not a character",
                pointer=ptr, fix="remove or correct that escape sequence")


def _too_deep_at(text: str) -> int:
    """The offset of the first bracket nested deeper than MAX_DEPTH (strings skipped)."""
    depth = 0
    for match in _BRACKETS.finditer(text):
        char = match.group()
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return match.start()
        elif char in "]}":
            depth -= 1
    return 0


def _line_column(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - text.rfind("\n", 0, offset)


def byte_position(raw: bytes, offset: int) -> tuple[int, int]:
    """Line and column (in characters, counted on the valid text before it) of a byte offset."""
    before = raw[:offset]
    line = before.count(b"\n") + 1
    start = before.rfind(b"\n") + 1
    return line, len(before[start:].decode("utf-8", "replace")) + 1
