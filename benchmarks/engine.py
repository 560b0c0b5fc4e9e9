"""Botloom engine benchmarks, with Robot Framework measured as the peer in the same run.

    .venv/bin/python benchmarks/engine.py            # full run (a few minutes at most)
    .venv/bin/python benchmarks/engine.py --quick    # smoke run (a few seconds)
    .venv/bin/python benchmarks/engine.py --json results.json

Prints a table of figures and ratios and a "targets" block. The exit code is 0 whether or
not targets are met (it is a report); non-zero only if a measurement broke.
See benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from _common import arguments, print_targets, write_json

BIN = Path(sys.executable).parent  # the venv's console scripts sit next to its python
BOTLOOM_RUN = [str(BIN / "botloom"), "run", "-q"]
ROBOT = [str(BIN / "robot")] if (BIN / "robot").exists() else [sys.executable, "-m", "robot"]
ROBOT_QUIET = ROBOT + ["--log", "NONE", "--report", "NONE", "--quiet"]
FULL = {"steps": 10_000, "repeats": 5, "cli_repeats": 3, "cold_n": 10, "first_n": 3}
QUICK = {"steps": 1_000, "repeats": 1, "cold_n": 2, "cli_repeats": 1, "first_n": 1}
TARGETS = {"in_memory_us": 20.0, "journal_us": 50.0, "journal_cost_us": 15.0, "vs_robot": 2.0}


# ---------------------------------------------------------------- bots and suites

def chain_bot(n: int, value=1, name: str = "bench-chain") -> dict:
    """start -> n1 -> ... -> nN, each a core.set_variable of x (literal or expression)."""
    nodes = {"start": {"type": "core.start"}}
    nodes.update({f"n{i}": {"type": "core.set_variable", "params": {"name": "x", "value": value}}
                  for i in range(1, n + 1)})
    ids = list(nodes)
    return {"format": 1, "name": name, "variables": {"x": {"type": "integer", "default": 0}},
            "outputs": {"x": {"type": "integer"}}, "nodes": nodes,
            "edges": [{"from": f"{a}.out", "to": f"{b}.in"} for a, b in zip(ids, ids[1:])]}


def loop_bot(n: int) -> dict:
    """start -> core.for_each over range(n), body: one core.set_variable of a literal."""
    return {"format": 1, "name": "bench-loop", "nodes": {
        "start": {"type": "core.start"},
        "loop": {"type": "core.for_each", "params": {"items": f"{{{{ range({n}) | list }}}}"}},
        "body": {"type": "core.set_variable", "params": {"name": "x", "value": 1}}},
        "edges": [{"from": "start.out", "to": "loop.in"}, {"from": "loop.body", "to": "body.in"}]}


def log_bot(message: str = "hello") -> dict:
    return {"format": 1, "name": "bench-hello", "nodes": {
        "start": {"type": "core.start"}, "say": {"type": "core.log", "params": {"message": message}}},
        "edges": [{"from": "start.out", "to": "say.in"}]}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def robot_suite(folder: Path, name: str, keywords: int, keyword: str = "No Operation") -> Path:
    body = "".join(f"    {keyword}\n" for _ in range(keywords))
    return write(folder, name, f"*** Test Cases ***\nBench\n{body}")


# ---------------------------------------------------------------- timing helpers

def time_cmd(cmd: list, cwd: Path, env: dict) -> float:
    """Wall time of one subprocess; raises if it fails (a failed run measures nothing)."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return elapsed


def alternate(cmds: dict[str, list], n: int, cwd: Path, env: dict) -> dict[str, list[float]]:
    """Run each command n times, interleaved so that machine drift hits all of them alike."""
    times: dict[str, list[float]] = {key: [] for key in cmds}
    for _ in range(n):
        for key, cmd in cmds.items():
            times[key].append(time_cmd(cmd, cwd, env))
    return times


def summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "runs": len(values)}


def engine_case(bot: dict, repeats: int, listeners=None, check=None) -> dict:
    """Parse and compile once (timed separately), then time engine.run() `repeats` times.

    ``listeners(i)`` returns (listeners, close) for run i; closing is part of the timed run.
    ``check(result, run_id)`` verifies each run really did the work.
    """
    from botloom.runner import botfile
    from botloom.runner.engine import Engine
    from botloom.runner.sdk.registry import Registry

    reg = Registry.discover()
    t0 = time.perf_counter()
    doc = botfile.loads(json.dumps(bot))
    t1 = time.perf_counter()
    plans = Engine(doc, reg).plans
    t2 = time.perf_counter()
    per_step, steps = [], 0
    for i in range(repeats):
        attached, close = listeners(i) if listeners else ([], lambda: None)
        engine = Engine(doc, reg, plans=plans, listeners=attached, run_id=f"bench-{i}-{time.time_ns()}")
        gc.collect()
        start = time.perf_counter()
        result = engine.run()
        close()
        elapsed = time.perf_counter() - start
        if not result.ok:
            raise RuntimeError(f"the benchmark bot {bot['name']} did not succeed: {result.error}")
        if check:
            check(result, engine.run_id)
        steps = result.steps
        per_step.append(elapsed / steps * 1e6)
    return {"steps": steps, "parse_s": t1 - t0, "compile_s": t2 - t1, "us_per_step": summary(per_step)}


def journalled(bot: dict, with_logs: bool):
    """Listener factory and check for runs through the durable store (and log files)."""
    from botloom.runner.logs import RunLog
    from botloom.runner.store import RunStore

    store, text, current = RunStore(), json.dumps(bot), {}

    def listeners(i: int):
        run_id = f"bench-{'logs' if with_logs else 'journal'}-{i}-{time.time_ns()}"
        store.create_run(run_id, bot_name=bot["name"], bot_path=None, bot_text=text, bot_hash="x", inputs={})
        attached = [store.journal(run_id)] + ([RunLog(run_id)] if with_logs else [])
        current["run_id"] = run_id
        return attached, lambda: [listener.close() for listener in attached]

    def check(result, _engine_run_id):
        rows = store.conn.execute("SELECT COUNT(*) FROM node_runs WHERE run_id=?", (current["run_id"],)).fetchone()[0]
        if rows != result.steps:
            raise RuntimeError(f"the store holds {rows} node_runs rows for {result.steps} steps")

    return listeners, check, store


# ---------------------------------------------------------------- the three parts

def in_process(cfg: dict) -> dict:
    n, repeats = cfg["steps"], cfg["repeats"]

    def expect_x(value):
        def check(result, _run_id):
            if result.outputs.get("x") != value:
                raise RuntimeError(f"x = {result.outputs.get('x')!r}, expected {value}")
        return check

    out = {"in_memory": engine_case(chain_bot(n), repeats, check=expect_x(1)),
           "loop": engine_case(loop_bot(n), repeats),
           "expression": engine_case(chain_bot(n, "{{ x + 1 }}", "bench-expr"), repeats, check=expect_x(n))}
    for key, with_logs in (("journal", False), ("journal_logs", True)):
        listeners, check, store = journalled(chain_bot(n), with_logs)
        out[key] = engine_case(chain_bot(n), repeats, listeners, check)
        store.close()
    return out


def marginal(cfg: dict, work: Path, env: dict) -> dict:
    """Per-step cost from the command line: (t(N) - t(1)) / (N - 1), for robot and botloom."""
    n = cfg["steps"]
    big = write(work, "chain.bot.json", json.dumps(chain_bot(n)))
    one = write(work, "one.bot.json", json.dumps(chain_bot(1, name="bench-one")))
    for bot in (big, one):  # untimed warm-up: fills the validation cache
        time_cmd(BOTLOOM_RUN + [bot], work, env)
    robot = ROBOT_QUIET + ["--output", "output.xml"]
    t = alternate({"robot_n": robot + [robot_suite(work, "many.robot", n)],
                   "robot_1": robot + [robot_suite(work, "one.robot", 1)],
                   "botloom_n": BOTLOOM_RUN + [big], "botloom_1": BOTLOOM_RUN + [one]}, cfg["cli_repeats"], work, env)
    med = {key: statistics.median(values) for key, values in t.items()}
    robot_us = (med["robot_n"] - med["robot_1"]) / (n - 1) * 1e6
    botloom_us = (med["botloom_n"] - med["botloom_1"]) / (n - 1) * 1e6
    return {"robot_us_per_keyword": robot_us, "botloom_us_per_step": botloom_us,
            "wall_s": {k: summary(v) for k, v in t.items()}}


def cold_start(cfg: dict, work: Path, env: dict) -> dict:
    hello = write(work, "hello.bot.json", json.dumps(log_bot()))
    time_cmd(BOTLOOM_RUN + [hello], work, env)  # warm the validation cache
    suite = robot_suite(work, "hello.robot", 1, "Log    hello")
    robot = ROBOT_QUIET + ["--output", "NONE", suite]
    warm = alternate({"botloom": BOTLOOM_RUN + [hello], "robot": robot}, cfg["cold_n"], work, env)
    first = []  # never-seen bots: each file's content is new, so it is validated in full
    for i in range(cfg["first_n"]):
        bot = write(work, f"new{i}.bot.json", json.dumps(log_bot(f"hello {i} {time.time_ns()}")))
        first.append(time_cmd(BOTLOOM_RUN + [bot], work, env))
    fresh_env = dict(env, BOTLOOM_HOME=tempfile.mkdtemp(dir=work, prefix="fresh-home-"))
    fresh = time_cmd(BOTLOOM_RUN + [hello], work, fresh_env)
    return {"botloom": summary(warm["botloom"]), "robot": summary(warm["robot"]),
            "botloom_first_run": summary(first), "botloom_empty_home": summary([fresh])}


# ---------------------------------------------------------------- report

def report(res: dict) -> list[tuple[str, bool]]:
    p, m, c = res["in_process"], res["cli"], res["cold"]
    n = res["config"]["steps"]
    robot_us = m["robot_us_per_keyword"]
    print(f"\n(a) per-step overhead, in process, {n:,}-step flows; median (min) of {res['config']['repeats']} runs")
    print(f"    {'variant':<34}{'steps':>7}{'us/step':>10}{'min':>8}{'parse s':>9}{'compile s':>10}{'RF/this':>9}")
    labels = {"in_memory": "in memory, literal chain", "loop": "for_each loop, literal body",
              "expression": "chain of {{ x + 1 }} (info)", "journal": "durable journal (store)",
              "journal_logs": "journal + log files"}
    for key, label in labels.items():
        r = p[key]
        us = r["us_per_step"]
        print(f"    {label:<34}{r['steps']:>7}{us['median']:>10.2f}{us['min']:>8.2f}{r['parse_s']:>9.3f}"
              f"{r['compile_s']:>10.3f}{robot_us / us['median']:>8.1f}x")
    med = {key: r["us_per_step"]["median"] for key, r in p.items()}
    print(f"    ratios: journal / in memory = {med['journal'] / med['in_memory']:.2f}x, "
          f"journal+logs / in memory = {med['journal_logs'] / med['in_memory']:.2f}x")
    print("    RF/this = Robot Framework's per-keyword cost from (b) / this per-step cost; "
          "store verified: node_runs rows = steps for every journalled run")

    print(f"\n(b) marginal per-step cost from the command line: (t({n:,}) - t(1)) / {n - 1:,}, "
          f"median of {res['config']['cli_repeats']} runs each")
    for key, label in (("robot_n", f"robot, {n:,} x No Operation"), ("robot_1", "robot, 1 x No Operation"),
                       ("botloom_n", f"botloom run -q, {n:,}-node chain"),
                       ("botloom_1", "botloom run -q, 1-node chain")):
        w = m["wall_s"][key]
        print(f"    {label:<38}{w['median']:>8.3f} s  (min {w['min']:.3f})")
    ratio_cli = robot_us / m["botloom_us_per_step"]
    print(f"    robot per keyword       {robot_us:>8.2f} us")
    print(f"    botloom per step (CLI)  {m['botloom_us_per_step']:>8.2f} us  (journal + log files; "
          f"each bot file run once untimed first, to warm the validation cache)")
    print(f"    robot / botloom         {ratio_cli:>8.2f}x  (target >= {TARGETS['vs_robot']:g}x)")

    print(f"\n(c) cold start, wall time of one process, median (min) of {res['config']['cold_n']} runs, alternating")
    rows = (("botloom run -q hello.bot.json (validation cached)", c["botloom"]),
            ("robot --quiet, one 'Log  hello' (--output/--log/--report NONE)", c["robot"]),
            (f"botloom, FIRST run of a never-seen bot (validates; n={c['botloom_first_run']['runs']})",
             c["botloom_first_run"]),
            ("botloom, first run ever in an empty data folder (n=1)", c["botloom_empty_home"]))
    for label, s in rows:
        print(f"    {label:<66}{s['median']:>7.3f} s  (min {s['min']:.3f})  "
              f"robot/this {c['robot']['median'] / s['median']:.2f}x")

    journal_us, memory_us = med["journal"], med["in_memory"]
    targets = [
        (f"in memory <= {TARGETS['in_memory_us']:g} us/step ({memory_us:.2f})",
         memory_us <= TARGETS["in_memory_us"]),
        (f"journal <= {TARGETS['journal_us']:g} us/step ({journal_us:.2f})", journal_us <= TARGETS["journal_us"]),
        (f"the journal's own cost (journalled - in memory) <= {TARGETS['journal_cost_us']:g} us/step "
         f"({journal_us - memory_us:.2f})", journal_us - memory_us <= TARGETS["journal_cost_us"]),
        (f"journal >= {TARGETS['vs_robot']:g}x faster per step than robot ({robot_us / journal_us:.1f}x)",
         robot_us / journal_us >= TARGETS["vs_robot"]),
        (f"CLI marginal: robot / botloom per step >= {TARGETS['vs_robot']:g}x ({ratio_cli:.1f}x)",
         ratio_cli >= TARGETS["vs_robot"]),
        (f"cold start: botloom <= robot, validation cached ({c['botloom']['median']:.3f} s vs "
         f"{c['robot']['median']:.3f} s)", c["botloom"]["median"] <= c["robot"]["median"]),
    ]
    print_targets(targets)
    return targets


def main(argv: list[str] | None = None) -> int:
    args = arguments(__doc__.splitlines()[0]).parse_args(argv)
    cfg = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="botloom-bench-") as tmp:
        work = Path(tmp)
        os.environ["BOTLOOM_HOME"] = str(work / "home")  # this process and every subprocess
        env = dict(os.environ)
        from botloom.runner import __version__

        machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                   "botloom": __version__, "robotframework": version("robotframework")}
        print("Botloom engine benchmark" + (" (--quick: smoke run, figures not meaningful)" if args.quick else ""))
        print(f"machine: {machine['cpus']} CPUs, Python {machine['python']}, {machine['platform']}")
        print(f"versions: botloom {machine['botloom']}, robotframework {machine['robotframework']}")
        res = {"machine": machine, "config": cfg, "in_process": in_process(cfg),
               "cli": marginal(cfg, work, env), "cold": cold_start(cfg, work, env)}
    targets = report(res)
    res["targets"] = [{"target": label, "pass": ok} for label, ok in targets]
    write_json(args.json, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
