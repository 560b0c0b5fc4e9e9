"""The browser benchmark still runs end to end and prints its figures (its speed is not
checked here: targets live in the benchmark's own report)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_browser_benchmark_prints_its_figures(tmp_path):
    out = tmp_path / "figures.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "browser.py"), "--quick", "--json", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    for label in ("bot (default settings)", "plain Playwright script", "ratio bot / plain script", "targets"):
        assert label in proc.stdout
    figures = json.loads(out.read_text())
    assert set(figures["median_s"]) == {"bot (default settings)", "bot (trace off)", "bot (trace + DOM snapshots)",
                                        "plain Playwright script"}
    assert figures["ratio_bot_vs_plain"] > 0 and figures["config"]["fields"] == 14
