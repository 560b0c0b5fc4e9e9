"""Smoke run of benchmarks/service.py: it runs, prints every figure and writes them (never how fast)."""

from __future__ import annotations

import pytest
from bench_helpers import run_quick


@pytest.mark.slow
def test_the_service_benchmark_runs_and_reports_every_figure(tmp_path):
    out, figures = run_quick("service", tmp_path)
    for label in ("(a) start-up", "(b) fire time -> bot's first step", "(c) scheduler fire lag", "(d) idle", "targets:"):
        assert label in out, out
    assert figures["lag"]["n"] == figures["config"]["fires"] and figures["lag"]["peer_n"] >= 1
    assert figures["idle"]["service"]["rss_mb"] > 0 and figures["idle"]["peer"]["rss_mb"] > 0
    assert len(figures["targets"]) == 3
