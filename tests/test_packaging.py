"""The distribution ships every package of the source tree and announces every pack."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_source_package_is_listed():
    tool = _config()["tool"]["setuptools"]
    listed = set(tool["packages"])
    found = set()
    for name, folder in tool["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([name, *rel.parts]))
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - found == set(), "these listed packages have no folder"


def test_every_node_pack_folder_has_an_entry_point():
    packs = _config()["project"]["entry-points"]["botloom.nodes"]
    folders = {p.parent.name for p in (ROOT / "nodes").glob("*/__init__.py")}
    assert folders == set(packs)
