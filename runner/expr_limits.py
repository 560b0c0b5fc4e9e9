"""What an expression may do: the limits of one evaluation, and the checks that keep to them.

No Jinja2 here (the environment that calls these checks is :mod:`.expr_sandbox`). Jinja2's
immutable sandbox is the base; this is what it leaves open, and how it is closed.

Change. The sandbox refuses ``items.append`` but not ``dict.update(items, ...)``, and lets any
method of any object run (``path.unlink()``). Every call is checked (``expr_sandbox``): a
mutating method is refused however it was reached (bound or unbound), and so is a method of
anything but a plain value (texts, numbers, dates, lists, dicts, pure paths). Reading a missing
key of a defaultdict, which would add it, reads as undefined. ``dict``, ``namespace``,
``cycler`` and ``joiner`` are functions, not classes (a class hands out its unbound methods),
and the objects the last three make can only be changed by the evaluation that made them: one
kept in a variable is read-only from then on.

Exhaustion. Each evaluation has a :class:`Budget`, kept in a context variable (threads do not
share one). Every operator, call, filter, loop pass and macro run ticks it (``MAX_STEPS``,
``MAX_SECONDS``); work done out of sight, by C code or a key function, is charged by size
(:meth:`Budget.charge`). Each value built is measured (``MAX_SIZE`` each, ``MAX_BUILT`` all
together, ``MAX_DIGITS`` for integers), and the operations that can build far more than they
are given (repetition, powers, ``%`` and ``format`` with widths, ``replace``, ``join``,
padding, ``indent``, ``wordwrap``, ``tojson``, ``lipsum``, ``sum`` of lists, the text of a
list sharing one long text many times) are measured *before* they run, by :func:`text_size`
and the ``check_*`` functions.

What no budget can interrupt: one step of C code runs to its end (sorting a list of a few
million items takes a second or so). Values made of shared parts are measured whole where
they are written (literals, ``dict()``) and where they outlive a loop pass (``{% set ns.x %}``),
so a lattice that doubles at each pass (whose comparison would take exponential time) is
refused within about twenty passes.
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import decimal
import functools
import itertools
import json
import math
import re
import string
import time
from typing import Any

# Limits of one evaluation (one parameter value, or one check of a condition).
MAX_SECONDS = 1.0  # time one evaluation may take
MAX_STEPS = 200_000  # operators, calls, filters and loop passes in one evaluation
MAX_SIZE = 4_000_000  # characters of a text, items of a list: one value built (the rendered text too)
MAX_BUILT = 16_000_000  # characters and items of all the values one evaluation builds, added up
MAX_DEPTH = 50  # brackets nested in an expression's text; macro and loop calls nested while it runs
MAX_CODE = 20_000  # characters of code (inside {{ }}, {% %} or a condition) in one value
MAX_DIGITS = 4_300  # digits of an integer (Python's own limit for writing one as text)
MAX_POWER = 10_000  # largest exponent
MAX_WIDTH = 100_000  # widest field, padding, precision, indent or repeat count in formatting
MAX_BITS = int(MAX_DIGITS * math.log2(10))  # an integer of this many bits has at most MAX_DIGITS digits


class Refused(Exception):
    """A limit of this module stopped an evaluation; the message names the limit."""


class Budget:
    __slots__ = ("deadline", "steps", "built", "depth")

    def __init__(self):
        self.deadline = time.monotonic() + MAX_SECONDS
        self.steps = self.built = self.depth = 0

    def tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise Refused(f"it takes over {MAX_STEPS:,} steps (operators, calls, filters, loop passes), "
                          f"the limit MAX_STEPS")
        if time.monotonic() > self.deadline:
            raise Refused(f"it runs for over {MAX_SECONDS:g} s, the limit MAX_SECONDS")

    def charge(self, steps: int) -> None:
        """Work done a step at a time in C or by a key function: ``steps`` ticks at once."""
        self.steps += max(steps - 1, 0)
        self.tick()

    def built_value(self, size: int) -> None:
        self.built += size
        if self.built > MAX_BUILT:
            raise Refused(f"the values it builds add up to over {MAX_BUILT:,} characters or items, "
                          f"the limit MAX_BUILT")


_current: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("botloom_expression_budget",
                                                                         default=None)


def start() -> contextvars.Token | None:
    """Start one evaluation under a new budget; None when one is running (the parts of a list
    or dict value share their value's budget). Pass the result to :func:`stop`."""
    return _current.set(Budget()) if _current.get() is None else None


def stop(token: contextvars.Token | None) -> None:
    if token is not None:
        _current.reset(token)


current = _current.get  # the running evaluation's budget, or None


def bits(n: int) -> float:
    """About how many bits ``n ** k`` has, per unit of k."""
    return math.log2(n)


def budget() -> Budget:
    return current() or Budget()  # a constant folded outside an evaluation gets its own


def predict(size: int, what: str = "a text") -> None:
    if size > MAX_SIZE:
        raise Refused(f"it would build {what} of about {size:,} characters or items, over the limit of "
                      f"{MAX_SIZE:,} (MAX_SIZE)")


def width(n: Any, what: str = "width") -> int:
    if isinstance(n, int) and not isinstance(n, bool) and abs(n) > MAX_WIDTH:
        raise Refused(f"the {what} {n:,} is over the limit of {MAX_WIDTH:,} (MAX_WIDTH)")
    return n if isinstance(n, int) else 0


def digits_refused() -> Refused:
    return Refused(f"the result would be an integer of over {MAX_DIGITS:,} digits, the limit MAX_DIGITS")


SIZED = (str, bytes, bytearray, list, tuple, dict, set, frozenset)


def checked(value: Any, b: Budget) -> Any:
    """``value``, after checking what building it cost: its size, or an integer's digits."""
    t = type(value)
    if t is int:
        if value.bit_length() > MAX_BITS:
            raise digits_refused()
    elif t is str or t is list or isinstance(value, SIZED):
        n = len(value)
        predict(n, "a value")
        b.built_value(n)
    elif isinstance(value, int) and value.bit_length() > MAX_BITS:
        raise digits_refused()
    return value


def text_size(value: Any, limit: int = MAX_SIZE) -> int:
    """About how many characters ``str(value)`` has; stops counting once past ``limit``.

    Counts every path to a shared value, so a list holding one long text a million times is
    measured as the text it would print, not as the memory it takes; a part met again is
    looked up, not walked again. Data nested over 100 deep counts as too large.
    """
    return _size(value, limit, {}, 0)


_INT, _STR = frozenset([int]), frozenset([str])


def _size(v: Any, limit: int, seen: dict, depth: int) -> int:
    t = type(v)
    if t is str or t is bytes:
        return len(v) + 2
    if t is int:
        return v.bit_length() // 3 + 1
    if t is float or t is bool or v is None:
        return 24
    if isinstance(v, (list, tuple, set, frozenset, dict)):
        known = seen.get(id(v))  # the value is alive while it is measured: ids stay its own
        if known is not None:
            return known
        total = 2 + 2 * len(v)
        if depth > 100:
            total = limit + 1
        elif total <= limit and not isinstance(v, dict):
            kinds = set(map(type, v))  # a list of only numbers or only texts: measured at C speed
            if kinds <= _INT:
                total += sum(map(int.bit_length, v)) // 3 + len(v)
                seen[id(v)] = total
                return total
            if kinds <= _STR:
                total += sum(map(len, v))
                seen[id(v)] = total
                return total
        for item in (itertools.chain(v.keys(), v.values()) if isinstance(v, dict) else v):
            if total > limit:
                break
            ti = type(item)
            if ti is str:
                total += len(item) + 2
            elif ti is int:
                total += item.bit_length() // 3 + 1
            else:
                total += _size(item, limit, seen, depth + 1)
        seen[id(v)] = total
        return total
    if isinstance(v, (str, bytes, bytearray)):
        return len(v) + 2
    if isinstance(v, int):
        return v.bit_length() // 3 + 1
    if isinstance(v, decimal.Decimal) and v.is_finite():
        t = v.as_tuple()
        return len(t.digits) + abs(t.exponent)
    return 32


# ---------------------------------------------------------------- measuring before building

_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?([a-zA-Z%])")


def check_percent(fmt: str | bytes, args: Any) -> None:
    """``fmt % args`` with its widths (``%*d`` takes one from the arguments) and texts measured."""
    if isinstance(fmt, (bytes, bytearray)):
        fmt = bytes(fmt).decode("latin-1")
    values = tuple(args.values()) if isinstance(args, dict) else args if isinstance(args, tuple) else (args,)
    star = max((abs(v) for v in values if isinstance(v, int)), default=0)
    widest = max((text_size(v) for v in values), default=0)
    total = len(fmt)
    for w_text, p_text, conversion in _PERCENT.findall(fmt):
        if conversion == "%":
            continue
        w = width(star if w_text == "*" else int(w_text or 0), "field width")
        p = width(star if p_text == "*" else int(p_text or 0), "precision")
        total += max(w, p) + widest
    predict(total)


def check_format(fmt: str, args: tuple, kwargs: dict) -> None:
    """``fmt.format(*args, **kwargs)`` measured: each field's width (nested ``{}`` widths are
    looked up in the arguments) and the longest argument's text, per field."""
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError:
        return  # the real call raises the same error
    budget().charge(len(fields))  # the sandbox's formatter is Python: a step per field
    values = (*args, *kwargs.values())
    widest = max((text_size(v) for v in values), default=0)
    auto, total = iter(range(len(args))), 0
    for literal, name, spec, _conversion in fields:
        total += len(literal)
        if name is None:
            continue
        if name == "":
            next(auto, None)
        if spec and "{" in spec:
            spec = _nested_spec(spec, args, kwargs, auto)
        widths = [width(int(d), "field width") for d in re.findall(r"\d+", spec or "")]
        total += max(widths, default=0) + widest + (16 * len(spec) if "%" in (spec or "") else 0)
    predict(total)


def _nested_spec(spec: str, args: tuple, kwargs: dict, auto) -> str:
    def value(m: re.Match) -> str:
        key = m.group(1)
        if key and not (key.isdigit() or key.isidentifier()):
            raise Refused(f"a field inside a format spec may only name an argument, not {key!r}")
        try:
            v = args[next(auto)] if key == "" else args[int(key)] if key.isdigit() else kwargs[key]
        except (IndexError, KeyError, StopIteration):
            return ""  # the real call reports the missing argument
        return str(v)[:40] if isinstance(v, (int, str)) else ""

    return re.sub(r"\{([^{}]*)\}", value, spec)


def check_replace(s: Any, old: Any, new: Any, count: Any = -1, **_) -> None:
    if not isinstance(s, (str, bytes)) or not isinstance(old, type(s)) or not isinstance(new, type(s)):
        return
    hits = s.count(old) if old else len(s) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    predict(len(s) + hits * max(len(new) - len(old), 0))


def joined(sep: Any, items: Any) -> list:
    """``items`` as a list, after checking that ``sep.join(items)`` stays within MAX_SIZE."""
    items = list(items)
    budget().charge(len(items))
    sep_len = len(sep) if isinstance(sep, (str, bytes)) else text_size(sep)
    total = sep_len * max(len(items) - 1, 0)
    for item in items:
        total += text_size(item)
        if total > MAX_SIZE:
            break
    predict(total)
    return items


def check_lines(s: Any, per_line: int) -> None:
    """A text that will get ``per_line`` more characters on each line (indent, wordwrap)."""
    if isinstance(s, str):
        predict(len(s) + (s.count("\n") + 1) * per_line)


def safe_sum(iterable, start=0):
    """``sum``; lists and tuples are joined in linear time and measured first (``sum(x, [])``
    is quadratic in Python)."""
    if isinstance(start, (int, float, complex, decimal.Decimal)):
        return sum(iterable, start)
    items = list(iterable)
    if not isinstance(start, (list, tuple)) or not all(type(i) is type(start) for i in items):
        return sum(items, start)  # Python raises its own error (texts: use join)
    predict(len(start) + sum(len(i) for i in items), "a list")
    out = list(start)
    for i in items:
        out.extend(i)
    return out if isinstance(start, list) else tuple(out)


def parse_date(text: str, fmt: str | None = None):
    if isinstance(text, (_dt.date, _dt.datetime)):
        return text
    if isinstance(text, str) and len(text) > 1000 or isinstance(fmt, str) and len(fmt) > 1000:
        raise Refused("parse_date reads dates of up to 1,000 characters")
    if fmt:
        return _dt.datetime.strptime(text, fmt)
    return _dt.datetime.fromisoformat(text)


# ---------------------------------------------------------------- the environment

@functools.lru_cache(maxsize=None)
def _json_encoder(indent: Any) -> json.JSONEncoder:
    return json.JSONEncoder(sort_keys=True, indent=indent)


def to_json(value: Any, indent: Any = None) -> str:
    """Jinja's ``tojson``, written piece by piece so that it stops at MAX_SIZE characters."""
    from markupsafe import Markup

    width(indent if isinstance(indent, int) else len(indent or ""), "indent")
    parts, size, b = [], 0, budget()
    for chunk in _json_encoder(indent).iterencode(value):
        size += len(chunk)
        if size > MAX_SIZE:
            raise Refused(f"its JSON grows past {MAX_SIZE:,} characters, the limit MAX_SIZE")
        parts.append(chunk)
        if len(parts) % 1024 == 0:
            b.tick()
    text = "".join(parts)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                  .replace("'", "\\u0027"))
