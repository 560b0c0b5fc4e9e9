"""The service checks the alert thresholds itself (an in-memory job, every alerts.check_seconds):
an alert is a warning in its log, a gauge in its metrics, and starts the alert bot once, on a
real service process over a store of generated runs (tests/insight/generated.py)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "insight"))

import generated  # noqa: E402

ALERT = re.compile(r'botloom_alert\{bot="invoices",kind="p95_seconds"\} 1\.0')


def test_the_service_raises_an_alert_in_its_log_and_metrics_and_starts_the_alert_bot(service, home, tmp_path):
    home.mkdir(parents=True)
    generated.fill(home / "runs.sqlite")
    bot = tmp_path / "mail.bot.json"
    bot.write_text(json.dumps({"format": 1, "name": "mail-on-alert", "inputs": {"alerts": {"type": "list"}},
                               "nodes": {"start": {"type": "core.start"}}, "edges": []}), encoding="utf-8")
    svc = service({"alerts.p95_seconds": 15.0, "alerts.window_hours": 24 * 365 * 100, "alerts.check_seconds": 0.3,
                   "alerts.start_bot": str(bot)})

    def metrics() -> str:
        return svc.call("GET", "/metrics")

    def checks() -> int:
        found = re.search(r"^botloom_alert_checks_total (\d+)", metrics(), re.M)
        return int(found.group(1)) if found else 0

    svc.wait_for(lambda: ALERT.search(metrics()), what="the alert gauge")
    assert 'botloom_alert_value{bot="invoices",kind="p95_seconds"} 20.0' in metrics()
    runs = svc.wait_for(lambda: [r for r in svc.runs(bot="mail-on-alert") if r["state"] == "succeeded"],
                        what="the alert bot's run")
    log = (home / "logs" / "service.log").read_text(encoding="utf-8")
    assert "alert: bot 'invoices': P95 run latency 20.0 s (alert above 15 s)" in log
    seen = checks()
    svc.wait_for(lambda: checks() >= seen + 2, what="two more checks")  # the alert still holds at them
    assert ALERT.search(metrics())
    assert len(svc.runs(bot="mail-on-alert")) == len(runs) == 1  # started once, not at every check
    assert (home / "logs" / "service.log").read_text(encoding="utf-8").count("alert: bot 'invoices'") == 1
