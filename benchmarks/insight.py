"""Operations insight benchmarks: `botloom stats` over a large run store, and what tracing costs a step.

    .venv/bin/python benchmarks/insight.py                 # 1,000,000 step records (about a minute)
    .venv/bin/python benchmarks/insight.py --quick         # 20,000 step records (a few seconds)
    .venv/bin/python benchmarks/insight.py --json out.json
    .venv/bin/python benchmarks/insight.py --screenshots docs/screenshots

(a) A store of generated runs (four bots over 30 days, 50 steps a run; failures, waits for a
    person, review routing and tasks), written with the store's real schema: its size on disk.
(b) `botloom stats --json` over it, the whole command as a user runs it (a new process), and the
    figures alone (`insight.figures.compute` in this process); the peer is the same percentiles
    computed in Python (every duration fetched, sorted per group).
(c) The cost the figures add to a run's journal per step: nothing is written for them (they are
    read from the journal as it is), so the journal's cost is unchanged; what an opt-in
    OpenTelemetry listener costs a step is measured here (engine per-step time with the tracing
    listener and an in-memory exporter, minus without).

`--screenshots DIR` writes `insight-report.png` (the HTML report rendered by headless Chromium)
and `insight-dashboard.png` (the designer's dashboard, offscreen) from a smaller generated store.
Prints the figures and a "targets" block; exits 0 whether or not targets are met.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import arguments, print_targets, write_json

BOTS = {  # name: (node types with median step seconds, failure share, review share, manual minutes)
    "invoice-intake": ([("files.read_text", 0.004), ("ocr.read_pdf", 0.9), ("ai.classify_text", 0.03),
                        ("review.route", 0.002), ("http.request", 0.25)], 0.04, 0.18, 6),
    "crm-sync": ([("http.request", 0.18), ("data.filter", 0.001), ("core.set_variable", 0.0002),
                  ("browser.fill_form", 1.4)], 0.08, 0.0, 4),
    "report-mailer": ([("files.read_csv", 0.02), ("data.aggregate", 0.004), ("core.log", 0.0002),
                       ("http.request", 0.3)], 0.02, 0.0, 15),
    "desktop-entry": ([("desktop.click", 0.12), ("desktop.type_text", 0.35), ("desktop.find_image", 0.6),
                       ("core.delay", 0.5)], 0.12, 0.05, 3),
}
REASONS = {"invoice-intake": [("timeout", "the OCR engine did not answer within 60 s"),
                              ("bad_input", "the PDF has no text layer and no page image")],
           "crm-sync": [("http", "the CRM answered 503 Service Unavailable"),
                        ("timeout", "the login page did not load")],
           "report-mailer": [("http", "the mail relay refused the message")],
           "desktop-entry": [("not_found", "the Save button was not found on screen (best match 0.61)"),
                             ("timeout", "the window 'Ledger' did not appear")]}


def generate(path: Path, *, runs: int, steps_per_run: int = 50, days: int = 30, seed: int = 7,
             now: float | None = None) -> dict:
    """Fill a new store at ``path``; returns what was written."""
    from botloom.runner.store import RunStore

    RunStore(path).close()
    rnd = random.Random(seed)
    now = time.time() if now is None else now
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    names = list(BOTS)
    snapshots = {n: json.dumps({"format": 1, "name": n, "settings": {"roi": {"manual_minutes": BOTS[n][3]}},
                                "nodes": {}, "edges": []}) for n in names}
    run_rows, step_rows, change_rows, wait_rows, task_rows = [], [], [], [], []
    steps = 0
    for i in range(runs):
        bot = names[i % len(names)] if i % 7 else rnd.choice(names)
        types, fail, review, _ = BOTS[bot]
        day = rnd.random() ** 0.8 * days  # more runs lately
        started = now - day * 86400
        t = started
        failed = rnd.random() < fail * (1.6 if day < 3 else 1.0)
        n = steps_per_run if not failed else rnd.randint(1, steps_per_run)
        for seq in range(1, n + 1):
            node_type, median = types[seq % len(types)]
            duration = median * rnd.lognormvariate(0, 0.5)
            state = "failed" if failed and seq == n else "succeeded"
            port = ("review" if rnd.random() < review else "straight") if node_type == "review.route" else "out"
            step_rows.append((f"r{i:07d}", seq, 1, f"n{seq}", node_type, "main", state, port, t, duration))
            t += duration
        steps += n
        run_id = f"r{i:07d}"
        error = json.dumps(dict(zip(("kind", "message"), rnd.choice(REASONS[bot])))) if failed else None
        if rnd.random() < review:
            wait = 30 + rnd.random() * 600
            wait_rows.append((run_id, n, "review", "review", t, t + wait, "ana"))
            task_rows.append((f"t{i:07d}", run_id, n, "review", bot, "finance" if i % 2 else "claims",
                              "completed" if day > 0.2 else "open", "{}", "ana", t, t + wait if day > 0.2 else None))
            t += wait
        run_rows.append((run_id, bot, "h", snapshots[bot], "failed" if failed else "succeeded", "schedule:daily",
                         error, started, t, n))
        change_rows.append((run_id, started, "created", "schedule"))
    conn.executemany('INSERT INTO runs (id, bot_name, bot_hash, bot_snapshot, state, "trigger", error, started_at, '
                     "ended_at, steps) VALUES (?,?,?,?,?,?,?,?,?,?)", run_rows)
    conn.executemany("INSERT INTO node_runs (run_id, seq, attempt, node_id, node_type, flow, state, port, "
                     "started_at, duration) VALUES (?,?,?,?,?,?,?,?,?,?)", step_rows)
    conn.executemany("INSERT INTO state_changes (run_id, at, state, detail) VALUES (?,?,?,?)", change_rows)
    conn.executemany("INSERT INTO waits (run_id, seq, node_id, signal, started_at, answered_at, answered_by) "
                     "VALUES (?,?,?,?,?,?,?)", wait_rows)
    conn.executemany('INSERT INTO tasks (id, run_id, seq, node, bot, queue, state, form, "by", created_at, '
                     "completed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)", task_rows)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {"runs": runs, "steps": steps}


def python_peer(path: Path) -> float:
    """The same per (bot, node type) percentiles, in Python over every fetched duration."""
    t0 = time.perf_counter()
    conn = sqlite3.connect(path)
    groups: dict = {}
    for bot, node_type, v in conn.execute("SELECT r.bot_name, n.node_type, n.duration FROM node_runs n "
                                          "JOIN runs r ON r.id = n.run_id WHERE n.duration IS NOT NULL"):
        groups.setdefault((bot, node_type), []).append(v)
    for values in groups.values():
        values.sort()
        [values[max(0, -(-p * len(values) // 100) - 1)] for p in (50, 95, 99)]
    conn.close()
    return time.perf_counter() - t0


def tracing_cost(steps: int) -> dict:
    """Engine seconds per step without and with the tracing listener (in-memory exporter)."""
    from botloom.runner import botfile
    from botloom.runner.engine import Engine
    from botloom.runner.insight.tracing import TracingListener
    from botloom.runner.sdk.registry import Registry
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
        InMemorySpanExporter,
    )

    doc = botfile.loads(json.dumps({"format": 1, "name": "steps", "nodes": {
        "start": {"type": "core.start"}, "loop": {"type": "core.for_each", "params": {"items": list(range(steps))}},
        "set": {"type": "core.set_variable", "params": {"name": "x", "value": "{{ item }}"}}},
        "edges": [{"from": "start.out", "to": "loop.in"}, {"from": "loop.body", "to": "set.in"}]}))
    reg = Registry.discover(lazy=True)

    def once(listeners) -> float:
        t0 = time.perf_counter()
        Engine(doc, reg, listeners=listeners).run({})
        return (time.perf_counter() - t0) / steps

    once([])
    plain = min(once([]) for _ in range(3))
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(InMemorySpanExporter()))  # as provider_for does
    traced = min(once([TracingListener(provider)]) for _ in range(3))
    return {"step_us": plain * 1e6, "traced_step_us": traced * 1e6, "tracing_us_per_step": (traced - plain) * 1e6}


def screenshots(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="botloom-insight-shots-"))
    home = work / "home"
    home.mkdir()
    now = time.time()
    generate(home / "runs.sqlite", runs=1400, steps_per_run=12, days=14, now=now)
    (home / "settings.json").write_text(json.dumps({"roi.hourly_cost": 42.0, "roi.robot_cost_per_hour": 3.5,
                                                    "roi.review_cost": 1.8, "alerts.failure_rate": 0.1,
                                                    "alerts.review_backlog": 5}), encoding="utf-8")
    env = dict(os.environ, BOTLOOM_HOME=str(home))
    report = work / "report.html"
    subprocess.run([sys.executable, "-m", "botloom.runner.cli", "report", "--since", "14d", "-o", str(report)],
                   env=env, check=True, capture_output=True)
    shot = out / "insight-report.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1300,4060", f"--screenshot={shot}", report.as_uri()], check=True,
                   capture_output=True, timeout=120)
    code = ("import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]);"
            "from botloom.app.dashboard import Dashboard; d = Dashboard(); d.period.setCurrentIndex(1);"
            "d.resize(1280, 860); d.show(); d.refresh(); app.processEvents(); d.grab().save(sys.argv[1])")
    dash = out / "insight-dashboard.png"
    subprocess.run([sys.executable, "-c", code, str(dash)], env=dict(env, QT_QPA_PLATFORM="offscreen"), check=True,
                   capture_output=True)
    return [shot, dash]


def main() -> int:
    ap = arguments(__doc__)
    ap.add_argument("--screenshots", metavar="DIR", help="write the report and dashboard screenshots there")
    args = ap.parse_args()
    if args.screenshots:
        for path in screenshots(Path(args.screenshots)):
            print(f"wrote {path}")
        return 0
    runs = 400 if args.quick else 21_000  # failed runs stop early: about 1,020,000 step records
    work = Path(tempfile.mkdtemp(prefix="botloom-insight-bench-"))
    home = work / "home"
    home.mkdir()
    t0 = time.perf_counter()
    made = generate(home / "runs.sqlite", runs=runs)
    gen = time.perf_counter() - t0
    size = sum(f.stat().st_size for f in home.glob("runs.sqlite*"))
    env = dict(os.environ, BOTLOOM_HOME=str(home))
    cmd = [sys.executable, "-m", "botloom.runner.cli", "stats", "--since", "90d", "--json"]
    subprocess.run(cmd, env=env, check=True, capture_output=True)  # warm the page cache once
    walls = []
    for _ in range(1 if args.quick else 3):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        walls.append(time.perf_counter() - t0)
    from botloom.runner.insight.figures import Period, compute

    conn = sqlite3.connect(home / "runs.sqlite")
    t0 = time.perf_counter()
    compute(conn, Period(since=time.time() - 90 * 86400), home=home, with_models=False)
    figures_s = time.perf_counter() - t0
    conn.close()
    peer = python_peer(home / "runs.sqlite")
    trace = tracing_cost(500 if args.quick else 5000)
    figures = {"runs": made["runs"], "step_records": made["steps"], "generate_s": gen, "store_mb": size / 2**20,
               "store_bytes_per_step": size / made["steps"], "stats_cli_s": min(walls), "figures_s": figures_s,
               "python_peer_s": peer, "journal_us_per_step_added": 0.0, **trace}
    print(f"store: {made['runs']:,} runs, {made['steps']:,} step records, {figures['store_mb']:.1f} MB on disk "
          f"({figures['store_bytes_per_step']:.0f} bytes a step); generated in {gen:.1f} s")
    print(f"botloom stats --json (a new process): {figures['stats_cli_s']:.2f} s")
    print(f"figures alone (in this process): {figures_s:.2f} s; Python peer, step percentiles only: {peer:.2f} s "
          f"(ratio {figures_s / peer:.2f})")
    print("journal: nothing added per step (the figures read the journal as it is)")
    print(f"engine step {trace['step_us']:.1f} us; with the tracing listener {trace['traced_step_us']:.1f} us "
          f"(+{trace['tracing_us_per_step']:.1f} us a step, only when an exporter is configured)")
    if not args.quick:
        print_targets([(f"botloom stats over {made['steps']:,} step records <= 2 s", figures["stats_cli_s"] <= 2.0),
                       ("the figures add <= 2 us a step to the journal", figures["journal_us_per_step_added"] <= 2.0)])
    write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
