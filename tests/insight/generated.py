"""A run store filled with generated runs whose figures are known in advance (a real SQLite file,
created by the real ``RunStore``; rows written with ``sqlite3`` as the journal writes them).

Day T0 (UTC midnight), bot ``invoices``: 20 runs, run i (1..20) starts at T0 + i h and lasts i s.
Runs 1-16 succeed with the output ``rows`` (a list of 3 items); 17 and 18 fail with a timeout,
19 with bad input, 20 crashed. Each run has 5 ``http.request`` steps: over the 20 runs their
durations are 1..100 ms, and every tenth (10, 20, ... 100 ms) failed; and one
``core.set_variable`` step of 0.5 s, plus rows that are not finished steps (running, suspended)
and must not count. Run 2 waited 1 s for a signal, run 3 needed attention: 2 interventions.
The bot's settings: ``roi.manual_minutes`` 6 and ``items_output`` "rows";
``alerts.failure_rate`` 0.25.

Day T0 + 1, bot ``claims``: 10 runs, each routes one item with ``review.route``: 7 straight
through, 3 to review. Two of the tasks were completed by a person after 60 s and 120 s, one is
open in queue ``finance`` (created at T0 + 1 d + 10 min).

One failed ``invoices`` run five days before T0 lies outside every period the tests ask for.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from botloom.runner.store import RunStore

T0 = 1_699_920_000.0  # 2023-11-14 00:00 UTC
NOW = T0 + 3 * 86400
INVOICE_SETTINGS = {"roi": {"manual_minutes": 6, "items_output": "rows"}, "alerts": {"failure_rate": 0.25}}


def _snapshot(name: str, settings: dict | None = None) -> str:
    doc = {"format": 1, "name": name, "nodes": {"start": {"type": "core.start"}}, "edges": []}
    if settings:
        doc["settings"] = settings
    return json.dumps(doc)


def _run(conn, run_id, bot, state, started, ended, *, outputs=None, error=None, snapshot=""):
    conn.execute("INSERT INTO runs (id, bot_name, bot_hash, bot_snapshot, state, \"trigger\", outputs, error, "
                 "started_at, ended_at, steps) VALUES (?,?,?,?,?,?,?,?,?,?,0)",
                 (run_id, bot, "h", snapshot, state, "cli", json.dumps(outputs) if outputs is not None else None,
                  json.dumps(error) if error is not None else None, started, ended))
    conn.execute("INSERT INTO state_changes (run_id, at, state, detail) VALUES (?,?,?,?)",
                 (run_id, started, "created", "cli"))


def _step(conn, run_id, seq, node_type, state, started, duration, *, port="out", node="n"):
    conn.execute("INSERT INTO node_runs (run_id, seq, attempt, node_id, node_type, flow, state, port, started_at, "
                 "duration) VALUES (?,?,?,?,?,?,?,?,?,?)",
                 (run_id, seq, 1, f"{node}{seq}", node_type, "main", state, port, started, duration))


def fill(path: Path) -> Path:
    RunStore(path).close()  # the real schema, at the current version
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    snap = _snapshot("invoices", INVOICE_SETTINGS)
    errors = {17: {"kind": "timeout", "message": "the portal did not answer"},
              18: {"kind": "timeout", "message": "the portal did not answer"},
              19: {"kind": "bad_input", "message": "no invoice number"},
              20: {"kind": "crashed", "message": "its process died"}}
    k = 0
    for i in range(1, 21):
        run_id, started = f"inv-{i:02d}", T0 + i * 3600
        state = "succeeded" if i <= 16 else "crashed" if i == 20 else "failed"
        _run(conn, run_id, "invoices", state, started, started + i, snapshot=snap, error=errors.get(i),
             outputs={"rows": ["a", "b", "c"]} if state == "succeeded" else None)
        for seq in range(1, 6):
            k += 1
            _step(conn, run_id, seq, "http.request", "failed" if k % 10 == 0 else "succeeded", started, k / 1000)
        _step(conn, run_id, 6, "core.set_variable", "succeeded", started, 0.5)
        _step(conn, run_id, 7, "core.set_variable", "running", started, None)
        _step(conn, run_id, 8, "core.wait_signal", "suspended", started, 9.0)
    conn.execute("INSERT INTO waits (run_id, seq, node_id, signal, started_at, answered_at, answered_by) "
                 "VALUES ('inv-02', 8, 'n8', 'approval', ?, ?, 'ana')", (T0 + 7200.5, T0 + 7201.5))
    conn.execute("INSERT INTO state_changes (run_id, at, state, detail) VALUES ('inv-03', ?, 'needs_attention', '')",
                 (T0 + 10801,))
    _run(conn, "inv-old", "invoices", "failed", T0 - 5 * 86400, T0 - 5 * 86400 + 99, snapshot=snap,
         error={"kind": "timeout", "message": "the portal did not answer"})
    for i in range(1, 11):
        run_id, started = f"clm-{i:02d}", T0 + 86400 + i * 60
        _run(conn, run_id, "claims", "succeeded", started, started + 2, snapshot=_snapshot("claims"))
        _step(conn, run_id, 1, "review.route", "succeeded", started, 0.01, port="straight" if i <= 7 else "review")
    for i, (state, by, completed) in enumerate([("completed", "ana", 60.0), ("completed", "ana", 120.0),
                                                 ("open", None, None)], start=8):
        created = T0 + 86400 + 600
        conn.execute('INSERT INTO tasks (id, run_id, seq, node, bot, queue, state, form, "by", created_at, '
                     "completed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                     (f"task-{i}", f"clm-{i:02d}", 2, "review", "claims", "finance", state, "{}", by, created,
                      created + completed if completed is not None else None))
    conn.execute("COMMIT")
    conn.close()
    return path
