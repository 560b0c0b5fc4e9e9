"""``botloom report``: one HTML file that carries plotly.js itself and the figures, with every
text from the store escaped; ``botloom alerts check`` exits 1 while an alert holds."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generated

PERIOD = ("--since", "2023-11-14T00:00:00+00:00", "--until", "2023-11-17T00:00:00+00:00")
HOSTILE = "<img src=x onerror=alert(1)>"


def _store(home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = generated.fill(home / "runs.sqlite")
    conn = sqlite3.connect(path)
    conn.execute("UPDATE runs SET bot_name = ? WHERE bot_name = 'claims'", (HOSTILE,))
    conn.execute("UPDATE runs SET error = ? WHERE id = 'inv-19'",
                 (json.dumps({"kind": "bad_input", "message": "</script><b>no invoice</b>"}),))
    conn.commit()
    conn.close()
    return path


def test_report_is_one_self_contained_file(cli, botloom_home, tmp_path):
    _store(botloom_home)
    out = tmp_path / "report.html"
    proc = cli("report", *PERIOD, "-o", out)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    assert re.search(r"plotly\.js v\d+\.\d+", text) and len(text) > 3_000_000  # the library itself is inside
    assert not re.search(r"<script[^>]+src=", text) and "<link" not in text  # nothing is fetched when opened
    for title in ("Runs per day", "Failure rate per day", "Top failure reasons", "Run latency percentiles",
                  "Step latency percentiles by node type", "Straight-through and intervention rates",
                  "Cost and return over the period", "Net saving per day"):
        assert title in text
    assert '"title":{"text":"Runs"}' in text.replace(" ", "")  # axes are labelled
    assert HOSTILE not in text and "&lt;img src=x onerror=alert(1)&gt;" in text  # escaped in the table
    assert "<b>no invoice</b>" not in text
    assert "Botloom report: all bots" in text and "invoices" in text


def test_report_of_an_empty_period_and_a_bad_folder(cli, botloom_home, tmp_path):
    _store(botloom_home)
    out = tmp_path / "empty.html"
    proc = cli("report", "--since", "2001-01-01", "--until", "2001-02-01", "-o", out)
    assert proc.returncode == 0 and "No runs in this period." in out.read_text(encoding="utf-8")
    bad = cli("report", *PERIOD, "-o", tmp_path / "missing" / "r.html")
    assert bad.returncode == 2 or bad.returncode == 1
    assert "cannot write the report to" in bad.stderr and "-o" in bad.stderr and "Traceback" not in bad.stderr


def test_alerts_check_exit_code_json_and_the_alert_bot(cli, botloom_home, tmp_path):
    _store(botloom_home)
    assert cli("alerts", "check").returncode == 0  # no threshold set: nothing alerts
    for key, value in (("alerts.failure_rate", "0.1"), ("alerts.p95_seconds", "15"),
                       ("alerts.window_hours", str(24 * 365 * 100))):  # the generated runs are old
        assert cli("config", key, value).returncode == 0
    proc = cli("alerts", "check")
    # invoices: 5 of its 21 runs did not succeed (24 %), under its own 25 %; its P95 is 20 s
    assert proc.returncode == 1 and proc.stdout.count("alert: ") == 1
    assert "bot 'invoices': P95 run latency 20.0 s (alert above 15 s)" in proc.stdout
    bot = tmp_path / "mail.bot.json"
    bot.write_text(json.dumps({"format": 1, "name": "mail-on-alert", "inputs": {"alerts": {"type": "list"}},
                               "nodes": {"start": {"type": "core.start"}}, "edges": []}), encoding="utf-8")
    assert cli("config", "alerts.start_bot", bot).returncode == 0
    data = cli.json("alerts", "check", "--start")
    assert [(a["bot"], a["kind"]) for a in data["alerts"]] == [("invoices", "p95_seconds")]
    conn = sqlite3.connect(botloom_home / "runs.sqlite")
    (trigger, inputs), = conn.execute("SELECT \"trigger\", inputs FROM runs WHERE id = ?", (data["started"],))
    conn.close()
    assert trigger == "alert" and json.loads(inputs)["alerts"][0]["kind"] == "p95_seconds"
