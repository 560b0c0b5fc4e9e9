"""The desktop pack itself: cheap to import, declared the way the designer and CLI need it,
`botloom doctor` checks, and the benchmark's smoke run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("cv2", "numpy", "pyautogui", "mss", "Xlib", "pywinctl", "PIL")


def test_importing_the_pack_loads_no_heavy_library():
    code = ("import sys, json; import botloom.nodes.desktop as d; p = d.pack(); "
            f"print(json.dumps([len(p.nodes), [m for m in {HEAVY!r} if m in sys.modules]]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    count, loaded = json.loads(out.stdout)
    assert count >= 20 and loaded == []


def test_target_params_use_the_screen_target_widget_and_every_node_has_preflight():
    from botloom.nodes.desktop import pack
    from botloom.nodes.desktop.session import preflight

    nodes = {n.id: n for n in pack().nodes}
    for required in ("desktop.launch", "desktop.list_windows", "desktop.find_window", "desktop.wait_window",
                     "desktop.activate_window", "desktop.move_window", "desktop.window_state", "desktop.click",
                     "desktop.double_click", "desktop.right_click", "desktop.move_mouse", "desktop.drag",
                     "desktop.scroll", "desktop.type_text", "desktop.hotkey", "desktop.press_key",
                     "desktop.get_clipboard", "desktop.set_clipboard", "desktop.screenshot", "desktop.find_image",
                     "desktop.wait_image", "desktop.wait_settle"):
        assert required in nodes, required
    for nt in nodes.values():
        assert nt.preflight is preflight, nt.id
    click = nodes["desktop.click"]
    target = next(p for p in click.params if p.name == "target")
    assert target.type == "object" and target.widget == "screen-target"
    assert click.side_effects


def test_doctor_reports_the_display(desktop):
    from botloom.nodes.desktop.doctor import checks

    found = {c.name: c for c in checks()}
    assert found["python packages"].ok is True
    assert found["display"].ok is True and "1280x800" in found["display"].detail
    assert found["window manager"].ok is True and "Openbox" in found["window manager"].detail


def test_doctor_without_display(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    from botloom.nodes.desktop.doctor import checks

    display = next(c for c in checks() if c.name == "display")
    assert display.ok is False and display.detail == "no display: DISPLAY is not set" and "Xvfb" in display.fix


@pytest.mark.slow
def test_quick_benchmark_runs_and_reports_its_figures(tmp_path):
    from bench_helpers import run_quick

    stdout, report = run_quick("desktop", tmp_path)
    assert "click + type 20 chars" in stdout and "find image (1280x800)" in stdout
    assert "targets" in stdout
    figures = report["figures"]
    for key in ("click_type_bot_ms", "click_type_raw_ms", "click_type_ratio", "find_image_bot_ms",
                "find_image_raw_ms", "find_image_ratio"):
        assert figures[key] > 0
