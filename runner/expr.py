"""Expressions: ``{{ ... }}`` inside parameter values and conditions.

Expressions run in Jinja2's immutable sandbox, so a bot written by someone else cannot call
Python internals, read files, reach the operating system or change values in place through
an expression: attribute access to ``__class__``/``__globals__`` and friends, unsafe methods
and mutating methods are refused, and huge repetitions are capped.

A value that is exactly one ``{{ expr }}`` keeps its native type (``"{{ count + 1 }}"`` is a
number). A value with text around expressions is rendered to text. A condition parameter
(``Param(expression=True)``) is an expression even without braces.

Names an expression sees: the flow's variables by name; ``vars`` (the same, as an object);
``inputs``; ``nodes`` (``nodes.read.rows`` is the ``rows`` output of node ``read``); ``run``
(``id``, ``bot``); and helper functions (``now()``, ``today()``, ``parse_date()``, ...).
Jinja2's filters work as usual: ``{{ name | upper }}``, ``{{ rows | length }}``.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import re
from typing import Any, Callable

from .errors import ExpressionError, did_you_mean

OPEN = "{{"
_WHOLE = re.compile(r"^\s*\{\{(?P<body>.*?)\}\}\s*$", re.S)
MAX_REPEAT = 1_000_000  # items a repetition ('a' * n) may produce
MAX_POWER = 10_000  # largest exponent
MAX_BITS = 1_000_000  # largest integer a power may produce (about 300,000 digits)
MAX_WIDTH = 100_000  # widest padding or field width in formatting
_PERCENT_SPEC = re.compile(r"%[-#0 +]*(\d*)(?:\.(\d+))?")
_BRACE_SPEC = re.compile(r"\{[^{}]*?:([^{}]*)\}")
_NESTED_SPEC = re.compile(r"\{[^{}]*:[^{}]*\{")
_WIDTH_METHODS = {"center", "ljust", "rjust", "zfill", "expandtabs"}

_env = None


def has_expression(value: Any) -> bool:
    if isinstance(value, str):
        return OPEN in value
    if isinstance(value, list):
        return any(has_expression(v) for v in value)
    if isinstance(value, dict):
        return any(has_expression(v) for v in value.values())
    return False


def _environment():
    global _env
    if _env is None:
        _env = _make_environment()
    return _env


def _make_environment():
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

    class Sandbox(ImmutableSandboxedEnvironment):
        """Jinja2's immutable sandbox, plus limits on what one expression may allocate."""

        intercepted_binops = frozenset(["*", "**", "%"])

        def call_binop(self, context, operator, left, right):
            if operator == "*":
                for seq, n in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and n * max(len(seq), 1) > MAX_REPEAT:
                        raise SecurityError(f"repeating a value {n} times is over the limit of {MAX_REPEAT} items")
            if operator == "**" and isinstance(right, (int, float)):
                if abs(right) > MAX_POWER:
                    raise SecurityError(f"the power {right} is over the limit of {MAX_POWER}")
                if isinstance(left, int) and right > 0 and left.bit_length() * right > MAX_BITS:
                    raise SecurityError(f"the result of this power would have over {MAX_BITS} bits")
            if operator == "%" and isinstance(left, str):
                _check_widths(left, SecurityError)
            return super().call_binop(context, operator, left, right)

        def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's signature)
            if getattr(__obj, "__name__", None) in _WIDTH_METHODS and isinstance(getattr(__obj, "__self__", None), str):
                _check_call_widths(None, args, kwargs, SecurityError)
            return super().call(__context, __obj, *args, **kwargs)

        def wrap_str_format(self, value):
            wrapped = super().wrap_str_format(value)
            if wrapped is None:
                return None
            fmt = value.__self__  # str.format / format_map: the format is known when looked up
            _check_widths(fmt, SecurityError)
            if not _NESTED_SPEC.search(fmt):
                return wrapped

            def nested(*args, **kwargs):  # '{0:{1}}': widths come from the arguments
                _check_call_widths(None, args, kwargs, SecurityError)
                return wrapped(*args, **kwargs)

            return nested

    env = Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.globals.update(
        now=lambda: _dt.datetime.now().astimezone(),
        utcnow=lambda: _dt.datetime.now(_dt.timezone.utc),
        today=_dt.date.today,
        parse_date=_parse_date,
        timedelta=_dt.timedelta,
        len=len, int=int, float=float, str=str, bool=bool, round=round, abs=abs,
        min=min, max=max, sum=sum, sorted=sorted, enumerate=enumerate, zip=zip,
    )
    for name in ("center", "indent", "wordwrap", "format", "truncate"):
        env.filters[name] = _width_guard(env.filters[name], name == "format", SecurityError)
    env.filters["fromjson"] = json.loads
    env.filters["todate"] = _parse_date
    return env


def _check_widths(fmt: str, error) -> None:
    """Refuse format strings whose field widths would build huge texts ('%0100000000d')."""
    widths = [m.group(1) for m in _PERCENT_SPEC.finditer(fmt)] + [m.group(2) for m in _PERCENT_SPEC.finditer(fmt)]
    widths += [d for spec in _BRACE_SPEC.findall(fmt) for d in re.findall(r"\d+", spec)]
    if any(w and int(w) > MAX_WIDTH for w in widths):
        raise error(f"a field width in this format is over the limit of {MAX_WIDTH}")


def _check_call_widths(fmt: str | None, args: tuple, kwargs: dict, error) -> None:
    if fmt is not None:
        _check_widths(fmt, error)
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_WIDTH:
            raise error(f"the width {value} is over the limit of {MAX_WIDTH}")
        if fmt is None and isinstance(value, str) and len(value) > MAX_WIDTH:
            raise error(f"padding text of {len(value)} characters is over the limit of {MAX_WIDTH}")


def _width_guard(fn, formats: bool, error):
    @functools.wraps(fn)
    def guarded(value, *args, **kwargs):
        _check_call_widths(value if formats and isinstance(value, str) else None, args, kwargs, error)
        return fn(value, *args, **kwargs)

    return guarded


def _parse_date(text: str, fmt: str | None = None):
    if isinstance(text, (_dt.date, _dt.datetime)):
        return text
    if fmt:
        return _dt.datetime.strptime(text, fmt)
    return _dt.datetime.fromisoformat(text)


class Expression:
    """A compiled parameter value; call with a namespace dict to evaluate it."""

    __slots__ = ("source", "_fn")

    def __init__(self, source: str, fn: Callable[[dict], Any]):
        self.source = source
        self._fn = fn

    def __call__(self, namespace: dict) -> Any:
        try:
            return self._fn(namespace)
        except ExpressionError:
            raise
        except Exception as exc:
            raise _runtime_error(self.source, exc, namespace) from None

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def compile_value(value: Any, *, bare: bool = False) -> Any:
    """Compile expressions inside a parameter value.

    Returns the value unchanged when it has no expression, otherwise an :class:`Expression`.
    Raises ExpressionError for a syntax error. ``bare`` treats a plain string as an
    expression (condition parameters).
    """
    if isinstance(value, str):
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


# Compiling costs ~0.3 ms; bots repeat the same expressions across nodes, so compiled code is
# shared by text. Jinja's compiled expressions and templates hold no per-call state.
@functools.lru_cache(maxsize=4096)
def _jinja_expression(body: str):
    return _environment().compile_expression(body, undefined_to_none=False)


@functools.lru_cache(maxsize=4096)
def _jinja_template(text: str):
    return _environment().from_string(text)


def _compile_expression(body: str, source: str) -> Expression:
    from jinja2 import TemplateSyntaxError

    try:
        fn = _jinja_expression(body.strip())
    except TemplateSyntaxError as exc:
        raise ExpressionError(f"syntax error in expression {source!r}: {exc.message}",
                              fix="check brackets, quotes and operators") from None
    return Expression(source, lambda ns: _native(fn(**ns)))


def _compile_template(text: str) -> Expression:
    from jinja2 import TemplateSyntaxError

    try:
        template = _jinja_template(text)
    except TemplateSyntaxError as exc:
        raise ExpressionError(f"syntax error in {text!r}: {exc.message}",
                              fix="check that every {{ has a matching }}") from None
    return Expression(text, lambda ns: template.render(ns))


def _native(value: Any) -> Any:
    from jinja2 import Undefined

    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return value


def evaluate(value: Any, namespace: dict, *, bare: bool = False) -> Any:
    compiled = compile_value(value, bare=bare)
    return compiled(namespace) if isinstance(compiled, Expression) else compiled


_UNDEFINED = re.compile(r"^'([^']+)' is undefined$")


def _runtime_error(source: str, exc: Exception, namespace: dict) -> ExpressionError:
    from jinja2.exceptions import SecurityError, UndefinedError

    if isinstance(exc, SecurityError):
        return ExpressionError(f"expression {source!r} was refused by the sandbox: {exc}",
                               fix="expressions may only read values and call the documented helpers")
    if isinstance(exc, UndefinedError):
        msg = str(exc)
        m = _UNDEFINED.match(msg)
        if m:
            name = m.group(1)
            known = sorted(k for k in namespace if not k.startswith("_"))
            return ExpressionError(f"expression {source!r}: unknown name '{name}'{did_you_mean(name, known)}",
                                   fix=f"names available here: {', '.join(known[:15])}")
        return ExpressionError(f"expression {source!r}: {msg}",
                               fix="check the name of the field (a node's outputs are nodes.ID.NAME)")
    return ExpressionError(f"expression {source!r} failed: {type(exc).__name__}: {exc}")
