"""``botloom stats``, ``botloom report`` and ``botloom alerts check``: what the run store adds up to.

``stats`` prints the figures of a period (``runner/insight/figures.py``) and the cost and return
of each bot (``roi.py``) as tables, as JSON (``--json``) or as CSV (``--csv``: a row per bot and
one per bot and node type). ``report`` writes one self-contained HTML file of charts
(``report.py``). ``alerts check`` evaluates the alert thresholds (``alerts.py``), prints the
alerts that hold and exits 1 when there is one (0 when none), so a cron job or a monitoring
system can run it; ``--start`` also starts the ``alerts.start_bot`` bot. ``cli.py`` registers
these commands only when one of them is asked for.
"""

from __future__ import annotations

import csv
import sys
import time
from datetime import datetime

from .errors import InputError
from .insight.fmt import number as _num
from .insight.fmt import rate as _pct
from .insight.fmt import seconds as _sec

UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_when(text: str | None, option: str, *, now: float | None = None) -> float | None:
    """``7d``/``24h``/``30m``/``2w`` ago, or a date or date-time (``2026-11-01``, ISO 8601)."""
    if text is None:
        return None
    now = time.time() if now is None else now
    value = text.strip().lower()
    if value[-1:] in UNITS:
        try:
            amount = float(value[:-1])
        except ValueError:
            amount = -1
        if amount >= 0:
            return now - amount * UNITS[value[-1]]
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise InputError(f"{option} {text!r} is neither an age nor a date",
                         fix=f"write e.g. {option} 7d (also 24h, 30m, 2w) or {option} 2026-11-01") from None


def register(sub) -> None:
    def period_options(p):
        p.add_argument("--bot", help="only this bot (by name)")
        p.add_argument("--since", default="30d", metavar="WHEN",
                       help="runs started since: an age (7d, 24h, 30m, 2w) or a date (default: 30d)")
        p.add_argument("--until", metavar="WHEN", help="runs started before this (default: now)")
        p.add_argument("--by", dest="bucket", choices=("hour", "day", "week"), default="day",
                       help="the period of the series (default: day)")

    st = sub.add_parser("stats", help="figures of the runs: rates, failure reasons, latency percentiles, ROI")
    period_options(st)
    out = st.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--csv", action="store_true", help="a row per bot and one per bot and node type")
    st.set_defaults(func=cmd_stats)

    rp = sub.add_parser("report", help="write a self-contained HTML report with charts")
    period_options(rp)
    rp.add_argument("-o", "--output", default="botloom-report.html", metavar="FILE",
                    help="the HTML file to write (default: botloom-report.html)")
    rp.set_defaults(func=cmd_report)

    al = sub.add_parser("alerts", help="check the alert thresholds (exit 1 while an alert holds)")
    al.add_argument("action", nargs="?", choices=["check"], default="check")
    al.add_argument("--start", action="store_true", help="also start the alerts.start_bot bot when an alert holds")
    al.add_argument("--json", action="store_true")
    al.set_defaults(func=cmd_alerts)


def _period(args):
    from .insight.figures import Period

    now = time.time()
    since, until = parse_when(args.since, "--since", now=now), parse_when(args.until, "--until", now=now)
    if since is not None and until is not None and since >= until:
        raise InputError("--since is not before --until", fix="give a period that starts before it ends")
    return Period(since=since, until=until, bot=args.bot, bucket=args.bucket)


def gather(runner, period, *, with_models: bool = True):
    """The figures of ``period`` with each bot's ROI: what stats, report and the dashboard show."""
    from .insight.figures import compute
    from .insight.roi import add_roi

    store = runner.store()
    try:
        figures = compute(store.conn, period, home=runner.home, with_models=with_models)
    finally:
        store.close()
    add_roi(figures, runner.settings)
    return figures


def _runner():
    from .runtime import Runner

    return Runner()


def cmd_stats(args) -> int:
    from .cli import _print_json

    figures = gather(_runner(), _period(args))
    if args.json:
        _print_json(figures.to_dict())
    elif args.csv:
        write_csv(figures, sys.stdout)
    else:
        print(tables(figures))
    return 0


def cmd_report(args) -> int:
    from pathlib import Path

    from .insight.report import write_report

    figures = gather(_runner(), _period(args))
    path = write_report(figures, Path(args.output))
    print(f"wrote {path} ({path.stat().st_size // 1024} KB): open it in a browser, nothing is fetched")
    return 0


def cmd_alerts(args) -> int:
    from .cli import _print_json
    from .insight.alerts import evaluate, start_bot

    runner = _runner()
    settings = runner.settings
    store = runner.store()
    try:
        alerts = evaluate(store.conn, settings, queue_length=_service_queue(runner), home=runner.home)
    finally:
        store.close()
    started = start_bot(runner, settings, alerts) if args.start else None
    if args.json:
        _print_json({"alerts": [a.to_dict() for a in alerts],
                     "started": getattr(started, "run_id", None)})
    elif alerts:
        for alert in alerts:
            print(f"alert: {alert.message}")
    else:
        print("no alert: every figure is within its threshold")
    return 1 if alerts else 0


def _service_queue(runner) -> int | None:
    """The service's queue length, when a service runs on the data folder (else None)."""
    try:
        from .server.client import Client

        client = Client.find(runner.home)
        if client is None:
            return None
        return len((client.call("GET", "/health") or {}).get("queued") or [])
    except Exception:  # no service, or one that does not answer: the queue is not checked
        return None


# ---------------------------------------------------------------- output
def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    body = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    return "\n".join([line, "  ".join("-" * w for w in widths), *body])


def tables(figures) -> str:
    if not figures.bots:
        return "no runs in this period (try --since 90d, or another --bot)"
    parts = ["Runs", _table(
        ["bot", "runs", "ok", "failed", "success", "P50", "P95", "P99", "items/h", "intervention", "straight"],
        [[bot, str(e["runs"]), str(e["succeeded"]), str(e["failed"]), _pct(e["success_rate"]),
          _sec(e["run_seconds"]["p50"]), _sec(e["run_seconds"]["p95"]), _sec(e["run_seconds"]["p99"]),
          _num(e["items_per_hour"], 1), _pct(e["intervention_rate"]), _pct(e["straight_through_rate"])]
         for bot, e in figures.bots.items()])]
    parts += ["", "Steps by node type", _table(
        ["bot", "node type", "steps", "failed", "P50", "P95", "P99", "mean"],
        [[bot, t, str(s["steps"]), str(s["failed"]), _sec(s["p50"]), _sec(s["p95"]), _sec(s["p99"]), _sec(s["mean"])]
         for bot, e in figures.bots.items() for t, s in e["node_types"].items()])]
    reasons = [[bot, str(r["count"]), r["kind"], r["message"][:70]] for bot, e in figures.bots.items()
               for r in e["top_failures"]]
    if reasons:
        parts += ["", "Top failure reasons", _table(["bot", "runs", "kind", "message"], reasons)]
    parts += ["", "Cost and return", _table(
        ["bot", "items", "robot h", "hours saved", "cost", "per item", "net saving"],
        [[bot, str(e["roi"]["items"]), _num(e["roi"]["robot_hours"]), _num(e["roi"]["hours_saved"]),
          _num(e["roi"]["cost"]), _num(e["roi"]["cost_per_item"], 4), _num(e["roi"]["net_saving"])]
         for bot, e in figures.bots.items() if "roi" in e])]
    if figures.queues:
        parts += ["", "Review queues", _table(
            ["queue", "open", "oldest", "completed", "wait P50", "wait P95"],
            [[q["queue"], str(q["open"]), _sec(q["oldest_seconds"]), str(q["completed"]), _sec(q["wait"]["p50"]),
              _sec(q["wait"]["p95"])] for q in figures.queues])]
    if figures.models:
        parts += ["", "Models", _table(
            ["model", "version", "predictions", "drift", "warning"],
            [[m["model"], str(m["version"]), str(m["predictions"]), _num((m["drift"] or {}).get("score"), 3),
              "yes" if (m["drift"] or {}).get("warning") else "no"] for m in figures.models])]
    return "\n".join(parts)


CSV_COLUMNS = ("bot", "node_type", "count", "succeeded", "failed", "success_rate", "failure_rate", "p50", "p95",
               "p99", "mean", "items", "items_per_hour", "intervention_rate", "straight_through_rate",
               "hours_saved", "cost", "cost_per_item", "net_saving")


def write_csv(figures, stream) -> None:
    """A row per bot (node_type empty: the run figures) and one per bot and node type (steps)."""
    out = csv.writer(stream, lineterminator="\n")
    out.writerow(CSV_COLUMNS)
    for bot, e in figures.bots.items():
        r, roi = e["run_seconds"], e.get("roi") or {}
        out.writerow([bot, "", e["runs"], e["succeeded"], e["failed"], e["success_rate"],
                      e["failure_rate"], r["p50"], r["p95"], r["p99"], r["mean"], e["items"], e["items_per_hour"],
                      e["intervention_rate"], e["straight_through_rate"], roi.get("hours_saved"), roi.get("cost"),
                      roi.get("cost_per_item"), roi.get("net_saving")])
        for node_type, s in e["node_types"].items():
            out.writerow([bot, node_type, s["steps"], s["steps"] - s["failed"], s["failed"], None, None, s["p50"],
                          s["p95"], s["p99"], s["mean"], None, None, None, None, None, None, None, None])


__all__ = ["gather", "parse_when", "register", "tables", "write_csv"]
