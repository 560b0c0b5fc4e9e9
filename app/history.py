"""Run history: past runs from the run store with their state, duration, per-node timings,
errors and artifacts (screenshots shown inline). A crashed, failed or suspended run can be
resumed (in a child process, like every run), and the bot version that ran can be opened.

The history is live: while it is shown it looks at the store every ``POLL_MS`` (2 s) and
redraws when a run started, moved on or ended, so runs started elsewhere (the runner service's
schedules, webhooks and folder watches, ``botloom run`` in a terminal) appear while they run,
with what started them in the Trigger column (``schedule:NAME``, ``webhook:NAME``,
``watch:NAME``, ``api``, ``designer``, ``cli``). "All bots" shows every bot's runs, not only
the open bot's.

"Fleet" (shown when a runner service in fleet mode runs on the data folder) lists the runs of
every runner of the fleet, through that service's API (``GET /fleet/runs``: Temporal's
visibility), with where each one ran; a run another runner ran shows what the fleet knows of
it, a run of this runner its whole history from the store. "Cancel run" stops a fleet run
wherever it is (``POST /runs/RUN/cancel``).

The store is read with plain SQL over the tables declared in ``runner/store/models.py``
(the same columns SQLModel maps): importing SQLModel costs ~0.5-1 s, which the designer
would otherwise pay the first time a bot is opened.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPixmap
from types import SimpleNamespace

from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QScrollArea,
                               QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from botloom.runner import paths
from botloom.runner.errors import BotloomError
from botloom.runner.store import RESUMABLE, RunStore

from . import theme

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")
POLL_MS = 2000
_LIST = "SELECT id, bot_name, state, started_at, ended_at, steps, trigger FROM runs"


def _fmt_time(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "-"


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _item(text: str, color: str | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
    if color:
        item.setForeground(QColor(color))
    return item


class RunHistory(QWidget):
    resumeRequested = Signal(str, str)     # run id, "" / "retry" / "skip"
    openVersionRequested = Signal(str, str)  # bot name, the bot's text as it ran

    def __init__(self, parent=None):
        super().__init__(parent)
        self.bot_filter: str | None = None
        self.runs: list = []
        self.current: str | None = None
        top = QHBoxLayout()
        self.refresh_button = QPushButton("Refresh")
        self.resume_button = QPushButton("Resume run")
        self.open_button = QPushButton("Open the bot as it ran")
        self.all_bots = QCheckBox("All bots", objectName="history-all-bots")
        self.all_bots.setToolTip("Show the runs of every bot in the data folder, not only the open bot's")
        self.all_bots.toggled.connect(lambda _on: self.refresh())
        self.fleet_box = QCheckBox("Fleet", objectName="history-fleet")
        self.fleet_box.setToolTip("Show the runs of every runner of the fleet (through this data folder's service "
                                  "in fleet mode), not only this machine's")
        self.fleet_box.toggled.connect(lambda _on: self.refresh())
        self.fleet_box.setVisible(False)
        self.cancel_button = QPushButton("Cancel run", objectName="history-cancel")
        self.cancel_button.setToolTip("Stop this run of the fleet, wherever it runs or waits")
        self.cancel_button.clicked.connect(self._cancel_fleet_run)
        self.cancel_button.setVisible(False)
        self.fleet_note = QLabel(objectName="history-fleet-note")
        for b in (self.refresh_button, self.resume_button, self.open_button, self.all_bots, self.fleet_box,
                  self.cancel_button, self.fleet_note):
            top.addWidget(b)
        top.addStretch(1)
        self.poll_timer = QTimer(self, interval=POLL_MS)
        self.poll_timer.timeout.connect(self.poll)
        self.poll_timer.start()
        self.resume_button.setEnabled(False)
        self.open_button.setEnabled(False)
        self.refresh_button.clicked.connect(self.refresh)
        self.resume_button.clicked.connect(self._resume)
        self.open_button.clicked.connect(self._open_version)

        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["Started", "Bot", "State", "Duration", "Steps", "Trigger"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_select)

        self.summary = QLabel(wordWrap=True, textFormat=Qt.RichText)
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.steps = QTableWidget(0, 6)
        self.steps.setHorizontalHeaderLabels(["#", "Node", "Type", "State", "Duration", "Error"])
        self.steps.verticalHeader().hide()
        self.steps.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.steps.horizontalHeader().setStretchLastSection(True)
        self.artifacts = QWidget()
        self.artifacts_layout = QVBoxLayout(self.artifacts)
        art_scroll = QScrollArea(widgetResizable=True)
        art_scroll.setWidget(self.artifacts)

        detail = QWidget()
        dl = QVBoxLayout(detail)
        dl.setContentsMargins(0, 0, 0, 0)
        dl.addWidget(self.summary)
        inner = QSplitter(Qt.Horizontal)
        inner.addWidget(self.steps)
        inner.addWidget(art_scroll)
        inner.setSizes([600, 300])
        dl.addWidget(inner, 1)
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.table)
        split.addWidget(detail)
        split.setSizes([200, 300])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)

    # ------------------------------------------------------------ reading the store
    def _store(self) -> RunStore:
        return RunStore(paths.store_path())

    @staticmethod
    def _rows(store: RunStore, sql: str, args: tuple = ()) -> list:
        cur = store.conn.execute(sql, args)
        names = [c[0] for c in cur.description]
        return [SimpleNamespace(**dict(zip(names, row))) for row in cur.fetchall()]

    def _service(self):
        """The client of the service that runs on this data folder, or None."""
        from botloom.runner.server.client import Client

        return Client.find(paths.home())

    def _fleet_list(self) -> list:
        """The fleet's runs as rows of the run table (``fleet_note`` says why when it cannot)."""
        self.fleet_note.setText("")
        service = self._service()
        if service is None:
            self.fleet_note.setText("no service runs on this data folder")
            return []
        try:
            runs = service.call("GET", "/fleet/runs?limit=200", timeout=10.0)
        except BotloomError as exc:
            self.fleet_note.setText(exc.message)
            return []
        if self.bot_filter and not self.all_bots.isChecked():
            runs = [r for r in runs if r.get("bot") == self.bot_filter]
        return [SimpleNamespace(id=r["id"], bot_name=r.get("bot") or "", state=r.get("status") or "",
                                started_at=r.get("started_at"), ended_at=r.get("ended_at"), steps="",
                                trigger=f"{r.get('trigger') or ''} · {r.get('queue') or ''}", fleet=r) for r in runs]

    def refresh(self) -> None:
        self.fleet_box.setVisible(self.fleet_box.isChecked() or self._service() is not None)
        if self.fleet_box.isChecked():
            self.runs = self._fleet_list()
            self._fill()
            return
        store = self._store()
        try:
            try:
                store.detect_crashed()
            except Exception as exc:  # a full disk or a read-only data folder: the history as it stands
                if paths.storage_error(exc, store.path.parent) is None:
                    raise
            self.runs = self._list(store)
        finally:
            store.close()
        self._fill()

    def _fill(self) -> None:
        keep = self.current
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.runs))
        for row, r in enumerate(self.runs):
            duration = (r.ended_at - r.started_at) if r.ended_at else None
            values = [_fmt_time(r.started_at), r.bot_name, r.state.replace("_", " "), _fmt_duration(duration),
                      str(r.steps), r.trigger]
            for col, text in enumerate(values):
                self.table.setItem(row, col, _item(text, theme.STATE_COLORS.get(r.state) if col == 2 else None))
        self.table.blockSignals(False)
        ids = [r.id for r in self.runs]
        if keep in ids:
            self.table.selectRow(ids.index(keep))
        elif ids:
            self.table.selectRow(0)
        else:
            self.show_run(None)

    def _list(self, store: RunStore) -> list:
        by_bot = self.bot_filter and not self.all_bots.isChecked()
        where, args = ("WHERE bot_name = ?", (self.bot_filter,)) if by_bot else ("", ())
        return self._rows(store, f"{_LIST} {where} ORDER BY started_at DESC LIMIT 200", args)

    def poll(self) -> bool:
        """While shown: redraw when a run started, moved on or ended since the last look."""
        if not self.isVisible():
            return False
        if self.fleet_box.isChecked():  # a look through the service's API
            now = self._fleet_list()
            if [(r.id, r.state) for r in now] == [(r.id, r.state) for r in self.runs]:
                return False
            self.refresh()
            return True
        try:
            store = self._store()
            try:
                now = self._list(store)
            finally:
                store.close()
        except (OSError, sqlite3.Error, BotloomError):  # busy, or a disk in trouble: look again at the next tick
            return False  # (Refresh says what is wrong)
        if now == self.runs:
            return False
        self.refresh()
        return True

    def _on_select(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        self.show_run(self.runs[rows[0].row()].id if rows else None)

    def show_run(self, run_id: str | None) -> None:
        self.current = run_id
        for i in reversed(range(self.artifacts_layout.count())):
            w = self.artifacts_layout.itemAt(i).widget()
            if w is not None:
                w.setParent(None)
        if run_id is None:
            self.summary.setText("No runs yet. Run the bot (F5) and it shows up here.")
            self.steps.setRowCount(0)
            self.resume_button.setEnabled(False)
            self.open_button.setEnabled(False)
            return
        self.cancel_button.setVisible(self.fleet_box.isChecked())
        fleet = next((r.fleet for r in self.runs if r.id == run_id and hasattr(r, "fleet")), None)
        if fleet is not None:
            self.cancel_button.setEnabled(fleet.get("status") == "running")
            if not self._known_here(run_id):
                self._show_elsewhere(fleet)
                return
        store = self._store()
        try:
            run = store.run_row(run_id)
            steps = self._rows(store, "SELECT seq, attempt, node_id, node_type, state, error, duration FROM node_runs "
                               "WHERE run_id = ? ORDER BY seq, entry", (run_id,))
            artifacts = self._rows(store, "SELECT node_id, name, kind, path FROM artifacts WHERE run_id = ? "
                                   "ORDER BY id", (run_id,))
        finally:
            store.close()
        self.run = run
        duration = (run["ended_at"] - run["started_at"]) if run.get("ended_at") else None
        lines = [f"<b>{run['bot_name']}</b> &nbsp; run <code>{run_id}</code> &nbsp; "
                 f"<span style='color:{theme.STATE_COLORS.get(run['state'], '#888')}'><b>{run['state']}</b></span>"
                 f" &nbsp; {_fmt_duration(duration)} &nbsp; {run['steps']} steps",
                 f"started {_fmt_time(run['started_at'])}, file {run.get('bot_path') or '-'}"]
        if run.get("inputs"):
            lines.append("inputs: " + json.dumps(run["inputs"], ensure_ascii=False)[:300])
        if run.get("error"):
            e = run["error"]
            lines.append(f"<span style='color:#e5484d'>error at {e.get('where', '')}: {e.get('message')}</span>"
                         + (f"<br>fix: {e['fix']}" if e.get("fix") else ""))
        if run.get("attention"):
            lines.append(f"needs attention: {run['attention'].get('reason')}")
        if run.get("outputs"):
            lines.append("outputs: " + json.dumps(run["outputs"], ensure_ascii=False)[:300])
        self.summary.setText("<br>".join(lines))
        self.steps.setRowCount(len(steps))
        for row, s in enumerate(steps):
            error = ""
            if s.error:
                try:
                    error = json.loads(s.error).get("message", "")
                except (ValueError, AttributeError):
                    error = s.error
            for col, text in enumerate([str(s.seq), s.node_id, s.node_type, s.state, _fmt_duration(s.duration),
                                        error]):
                self.steps.setItem(row, col, _item(text, theme.STATE_COLORS.get(s.state) if col == 3 else None))
        for a in artifacts:
            label = QLabel(f"{a.name} ({a.kind}, node {a.node_id})")
            label.setToolTip(a.path)
            self.artifacts_layout.addWidget(label)
            if a.kind == "screenshot" or Path(a.path).suffix.lower() in IMAGE_SUFFIXES:
                pm = QPixmap(a.path)
                if not pm.isNull():
                    image = QLabel()
                    image.setObjectName("artifact-image")
                    image.setPixmap(pm.scaledToWidth(min(pm.width(), 320), Qt.SmoothTransformation))
                    self.artifacts_layout.addWidget(image)
        self.artifacts_layout.addStretch(1)
        self.resume_button.setEnabled(run["state"] in RESUMABLE)
        self.open_button.setEnabled(bool(run.get("bot_snapshot")))

    def _known_here(self, run_id: str) -> bool:
        store = self._store()
        try:
            return store.conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None
        finally:
            store.close()

    def _show_elsewhere(self, fleet: dict) -> None:
        """A fleet run this runner has not run: what the fleet knows (its history is in the store
        of the runner that ran it)."""
        self.run = {}
        self.summary.setText(
            f"<b>{fleet.get('bot') or '?'}</b> &nbsp; run <code>{fleet['id']}</code> &nbsp; "
            f"<b>{fleet.get('status')}</b> &nbsp; queue {fleet.get('queue') or '-'} &nbsp; "
            f"trigger {fleet.get('trigger') or '-'}<br>started {_fmt_time(fleet.get('started_at'))}, "
            f"ended {_fmt_time(fleet.get('ended_at'))}<br>ran on another runner of the fleet: its steps, logs "
            "and artifacts are in that runner's history")
        self.steps.setRowCount(0)
        self.artifacts_layout.addStretch(1)
        self.resume_button.setEnabled(False)
        self.open_button.setEnabled(False)

    def _cancel_fleet_run(self) -> None:
        service = self._service()
        if self.current and service is not None:
            run_id = self.current
            try:
                service.call("POST", f"/runs/{run_id}/cancel", timeout=30.0)
                note = f"cancel asked for run {run_id}: it stops at its next step"
            except BotloomError as exc:
                note = str(exc)
            self.refresh()
            self.fleet_note.setText(note)

    def _resume(self) -> None:
        if self.current:
            action = "retry" if self.run.get("state") == "needs_attention" else ""
            self.resumeRequested.emit(self.current, action)

    def _open_version(self) -> None:
        if self.current and self.run.get("bot_snapshot"):
            self.openVersionRequested.emit(self.run["bot_name"], self.run["bot_snapshot"])
