"""`botloom doctor` checks for desktop automation: Python libraries, display, window manager,
system tools."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess

from botloom.runner.sdk import Check

from .session import DISPLAY_FIX, INSTALL, IS_LINUX, display_problem, screen_scale

AREA = "desktop"


def checks() -> list[Check]:
    found: list[Check] = []
    missing = [m for m in ("pyautogui", "mss", "cv2", "numpy", "PIL") if importlib.util.find_spec(m) is None]
    found.append(Check(AREA, "python packages", not missing,
                       "pyautogui, mss, opencv, numpy, pillow" if not missing else f"missing: {', '.join(missing)}",
                       f"run: {INSTALL}"))
    if missing:
        return found
    problem = display_problem()
    if problem:
        found.append(Check(AREA, "display", False, problem, DISPLAY_FIX))
        return found
    from . import screen

    w, h = screen.screen_size()
    found.append(Check(AREA, "display", True, f"{os.environ.get('DISPLAY', 'desktop')} {w}x{h}, "
                                              f"scaling {screen_scale():.0%}"))
    if IS_LINUX:
        tools = [t for t in ("xdotool", "wmctrl", "xclip") if shutil.which(t) is None]
        found.append(Check(AREA, "system tools", not tools,
                           "xdotool, wmctrl, xclip" if not tools else f"missing: {', '.join(tools)}",
                           "apt-get install -y --no-install-recommends xdotool wmctrl xclip"))
        if shutil.which("wmctrl"):
            proc = subprocess.run(["wmctrl", "-m"], capture_output=True, text=True, timeout=10)
            name = next((line.split(":", 1)[1].strip() for line in proc.stdout.splitlines()
                         if line.startswith("Name:")), "")
            found.append(Check(AREA, "window manager", proc.returncode == 0,
                               name or "none running (windows cannot be activated)",
                               "start a window manager (e.g. openbox) on the display"))
    return found
