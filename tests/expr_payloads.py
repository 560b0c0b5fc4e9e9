"""Hostile expressions, and a runner that measures how each one is refused.

    python tests/expr_payloads.py OUT.json     # what tests/test_expr_hostile.py runs, in a fresh process

Each payload must raise an ExpressionError; the runner records for each the error, the time it
took (wall clock and CPU), the peak memory it allocated (tracemalloc) and whether anything
outside the expression changed (the namespace's values, a file next to it, objects kept from an
earlier evaluation).
"""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import json
import pathlib
import sys
import tempfile
import time
import tracemalloc

S = "{% set s = 'x' * 1000000 %}"  # a text of a million characters, built within the limits
NS = "{% set ns = namespace(s='x', l=[0]) %}"

MUTATION = [
    "{{ dict.update(vars, {'count': 41}) }}", "{{ dict.clear(vars) }}", "{{ dict.pop(vars, 'count') }}",
    "{{ dict.setdefault(vars, 'x', 1) }}", "{{ dict.popitem(vars) }}", "{{ vars.update({'count': 41}) }}",
    "{{ vars.clear() }}", "{{ vars.pop('count') }}", "{{ vars.setdefault('x', 1) }}", "{{ vars.popitem() }}",
    "{{ items.append(1) }}", "{{ items.extend([1]) }}", "{{ items.insert(0, 1) }}", "{{ items.remove(1) }}",
    "{{ items.sort() }}", "{{ items.reverse() }}", "{{ items.pop() }}", "{{ items.clear() }}",
    "{{ row.update({'age': 1}) }}", "{{ tags.add('x') }}", "{{ tags.discard('a') }}", "{{ tags.update(['x']) }}",
    "{{ (vars | attr('update'))({'count': 41}) }}", "{{ (vars | attr('clear'))() }}",
    "{{ vars.get('items').append(5) }}", "{{ nodes.read.update({}) }}", "{{ inputs.clear() }}",
    "{{ buf.append(1) }}", "{{ buf.extend(buf) }}", "{{ vars.values() | map(attribute='clear') | map('string') | list }}",
    "{% set vars.count = 41 %}{{ 1 }}", "{% set stored.x = 41 %}{{ stored.x }}",
    "{{ cyc.next() }}", "{{ cyc.reset() }}", "{{ join() }}", "{{ cycler.next(cyc) }}",
    "{{ namespace.__setitem__(stored, 'x', 41) }}", "{{ dict.fromkeys.__self__.update(vars, {}) }}",
    "{{ folder.unlink() }}", "{{ folder.write_text('pwned') }}", "{{ folder.read_text() }}",
    "{{ folder.open().read() }}", "{{ folder.rename('other') }}", "{{ folder.parent.rmdir() }}",
    "{{ folder.touch() }}", "{{ folder.parent.mkdir() }}", "{{ folder.chmod(0) }}",
    "{{ str.format('{0.__class__.__mro__}', 1) }}", "{{ str.format_map('{x.__class__}', {'x': 1}) }}",
    "{{ secret.reveal() }}", "{{ counts.missing }}", "{{ counts['missing'] }}", "{{ counts | attr('missing') }}",
    "{{ queue.append(1) }}", "{{ queue.rotate(1) }}", "{{ queue.reverse() }}", "{{ queue.insert(0, 1) }}",
    "{{ tags.intersection_update([]) }}", "{{ tags.symmetric_difference_update(['a']) }}", "{{ buf.decode() ~ vars.popitem() }}",
]

MEMORY = [
    "{{ '%*d' % (999999999, 1) }}", "{{ '%-*s' % (999999999, 'x') }}", "{{ '%.*f' % (999999999, 1.0) }}",
    "{{ '%*.*f' % (999999999, 5, 1.0) }}", "{{ '%0*d' % (10**8, 5) }}", "{{ ('%99999d' * 100) % (" + ", ".join(["1"] * 100) + ") }}",
    S + "{{ ('%s%s%s%s%s') % (s, s, s, s, s) }}",
    "{{ '{0:{1}{2}}'.format('', 99999, 9999) }}", "{{ '{:{}}'.format('', 10**8) }}", "{{ '{0:>{1}}'.format('', 10**9) }}",
    "{{ '{:099999999}'.format(1) }}", "{{ '{:.999999999f}'.format(1.5) }}", "{{ '{0:{w}}'.format('', w=10**8) }}",
    S + "{{ '{0}{0}{0}{0}{0}'.format(s) }}", S + "{{ '{x}{x}{x}{x}{x}'.format_map({'x': s}) }}",
    "{{ 'x'.center(10**9) }}", "{{ 'x'.ljust(10**9) }}", "{{ 'x'.rjust(10**9) }}", "{{ '1'.zfill(10**9) }}",
    "{{ ('\t' * 999999).expandtabs(99999) }}", "{{ '\t'.expandtabs(10**9) }}",
    "{{ ('x' * 1000000).replace('x', 'x' * 1000) }}", "{{ 'abcdef'.replace('', 'y' * 999999) }}",
    "{{ ('x' * 1000000) | replace('x', 'yy') | replace('y', 'zz') | replace('z', 'ww') }}",
    "{{ ('a' * 1000).translate({97: 'x' * 100000}) }}",
    S + "{{ [s, s, s, s, s] | join }}", S + "{{ s.join(['a'] * 100) }}", S + "{{ ''.join([s] * 2 + [s] * 2 + [s]) }}",
    S + "{{ '-'.join([s, s, s, s, s]) }}", "{{ range(100000) | join('x' * 1000) }}",
    "{{ range(100000) | map('string') | join('x' * 10000) }}",
    NS + "{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
    NS + "{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s | length }}",
    NS + "{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l | length }}",
    NS + "{% for i in range(64) %}{% set ns.l = ns.l * 2 %}{% endfor %}{{ ns.l | length }}",
    NS + "{% for i in range(100000) %}{% set ns.l = ns.l + [i] %}{% endfor %}{{ ns.l | length }}",
    NS + "{% for i in range(64) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l }}",
    NS + "{% for i in range(64) %}{% set ns.s = '%s%s' % (ns.s, ns.s) %}{% endfor %}{{ ns.s | length }}",
    NS + "{% for i in range(64) %}{% set ns.s = ns.s | replace('x', 'xx') %}{% endfor %}{{ ns.s | length }}",
    NS + "{% for i in range(64) %}{% set ns.s = [ns.s, ns.s] | join %}{% endfor %}{{ ns.s | length }}",
    S + "{% set b = s ~ s %}{% set c = b ~ b %}{% set d = c ~ c %}{{ d | length }}",
    S + "{% for i in range(100000) %}{{ s }}{% endfor %}",
    "{% for i in range(100000) %}" + "x" * 1000 + "{% endfor %}",
    "{% macro m() %}{% for i in range(100000) %}" + "y" * 1000 + "{% endfor %}{% endmacro %}{{ m() | length }}",
    "{% set x %}{% for i in range(100000) %}" + "z" * 1000 + "{% endfor %}{% endset %}{{ x | length }}",
    "{% filter upper %}{% for i in range(100000) %}" + "w" * 1000 + "{% endfor %}{% endfilter %}",
    S + "{% macro m() %}{{ s }}{{ s }}{{ s }}{{ s }}{{ s }}{% endmacro %}{{ m() | length }}",
    "{{ lipsum(n=100000) }}", "{{ lipsum(10000, max=1000) }}", "{{ lipsum(100, False, 1000, 100000) }}",
    "{{ range(1000) | list | tojson(indent=99999) }}", "{{ [[[[[[[[[[[[1]]]]]]]]]]]] | tojson(indent=90000) }}",
    "{{ (['x' * 100000] * 40) + (['x' * 100000] * 40) | tojson }}", S + "{{ [s, s, s, s, s] | tojson }}",
    "{{ ('x\n' * 1000000) | indent(99999) }}", "{{ ('a\n' * 100000) | indent('x' * 1000) }}",
    "{{ 'x' | indent(10**9) }}", "{{ ('x ' * 1000000) | wordwrap(1, wrapstring='y' * 1000) }}",
    "{{ 'x' | center(10**9) }}", "{{ [0] * 10**8 }}", "{{ 'a' * 10**9 }}", "{{ 'a'.encode() * 10**9 }}",
    "{{ [[0] * 1000000] * 1000 }}", "{{ (('x' * 1000000) | list) * 5 }}", "{{ (range(100000) | list) * 100 }}",
    S + "{{ [s, s, s, s, s, s, s, s, s, s] }}", S + "{{ [s, s, s, s, s] | string }}", S + "{{ str([s, s, s, s, s]) }}",
    S + "{{ '%s' % ([s, s, s, s, s],) }}", S + "{{ [s, s, s, s, s] | pprint }}", S + "{{ {'a': [s, s, s, s, s]} }}",
    S + "{{ s ~ s ~ s ~ s ~ s }}", S + "{{ s + s + s + s + s }}", S + "{{ (s ~ s) ~ (s ~ s) ~ s }}",
    "{{ ('x' * 2000000) + ('x' * 2000000) + 'x' }}", "{{ range(100000) | batch(10**9, fill_with=0) | list }}",
    "{{ range(10) | slice(10**9) | list }}",
    "{{ sum([[0] * 1000000, [0] * 1000000, [0] * 1000000, [0] * 1000000, [0] * 1000000], []) }}",
    "{{ [[0] * 1000000, [0] * 1000000, [0] * 1000000, [0] * 1000000, [0] * 1000000] | sum(start=[]) }}",
    "{{ {}.fromkeys(range(100000), 'x' * 1000000) | string }}", "{{ ((range(100000) | list | string) * 100) | length }}",
    "{{ ('x.com ' * 100000) | urlize(target='y' * 100000) }}", "{{ now().strftime('%c' * 1000000) }}",
    "{{ '{:f}'.format(big_decimal) }}", S + "{{ [s] * 5 }}", "{{ ('x' * 1000000).encode() * 5 }}",
    S + "{% for i in range(20) %}{% set t = s ~ i %}{% endfor %}{{ [s, s, s, s, s] | join('-') }}",
    "{{ range(100000) | map('string') | map('center', 99999) | list | length }}",
    "{{ (range(100000) | map('string') | list) | map('replace', '', 'x' * 1000) | list | length }}",
    "{{ enumerate('x' * 4000000) | list | length }}", "{{ zip('x' * 4000000) | list | length }}",
    "{{ ('x' * 4000000) | map(attribute='upper') | list | length }}", "{{ ('x' * 4000000) | batch(1) | list | length }}",
    "{{ [text, text, text, text, text] }}", "{{ {'a': text, 'b': [text, text, text, text]} }}",
    "{{ (text, text, text, text, text) }}",
    "{{ [{'n': text}, {'n': text}, {'n': text}, {'n': text}, {'n': text}] | join(attribute='n') }}",
]

CPU = [
    "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "{% for a in 'x' * 1000 %}{% for b in 'x' * 1000 %}{% for c in 'x' * 1000 %}{% endfor %}{% endfor %}{% endfor %}",
    "{% for a in range(100000) %}{% for b in range(100000) if b < 0 %}{% endfor %}{% endfor %}",
    "{% for a in range(1000) %}{% for b in range(1000) %}{{ a * b }}{% endfor %}{% endfor %}",
    "{% for a in range(100000) %}{% for b in range(100000) %}{% if false %}{% endif %}{% endfor %}{% else %}{% endfor %}",
    "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "{% macro f(n) %}{{ g(n) }}{% endmacro %}{% macro g(n) %}{{ f(n) }}{% endmacro %}{{ f(0) }}",
    "{% macro f(n) %}{% for i in range(10) %}{{ f(n + 1) if n < 30 else '' }}{% endfor %}{% endmacro %}{{ f(0) }}",
    "{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}{{ f('x') }}",
    "{% macro f(l) %}{{ f([l, l]) }}{% endmacro %}{{ f([]) }}",
    "{% for x in range(10) recursive %}{{ loop(range(10)) }}{% endfor %}",
    "{% macro f() %}{{ caller() }}{% endmacro %}{% call f() %}{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}{% endcall %}",
    "{% set c = cycler(1, 2) %}{% for i in range(100000) %}{% for j in range(100000) %}{{ c.next() }}{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{{ loop.cycle('a', 'b') }}{{ loop.changed(i) }}{{ range(100) | sum }}{% endfor %}",
    "{% macro f() %}{% for i in range(100000) %}{% endfor %}{% endmacro %}{% for i in range(100000) %}{{ f() }}{% endfor %}",
    "{{ range(100000) | map('string') | sort | map('upper') | map('lower') | list | length }}",
    "{% macro f(x) %}{% for i in range(1000) %}{% endfor %}{% endmacro %}{{ sorted(range(100000), key=f) }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% set x = i + j %}{% endfor %}{% endfor %}",
    "{% for i in zip(range(100000), range(100000)) %}{% for j in enumerate(range(100000)) %}{% endfor %}{% endfor %}",
    "{% for k in {}.fromkeys(range(100000)) %}{% for v in range(100000) %}{% endfor %}{% endfor %}",
    "{% for a in range(100000) %}{% for b in 'y' * 100000 %}{% endfor %}{% endfor %}",
    "{% for a in range(100000) %}{% for b in range(100000) %}{{ '' }}{% endfor %}{% endfor %}",
    "{{ ('abcdefghij' * 400000) | list | sort | length }}", "{{ ('ab' * 2000000) | list | unique | list | length }}",
    "{{ ('a b ' * 1000000).split() | sort | length }}", "{{ ('ab' * 2000000) | list | max }}",
    "{{ ('x' * 4000000) | list | join | length }}", "{{ ''.join(('x' * 4000000) | list) | length }}",
    "{% macro k(x) %}{% endmacro %}{{ sorted(('ab' * 2000000) | list, key=k) | length }}",
    "{% macro k(x) %}{% endmacro %}{{ (('ab' * 2000000) | list | max(attribute='real')) }}{{ max(range(100000), key=k) }}",
    "{{ ('ab' * 2000000) | list | groupby('real') | length }}", "{{ ('ab' * 2000000) | list | sum(start='') }}",
    "{{ ('a ' * 2000000) | wordwrap(3) | length }}", "{{ ('x.io ' * 800000) | urlize | length }}",
    "{{ ('\u00e9' * 4000000) | urlencode | length }}", "{{ ('{0}' * 1000000).format(1) | length }}",
    "{{ ('\u00e9' * 100000).encode('punycode') }}", "{{ ('a.' * 2000000).encode('idna') }}",
    "{{ folder.match('*a' * 40) }}",
    NS + "{% set ns.a = 1 %}{% set ns.b = 1 %}{% for i in range(64) %}{% set ns.a = dict(k=ns.a, j=ns.a) %}"
    "{% set ns.b = dict(k=ns.b, j=ns.b) %}{% endfor %}{{ ns.a == ns.b }}",
    NS + "{% set ns.a = 1 %}{% set ns.b = 1 %}{% for i in range(64) %}{% set ns.a = (zip([ns.a], [ns.a]) | list)[0] %}"
    "{% set ns.b = (zip([ns.b], [ns.b]) | list)[0] %}{% endfor %}{{ ns.a == ns.b }}",
]

HUGE_NUMBERS = [
    "{{ 10 ** 4300 }}", "{{ 9 ** (9 ** 9) }}", "{{ 3 ** 10000 }}", "{{ 2 ** 14285 }}", "{{ (10 ** 4000) * (10 ** 4000) }}",
    "{{ 10 ** 2000 * 10 ** 2000 * 10 ** 2000 }}", "{{ '{:%c%c%c%c}'.format(now()) * 1 }}{{ ('{:' ~ '%c' * 1000000 ~ '}').format(now()) }}", "{{ 10 ** 4299 * 10 }}", "{{ 10 ** 4299 + 10 ** 4299 * 9 }}",
    "{{ -(10 ** 4299) * 100 }}", "{{ int('9' * 4300) * 10 }}", "{{ int.from_bytes(('x' * 100000).encode(), 'big') }}",
    "{{ sum([10 ** 4299] * 10) }}", "{{ ([10 ** 4299] * 10) | sum }}", "{{ round(5, -10**6) }}",
    "{{ 5 | round(-10**6, 'floor') }}", "{{ 5.5 | round(10**9, 'ceil') }}", "{{ 2 ** (10 ** 6) }}", "{{ 2 ** -(10 ** 6) }}",
    "{{ (10 ** 4299) * (10 ** 4299) }}", "{{ '%d' % (10 ** 4299 * 10) }}", "{{ big }}{{ 1 }}",
    "{{ 10 ** 4299 - -(10 ** 4299) * 9 }}", "{{ (10 ** 4299) // 1 * 10 }}", "{{ 7 ** 5500 }}",
    "{{ range(10 ** 4299, 10 ** 4299 + 2) | map('int') | map('string') | list }}{{ 10 ** 4299 * 11 }}",
]

RECURSION = [
    "{{" * 1000, "{{ " + "(" * 1000 + "1" + ")" * 1000 + " }}", "{{ " + "1+" * 20000 + "1 }}",
    "{{ " + "[" * 1000 + "]" * 1000 + " }}", "{{ " + "{'a': " * 1000 + "1" + "}" * 1000 + " }}",
    "{{ " + "-" * 20000 + "1 }}", "{{ " + "not " * 5000 + "1 }}", "{{ x" + ".y" * 20000 + " }}",
    "{{ x" + "[0]" * 20000 + " }}", "{{ " + "f(" * 1000 + ")" * 1000 + " }}",
    "{% if 1 %}" * 1000 + "{{ 1 }}" + "{% endif %}" * 1000,
    "{% for i in x %}" * 500 + "{{ 1 }}" + "{% endfor %}" * 500,
    "{{ " + "1 if 1 else " * 5000 + "1 }}", "{{ " + " and ".join(["1"] * 20000) + " }}",
    "{{ " + "1*" * 20000 + "1 }}", "{{ " + "2**" * 20000 + "2 }}", "{{ " + "x|upper" + "|upper" * 20000 + " }}",
    "{{ " + "[" * 60 + "]" * 60 + " }}", "{{ ('[' * 100000) | fromjson }}",
    NS + "{% set ns.x = [] %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}",
    "{{ " + "'a' ~ (" * 1000 + "'b'" + ")" * 1000 + " }}", "{{ " + "a." * 5000 + "b }}",
    "count > " + "(" * 1000 + "1" + ")" * 1000,
]

def _as_template(text: str) -> str:
    """A value with statements but no ``{{`` is plain text, never run: give it one."""
    return text if "{{" in text or not text.startswith("{%") else text + "{{ 'end' }}"


PAYLOADS = [(kind, _as_template(text)) for kind, text in [("mutation", p) for p in MUTATION] + [("memory", p) for p in MEMORY] + [("cpu", p) for p in CPU]
            + [("huge numbers", p) for p in HUGE_NUMBERS] + [("recursion", p) for p in RECURSION]]


def namespace(folder: pathlib.Path) -> dict:
    """What payloads see: plain values, a real file, and objects kept from earlier evaluations."""
    from botloom.runner.expr import evaluate
    from botloom.runner.sdk.types import Secret

    keep = folder / "keep.txt"
    keep.write_text("kept")
    variables = {"count": 0, "items": [1, 2], "row": {"name": "Ann", "age": 31}, "tags": {"a", "b"},
                 "buf": bytearray(b"ab"), "folder": keep, "when": dt.datetime(2024, 3, 5), "big": 10 ** 4299 * 10,
                 "big_decimal": decimal.Decimal("1e99999999"), "text": "t" * 1_000_000, "x": {"y": 1}, "f": len,
                 "secret": Secret("crm_password", lambda name: "hunter2"),
                 "counts": collections.defaultdict(int, a=1), "queue": collections.deque([1, 2]),
                 "stored": evaluate("{{ namespace(x=1) }}", {}), "cyc": evaluate("{{ cycler(1, 2) }}", {}),
                 "join": evaluate("{{ joiner('-') }}", {})}
    ns = dict(variables)
    ns.update(vars=variables, inputs={"folder": str(folder)}, nodes={"read": {"rows": [1]}},
              run={"id": "r1", "bot": "b"})
    return ns


def state(ns: dict, folder: pathlib.Path) -> str:
    """Everything a payload must leave as it was, as text."""
    kept = {k: hex(v) if isinstance(v, int) else v for k, v in ns["vars"].items() if k not in ("stored", "cyc", "join")}
    extra = [repr(ns["stored"]), ns["cyc"].pos, ns["join"].used, sorted(p.name for p in folder.iterdir()),
             (folder / "keep.txt").read_text() if (folder / "keep.txt").exists() else None,
             (folder / "keep.txt").stat().st_mode if (folder / "keep.txt").exists() else None]
    return repr(sorted(kept.items(), key=lambda kv: kv[0])) + repr(extra) + repr(sorted(ns))


def run_all() -> list[dict]:
    from botloom.runner.errors import ExpressionError
    from botloom.runner.expr import evaluate

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        evaluate("{{ 1 }}", {})  # Jinja imported and the environment made before measuring
        for kind, text in PAYLOADS:
            ns = namespace(folder)
            before = state(ns, folder)
            error = None
            tracemalloc.start()
            t0, cpu0 = time.perf_counter(), time.thread_time()
            try:
                value = evaluate(text, ns, bare=not text.lstrip().startswith(("{{", "{%")))
            except ExpressionError as exc:
                error = {"message": exc.message, "fix": exc.fix}
                value = None
            except BaseException as exc:  # noqa: BLE001 (what the test reports as a failure)
                error = {"escaped": f"{type(exc).__name__}: {exc}"[:300]}
                value = None
            seconds, cpu = time.perf_counter() - t0, time.thread_time() - cpu0
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            results.append({"kind": kind, "text": text[:120], "seconds": seconds, "cpu": cpu, "peak_mb": peak / 2**20,
                            "error": error, "value": None if error else repr(value)[:120],
                            "changed": state(ns, folder) != before})
    return results


if __name__ == "__main__":
    sys.setrecursionlimit(1000)
    out = run_all()
    pathlib.Path(sys.argv[1]).write_text(json.dumps(out, indent=1))
