"""The browser benchmark still runs end to end and prints its figures (its speed is not
checked here: targets live in the benchmark's own report)."""

from __future__ import annotations

from bench_helpers import run_quick


def test_quick_browser_benchmark_prints_its_figures(tmp_path):
    stdout, figures = run_quick("browser", tmp_path)
    for label in ("bot (default settings)", "plain Playwright script", "ratio bot / plain script", "targets"):
        assert label in stdout
    assert set(figures["median_s"]) == {"bot (default settings)", "bot (trace off)", "bot (trace + DOM snapshots)",
                                        "plain Playwright script", "short bot (1 round)", "short plain script (1 round)"}
    assert figures["ratio_short_bot_vs_plain"] > 0
    assert figures["ratio_bot_vs_plain"] > 0 and figures["config"]["fields"] == 14
