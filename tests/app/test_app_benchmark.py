"""The designer benchmark still runs end to end and prints every figure (its speed is not
checked here: targets live in the benchmark's own report)."""

from __future__ import annotations

import os

import pytest
from bench_helpers import run_quick


@pytest.mark.slow
def test_designer_benchmark_quick_prints_its_figures(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", BOTLOOM_HOME=str(tmp_path / "home"))
    stdout, figures = run_quick("designer", tmp_path, env=env)
    for label in ("open + render a 500-node bot", "memory with it open", "designer start to first paint",
                  "targets:"):
        assert label in stdout
    for key in ("open_render_s", "peer_bare_scene_s", "rss_mb", "peer_empty_window_rss_mb", "start_s",
                "peer_empty_window_start_s", "then_validate_s"):
        assert figures[key] > 0, key
