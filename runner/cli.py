"""The ``botloom`` command.

Exit codes (also in ``botloom --help`` and docs/cli.md):
    0    the run succeeded (or the command did what was asked)
    1    the bot ran and failed
    2    bad bot file, bad input or bad command line: nothing ran
    3    the run is not finished: it is suspended (waiting) or needs attention
    130  the run was stopped (Ctrl+C)
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from typing import Any

from . import __version__
from .codec import display, encode
from .errors import BotloomError, InputError
from .states import RunState

EXIT_OK, EXIT_FAILED, EXIT_BAD, EXIT_WAITING, EXIT_CANCELLED = 0, 1, 2, 3, 130
STATE_EXIT = {RunState.SUCCEEDED: EXIT_OK, RunState.FAILED: EXIT_FAILED, RunState.CANCELLED: EXIT_CANCELLED,
              RunState.SUSPENDED: EXIT_WAITING, RunState.NEEDS_ATTENTION: EXIT_WAITING, RunState.CRASHED: EXIT_FAILED}
EPILOG = """exit codes: 0 ok, 1 the bot failed, 2 bad bot file/input/usage (nothing ran),
3 the run is suspended or needs attention, 130 stopped by the user.
Data folder: $BOTLOOM_HOME, or the platform's user data folder."""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser(_command_word(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_OK
    try:
        return args.func(args) or EXIT_OK
    except BotloomError as exc:
        return _report(args, exc)
    except KeyboardInterrupt:
        print("botloom: stopped", file=sys.stderr)
        return EXIT_CANCELLED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        error = _storage_error(args, exc)  # a full disk or a read-only data folder: say so, no traceback
        if error is None:
            raise
        return _report(args, error)


def _report(args, exc: BotloomError) -> int:
    if getattr(args, "json", False):
        _print_json({"ok": False, "error": exc.to_dict()})
    else:
        print(f"botloom: {exc}", file=sys.stderr)
    return exc.exit_code if exc.exit_code in (1, 2, 3, 130) else EXIT_BAD


def _storage_error(args, exc: Exception) -> BotloomError | None:
    """``exc`` (an OSError or sqlite3.Error) told as the data folder's trouble, with what to do
    once it is fixed; None when it is not about the data folder."""
    from .paths import storage_error

    command = getattr(args.func, "__name__", "")
    if command == "cmd_run":
        then = "run the bot again"
    elif command in ("cmd_resume", "cmd_signal") and getattr(args, "run", None):
        then = f"`botloom resume {args.run}`"
    else:
        then = "try again"
    return storage_error(exc, then=then)


def _command_word(argv: list[str]) -> str | None:
    """The sub-command named on the command line (None for `botloom`, `botloom -h`)."""
    return next((a for a in argv if not a.startswith("-")), None)


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    from .cli_history import cmd_logs, cmd_runs, cmd_show  # it uses this module's helpers

    p = argparse.ArgumentParser(prog="botloom", description="Botloom: run, check and inspect bots.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"botloom {__version__}")
    sub = p.add_subparsers(metavar="COMMAND")

    r = sub.add_parser("run", help="run a bot", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("bot", help="the bot file (*.bot.json)")
    r.add_argument("-i", "--input", action="append", default=[], metavar="NAME=VALUE",
                   help="an input value (repeatable); lists, objects and tables take JSON")
    r.add_argument("--inputs", metavar="FILE", help="input values from a JSON object file (--input wins)")
    r.add_argument("--from", dest="start_at", metavar="NODE",
                   help="run from this node of the main flow instead of the start (to try out a part of a bot)")
    r.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    r.add_argument("--events", choices=["jsonl"], help="stream every event as JSON lines on stdout")
    r.add_argument("--control", choices=["stdin"], help="read debugger commands (JSON lines) from stdin")
    r.add_argument("--break", dest="breakpoints", action="append", default=[], metavar="NODE",
                   help="pause before this node (repeatable; with --control stdin); FLOW/NODE for a node "
                        "of a subflow")
    r.add_argument("--trigger", default="cli", metavar="NAME",
                   help="what started the run, as the run history records it (default: cli)")
    r.add_argument("-v", "--verbose", action="store_true", help="print every step")
    r.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    r.set_defaults(func=cmd_run)

    v = sub.add_parser("validate", help="check bot files without running them")
    v.add_argument("bots", nargs="+", metavar="BOT")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_validate)

    n = sub.add_parser("nodes", help="list node types; `nodes show TYPE` describes one")
    n.add_argument("action", nargs="?", choices=["list", "show", "docs"], default="list")
    n.add_argument("type", nargs="?", help="node type (for show)")
    n.add_argument("--search", help="only node types matching this text")
    n.add_argument("--category", help="only this category")
    n.add_argument("--json", action="store_true")
    n.set_defaults(func=cmd_nodes)

    rs = sub.add_parser("runs", help="list runs; `runs prune --payloads --older-than 30d` drops old step values")
    rs.add_argument("action", nargs="?", choices=["list", "prune"], default="list")
    rs.add_argument("--bot", help="only runs of this bot (by name)")
    rs.add_argument("--state", help="only runs in this state (running, succeeded, failed, crashed, ...)")
    rs.add_argument("--limit", type=int, default=30)
    rs.add_argument("--json", action="store_true")
    rs.add_argument("--fleet", action="store_true",
                    help="the runs of every runner of the fleet, through this machine's service in fleet mode")
    rs.add_argument("--payloads", action="store_true",
                    help="prune: drop the values of the steps (params, outputs, writes); history, states, errors, "
                         "timings and waits are kept")
    rs.add_argument("--older-than", metavar="AGE", help="prune: runs that finished longer ago than this (30d, 12h, 2w)")
    rs.add_argument("--vacuum", action="store_true", help="prune: also shrink the store file")
    rs.set_defaults(func=cmd_runs)

    s = sub.add_parser("show", help="show one run: state, steps, timings, errors, artifacts")
    s.add_argument("run", help="run id (or a unique part of it, or 'last')")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_show)

    lg = sub.add_parser("logs", help="print a run's log")
    lg.add_argument("run", help="run id (or a unique part of it, or 'last')")
    lg.add_argument("-f", "--follow", action="store_true", help="keep printing until the run ends")
    lg.add_argument("--json", action="store_true", help="the JSON-lines log instead of the text log")
    lg.set_defaults(func=cmd_logs)

    rr = sub.add_parser("resume", help="continue a crashed, stopped, failed or suspended run")
    rr.add_argument("run", nargs="?", help="run id (or a unique part of it, or 'last')")
    group = rr.add_mutually_exclusive_group()
    group.add_argument("--retry", action="store_true", help="run the step that needs attention (or failed) again")
    group.add_argument("--skip", action="store_true", help="go on without the step that needs attention (or failed)")
    rr.add_argument("--due", action="store_true", help="resume every suspended run whose wake-up time has come")
    rr.add_argument("--data", action="append", default=[], metavar="NAME=VALUE", help="data for a waiting node")
    rr.add_argument("--by", default=None, metavar="NAME",
                    help="who answers the wait, as the run's history records it (default: your user name)")
    rr.add_argument("--json", action="store_true")
    rr.add_argument("-q", "--quiet", action="store_true")
    rr.set_defaults(func=cmd_resume)

    sg = sub.add_parser("signal", help="send a signal to a run that waits for it (and resume it)")
    sg.add_argument("run")
    sg.add_argument("name", help="the signal's name, as in the Wait for signal node")
    sg.add_argument("--data", action="append", default=[], metavar="NAME=VALUE")
    sg.add_argument("--by", default=None, metavar="NAME",
                    help="who sends the signal, as the run's history records it (default: your user name)")
    sg.add_argument("--json", action="store_true")
    sg.add_argument("-q", "--quiet", action="store_true")
    sg.set_defaults(func=cmd_signal)

    from .cli_security import add_parsers as add_security_parsers  # secret, audit

    add_security_parsers(sub)

    sc = sub.add_parser("schema", help="print the JSON Schema of the bot file format")
    sc.set_defaults(func=cmd_schema)

    st = sub.add_parser("start", help="open the designer; without a display, run a sample bot headless")
    st.set_defaults(func=cmd_start)

    cf = sub.add_parser("config", help="show or change settings")
    cf.add_argument("key", nargs="?")
    cf.add_argument("value", nargs="?")
    cf.set_defaults(func=cmd_config)
    if command in (None, "runner", "schedule"):  # the service's commands: only parsed when asked for
        from .cli_server import register as register_service

        register_service(sub)
    if command in (None, "queue"):  # work queues: only parsed when asked for
        from .cli_queue import register as register_queue

        register_queue(sub)
    if command in (None, "tasks"):  # human review tasks: only parsed when asked for
        from .cli_tasks import register as register_tasks

        register_tasks(sub)
    if command in (None, "template"):  # shareable bot templates: only parsed when asked for
        from .cli_templates import register as register_templates

        register_templates(sub)
    if command in (None, "stats", "report", "alerts"):  # operations insight: only parsed when asked for
        from .cli_insight import register as register_insight

        register_insight(sub)
    _add_plugin_commands(sub, command)
    return p


def _add_plugin_commands(sub, command: str | None) -> None:
    """Commands from installed packages, announced through the ``botloom.cli`` entry-point
    group: the entry's name is the command, its value a ``register(subparsers)`` function.
    Only the command being run is loaded (all of them for the overall help), so `botloom run`
    never imports another pack's CLI. A command whose package is broken is still listed, and
    says why when it is used. A built-in command (`botloom run`) reads no entry points at all:
    that is part of every run's start-up."""
    if command is not None and command in sub.choices:
        return
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group="botloom.cli"), key=lambda e: e.name):
        if command is not None and command != ep.name:
            sub.add_parser(ep.name, help=f"see `botloom {ep.name} -h`", add_help=False)
            continue
        try:
            ep.load()(sub)
        except Exception as exc:  # noqa: BLE001 - one broken plugin must not break the CLI
            problem = f"{type(exc).__name__}: {exc}"

            def broken(args, _name=ep.name, _value=ep.value, _problem=problem) -> int:
                raise BotloomError(f"the '{_name}' command could not load ({_value}): {_problem}",
                                   fix="reinstall Botloom with the extra that provides it "
                                       "(e.g. pip install 'botloom[ai]')")

            bp = sub.add_parser(ep.name, help=f"(could not load: {problem})")
            bp.add_argument("rest", nargs=argparse.REMAINDER)
            bp.set_defaults(func=broken)


# ---------------------------------------------------------------- helpers

def _print_json(data: Any) -> None:
    print(json.dumps(encode(data), indent=2, ensure_ascii=False))


def _pairs(items: list[str], what: str) -> dict[str, str]:
    values = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise InputError(f"{what} '{item}' is not NAME=VALUE", fix=f"write e.g. --{what} count=3")
        values[name.strip()] = value
    return values


def _inputs_file(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8-sig") as f:
            values = json.load(f)
    except OSError as exc:
        raise InputError(f"cannot read the inputs file: {exc.strerror}", where=path) from None
    except ValueError as exc:
        raise InputError(f"the inputs file is not valid JSON: {exc}", where=path) from None
    if not isinstance(values, dict):
        raise InputError("the inputs file must hold a JSON object of input names and values", where=path,
                         fix='e.g. {"min_confidence": 0.9, "invoices": "in/october.csv"}')
    return values


def _typed_pairs(items: list[str]) -> dict[str, Any]:
    out = {}
    for name, text in _pairs(items, "data").items():
        try:
            out[name] = json.loads(text)
        except ValueError:
            out[name] = text
    return out


def _listeners(args) -> list:
    from .console import Console, EventStream

    listeners = []
    if getattr(args, "events", None) == "jsonl":
        listeners.append(EventStream(sys.stdout))
    if not getattr(args, "quiet", False):
        listeners.append(Console(sys.stderr, verbose=getattr(args, "verbose", False)))
    return listeners


def _finish(args, result) -> int:
    if getattr(args, "json", False):
        _print_json({"ok": result.ok, "run_id": result.run_id, "state": result.state, "outputs": result.outputs,
                     "error": result.error, "attention": result.attention, "wake": result.wake,
                     "duration": round(result.duration, 6), "steps": result.steps})
    else:
        streaming = getattr(args, "events", None) == "jsonl" or getattr(args, "quiet", False)
        if not streaming or result.state != RunState.SUCCEEDED:  # a failure is always told
            _print_outcome(result)
    return STATE_EXIT.get(result.state, EXIT_FAILED)


def _print_outcome(result) -> None:
    err = sys.stderr
    if result.state == RunState.SUCCEEDED:
        print(f"run {result.run_id} succeeded: {result.steps} steps in {result.duration:.3f} s", file=err)
        if result.outputs:
            for key, value in result.outputs.items():
                print(f"  {key} = {display(value, 2000)}", file=err)
    elif result.state == RunState.FAILED:
        e = result.error or {}
        print(f"run {result.run_id} failed: {e.get('where', '')}: {e.get('message')}", file=err)
        if e.get("fix"):
            print(f"  fix: {e['fix']}", file=err)
    elif result.state == RunState.NEEDS_ATTENTION:
        a = result.attention or {}
        print(f"run {result.run_id} needs attention: {a.get('reason')}", file=err)
        print(f"  then: botloom resume {result.run_id} --retry (run that step again) or --skip", file=err)
    elif result.state == RunState.SUSPENDED:
        w = result.wake or {}
        print(f"run {result.run_id} is suspended: {w.get('reason')}", file=err)
        if (w.get("state") or {}).get("task"):  # a review task: answered through its form
            print("  review it in the designer's inbox, or: botloom tasks list, then botloom tasks complete TASK "
                  "OUTCOME [--set FIELD=VALUE]", file=err)
        elif w.get("signal"):
            print(f"  continue it with: botloom signal {result.run_id} {w['signal']} [--data NAME=VALUE]", file=err)
        if w.get("wake_at"):
            print(f"  it is due at {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(w['wake_at']))}; "
                  "`botloom resume --due` continues due runs", file=err)
    else:
        print(f"run {result.run_id} {result.state}", file=err)


class _StdinControl(threading.Thread):
    """Debugger commands as JSON lines: {"cmd": "pause"|"resume"|"step"|"stop"|"break", "node": ..., "on": ...}."""

    def __init__(self, engine_box: dict, debugger):
        super().__init__(name="botloom-control", daemon=True)
        self.box = engine_box
        self.debugger = debugger

    def run(self) -> None:
        for line in sys.stdin:
            try:
                cmd = json.loads(line)
            except ValueError:
                continue
            action = cmd.get("cmd")
            if action == "pause":
                self.debugger.pause()
            elif action == "resume":
                self.debugger.resume()
            elif action == "step":
                self.debugger.step()
            elif action == "break":
                self.debugger.set_breakpoint(str(cmd.get("node")), bool(cmd.get("on", True)))
            elif action == "stop" and self.box.get("engine") is not None:
                self.box["engine"].cancel()


def _run_with_engine(args, start) -> int:
    """Run ``start(on_engine=...)`` with Ctrl+C stopping the run cleanly and optional stdin control."""
    box: dict = {}
    debugger = None
    if getattr(args, "control", None) == "stdin" or getattr(args, "breakpoints", None):
        from .engine.debug import Debugger

        debugger = Debugger(getattr(args, "breakpoints", []))
        _StdinControl(box, debugger).start()

    def on_engine(engine):
        box["engine"] = engine

    def on_signal(signum, frame):
        engine = box.get("engine")
        if engine is not None and not engine.cancelled:
            engine.cancel()
        else:
            raise KeyboardInterrupt

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = start(on_engine=on_engine, debugger=debugger)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return _finish(args, result)


# ---------------------------------------------------------------- commands

def cmd_run(args) -> int:
    from .runtime import Runner

    inputs = {**_inputs_file(args.inputs), **_pairs(args.input, "input")} if args.inputs else _pairs(args.input, "input")
    runner = Runner()
    _prestart(runner, args.bot)
    loaded = runner.load_bot(args.bot)
    if not args.quiet:
        for warning in loaded.warnings:
            print(f"botloom: {warning}", file=sys.stderr)
    code = _run_with_engine(args, lambda **kw: runner.start_run(args.bot, inputs, from_text=True, loaded=loaded,
                                                                 listeners=_listeners(args), start_at=args.start_at,
                                                                 trigger=args.trigger, **kw))
    runner.prune_logs()
    return code


def _prestart(runner, path) -> None:
    """Node types that open something slow at first use (a browser) start it now, while the run
    is validated and recorded (their ``prestart`` hook, see docs/node-authoring.md). Best
    effort: anything wrong here is left for the run itself to report."""
    try:
        from . import botfile
        from .sdk.node import PreflightInfo

        doc, _ = botfile.load_text(path)
        hooks: dict = {}
        for flow_id, flow in doc.flows().items():
            for node_id, spec in flow.nodes.items():
                if spec.disabled or spec.type not in runner.registry:
                    continue
                fn = runner.registry.get(spec.type).prestart
                if fn is not None:
                    static = {k: v for k, v in (spec.params or {}).items() if not (isinstance(v, str) and "{{" in v)}
                    hooks.setdefault(fn, []).append((flow_id, node_id, static))
        for fn, nodes in hooks.items():
            fn(PreflightInfo(doc.label, doc.settings, nodes))
    except Exception:  # noqa: BLE001 - the run reports what is wrong, with its context
        pass


def cmd_validate(args) -> int:
    from . import botfile
    from .sdk.registry import Registry
    from .validate import validate_doc

    reg = Registry.discover(lazy=True)  # no data folder needed: validating writes nothing
    report, worst = [], EXIT_OK
    for path in args.bots:
        try:
            doc = botfile.load(path)
            problems = validate_doc(doc, reg)
            error = None
        except BotloomError as exc:
            problems, error = [], exc
        errors = [p for p in problems if p.severity == "error"]
        ok = error is None and not errors
        worst = worst if ok else EXIT_BAD
        report.append({"bot": path, "ok": ok, "error": error.to_dict() if error else None,
                       "problems": [p.to_dict() for p in problems]})
        if not args.json:
            if error:
                print(error if error.where else f"{path}: {error}")
            elif not problems:
                print(f"{path}: ok")
            else:
                print(f"{path}: {len(errors)} error(s), {len(problems) - len(errors)} warning(s)")
                for p in problems:
                    print(f"  {p}")
    if args.json:
        _print_json(report)
    return worst


def cmd_nodes(args) -> int:
    from .docs import node_help, node_reference
    from .sdk.registry import Registry

    reg = Registry.discover(lazy=True)
    if args.action == "show":
        if not args.type:
            raise InputError("which node type?", fix="botloom nodes show core.log")
        nt = reg.get(args.type)
        if args.json:
            _print_json(nt.describe())
        else:
            print(node_help(nt))
        return EXIT_OK
    if args.action == "docs":
        sys.stdout.write(node_reference(reg))
        return EXIT_OK
    types = reg.search(args.search) if args.search else reg.latest()
    if args.category:
        types = [t for t in types if t.category.lower() == args.category.lower()]
    if args.json:
        _print_json([t.describe() for t in types])
        return EXIT_OK
    width = max((len(t.id) for t in types), default=10)
    category = None
    for nt in sorted(types, key=lambda t: (t.category, t.id)):
        if nt.category != category:
            category = nt.category
            print(f"{category}:")
        summary = (nt.description.splitlines() or [""])[0]
        flag = "  [needs: " + ", ".join(r.install for r in nt.missing_requirements()) + "]" \
            if nt.missing_requirements() else ""
        print(f"  {nt.id:<{width}}  {nt.title} - {summary}{flag}")
    for broken in reg.broken:
        print(f"broken pack '{broken.name}' ({broken.target}): {broken.error}", file=sys.stderr)
    return EXIT_OK


def cmd_resume(args) -> int:
    from .runtime import Runner

    data = _typed_pairs(args.data) or None
    action = "retry" if args.retry else "skip" if args.skip else None
    if args.due:
        from .tasks import due_answers

        runner = Runner()
        answers = due_answers(runner)  # review tasks expired at their deadline, or answered but not yet resumed
        store = runner.store()
        try:
            due = list(dict.fromkeys([*answers, *store.due_runs()]))
        finally:
            store.close()
        code = EXIT_OK
        for run_id in due:
            data, by = answers.get(run_id, (None, "timer"))
            result = runner.resume_run(run_id, data=data, listeners=_listeners(args), by=by)
            _print_outcome(result)
            code = max(code, STATE_EXIT.get(result.state, EXIT_FAILED) if result.state != RunState.SUSPENDED else 0)
        if not due:
            print("no suspended run is due", file=sys.stderr)
        return code
    if not args.run:
        raise InputError("which run?", fix="botloom resume RUN (see `botloom runs --state crashed`)")
    return _run_with_engine(args, lambda **kw: Runner().resume_run(args.run, action=action, data=data,
                                                                    listeners=_listeners(args), by=_by(args), **kw))


def cmd_signal(args) -> int:
    from .runtime import Runner

    payload = {"signal": args.name, "data": _typed_pairs(args.data)}
    return _run_with_engine(args, lambda **kw: Runner().resume_run(args.run, data=payload, listeners=_listeners(args),
                                                                    by=_by(args), **kw))


def _by(args) -> str | None:
    """Who answers a wait: --by, else the user running the command."""
    if args.by:
        return args.by
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment or the password database
        return None


def cmd_schema(args) -> int:
    from .botfile.schema import bot_schema

    _print_json(bot_schema())
    return EXIT_OK


def cmd_config(args) -> int:
    from . import settings

    if args.key and args.value is not None:
        print(f"{args.key} = {settings.set(args.key, args.value)}")
    elif args.key:
        print(settings.get(args.key))
    else:
        for key, value in settings.load().items():
            print(f"{key} = {value}")
    return EXIT_OK


def cmd_start(args) -> int:
    from .start import start

    return start()


def console() -> None:
    """The ``botloom`` program: :func:`main`, then exit. Once Temporal's native client is loaded,
    without Python's teardown: its threads crashed the finalising interpreter (SIGSEGV)."""
    code = main()
    if "temporalio.bridge" in sys.modules:
        import os

        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code if isinstance(code, int) else 1)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    console()
