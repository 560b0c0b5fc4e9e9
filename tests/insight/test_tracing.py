"""OpenTelemetry traces: one span per step, parented by the scope the step runs in (loops,
subflow calls), checked with the SDK's in-memory exporter on real runs of the engine."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from botloom.runner.insight import tracing

from bots import chain, make, run

pytest.importorskip("opentelemetry.sdk")
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

START = {"type": "core.start"}


def setvar(name, value):
    return {"type": "core.set_variable", "params": {"name": name, "value": value}}


def traced(doc):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    result, events = run(doc, listeners=[tracing.TracingListener(provider)])
    return result, events, exporter.get_finished_spans()


def by_node(spans):
    out = {}
    for span in spans:
        node = span.attributes.get("botloom.node")
        if node is not None:
            out.setdefault(node, []).append(span)
    return out


def test_a_span_per_step_with_loops_and_subflows_parented_by_their_scope():
    doc = make({"start": START,
                "loop": {"type": "core.for_each", "params": {"items": [1, 2, 3]}},
                "call": {"type": "core.call_subflow", "params": {"subflow": "double", "inputs": {"x": "{{ item }}"}}},
                "after": setvar("done", True)},
               [("start", "loop"), ("loop.body", "call"), ("loop", "after")], name="traced",
               subflows={"double": {"inputs": {"x": {"type": "integer", "required": True}},
                                    "outputs": {"y": "integer"},
                                    "nodes": {"start": START, "calc": setvar("y", "{{ x * 2 }}")},
                                    "edges": chain("start", "calc")}})
    result, events, spans = traced(doc)
    assert result.state == "succeeded"
    steps = events.of("node_finished")
    step_spans = [s for s in spans if "botloom.node" in s.attributes]
    assert len(step_spans) == len(steps)  # one span per step, no more, no fewer
    nodes = by_node(spans)
    # the main flow's start and one per subflow call
    assert [len(nodes[n]) for n in ("start", "loop", "call", "calc", "after")] == [4, 1, 3, 3, 1]
    (run_span,) = [s for s in spans if s.name == "run traced"]
    loop = nodes["loop"][0]
    top = {s.attributes["botloom.node"] for s in step_spans if s.parent.span_id == run_span.context.span_id}
    assert top == {"start", "loop", "after"}  # the main flow's start, the loop and the step after it
    for call in nodes["call"]:
        assert call.parent.span_id == loop.context.span_id
    calls = {c.context.span_id for c in nodes["call"]}
    subflow_starts = [s for s in nodes["start"] if s.attributes["botloom.flow"] == "double"]
    assert {s.parent.span_id for s in nodes["calc"]} == calls and {s.parent.span_id for s in subflow_starts} == calls
    for calc in nodes["calc"]:
        assert calc.attributes["botloom.bot"] == "traced"
        assert calc.attributes["botloom.node_type"] == "core.set_variable"
        assert calc.attributes["botloom.outcome"] == "succeeded"
        assert calc.context.trace_id == run_span.context.trace_id


def test_a_failed_step_has_an_error_status_and_its_kind():
    from opentelemetry.trace import StatusCode

    doc = make({"start": START, "oops": {"type": "core.fail", "params": {"message": "no invoice"}}},
               chain("start", "oops"), name="failing")
    result, _, spans = traced(doc)
    assert result.state == "failed"
    (oops,) = by_node(spans)["oops"]
    assert oops.status.status_code == StatusCode.ERROR and "no invoice" in oops.status.description
    assert oops.attributes["botloom.outcome"] == "failed" and oops.attributes["botloom.error.kind"] == "failed"
    (run_span,) = [s for s in spans if s.name == "run failing"]
    assert run_span.attributes["botloom.state"] == "failed"


def test_tracing_is_on_only_when_an_exporter_is_configured(monkeypatch):
    for name in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert tracing.listeners({}) == []
    assert tracing.configured({"tracing.exporter": "console"}) == "console"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert tracing.configured({}) == "otlp"
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert tracing.configured({"tracing.exporter": "console"}) is None
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    (listener,) = tracing.listeners({})
    assert isinstance(listener, tracing.TracingListener)


def test_a_run_of_the_cli_is_traced_when_an_exporter_is_configured(cli, tmp_path):
    bot = tmp_path / "hello.bot.json"
    bot.write_text(json.dumps({"format": 1, "name": "hello", "nodes": {
        "start": {"type": "core.start"}, "say": {"type": "core.log", "params": {"message": "hi"}}},
        "edges": [{"from": "start.out", "to": "say.in"}]}), encoding="utf-8")
    cli.env["OTEL_TRACES_EXPORTER"] = "console"
    proc = cli("run", bot, "-q")
    assert proc.returncode == 0, proc.stderr
    names = re.findall(r'"name": "([^"]+)"', proc.stdout)
    assert sorted(names) == ["core.log", "core.start", "run hello"]
    cli.env["OTEL_TRACES_EXPORTER"] = "none"
    assert '"name"' not in cli("run", bot, "-q").stdout
