"""How the figures read as text: the terminal's tables, the report's and the dashboard's."""

from __future__ import annotations


def rate(value: float | None, digits: int = 1) -> str:
    """A share as a percentage (``0.125`` -> ``12.5%``); ``-`` when there is nothing to divide by."""
    return "-" if value is None else f"{value:.{digits}%}"


def seconds(value: float | None) -> str:
    """A duration: milliseconds under a second (``95.0 ms``), else seconds (``19.00 s``)."""
    if value is None:
        return "-"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


__all__ = ["number", "rate", "seconds"]
