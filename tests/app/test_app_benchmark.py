"""The designer benchmark still runs end to end and prints every figure (its speed is not
checked here: targets live in the benchmark's own report)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_designer_benchmark_quick_prints_its_figures(tmp_path):
    out = tmp_path / "figures.json"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", BOTLOOM_HOME=str(tmp_path / "home"))
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "designer.py"), "--quick", "--json", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    for label in ("open + render a 500-node bot", "memory with it open", "designer start to first paint",
                  "targets:"):
        assert label in proc.stdout
    figures = json.loads(out.read_text())
    for key in ("open_render_s", "peer_bare_scene_s", "rss_mb", "peer_empty_window_rss_mb", "start_s",
                "peer_empty_window_start_s", "then_validate_s"):
        assert figures[key] > 0, key
