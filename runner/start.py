"""``botloom start``: the main job. Opens the designer where there is a display and the
designer is installed; otherwise says why and runs a sample bot headless."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

SAMPLE = "csv-report/csv-report.bot.json"


def bots_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "bots"


def _display_problem() -> str | None:
    if sys.platform in ("win32", "darwin"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return "no display (DISPLAY and WAYLAND_DISPLAY are not set)"


def _designer_problem() -> str | None:
    if importlib.util.find_spec("PySide6") is None:
        return "the designer is not installed (pip install 'botloom[designer]')"
    if importlib.util.find_spec("botloom.app.main") is None:
        return "this build has no designer yet"
    return None


def start() -> int:
    reason = _display_problem() or _designer_problem()
    if reason is None:
        from botloom.app.main import main  # type: ignore[import-not-found]

        return main()
    sample = bots_dir() / SAMPLE
    if not sample.exists():
        print(f"botloom: {reason}, and the sample bots were not found at {bots_dir()}", file=sys.stderr)
        return 2
    from . import paths
    from .cli import main

    out_dir = paths.home() / "samples" / "csv-report"
    print(f"botloom: {reason}; running the sample bot {sample.name} headless instead "
          f"(its files go to {out_dir}).", file=sys.stderr)
    return main(["run", str(sample), "--input", f"out_dir={out_dir}"])
