"""The ``botloom`` commands that look back at runs: ``runs`` (the history), ``runs prune``
(retention: drop the step values of old runs, keep their history), ``show`` (one run: its steps,
waits and their answers, states) and ``logs`` (a run's log file). ``cli.py`` declares them."""

from __future__ import annotations

import json
import sys
import time

from .cli import EXIT_OK, _print_json
from .errors import BotloomError, InputError
from .states import RunState


def _fmt_time(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "-"


def _detect_crashed(store) -> None:
    """Mark runs whose process is gone as crashed. On a full disk or a read-only data folder
    that cannot be recorded; the history is then shown as it stands (reading needs no writes)."""
    from .paths import storage_error

    try:
        store.detect_crashed()
    except Exception as exc:
        if storage_error(exc, store.path.parent) is None:
            raise


def cmd_runs(args) -> int:
    from .store import RunStore

    if getattr(args, "action", "list") == "prune":
        return cmd_prune(args)
    if getattr(args, "fleet", False):
        return _fleet_runs(args)
    store = RunStore()
    try:
        _detect_crashed(store)
        runs = store.list_runs(bot=args.bot, state=args.state, limit=args.limit)
    finally:
        store.close()
    if args.json:
        _print_json([{"id": r.id, "bot": r.bot_name, "state": r.state, "started_at": r.started_at,
                      "ended_at": r.ended_at, "steps": r.steps, "trigger": r.trigger} for r in runs])
        return EXIT_OK
    if not runs:
        print("no runs" + (" match" if args.bot or args.state else " yet"))
        return EXIT_OK
    print(f"{'RUN':<26} {'BOT':<24} {'STATE':<16} {'STARTED':<19} {'TIME':>9} {'STEPS':>6}")
    for r in runs:
        took = f"{r.ended_at - r.started_at:.2f}s" if r.ended_at else "-"
        print(f"{r.id:<26} {r.bot_name[:24]:<24} {r.state:<16} {_fmt_time(r.started_at):<19} {took:>9} {r.steps:>6}")
    return EXIT_OK


def _fleet_runs(args) -> int:
    """The runs of every runner of the fleet, through this data folder's service (in fleet mode)."""
    from .errors import BotloomError
    from .runtime import Runner
    from .server.client import Client

    client = Client.find(Runner().home)
    if client is None:
        raise BotloomError("no service runs on this data folder, so the fleet cannot be asked",
                           fix="start it with `botloom runner serve --fleet HOST:PORT`, or use `botloom fleet runs`")
    runs = client.call("GET", f"/fleet/runs?limit={max(1, args.limit)}")
    if args.json:
        _print_json(runs)
        return EXIT_OK
    print(f"{'RUN':<26} {'BOT':<24} {'STATUS':<16} {'STARTED':<19} QUEUE")
    for r in runs:
        started = _fmt_time(r["started_at"]) if r.get("started_at") else "-"
        print(f"{r['id']:<26} {(r.get('bot') or '')[:24]:<24} {(r.get('status') or '')[:16]:<16} {started:<19} "
              f"{r.get('queue') or ''}")
    return EXIT_OK


def cmd_show(args) -> int:
    from .store import RunStore

    store = RunStore()
    try:
        _detect_crashed(store)
        run_id = store.resolve(args.run)
        row = store.run_row(run_id)
        steps = store.node_runs(run_id)
        waits = store.waits(run_id)
        history = store.history(run_id)
        artifacts = store.artifacts(run_id)
    finally:
        store.close()
    row.pop("bot_snapshot", None)
    if args.json:
        _print_json({"run": row, "steps": [s.model_dump() for s in steps], "waits": waits,
                     "history": [h.model_dump() for h in history], "artifacts": [a.model_dump() for a in artifacts]})
        return EXIT_OK
    print(f"run      {row['id']}\nbot      {row['bot_name']}  ({row['bot_path']})\nstate    {row['state']}")
    print(f"started  {_fmt_time(row['started_at'])}\nended    {_fmt_time(row['ended_at'])}\nsteps    {row['steps']}")
    for key in ("inputs", "outputs"):
        if row[key]:
            print(f"{key:<8} {json.dumps(row[key], ensure_ascii=False)}")
    if row["error"]:
        print(f"error    {row['error'].get('where', '')}: {row['error'].get('message')}")
    if row["attention"]:
        print(f"attention step {row['attention'].get('seq')}: {row['attention'].get('reason')}")
    if row["wake"]:
        print(f"waiting  {row['wake'].get('reason')}")
    if row.get("pruned_at"):
        print(f"pruned   {_fmt_time(row['pruned_at'])}: the values of its steps were dropped, its history is kept")
    print("\nsteps:")
    for s in steps[-200:]:
        err = json.loads(s.error)["message"] if s.error else ""
        dur = f"{s.duration * 1000:.1f} ms" if s.duration is not None else "-"
        attempt = f" (attempt {s.attempt})" if s.attempt > 1 else ""
        print(f"  {s.seq:>5} {s.node_id:<20} {s.node_type:<20} {s.state:<10} {dur:>10}{attempt} {err}")
    if len(steps) > 200:
        print(f"  ... {len(steps) - 200} earlier steps not shown (use --json)")
    if waits:
        print("\nwaits:")
        for w in waits:
            print(f"  step {w['seq']:<5} {w['node_id']:<20} {w['reason'] or ''}  (since {_fmt_time(w['started_at'])})")
            if w["answered_at"] is None:
                print("             not answered yet")
            else:
                print(f"             answered {_fmt_time(w['answered_at'])} by {w['answered_by'] or 'unknown'}: "
                      f"{_answer_text(w['answer'])}")
    print("\nhistory:")
    for h in history:
        print(f"  {_fmt_time(h.at)}  {h.state:<16} {h.detail or ''}")
    if artifacts:
        print("\nartifacts:")
        for a in artifacts:
            print(f"  {a.name:<30} {a.kind:<10} {a.path}")
    return EXIT_OK


def _answer_text(answer) -> str:
    """A wait's answer for people: a signal's name and data, or the data as given."""
    from .codec import to_json

    if answer is None:
        return "(no data)"
    if isinstance(answer, dict) and set(answer) <= {"signal", "data"} and "signal" in answer:
        data = answer.get("data")
        return f"signal '{answer['signal']}'" + (f" with {to_json(data)}" if data else "")
    return to_json(answer)


def parse_age(text: str) -> float:
    """Days in ``30d``, ``12h``, ``2w`` or a plain number of days."""
    units = {"d": 1.0, "h": 1 / 24, "w": 7.0}
    value = text.strip().lower()
    factor = units.get(value[-1:], None)
    number = value[:-1] if factor is not None else value
    try:
        days = float(number) * (factor or 1.0)
    except ValueError:
        days = -1.0
    if not days >= 0:
        raise InputError(f"--older-than {text!r} is not an age", fix="give a number of days, hours or weeks: 30d, 12h, 2w")
    return days


def cmd_prune(args) -> int:
    from .store import RunStore

    if not args.payloads:
        raise InputError("`botloom runs prune` needs --payloads (the step values are what it drops)",
                         fix="botloom runs prune --payloads --older-than 30d")
    if not args.older_than:
        raise InputError("`botloom runs prune --payloads` needs --older-than AGE", fix="e.g. --older-than 30d")
    days = parse_age(args.older_than)
    store = RunStore()
    try:
        pruned = store.prune_payloads(days)
        if args.vacuum:
            store.conn.execute("VACUUM")
    finally:
        store.close()
    if args.json:
        _print_json({"pruned": pruned})
    else:
        print(f"dropped the step values of {len(pruned)} run(s) that finished over {args.older_than} ago; "
              "their steps, states, errors, timings and waits are kept" +
              ("" if args.vacuum or not pruned else " (the space is reused; --vacuum also shrinks the file)"))
    return EXIT_OK


def cmd_logs(args) -> int:
    from .logs import FLUSH_SECONDS, log_paths
    from .store import RunStore

    store = RunStore()
    try:
        run_id = store.resolve(args.run)
    finally:
        store.close()
    jsonl, text = log_paths(run_id)
    path = jsonl if args.json else text
    while args.follow and not path.exists() and not _run_over(run_id):
        time.sleep(0.05)  # the run has just started: its log file is on its way
    if not path.exists():
        raise BotloomError(f"the log of run {run_id} is gone", fix="logs are pruned by `botloom config logs.retention_days`")
    with open(path, encoding="utf-8") as f:
        quiet_since = None  # the run is over: when the file last grew
        while True:
            line = f.readline()
            if line:
                sys.stdout.write(line)
                quiet_since = None if quiet_since is None else time.monotonic()
                continue
            if not args.follow:
                break
            if quiet_since is None and _run_over(run_id):
                quiet_since = time.monotonic()
            # the store may say the run is over a moment before its last log lines are flushed
            # (at most FLUSH_SECONDS apart): stop once the file has been still for longer than that
            if quiet_since is not None and time.monotonic() - quiet_since > 2 * FLUSH_SECONDS:
                break
            sys.stdout.flush()
            time.sleep(0.1 if quiet_since is not None else 0.2)
    return EXIT_OK


def _run_over(run_id: str) -> bool:
    from .store import RunStore

    store = RunStore()
    try:
        _detect_crashed(store)
        return store.run_row(run_id)["state"] != RunState.RUNNING
    finally:
        store.close()
