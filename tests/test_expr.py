"""Expressions: the sandbox, native types, bare conditions and error messages."""

from __future__ import annotations

import pytest

from botloom.runner.errors import ExpressionError
from botloom.runner.expr import Expression, compile_value, evaluate, has_expression


def namespace(**extra):
    ns = {"count": 3, "items": [1, 2], "row": {"name": "Ann", "age": 31}, "name": "Bob"}
    ns.update(extra)
    return ns


def expression_error(text, ns=None, **kw) -> ExpressionError:
    """The ExpressionError that compiling or evaluating ``text`` raises."""
    with pytest.raises(ExpressionError) as info:
        evaluate(text, namespace() if ns is None else ns, **kw)
    return info.value


# ---------------------------------------------------------------- sandbox

@pytest.mark.parametrize("text, says", [
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "'__class__'"),
    ("{{ cycler.__init__.__globals__.os }}", "'__init__'"),
    ("{{ joiner.__init__.__globals__ }}", "'__init__'"),
    ("{{ lipsum.__globals__ }}", "'__globals__'"),
    ("{{ self._TemplateReference__context }}", "_TemplateReference__context"),
    ("{{ (1).__class__.__base__ }}", "'__class__'"),
    ("{{ '' | attr('__class__') }}", "'__class__'"),
    ("{{ '{0.__class__}'.format(1) }}", "'__class__'"),
    ("{{ len.__self__ }}", "'__self__'"),
    ("{{ now.__globals__ }}", "'__globals__'"),
    ("{{ items.append(1) }}", "'append'"),
    ("{{ items.pop() }}", "'pop'"),
    ("{{ row.update({'age': 1}) }}", "'update'"),
    ("{{ 'a' * 100000000 }}", "over the limit"),
    ("{{ 100000000 * 'a' }}", "over the limit"),
    ("{{ [0] * 100000000 }}", "over the limit"),
    ("{{ 2 ** 100000 }}", "over the limit"),
])
def test_sandbox_refuses(text, says):
    error = expression_error(text)
    assert "refused by the sandbox" in error.message
    assert says in error.message
    assert text in error.message  # the message quotes the expression
    assert error.fix


def test_sandbox_caps_huge_ranges():
    error = expression_error("{{ range(10**9) | list }}")
    assert "Range too big" in error.message


def test_no_builtins_such_as_open():
    error = expression_error("{{ open('/etc/passwd') }}")
    assert "unknown name 'open'" in error.message
    error = expression_error("{{ __import__('os') }}")
    assert "unknown name '__import__'" in error.message


@pytest.mark.parametrize("text", [
    "{% import 'os' as os %}{{ os.system('touch TARGET') }}",
    "{% from 'os' import system %}{{ system('touch TARGET') }}",
    "{% include '/etc/passwd' %}{{ 1 }}",
    "{% extends '/etc/passwd' %}{{ 1 }}",
    "{% import os %}{{ 1 }}",
])
def test_template_statements_cannot_import_or_read_files(text, tmp_path):
    target = tmp_path / "pwned"
    error = expression_error(text.replace("TARGET", str(target)))
    assert error.message
    assert not target.exists()


def test_a_statement_without_braces_is_plain_text():
    text = "{% import os %}"
    assert compile_value(text) == text
    assert evaluate(text, namespace()) == text


@pytest.mark.parametrize("text", [
    "{{ cycler.__init__.__globals__.os.system('touch TARGET') }}",
    "{{ lipsum.__globals__['os'].system('touch TARGET') }}",
    "{{ joiner.__init__.__globals__.os.popen('touch TARGET').read() }}",
    "{{ self.__init__.__globals__.__builtins__.open('TARGET', 'w') }}",
    "{{ namespace.__init__.__globals__.__builtins__.open('TARGET', 'w') }}",
    "{{ ''.__class__.__mro__[1].__subclasses__()[0].__init__.__globals__ }}",
    "x {{ now().__class__.__init__.__globals__ }} y",
])
def test_escape_attempts_touch_nothing_outside(text, tmp_path):
    target = tmp_path / "pwned"
    expression_error(text.replace("TARGET", str(target)))
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_immutable_sandbox_leaves_namespace_values_unchanged():
    items, row = [1, 2], {"name": "Ann"}
    ns = namespace(items=items, row=row)
    for text in ("{{ items.append(3) }}", "{{ items.extend([3]) }}", "{{ items.clear() }}",
                 "{{ row.update({'x': 1}) }}", "{{ row.setdefault('x', 1) }}", "{{ row.clear() }}"):
        expression_error(text, ns)
    assert items == [1, 2] and row == {"name": "Ann"}


def test_reading_methods_are_allowed():
    assert evaluate("{{ row.get('name') }}", namespace()) == "Ann"
    assert evaluate("{{ name.upper() }}", namespace()) == "BOB"
    assert evaluate("{{ row.keys() | list }}", namespace()) == ["name", "age"]


# ---------------------------------------------------------------- native types

@pytest.mark.parametrize("text, expected", [
    ("{{ count + 1 }}", 4), ("{{ count / 2 }}", 1.5), ("{{ count > 2 }}", True), ("{{ false }}", False),
    ("{{ items + [3] }}", [1, 2, 3]), ("{{ row }}", {"name": "Ann", "age": 31}), ("{{ none }}", None),
    ("{{ {'a': {'b': 1}} }}", {"a": {"b": 1}}), ("{{ [{'a': 1}] }}", [{"a": 1}]),
    ("  {{ count }}\n", 3), ("{{ '}}' }}", "}}"), ("{{ name }}", "Bob"),
])
def test_a_whole_expression_keeps_its_type(text, expected):
    value = evaluate(text, namespace())
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("text, expected", [
    ("n={{ count }}", "n=3"), ("{{ count }}{{ count }}", "33"), ("{{ count }} items", "3 items"),
    ("{{ items }}!", "[1, 2]!"), ("{{ count }} }}", "3 }}"),
    ("{% for i in items %}<{{ i }}>{% endfor %}", "<1><2>"),
])
def test_mixed_text_renders_text(text, expected):
    assert evaluate(text, namespace()) == expected


def test_values_without_expressions_are_unchanged():
    for value in ("plain", 5, None, [1, "a"], {"a": [1]}, "count > 2", "{ not an expression }"):
        assert compile_value(value) is value
        assert evaluate(value, namespace()) == value


def test_bare_expressions():
    compiled = compile_value("count > 2 and name == 'Bob'", bare=True)
    assert isinstance(compiled, Expression)
    assert compiled(namespace()) is True
    assert compiled(namespace(count=1)) is False
    assert evaluate("row.age + 1", namespace(), bare=True) == 32
    assert evaluate("{{ count * 2 }}", namespace(), bare=True) == 6
    assert compile_value("count > 2") == "count > 2"  # not bare: plain text
    with pytest.raises(ExpressionError, match="syntax error"):
        compile_value("count >", bare=True)


def test_helpers_and_filters():
    ns = namespace(text='{"a": [1, 2]}')
    assert evaluate("{{ len(items) }}", ns) == 2
    assert evaluate("{{ text | fromjson }}", ns) == {"a": [1, 2]}
    assert evaluate("{{ parse_date('2024-03-05').month }}", ns) == 3
    assert evaluate("{{ name | upper }}", ns) == "BOB"
    assert evaluate("{{ max(items) + sum(items) }}", ns) == 5


# ---------------------------------------------------------------- errors

def test_unknown_name_suggests_the_closest():
    error = expression_error("{{ cuont + 1 }}")
    assert "unknown name 'cuont'" in error.message
    assert "did you mean 'count'" in error.message
    assert "count" in error.fix and "items" in error.fix


def test_unknown_name_in_text_also_suggests():
    error = expression_error("total: {{ nmae }}")
    assert "unknown name 'nmae'" in error.message
    assert "did you mean 'name'" in error.message


def test_unknown_field_is_reported():
    error = expression_error("{{ row.nmae }}")
    assert "nmae" in error.message
    assert "nodes.ID.NAME" in error.fix


@pytest.mark.parametrize("text", ["{{ 1 + }}", "{{ items[ }}", "a {{ b", "{{ 'open }}", "{% for %}{{ x }}"])
def test_syntax_errors_are_reported_at_compile_time(text):
    with pytest.raises(ExpressionError) as info:
        compile_value(text)
    assert "syntax error" in info.value.message
    assert repr(text) in info.value.message
    assert info.value.fix


def test_runtime_failures_become_expression_errors():
    error = expression_error("{{ count / 0 }}")
    assert "ZeroDivisionError" in error.message
    error = expression_error("{{ 'x' | fromjson }}")
    assert "failed" in error.message


# ---------------------------------------------------------------- nested values

def test_has_expression_looks_into_lists_and_dicts():
    assert has_expression("a {{ b }}")
    assert has_expression([1, {"a": ["x", "{{ y }}"]}])
    assert has_expression({"a": {"b": [{"c": "{{ d }}"}]}})
    assert not has_expression([1, {"a": ["x", "y"]}, None])
    assert not has_expression({"{{ key }}": "value"})  # keys are not expressions
    assert not has_expression(42)


def test_evaluate_nested_params():
    value = {"total": "{{ count * 2 }}", "label": "n={{ count }}", "fixed": 1,
             "list": ["{{ row.name }}", 5, {"deep": "{{ items }}"}]}
    result = evaluate(value, namespace())
    assert result == {"total": 6, "label": "n=3", "fixed": 1, "list": ["Ann", 5, {"deep": [1, 2]}]}
    assert value["total"] == "{{ count * 2 }}"  # the source is not changed

    compiled = compile_value(["{{ count }}", "x"])
    assert isinstance(compiled, Expression)
    assert compiled(namespace(count=7)) == [7, "x"]
    assert compiled(namespace(count=8)) == [8, "x"]  # compiled once, evaluated many times


def test_nested_syntax_error_is_found_at_compile_time():
    with pytest.raises(ExpressionError, match="syntax error"):
        compile_value({"a": ["ok", "{{ 1 + }}"]})


@pytest.mark.parametrize("text", [
    "{{ 'x' | center(10**8) }}",
    "{{ 'x'.ljust(10**8) }}",
    "{{ 'x'.zfill(10**8) }}",
    "{{ '%0100000000d' % 1 }}",
    "{{ '{:>100000000}'.format(1) }}",
    "{{ '{0:{1}}'.format(1, 100000000) }}",
    "{{ 'a' | indent(10**8) }}",
    "{{ (10 ** 1000) ** 10000 }}",
])
def test_formatting_and_powers_cannot_build_huge_values(text):
    with pytest.raises(ExpressionError, match="refused by the sandbox"):
        evaluate(text, {})


@pytest.mark.parametrize("text, expected", [
    ("{{ '%s-%05d' % ('a', 3) }}", "a-00003"),
    ("{{ '{} {:>5}'.format('a', 3) }}", "a     3"),
    ("{{ '{0:{1}}'.format(1, 4) }}", "   1"),
    ("{{ 'x'.center(5, '*') }}", "**x**"),
    ("{{ 2 ** 64 }}", 2 ** 64),
    ("{{ 'Invoice 12345678 %s' % 'ok' }}", "Invoice 12345678 ok"),
])
def test_ordinary_formatting_still_works(text, expected):
    assert evaluate(text, {}) == expected


def test_a_dicts_key_comes_before_its_method_of_the_same_name():
    """nodes.review.values is the output named 'values', not dict.values; methods stay callable otherwise."""
    ns = {"nodes": {"review": {"values": {"total": 5}, "items": [1, 2]}}, "d": {"a": 1}}
    assert evaluate("{{ nodes.review.values.total }}", ns) == 5
    assert evaluate("{{ nodes.review.items | length }}", ns) == 2
    assert evaluate("{{ d.items() | list }}", ns) == [("a", 1)]
