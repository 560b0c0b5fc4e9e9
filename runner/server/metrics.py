"""The service's metrics, in Prometheus' text format (``GET /metrics`` of the control API).

Counters and histograms are fed by the dispatcher from the workers' events; the figures that
live in the run store (runs waiting for a person) are read from it at each scrape, so they are
right even for runs the service did not start.

    botloom_runs_started_total{bot}                 runs the service launched (starts and resumes)
    botloom_runs_finished_total{bot,state}          their outcomes
    botloom_step_seconds{node_type}                 step latency (histogram)
    botloom_schedule_lag_seconds                    from a run's scheduled time to its first step
    botloom_queue_length                            runs waiting for a free slot
    botloom_runs_active                             workers running now
    botloom_runs_waiting_for_person{reason}         runs that need attention or wait for a signal
    botloom_review_rate{bot,kind}                   straight-through and human-intervention rates
    botloom_review_turnaround_seconds{bot}          median time from a review task to its answer
    botloom_alert{bot,kind}                         1 for each alert that holds (runner/insight/alerts.py)
    botloom_alert_value{bot,kind}                   its figure (the failure rate, the P95 seconds ...)
    botloom_alert_checks_total                      alert checks made

The alert gauges come from the service's last alert check (``alerts.check_seconds``), whose
figures are the ones ``botloom stats`` computes from the run store.
"""

from __future__ import annotations


from ..states import RunState

STEP_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)


class Metrics:
    def __init__(self, runner):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.runner = runner
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.started = Counter("botloom_runs_started", "Runs the service launched", ["bot"], registry=r)
        self.finished = Counter("botloom_runs_finished", "Runs the service launched, by outcome", ["bot", "state"],
                                registry=r)
        self.steps = Histogram("botloom_step_seconds", "Step latency by node type", ["node_type"], registry=r,
                               buckets=STEP_BUCKETS)
        self.lag = Histogram("botloom_schedule_lag_seconds", "From a run's scheduled time to its first step",
                             registry=r, buckets=LAG_BUCKETS)
        self.queue = Gauge("botloom_queue_length", "Runs waiting for a free slot", registry=r)
        self.active = Gauge("botloom_runs_active", "Worker processes running now", registry=r)
        r.register(_WaitingCollector(runner))
        r.register(_ReviewCollector(runner))
        self.alerts = None  # set by the service: an insight.alerts.Watch
        r.register(_AlertCollector(self))

    # -- fed by the dispatcher
    def queue_changed(self, length: int) -> None:
        self.queue.set(length)

    def run_started(self, request) -> None:
        self.started.labels(request.bot_name or "?").inc()
        self.active.inc()

    def step_finished(self, node_type: str, seconds: float, state: str | None) -> None:
        self.steps.labels(node_type or "?").observe(seconds)

    def run_finished(self, request, state, active) -> None:
        self.active.dec()
        self.finished.labels(request.bot_name or "?", str(state or "unknown")).inc()
        if request.scheduled_at and active.first_step:
            self.lag.observe(max(0.0, active.first_step - request.scheduled_at))

    def text(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


class _WaitingCollector:
    """Runs waiting for a person, read from the store at each scrape."""

    def __init__(self, runner):
        self.runner = runner

    def describe(self):
        return []

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily("botloom_runs_waiting_for_person", "Runs that need attention or wait for a signal",
                                   labels=["reason"])
        try:
            store = self.runner.store()
            try:
                attention = store.conn.execute("SELECT COUNT(*) FROM runs WHERE state=?",
                                               (RunState.NEEDS_ATTENTION,)).fetchone()[0]
                signal = store.conn.execute("SELECT COUNT(*) FROM runs WHERE state=? AND signal IS NOT NULL",
                                            (RunState.SUSPENDED,)).fetchone()[0]
            finally:
                store.close()
        except Exception:  # a scrape must not fail because the store is busy
            attention = signal = 0
        family.add_metric(["needs_attention"], attention)
        family.add_metric(["signal"], signal)
        yield family


class _ReviewCollector:
    """The human-review figures per bot (runner/tasks.py), read from the store at each scrape."""

    def __init__(self, runner):
        self.runner = runner

    def describe(self):
        return []

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        rates = GaugeMetricFamily("botloom_review_rate", "Straight-through and human-intervention rates per bot",
                                  labels=["bot", "kind"])
        turnaround = GaugeMetricFamily("botloom_review_turnaround_seconds", "Median time from a review task to its "
                                       "answer, per bot", labels=["bot"])
        try:
            from ..tasks import figures

            store = self.runner.store()
            try:
                per_bot = figures(store.conn)
            finally:
                store.close()
        except Exception:  # a store without review tables yet, or a busy one: no figures this scrape
            per_bot = {}
        for bot, f in sorted(per_bot.items()):
            for kind in ("straight_through_rate", "intervention_rate"):
                if f.get(kind) is not None:
                    rates.add_metric([bot, kind.removesuffix("_rate")], f[kind])
            median = (f.get("turnaround") or {}).get("median")
            if median is not None:
                turnaround.add_metric([bot], median)
        yield rates
        yield turnaround


class _AlertCollector:
    """The alerts that held at the service's last check."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def describe(self):
        return []

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        held = GaugeMetricFamily("botloom_alert", "1 while an alert threshold is crossed", labels=["bot", "kind"])
        value = GaugeMetricFamily("botloom_alert_value", "The figure that crossed the alert threshold",
                                  labels=["bot", "kind"])
        watch = self.metrics.alerts
        for alert in (watch.active if watch is not None else []):
            held.add_metric([alert.bot, alert.kind], 1)
            value.add_metric([alert.bot, alert.kind], float(alert.value))
        yield held
        yield value
        yield CounterMetricFamily("botloom_alert_checks", "Alert checks the service made",
                                  value=watch.checks if watch is not None else 0)


__all__ = ["Metrics"]
