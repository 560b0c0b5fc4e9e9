"""``botloom runner serve | status | stop | install-service`` and ``botloom schedule ...``.

Schedule commands talk to the running service of the data folder when there is one (so its
scheduler knows at once) and write the schedule table directly when there is none (the service
takes them up when it starts).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .errors import InputError


def register(sub) -> None:
    r = sub.add_parser("runner", help="the unattended runner service: serve, status, stop, install-service")
    rs = r.add_subparsers(metavar="ACTION", dest="runner_action")
    serve = rs.add_parser("serve", help="run the service in the foreground (schedules, triggers, the local API)")
    serve.add_argument("--port", type=int, help="port of the local API (default: setting service.port, 8765; 0 picks one)")
    serve.add_argument("--max-runs", type=int, help="most runs at once (default: setting service.max_runs, 4)")
    serve.add_argument("--fleet", metavar="HOST:PORT", help="fleet mode: be a runner of the fleet whose Temporal "
                                                           "server is HOST:PORT, and start runs through it (docs/fleet.md)")
    serve.add_argument("--namespace", default="default", help="with --fleet: the Temporal namespace")
    serve.add_argument("--labels", default="", help="with --fleet: this machine's capabilities, e.g. desktop,browser,ocr")
    from .fleet.cli import add_tls_arguments

    add_tls_arguments(serve.add_argument_group("fleet TLS (with --fleet)"))
    serve.set_defaults(func=cmd_serve)
    status = rs.add_parser("status", help="is a service running on this data folder, and what is it doing")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)
    stop = rs.add_parser("stop", help="stop the service gracefully (running runs finish or are saved)")
    stop.set_defaults(func=cmd_stop)
    inst = rs.add_parser("install-service", help="write a systemd unit that runs the service at boot")
    inst.add_argument("--system", action="store_true", help="a system unit (needs root) instead of a user unit")
    inst.add_argument("--print", dest="print_only", action="store_true", help="print the unit instead of writing it")
    inst.set_defaults(func=cmd_install_service)
    r.set_defaults(func=lambda args: _usage(r))

    s = sub.add_parser("schedule", help="schedules and triggers: add, list, pause, resume, remove")
    ss = s.add_subparsers(metavar="ACTION", dest="schedule_action")
    add = ss.add_parser("add", help="start a bot on a schedule, on file arrival or on a webhook")
    add.add_argument("bot", help="the bot file")
    when = add.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", metavar="EXPR", help="five cron fields, e.g. '0 7 * * MON-FRI'")
    when.add_argument("--every", metavar="DURATION", help="an interval: 30s, 15m, 2h, 1d")
    when.add_argument("--at", metavar="WHEN", help="once, at an ISO 8601 date and time")
    when.add_argument("--watch", metavar="DIR", help="a run for every file arriving in this folder")
    when.add_argument("--webhook", metavar="NAME", help="a run for every POST to /hooks/NAME of the local API")
    when.add_argument("--queue", metavar="NAME", help="a run when items wait in this work queue")
    when.add_argument("--mail", metavar="URL", help="a run for every new message in an IMAP folder: "
                                                    "imaps://USER@HOST[:PORT]/FOLDER (imap:// plain, "
                                                    "imap+starttls://)")
    add.add_argument("--mail-secret", metavar="NAME", help="for --mail: the secret holding the password")
    add.add_argument("--mail-move-to", metavar="FOLDER",
                     help="for --mail: move each message to this folder once its run started (default: mark it read)")
    add.add_argument("--timezone", metavar="ZONE", help="for --cron: an IANA time zone, e.g. Europe/Paris")
    add.add_argument("--name", help="a name for the schedule (default: BOT-KIND)")
    add.add_argument("-i", "--input", action="append", default=[], metavar="NAME=VALUE", help="an input for the bot")
    add.add_argument("--misfire", choices=["once", "skip", "catch_up"], default="once",
                     help="when fire times were missed: run once (default), skip them, or catch up on each")
    add.add_argument("--grace", metavar="DURATION", help="how late a run may still start (default: no limit; "
                                                         "30s for --misfire skip)")
    add.add_argument("--overlap", action="store_true", help="allow a run while the previous one is still going")
    add.add_argument("--json", action="store_true")
    add.set_defaults(func=cmd_schedule_add)
    ls = ss.add_parser("list", help="the schedules and their next fire times")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_schedule_list)
    for verb, helptext in (("pause", "stop firing a schedule until resumed"), ("resume", "fire a paused schedule again"),
                           ("remove", "delete a schedule")):
        p = ss.add_parser(verb, help=helptext)
        p.add_argument("schedule", help="its name or id")
        p.set_defaults(func=cmd_schedule_change, verb=verb)
    s.set_defaults(func=lambda args: _usage(s))


def _usage(parser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _runner():
    from .runtime import Runner

    return Runner()


# ---------------------------------------------------------------- runner
def cmd_serve(args) -> int:
    from .server.service import Service

    overrides = {}
    if args.port is not None:
        overrides["service.port"] = args.port
    if args.max_runs is not None:
        overrides["service.max_runs"] = args.max_runs
    if args.fleet:
        overrides.update({"service.fleet": args.fleet, "service.fleet_namespace": args.namespace,
                          "service.fleet_labels": args.labels})
    for option in ("tls", "tls_ca", "tls_cert", "tls_key", "tls_server_name"):
        if getattr(args, option, None):
            overrides[f"service.fleet_{option}"] = getattr(args, option)
    runner = _runner()
    _log_to(runner.paths.logs / "service.log")
    service = Service(runner, settings=overrides)
    service.start()
    print(f"botloom service on http://{service.settings['service.host']}:{service.port} for {service.runner.home} "
          f"(pid {__import__('os').getpid()}); Ctrl+C or SIGTERM stops it", file=sys.stderr, flush=True)
    service.serve_forever()
    print("botloom service stopped", file=sys.stderr)
    return 0


def _log_to(path: Path) -> None:
    """The service's own log: warnings and what it did, on stderr and in logs/service.log (0600)."""
    import logging

    from .paths import private_open

    stream = private_open(path, "a", encoding="utf-8")
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers = [logging.StreamHandler(sys.stderr), logging.StreamHandler(stream)]
    root = logging.getLogger()
    for handler in handlers:
        handler.setFormatter(fmt)
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(os.environ.get("BOTLOOM_SCHEDULER_LOG", "WARNING").upper())
    logging.getLogger("uvicorn").setLevel(logging.WARNING)


def cmd_status(args) -> int:
    from .cli import _print_json
    from .server.client import Client

    runner = _runner()
    client = Client.find(runner.home)
    if client is None:
        if args.json:
            _print_json({"running": False, "home": str(runner.home)})
        else:
            print(f"no service runs on {runner.home}", file=sys.stderr)
        return 1
    health = client.call("GET", "/health")
    schedules = client.call("GET", "/schedules")
    if args.json:
        _print_json({"running": True, **health, "schedules": [
            {k: s.get(k) for k in ("id", "name", "trigger", "paused", "next_fire")} for s in schedules]})
        return 0
    print(f"service running: pid {health['pid']}, port {client.state['port']}, up {health['uptime']:.0f} s, "
          f"{len(health['active'])} run(s) active, {len(health['queued'])} queued, {health['schedules']} schedule(s)")
    for run in health["active"]:
        print(f"  running  {run['run_id']}  {run['bot']}  ({run['trigger']})")
    for run in health["queued"]:
        print(f"  queued   {run['run_id']}  {run['bot']}  ({run['trigger']})")
    for sched in schedules:
        nxt = "paused" if sched["paused"] else f"next {sched.get('next_fire') or '-'}"
        print(f"  schedule {sched['name']}  {sched['trigger']}  {nxt}")
    return 0


def cmd_stop(args) -> int:
    import os
    import signal
    import time

    from .server.service import read_state

    runner = _runner()
    state = read_state(runner.home)
    if state is None:
        print(f"no service runs on {runner.home}", file=sys.stderr)
        return 1
    from .server.client import Client

    client = Client.find(runner.home)
    if client is not None:  # the graceful way on every platform (on Windows a signal ends it at once)
        client.call("POST", "/service/stop")
    else:
        os.kill(int(state["pid"]), signal.SIGTERM)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and read_state(runner.home) is not None:
        time.sleep(0.2)
    print("service stopped" if read_state(runner.home) is None else "the service is still stopping", file=sys.stderr)
    return 0


def cmd_install_service(args) -> int:
    from .server.install import systemd_unit, write_unit

    runner = _runner()
    text = systemd_unit(runner.home, system=args.system)
    if args.print_only:
        print(text, end="")
        return 0
    path = write_unit(text, system=args.system)
    scope = "" if args.system else " --user"
    print(f"wrote {path}\nenable and start it with: systemctl{scope} daemon-reload && systemctl{scope} enable --now "
          f"botloom-runner", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- schedules
def _desk(runner):
    from .server.manage import ScheduleDesk

    return ScheduleDesk.open(runner)


def cmd_schedule_add(args) -> int:
    from .cli import _pairs, _print_json
    from .server.schedules import parse_duration

    runner = _runner()
    inputs = _pairs(args.input, "input")
    for text in (args.every, args.grace):  # a bad duration is refused before anything is asked of a service
        if text:
            parse_duration(text)
    if args.timezone and not args.cron:
        raise InputError("--timezone goes with --cron", fix="drop --timezone, or give a --cron expression")
    desk = _desk(runner)
    data = desk.add(args.bot, cron=args.cron, timezone=args.timezone, every=args.every, at=args.at, watch=args.watch,
                    webhook=args.webhook, name=args.name, inputs=inputs, misfire=args.misfire, grace=args.grace,
                    overlap=args.overlap, queue=args.queue, mail=args.mail, mail_secret=args.mail_secret,
                    mail_move_to=args.mail_move_to)
    if args.json:
        _print_json(data)
    else:
        print(f"schedule '{data['name']}' ({data['id']}): {data['trigger']} runs {data['bot']}")
        for t in data.get("next_fires") or []:
            print(f"  next: {t}")
        if not desk.online:
            print("  (no service runs now: `botloom runner serve` starts it)", file=sys.stderr)
    return 0


def cmd_schedule_list(args) -> int:
    from .cli import _print_json

    rows = _desk(_runner()).list()
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("no schedules; add one with `botloom schedule add BOT --cron ...`", file=sys.stderr)
        return 0
    print(f"{'NAME':<24} {'TRIGGER':<40} {'NEXT':<26} BOT")
    for row in rows:
        nxt = "paused" if row["paused"] else (row.get("next_fire") or "-")
        print(f"{row['name'][:24]:<24} {row['trigger'][:40]:<40} {str(nxt)[:26]:<26} {row['bot']}")
    return 0


def cmd_schedule_change(args) -> int:
    data = _desk(_runner()).change(args.schedule, args.verb)
    past = {"pause": "paused", "resume": "resumed", "remove": "removed"}[args.verb]
    print(f"schedule '{data['name']}' {past}", file=sys.stderr)
    return 0



__all__ = ["register"]
