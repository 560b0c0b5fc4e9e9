"""``botloom report``: one self-contained HTML file of the figures, with plotly charts.

plotly.js is written into the file (``include_plotlyjs`` once, inline, ~4.6 MB), so the report
opens offline and fetches nothing: no CDN, no fonts, no images from elsewhere. Each chart is a
plotly figure (axes titled, hover for exact values); the tables beside them hold the same
figures as text. Every text that comes from the store (bot names, failure messages) goes into
the page escaped, or into plotly's JSON, never into markup.

Charts: runs per period (stacked: succeeded, did not succeed), failure rate per period, top
failure reasons, run latency percentiles per bot, step latency percentiles per node type,
intervention and straight-through rates, cost and return, net saving per period, model confidence
distributions.
"""

from __future__ import annotations

import html
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import BotloomError
from .fmt import number as _num
from .fmt import rate as _pct

PALETTE = ("#1565c0", "#6a1b9a", "#00838f", "#f9a825", "#4e342e", "#ad1457", "#558b2f", "#37474f")  # one per bot
COLORS = {"ok": "#2e7d32", "bad": "#c62828", "p50": "#90caf9", "p95": "#1e88e5", "p99": "#0d47a1",
          "manual": "#9e9e9e", "cost": "#ef6c00", "net": "#2e7d32", "people": "#8e24aa", "straight": "#00897b"}
LAYOUT = {"template": "plotly_white", "height": 400, "margin": {"l": 80, "r": 30, "t": 100, "b": 70},
          "font": {"family": "DejaVu Sans, Arial, sans-serif", "size": 13}, "title_y": 0.96,
          "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}}  # legend above the plot


def _plotly():
    try:
        import plotly.graph_objects as go
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise BotloomError("the report needs plotly, which is not installed",
                           fix="pip install 'botloom[insight]'") from None
    return go, get_plotlyjs


def _when(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC") if epoch else "-"


def _day(epoch: float, bucket: str) -> str:
    fmt = "%Y-%m-%d %H:00" if bucket == "hour" else "%Y-%m-%d"
    return datetime.fromtimestamp(epoch, UTC).strftime(fmt)


def _short(text: str, n: int = 48) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _log_range(values: list[float]) -> list[float] | None:
    """A log axis from a third of the smallest value to half again the largest, so short bars show."""
    import math

    positive = [v for v in values if v and v > 0]
    if not positive:
        return None
    return [math.log10(min(positive) / 3), math.log10(max(positive) * 1.5)]


def charts(figures) -> list[tuple[str, Any]]:
    """(title, plotly figure) for each chart the figures have data for."""
    go, _ = _plotly()
    out = []
    bucket = figures.period.bucket
    bots = list(figures.bots)
    if figures.series:
        starts = sorted({s["start"] for s in figures.series})  # every bucket, in time order, for every bot
        x = [_day(t, bucket) for t in starts]
        cell = {(s["bot"], s["start"]): s for s in figures.series}
        empty = {"runs": 0, "succeeded": 0, "failed": 0}
        fig = go.Figure()
        for i, bot in enumerate(bots):
            rows = [cell.get((bot, t), empty) for t in starts]
            color = PALETTE[i % len(PALETTE)]
            fig.add_bar(x=x, y=[s["succeeded"] for s in rows], name=f"{bot}: succeeded", offsetgroup=bot,
                        legendgroup=bot, marker_color=color)
            fig.add_bar(x=x, y=[s["failed"] for s in rows], name=f"{bot}: did not succeed", offsetgroup=bot,
                        legendgroup=bot, base=[s["succeeded"] for s in rows], marker_color=COLORS["bad"],
                        marker_pattern_shape="/", marker_pattern_fgcolor=color)
        fig.update_layout(barmode="group", title=f"Runs per {bucket} (a bar per bot: succeeded, did not succeed)",
                          xaxis_title=bucket.capitalize(), yaxis_title="Runs", **LAYOUT)
        fig.update_xaxes(type="category")
        out.append(("Runs over time", fig))
        fig = go.Figure()
        for bot in bots:
            rows = [cell.get((bot, t), empty) for t in starts]
            fig.add_scatter(x=x, y=[s["failed"] / s["runs"] if s["runs"] else None for s in rows],
                            mode="lines+markers", name=bot, connectgaps=True, marker_size=9,
                            line_color=PALETTE[bots.index(bot) % len(PALETTE)])
        fig.update_layout(title=f"Failure rate per {bucket}", xaxis_title=bucket.capitalize(),
                          yaxis_title="Runs that did not succeed", yaxis_tickformat=".0%", yaxis_range=[0, 1.05],
                          **LAYOUT)
        fig.update_xaxes(type="category")
        out.append(("Failure rate", fig))
    reasons = [(f"{bot}: {r['kind']}: {r['message']}", r["count"]) for bot, e in figures.bots.items()
               for r in e["top_failures"]]
    if reasons:
        reasons.sort(key=lambda r: r[1])
        fig = go.Figure(go.Bar(x=[n for _, n in reasons], y=[_short(t) for t, _ in reasons], orientation="h",
                               marker_color=COLORS["bad"], hovertext=[t for t, _ in reasons]))
        fig.update_layout(title="Top failure reasons", xaxis_title="Runs", yaxis_title=None,
                          **{**LAYOUT, "height": max(300, 140 + 40 * len(reasons)),
                             "margin": {"l": 380, "r": 30, "t": 80, "b": 60}})
        out.append(("Failure reasons", fig))
    with_runs = [b for b in bots if figures.bots[b]["run_seconds"]["n"]]
    if with_runs:
        fig = go.Figure()
        for p in ("p50", "p95", "p99"):
            fig.add_bar(x=with_runs, y=[figures.bots[b]["run_seconds"][p] for b in with_runs], name=p.upper(),
                        marker_color=COLORS[p])
        fig.update_layout(barmode="group", title="Run latency percentiles", xaxis_title="Bot",
                          yaxis_title="Seconds, start to end (log scale)", yaxis_type="log", yaxis_dtick=1,
                          yaxis_range=_log_range([figures.bots[b]["run_seconds"][p] for b in with_runs
                                                  for p in ("p50", "p99")]), **LAYOUT)
        out.append(("Run latency", fig))
    steps = [(f"{t}" if len(bots) == 1 else f"{b} · {t}", s) for b in bots
             for t, s in figures.bots[b]["node_types"].items()]
    if steps:
        fig = go.Figure()
        for p in ("p50", "p95", "p99"):
            fig.add_bar(x=[label for label, _ in steps], y=[s[p] * 1000 for _, s in steps], name=p.upper(),
                        marker_color=COLORS[p])
        fig.update_layout(barmode="group", title="Step latency percentiles by node type", xaxis_title="Node type",
                          yaxis_title="Milliseconds (log scale)", yaxis_type="log", yaxis_dtick=1,
                          yaxis_range=_log_range([s[p] * 1000 for _, s in steps for p in ("p50", "p99")]),
                          **{**LAYOUT, "height": 560, "margin": {"l": 80, "r": 30, "t": 100, "b": 110}})
        out.append(("Step latency", fig))
    rated = [b for b in bots if figures.bots[b]["intervention_rate"] is not None]
    if rated:
        fig = go.Figure()
        fig.add_bar(x=rated, y=[figures.bots[b]["straight_through_rate"] for b in rated], name="straight through",
                    marker_color=COLORS["straight"])
        fig.add_bar(x=rated, y=[figures.bots[b]["intervention_rate"] for b in rated], name="human intervention",
                    marker_color=COLORS["people"])
        fig.update_layout(barmode="group", title="Straight-through and intervention rates", xaxis_title="Bot",
                          yaxis_title="Share of items", yaxis_tickformat=".0%", yaxis_range=[0, 1.05], **LAYOUT)
        out.append(("People", fig))
    priced = [b for b in bots if "roi" in figures.bots[b]]
    if priced:
        roi = [figures.bots[b]["roi"] for b in priced]
        fig = go.Figure()
        fig.add_bar(x=priced, y=[r["manual_cost"] for r in roi], name="by hand", marker_color=COLORS["manual"])
        fig.add_bar(x=priced, y=[r["cost"] for r in roi], name="robot and reviews", marker_color=COLORS["cost"])
        fig.add_bar(x=priced, y=[r["net_saving"] for r in roi], name="net saving", marker_color=COLORS["net"])
        fig.update_layout(barmode="group", title="Cost and return over the period", xaxis_title="Bot",
                          yaxis_title="Cost (the settings' unit)", **LAYOUT)
        out.append(("Cost and return", fig))
    if figures.series and any("roi" in row for row in figures.series):
        starts = sorted({row["start"] for row in figures.series})
        fig = go.Figure()
        for i, bot in enumerate(bots):
            cell = {row["start"]: row for row in figures.series if row["bot"] == bot and "roi" in row}
            fig.add_bar(x=[_day(t, bucket) for t in starts], name=bot, marker_color=PALETTE[i % len(PALETTE)],
                        y=[cell[t]["roi"]["net_saving"] if t in cell else 0 for t in starts])
        fig.update_layout(barmode="relative", title=f"Net saving per {bucket}", xaxis_title=bucket.capitalize(),
                          yaxis_title="Net saving (the settings' unit)", **LAYOUT)
        fig.update_xaxes(type="category")
        out.append(("Net saving over time", fig))
    if figures.models:
        fig = go.Figure()
        tenths = [f"{i / 10:.1f}–{(i + 1) / 10:.1f}" for i in range(10)]
        for m in figures.models:
            fig.add_bar(x=tenths, y=m["confidence"], name=f"{m['model']} v{m['version']}")
        fig.update_layout(barmode="group", title="Model confidence distribution", xaxis_title="Confidence",
                          yaxis_title="Share of predictions", yaxis_tickformat=".0%", **LAYOUT)
        out.append(("Models", fig))
    return out


def _summary(figures) -> str:
    rows = []
    for bot, e in figures.bots.items():
        roi = e.get("roi") or {}
        cells = [bot, e["runs"], e["succeeded"], e["failed"], _pct(e["success_rate"]),
                 _num(e["run_seconds"]["p50"]), _num(e["run_seconds"]["p95"]), _num(e["run_seconds"]["p99"]),
                 e["items"], _num(e["items_per_hour"], 1), _pct(e["intervention_rate"]),
                 _pct(e["straight_through_rate"]), _num(roi.get("hours_saved")), _num(roi.get("cost_per_item"), 4),
                 _num(roi.get("net_saving"))]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    heads = ["Bot", "Runs", "Succeeded", "Did not succeed", "Success", "Run P50 s", "Run P95 s", "Run P99 s",
             "Items", "Items / robot h", "Intervention", "Straight through", "Hours saved", "Cost / item",
             "Net saving"]
    return ("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _alerts(alerts) -> str:
    if not alerts:
        return ""
    items = "".join(f"<li>{html.escape(a.message)}</li>" for a in alerts)
    return f'<section class="alerts"><h2>Alerts</h2><ul>{items}</ul></section>'


STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 24px 32px; color: #212121; }
h1 { font-size: 24px; margin-bottom: 4px; } .period { color: #616161; margin-top: 0; }
table { border-collapse: collapse; font-size: 13px; margin: 12px 0 24px; }
th, td { border-bottom: 1px solid #e0e0e0; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; } th { background: #f5f5f5; }
.alerts { background: #fff3e0; border-left: 4px solid #ef6c00; padding: 4px 16px; margin: 12px 0; }
.grid { display: grid; grid-template-columns: minmax(0, 1fr); gap: 16px; max-width: 1400px; }
.chart { border: 1px solid #eeeeee; border-radius: 4px; }
"""


def render(figures, *, alerts=()) -> str:
    """The report's HTML text (plotly.js inline)."""
    _, get_plotlyjs = _plotly()
    period = figures.period
    scope = f"bot {period.bot}" if period.bot else "all bots"
    title = f"Botloom report: {scope}"
    span = f"runs started from {_when(period.since)} to {_when(period.until or figures.computed_at)}"
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{STYLE}</style><script>{get_plotlyjs()}</script></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p class='period'>{html.escape(span)}; made {_when(figures.computed_at)}</p>", _alerts(alerts)]
    if not figures.bots:
        parts.append("<p>No runs in this period.</p>")
    else:
        parts += ["<h2>Summary</h2>", _summary(figures), "<div class='grid'>"]
        for _, fig in charts(figures):
            parts.append("<div class='chart'>" + fig.to_html(full_html=False, include_plotlyjs=False,
                                                             config={"displaylogo": False, "responsive": True})
                         + "</div>")
        parts.append("</div>")
    parts.append("</body></html>")
    return "".join(parts)


def write_report(figures, path: Path, *, alerts=None) -> Path:
    """Write the report to ``path`` (atomically: a half-written report is never left)."""
    if alerts is None:
        alerts = []
    text = render(figures, alerts=alerts)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{int(time.time() * 1000)}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BotloomError(f"cannot write the report to {path}: {exc.strerror or exc}",
                           fix="choose another file with -o, in a folder you can write to") from None
    return path


__all__ = ["charts", "render", "write_report"]
