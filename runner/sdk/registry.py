"""Finds node types: every pack announced in the ``botloom.nodes`` entry-point group.

Lookups resolve legacy type ids and older node versions, and fail with a suggestion.
A pack that fails to load does not take the others down: it is listed in ``broken``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ..errors import BotloomError, did_you_mean
from .node import NodePack, NodeType

ENTRY_POINT_GROUP = "botloom.nodes"


class UnknownNodeType(BotloomError):
    exit_code = 2


@dataclass
class BrokenPack:
    name: str
    target: str
    error: str


@dataclass
class Registry:
    packs: dict[str, NodePack] = field(default_factory=dict)
    broken: list[BrokenPack] = field(default_factory=list)
    _types: dict[str, dict[int, NodeType]] = field(default_factory=dict)
    _legacy: dict[str, str] = field(default_factory=dict)
    _aliases: dict[str, str] = field(default_factory=dict)

    @classmethod
    def discover(cls) -> "Registry":
        """Load every installed pack (built-in and third-party alike)."""
        from importlib.metadata import entry_points

        registry = cls()
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            try:
                pack = ep.load()
                if callable(pack) and not isinstance(pack, NodePack):
                    pack = pack()
                if not isinstance(pack, NodePack):
                    raise TypeError(f"{ep.value} is not a NodePack")
                registry.add_pack(pack)
            except Exception as exc:  # a broken third-party pack must not break Botloom
                registry.broken.append(BrokenPack(ep.name, ep.value, f"{type(exc).__name__}: {exc}"))
        return registry

    def add_pack(self, pack: NodePack) -> None:
        self.packs[pack.name] = pack
        for nt in pack.nodes:
            self.add(nt)

    def add(self, nt: NodeType) -> None:
        self._types.setdefault(nt.id, {})[nt.version] = nt
        for old in nt.legacy_ids:
            self._legacy[old] = nt.id
        for alias in nt.aliases:
            self._aliases.setdefault(alias.lower(), nt.id)

    def __contains__(self, type_id: str) -> bool:
        return type_id in self._types or type_id in self._legacy

    def ids(self) -> list[str]:
        return sorted(self._types)

    def latest(self) -> list[NodeType]:
        return [versions[max(versions)] for _, versions in sorted(self._types.items())]

    def canonical_id(self, type_id: str) -> str:
        return self._legacy.get(type_id, type_id)

    def get(self, type_id: str, version: int | None = None) -> NodeType:
        """The node type that runs ``type_id`` at ``version`` (latest when None).

        An older version with no implementation of its own is served by the latest one,
        whose ``migrations`` upgrade the parameters (see :meth:`upgrade_params`).
        """
        versions = self._types.get(self.canonical_id(type_id))
        if versions is None:
            raise UnknownNodeType(self.unknown_message(type_id),
                                  fix="check the spelling, or install the node pack that provides it "
                                      "(`botloom nodes` lists what is installed)")
        if version is None or version in versions:
            return versions[max(versions) if version is None else version]
        newest = max(versions)
        if version > newest:
            nt = versions[newest]
            raise UnknownNodeType(
                f"node type '{type_id}' version {version} is newer than the installed one (version {newest})",
                fix=f"upgrade the node pack '{nt.pack}'")
        return versions[newest]

    def unknown_message(self, type_id: str) -> str:
        return f"unknown node type '{type_id}'{did_you_mean(type_id, self.ids())}"

    def upgrade_params(self, nt: NodeType, from_version: int, params: dict) -> dict:
        """Apply ``nt.migrations`` to bring parameters written for ``from_version`` up to date."""
        version = from_version
        while version < nt.version:
            step = nt.migrations.get(version)
            if step is not None:
                params = step(dict(params))
            version += 1
        return params

    def search(self, text: str) -> list[NodeType]:
        """Node types whose id, title, alias or description mention ``text``."""
        needle = text.lower()
        return [nt for nt in self.latest()
                if needle in nt.id or needle in nt.title.lower() or needle in nt.description.lower()
                or any(needle in a.lower() for a in nt.aliases)]

    def fingerprint(self) -> str:
        """Changes whenever an installed pack or node version changes (validation cache key)."""
        parts = sorted(f"{p.name}={p.version}:" + ",".join(f"{n.id}@{n.version}" for n in p.nodes)
                       for p in self.packs.values())
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
