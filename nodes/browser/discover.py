"""Finding a Chromium-family browser on this machine, without importing Playwright.

Botloom cannot assume ``playwright install`` was possible, so the browser is resolved in this
order, the first that names one wins:

1. the Open browser node's ``browser`` parameter,
2. the bot's ``settings.browser.browser``,
3. the environment variable ``BOTLOOM_BROWSER``,
4. ``auto``: Playwright's own Chromium where it is installed, else a system Google Chrome,
   Microsoft Edge or Chromium.

A choice is ``auto``, ``playwright``, ``chrome``, ``msedge``, ``chromium`` or the path of a
browser executable.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from botloom.runner.sdk import NodeError

ENV = "BOTLOOM_BROWSER"
FAMILIES = ("playwright", "chrome", "msedge", "chromium")
CHOICES = ("auto", *FAMILIES)
AUTO_ORDER = ("playwright", "chrome", "msedge", "chromium")
TITLES = {"playwright": "Playwright's Chromium", "chrome": "Google Chrome", "msedge": "Microsoft Edge",
          "chromium": "Chromium", "path": "browser"}

# executable names looked up on PATH, per family
NAMES = {
    "chrome": ("google-chrome", "google-chrome-stable", "chrome"),
    "msedge": ("microsoft-edge", "microsoft-edge-stable", "msedge"),
    "chromium": ("chromium", "chromium-browser"),
}


def _fixed_paths(family: str) -> list[str]:
    """Well-known install locations outside PATH."""
    if sys.platform == "win32":
        roots = [os.environ.get(k) for k in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA")]
        rel = {"chrome": [r"Google\Chrome\Application\chrome.exe"],
               "msedge": [r"Microsoft\Edge\Application\msedge.exe"],
               "chromium": [r"Chromium\Application\chrome.exe"]}[family]
        return [os.path.join(r, p) for r in roots if r for p in rel]
    if sys.platform == "darwin":
        return {"chrome": ["/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"],
                "msedge": ["/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge"],
                "chromium": ["/Applications/Chromium.app/Contents/MacOS/Chromium"]}[family]
    return {"chrome": ["/opt/google/chrome/chrome"], "msedge": ["/opt/microsoft/msedge/msedge"],
            "chromium": ["/usr/lib/chromium/chromium", "/snap/bin/chromium"]}[family]


def playwright_dirs() -> list[Path]:
    """Where Playwright keeps the browsers ``playwright install`` downloads."""
    override = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    if override and override != "0":
        return [Path(override).expanduser()]
    if sys.platform == "win32":
        return [Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "ms-playwright"]
    if sys.platform == "darwin":
        return [Path.home() / "Library" / "Caches" / "ms-playwright"]
    return [Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ms-playwright"]


def _playwright_candidates() -> list[str]:
    patterns = {"win32": ["chromium-*/chrome-win*/chrome.exe"],
                "darwin": ["chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium",
                           "chromium-*/chrome-mac*/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing"],
                }.get(sys.platform, ["chromium-*/chrome-linux*/chrome"])
    found = []
    for folder in playwright_dirs():
        for pattern in patterns:
            # newest revision first
            found += sorted(glob.glob(str(folder / pattern)), reverse=True)
    return found


@dataclass
class Found:
    family: str          # playwright, chrome, msedge, chromium or path
    executable: str
    title: str = ""

    def describe(self) -> str:
        return f"{self.title or TITLES.get(self.family, self.family)} at {self.executable}"


@dataclass
class Search:
    """What was looked for (for a clear "not found" message) and what was found."""

    looked: list[str] = field(default_factory=list)
    found: list[Found] = field(default_factory=list)


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_family(family: str, search: Search | None = None) -> Found | None:
    search = search if search is not None else Search()
    if family == "playwright":
        search.looked.append(f"Playwright's browsers in {', '.join(map(str, playwright_dirs()))}")
        for path in _playwright_candidates():
            if _executable(path):
                return Found("playwright", path)
        return None
    search.looked.append(f"{TITLES[family]} ({', '.join(NAMES[family])} on PATH, {', '.join(_fixed_paths(family))})")
    for name in NAMES[family]:
        path = shutil.which(name)
        if path:
            return Found(family, path)
    for path in _fixed_paths(family):
        if _executable(path):
            return Found(family, path)
    return None


def find_all() -> Search:
    """Every browser this machine has (for ``botloom doctor``)."""
    search = Search()
    for family in AUTO_ORDER:
        hit = find_family(family, search)
        if hit:
            search.found.append(hit)
    return search


def choose(node_value: str | None, settings: dict | None) -> tuple[str, str]:
    """The browser choice in force and where it came from."""
    if node_value and node_value != "auto":
        return node_value, "the node's browser parameter"
    chosen = (settings or {}).get("browser")
    if chosen and chosen != "auto":
        return str(chosen), "the bot's settings.browser.browser"
    env = os.environ.get(ENV, "").strip()
    if env and env != "auto":
        return env, f"the environment variable {ENV}"
    return "auto", "automatic detection"


HOW_TO_POINT = (f"install one (Debian/Ubuntu: apt-get install chromium; elsewhere Google Chrome or Microsoft Edge; "
                "or `playwright install chromium` where downloads are allowed), or point Botloom at one: set "
                f"{ENV}=/path/to/browser (or chrome, msedge, chromium, playwright), the bot's settings "
                '{"browser": {"browser": ...}}, or the Open browser node\'s browser parameter')


def resolve(choice: str, source: str = "automatic detection") -> Found:
    """The executable for a choice, or a NodeError that says what was looked for and how to fix it."""
    search = Search()
    choice = (choice or "auto").strip()
    key = choice.lower()
    if key == "auto":
        for family in AUTO_ORDER:
            hit = find_family(family, search)
            if hit:
                return hit
        looked = "; ".join(search.looked)
        raise NodeError(f"no Chromium-family browser was found (looked for: {looked})", kind="not_found",
                        fix=HOW_TO_POINT)
    if key in ("edge", "microsoft-edge"):
        key = "msedge"
    if key in ("google-chrome", "chrome-stable"):
        key = "chrome"
    if key in FAMILIES:
        hit = find_family(key, search)
        if hit:
            return hit
        raise NodeError(f"{TITLES[key]} was asked for by {source}, but was not found (looked for: "
                        f"{'; '.join(search.looked)})", kind="not_found",
                        fix=f"install it, or choose another browser ('auto' finds any); {HOW_TO_POINT}")
    path = os.path.expanduser(choice)
    if os.path.isdir(path):
        raise NodeError(f"the browser '{choice}' given by {source} is a folder, not a program", kind="not_found",
                        fix="give the path of the browser's executable (chrome, chrome.exe, msedge, chromium)")
    if not _executable(path):
        on_path = shutil.which(choice)
        if on_path:
            return Found("path", on_path)
        raise NodeError(f"the browser '{choice}' given by {source} does not exist or is not executable",
                        kind="not_found",
                        fix=f"give one of {', '.join(CHOICES)} or the full path of a browser executable; "
                            f"{HOW_TO_POINT}")
    return Found("path", path)
