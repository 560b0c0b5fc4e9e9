"""Finds node types: every pack announced in the ``botloom.nodes`` entry-point group.

Lookups resolve legacy type ids and older node versions, and fail with a suggestion.
A pack that fails to load does not take the others down: it is listed in ``broken``.

Lazy loading is thread-safe: one lock covers taking a pack off the pending list, importing
it and adding its node types, so a thread asking for a type while another thread is still
importing that type's pack waits for it instead of being told the type is unknown.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..errors import BotloomError, did_you_mean, quote
from .node import NodePack, NodeType

ENTRY_POINT_GROUP = "botloom.nodes"


class UnknownNodeType(BotloomError):
    exit_code = 2


@dataclass
class BrokenPack:
    name: str
    target: str
    error: str


def load_pack(ep) -> NodePack:
    """The NodePack an entry point names: the pack itself, or a function that returns it."""
    pack = ep.load()
    if callable(pack) and not isinstance(pack, NodePack):
        pack = pack()
    if not isinstance(pack, NodePack):
        raise TypeError(f"{ep.value} is not a NodePack")
    return pack


@dataclass
class Registry:
    """The node types of the installed packs.

    ``discover(lazy=True)`` (what runs use) reads the entry points but imports a pack only
    when a node type of it is asked for: a pack's entry-point name is the prefix of its node
    type ids (``desktop.click`` -> ``desktop``). Anything that needs every pack (listing,
    searching, did-you-mean, ``packs``, ``broken``) loads the rest first, so the two modes
    answer alike; a run of a core-only bot just does not import the desktop, browser, OCR
    and AI packs."""

    _packs: dict[str, NodePack] = field(default_factory=dict)
    _broken: list[BrokenPack] = field(default_factory=list)
    _types: dict[str, dict[int, NodeType]] = field(default_factory=dict)
    _legacy: dict[str, str] = field(default_factory=dict)
    _aliases: dict[str, str] = field(default_factory=dict)
    _pending: dict[str, Any] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    @classmethod
    def discover(cls, lazy: bool = False) -> "Registry":
        """Find every installed pack (built-in and third-party alike); load them now, or on
        first use when ``lazy``."""
        from importlib.metadata import entry_points

        registry = cls()
        registry._pending = {ep.name: ep for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)}
        if not lazy:
            registry._load_all()
        return registry

    def _load(self, name: str) -> None:
        with self._lock:  # held until the pack's types are added: no thread sees it half-loaded
            ep = self._pending.pop(name, None)
            if ep is not None:
                self._import(ep)

    def _import(self, ep: Any) -> None:
        try:
            self.add_pack(load_pack(ep))
        except Exception as exc:  # a broken third-party pack must not break Botloom
            self._broken.append(BrokenPack(ep.name, ep.value, f"{type(exc).__name__}: {exc}"))

    def _load_all(self) -> None:
        if not self._pending:
            return
        with self._lock:
            for name in sorted(self._pending):
                self._load(name)

    def _known(self, type_id: str) -> str | None:
        if type_id in self._types:
            return type_id
        return self._legacy.get(type_id)

    def _find(self, type_id: str) -> str | None:
        """The canonical id of ``type_id`` if some pack has it, loading packs as needed."""
        found = self._known(type_id)
        if found is not None or not self._pending:
            return found
        with self._lock:  # another thread may be importing the very pack that has it: wait for it
            found = self._known(type_id)
            if found is None and self._pending:
                self._load(type_id.split(".", 1)[0])  # the pack named like the prefix
                found = self._known(type_id)
            if found is None and self._pending:
                self._load_all()
                found = self._known(type_id)
        return found

    @property
    def packs(self) -> dict[str, NodePack]:
        self._load_all()
        return self._packs

    @property
    def broken(self) -> list[BrokenPack]:
        self._load_all()
        return self._broken

    def add_pack(self, pack: NodePack) -> None:
        with self._lock:
            self._packs[pack.name] = pack
            for nt in pack.nodes:
                self.add(nt)

    def add(self, nt: NodeType) -> None:
        with self._lock:
            versions = dict(self._types.get(nt.id, ()))
            versions[nt.version] = nt
            self._types[nt.id] = versions  # published whole: a reader without the lock never sees it empty
            for old in nt.legacy_ids:
                self._legacy[old] = nt.id
            for alias in nt.aliases:
                self._aliases.setdefault(alias.lower(), nt.id)

    def __contains__(self, type_id: str) -> bool:
        return self._find(type_id) is not None

    def ids(self) -> list[str]:
        self._load_all()
        return sorted(self._types)

    def latest(self) -> list[NodeType]:
        self._load_all()
        return [versions[max(versions)] for _, versions in sorted(self._types.items())]

    def canonical_id(self, type_id: str) -> str:
        return self._find(type_id) or type_id

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
        return f"unknown node type {quote(type_id)}{did_you_mean(type_id, self.ids())}"

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

    def fingerprint(self, type_ids: Iterable[str] | None = None) -> str:
        """Changes whenever an installed pack or node version changes (validation cache key).
        With ``type_ids``, only the packs that provide those node types count (a bot's
        validation depends on those alone); every pack if one of them is unknown."""
        packs = None
        if type_ids is not None:
            names = set()
            for type_id in set(type_ids):
                found = self._find(type_id)
                if found is None:
                    break
                names.add(self.get(found).pack)
            else:
                packs = [self._packs[n] for n in names if n in self._packs]
        if packs is None:
            packs = list(self.packs.values())
        parts = sorted(f"{p.name}={p.version}:" + ",".join(f"{n.id}@{n.version}" for n in p.nodes) for p in packs)
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
