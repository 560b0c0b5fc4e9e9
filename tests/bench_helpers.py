"""Smoke runs of the benchmark scripts: each area's test runs its script with --quick and
checks that it printed and wrote its figures (never how fast they are)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_quick(name: str, tmp_path: Path, *, env: dict | None = None, timeout: float = 600) -> tuple[str, dict]:
    """Run ``benchmarks/<name>.py --quick --json FILE``; returns what it printed and the figures."""
    out = tmp_path / f"{name}-figures.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), "--quick", "--json", str(out)],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout, json.loads(out.read_text(encoding="utf-8"))
