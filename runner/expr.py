"""Expressions: ``{{ ... }}`` inside parameter values and conditions.

A value that is exactly one ``{{ expr }}`` keeps its native type (``"{{ count + 1 }}"`` is a
number). A value with text around expressions is rendered to text. A condition parameter
(``Param(expression=True)``) is an expression even without braces.

Names an expression sees: the flow's variables by name; ``vars`` (the same, as an object);
``inputs``; ``nodes`` (``nodes.read.rows`` is the ``rows`` output of node ``read``); ``run``
(``id``, ``bot``); and helper functions (``now()``, ``today()``, ``parse_date()``, ...).
Jinja2's filters work as usual: ``{{ name | upper }}``, ``{{ rows | length }}``.

An expression can read, never change or exhaust. A bot written by someone else runs its
expressions in Jinja2's immutable sandbox, tightened (see :mod:`.expr_limits` and :mod:`.expr_sandbox`):

- no Python internals, files or operating system: no ``__attributes__``, no builtins but the
  helpers, and a method may be called only on plain values (texts, numbers, dates, lists...);
- nothing changes in place: mutating methods are refused however they are reached (``x.update``,
  ``dict.update(x, ...)``), and ``namespace()``/``cycler()``/``joiner()`` objects can only be
  changed by the evaluation that made them, so no value changes without a journal record;
- every evaluation has a budget (the ``MAX_*`` limits below): time, steps, the size of each
  value it builds and of all of them together, nesting, integer digits. Operators, calls,
  filters, loop passes and output are all checked, and an operation that would build too much
  is refused before it runs. A refusal is an :class:`ExpressionError` that names the limit;
  the engine adds the node and the parameter.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any, Callable

from .errors import ExpressionError, did_you_mean
from .expr_limits import (MAX_BUILT, MAX_CODE, MAX_DEPTH, MAX_DIGITS, MAX_POWER, MAX_SECONDS, MAX_SIZE, MAX_STEPS,
                          MAX_WIDTH, Budget, Refused, start, stop)
from .expr_limits import _current as _BUDGET

__all__ = ["Expression", "compile_value", "evaluate", "has_expression", "MAX_BUILT", "MAX_CODE", "MAX_DEPTH",
           "MAX_DIGITS", "MAX_POWER", "MAX_SECONDS", "MAX_SIZE", "MAX_STEPS", "MAX_WIDTH"]

OPEN = "{{"
_WHOLE = re.compile(r"^\s*\{\{(?P<body>.*?)\}\}\s*$", re.S)
_FIX_LIMIT = ("make the expression do less (the limits are listed under 'Expressions' in "
              "docs/bot-format.md), or do the heavy work in a node")
MAX_EXPRESSIONS = 1000  # {{ ... }} in one value: validation compiles them all, ~0.1 ms apiece
MAX_SOURCE = 1_000_000  # characters of one value that holds expressions


def has_expression(value: Any) -> bool:
    if isinstance(value, str):
        return OPEN in value
    if isinstance(value, list):
        return any(has_expression(v) for v in value)
    if isinstance(value, dict):
        return any(has_expression(v) for v in value.values())
    return False


class Expression:
    """A compiled parameter value; call with a namespace dict to evaluate it.

    One call is one evaluation with one budget; the parts of a list or dict value share it. An
    expression whose code calls no check at all (``count + 1``, ``total > 100``) has nothing to
    spend a budget on and skips making one: the hot path of counters and conditions.
    """

    __slots__ = ("source", "_fn", "_budgeted")

    def __init__(self, source: str, fn: Callable[[dict], Any], budgeted: bool = True):
        self.source = source
        self._fn = fn
        self._budgeted = budgeted

    def __call__(self, namespace: dict) -> Any:
        token = _BUDGET.set(Budget()) if self._budgeted and _BUDGET.get() is None else None  # start(), inlined
        try:
            return self._fn(namespace)
        except ExpressionError:
            raise
        except RecursionError:
            raise ExpressionError(f"expression {_short(self.source)} was refused by the sandbox: it calls itself or "
                                  f"nests too deeply (Python's recursion limit)", fix=_FIX_LIMIT) from None
        except MemoryError:
            raise ExpressionError(f"expression {_short(self.source)} ran out of memory", fix=_FIX_LIMIT) from None
        except Exception as exc:
            raise _runtime_error(self.source, exc, namespace) from None
        finally:
            if token is not None:
                _BUDGET.reset(token)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def compile_value(value: Any, *, bare: bool = False) -> Any:
    """Compile expressions inside a parameter value.

    Returns the value unchanged when it has no expression, otherwise an :class:`Expression`.
    Raises ExpressionError for a syntax error or a text nested too deeply to read. ``bare``
    treats a plain string as an expression (condition parameters).
    """
    if isinstance(value, str):
        if bare or OPEN in value:
            _check_size(value)
        if bare and OPEN not in value:
            return _compile_expression(value, value)
        if OPEN not in value:
            return value
        whole = _WHOLE.match(value)
        if whole and OPEN not in whole.group("body"):
            try:
                return _compile_expression(whole.group("body"), value)
            except ExpressionError:
                if "}}" not in whole.group("body"):  # '}}' inside: a nested object, or text after }}
                    raise
        return _compile_template(value)
    if isinstance(value, list) and has_expression(value):
        parts = [compile_value(v) for v in value]
        return Expression(json.dumps(value), lambda ns: [p(ns) if isinstance(p, Expression) else p for p in parts])
    if isinstance(value, dict) and has_expression(value):
        parts = {k: compile_value(v) for k, v in value.items()}
        return Expression(json.dumps(value), lambda ns: {k: p(ns) if isinstance(p, Expression) else p
                                                         for k, p in parts.items()})
    return value


def _check_size(source: str) -> None:
    """Refuse a value too large to compile in a moment, before anything reads it character by
    character (validation compiles every value of a bot, a hostile file's too)."""
    count = source.count(OPEN)
    if count > MAX_EXPRESSIONS or len(source) > MAX_SOURCE:
        raise ExpressionError(f"{_short(source)} holds {count} expressions in {len(source)} characters, over the limit "
                              f"of {MAX_EXPRESSIONS} expressions (MAX_EXPRESSIONS) and {MAX_SOURCE} characters "
                              "(MAX_SOURCE) in one value", fix="split it over several values, or build the text with a loop")


# Compiling costs ~0.3 ms; bots repeat the same expressions across nodes, so compiled code is
# shared by text. Jinja's compiled expressions and templates hold no per-call state.
@functools.lru_cache(maxsize=4096)
def _jinja_expression(body: str):
    return _environment().compile_expression(body, undefined_to_none=False)


@functools.lru_cache(maxsize=4096)
def _jinja_template(text: str):
    return _environment().from_string(text)


_env = None


def _environment():
    global _env
    if _env is None:
        from .expr_sandbox import make_environment

        _env = make_environment()
    return _env


def _compiled(make, text: str, source: str, fix: str):
    """``make(text)``, with every way compiling can fail turned into an ExpressionError."""
    from jinja2 import TemplateSyntaxError

    code = sum(map(len, _CODE.findall(text))) if make is _jinja_template else len(text)
    if code > MAX_CODE:
        raise ExpressionError(f"expression {_short(source)} has {code:,} characters of code, over the limit of "
                              f"{MAX_CODE:,} (MAX_CODE)", fix="split it into smaller expressions") from None
    depth = _nesting(text)
    if depth > MAX_DEPTH:
        raise ExpressionError(f"expression {_short(source)} has brackets nested {depth} deep, over the limit "
                              f"of {MAX_DEPTH} (MAX_DEPTH)", fix="split it into smaller expressions") from None
    token = start()  # constant parts are worked out while compiling, under the same limits
    try:
        return make(text)
    except TemplateSyntaxError as exc:
        raise ExpressionError(f"syntax error in {_short(source, 'expression ')}: {exc.message}", fix=fix) from None
    except (RecursionError, MemoryError) as exc:
        why = "is nested too deeply" if isinstance(exc, RecursionError) else "is too large"
        raise ExpressionError(f"expression {_short(source)} {why} to be read (Python's recursion limit)",
                              fix="split it into smaller expressions") from None
    except SyntaxError as exc:  # Python's own parser refusing the code Jinja made (deep nesting)
        raise ExpressionError(f"expression {_short(source)} is too complex to be read: {exc.msg}",
                              fix="split it into smaller expressions") from None
    finally:
        stop(token)


def _compile_expression(body: str, source: str) -> Expression:
    fn = _compiled(_jinja_expression, body.strip(), source, "check brackets, quotes and operators")
    return Expression(source, lambda ns: _native(fn(**ns)), _checks_anything(fn._template.root_render_func))


def _compile_template(text: str) -> Expression:
    template = _compiled(_jinja_template, text, text, "check that every {{ has a matching }}")
    return Expression(text, template.render,  # its output is counted as it is written
                      _checks_anything(template.root_render_func))


_HOOKS = frozenset(["call", "call_binop", "finalize", "filters"])  # names in Jinja's generated code


@functools.lru_cache(maxsize=4096)
def _checks_anything(fn) -> bool:
    """Does the code Jinja made for ``fn`` call a check (an operator, a call, a filter, an
    output, a rewritten loop or literal), in itself or in a function it defines?"""
    codes = [fn.__code__]
    while codes:
        code = codes.pop()
        if any(n in _HOOKS or n.startswith("botloom_") for n in code.co_names):
            return True
        codes.extend(c for c in code.co_consts if hasattr(c, "co_names"))
    return False


def _native(value: Any) -> Any:
    from jinja2 import Undefined

    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return value


_CODE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


def _nesting(text: str) -> int:
    """How deep brackets nest in ``text`` (quotes are not looked at: this only guards the parser)."""
    depth = deepest = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            deepest = depth if depth > deepest else deepest
        elif ch in ")]}" and depth:
            depth -= 1
    return deepest


def _short(source: str, prefix: str = "") -> str:
    """The source quoted for a message; a huge one is cut in the middle."""
    text = repr(source) if len(source) <= 200 else repr(source[:80] + " ... " + source[-80:])
    return prefix + text if prefix and not source.startswith(OPEN) else text


def evaluate(value: Any, namespace: dict, *, bare: bool = False) -> Any:
    compiled = compile_value(value, bare=bare)
    return compiled(namespace) if isinstance(compiled, Expression) else compiled


_UNDEFINED = re.compile(r"^'([^']+)' is undefined$")


def _runtime_error(source: str, exc: Exception, namespace: dict) -> ExpressionError:
    from jinja2.exceptions import SecurityError, UndefinedError

    if isinstance(exc, Refused):
        return ExpressionError(f"expression {_short(source)} was refused by the sandbox: {exc}", fix=_FIX_LIMIT)
    if isinstance(exc, SecurityError):
        return ExpressionError(f"expression {_short(source)} was refused by the sandbox: {exc}",
                               fix="expressions may only read values and call the documented helpers")
    if isinstance(exc, UndefinedError):
        msg = str(exc)
        m = _UNDEFINED.match(msg)
        if m:
            name = m.group(1)
            known = sorted(k for k in namespace if not k.startswith("_"))
            return ExpressionError(f"expression {_short(source)}: unknown name '{name}'{did_you_mean(name, known)}",
                                   fix=f"names available here: {', '.join(known[:15])}")
        return ExpressionError(f"expression {_short(source)}: {msg}",
                               fix="check the name of the field (a node's outputs are nodes.ID.NAME)")
    return ExpressionError(f"expression {_short(source)} failed: {type(exc).__name__}: {exc}")
