"""The benchmark command still runs end to end (its figures are not checked here: speed
targets live in the benchmark's own report, never in test assertions)."""

from __future__ import annotations


import pytest
from bench_helpers import run_quick


@pytest.mark.slow
def test_quick_benchmark_runs_and_reports_every_figure(tmp_path):
    pytest.importorskip("robot", reason="the benchmark compares against Robot Framework (pip install robotframework)")
    stdout, figures = run_quick("engine", tmp_path)
    assert "targets" in stdout
    assert figures  # the JSON report has content
