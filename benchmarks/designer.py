"""Designer benchmarks, each with a peer measured in the same run.

    .venv/bin/python benchmarks/designer.py            # full run (under a minute)
    .venv/bin/python benchmarks/designer.py --quick    # smoke run
    .venv/bin/python benchmarks/designer.py --json results.json

Figures (Qt offscreen):

- open_render_s: read a 500-node bot, build its canvas and render the whole window once
  (in a warm process; median of the repeats). The bot's validation (problems panel, red
  borders) runs right after the first paint; ``then_validate_s`` reports it on its own. Peer: a bare QGraphicsScene with 500 plain
  items (a rounded rectangle and a text each) rendered in a view of the same size.
- rss_mb: resident memory of a designer process with the 500-node bot open and drawn.
  Peer: a process showing an empty QMainWindow.
- start_s: from starting the process to the designer's window drawn (start page), in a fresh
  process (median). Peer: the same for an empty QMainWindow.

Targets: open_render_s <= 1.0, start_s <= 2.0. The exit code is 0 whether or not targets are
met (it is a report); non-zero only if a measurement broke.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import arguments, print_targets, write_json

FULL = {"nodes": 500, "repeats": 5, "start_n": 5}
QUICK = {"nodes": 500, "repeats": 1, "start_n": 1}
TARGETS = {"open_render_s": 1.0, "start_s": 2.0}
SIZE = (1440, 900)
TYPES = ["core.set_variable", "core.log", "data.read_csv", "text.template", "files.list"]


def big_bot(n: int) -> dict:
    """start -> n1 -> ... a chain of everyday nodes in rows of 20, as a person would lay it out."""
    nodes = {"start": {"type": "core.start"}}
    layout = {"start": [0, 0]}
    params = {"core.set_variable": {"name": "x", "value": "{{ x + 1 }}"}, "core.log": {"message": "step {{ x }}"},
              "data.read_csv": {"path": "in.csv"}, "text.template": {"template": "Hello {{ x }}"},
              "files.list": {"folder": "."}}
    for i in range(1, n):
        t = TYPES[i % len(TYPES)]
        nodes[f"n{i}"] = {"type": t, "params": params[t]}
        layout[f"n{i}"] = [(i % 20) * 220, (i // 20) * 200]
    ids = list(nodes)
    edges = [{"from": f"{a}.out", "to": f"{b}.in"} for a, b in zip(ids, ids[1:])]
    return {"format": 1, "name": "bench-500", "variables": {"x": {"type": "integer", "default": 0}},
            "nodes": nodes, "edges": edges, "layout": {"main": {"nodes": layout}}}


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# ---------------------------------------------------------------- measured in child processes

def child(mode: str, bot: str | None) -> None:
    t0 = float(os.environ["BENCH_T0"])
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if mode in ("designer-start", "designer-open"):
        from botloom.app.main import MainWindow, create_app
        from botloom.app.theme import process_events

        create_app([sys.argv[0]])
        win = MainWindow()
        win.resize(*SIZE)
        win.show()
        if mode == "designer-open":
            win.open_path(bot)
            win.view.fit_to_view()
        process_events()
        win.grab()
    else:
        from PySide6.QtCore import QEventLoop
        from PySide6.QtWidgets import QApplication, QMainWindow

        app = QApplication([sys.argv[0]])  # noqa: F841 - kept alive until the process exits
        win = QMainWindow()
        win.resize(*SIZE)
        win.show()
        QEventLoop().processEvents()
        win.grab()
    print(json.dumps({"elapsed": time.time() - t0, "rss_mb": rss_mb()}), flush=True)
    os._exit(0)


def run_child(mode: str, bot: str | None = None) -> dict:
    env = dict(os.environ, BENCH_T0=repr(time.time()), QT_QPA_PLATFORM="offscreen")
    env["BENCH_T0"] = repr(time.time())
    proc = subprocess.run([sys.executable, __file__, "--child", mode] + ([bot] if bot else []),
                          capture_output=True, text=True, timeout=300, env=env)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{mode} failed: {proc.stderr[-2000:]}")
    return json.loads(lines[-1])


# ---------------------------------------------------------------- measured in this process

def open_render(bot: Path, repeats: int) -> tuple[list[float], list[float]]:
    from botloom.app.main import MainWindow, create_app
    from botloom.app.theme import process_events
    from botloom.runner.sdk.registry import Registry

    create_app([sys.argv[0]])
    reg = Registry.discover()  # node packs are loaded once per process, before a bot is opened
    times, checks = [], []
    for _ in range(repeats):
        win = MainWindow(reg)
        win.resize(*SIZE)
        win.show()
        process_events()
        t = time.perf_counter()
        assert win.open_path(str(bot)), win.messages
        win.view.fit_to_view()
        win.grab()
        times.append(time.perf_counter() - t)
        t = time.perf_counter()
        win.doc.problems()  # the validation that follows the first paint (problems panel, red borders)
        process_events()
        checks.append(time.perf_counter() - t)
        assert len(win.scene.nodes) == len(json.loads(bot.read_text())["nodes"])
        win.doc.undo.setClean()
        win.close()
        win.deleteLater()
        process_events()
    return times, checks


def bare_scene(n: int, repeats: int) -> list[float]:
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QColor, QPainterPath
    from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QGraphicsSimpleTextItem, QGraphicsView

    from botloom.app.theme import process_events

    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        scene = QGraphicsScene()
        items = []
        for i in range(n):
            path = QPainterPath()
            path.addRoundedRect(QRectF(0, 0, 168, 90), 8, 8)
            box = QGraphicsPathItem(path)
            box.setBrush(QColor("#ffffff"))
            box.setPos((i % 20) * 220, (i // 20) * 200)
            text = QGraphicsSimpleTextItem(f"node {i}")
            text.setParentItem(box)
            scene.addItem(box)
            items.append(box)
        view = QGraphicsView(scene)
        view.resize(*SIZE)
        view.show()
        view.fitInView(scene.itemsBoundingRect())
        view.grab()
        times.append(time.perf_counter() - t)
        view.close()
        view.deleteLater()
        process_events()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = arguments("Designer benchmarks")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1] if len(args.child) > 1 else None)
        return 0
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    cfg = QUICK if args.quick else FULL
    work = Path(tempfile.mkdtemp(prefix="botloom-bench-designer-"))
    os.environ["BOTLOOM_HOME"] = str(work / "home")
    bot = work / "bench-500.bot.json"
    bot.write_text(json.dumps(big_bot(cfg["nodes"])), encoding="utf-8")

    figures: dict[str, float] = {}
    t_open, t_check = open_render(bot, cfg["repeats"])
    t_bare = bare_scene(cfg["nodes"], cfg["repeats"])
    figures["open_render_s"] = statistics.median(t_open)
    figures["peer_bare_scene_s"] = statistics.median(t_bare)
    figures["then_validate_s"] = statistics.median(t_check)
    mem = run_child("designer-open", str(bot))
    peer_mem = run_child("empty-window")
    figures["rss_mb"] = mem["rss_mb"]
    figures["peer_empty_window_rss_mb"] = peer_mem["rss_mb"]
    starts = [run_child("designer-start")["elapsed"] for _ in range(cfg["start_n"])]
    peer_starts = [run_child("empty-window")["elapsed"] for _ in range(cfg["start_n"])]
    figures["start_s"] = statistics.median(starts)
    figures["peer_empty_window_start_s"] = statistics.median(peer_starts)

    rows = [("open + render a 500-node bot", "open_render_s", "peer_bare_scene_s", "s"),
            ("memory with it open (RSS)", "rss_mb", "peer_empty_window_rss_mb", "MB"),
            ("designer start to first paint", "start_s", "peer_empty_window_start_s", "s")]
    print(f"{'figure':<34}{'designer':>12}{'peer':>12}{'ratio':>8}   peer")
    peers = {"peer_bare_scene_s": "bare QGraphicsScene, 500 plain items",
             "peer_empty_window_rss_mb": "empty QMainWindow process",
             "peer_empty_window_start_s": "empty QMainWindow start"}
    for label, key, peer, unit in rows:
        ratio = figures[key] / figures[peer] if figures[peer] else float("nan")
        figures[f"{key}_ratio"] = ratio
        print(f"{label:<34}{figures[key]:>10.3f} {unit:<2}{figures[peer]:>9.3f} {unit:<2}{ratio:>7.1f}x   {peers[peer]}")
    print(f"{'then: validation after first paint':<34}{figures['then_validate_s']:>10.3f} s   (problems panel; "
          "no peer)")
    print_targets([(f"{key} <= {limit} ({figures[key]:.3f})", figures[key] <= limit) for key, limit in TARGETS.items()])
    write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
