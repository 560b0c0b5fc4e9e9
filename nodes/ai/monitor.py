"""What models do in production: predictions (for drift), items for review, human corrections.

One SQLite file in the data folder (``ai/monitor.sqlite``, WAL mode):

* ``predictions``: model, version, time, confidence, input length, label. Writes are buffered
  and flushed in batches (every ``FLUSH_ROWS`` rows or ``FLUSH_SECONDS``, at the end of a run
  and at exit), optionally sampled, so recording costs microseconds per prediction.
* ``feedback``: an item a classifier was unsure about (``status`` open), and the label a
  person gave it (``status`` corrected). Corrections feed the next training. A key made of run,
  step and position makes recording idempotent: a step run again after a crash does not add
  the item twice.

Drift is the population stability index (PSI) of recent predictions against the baseline the
trainer stored in the model card (confidence and input length histograms of the held-back
split): ``sum((a - e) * ln(a / e))`` over bins. Under 0.1 is stable, 0.1-0.2 a moderate
shift, above ``DRIFT_WARNING`` (0.2) a significant one: time to look at recent items and retrain.
"""

from __future__ import annotations

import atexit
import json
import math
import random
import sqlite3
import threading
import time
from pathlib import Path

from botloom.runner.sdk import audit

from .registry import ModelError

FLUSH_ROWS = 256
FLUSH_SECONDS = 2.0
DRIFT_WARNING = 0.2
SCHEMA_VERSION = 1
CONF_EDGES = [i / 10 for i in range(11)]
SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions (
    id INTEGER PRIMARY KEY, model TEXT NOT NULL, version TEXT NOT NULL, at REAL NOT NULL,
    confidence REAL NOT NULL, length INTEGER NOT NULL, label TEXT);
CREATE INDEX IF NOT EXISTS predictions_model ON predictions(model, version, id);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY, key TEXT UNIQUE, model TEXT NOT NULL, version TEXT, at REAL NOT NULL,
    text TEXT NOT NULL, predicted TEXT, confidence REAL, scores TEXT, run_id TEXT, node TEXT,
    status TEXT NOT NULL DEFAULT 'open', label TEXT, corrected_at REAL, source TEXT);
CREATE INDEX IF NOT EXISTS feedback_model ON feedback(model, status);
"""


def db_path() -> Path:
    from botloom.runner.sdk import data_dir

    return data_dir("ai") / "monitor.sqlite"


def connect(path: Path | None = None) -> sqlite3.Connection:
    con = sqlite3.connect(str(path or db_path()), timeout=30, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    version = con.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        con.close()
        raise ModelError(f"{path or db_path()} was written by a newer Botloom (schema {version})",
                         fix="upgrade Botloom: pip install -U 'botloom[ai]'")
    if version < SCHEMA_VERSION:
        con.executescript(SCHEMA)
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return con


def _write(con: sqlite3.Connection, sql: str, rows) -> None:
    """One write transaction (BEGIN IMMEDIATE: safe with several writer processes)."""
    con.execute("BEGIN IMMEDIATE")
    try:
        if isinstance(rows, list):
            con.executemany(sql, rows)
        else:
            con.execute(sql, rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


# ---------------------------------------------------------------- predictions (buffered)
class PredictionLog:
    """A process-wide buffer of predictions, flushed in batches."""

    def __init__(self):
        self._rows: list[tuple] = []
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self._path: Path | None = None

    def record(self, model: str, version: str, confidence: float, length: int, label: str,
               sample: float = 1.0) -> None:
        if sample < 1.0 and random.random() >= sample:
            return
        with self._lock:
            self._rows.append((model, version, time.time(), float(confidence), int(length), label))
            due = len(self._rows) >= FLUSH_ROWS or time.monotonic() - self._last > FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> int:
        with self._lock:
            rows, self._rows = self._rows, []
            self._last = time.monotonic()
        if not rows:
            return 0
        con = connect()
        try:
            _write(con, "INSERT INTO predictions (model, version, at, confidence, length, label) "
                        "VALUES (?, ?, ?, ?, ?, ?)", rows)
        finally:
            con.close()
        return len(rows)


PREDICTIONS = PredictionLog()
atexit.register(lambda: _quiet(PREDICTIONS.flush))


def _quiet(fn) -> None:
    try:
        fn()
    except Exception:  # noqa: BLE001 - at exit there is no one to tell
        pass


# ---------------------------------------------------------------- feedback
def add_review(model: str, version: str, text: str, predicted: str, confidence: float, scores: dict,
               key: str | None = None, run_id: str | None = None, node: str | None = None) -> int:
    """Record an item for a person to check; returns its id (the same id for the same key)."""
    con = connect()
    try:
        _write(con, "INSERT OR IGNORE INTO feedback (key, model, version, at, text, predicted, confidence, scores, "
                    "run_id, node, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')",
               (key, model, version, time.time(), text, predicted, confidence, json.dumps(scores), run_id, node))
        if key is not None:
            return con.execute("SELECT id FROM feedback WHERE key = ?", (key,)).fetchone()[0]
        return con.execute("SELECT max(id) FROM feedback").fetchone()[0]
    finally:
        con.close()


def add_correction(model: str, label: str, *, review_id: int | None = None, text: str | None = None,
                   key: str | None = None, source: str = "") -> int:
    """A person's label: for a review item (by id) or for a new text. Repeating it is harmless."""
    label = str(label).strip()
    if not label:
        raise ModelError("the correct label is empty", fix="give the label a person chose")
    con = connect()
    try:
        if review_id is not None:
            row = con.execute("SELECT model FROM feedback WHERE id = ?", (int(review_id),)).fetchone()
            if row is None:
                raise ModelError(f"no review item {review_id}", fix="list open items with 'botloom models reviews MODEL'")
            if row[0] != model:
                raise ModelError(f"review item {review_id} belongs to model '{row[0]}', not '{model}'",
                                 fix="give the model the item was classified with")
            _write(con, "UPDATE feedback SET status = 'corrected', label = ?, corrected_at = ?, source = ? WHERE id = ?",
                   (label, time.time(), source, int(review_id)))
            audit("review_decided", model=model, review=int(review_id), label=label, by=source or None)  # never the text
            return int(review_id)
        if not text:
            raise ModelError("a correction needs a review item id or a text", fix="give 'review_id' or 'text'")
        _write(con, "INSERT INTO feedback (key, model, at, text, status, label, corrected_at, source) "
                    "VALUES (?, ?, ?, ?, 'corrected', ?, ?, ?) ON CONFLICT(key) DO UPDATE SET label = excluded.label, "
                    "corrected_at = excluded.corrected_at",
               (key, model, time.time(), text, label, time.time(), source))
        if key is not None:
            return con.execute("SELECT id FROM feedback WHERE key = ?", (key,)).fetchone()[0]
        return con.execute("SELECT max(id) FROM feedback").fetchone()[0]
    finally:
        con.close()


def corrections(model: str) -> list[tuple[str, str]]:
    con = connect()
    try:
        return [(t, lab) for t, lab in con.execute(
            "SELECT text, label FROM feedback WHERE model = ? AND status = 'corrected' ORDER BY id", (model,))]
    finally:
        con.close()


def reviews(model: str, status: str = "open", limit: int = 100) -> list[dict]:
    con = connect()
    try:
        rows = con.execute("SELECT id, version, at, text, predicted, confidence, status, label FROM feedback "
                           "WHERE model = ? AND status = ? ORDER BY id DESC LIMIT ?", (model, status, limit)).fetchall()
    finally:
        con.close()
    keys = ("id", "version", "at", "text", "predicted", "confidence", "status", "label")
    return [dict(zip(keys, r)) for r in rows]


# ---------------------------------------------------------------- drift
def _length_edges(lengths: list[int], bins: int = 10) -> list[float]:
    s = sorted(lengths)
    edges = sorted({float(s[min(len(s) - 1, int(len(s) * q / bins))]) for q in range(1, bins)})
    return [0.0] + edges + [float("inf")]


def histogram(values: list[float], edges: list[float]) -> list[float]:
    """Shares of ``values`` per bin ``[edges[i], edges[i+1])`` (the last bin is closed)."""
    import bisect

    counts = [0] * (len(edges) - 1)
    for v in values:
        i = min(max(bisect.bisect_right(edges, v) - 1, 0), len(counts) - 1)
        counts[i] += 1
    total = max(1, len(values))
    return [c / total for c in counts]


def baseline_of(confidences: list[float], lengths: list[int]) -> dict:
    if not confidences:
        return {}
    ledges = _length_edges(lengths)
    return {"n": len(confidences), "confidence_edges": CONF_EDGES, "confidence": histogram(confidences, CONF_EDGES),
            "length_edges": [e if math.isfinite(e) else None for e in ledges], "length": histogram(lengths, ledges)}


def psi(expected: list[float], actual: list[float], eps: float = 1e-4) -> float:
    total = 0.0
    for e, a in zip(expected, actual):
        e, a = max(e, eps), max(a, eps)
        total += (a - e) * math.log(a / e)
    return total


def drift(model: str, version: str, baseline: dict, window: int = 1000) -> dict:
    """The drift score of a version's last ``window`` predictions against its baseline."""
    PREDICTIONS.flush()
    con = connect()
    try:
        rows = con.execute("SELECT confidence, length FROM predictions WHERE model = ? AND version = ? "
                           "ORDER BY id DESC LIMIT ?", (model, str(version), int(window))).fetchall()
    finally:
        con.close()
    result = {"model": model, "version": str(version), "n": len(rows), "threshold": DRIFT_WARNING,
              "psi_confidence": None, "psi_length": None, "score": None, "warning": False}
    if not baseline:
        result["note"] = "the model card has no baseline (trained elsewhere?): drift cannot be measured"
        return result
    if len(rows) < 30:
        result["note"] = f"only {len(rows)} predictions recorded: at least 30 are needed"
        return result
    ledges = [e if e is not None else float("inf") for e in baseline["length_edges"]]
    pc = psi(baseline["confidence"], histogram([r[0] for r in rows], baseline["confidence_edges"]))
    pl = psi(baseline["length"], histogram([r[1] for r in rows], ledges))
    score = max(pc, pl)
    result.update(psi_confidence=round(pc, 4), psi_length=round(pl, 4), score=round(score, 4),
                  warning=score > DRIFT_WARNING)
    return result
