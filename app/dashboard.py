"""The designer's dashboard: what the runs add up to, and what is going wrong.

A panel (View > Dashboard, Ctrl+Shift+D) over the same figures as ``botloom stats`` and
``botloom report`` (``botloom.runner.insight``): headline figures, the alerts that hold, runs
over time, failure reasons, latency percentiles by node type, intervention and straight-through
rates per bot, and the AI pack's drift warnings. The charts are pyqtgraph plots (the ``insight``
extra); without pyqtgraph the panel says how to install it and shows the tables alone.

Click through to the runs: double-clicking a bot in the summary, or a failure reason, asks the
main window (``runRequested(bot, run id)``) to show the run history of that bot at its latest
run (the latest that failed with that reason).

The figures are read when the panel is shown and on Refresh, never on a timer: a large store's
figures take a moment (~1 s per million steps), which the user asks for.
"""

from __future__ import annotations

import sqlite3
import time

from botloom.runner import paths
from botloom.runner.insight.fmt import rate
from botloom.runner.insight.fmt import seconds as _sec
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

PERIODS = (("Last 24 hours", 86400), ("Last 7 days", 7 * 86400), ("Last 30 days", 30 * 86400),
           ("Last 90 days", 90 * 86400), ("Everything", None))
ALL_BOTS = "All bots"
OK, BAD, P50, P95, P99, PEOPLE, STRAIGHT = ("#2e7d32", "#c62828", "#90caf9", "#1e88e5", "#0d47a1", "#8e24aa",
                                            "#00897b")


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _rate(v) -> str:
    return rate(v, 0)


def _item(text: str, data=None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemIsEditable)
    if data is not None:
        item.setData(Qt.UserRole, data)
    return item


class Dashboard(QWidget):
    runRequested = Signal(str, str)  # bot name, run id ("" when the bot has no such run)

    def __init__(self, parent=None, *, now=None):
        super().__init__(parent)
        self._now = now or time.time  # tests fix the clock
        self.figures = None
        self.alerts: list = []
        self.period = QComboBox(objectName="dashboard-period")
        for label, seconds in PERIODS:
            self.period.addItem(label, seconds)
        self.period.setCurrentIndex(2)
        self.bot = QComboBox(objectName="dashboard-bot")
        self.bot.addItem(ALL_BOTS)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.period.activated.connect(lambda _i: self.refresh())
        self.bot.activated.connect(lambda _i: self.refresh())
        top = QHBoxLayout()
        for w in (QLabel("Period:"), self.period, QLabel("Bot:"), self.bot, self.refresh_button):
            top.addWidget(w)
        top.addStretch(1)
        self.headline = QLabel(objectName="dashboard-headline", textFormat=Qt.RichText)
        self.alert_label = QLabel(objectName="dashboard-alerts", wordWrap=True)
        self.alert_label.setStyleSheet("QLabel { background: #fff3e0; border-left: 4px solid #ef6c00; padding: 6px; }")
        self.alert_label.hide()
        self.summary = self._table(["Bot", "Runs", "Success", "Run P95", "Intervention", "Straight through",
                                    "Net saving"], "dashboard-summary")
        self.reasons = self._table(["Bot", "Runs", "Failure reason"], "dashboard-reasons")
        self.summary.itemDoubleClicked.connect(self._open_bot)
        self.reasons.itemDoubleClicked.connect(self._open_reason)
        self.plots: dict | None = None  # made at the first refresh: pyqtgraph and numpy load only then
        self.grid = QGridLayout()
        tables = QHBoxLayout()
        tables.addWidget(self.summary, 3)
        tables.addWidget(self.reasons, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.headline)
        layout.addWidget(self.alert_label)
        layout.addLayout(self.grid, 3)
        layout.addLayout(tables, 1)

    @staticmethod
    def _table(headers: list[str], name: str) -> QTableWidget:
        table = QTableWidget(0, len(headers), objectName=name)
        table.setHorizontalHeaderLabels(headers)
        table.setSelectionBehavior(QAbstractItemView.SelectRows)
        table.verticalHeader().hide()
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        table.setToolTip("Double-click to see the runs")
        return table

    def _make_plots(self) -> dict:
        try:
            import pyqtgraph as pg
        except ImportError:
            self.grid.addWidget(QLabel("Charts need pyqtgraph: pip install 'botloom[insight]'",
                                       objectName="dashboard-nocharts"), 0, 0)
            return {}
        pg.setConfigOptions(antialias=True, background="w", foreground="#424242")
        plots = {}
        for key, title, left, bottom in (("runs", "Runs over time", "Runs", "Day"),
                                         ("reasons", "Failure reasons", "", "Runs"),
                                         ("latency", "Step latency by node type", "Milliseconds", ""),
                                         ("people", "Intervention and straight-through", "Share of items", "")):
            w = pg.PlotWidget(title=title)
            w.setObjectName(f"dashboard-plot-{key}")
            w.setLabel("left", left)
            if bottom:
                w.setLabel("bottom", bottom)
            w.showGrid(y=True, alpha=0.2)
            w.setMenuEnabled(False)
            w.setMinimumHeight(200)
            self.grid.addWidget(w, len(plots) // 2, len(plots) % 2)
            plots[key] = w
        return plots

    # ------------------------------------------------------------ reading
    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh_when_seen()

    def refresh_when_seen(self) -> None:
        """The first refresh (its charts load pyqtgraph, 0.3 s) once the panel is on screen a
        moment later: not for a tab that only flashes by while the window is built."""
        if self.figures is None:
            QTimer.singleShot(0, lambda: not self.visibleRegion().isEmpty() and self.figures is None and self.refresh())

    def refresh(self) -> None:
        from botloom.runner import settings as user_settings
        from botloom.runner.insight.alerts import evaluate
        from botloom.runner.insight.figures import Period, compute
        from botloom.runner.insight.roi import add_roi
        from botloom.runner.store import RunStore

        if self.plots is None:
            self.plots = self._make_plots()
        now = self._now()
        seconds = self.period.currentData()
        bot = self.bot.currentText()
        period = Period(since=now - seconds if seconds else None, bot=None if bot == ALL_BOTS else bot,
                        bucket="hour" if seconds and seconds <= 86400 else "day")
        try:
            values = user_settings.load()
            store = RunStore(paths.store_path())
            try:
                self.figures = compute(store.conn, period, home=paths.home(), now=now)
                add_roi(self.figures, values)
                self.alerts = evaluate(store.conn, values, now=now)
                names = [r[0] for r in store.conn.execute("SELECT DISTINCT bot_name FROM runs ORDER BY 1")]
            finally:
                store.close()
        except Exception as exc:  # a damaged store or a bad settings block: said here, not a traceback
            self.headline.setText(f"<b>The figures cannot be read:</b> {_escape(str(exc))}")
            return
        self._fill_bots(names, bot)
        self._show()

    def _fill_bots(self, names: list[str], current: str) -> None:
        self.bot.blockSignals(True)
        self.bot.clear()
        self.bot.addItems([ALL_BOTS, *names])
        self.bot.setCurrentText(current if current in names else ALL_BOTS)
        self.bot.blockSignals(False)

    def _show(self) -> None:
        f = self.figures
        runs = sum(e["runs"] for e in f.bots.values())
        ended = sum(e["ended"] for e in f.bots.values())
        ok = sum(e["succeeded"] for e in f.bots.values())
        saving = sum((e.get("roi") or {}).get("net_saving") or 0.0 for e in f.bots.values())
        drift = [m for m in f.models if (m.get("drift") or {}).get("warning")]
        self.headline.setText(
            f"<b>{runs}</b> runs &nbsp; <b>{_rate(ok / ended if ended else None)}</b> succeeded &nbsp; "
            f"<b>{sum(len(e['top_failures']) for e in f.bots.values())}</b> failure reasons &nbsp; "
            f"net saving <b>{saving:,.2f}</b> &nbsp; drift warnings <b>{len(drift)}</b>")
        lines = [a.message for a in self.alerts]
        lines += [f"drift: model '{m['model']}' v{m['version']} scores {m['drift']['score']:.3f}" for m in drift
                  if not any(a.kind == "drift_score" and a.bot == m["model"] for a in self.alerts)]
        self.alert_label.setText("\n".join(f"⚠ {line}" for line in lines))
        self.alert_label.setVisible(bool(lines))
        self.summary.setRowCount(len(f.bots))
        for row, (bot, e) in enumerate(f.bots.items()):
            cells = [bot, str(e["runs"]), _rate(e["success_rate"]), _sec(e["run_seconds"]["p95"]),
                     _rate(e["intervention_rate"]), _rate(e["straight_through_rate"]),
                     f"{(e.get('roi') or {}).get('net_saving') or 0:,.2f}"]
            for col, text in enumerate(cells):
                self.summary.setItem(row, col, _item(text, bot))
        reasons = [(bot, r) for bot, e in f.bots.items() for r in e["top_failures"]]
        self.reasons.setRowCount(len(reasons))
        for row, (bot, r) in enumerate(reasons):
            for col, text in enumerate((bot, str(r["count"]), f"{r['kind']}: {r['message']}")):
                self.reasons.setItem(row, col, _item(text, (bot, r["kind"], r["message"])))
        if self.plots:
            self._draw()

    def _draw(self) -> None:
        import pyqtgraph as pg

        f = self.figures
        for w in self.plots.values():
            w.clear()
        starts = sorted({s["start"] for s in f.series})
        ok = [sum(s["succeeded"] for s in f.series if s["start"] == t) for t in starts]
        bad = [sum(s["failed"] for s in f.series if s["start"] == t) for t in starts]
        x = list(range(len(starts)))
        runs = self.plots["runs"]
        runs.addItem(pg.BarGraphItem(x=x, height=ok, width=0.6, brush=OK, name="succeeded"))
        runs.addItem(pg.BarGraphItem(x=x, y0=ok, height=bad, width=0.6, brush=BAD, name="did not succeed"))
        fmt = "%H:00" if f.period.bucket == "hour" else "%m-%d"
        self._ticks(runs, "bottom", [time.strftime(fmt, time.gmtime(t)) for t in starts])
        runs.setLabel("bottom", "Hour (UTC)" if f.period.bucket == "hour" else "Day (UTC)")
        runs.setYRange(0, max([a + b for a, b in zip(ok, bad)] or [1]) * 1.35)  # room for the legend
        reasons = [(_short(f"{r['kind']}: {r['message']}", 34), r["count"]) for e in f.bots.values()
                   for r in e["top_failures"]]
        reasons = sorted(reasons, key=lambda r: r[1])[-6:]
        rp = self.plots["reasons"]
        rp.addItem(pg.BarGraphItem(x0=0, y=list(range(len(reasons))), height=0.6, width=[n for _, n in reasons],
                                   brush=BAD))
        self._ticks(rp, "left", [t for t, _ in reasons])
        rp.getAxis("left").setWidth(230)
        steps = [(t, s) for e in f.bots.values() for t, s in e["node_types"].items()]
        steps = sorted(steps, key=lambda s: -(s[1]["p95"] or 0))[:6]
        lp = self.plots["latency"]
        for i, (p, color) in enumerate((("p50", P50), ("p95", P95), ("p99", P99))):
            lp.addItem(pg.BarGraphItem(x=[j + (i - 1) * 0.25 for j in range(len(steps))],
                                       height=[(s[p] or 0) * 1000 for _, s in steps], width=0.25, brush=color,
                                       name=p.upper()))
        self._ticks(lp, "bottom", [t.replace(".", "\n", 1) for t, _ in steps])  # pack above, node below
        lp.getAxis("bottom").setHeight(44)
        lp.setYRange(0, max([(s["p99"] or 0) * 1000 for _, s in steps] or [1]) * 1.35)
        rated = [(b, e) for b, e in f.bots.items() if e["intervention_rate"] is not None]
        pp = self.plots["people"]
        pp.addItem(pg.BarGraphItem(x=[j - 0.15 for j in range(len(rated))], width=0.3, brush=STRAIGHT,
                                   height=[e["straight_through_rate"] for _, e in rated], name="straight through"))
        pp.addItem(pg.BarGraphItem(x=[j + 0.15 for j in range(len(rated))], width=0.3, brush=PEOPLE,
                                   height=[e["intervention_rate"] for _, e in rated], name="intervention"))
        pp.setYRange(0, 1.4)  # room for the legend above the bars
        pp.getAxis("left").setTicks([[(v / 4, f"{v * 25}%") for v in range(5)]])
        self._ticks(pp, "bottom", [b for b, _ in rated])
        for key, labels in (("runs", ("succeeded", OK, "did not succeed", BAD)),
                            ("latency", ("P50", P50, "P95", P95, "P99", P99)),
                            ("people", ("straight through", STRAIGHT, "intervention", PEOPLE))):
            legend = self.plots[key].addLegend(offset=(-10, 10))
            legend.clear()
            for name, color in zip(labels[::2], labels[1::2]):
                legend.addItem(pg.BarGraphItem(x=[0], height=[0], width=1, brush=color), name)

    @staticmethod
    def _ticks(plot, side: str, labels: list[str]) -> None:
        plot.getAxis(side).setTicks([[(i, text) for i, text in enumerate(labels)]])

    # ------------------------------------------------------------ click through
    def _latest(self, sql: str, args: tuple) -> str:
        from botloom.runner.store import RunStore

        store = RunStore(paths.store_path())
        try:
            row = store.conn.execute(sql, args).fetchone()
        except sqlite3.Error:
            row = None
        finally:
            store.close()
        return row[0] if row else ""

    def _open_bot(self, item: QTableWidgetItem) -> None:
        bot = item.data(Qt.UserRole)
        run = self._latest("SELECT id FROM runs WHERE bot_name = ? ORDER BY started_at DESC LIMIT 1", (bot,))
        self.runRequested.emit(bot, run)

    def _open_reason(self, item: QTableWidgetItem) -> None:
        bot, kind, message = item.data(Qt.UserRole)
        run = self._latest("SELECT id FROM runs WHERE bot_name = ? AND json_valid(error) AND "
                           "json_extract(error, '$.kind') IS ? AND json_extract(error, '$.message') IS ? "
                           "ORDER BY started_at DESC LIMIT 1", (bot, kind, message))
        self.runRequested.emit(bot, run)


def _escape(text: str) -> str:
    import html

    return html.escape(text)


__all__ = ["Dashboard"]

