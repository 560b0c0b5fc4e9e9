"""Alerts: thresholds on the figures, per bot, checked by the service and by ``botloom alerts check``.

Thresholds are settings (``botloom config alerts.failure_rate 0.2``); a bot overrides them in its
``settings.alerts`` block (``{"alerts": {"failure_rate": 0.05, "p95_seconds": 30}}``). A
threshold of 0 is off. Over the runs started in the last ``alerts.window_hours``:

    failure_rate     share of the ended runs that did not succeed is above it     (per bot)
    p95_seconds      P95 of the run latency is above it                           (per bot)
    review_backlog   open review tasks of the bot are more than it                (per bot)
    drift_score      a model's drift score is above it                            (per model)
    queue_length     more runs than it wait in the service's queue                (the service)

An alert goes to the service's log (a warning), its metrics (``botloom_alert{bot,kind}`` is 1
while it holds), the designer's dashboard, and, when ``alerts.start_bot`` names a bot file,
starts that bot (with the input ``alerts``, a list of the alerts, when the bot declares it): the
service starts it only for an alert that was not raised at its previous check, so a lasting
problem sends one mail, not one per check.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import InputError

PER_BOT = ("failure_rate", "p95_seconds", "review_backlog")
KINDS = (*PER_BOT, "drift_score", "queue_length")


@dataclass(frozen=True)
class Alert:
    bot: str  # the bot's name; a model's name for drift_score; "" for the service's queue
    kind: str
    value: float
    threshold: float
    message: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.bot, self.kind)

    def to_dict(self) -> dict:
        return asdict(self)


def thresholds(settings: dict[str, Any], bot_settings: dict[str, Any] | None = None, *, bot: str = "") -> dict:
    out = {kind: float(settings.get(f"alerts.{kind}") or 0) for kind in KINDS}
    block = (bot_settings or {}).get("alerts") or {}
    if not isinstance(block, dict):
        raise InputError(f"the settings.alerts block of bot '{bot}' is not an object", where=bot,
                         fix='write e.g. "alerts": {"failure_rate": 0.1}')
    for kind, value in block.items():
        if kind not in PER_BOT:
            raise InputError(f"settings.alerts of bot '{bot}' has '{kind}', which is not a threshold of a bot",
                             where=bot, fix=f"thresholds of a bot: {', '.join(PER_BOT)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise InputError(f"settings.alerts.{kind} of bot '{bot}' is {value!r}, not a number of 0 or more",
                             where=bot, fix=f'write e.g. "alerts": {{"{kind}": 0.2}}')
        out[kind] = float(value)
    return out


def _backlog(conn) -> dict[str, int]:
    """Open review tasks per bot, whenever they were opened (a backlog is not bounded by a window)."""
    return dict(conn.execute("SELECT t.bot, COUNT(*) FROM tasks t WHERE t.state = 'open' GROUP BY t.bot").fetchall())


def evaluate(conn, settings: dict[str, Any], *, now: float | None = None, queue_length: int | None = None,
             home=None, figures=None) -> list[Alert]:
    """The alerts that hold now. ``queue_length``: the service's queue (None outside the service)."""
    from .figures import Period, compute

    now = time.time() if now is None else now
    window = float(settings.get("alerts.window_hours") or 24.0) * 3600
    if figures is None:
        figures = compute(conn, Period(since=now - window), home=home, now=now)
    backlog = _backlog(conn)
    alerts: list[Alert] = []
    for bot in sorted(set(figures.bots) | set(backlog)):
        entry = figures.bots.get(bot, {})
        limit = thresholds(settings, entry.get("settings"), bot=bot)
        rate = entry.get("failure_rate")
        if limit["failure_rate"] and rate is not None and rate > limit["failure_rate"]:
            alerts.append(Alert(bot, "failure_rate", rate, limit["failure_rate"],
                                f"bot '{bot}': {rate:.0%} of its runs did not succeed (alert above "
                                f"{limit['failure_rate']:.0%}); see botloom runs --bot '{bot}' --state failed"))
        p95 = (entry.get("run_seconds") or {}).get("p95")
        if limit["p95_seconds"] and p95 is not None and p95 > limit["p95_seconds"]:
            alerts.append(Alert(bot, "p95_seconds", p95, limit["p95_seconds"],
                                f"bot '{bot}': P95 run latency {p95:.1f} s (alert above {limit['p95_seconds']:g} s); "
                                f"see botloom stats --bot '{bot}'"))
        open_tasks = backlog.get(bot, 0)
        if limit["review_backlog"] and open_tasks > limit["review_backlog"]:
            alerts.append(Alert(bot, "review_backlog", open_tasks, limit["review_backlog"],
                                f"bot '{bot}': {open_tasks} review tasks are open (alert above "
                                f"{limit['review_backlog']:g}); see botloom tasks list --bot '{bot}'"))
    drift_limit = float(settings.get("alerts.drift_score") or 0)
    for model in figures.models:
        score = (model.get("drift") or {}).get("score")
        if drift_limit and score is not None and score > drift_limit:
            alerts.append(Alert(model["model"], "drift_score", score, drift_limit,
                                f"model '{model['model']}' v{model['version']}: drift score {score:.3f} (alert above "
                                f"{drift_limit:g}); look at recent items and retrain: botloom models drift "
                                f"{model['model']}"))
    queue_limit = float(settings.get("alerts.queue_length") or 0)
    if queue_limit and queue_length is not None and queue_length > queue_limit:
        alerts.append(Alert("", "queue_length", queue_length, queue_limit,
                            f"{queue_length} runs wait in the service's queue (alert above {queue_limit:g}); "
                            "raise service.max_runs or spread the schedules"))
    return alerts


def start_bot(runner, settings: dict[str, Any], alerts: list[Alert], *, start=None) -> Any:
    """Start the ``alerts.start_bot`` bot for ``alerts`` (``start(path, inputs)``: the service's
    queue; by default a run in this process). None when no bot is set or nothing alerted."""
    path = settings.get("alerts.start_bot") or ""
    if not path or not alerts:
        return None
    bot = runner.load_bot(path)
    inputs = {"alerts": [a.to_dict() for a in alerts]} if "alerts" in bot.doc.main.inputs else {}
    if start is not None:
        return start(path, inputs)
    return runner.start_run(path, inputs, trigger="alert", loaded=bot)


class Watch:
    """The service's alert job: each ``check()`` evaluates, logs the new alerts, keeps the ones
    that hold for the metrics, and starts the alert bot for those not raised at the last check."""

    def __init__(self, runner, *, queue_length=None, start=None):
        self.runner = runner
        self.queue_length = queue_length  # () -> int
        self.start = start
        self.active: list[Alert] = []
        self.checks = 0  # checks made (the metrics show it: botloom_alert_checks_total)

    def check(self) -> list[Alert]:
        import logging

        log = logging.getLogger("botloom.alerts")
        settings = self.runner.settings
        store = self.runner.store()
        try:
            queue = self.queue_length() if self.queue_length else None
            alerts = evaluate(store.conn, settings, queue_length=queue, home=self.runner.home)
        finally:
            store.close()
        before = {a.key for a in self.active}
        fresh = [a for a in alerts if a.key not in before]
        for alert in fresh:
            log.warning("alert: %s", alert.message)
        self.active = alerts
        self.checks += 1
        try:
            start_bot(self.runner, settings, fresh, start=self.start)
        except Exception as exc:  # the alert is raised anyway; the bot's trouble is told, not fatal
            log.warning("alert: could not start the alert bot %s: %s", settings.get("alerts.start_bot"), exc)
        return alerts


__all__ = ["KINDS", "PER_BOT", "Alert", "Watch", "evaluate", "start_bot", "thresholds"]
