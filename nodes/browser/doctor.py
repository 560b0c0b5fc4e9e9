"""`botloom doctor` checks for browser nodes: Playwright, and which browsers this machine has."""

from __future__ import annotations

import importlib.util
import os

from botloom.runner.sdk import Check

from . import discover


def checks() -> list[Check]:
    out = []
    if importlib.util.find_spec("playwright") is None:
        out.append(Check("browser", "playwright", False, "the Python package 'playwright' is not installed",
                         "pip install 'botloom[browser]'"))
    else:
        from importlib.metadata import version

        out.append(Check("browser", "playwright", True, f"playwright {version('playwright')}"))
    search = discover.find_all()
    for family in discover.AUTO_ORDER:
        hit = next((f for f in search.found if f.family == family), None)
        title = discover.TITLES[family]
        if hit:
            out.append(Check("browser", f"{family} browser", True, hit.describe()))
        else:
            out.append(Check("browser", f"{family} browser", None, f"{title}: not found"))
    choice, source = discover.choose(None, {})
    try:
        chosen = discover.resolve(choice, source)
        out.append(Check("browser", "will use", True, f"{chosen.describe()} (by {source})"))
    except Exception as exc:  # NodeError: nothing usable
        out.append(Check("browser", "will use", False, getattr(exc, "message", str(exc)),
                         getattr(exc, "fix", "") or discover.HOW_TO_POINT))
    if os.environ.get(discover.ENV):
        out.append(Check("browser", discover.ENV, True, os.environ[discover.ENV]))
    return out
