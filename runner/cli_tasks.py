"""``botloom tasks list | show | complete | assign | figures``: the human tasks of review nodes.

Reading goes to the run store directly. Completing checks the answer against the task's form and
marks it completed in one transaction, then resumes the run: through the service when one runs
on the data folder (``POST /tasks/ID/complete``), else in this process, which then runs the bot
on from the review to its next wait or its end (and exits with the run's code: 0 succeeded,
1 failed, 3 waiting again). A value typed on the command line (``--set total=12.50``) is
converted to its field's type; an answer that does not fit is refused and the task stays open.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path

from .errors import InputError

LIST_COLUMNS = ("id", "bot", "title", "queue", "assignee", "age", "deadline", "state")


def register(sub) -> None:
    t = sub.add_parser("tasks", help="human review tasks: list, show, complete, assign, figures")
    ts = t.add_subparsers(metavar="ACTION", dest="tasks_action")
    ls = ts.add_parser("list", help="the open tasks (filters: bot, queue, assignee, age, deadline)")
    ls.add_argument("--bot")
    ls.add_argument("--queue")
    ls.add_argument("--assignee", "--for", dest="assignee")
    ls.add_argument("--state", choices=("open", "completed", "expired"), default="open")
    ls.add_argument("--all", action="store_true", help="tasks in every state")
    ls.add_argument("--older-than", metavar="DURATION", help="created at least this long ago (30m, 2h, 1d)")
    ls.add_argument("--due-within", metavar="DURATION", help="a deadline within this time, or past")
    ls.add_argument("--limit", type=int, default=200)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)
    sh = ts.add_parser("show", help="a task's form: fields with values, confidences and boxes, outcomes, answer")
    sh.add_argument("task", help="the task's id (a few of its last characters are enough)")
    sh.add_argument("--json", action="store_true")
    sh.set_defaults(func=cmd_show)
    co = ts.add_parser("complete", help="answer a task (checked against its form) and resume its run")
    co.add_argument("task")
    co.add_argument("outcome", help="one of the task's outcomes, e.g. approve")
    co.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                    help="a corrected value (repeatable); the others stay as extracted")
    co.add_argument("--values", metavar="FILE", help="corrected values from a JSON object file (--set wins)")
    co.add_argument("--by", help="who answers, as the run's history records it (default: your user name)")
    co.add_argument("--no-resume", action="store_true", help="only record the answer; the due job resumes the run")
    co.add_argument("--json", action="store_true")
    co.add_argument("--events", choices=["jsonl"], help=argparse_hidden())
    co.set_defaults(func=cmd_complete)
    asg = ts.add_parser("assign", help="give an open task to a person or a queue")
    asg.add_argument("task")
    asg.add_argument("--to", dest="assignee", help="the person ('' clears it)")
    asg.add_argument("--queue", help="the queue ('' clears it)")
    asg.set_defaults(func=cmd_assign)
    fg = ts.add_parser("figures", help="straight-through rate, intervention rate and review turnaround per bot")
    fg.add_argument("--bot")
    fg.add_argument("--since", metavar="DURATION", help="only runs started within this time (7d, 24h)")
    fg.add_argument("--json", action="store_true")
    fg.set_defaults(func=cmd_figures)
    t.set_defaults(func=lambda args: (t.print_help(), 0)[1])


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS


def _runner():
    from .runtime import Runner

    return Runner()


def _duration(text: str | None, option: str) -> float | None:
    if text is None:
        return None
    from .server.schedules import parse_duration

    try:
        return parse_duration(text)
    except Exception as exc:
        raise InputError(f"{option}: {getattr(exc, 'message', exc)}", fix="write e.g. 30m, 2h or 1d") from None


def _when(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M") if epoch else "-"


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def _short(value, width: int = 40) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def cmd_list(args) -> int:
    from .cli import _print_json
    from .store import tasks

    runner = _runner()
    store = runner.store()
    try:
        found = tasks.find(store.conn, state=None if args.all else args.state, bot=args.bot, queue=args.queue,
                           assignee=args.assignee, older_than=_duration(args.older_than, "--older-than"),
                           due_within=_duration(args.due_within, "--due-within"), limit=args.limit)
    finally:
        store.close()
    if args.json:
        _print_json([{k: v for k, v in t.items() if k != "form"} | {"title": t["form"].get("title")} for t in found])
        return 0
    if not found:
        print("no tasks" if args.all else f"no {args.state} tasks", file=sys.stderr)
        return 0
    now = time.time()
    rows = [(t["id"], t["bot"], _short(t["form"].get("title"), 36), t["queue"] or "-", t["assignee"] or "-",
             _age(now - t["created_at"]), _when(t["deadline"]), t["state"]) for t in found]
    widths = [max(len(str(r[i])) for r in [LIST_COLUMNS, *rows]) for i in range(len(LIST_COLUMNS))]
    for row in [LIST_COLUMNS, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())
    return 0


def _task(store, ref: str) -> dict:
    from .store import tasks

    return tasks.get(store.conn, tasks.resolve(store.conn, ref))


def cmd_show(args) -> int:
    from .cli import _print_json

    runner = _runner()
    store = runner.store()
    try:
        task = _task(store, args.task)
    finally:
        store.close()
    if args.json:
        _print_json(task)
        return 0
    form = task["form"]
    print(f"task {task['id']}: {form.get('title')}")
    print(f"  bot {task['bot']}, run {task['run_id']}, node {task['node']} (step {task['seq']})")
    print(f"  {task['state']}; for {task['assignee'] or '-'}, queue {task['queue'] or '-'}; created "
          f"{_when(task['created_at'])}, deadline {_when(task['deadline'])}"
          + (f" ({form.get('on_deadline')})" if task["deadline"] else ""))
    if form.get("instructions"):
        print("  " + form["instructions"].replace("\n", "\n  "))
    print("  fields:")
    for f in form.get("fields") or []:
        conf = "" if f.get("confidence") is None else f"  confidence {f['confidence']:.2f}"
        where = f"  page {f['page']} box {f['box']}" if f.get("box") else ""
        need = " (required)" if f.get("required") else ""
        print(f"    {f['name']} [{f['type']}]{need} = {_short(f.get('value'), 60)}{conf}{where}")
    print(f"  outcomes: {', '.join(form.get('outcomes') or [])}")
    for page in form.get("pages") or []:
        print(f"  page {page['page']}: {page['image']}")
    if task["state"] == "completed":
        print(f"  answer: {task['outcome']} by {task['by'] or '-'} at {_when(task['completed_at'])}")
        for name, value in (task["values"] or {}).items():
            print(f"    {name} = {_short(value, 60)}")
    else:
        print(f"  complete it with: botloom tasks complete {task['id']} OUTCOME [--set FIELD=VALUE]")
    return 0


def _answer_values(args) -> dict:
    from .cli import _pairs

    values = {}
    if args.values:
        try:
            values = json.loads(Path(args.values).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read the values file {args.values}: {exc}",
                             fix="give a JSON object of field names and values") from None
        if not isinstance(values, dict):
            raise InputError(f"the values file {args.values} holds {type(values).__name__}, not an object",
                             fix='write e.g. {"total": "12.50"}')
    values.update(_pairs(args.set, "set"))
    return values


def cmd_complete(args) -> int:
    from .cli import EXIT_FAILED, STATE_EXIT, _by, _listeners, _print_json, _print_outcome
    from .server.client import Client
    from .errors import BotloomError
    from .tasks import complete_task, deliver

    runner = _runner()
    values, by = _answer_values(args), _by(args)
    client = None if args.no_resume else Client.find(runner.home)
    if client is not None:  # the service completes it and resumes the run through its dispatcher
        store = runner.store()
        try:
            task_id = _task(store, args.task)["id"]
        finally:
            store.close()
        done = client.call("POST", f"/tasks/{task_id}/complete", {"outcome": args.outcome, "values": values, "by": by})
        _print_json(done) if args.json else print(f"task {task_id} completed ({args.outcome}); the service resumes "
                                                  f"run {done.get('run_id')}", file=sys.stderr)
        return 0
    task, _ = complete_task(runner, args.task, args.outcome, values, by=by, resume=False)
    result = None
    if not args.no_resume:
        try:
            result = deliver(runner, task, listeners=_listeners(args))
        except BotloomError as exc:  # the answer is recorded all the same
            print(f"task {task['id']} completed ({task['outcome']}), but its run could not be resumed now: {exc}",
                  file=sys.stderr)
    if result is None:
        print(f"task {task['id']} completed ({task['outcome']}); run {task['run_id']} resumes with the next "
              "`botloom resume --due` (or the service's due job)", file=sys.stderr)
        return 0
    if args.json:
        _print_json({"task": {k: v for k, v in task.items() if k != "form"},
                     "run": {"run_id": result.run_id, "state": result.state, "outputs": result.outputs,
                             "error": result.error, "wake": result.wake}})
    else:
        print(f"task {task['id']} completed ({task['outcome']} by {task['by'] or '-'})", file=sys.stderr)
        _print_outcome(result)
    return STATE_EXIT.get(result.state, EXIT_FAILED)


def cmd_assign(args) -> int:
    from .store import tasks

    runner = _runner()
    store = runner.store()
    try:
        task_id = tasks.resolve(store.conn, args.task)
        task = tasks.assign(store.conn, task_id, assignee=args.assignee, queue=args.queue)
    finally:
        store.close()
    print(f"task {task['id']}: for {task['assignee'] or '-'}, queue {task['queue'] or '-'}")
    return 0


def cmd_figures(args) -> int:
    from .cli import _print_json
    from .tasks import figures

    since = _duration(args.since, "--since")
    runner = _runner()
    store = runner.store()
    try:
        found = figures(store.conn, bot=args.bot, since=time.time() - since if since else None)
    finally:
        store.close()
    if args.json:
        _print_json(found)
        return 0
    if not found:
        print("no runs", file=sys.stderr)
    for bot, f in sorted(found.items()):
        rate = lambda r: "-" if r is None else f"{100 * r:.0f}%"  # noqa: E731
        turn = f["turnaround"]
        runs = f"{f['runs']} run" + ("" if f["runs"] == 1 else "s")
        print(f"{bot}: {runs}, {f['routed']} items routed; straight through {rate(f['straight_through_rate'])},"
              f" human intervention {rate(f['intervention_rate'])}; tasks {f['tasks']} ({f['open']} open, "
              f"{f['expired']} expired); turnaround median "
              f"{'-' if turn['median'] is None else _age(turn['median'])}, p90 "
              f"{'-' if turn['p90'] is None else _age(turn['p90'])}")
    return 0
