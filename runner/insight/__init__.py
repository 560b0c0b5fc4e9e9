"""Operations insight: what the run store adds up to.

    figures.py   runs, rates, failure reasons, latency percentiles (per step and per run, computed
                 in SQL, exact), throughput, intervention and straight-through rates, review
                 turnaround, task queue waiting, model confidences and drift; per bot, node type
                 and period
    roi.py       cost per transaction, hours saved and net saving, from the ``roi.*`` settings and
                 each bot's ``settings.roi``
    report.py    ``botloom report``: one self-contained HTML file of charts (plotly, its JS inlined)
    alerts.py    thresholds per bot (``alerts.*`` settings, ``settings.alerts``) and their check
    tracing.py   an OpenTelemetry listener: a span per step, when an exporter is configured

Nothing here imports Qt; plotly and OpenTelemetry load only in the functions that use them
(the ``insight`` extra: ``pip install 'botloom[insight]'``). The commands are in
``runner/cli_insight.py``, the designer's dashboard in ``app/dashboard.py``.
"""

from typing import Any

__all__ = ["Figures", "Period", "compute"]


def __getattr__(name: str) -> Any:
    """The figures' names, imported when first asked for: a run imports ``tracing`` from this
    package at its start and must not pay for the figures (~5 ms)."""
    if name in __all__:
        from . import figures

        return getattr(figures, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
