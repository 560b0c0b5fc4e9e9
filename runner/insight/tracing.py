"""OpenTelemetry traces of runs: a listener that makes a span for the run and one per step.

Enabled when an exporter is configured: the environment's ``OTEL_TRACES_EXPORTER`` (``otlp``,
``console``; ``none`` turns it off) or ``OTEL_EXPORTER_OTLP_ENDPOINT`` /
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, or the setting ``tracing.exporter`` (``otlp``,
``console``). The other ``OTEL_*`` variables (endpoint, headers, service name, sampler) are
read by the OpenTelemetry SDK itself. Nothing is imported when nothing is configured, so a run
without tracing pays one look at the environment.

Spans::

    run <bot>                          botloom.bot, botloom.run_id, botloom.resumed, botloom.state
    └── <node type> (one per attempt)  botloom.node, botloom.node_type, botloom.flow, botloom.seq,
        └── ... steps inside it         botloom.attempt, botloom.outcome, botloom.port,
                                         botloom.error.kind; status ERROR when the step failed

A step's parent is the step whose scope it runs in: a loop, try/catch, retry scope or subflow
(or bot) call emits ``node_started`` before its body and ``node_finished`` after it, so the
steps between are its children; a step at the top is a child of the run. A replayed step (a
resumed run applying a recorded outcome) or one that failed before it started (a parameter
that could not be evaluated) has no ``node_started``: its span is made from the recorded start
and duration, with ``botloom.replayed`` true for the former. The listener is best-effort: an
exporter that fails never stops a run.
"""

from __future__ import annotations

import os
from typing import Any

from ..engine.events import Listener
from ..states import RunState, StepState

_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def configured(settings: dict[str, Any] | None = None) -> str | None:
    """The exporter to use ('otlp', 'console') or None when tracing is off."""
    env = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if env == "none":
        return None
    if env:
        return env
    if any(os.environ.get(name) for name in _ENDPOINTS):
        return "otlp"
    return str((settings or {}).get("tracing.exporter") or "").strip().lower() or None


_PROVIDERS: dict[str, Any] = {}


def provider_for(exporter: str):
    """One tracer provider per exporter and process, flushed at exit by the SDK."""
    if exporter in _PROVIDERS:
        return _PROVIDERS[exporter]
    from ..errors import BotloomError

    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            ConsoleSpanExporter,
        )
    except ImportError:
        raise BotloomError("tracing is configured but OpenTelemetry is not installed",
                           fix="pip install 'botloom[insight]', or unset OTEL_TRACES_EXPORTER") from None
    if exporter == "console":
        span_exporter = ConsoleSpanExporter()
    elif exporter == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                OTLPSpanExporter,
            )
        except ImportError:
            raise BotloomError("traces are to go to an OTLP endpoint but the OTLP exporter is not installed",
                               fix="pip install opentelemetry-exporter-otlp-proto-http") from None
        span_exporter = OTLPSpanExporter()
    else:
        raise BotloomError(f"unknown trace exporter '{exporter}'", fix="use otlp or console (OTEL_TRACES_EXPORTER)")
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "botloom")})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(span_exporter))
    _PROVIDERS[exporter] = provider
    return provider


def listeners(settings: dict[str, Any] | None = None) -> list[Listener]:
    """``[TracingListener]`` when an exporter is configured, else ``[]`` (nothing imported)."""
    exporter = configured(settings)
    if exporter is None:
        return []
    return [TracingListener(provider_for(exporter))]


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


class TracingListener(Listener):
    critical = False

    def __init__(self, tracer_provider):
        self.provider = tracer_provider
        self.tracer = tracer_provider.get_tracer("botloom.runner")
        self.bot = ""
        self.run_span = None
        self.stack: list[tuple[int, int, Any]] = []  # (seq, attempt, span) of the steps open now

    def _context(self):
        from opentelemetry import trace

        parent = self.stack[-1][2] if self.stack else self.run_span
        return trace.set_span_in_context(parent) if parent is not None else None

    def on_run_started(self, event) -> None:
        self.bot = event.bot
        self.run_span = self.tracer.start_span(
            f"run {event.bot}", start_time=_ns(event.time) if event.time else None,
            attributes={"botloom.bot": event.bot, "botloom.run_id": event.run_id, "botloom.resumed": event.resumed})

    def _attributes(self, event) -> dict[str, Any]:
        return {"botloom.bot": self.bot, "botloom.run_id": event.run_id, "botloom.node": event.node,
                "botloom.node_type": event.type, "botloom.flow": event.flow, "botloom.seq": event.seq,
                "botloom.attempt": event.attempt}

    def on_node_started(self, event) -> None:
        span = self.tracer.start_span(event.type or event.node, context=self._context(),
                                      start_time=_ns(event.time) if event.time else None,
                                      attributes=self._attributes(event))
        self.stack.append((event.seq, event.attempt, span))

    def on_node_finished(self, event) -> None:
        from opentelemetry.trace import Status, StatusCode

        index = next((i for i in range(len(self.stack) - 1, -1, -1)
                      if self.stack[i][:2] == (event.seq, event.attempt)), None)
        if index is None:  # replayed, or failed before it started: a span from the record
            span = self.tracer.start_span(event.type or event.node, context=self._context(),
                                          start_time=_ns(event.started) if event.started else None,
                                          attributes={**self._attributes(event), "botloom.replayed": event.replayed})
        else:
            for _, _, inner in self.stack[index + 1:]:  # a step left open inside (never expected): closed here
                inner.end()
            span = self.stack[index][2]
            del self.stack[index:]
        span.set_attribute("botloom.outcome", str(event.state))
        if event.port:
            span.set_attribute("botloom.port", event.port)
        if event.state == StepState.FAILED:
            error = event.error or {}
            span.set_attribute("botloom.error.kind", str(error.get("kind") or "error"))
            span.set_status(Status(StatusCode.ERROR, str(error.get("message") or "")[:500]))
        end = _ns(event.started + event.duration) if event.started else None
        span.end(end_time=end)

    def on_run_finished(self, event) -> None:
        from opentelemetry.trace import Status, StatusCode

        for _, _, span in reversed(self.stack):
            span.end()
        self.stack.clear()
        if self.run_span is None:
            return
        self.run_span.set_attribute("botloom.state", str(event.state))
        self.run_span.set_attribute("botloom.steps", event.steps)
        if event.state in (RunState.FAILED, RunState.CRASHED):
            message = str((event.error or {}).get("message") or "")[:500]
            self.run_span.set_status(Status(StatusCode.ERROR, message))
        self.run_span.end(end_time=_ns(event.time) if event.time else None)
        self.run_span = None

    def close(self) -> None:
        try:
            self.provider.force_flush(5000)
        except Exception:  # best-effort: an unreachable collector must not hold the run's end
            pass


__all__ = ["TracingListener", "configured", "listeners", "provider_for"]
