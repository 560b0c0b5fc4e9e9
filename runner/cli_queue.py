"""``botloom queue list | show | add | retry``: the work queues of the data folder's run store.

``list`` without a queue gives the count of items per queue and status; with one, its items
(``--status`` filters; ``--abandon-after`` first marks abandoned the items held longer).
``add`` refuses a reference already in the queue, naming the item that has it; ``retry``
works a failed or abandoned item again, with a fresh count of retries.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime

from .errors import InputError

STATUSES = ("new", "in_progress", "succeeded", "failed_business", "failed_system", "abandoned")


def register(sub) -> None:
    q = sub.add_parser("queue", help="work queues: list, show, add, retry items")
    qs = q.add_subparsers(metavar="ACTION", dest="queue_action")
    ls = qs.add_parser("list", help="items per queue and status, or a queue's items")
    ls.add_argument("queue", nargs="?")
    ls.add_argument("--status", choices=STATUSES)
    ls.add_argument("--abandon-after", type=float, metavar="SECONDS",
                    help="first mark abandoned the items in progress longer than this")
    ls.add_argument("--limit", type=int, default=200)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)
    sh = qs.add_parser("show", help="an item: payload, output, error and its history")
    sh.add_argument("item", help="the item's number, or its reference")
    sh.add_argument("--queue")
    sh.add_argument("--json", action="store_true")
    sh.set_defaults(func=cmd_show)
    ad = qs.add_parser("add", help="add an item (a reference already in the queue is refused)")
    ad.add_argument("queue")
    ad.add_argument("reference")
    ad.add_argument("--payload", default=None, help="the item's data as JSON")
    ad.add_argument("--priority", default="normal", help="low, normal, high or a number (higher first)")
    ad.add_argument("--max-retries", type=int, default=2)
    ad.add_argument("--json", action="store_true")
    ad.set_defaults(func=cmd_add)
    rt = qs.add_parser("retry", help="work a failed or abandoned item again")
    rt.add_argument("item")
    rt.add_argument("--queue")
    rt.set_defaults(func=cmd_retry)
    q.set_defaults(func=lambda args: (q.print_help(), 0)[1])


def _conn():
    from . import paths
    from .store.db import connect

    return connect(paths.store_path())


def _when(epoch) -> str:
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S") if epoch else "-"


def _json(data) -> None:
    from . import codec

    print(json.dumps(codec.encode(data), indent=2, ensure_ascii=False))


def cmd_list(args) -> int:
    from .store import queues

    conn = _conn()
    try:
        if args.abandon_after:
            queues.mark_abandoned(conn, args.queue, args.abandon_after)
        if not args.queue:
            counts = queues.counts(conn)
            if args.json:
                _json(counts)
            elif not counts:
                print("no queues (queue.add or `botloom queue add` makes one)", file=sys.stderr)
            for name, by_status in counts.items() if not args.json else ():
                print(f"{name:<24} " + "  ".join(f"{s} {n}" for s, n in sorted(by_status.items())))
            return 0
        found = queues.items(conn, args.queue, status=args.status, limit=args.limit)
    finally:
        conn.close()
    if args.json:
        _json(found)
        return 0
    if not found:
        print(f"no items in queue '{args.queue}'" + (f" {args.status}" if args.status else ""), file=sys.stderr)
    for i in found:
        print(f"{i['id']:>6}  {i['reference']:<24} {i['status']:<16} prio {i['priority']:<3} retries "
              f"{i['retries']}/{i['max_retries']}  {i['performer'] or '-'}  {_when(i['created_at'])}")
    return 0


def cmd_show(args) -> int:
    from .store import queues

    conn = _conn()
    try:
        item = queues.get(conn, queues.resolve(conn, args.item, args.queue))
        item["history"] = queues.history(conn, item["id"])
    finally:
        conn.close()
    if args.json:
        _json(item)
        return 0
    for key in ("id", "queue", "reference", "status", "priority", "retries", "max_retries", "performer", "error"):
        print(f"{key:<12} {item[key] if item[key] is not None else '-'}")
    print(f"{'deadline':<12} {_when(item['deadline'])}")
    for key in ("payload", "output"):
        from . import codec

        print(f"{key:<12} {json.dumps(codec.encode(item[key]), ensure_ascii=False)}")
    print("history:")
    for e in item["history"]:
        print(f"  {_when(e['at'])}  {e['status']:<16} {e['performer'] or '':<30} {e['detail'] or ''}")
    return 0


def cmd_add(args) -> int:
    from .store import queues

    payload = None
    if args.payload is not None:
        try:
            payload = json.loads(args.payload)
        except ValueError as exc:
            raise InputError(f"--payload is not JSON: {exc}", fix="quote it: --payload '{\"amount\": 12.5}'") from None
    conn = _conn()
    try:
        item = queues.add(conn, args.queue, args.reference, payload, priority=queues.priority_of(args.priority,
                                                                                                 "--priority"),
                          max_retries=args.max_retries, by="cli")
    finally:
        conn.close()
    if args.json:
        _json(item)
    else:
        print(f"added item {item['id']} '{item['reference']}' to queue '{item['queue']}'")
    return 0


def cmd_retry(args) -> int:
    import getpass

    from .store import queues

    conn = _conn()
    try:
        item = queues.retry(conn, queues.resolve(conn, args.item, args.queue), by=getpass.getuser())
    finally:
        conn.close()
    print(f"item {item['id']} '{item['reference']}' is new again in queue '{item['queue']}'")
    return 0
