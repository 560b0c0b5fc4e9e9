"""Botloom browser benchmark: a 70-field form fill as a Botloom bot against the same steps as a
plain Playwright script, measured in the same run.

    .venv/bin/python benchmarks/browser.py            # full run (about a minute)
    .venv/bin/python benchmarks/browser.py --quick    # smoke run (a few seconds; figures not meaningful)
    .venv/bin/python benchmarks/browser.py --json results.json

The workload: 10 rounds of (open the form, fill its 7 fields, submit, wait for the answer),
against a form served on 127.0.0.1 by this script. Both sides are whole processes, started the
same way and timed from start to exit: ``botloom run -q BOT`` (bot file read and validated, run
journalled in a fresh run store, browser started, nodes run, browser closed) and ``python
plain.py`` (Playwright started, browser launched, the same calls, browser closed). They use the
same browser executable and alternate, so that drift hits both alike. Prints medians, minima and
the ratio bot / plain script; the target is <= 1.05x for the bot with default settings (a
trace is recorded, to be kept if the run fails). A short bot (one round: start-up is most of
it) is measured the same way, against the plain script doing one round. Variants: trace off, and trace with DOM
snapshots (settings.browser.trace_snapshots). The exit code is 0 whether or not the
target is met (it is a report); non-zero only if a run failed or the server did not receive
every submission.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path
from urllib.parse import parse_qs

from _common import arguments, print_targets, write_json

BIN = Path(sys.executable).parent
BOTLOOM_RUN = [str(BIN / "botloom"), "run", "-q"]
FULL = {"rounds": 10, "repeats": 5, "warmup": 1}
QUICK = {"rounds": 2, "repeats": 1, "warmup": 0}
TARGET = 1.05
FIELDS = [("first", "First name"), ("last", "Last name"), ("email", "E-mail"), ("phone", "Phone"),
          ("street", "Street"), ("city", "City"), ("zip", "Postcode")]

FORM = ("<!doctype html><html><head><title>Form</title></head><body><form method='post' action='/submit'>"
        + "".join(f"<div><label for='{n}'>{t}</label> <input id='{n}' name='{n}'></div>" for n, t in FIELDS)
        + "<button id='send' type='submit'>Send</button></form></body></html>")

PLAIN = '''import sys
from playwright.sync_api import sync_playwright

url, exe, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
FIELDS = {fields!r}
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=exe, headless=True)
    page = browser.new_context().new_page()
    for i in range(rounds):
        page.goto(url)
        for name in FIELDS:
            page.locator("#" + name).fill(f"{{name}} {{i}}")
        page.locator("#send").click()
        page.locator("#ok").wait_for()
    browser.close()
'''


class Server:
    def __init__(self):
        self.received = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def reply(self, body: str):
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self.reply(FORM)

            def do_POST(self):
                form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
                if len(form) == len(FIELDS):
                    server.received += 1
                self.reply("<!doctype html><p id='ok'>Thank you</p>")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/form"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def bot(rounds: int, settings: dict) -> dict:
    nodes = {"start": {"type": "core.start"},
             "open": {"type": "browser.open", "params": {"headless": True}},
             "each": {"type": "core.for_each", "params": {"items": f"{{{{ range({rounds}) | list }}}}", "item_var": "i"}},
             "goto": {"type": "browser.goto", "params": {"url": "{{ url }}"}},
             "send": {"type": "browser.click", "params": {"target": "#send"}},
             "done": {"type": "browser.wait", "params": {"until": "element", "target": "#ok"}}}
    chain = ["goto"]
    for name, _ in FIELDS:
        nodes[f"fill_{name}"] = {"type": "browser.fill", "params": {"target": f"#{name}", "value": f"{name} {{{{ i }}}}"}}
        chain.append(f"fill_{name}")
    chain += ["send", "done"]
    edges = [("start.out", "open.in"), ("open.out", "each.in"), ("each.body", "goto.in")]
    edges += [(f"{a}.out", f"{b}.in") for a, b in zip(chain, chain[1:])]
    return {"format": 1, "name": "bench-browser-form", "inputs": {"url": {"type": "string"}},
            "settings": {"browser": settings},
            "nodes": nodes, "edges": [{"from": a, "to": b} for a, b in edges]}


def in_process(rounds: int, repeats: int, url: str, exe: str) -> dict[str, list[float]]:
    """The same pair inside this process (no process start, no run store): the engine and the
    nodes against the plain calls, each including the browser's start and close."""
    from playwright.sync_api import sync_playwright

    from botloom.runner import botfile
    from botloom.runner.engine import Engine
    from botloom.runner.sdk.registry import Registry

    reg = Registry.discover()
    doc = botfile.loads(json.dumps(bot(rounds, {})))
    names = [n for n, _ in FIELDS]

    def run_bot():
        result = Engine(doc, reg).run({"url": url})
        if not result.ok:
            raise RuntimeError(f"the bot failed: {result.error}")

    def run_plain():
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=exe, headless=True)
            page = browser.new_context().new_page()
            for i in range(rounds):
                page.goto(url)
                for name in names:
                    page.locator("#" + name).fill(f"{name} {i}")
                page.locator("#send").click()
                page.locator("#ok").wait_for()
            browser.close()

    times: dict[str, list[float]] = {"bot, in process": [], "plain, in process": []}
    for _ in range(repeats):
        for key, fn in (("bot, in process", run_bot), ("plain, in process", run_plain)):
            t0 = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - t0)
    return times


def timed(cmd: list, env: dict) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    args = arguments(__doc__.splitlines()[0]).parse_args(argv)
    cfg = QUICK if args.quick else FULL
    from botloom.nodes.browser import discover

    exe = discover.resolve(discover.choose(None, {})[0]).executable
    server = Server()
    rounds = cfg["rounds"]
    with tempfile.TemporaryDirectory(prefix="botloom-bench-browser-") as tmp:
        folder = Path(tmp)
        env = dict(os.environ, BOTLOOM_HOME=str(folder / "home"), BOTLOOM_BROWSER=exe)
        plain = folder / "plain.py"
        plain.write_text(PLAIN.format(fields=[n for n, _ in FIELDS]), encoding="utf-8")
        cmds = {}
        variants = {"bot (default settings)": {}, "bot (trace off)": {"trace": "off"},
                    "bot (trace + DOM snapshots)": {"trace_snapshots": True}}
        for i, (label, settings) in enumerate(variants.items()):
            path = folder / f"bot-{i}.bot.json"
            path.write_text(json.dumps(bot(rounds, settings)), encoding="utf-8")
            cmds[label] = BOTLOOM_RUN + [str(path), "--input", f"url={server.url}"]
        cmds["plain Playwright script"] = [sys.executable, str(plain), server.url, exe, str(rounds)]
        short = folder / "bot-short.bot.json"
        short.write_text(json.dumps(bot(1, {})), encoding="utf-8")
        cmds["short bot (1 round)"] = BOTLOOM_RUN + [str(short), "--input", f"url={server.url}"]
        cmds["short plain script (1 round)"] = [sys.executable, str(plain), server.url, exe, "1"]
        for _ in range(cfg["warmup"]):  # disk caches, validation cache, the browser's first start
            for cmd in cmds.values():
                timed(cmd, env)
        times: dict[str, list[float]] = {k: [] for k in cmds}
        for _ in range(cfg["repeats"]):
            for key, cmd in cmds.items():
                times[key].append(timed(cmd, env))
        os.environ.update(BOTLOOM_HOME=env["BOTLOOM_HOME"], BOTLOOM_BROWSER=exe)
        inproc = in_process(rounds, cfg["repeats"], server.url, exe)
        expected = (cfg["repeats"] + cfg["warmup"]) * ((len(cmds) - 2) * rounds + 2) + 2 * cfg["repeats"] * rounds
        if server.received != expected:
            print(f"the server received {server.received} complete forms, expected {expected}", file=sys.stderr)
            return 1
    med = {k: statistics.median(v) for k, v in times.items()}
    plain_med = med["plain Playwright script"]
    ratio = med["bot (default settings)"] / plain_med
    ratio_off = med["bot (trace off)"] / plain_med
    ratio_snap = med["bot (trace + DOM snapshots)"] / plain_med
    ratio_short = med["short bot (1 round)"] / med["short plain script (1 round)"]
    med_in = {k: statistics.median(v) for k, v in inproc.items()}
    ratio_in = med_in["bot, in process"] / med_in["plain, in process"]
    fields = rounds * len(FIELDS)
    res = {"config": {**cfg, "fields": fields, "browser": exe},
           "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                       "playwright": version("playwright")},
           "times": times, "median_s": med, "ratio_bot_vs_plain": ratio, "ratio_bot_trace_off_vs_plain": ratio_off,
           "ratio_bot_trace_snapshots_vs_plain": ratio_snap, "ratio_short_bot_vs_plain": ratio_short,
           "in_process_s": inproc, "in_process_median_s": med_in, "ratio_in_process": ratio_in,
           "target": TARGET}
    print("Botloom browser benchmark" + (" (--quick: smoke run, figures not meaningful)" if args.quick else ""))
    print(f"machine: {res['machine']['cpus']} CPUs, Python {res['machine']['python']}, playwright "
          f"{res['machine']['playwright']}, browser {exe}")
    print(f"\nform fill: {rounds} rounds x {len(FIELDS)} fields = {fields} fields (+ {rounds} page loads, submits, waits); "
          f"whole process, median (min) of {cfg['repeats']} runs, alternating")
    for key, values in times.items():
        per = fields if "1 round" not in key else len(FIELDS)
        print(f"    {key:<30}{med[key]:>8.3f} s  (min {min(values):.3f})  {med[key] / per * 1000:>6.1f} ms/field")
    print(f"    ratio bot / plain script      {ratio:>8.3f}x   (trace off: {ratio_off:.3f}x, "
          f"trace + DOM snapshots: {ratio_snap:.3f}x)")
    print(f"    ratio short bot / short plain {ratio_short:>8.3f}x   (one round: mostly start-up)")
    print(f"\nthe same inside one process (no process start, no run store; browser start and close included), "
          f"median (min) of {cfg['repeats']}")
    for key, values in inproc.items():
        print(f"    {key:<30}{med_in[key]:>8.3f} s  (min {min(values):.3f})")
    print(f"    ratio bot / plain, in process {ratio_in:>8.3f}x")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nload average when done: {load:.2f} (on {os.cpu_count()} CPUs)")
    res["load_average"] = load
    print_targets([(f"bot <= {TARGET}x the plain Playwright script (default settings: trace kept on failure, "
                    f"no DOM snapshots): {ratio:.3f}x", ratio <= TARGET)])
    write_json(args.json, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
