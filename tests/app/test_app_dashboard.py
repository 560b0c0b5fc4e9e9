"""The designer's dashboard on a store of generated runs (tests/insight/generated.py): its
headline, alerts, tables and charts hold the known figures, and a double-click on a failure
reason shows that bot's latest run that failed with it in the run history."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "insight"))

import generated

pytest.importorskip("pyqtgraph", reason="the dashboard's charts need pyqtgraph (pip install 'botloom[insight]')")


@pytest.fixture
def dashboard(qtbot, botloom_home):
    from botloom.app.dashboard import Dashboard

    botloom_home.mkdir(parents=True, exist_ok=True)
    generated.fill(botloom_home / "runs.sqlite")
    (botloom_home / "settings.json").write_text(json.dumps({"roi.hourly_cost": 30.0, "alerts.p95_seconds": 15.0,
                                                            "alerts.window_hours": 72.0}), encoding="utf-8")
    board = Dashboard(now=lambda: generated.NOW)
    qtbot.addWidget(board)
    board.period.setCurrentIndex(1)  # the last 7 days: from four days before T0, the old run left out
    board.resize(1200, 800)
    board.refresh()
    return board


def bars(plot):
    import pyqtgraph as pg

    return [item for item in plot.listDataItems() + plot.getPlotItem().items if isinstance(item, pg.BarGraphItem)]


def test_dashboard_shows_the_known_figures(dashboard):
    text = dashboard.headline.text()
    assert "<b>30</b> runs" in text and "<b>87%</b> succeeded" in text  # 26 of 30
    assert dashboard.alert_label.isVisibleTo(dashboard)
    assert "bot 'invoices': P95 run latency 19.0 s (alert above 15 s)" in dashboard.alert_label.text()
    rows = {dashboard.summary.item(r, 0).text(): [dashboard.summary.item(r, c).text() for c in range(7)]
            for r in range(dashboard.summary.rowCount())}
    assert rows["invoices"][1:6] == ["20", "80%", "19.00 s", "10%", "90%"]
    assert rows["claims"][1:6] == ["10", "100%", "2.00 s", "20%", "70%"]
    assert rows["invoices"][6] == f"{6 * 48 / 60 * 30 - 4 * 0:,.2f}"  # 4.8 h saved at 30; no robot or review cost
    reasons = [dashboard.reasons.item(r, 2).text() for r in range(dashboard.reasons.rowCount())]
    assert reasons[0] == "timeout: the portal did not answer" and len(reasons) == 3
    heights = [list(b.opts["height"]) for b in bars(dashboard.plots["runs"])]
    assert heights[:2] == [[16, 10], [4, 0]]  # per day: succeeded, did not succeed
    latency = bars(dashboard.plots["latency"])
    p95 = dict(zip([t for _, t in dashboard.plots["latency"].getAxis("bottom")._tickLevels[0]],
                   latency[1].opts["height"]))
    assert p95["http\nrequest"] == pytest.approx(95.0) and p95["core\nset_variable"] == pytest.approx(500.0)


def test_click_through_to_the_run_that_failed(dashboard, qtbot):
    row = next(r for r in range(dashboard.reasons.rowCount())
               if dashboard.reasons.item(r, 2).text() == "bad_input: no invoice number")
    with qtbot.waitSignal(dashboard.runRequested) as signal:
        dashboard.reasons.itemDoubleClicked.emit(dashboard.reasons.item(row, 2))
    assert signal.args == ["invoices", "inv-19"]
    with qtbot.waitSignal(dashboard.runRequested) as signal:
        dashboard.summary.itemDoubleClicked.emit(dashboard.summary.item(0, 0))
    assert signal.args == ["claims", "clm-10"]


def test_the_main_window_shows_the_run_in_the_history(win, botloom_home):
    generated.fill(botloom_home / "runs.sqlite")

    win.dashboard.runRequested.emit("invoices", "inv-19")
    assert win.history.current == "inv-19"
    assert win.history.bot_filter == "invoices"


def test_the_dashboard_loads_its_charts_when_its_tab_is_opened_not_at_start(win, qtbot):
    """pyqtgraph (0.3 s) is not part of the designer's start: the Problems tab is the one shown."""
    qtbot.wait(50)
    assert win.dashboard.figures is None and not win.dock_problems.visibleRegion().isEmpty()
    win.dock_dashboard.raise_()
    qtbot.waitUntil(lambda: win.dashboard.figures is not None, timeout=10_000)
