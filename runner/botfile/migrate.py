"""Forward migrations of the bot file format.

``CURRENT_FORMAT`` is the version this Botloom writes. ``MIGRATIONS[n]`` turns the raw JSON
of format ``n`` into format ``n + 1``; loading applies them in order, so a file of any older
format opens, and saving writes the current format. A file of a newer format is refused:
silently dropping what a newer Botloom wrote would lose a user's work.

When the format changes: bump ``CURRENT_FORMAT``, add ``MIGRATIONS[old] = function``, keep a
file of the old format in ``tests/data/formats/`` and a test that it loads.

Format 2 added ``requires`` (the node packs a bot needs, with versions): a format 1 file gets
the packs its node types come from, each with any version (``requires.infer``).
"""

from __future__ import annotations

from typing import Callable

from . import requires as _requires

CURRENT_FORMAT = 2


def _declare_requires(data: dict) -> dict:
    """Format 1 -> 2: ``requires`` from the node types (kept as it is if a file has one)."""
    if "requires" not in data:
        found = _requires.infer(_requires.node_types(data))
        if found:
            data["requires"] = found
    return data


MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _declare_requires}


def migrate(data: dict, from_format: int) -> dict:
    version = from_format
    while version < CURRENT_FORMAT:
        step = MIGRATIONS.get(version)
        if step is None:
            raise LookupError(f"no migration from format {version} to {version + 1}")
        data = step(data)
        version += 1
    data["format"] = CURRENT_FORMAT
    return data
