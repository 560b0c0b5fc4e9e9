"""The Jinja2 environment expressions run in (imported when the first expression is compiled).

What it adds to Jinja2's immutable sandbox, and why, is told in :mod:`.expr_limits`: here are
the hooks. :class:`Sandbox` checks every operator (``call_binop``) and call (``call``);
:class:`_Checks` rewrites the parsed template so that ``~``, ``{% for %}`` and the text inside
loops, macros and blocks go through checks too; :func:`_guard_filter` wraps every filter.
"""

from __future__ import annotations

import codecs
import collections
import datetime as _dt
import decimal
import functools
import json
import pathlib
import types
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.compiler import CodeGenerator
from jinja2.filters import make_attrgetter
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, modifies_known_mutable
from jinja2.utils import Cycler, Joiner, Namespace, generate_lorem_ipsum, pass_environment
from jinja2.visitor import NodeTransformer

from . import expr_limits as L
from .expr_limits import current as _current
from .expr_limits import MAX_DEPTH, MAX_DIGITS, MAX_POWER, MAX_WIDTH, Refused, budget, checked, text_size


# ---------------------------------------------------------------- objects an expression may make

def _owner_check(obj: Any, kind: str) -> None:
    if object.__getattribute__(obj, "__dict__").get("_owner") is not L.current():
        raise Refused(f"this {kind} object was made by another evaluation: it can be read, not changed "
                      f"(a kept value changes only through a node, so that the journal records it)")


def _owned(obj):
    object.__setattr__(obj, "_owner", L.current())
    return obj


class OwnedNamespace(Namespace):
    def __setitem__(self, name: str, value: Any) -> None:
        """``{% set ns.x = ... %}``: the one way a value outlives a loop pass, so the one place a
        value made of shared parts (``dict(a=x, b=x)``, over and over) is measured whole."""
        _owner_check(self, "namespace()")
        if isinstance(value, (list, tuple, dict, set, frozenset)):
            L.predict(text_size(value), "a value")
        super().__setitem__(name, value)


class OwnedCycler(Cycler):
    def reset(self) -> None:
        _owner_check(self, "cycler()")
        super().reset()

    def next(self) -> Any:
        _owner_check(self, "cycler()")
        return super().next()

    __next__ = next


class OwnedJoiner(Joiner):
    def __call__(self) -> str:
        _owner_check(self, "joiner()")
        return super().__call__()


def namespace(*args, **kwargs):
    return _owned(OwnedNamespace(*args, **kwargs))


def cycler(*items):
    return _owned(OwnedCycler(*items))


def joiner(sep: str = ", "):
    return _owned(OwnedJoiner(sep))


def _dict(*args, **kwargs) -> dict:
    value = dict(*args, **kwargs)
    L.predict(text_size(value), "a dict")  # like a literal: dict(a=text, b=text) is two texts
    return value


def _text(value: Any = "") -> str:
    L.predict(text_size(value))
    return str(value)


def _round(number, ndigits=None):
    if isinstance(ndigits, int) and abs(ndigits) > MAX_DIGITS:
        raise Refused(f"rounding to {ndigits:,} digits is over the limit of {MAX_DIGITS:,} (MAX_DIGITS)")
    return round(number, ndigits)


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100):  # noqa: A002 (Jinja's names)
    if isinstance(n, int) and isinstance(max, int) and n * max > MAX_WIDTH:
        raise Refused(f"lipsum of {n:,} paragraphs of up to {max:,} words is over the limit of "
                      f"{MAX_WIDTH:,} words (MAX_WIDTH)")
    return generate_lorem_ipsum(n, html, min, max)


_NUMBERS = frozenset([int, float])
# The mutable plain types and the methods that change them. Jinja's modifies_known_mutable misses
# some (set.intersection_update; deque.rotate, as a deque matches its MutableSequence list first).
_SEQUENCE = {"append", "clear", "extend", "insert", "pop", "remove", "reverse"}
_MAPPING = {"clear", "pop", "popitem", "setdefault", "update"}
_MUTATORS = {list: _SEQUENCE | {"sort"}, bytearray: _SEQUENCE, dict: _MAPPING, collections.defaultdict: _MAPPING,
             collections.deque: _SEQUENCE | {"appendleft", "extendleft", "popleft", "rotate"},
             set: {"add", "clear", "difference_update", "discard", "intersection_update", "pop", "remove",
                   "symmetric_difference_update", "update"}}
# Types whose methods may be called: each either reads, or is in _MUTATORS and refused.
_PLAIN = frozenset([*_MUTATORS, type({}.keys()), type({}.values()), type({}.items()), OwnedNamespace,
                    OwnedCycler, OwnedJoiner, LoopContext])


_IMMUTABLE = (str, bytes, int, float, complex, decimal.Decimal, _dt.date, _dt.time, _dt.timedelta,
              tuple, frozenset, range, pathlib.PurePath)
_PURE_PATH = frozenset(["as_posix", "as_uri", "is_absolute", "is_relative_to", "is_reserved", "joinpath",
                        "relative_to", "with_name", "with_stem", "with_suffix"])  # not match(): a regex
_DESCRIPTORS = (types.MethodDescriptorType, types.WrapperDescriptorType)


def _check_method(obj: Any, args: tuple) -> tuple[Any, str, tuple] | None:
    """The owner, name and arguments of a method call (bound or unbound), after refusing one
    that changes its owner or belongs to anything but a plain value. None: not a method."""
    if isinstance(obj, _DESCRIPTORS):
        if not args:
            return None
        owner, args = args[0], args[1:]
    else:
        owner = getattr(obj, "__self__", None)
        if owner is None or isinstance(owner, (type, types.ModuleType)):
            return None
    name = getattr(obj, "__name__", "?")
    kind = type(owner).__name__
    if name in _MUTATORS.get(type(owner), ()) or modifies_known_mutable(owner, name):
        raise Refused(f"'{name}' would change a {kind} in place; expressions only read values")
    if type(owner) in _PLAIN or isinstance(owner, _IMMUTABLE):
        if not isinstance(owner, pathlib.PurePath) or name in _PURE_PATH:
            return owner, name, args
    raise Refused(f"calling '{name}' of a {kind} value is not allowed in an expression (only methods of "
                  f"texts, numbers, dates, lists and dicts that read)")


# ---------------------------------------------------------------- checks before an operation

def _check_repeat(left: Any, right: Any) -> None:
    for seq, n in ((left, right), (right, left)):
        if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int) and n > 1:
            L.predict(n * len(seq), "a repetition")
            if isinstance(seq, (list, tuple)):
                L.predict(n * text_size(seq, L.MAX_SIZE // n + 1), "a repetition")


def _check_power(left: Any, right: Any) -> None:
    if not isinstance(right, (int, float, decimal.Decimal)) or isinstance(right, bool):
        return
    if abs(right) > MAX_POWER:
        raise Refused(f"the power {right} is over the limit of {MAX_POWER:,} (MAX_POWER)")
    if isinstance(left, int) and abs(left) > 1 and right > 0 and L.bits(abs(left)) * right > L.MAX_BITS:
        raise L.digits_refused()


_SLOW_CODECS = frozenset(["idna", "punycode"])


def _check_text_method(s: Any, name: str, args: tuple, kwargs: dict) -> None:
    """Methods of str and bytes whose result can be far larger than the text."""
    if name in ("center", "ljust", "rjust", "zfill") and args:
        L.width(args[0])
    elif name == "expandtabs":
        tab = L.width(args[0] if args else kwargs.get("tabsize", 8), "tab size")
        L.predict(len(s) + s.count("\t" if isinstance(s, str) else b"\t") * max(tab, 0))
    elif name == "replace" and len(args) >= 2:
        L.check_replace(s, *args[:3], **kwargs)
    elif name in ("encode", "decode"):
        codec = args[0] if args else kwargs.get("encoding", "utf-8")
        if isinstance(codec, str) and codecs.lookup(codec).name in _SLOW_CODECS:
            raise Refused(f"the {codec!r} codec is written in Python and can take hours on a long text; "
                          f"it is not available in expressions")
    elif name == "translate" and args and isinstance(args[0], Mapping):
        longest = max((len(v) for v in args[0].values() if isinstance(v, (str, bytes))), default=1)
        L.predict(len(s) * max(longest, 1))


def _filter_checks() -> dict:
    """Checks run before a filter, by filter name; one may return a replacement for the value."""

    def center(value, width=80, **_):
        L.width(width)

    def indent(s, width=4, *_, **__):
        w = L.width(width, "indent") if isinstance(width, int) else len(str(width))
        L.check_lines(s, w)

    def wordwrap(s, width=79, break_long_words=True, wrapstring=None, *_, **__):
        if isinstance(s, str) and isinstance(width, int) and width > 0:
            wrap = len(wrapstring) if isinstance(wrapstring, str) else 1
            L.predict(len(s) + (len(s) // width + s.count("\n") + 1) * wrap)

    def format_(value, *args, **kwargs):
        if isinstance(value, str):
            L.check_percent(value, kwargs or args)

    def replace(s, old, new, count=None, **_):
        L.check_replace(s, old, new, -1 if count is None else count)

    def join(value, d="", attribute=None, **_):
        return L.joined(d, value)  # with an attribute, the items' whole text is an upper bound

    def batch(value, linecount, fill_with=None, **_):
        if fill_with is not None and isinstance(linecount, int):
            L.predict(linecount, "a batch")

    def slice_(value, slices, *_, **__):
        L.width(slices, "number of slices")

    def round_(value, precision=0, *_, **__):
        _round(0, precision)

    def urlize(value, trim_url_limit=None, nofollow=False, target=None, rel=None, *_, **__):
        if isinstance(value, str):
            extra = len(str(target or "")) + len(str(rel or "")) + 64
            L.predict(3 * len(value) + len(value.split()) * extra)

    return {"center": center, "indent": indent, "wordwrap": wordwrap, "format": format_, "replace": replace,
            "join": join, "batch": batch, "slice": slice_, "round": round_, "urlize": urlize,
            "string": lambda value, *_, **__: L.predict(text_size(value)),
            "pprint": lambda value, *_, **__: L.predict(2 * text_size(value))}


# Filters that walk every item in Python (a key function, a loop): each item is a step; and
# filters that walk a text in Python: each ten characters are a step.
_PER_ITEM = frozenset(["sort", "unique", "min", "max", "groupby", "dictsort", "sum", "batch", "slice"])
_PER_TEN_CHARACTERS = frozenset(["wordwrap", "urlize", "wordcount", "urlencode", "truncate", "title"])


# Filters that hand back one of the items they were given: nothing is built, nothing to count.
_PICKS = frozenset(["first", "last", "random", "attr", "default", "d", "min", "max"])


def _guard_filter(fn, check, per: int, picks: bool):
    skip = 1 if getattr(fn, "jinja_pass_arg", None) is not None else 0  # environment or context first

    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        b = budget()
        b.tick()
        if per and len(args) > skip and hasattr(args[skip], "__len__"):
            b.charge(len(args[skip]) // per)
        if check is not None and len(args) > skip:
            value = check(*args[skip:], **kwargs)
            if value is not None:
                args = (*args[:skip], value, *args[skip + 1:])
        result = fn(*args, **kwargs)
        if isinstance(result, types.GeneratorType):  # map, select, batch...: each item a step
            return Lazy(result)
        if picks:
            return checked(result, b) if type(result) is int else result
        return checked(result, b)

    return guarded


@pass_environment
def _sum(environment, iterable, attribute=None, start=0):
    if attribute is not None:
        iterable = map(make_attrgetter(environment, attribute), iterable)
    return L.safe_sum(iterable, start)


# ---------------------------------------------------------------- rewriting the parsed template

def _env_call(name: str, args: list, lineno: int | None):
    call = nodes.Call(nodes.EnvironmentAttribute(name), list(args), [], None, None)
    return call.set_lineno(lineno) if lineno else call


class _Checks(NodeTransformer):
    """Routes ``~``, list and dict literals, each pass of a ``{% for %}`` and the text written
    inside loops, macros and blocks through checks (outside them, the text is the template's
    own, written once)."""

    def __init__(self):
        self.inner = 0

    def _inside(self, node):
        self.inner += 1
        try:
            return self.generic_visit(node)
        finally:
            self.inner -= 1

    visit_FilterBlock = visit_AssignBlock = _inside

    def visit_Macro(self, node):
        """A macro (and a {% call %} body) costs a step each time it runs, even an empty one
        handed to ``sorted(key=...)``, which calls it from C."""
        node = self._inside(node)
        node.body.insert(0, nodes.Output([_env_call("botloom_text", [nodes.Const("")], node.lineno)]))
        return node

    visit_CallBlock = visit_Macro

    def visit_For(self, node):
        node = self._inside(node)
        node.iter = _env_call("botloom_loop", [node.iter], node.lineno)
        return node

    def _literal(self, node):
        self.generic_visit(node)
        if getattr(node, "ctx", "load") != "load":
            return node  # a target: {% for a, b in ... %}
        return _env_call("botloom_literal", [node], node.lineno)

    visit_List = visit_Tuple = visit_Dict = _literal

    def visit_Concat(self, node):
        self.generic_visit(node)
        return _env_call("botloom_concat", node.nodes, node.lineno)

    def visit_TemplateData(self, node):
        if not self.inner:
            return node
        return _env_call("botloom_text", [nodes.Const(node.data)], node.lineno)


def _small_number(node) -> bool:
    return isinstance(node, nodes.Const) and type(node.value) in (int, float) and abs(node.value) < 2**32


class _CodeGenerator(CodeGenerator):
    """``x + 1`` and ``i - 1`` (a small number written in) stay Python's own operators, unchecked:
    the hot path of counters and indexes. Nothing big can come of them: a number grows by a bit
    at most (and every number an expression builds is checked), anything else refuses a number."""

    def _plain(self, node, frame, op: str) -> None:
        self.write("(")
        self.visit(node.left, frame)
        self.write(f" {op} ")
        self.visit(node.right, frame)
        self.write(")")

    def visit_Add(self, node, frame):
        if _small_number(node.left) or _small_number(node.right):
            return self._plain(node, frame, "+")
        return super().visit_Add(node, frame)

    def visit_Sub(self, node, frame):
        if _small_number(node.left) or _small_number(node.right):
            return self._plain(node, frame, "-")
        return super().visit_Sub(node, frame)


class Lazy:
    """An iterable whose every item costs a step (C code that walks one, ``list()``, ``sorted()``,
    ``join``, walks it a step at a time)."""

    __slots__ = ("items",)

    def __init__(self, items):
        self.items = items

    def __iter__(self):
        b = budget()
        for item in self.items:
            b.tick()
            yield item

    def __repr__(self):
        return f"<lazy {type(self.items).__name__}: add '| list' to get a list>"


class SizedLazy(Lazy):
    """A Lazy over a list, a range...: ``loop.length`` still reads its length."""

    __slots__ = ()

    def __len__(self):
        return len(self.items)


def _loop(items):
    return SizedLazy(items) if hasattr(items, "__len__") else Lazy(items)


def _literal(value):
    """A list, tuple or dict written in the expression: ``[text, text, text]`` prints (and is
    journalled) as three times the text, so it is measured as that."""
    L.predict(text_size(value), "a literal")
    return value


def _concat(*parts) -> str:
    L.predict(sum(len(p) if type(p) is str else text_size(p) for p in parts))
    return "".join([p if type(p) is str else str(p) for p in parts])


def _finalize(value: Any) -> Any:
    """Each value written into a template's text: measured before it becomes text, and counted
    (so the rendered text, text gathered by macros and blocks included, stays within MAX_BUILT)."""
    b = _current() or budget()
    if type(value) is str:
        n = len(value)
    else:
        if isinstance(value, int) and value.bit_length() > L.MAX_BITS:
            raise L.digits_refused()
        n = text_size(value)
    if n > L.MAX_SIZE:
        L.predict(n, "an output")
    b.built += n
    if b.built > L.MAX_BUILT:
        b.built_value(0)
    return value


def _fills_in(obj: Any, key: Any) -> bool:
    """Would reading ``obj[key]`` add the key (a defaultdict, or any mapping with ``__missing__``)?"""
    if not isinstance(obj, dict) or not hasattr(type(obj), "__missing__"):
        return False
    try:
        return key not in obj
    except TypeError:
        return False


# ---------------------------------------------------------------- the environment

class Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, with every operator, call and filter checked (see module doc)."""

    intercepted_binops = frozenset(["+", "-", "*", "/", "//", "%", "**"])
    code_generator_class = _CodeGenerator

    def _generate(self, source, name, filename, defer_init=False):
        return super()._generate(_Checks().visit(source), name, filename, defer_init)

    def call_binop(self, context, operator, left, right):
        if type(left) in _NUMBERS and type(right) in _NUMBERS and operator != "**":
            result = self.binop_table[operator](left, right)  # the hot path: cheap, cannot grow much
            if type(result) is int and result.bit_length() > L.MAX_BITS:
                raise L.digits_refused()
            return result
        b = _current() or budget()
        b.tick()
        if operator == "+":
            if isinstance(left, L.SIZED) and isinstance(right, L.SIZED):
                L.predict(len(left) + len(right), "a value")
        elif operator == "*":
            _check_repeat(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%" and isinstance(left, (str, bytes)):
            L.check_percent(left, right)
        return checked(self.binop_table[operator](left, right), b)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's signature)
        b = budget()
        b.tick()
        method = _check_method(__obj, args)
        if method is not None:
            owner, name, margs = method
            unbound = isinstance(__obj, _DESCRIPTORS)
            if isinstance(owner, str) and name in ("format", "format_map") and unbound:
                __obj, args = __self.wrap_str_format(getattr(owner, name)), margs  # via the sandbox's formatter
            elif isinstance(owner, (str, bytes)) and name == "join" and margs:
                items = L.joined(owner, margs[0])
                args = (owner, items) if unbound else (items,)
            elif isinstance(owner, (str, bytes)):
                _check_text_method(owner, name, margs, kwargs)
            elif name == "strftime" and margs and isinstance(margs[0], str):
                L.predict(16 * len(margs[0]))  # '%c' writes 24 characters
        b.depth += 1
        try:
            if b.depth > MAX_DEPTH:
                raise Refused(f"calls nest over {MAX_DEPTH} deep (a macro or loop calling itself?), "
                              f"the limit MAX_DEPTH")
            result = super().call(__context, __obj, *args, **kwargs)
            if method is not None and method[1] == "get" and type(result) is not int:
                return result  # an item of a dict, not a value built
            return checked(result, b)
        finally:
            b.depth -= 1

    def getitem(self, obj, argument):
        if type(obj) is not dict and _fills_in(obj, argument):
            return self.undefined(obj=obj, name=argument)
        return super().getitem(obj, argument)

    def getattr(self, obj, attribute):
        if isinstance(obj, dict) and attribute in obj:
            # data first: nodes.review.values is the output named 'values', not the dict's method
            return obj[attribute]
        if type(obj) is not dict and _fills_in(obj, attribute) and not hasattr(obj, attribute):
            return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def wrap_str_format(self, value):
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt, is_map = value.__self__, value.__name__ == "format_map"

        def checked_format(*args, **kwargs):
            if is_map:
                L.check_format(fmt, (), dict(args[0]) if len(args) == 1 and isinstance(args[0], Mapping) else {})
            else:
                L.check_format(fmt, args, kwargs)
            return wrapped(*args, **kwargs)

        return checked_format


def make_environment() -> Sandbox:
    env = Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, finalize=_finalize)
    env.botloom_loop, env.botloom_concat, env.botloom_text, env.botloom_literal = _loop, _concat, str, _literal
    env.globals.update(
        dict=_dict, lipsum=_lipsum, cycler=cycler, joiner=joiner, namespace=namespace,
        now=lambda: _dt.datetime.now().astimezone(),
        utcnow=lambda: _dt.datetime.now(_dt.timezone.utc),
        today=_dt.date.today,
        parse_date=L.parse_date,
        timedelta=_dt.timedelta,
        len=len, int=int, float=float, str=_text, bool=bool, round=_round, abs=abs,
        min=min, max=max, sum=L.safe_sum, sorted=sorted,
        enumerate=lambda *a, **k: Lazy(enumerate(*a, **k)), zip=lambda *a, **k: Lazy(zip(*a, **k)),
    )
    env.filters["fromjson"] = json.loads
    env.filters["todate"] = L.parse_date
    env.filters["tojson"] = L.to_json
    env.filters["sum"] = _sum
    checks = _filter_checks()
    for name, fn in list(env.filters.items()):
        per = 1 if name in _PER_ITEM else 10 if name in _PER_TEN_CHARACTERS else 0
        env.filters[name] = _guard_filter(fn, checks.get(name), per, name in _PICKS)
    return env
