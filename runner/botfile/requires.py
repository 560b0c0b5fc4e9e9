"""What a bot requires: node packs and the versions it was made for (``requires``, format 2).

``requires`` maps a node pack's name to a version requirement::

    "requires": {"core": ">=0.1.0", "desktop": ">=0.1, <2"}

A requirement is ``*`` (any version), a bare version (``0.1.0``, read as ``>=0.1.0``), or
clauses joined by commas, each an operator (``>=``, ``<=``, ``==``, ``!=``, ``>``, ``<``) and a
version of dot-separated whole numbers. Versions compare number by number (``0.10 > 0.9``);
an installed version with a suffix (``1.2.0rc1``) compares by its leading numbers. This is a
deliberately small subset of PEP 440: enough for packs, with no dependency on ``packaging``.

Format 1 files have no ``requires``: :func:`infer` finds the packs from the node types (the
pack named like a type's prefix, as the registry looks them up; the built-in ``core`` pack also
holds ``data.``, ``files.``, ``http.`` and ``text.`` types), each with ``*``, since a format 1
file never said which versions it was made with.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

PACK = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}\Z")
CORE_PREFIXES = frozenset({"core", "data", "files", "http", "text"})
ANY = "*"
_CLAUSE = re.compile(r"^\s*(>=|<=|==|!=|>|<)?\s*(\d+(?:\.\d+){0,3})\s*\Z")
_LEADING = re.compile(r"^\s*v?(\d+(?:\.\d+)*)")


class BadRequirement(ValueError):
    """A requirement that is not of the form above (the message says what is wrong)."""


def parse(spec: str) -> list[tuple[str, tuple[int, ...]]]:
    """The clauses of a requirement as (operator, version); ``[]`` for any version."""
    if not isinstance(spec, str):
        raise BadRequirement(f"a version requirement is text such as '>=1.0', got {type(spec).__name__}")
    if spec.strip() in ("", ANY):
        return []
    clauses = []
    for part in spec.split(","):
        match = _CLAUSE.match(part)
        if not match:
            raise BadRequirement(f"'{part.strip()[:40]}' is not a version requirement: write an operator "
                                 "(>=, <=, ==, !=, >, <) and a version such as 1.2.0, or * for any version")
        clauses.append((match.group(1) or ">=", version_tuple(match.group(2))))
    return clauses


def version_tuple(version: str) -> tuple[int, ...]:
    """``"1.2.0rc1"`` -> ``(1, 2, 0)``; text with no leading number -> ``()``."""
    match = _LEADING.match(str(version))
    return tuple(int(p) for p in match.group(1).split(".")) if match else ()


def _cmp(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    width = max(len(a), len(b))
    a, b = a + (0,) * (width - len(a)), b + (0,) * (width - len(b))
    return (a > b) - (a < b)


_OPS = {">=": lambda c: c >= 0, "<=": lambda c: c <= 0, "==": lambda c: c == 0, "!=": lambda c: c != 0,
        ">": lambda c: c > 0, "<": lambda c: c < 0}


def satisfied(spec: str, installed: str) -> bool:
    """Whether the installed version meets the requirement (raises BadRequirement for a bad one)."""
    have = version_tuple(installed)
    return all(_OPS[op](_cmp(have, want)) for op, want in parse(spec))


def infer(nodes: Iterable[Any]) -> dict[str, str]:
    """The packs that node type ids (``core.log``, ``desktop.click``...) come from, each with ``*``.
    Anything that is not a text type id is skipped: this runs on raw JSON, before it is checked."""
    found = {}
    for type_id in nodes:
        if not isinstance(type_id, str) or "." not in type_id:
            continue
        prefix = type_id.split(".", 1)[0]
        pack = "core" if prefix in CORE_PREFIXES else prefix
        if PACK.match(pack):
            found[pack] = ANY
    return dict(sorted(found.items()))


def node_types(data: dict) -> list:
    """The ``type`` of every node of the main flow and the subflows of raw bot JSON."""
    flows = [data]
    subflows = data.get("subflows")
    if isinstance(subflows, dict):
        flows += [f for f in subflows.values() if isinstance(f, dict)]
    types = []
    for flow in flows:
        nodes = flow.get("nodes")
        if isinstance(nodes, dict):
            types += [spec.get("type") for spec in nodes.values() if isinstance(spec, dict)]
    return types
