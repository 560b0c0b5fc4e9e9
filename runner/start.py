"""``botloom start``: the main job. Opens the designer where there is a display and the
designer is installed; otherwise says why and runs a sample bot headless.

The sample bots ship inside the wheel as the package ``botloom.bots``; :func:`bots_dir` finds
them there, or in ``bots/`` of a checkout whose editable install predates that package. The
headless sample writes its files into the data folder, so it runs with umask 077: what it
leaves there is for the owner alone, like the rest of the folder.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

SAMPLE = "csv-report/csv-report.bot.json"


def bots_dir() -> Path:
    """The folder holding the sample bots (one sub-folder each)."""
    try:
        spec = importlib.util.find_spec("botloom.bots")
    except ImportError:
        spec = None
    if spec is not None and spec.submodule_search_locations:
        from importlib.resources import files

        folder = files("botloom.bots")
        if isinstance(folder, Path):
            return folder
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
    if reason is None:  # the designer is its own program: the runner never imports it
        import subprocess

        return subprocess.call([sys.executable, "-m", "botloom.app"])
    sample = bots_dir() / SAMPLE
    if not sample.exists():
        print(f"botloom: {reason}, and the sample bots were not found at {bots_dir()}", file=sys.stderr)
        return 2
    from . import paths
    from .cli import main

    out_dir = paths.home() / "samples" / "csv-report"
    if os.name == "posix":
        os.umask(0o077)  # the sample's files land in the data folder: 0600, like the rest of it
    print(f"botloom: {reason}; running the sample bot {sample.name} headless instead "
          f"(its files go to {out_dir}).", file=sys.stderr)
    return main(["run", str(sample), "--input", f"out_dir={out_dir}"])
