"""Designer test fixtures: Qt runs offscreen (set before any QApplication exists), every test
gets a fresh main window with the core node pack plus a small test pack (a screen-target
parameter), and its own data folder (from the shared ``botloom_home`` fixture)."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("QT_ACCESSIBILITY", "0")

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

pytest.importorskip("PySide6", reason="the designer needs PySide6 (pip install 'botloom[designer]')")
pytest.importorskip("pytestqt", reason="the designer tests need pytest-qt")

from PySide6.QtCore import QSettings  # noqa: E402

from botloom.runner.sdk.registry import Registry  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "bots" / "csv-report"


PACKS = Path(__file__).resolve().parent / "packs"


def make_registry() -> Registry:
    """The core pack and the test pack (which the child processes find through PYTHONPATH)."""
    import sys

    from botloom.nodes import core

    sys.path.insert(0, str(PACKS))
    try:
        import botloom_uitest_pack
    finally:
        sys.path.remove(str(PACKS))
    reg = Registry()
    reg.add_pack(core.pack())
    reg.add_pack(botloom_uitest_pack.pack())
    return reg


@pytest.fixture(scope="session")
def registry() -> Registry:
    return make_registry()


@pytest.fixture
def win(qtbot, registry, botloom_home, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(PACKS), os.environ.get("PYTHONPATH")])))
    from botloom.app.main import MainWindow, create_app

    create_app([])
    settings = QSettings(str(botloom_home / "designer-test.ini"), QSettings.IniFormat)
    w = MainWindow(registry, settings)
    w.ask_unsaved = lambda: "discard"  # tests that care replace it
    w.real_ask_inputs = w.ask_inputs
    w.ask_inputs = lambda declared, start_at=None: {}  # the run form takes the defaults; tests that care replace it
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    if w.run.running:
        w.run.kill()
        w.run.proc.waitForFinished(5000)
    w.doc = None  # nothing left to save: closing must not ask


@pytest.fixture
def sample(tmp_path) -> Path:
    """A copy of the csv-report sample bot (runs write into its folder)."""
    folder = tmp_path / "csv-report"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("out"))
    return folder / "csv-report.bot.json"


@pytest.fixture
def mousepad_screen(win, registry, tmp_path, monkeypatch):
    """The test window with the desktop pack, and a virtual screen (800x600, with Mousepad on it)
    for what reads the real screen (the desktop recorder's child process, the pickers' stills and
    window list): the designer itself stays offscreen."""
    import subprocess
    import time

    from virtual_display import VirtualDisplay, missing_tools

    from botloom.nodes.desktop import pack
    from botloom.nodes.desktop import windows

    gone = missing_tools(("Xvfb", "openbox", "xdotool", "mousepad"))
    if gone:
        pytest.fail(f"this test needs the system packages of installer/apt/desktop.txt; missing: {', '.join(gone)}")
    reg = Registry()
    for p in registry.packs.values():
        reg.add_pack(p)
    reg.add_pack(pack())
    win.registry = reg
    vd = VirtualDisplay(800, 600, set_environ=False, home=tmp_path / "x-home").start()
    monkeypatch.setenv("DISPLAY", vd.display)
    app = subprocess.Popen(["mousepad"], env=vd.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not windows.matching(windows.list_all(), "Mousepad$"):
        assert time.monotonic() < deadline, "Mousepad did not open"
        time.sleep(0.1)
    time.sleep(0.8)
    yield win, vd
    app.kill()
    vd.stop()
