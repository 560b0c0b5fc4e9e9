"""The benchmark command still runs end to end (its figures are not checked here: speed
targets live in the benchmark's own report, never in test assertions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_benchmark_runs_and_reports_every_figure(tmp_path):
    pytest.importorskip("robot", reason="the benchmark compares against Robot Framework (pip install robotframework)")
    out = tmp_path / "figures.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "engine.py"), "--quick", "--json", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "targets" in proc.stdout
    figures = json.loads(out.read_text())
    assert figures  # the JSON report has content
