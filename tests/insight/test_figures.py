"""Figures, ROI and alerts on a store of generated runs whose figures are known in advance
(``generated.py`` says what is in it): exact percentiles, rates, items, robot time and costs."""

from __future__ import annotations

import csv
import io
import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generated
from botloom.runner.errors import InputError
from botloom.runner.insight.alerts import evaluate, thresholds
from botloom.runner.insight.figures import InterventionSource, Period, compute
from botloom.runner.insight.roi import add_roi, rates
from generated import NOW, T0

RATES = {"roi.hourly_cost": 30.0, "roi.robot_cost_per_hour": 10.0, "roi.review_cost": 2.0}


@pytest.fixture
def conn(tmp_path):
    path = generated.fill(tmp_path / "runs.sqlite")
    con = sqlite3.connect(path)
    yield con
    con.close()


def figures_of(conn, **period):
    period.setdefault("since", T0)
    period.setdefault("until", NOW)
    figures = compute(conn, Period(**period), now=NOW, with_models=False)
    add_roi(figures, RATES)
    return figures


def test_run_figures_rates_and_failure_reasons(conn):
    inv = figures_of(conn).bots["invoices"]
    assert inv["runs"] == 20 and inv["states"] == {"succeeded": 16, "failed": 3, "crashed": 1}
    assert (inv["succeeded"], inv["failed"]) == (16, 4)
    assert inv["success_rate"] == 0.8 and inv["failure_rate"] == 0.2
    assert inv["top_failures"] == [{"kind": "timeout", "message": "the portal did not answer", "count": 2},
                                   {"kind": "bad_input", "message": "no invoice number", "count": 1},
                                   {"kind": "crashed", "message": "its process died", "count": 1}]


def test_percentiles_are_exact_nearest_rank(conn):
    inv = figures_of(conn).bots["invoices"]
    assert inv["run_seconds"] == {"n": 20, "mean": 10.5, "p50": 10.0, "p95": 19.0, "p99": 20.0}
    http = inv["node_types"]["http.request"]
    assert (http["steps"], http["failed"]) == (100, 10)
    assert (http["p50"], http["p95"], http["p99"]) == (0.050, 0.095, 0.099)
    assert http["mean"] == pytest.approx(0.0505)
    # only finished steps count: the running and suspended rows are left out
    assert set(inv["node_types"]) == {"http.request", "core.set_variable"}
    assert inv["node_types"]["core.set_variable"]["steps"] == 20


def test_items_throughput_and_intervention(conn):
    f = figures_of(conn)
    inv, claims = f.bots["invoices"], f.bots["claims"]
    assert inv["items"] == 48  # items_output "rows": 3 per succeeded run
    assert inv["robot_seconds"] == 209.0  # 1 + 2 + ... + 20 s, less the 1 s run 2 waited for a signal
    assert inv["items_per_hour"] == pytest.approx(48 / (209 / 3600))
    assert inv["people"]["source"] == "runs" and inv["people"]["interventions"] == 2
    assert (inv["intervention_rate"], inv["straight_through_rate"]) == (0.1, 0.9)
    assert claims["people"]["source"] == "review"  # the bot routes items: the review figures say it
    # 3 of its 10 items went to review, 2 were handled by a person (one is still open): as the metrics say
    assert (claims["intervention_rate"], claims["straight_through_rate"]) == (0.2, 0.7)
    assert claims["people"]["to_review"] == 3 and claims["people"]["interventions"] == 2
    later = figures_of(conn, until=T0 + 86400 + 8 * 60 + 1).bots["claims"]  # its first 8 runs: 7 straight, 1
    assert (later["straight_through_rate"], later["intervention_rate"]) == (7 / 8, 1 / 8)
    assert claims["people"]["turnaround"]["median"] == 90.0
    assert f.queues == [{"queue": "finance", "open": 1, "oldest_seconds": NOW - (T0 + 86400 + 600), "completed": 2,
                         "wait": {"p50": 60.0, "p95": 120.0}}]


def test_roi_from_settings_and_the_bots_override(conn):
    inv = figures_of(conn).bots["invoices"]["roi"]
    assert inv["rates"] == {"manual_minutes": 6.0, "hourly_cost": 30.0, "robot_cost_per_hour": 10.0,
                            "review_cost": 2.0}
    assert inv["hours_saved"] == pytest.approx(4.8) and inv["manual_cost"] == pytest.approx(144.0)
    assert inv["robot_cost"] == pytest.approx(209 / 3600 * 10)
    assert inv["review_cost"] == 4.0
    assert inv["cost_per_item"] == pytest.approx((209 / 360 + 4) / 48)
    assert inv["net_saving"] == pytest.approx(144 - 209 / 360 - 4)
    claims = figures_of(conn).bots["claims"]["roi"]
    assert claims["hours_saved"] == 0.0 and claims["review_cost"] == 4.0  # no manual minutes set for it


def test_period_bot_and_series(conn):
    everything = figures_of(conn, since=None)
    assert everything.bots["invoices"]["runs"] == 21  # with the old run
    only = figures_of(conn, bot="claims")
    assert list(only.bots) == ["claims"]
    keys = ("bot", "start", "runs", "succeeded", "failed", "items", "robot_seconds", "helped", "handled")
    days = figures_of(conn)
    assert [{k: s[k] for k in keys} for s in days.series] == [
        {"bot": "invoices", "start": T0, "runs": 20, "succeeded": 16, "failed": 4, "items": 48,
         "robot_seconds": 209.0, "helped": 2, "handled": 0},
        {"bot": "claims", "start": T0 + 86400, "runs": 10, "succeeded": 10, "failed": 0, "items": 10,
         "robot_seconds": 20.0, "helped": 3, "handled": 2}]
    assert days.series[0]["roi"] == days.bots["invoices"]["roi"]  # one day holds the whole period
    assert days.series[1]["roi"]["interventions"] == 2  # a routing bot: the tasks a person handled
    hours = figures_of(conn, bot="invoices", bucket="hour", until=T0 + 3 * 3600 + 1)
    assert [s["start"] for s in hours.series] == [T0 + 3600, T0 + 7200, T0 + 10800]
    second = hours.series[1]  # run 2: 2 s, of which 1 s waiting for a signal; 3 items
    assert (second["items"], second["robot_seconds"], second["helped"]) == (3, 1.0, 1)
    assert second["roi"]["net_saving"] == pytest.approx(3 * 6 / 60 * 30 - 1 / 3600 * 10 - 2)
    with pytest.raises(InputError, match="bucket 'month'"):
        figures_of(conn, bucket="month")


def test_an_intervention_source_can_be_replaced(conn):
    class Queue(InterventionSource):
        def figures(self, conn, period, runs):
            return {bot: {"source": "queue", "interventions": 5, "intervention_rate": 0.25,
                          "straight_through_rate": 0.75} for bot in runs}

    f = compute(conn, Period(since=T0, until=NOW), now=NOW, with_models=False, source=Queue())
    assert f.bots["invoices"]["intervention_rate"] == 0.25
    add_roi(f, RATES)
    assert f.bots["invoices"]["roi"]["review_cost"] == 10.0


def test_bad_roi_and_alert_blocks_are_told_clearly():
    with pytest.raises(InputError, match="settings.roi.hourly_cost of bot 'b' is 'lots'"):
        rates({}, {"roi": {"hourly_cost": "lots"}}, bot="b")
    with pytest.raises(InputError, match="not a threshold of a bot") as info:
        thresholds({}, {"alerts": {"failure": 0.1}}, bot="b")
    assert "failure_rate" in info.value.fix


def test_alerts_per_bot_with_overrides(conn):
    settings = {"alerts.failure_rate": 0.1, "alerts.p95_seconds": 15.0, "alerts.review_backlog": 0,
                "alerts.window_hours": 72}  # from T0: the old run is left out
    alerts = evaluate(conn, settings, now=NOW)
    # invoices: its own failure_rate threshold (0.25) is above its 20 %; its P95 (19 s) is above 15 s
    assert [(a.bot, a.kind, a.value) for a in alerts] == [("invoices", "p95_seconds", 19.0)]
    settings.update({"alerts.review_backlog": 0.5, "alerts.queue_length": 3})
    alerts = evaluate(conn, settings, now=NOW, queue_length=4)
    assert [(a.bot, a.kind) for a in alerts] == [("claims", "review_backlog"), ("invoices", "p95_seconds"),
                                                 ("", "queue_length")]
    assert "botloom tasks list --bot 'claims'" in alerts[0].message
    assert evaluate(conn, {**settings, "alerts.window_hours": 1}, now=NOW, queue_length=0)[0].kind == "review_backlog"


def test_stats_cli_json_csv_and_table(cli, botloom_home):
    botloom_home.mkdir(parents=True, exist_ok=True)
    generated.fill(botloom_home / "runs.sqlite")
    for key, value in RATES.items():
        assert cli("config", key, str(value)).returncode == 0
    since, until = "2023-11-14T00:00:00+00:00", "2023-11-17T00:00:00+00:00"
    data = cli.json("stats", "--since", since, "--until", until)
    assert data["bots"]["invoices"]["run_seconds"]["p95"] == 19.0
    assert data["bots"]["invoices"]["roi"]["hours_saved"] == pytest.approx(4.8)
    proc = cli("stats", "--since", since, "--until", until, "--csv")
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    http = next(r for r in rows if r["node_type"] == "http.request")
    assert (http["bot"], http["count"], http["p95"], http["p99"]) == ("invoices", "100", "0.095", "0.099")
    table = cli("stats", "--since", since, "--until", until, "--bot", "invoices").stdout
    assert "Top failure reasons" in table and "the portal did not answer" in table and "95.0 ms" in table
    bad = cli("stats", "--since", "last tuesday")
    assert bad.returncode == 2 and "--since 'last tuesday' is neither an age nor a date" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_model_confidences_drift_and_its_alert(botloom_home):
    from botloom.nodes.ai import monitor
    from botloom.nodes.ai.registry import Registry

    botloom_home.mkdir(parents=True, exist_ok=True)
    store = generated.fill(botloom_home / "runs.sqlite")
    (botloom_home / "ai").mkdir()
    con = monitor.connect(botloom_home / "ai" / "monitor.sqlite")
    confidences = [0.95] * 10 + [0.85] * 10 + [0.15] * 20
    con.executemany("INSERT INTO predictions (model, version, at, confidence, length, label) VALUES (?,?,?,?,?,?)",
                    [("intent", "1", NOW, c, 40, "a") for c in confidences]
                    + [("gone", "3", NOW, 0.5, 10, "b")])
    con.close()
    baseline = monitor.baseline_of([0.95] * 50, [40] * 50)  # trained on confident items only
    Registry(botloom_home / "models").add_version("intent", b"onnx", ["a", "b"], {"baseline": baseline})
    conn = sqlite3.connect(store)
    f = compute(conn, Period(since=T0, until=NOW), now=NOW, home=botloom_home)
    intent, gone = f.models[1], f.models[0]
    assert (intent["model"], intent["predictions"]) == ("intent", 40)
    assert intent["confidence"] == [0, 0.5, 0, 0, 0, 0, 0, 0, 0.25, 0.25]
    assert intent["drift"]["warning"] and intent["drift"]["score"] > 0.2
    assert intent["drift"] == monitor.drift("intent", "1", baseline)
    assert gone["drift"]["score"] is None and "drift not measured" in gone["drift"]["note"]
    alerts = evaluate(conn, {"alerts.drift_score": 0.2, "alerts.window_hours": 72}, now=NOW, home=botloom_home)
    assert [(a.bot, a.kind) for a in alerts] == [("intent", "drift_score")]
    assert "botloom models drift intent" in alerts[0].message
