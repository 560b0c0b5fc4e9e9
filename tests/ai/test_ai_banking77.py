"""Banking77 (77 intents): the trained classifier reaches the 90 % accuracy target on a
stratified 20 % split held back from training (seed 13). Runs the same code path as
`botloom models train` / `evaluate`; skipped when the shared data is absent."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "banking77" / "train.csv"


@pytest.mark.slow
@pytest.mark.skipif(not DATA.exists(), reason=f"Banking77 data not found at {DATA}")
def test_banking77_held_back_accuracy_reaches_target(cli, tmp_path):
    held = tmp_path / "held.csv"
    proc = cli("models", "train", "banking77", "--csv", DATA, "--label-column", "category",
               "--holdout", "0.2", "--seed", "13", "--held-out-csv", held, "--json", timeout=600)
    assert proc.returncode == 0, proc.stderr
    import json

    trained = json.loads(proc.stdout)
    assert trained["metrics"]["n"] == 2001
    evaluated = json.loads(cli("models", "evaluate", "banking77", "--csv", held, "--label-column", "category",
                               "--json", timeout=300).stdout)
    with open(held, newline="", encoding="utf-8") as f:
        held_rows = list(csv.DictReader(f))
    assert len({r["category"] for r in held_rows}) == 77 and len(held_rows) == 2001
    assert evaluated["accuracy"] == trained["metrics"]["accuracy"]
    assert evaluated["accuracy"] >= 0.90, evaluated


@pytest.mark.slow
def test_quick_benchmark_runs_and_reports_its_figures(tmp_path):
    from bench_helpers import run_quick

    stdout, figures = run_quick("ai", tmp_path)
    assert "targets:" in stdout and "single item P95" in stdout
    for key in ("train_s", "sklearn_fit_s", "botloom_single_p95_ms", "botloom_batch_items_s", "ratios"):
        assert key in figures
    assert figures["labels_identical"] is True
