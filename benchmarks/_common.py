"""What every benchmark script shares: its command line (--quick, --json), the targets
block it prints, and the JSON file it writes. Not a benchmark itself (dev.sh skips
files starting with '_')."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def arguments(doc: str) -> argparse.ArgumentParser:
    """The parser every benchmark starts from; a script may add options of its own."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a short smoke run: figures only show that it runs")
    ap.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    return ap


def print_targets(rows) -> None:
    """The targets block: one PASS/MISS line per (label, met) pair."""
    print("\ntargets:")
    for label, ok in rows:
        print(f"    {'PASS' if ok else 'MISS'}  {label}")


def write_json(path: str | None, data) -> None:
    if path:
        Path(path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {path}")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def tiny_bot(folder: Path) -> Path:
    """A two-step bot (start, set a variable): what a run costs when the bot costs nothing."""
    path = folder / "tick.bot.json"
    path.write_text(json.dumps({"format": 1, "name": "tick", "nodes": {
        "start": {"type": "core.start"},
        "set": {"type": "core.set_variable", "params": {"name": "x", "value": 1}}},
        "variables": {"x": {"type": "integer", "default": 0}},
        "edges": [{"from": "start.out", "to": "set.in"}]}), encoding="utf-8")
    return path
