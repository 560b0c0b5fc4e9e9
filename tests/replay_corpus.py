"""Generated bots for the differential replay test, and the small node pack they use.

A generated bot is a chain of *segments* after its start node, each exercising one construct
(a value of one type, a loop with break and continue, try/catch, a retry scope, a subflow call,
a call of another bot file, a wait for a signal, files, CSV/JSON/Excel, text and dates, an HTTP
request...). Every segment leaves evidence in ``effects.txt``: one line per side effect, each
line unique, so a line that appears twice is a side effect that happened twice. Values are
written there as *fingerprints* that name their type (``date(2024-01-02)`` is not
``str('2024-01-02')``), so a value that comes back from the journal as another type shows.

The pack (``replay.*``, registered through a generated ``dist-info`` folder put on PYTHONPATH,
as any third-party pack is) adds what the core pack cannot express:

- ``replay.value``: values no expression can build (Decimal, set, frozenset, path, secret, table);
- ``replay.fingerprint``: a value's typed description, as text;
- ``replay.gate`` (no side effects) and ``replay.effect`` (appends a line, not idempotent): each
  counts its live calls in the process, and the call numbered ``$REPLAY_PARK_AT`` parks (writes
  ``$REPLAY_PARK_FILE`` and sleeps) so that a test can SIGKILL the process at exactly that
  point. ``replay.effect`` parks *after* appending: the step is in flight with its effect done.

This module is imported by the ``botloom`` child processes (for the pack): it imports nothing
heavy. ``Chain`` drives one bot through the real ``botloom`` command, kills and resumes included.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import time
from decimal import Decimal
from pathlib import Path, PurePath, PurePosixPath

from botloom.runner.sdk import NodePack, Output, Param, node

EFFECTS = "effects.txt"
SECRET_NAME, SECRET_VALUE = "api_key", "s3cr3t-V4lue-never-stored"
_live_calls = 0


def _checkpoint(ctx) -> None:
    """Count this live call; park here if it is the one the test asked for."""
    global _live_calls
    _live_calls += 1
    target = os.environ.get("REPLAY_PARK_AT")
    if target and int(target) == _live_calls:
        Path(os.environ["REPLAY_PARK_FILE"]).write_text(f"{ctx.node_id}\n", encoding="utf-8")
        while True:  # the test kills the process here
            time.sleep(0.5)


@node("replay.gate", title="Gate", category="Replay test",
      params=[Param("label", "string", default="")])
def gate(ctx, label):
    """A point where the test can stop the process (no side effects)."""
    _checkpoint(ctx)


@node("replay.effect", title="Effect", category="Replay test", side_effects=True, idempotent=False,
      params=[Param("path", "path", required=True), Param("text", "string", required=True)])
def effect(ctx, path, text):
    """Appends one line, then (if asked) parks: the step is in flight with its effect done."""
    with open(ctx.path(path), "a", encoding="utf-8") as f:
        f.write(text + "\n")
    _checkpoint(ctx)


def made_value(kind: str, secret=None):
    return {"decimal": lambda: Decimal("12.50"), "set": lambda: {3, 1, 2}, "frozenset": lambda: frozenset("ba"),
            "path": lambda: PurePosixPath("reports/2024/q1.csv"), "secret": lambda: secret,
            "table": lambda: [{"name": "Ann", "n": 1, "when": "2024-01-02"},
                              {"name": "Bo", "n": 2, "when": "2024-02-03"}],
            }[kind]()


@node("replay.value", title="Make a value", category="Replay test",
      params=[Param("kind", "string", required=True), Param("secret", "secret")],
      outputs=[Output("value", "any")])
def value(ctx, kind, secret):
    """A value of a type that no expression builds."""
    return {"value": made_value(kind, secret)}


def fingerprint(v) -> str:
    """A value's type and content as text; equal for equal values of the same type only."""
    from botloom.runner.sdk.types import Secret

    if v is None:
        return "None"
    if isinstance(v, Secret):
        return f"secret({v.name})"
    if isinstance(v, bool):
        return f"bool({v})"
    if isinstance(v, int):
        return f"int({v})"
    if isinstance(v, float):
        return "float(nan)" if math.isnan(v) else f"float({v!r})"
    if isinstance(v, Decimal):
        return f"Decimal({v})"
    if isinstance(v, str):
        return f"str({v!r})"
    if isinstance(v, (bytes, bytearray)):
        return f"{type(v).__name__}({bytes(v)!r})"
    if isinstance(v, _dt.datetime):
        return f"datetime({v.isoformat()} {v.tzname()})"
    if isinstance(v, (_dt.date, _dt.time)):
        return f"{type(v).__name__}({v.isoformat()})"
    if isinstance(v, _dt.timedelta):
        return f"timedelta({v.days},{v.seconds},{v.microseconds})"
    if isinstance(v, PurePath):
        return f"path({v.as_posix()})"
    if isinstance(v, (list, tuple)):
        return f"{type(v).__name__}[{', '.join(map(fingerprint, v))}]"
    if isinstance(v, (set, frozenset)):
        return f"{type(v).__name__}{{{', '.join(sorted(map(fingerprint, v)))}}}"
    if isinstance(v, dict):
        return "dict{" + ", ".join(f"{fingerprint(k)}: {fingerprint(x)}" for k, x in v.items()) + "}"
    return f"{type(v).__module__}.{type(v).__qualname__}({v!r})"


@node("replay.fingerprint", title="Fingerprint", category="Replay test",
      params=[Param("value", "any")], outputs=[Output("text", "string")])
def fingerprint_node(ctx, value):
    """The typed description of a value."""
    return {"text": fingerprint(value)}


def pack():
    return NodePack("replay", "1.0", [gate, effect, value, fingerprint_node], title="Replay test")


def install_pack(folder: Path) -> Path:
    """Register the pack for child processes: put ``folder`` and this module's folder on PYTHONPATH."""
    info = folder / "botloom_replay_pack-1.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: botloom-replay-pack\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[botloom.nodes]\nreplay = replay_corpus:pack\n")
    return folder


# ---------------------------------------------------------------- values

# kind -> (expression building it, or None for replay.value; a probe using it as that type;
#          a condition that holds for it)
VALUES = {
    "none": ("{{ none }}", "{{ V is none }}", "V is none"),
    "bool": ("{{ true }}", "{{ V and 'yes' }}", "V"),
    "int": ("{{ 2 ** 80 + 7 }}", "{{ V % 1000 }}", "V > 2 ** 79"),
    "float": ("{{ 0.1 + 0.2 }}", "{{ V * 10 }}", "V > 0.3"),
    "nan": ("{{ float('nan') }}", "{{ V != V }}", "V != V"),
    "inf": ("{{ float('-inf') }}", "{{ V < -1e308 }}", "V < 0"),
    "str": ("{{ 'Grüße, \"quoted\" 😀' }}", "{{ V | upper }}", "V.startswith('Gr')"),
    "bytes": ("{{ 'héllo'.encode('utf-8') }}", "{{ V[0] }} {{ V | length }}", "V[0] == 104"),
    "date": ("{{ parse_date('2024-01-02').date() }}", "{{ V.year }}-{{ V.month }}", "V.year == 2024"),
    "datetime": ("{{ parse_date('2024-01-02T03:04:05.000006+05:30') }}", "{{ V.year }} {{ V.utcoffset() }}",
                 "V.hour == 3"),
    "naive_datetime": ("{{ parse_date('2024-02-29 23:59:59') }}", "{{ V.day }} {{ V.tzinfo is none }}",
                       "V.day == 29"),
    "time": ("{{ parse_date('2024-01-02T03:04:05.123456').time() }}", "{{ V.hour }}:{{ V.microsecond }}",
             "V.minute == 4"),
    "timedelta": ("{{ timedelta(days=-1, seconds=5, microseconds=7) }}", "{{ V.total_seconds() }}", "V.days == -1"),
    "list": ("{{ [1, 'two', [3.5, none], {'k': true}] }}", "{{ V[3].k }}", "V[2][0] == 3.5"),
    "dict": ("{{ {'a': 1, 2: 'int key', none: [1]} }}", "{{ V[2] }}", "V[2] == 'int key'"),
    "tuple": ("{{ (1, 'a', (2, 3)) }}", "{{ V[2][1] }}", "V[2][1] == 3"),
    "decimal": (None, "{{ V + 1 }}", "V * 2 == 25"),
    "set": (None, "{{ 2 in V }} {{ V | length }}", "3 in V"),
    "frozenset": (None, "{{ 'a' in V }}", "'b' in V"),
    "path": (None, "{{ V.name }} {{ V.suffix }}", "V.suffix == '.csv'"),
    "table": (None, "{{ V[1].name }} {{ V | length }}", "V[0].n == 1"),
    "secret": (None, "{{ V.name }}", "V.name == 'api_key'"),
}
KINDS = sorted(VALUES)


class Flow:
    """One flow being built: its nodes, edges and the port where the next node attaches."""

    def __init__(self, effects: str = EFFECTS):
        self.nodes: dict = {"start": {"type": "core.start"}}
        self.edges: list = []
        self.tail = "start.out"
        self.effects = effects

    def add(self, node_id: str, type_: str, params: dict | None = None, *, after: str | None = None,
            **extra) -> str:
        """Add a node; ``after`` is the port (``node.port``) that leads to it."""
        self.nodes[node_id] = {"type": type_, "params": params or {}, **extra}
        if after:
            self.link(after, f"{node_id}.in")
        return node_id

    def link(self, source: str, target: str) -> None:
        self.edges.append({"from": source, "to": target})

    def then(self, node_id: str, type_: str, params: dict | None = None, **extra) -> str:
        """Add a node after the tail; it becomes the tail (its ``out`` port)."""
        self.add(node_id, type_, params, after=self.tail, **extra)
        self.tail = f"{node_id}.out"
        return node_id

    def line(self, node_id: str, text: str, *, after: str | None = None, core: bool = True) -> str:
        """An appended line: core files.append_text, or replay.effect (which can park in flight)."""
        type_, params = "files.append_text" if core else "replay.effect", {"path": self.effects, "text": text}
        return self.add(node_id, type_, params, after=after) if after else self.then(node_id, type_, params)

    def record(self, p: str, label: str, expr: str) -> None:
        """Fingerprint a value, then append it (through the pack's in-flight-parkable effect)."""
        self.then(f"{p}_fp", "replay.fingerprint", {"value": expr})
        self.line(f"{p}_rec", f"{label} {{{{ nodes.{p}_fp.text }}}}", core=False)

    def json(self, **decls) -> dict:
        return {"nodes": self.nodes, "edges": self.edges, **{k: v for k, v in decls.items() if v}}


class BotBuilder:
    """Segments appended one after another to the main flow; ``finish()`` gives the bot's JSON
    and the other files it needs (called bots)."""

    def __init__(self, name: str, http_base: str | None = None):
        self.name = name
        self.main = Flow()
        self.subflows: dict = {}
        self.files: dict[str, str] = {}
        self.outputs: dict = {}
        self.http_base = http_base
        self.count = 0

    def set_value(self, flow: Flow, p: str, kind: str) -> str:
        """``v_P`` = a value of ``kind``; returns the variable's name."""
        var = f"v_{p}"
        expr = VALUES[kind][0]
        if expr is None:
            params = {"kind": kind, **({"secret": SECRET_NAME} if kind == "secret" else {})}
            flow.then(f"{p}_make", "replay.value", params)
            expr = f"{{{{ nodes.{p}_make.value }}}}"
        flow.then(f"{p}_set", "core.set_variable", {"name": var, "value": expr})
        if flow is self.main:
            self.outputs[var] = "any"
        return var

    # -- segments: each takes a prefix (unique in the bot) and a value kind
    def seg_value(self, p: str, kind: str) -> None:
        m, var = self.main, self.set_value(self.main, p, kind)
        m.then(f"{p}_gate", "replay.gate", {"label": p})
        m.record(p, f"{p} {kind} probe={VALUES[kind][1].replace('V', var)}", f"{{{{ {var} }}}}")
        m.then(f"{p}_verify", "core.verify", {"value": f"{{{{ {var} is defined }}}}", "check": "is_true",
                                              "what": f"variable {var}"})
        cond = m.then(f"{p}_if", "core.if", {"condition": VALUES[kind][2].replace("V", var)})
        join = m.add(f"{p}_join", "core.log", {"message": f"{p} joined"})
        for port, said in (("true", "held"), ("false", "failed")):
            m.link(m.line(f"{p}_{port}", f"{p} condition {said}", after=f"{cond}.{port}") + ".out", f"{join}.in")
        m.tail = f"{join}.out"

    def seg_loop(self, p: str, kind: str) -> None:
        m = self.main
        loop = m.then(f"{p}_each", "core.for_each", {"items": ["a", "b", "c", "d", "e"], "item_var": f"it_{p}",
                                                     "index_var": f"ix_{p}"})
        m.add(f"{p}_gate", "replay.gate", {"label": p}, after=f"{loop}.body")
        m.add(f"{p}_skip", "core.if", {"condition": f"ix_{p} == 1"}, after=f"{p}_gate.out")
        m.add(f"{p}_cont", "core.continue", after=f"{p}_skip.true")
        m.add(f"{p}_stop", "core.if", {"condition": f"ix_{p} == 3"}, after=f"{p}_skip.false")
        m.add(f"{p}_brk", "core.break", after=f"{p}_stop.true")
        m.line(f"{p}_item", f"{p} item {{{{ ix_{p} }}}} {{{{ it_{p} }}}}", after=f"{p}_stop.false", core=False)
        m.line(f"{p}_count", f"{p} loop count {{{{ nodes.{loop}.count }}}}")

    def seg_while(self, p: str, kind: str) -> None:
        m = self.main
        m.then(f"{p}_zero", "core.set_variable", {"name": f"c_{p}", "value": 0})
        loop = m.then(f"{p}_while", "core.while", {"condition": f"c_{p} < 3"})
        m.add(f"{p}_inc", "core.set_variable", {"name": f"c_{p}", "value": f"{{{{ c_{p} + 1 }}}}"},
              after=f"{loop}.body")
        m.add(f"{p}_gate", "replay.gate", {"label": p}, after=f"{p}_inc.out")
        m.line(f"{p}_pass", f"{p} pass {{{{ c_{p} }}}}", after=f"{p}_gate.out")
        m.line(f"{p}_done", f"{p} iterations {{{{ nodes.{loop}.iterations }}}}")

    def seg_try(self, p: str, kind: str) -> None:
        m = self.main
        t = m.then(f"{p}_try", "core.try", {"error_var": f"err_{p}"})
        m.line(f"{p}_before", f"{p} tried", after=f"{t}.try", core=False)
        m.add(f"{p}_fail", "core.fail", {"message": f"boom {p}", "kind": "custom"}, after=f"{p}_before.out")
        m.line(f"{p}_caught", f"{p} caught {{{{ err_{p}.message }}}} {{{{ err_{p}.kind }}}}", after=f"{t}.catch")
        m.add(f"{p}_gate", "replay.gate", {"label": p}, after=f"{p}_caught.out")
        m.line(f"{p}_finally", f"{p} finally", after=f"{t}.finally")

    def seg_retry(self, p: str, kind: str) -> None:
        m = self.main
        m.then(f"{p}_zero", "core.set_variable", {"name": f"r_{p}", "value": 0})
        r = m.then(f"{p}_retry", "core.retry", {"attempts": 3, "delay": 0})
        m.add(f"{p}_inc", "core.set_variable", {"name": f"r_{p}", "value": f"{{{{ r_{p} + 1 }}}}"}, after=f"{r}.body")
        m.line(f"{p}_attempt", f"{p} attempt {{{{ r_{p} }}}}", after=f"{p}_inc.out", core=False)
        m.add(f"{p}_flaky", "core.if", {"condition": f"r_{p} < 2"}, after=f"{p}_attempt.out")
        m.add(f"{p}_fail", "core.fail", {"message": "flaky"}, after=f"{p}_flaky.true")
        m.line(f"{p}_used", f"{p} attempts {{{{ nodes.{r}.attempts }}}}")

    def seg_errors(self, p: str, kind: str) -> None:
        """A node retried by its settings that leaves by its error port; one that fails and goes on."""
        m = self.main
        m.then(f"{p}_read", "files.read_text", {"path": f"missing-{p}.txt"},
               settings={"retry": {"attempts": 2, "delay": 0, "on": ["*"]}})
        m.tail = m.line(f"{p}_missing", f"{p} missing {{{{ error.kind }}}}", after=f"{p}_read.error") + ".out"
        m.then(f"{p}_bad", "data.read_json", {"path": f"missing-{p}.json"}, settings={"on_error": "continue"})
        m.line(f"{p}_went_on", f"{p} went on after {{{{ error.kind }}}}")

    def seg_switch(self, p: str, kind: str) -> None:
        m = self.main
        s = m.then(f"{p}_switch", "core.switch", {"value": "{{ 'b' }}", "cases": ["a", "b"]})
        join = m.add(f"{p}_join", "core.log", {"message": f"{p} switched"})
        for port in ("a", "b", "default"):
            m.link(m.line(f"{p}_{port}", f"{p} case {port}", after=f"{s}.{port}") + ".out", f"{join}.in")
        m.tail = f"{join}.out"

    def seg_delay(self, p: str, kind: str) -> None:
        self.main.then(f"{p}_delay", "core.delay", {"seconds": 0.05})
        self.main.line(f"{p}_slept", f"{p} slept")

    def seg_signal(self, p: str, kind: str) -> None:
        var = self.set_value(self.main, p, kind)
        self.main.then(f"{p}_wait", "core.wait_signal", {"signal": f"go_{p}"})
        probe = VALUES[kind][1].replace("V", var)
        self.main.record(p, f"{p} after signal {{{{ nodes.{p}_wait.data.answer }}}} probe={probe}", f"{{{{ {var} }}}}")

    def _called(self, p: str, kind: str, called: Flow, type_: str, params: dict) -> dict:
        """A subflow or another bot file, called with a value and giving one back."""
        called.then(f"{p}_gate", "replay.gate", {"label": p})
        called.record(f"{p}_in", f"{p} {type_} got", "{{ x }}")
        called.then(f"{p}_delay", "core.delay", {"seconds": 0.02})
        called.then(f"{p}_out", "core.set_variable", {"name": "y", "value": "{{ [x, {'got': x}] }}"})
        var = self.set_value(self.main, p, kind)
        self.main.then(f"{p}_call", type_, {**params, "inputs": {"x": f"{{{{ {var} }}}}"}})
        self.main.record(f"{p}_back", f"{p} {type_} gave", f"{{{{ nodes.{p}_call.outputs.y }}}}")
        return called.json(inputs={"x": "any"}, outputs={"y": "any"})

    def seg_subflow(self, p: str, kind: str) -> None:
        self.subflows[f"sub_{p}"] = self._called(p, kind, Flow(), "core.call_subflow", {"subflow": f"sub_{p}"})

    def seg_callbot(self, p: str, kind: str) -> None:
        lib = self._called(p, kind, Flow(effects=f"../{EFFECTS}"), "core.call_bot", {"bot": f"lib/lib_{p}.bot.json"})
        self.files[f"lib/lib_{p}.bot.json"] = json.dumps({"format": 1, "name": f"lib-{p}", **lib}, indent=1)

    def seg_files(self, p: str, kind: str) -> None:
        m = self.main
        m.then(f"{p}_write", "files.write_text", {"path": f"{p}/a.txt", "text": "hello {{ 6 * 7 }}"})
        m.then(f"{p}_read", "files.read_text", {"path": f"{p}/a.txt"})
        m.then(f"{p}_copy", "files.copy", {"source": f"{p}/a.txt", "destination": f"{p}/b.txt"})
        m.then(f"{p}_gate", "replay.gate", {"label": p})
        m.then(f"{p}_move", "files.move", {"source": f"{p}/b.txt", "destination": f"{p}/c.txt"})
        m.then(f"{p}_list", "files.list", {"folder": p, "pattern": "*.txt"})
        m.then(f"{p}_wait", "files.wait", {"pattern": f"{p}/c.txt", "timeout": 5})
        m.then(f"{p}_del", "files.delete", {"path": f"{p}/a.txt"})
        m.line(f"{p}_said", f"{p} files {{{{ nodes.{p}_read.text }}}} {{{{ nodes.{p}_list.count }}}} "
                            f"{{{{ nodes.{p}_wait.size }}}} {{{{ nodes.{p}_del.deleted }}}}")

    def seg_data(self, p: str, kind: str) -> None:
        m = self.main
        rows = self.set_value(m, p, "table")
        m.then(f"{p}_wcsv", "data.write_csv", {"path": f"{p}/t.csv", "rows": f"{{{{ {rows} }}}}"})
        m.then(f"{p}_rcsv", "data.read_csv", {"path": f"{p}/t.csv", "infer_types": True})
        m.then(f"{p}_wjson", "data.write_json", {"path": f"{p}/t.json", "data": {"rows": f"{{{{ {rows} }}}}", "n": 2}})
        m.then(f"{p}_gate", "replay.gate", {"label": p})
        m.then(f"{p}_rjson", "data.read_json", {"path": f"{p}/t.json"})
        m.then(f"{p}_wxl", "data.write_excel", {"path": f"{p}/t.xlsx", "rows": f"{{{{ nodes.{p}_rcsv.rows }}}}"})
        m.then(f"{p}_rxl", "data.read_excel", {"path": f"{p}/t.xlsx"})
        m.record(f"{p}_all", f"{p} data", f"{{{{ [nodes.{p}_rcsv.rows, nodes.{p}_rjson.data, nodes.{p}_rxl.rows] }}}}")

    def seg_text(self, p: str, kind: str) -> None:
        m = self.main
        m.then(f"{p}_tpl", "text.template", {"template": "Dear {{ 'Ann' }},\nyou owe {{ 2 * 21 }}."})
        m.then(f"{p}_rx", "text.regex_extract", {"text": "Invoice no. 4711 of 2024", "pattern": r"no\. (\d+)",
                                                  "group": "1"})
        m.then(f"{p}_dp", "text.date_parse", {"text": "25/12/2018"})
        m.then(f"{p}_gate", "replay.gate", {"label": p})
        m.then(f"{p}_df", "text.date_format", {"date": f"{{{{ nodes.{p}_dp.date }}}}", "format": "%d %b %Y",
                                                "add_days": 3})
        m.record(f"{p}_all", f"{p} text", f"{{{{ [nodes.{p}_tpl.text, nodes.{p}_rx.match, nodes.{p}_dp.year, "
                                          f"nodes.{p}_df.text, nodes.{p}_df.date] }}}}")

    def seg_http(self, p: str, kind: str) -> None:
        m = self.main
        m.then(f"{p}_get", "http.request", {"url": f"{self.http_base}/data.json", "query": {"p": p}})
        m.then(f"{p}_gate", "replay.gate", {"label": p})
        m.record(f"{p}_all", f"{p} http", f"{{{{ [nodes.{p}_get.status, nodes.{p}_get.json] }}}}")

    def seg_queue(self, p: str, kind: str) -> None:
        """A work queue: add an item carrying a value, take it (exactly once), finish it."""
        m = self.main
        var = self.set_value(m, p, kind)
        m.then(f"{p}_add", "queue.add", {"queue": f"q_{p}", "reference": f"ref-{p}", "payload": f"{{{{ {var} }}}}"})
        m.then(f"{p}_gate", "replay.gate", {"label": p})
        m.then(f"{p}_next", "queue.get_next", {"queue": f"q_{p}"})
        m.then(f"{p}_done", "queue.set_status", {"item": f"{{{{ nodes.{p}_next.item }}}}", "status": "succeeded",
                                                  "output": f"{{{{ nodes.{p}_next.payload }}}}"})
        m.record(p, f"{p} queue", f"{{{{ [nodes.{p}_done.item.status, nodes.{p}_done.item.reference, "
                                  f"nodes.{p}_next.payload] }}}}")

    SEGMENTS = ("value", "loop", "while", "try", "retry", "errors", "switch", "delay", "signal", "subflow",
                "callbot", "files", "data", "text", "http", "queue")

    def add(self, segment: str, kind: str) -> None:
        self.count += 1
        getattr(self, f"seg_{segment}")(f"s{self.count}", kind)

    def finish(self) -> tuple[dict, dict[str, str]]:
        self.main.then("last", "core.log", {"message": "all segments done"})
        self.main.then("the_end", "core.end")
        bot = {"format": 1, "name": self.name, "secrets": {SECRET_NAME: "a secret the bot only names"},
               "outputs": self.outputs, **self.main.json(), "subflows": self.subflows}
        return bot, self.files


def build(name: str, segments: list[tuple[str, str]], http_base: str | None = None) -> tuple[dict, dict[str, str]]:
    builder = BotBuilder(name, http_base)
    for segment, kind in segments:
        builder.add(segment, kind)
    return builder.finish()


def node_types(bot: dict, files: dict[str, str]) -> set[str]:
    flows = [bot, *bot.get("subflows", {}).values(), *(json.loads(t) for t in files.values())]
    return {n["type"] for flow in flows for n in flow["nodes"].values()}


# ---------------------------------------------------------------- driving real processes

class Chain:
    """A bot in a work folder of its own with a data folder of its own, driven through the real
    ``botloom`` command: run, SIGKILL at the planned points, resume until the run ends, answering
    signals and deciding a step that needs attention the way a person would (did it take effect?)."""

    def __init__(self, root: Path, bot: dict, files: dict[str, str], pythonpath: list[Path],
                 extra: dict[str, bytes] | None = None):
        import sys

        self.root, self.work, self.home = root, root / "work", root / "home"
        self.work.mkdir(parents=True)
        self.bot = self.work / f"{bot['name']}.bot.json"
        self.bot.write_text(json.dumps(bot, indent=1, ensure_ascii=False), encoding="utf-8")
        for rel, text in {**files, **(extra or {})}.items():
            (self.work / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.work / rel).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        self.marker = root / "parked"
        self.python = sys.executable
        self.env = dict(os.environ, BOTLOOM_HOME=str(self.home), PYTHONUNBUFFERED="1",
                        PYTHONPATH=os.pathsep.join([*map(str, pythonpath),
                                                    *filter(None, [os.environ.get("PYTHONPATH")])]),
                        **{f"BOTLOOM_SECRET_{SECRET_NAME.upper()}": SECRET_VALUE})
        self.env.pop("REPLAY_PARK_AT", None)
        self.kills = 0
        self.log: list[str] = []  # what was done, for the failure message
        self.decisions: list[str] = []

    def argv(self, *args) -> list[str]:
        return [self.python, "-m", "botloom.runner.cli", *map(str, args)]

    def call(self, *args, timeout: float = 60):
        import subprocess

        return subprocess.run(self.argv(*args), cwd=self.work, env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def _start(self, args, park: int | None = None, stdin: bool = False):
        import subprocess

        env = dict(self.env)
        if park is not None:
            self.marker.unlink(missing_ok=True)
            env.update(REPLAY_PARK_AT=str(park), REPLAY_PARK_FILE=str(self.marker))
        return subprocess.Popen(self.argv(*args), cwd=self.work, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                text=True)

    def _kill(self, proc) -> bool:
        import signal

        if proc.poll() is not None:
            return False
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        self.kills += 1
        return True

    def _run_stepped(self, k: int):
        """``botloom run`` under the debugger: SIGKILL it when it is paused before its k-th step."""
        proc = self._start(("run", self.bot, "--events", "jsonl", "--control", "stdin", "--break", "start"),
                           stdin=True)
        paused = 0
        try:
            for line in proc.stdout:
                if json.loads(line).get("event") != "paused":
                    continue
                paused += 1
                if paused >= k:
                    self._kill(proc)
                    return None
                proc.stdin.write('{"cmd": "step"}\n')
                proc.stdin.flush()
            proc.communicate(timeout=60)
            return proc.returncode
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()

    def _await(self, proc, kill: tuple | None) -> bool:
        """Wait for the planned kill point; True if the process was killed there."""
        if kill is None:
            return False
        deadline = time.monotonic() + (kill[1] if kill[0] == "time" else 60)
        while time.monotonic() < deadline and proc.poll() is None:
            if kill[0] == "park" and self.marker.exists():
                break
            time.sleep(0.01)
        if kill[0] == "park" and not self.marker.exists():
            if proc.poll() is None:
                proc.kill()
                raise AssertionError(f"the process did not park at call {kill[1]} within 60 s")
            return False
        return self._kill(proc)

    def stored(self) -> dict:
        """The last run's id, state, attention and wake-up, read-only from the store ({} if none)."""
        import sqlite3

        db = self.home / "runs.sqlite"
        if not db.exists():
            return {}
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            row = conn.execute("SELECT id, state, attention, wake FROM runs ORDER BY started_at DESC "
                               "LIMIT 1").fetchone()
        except sqlite3.OperationalError:
            return {}
        finally:
            conn.close()
        if row is None:
            return {}
        return {"run_id": row[0], "state": row[1], "attention": json.loads(row[2] or "null"),
                "wake": json.loads(row[3] or "null")}

    def stored_result(self) -> dict:
        """The run's result as `botloom show` gives it (for a process that ended without `--json`)."""
        row = self.shown()["run"]
        return {"run_id": row["id"], "from_store": True,
                **{k: row[k] for k in ("state", "outputs", "error", "attention", "wake")}}

    def drive(self, plan: list[tuple] = (), max_processes: int = 80) -> dict:
        """Run the bot to its end through the kill plan; the final `--json` result (or, if the
        last process ended without giving one, the run as `botloom show` has it)."""
        plan = list(plan)
        command: tuple = ("run", self.bot)
        for _ in range(max_processes):
            kill = plan.pop(0) if plan else None
            if kill and kill[0] == "step" and command[0] != "run":
                kill = ("park", kill[1] % 4 + 1)  # only a new run can start under the debugger
            self.log.append(f"{' '.join(map(str, command[:1] + command[2:]))} / kill at {kill}")
            if kill and kill[0] == "step":
                code = self._run_stepped(kill[1])
                if code not in (None, 0, 1, 3):
                    raise AssertionError(f"the stepped run ended with exit code {code}")
                result = None if code is None else self.stored_result()  # it ended before its k-th step
            else:
                result = self._once(command, kill)
            info = result or self.stored()  # killed: where did it leave the run?
            state = info.get("state")
            self.log.append(f"  -> {state}")
            if state is None:  # killed before the run was recorded
                command = ("run", self.bot)
            elif state in ("succeeded", "failed"):
                return result or self.stored_result()
            elif state == "suspended" and (info.get("wake") or {}).get("signal"):
                command = ("signal", "last", info["wake"]["signal"], "--data", "answer=yes")
            elif state == "needs_attention":
                command = ("resume", "last", "--skip" if self.took_effect(info) else "--retry")
            else:  # crashed, or still marked running by the process just killed
                command = ("resume", "last")
        raise AssertionError(f"the run did not end within {max_processes} processes: {self.log}")

    def _once(self, command: tuple, kill: tuple | None) -> dict | None:
        """One process; its `--json` result, or None if it was killed."""
        proc = self._start((*command, "--json"), park=kill[1] if kill and kill[0] == "park" else None)
        try:
            if self._await(proc, kill):
                return None
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        if proc.returncode not in (0, 1, 3) or not out.strip():
            raise AssertionError(f"`botloom {' '.join(map(str, command))}` exited {proc.returncode}:\n{out}{err}\n"
                                 f"{self.log}")
        return json.loads(out)

    def took_effect(self, result: dict) -> bool:
        """What a person checks before choosing --skip or --retry: is the step's effect there?"""
        import sqlite3

        seq = result["attention"]["seq"]
        conn = sqlite3.connect(f"file:{self.home / 'runs.sqlite'}?mode=ro", uri=True, timeout=10)
        try:
            type_, params = conn.execute("SELECT node_type, params FROM node_runs WHERE run_id=? AND seq=? "
                                         "ORDER BY attempt DESC LIMIT 1", (result["run_id"], seq)).fetchone()
        finally:
            conn.close()
        params = json.loads(params or "{}")
        folders = [self.work, self.work / "lib"]
        if type_ in ("files.append_text", "replay.effect"):
            done = any(params["text"] in lines(f / params["path"]) for f in folders)
        elif type_ == "files.move":
            done = any((f / params["destination"]).exists() and not (f / params["source"]).exists() for f in folders)
        else:
            raise AssertionError(f"no rule to tell whether a {type_} step took effect ({params})")
        self.decisions.append(f"step {seq} {type_}: {'skip' if done else 'retry'}")
        return done

    # -- what a run leaves behind
    def files(self) -> dict[str, bytes]:
        """Every file the bot wrote (Excel workbooks hold their save time: they are compared by
        the rows read back from them)."""
        return {p.relative_to(self.work).as_posix(): p.read_bytes() for p in sorted(self.work.rglob("*"))
                if p.is_file() and not p.name.endswith((".bot.json", ".xlsx"))}

    def shown(self) -> dict:
        proc = self.call("show", "last", "--json")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    def secret_leaks(self) -> list[str]:
        return [p.name for p in self.home.rglob("*") if p.is_file() and SECRET_VALUE.encode() in p.read_bytes()]


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []
