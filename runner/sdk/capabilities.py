"""Capabilities: what one node pack offers another at run time, with no import between them.

A pack names what it offers in its :class:`NodePack`, as ``"module:attribute"`` targets that
are imported only when first asked for::

    NodePack.from_modules("ocr", VERSION, [nodes],
                          provides={"ocr.text_search": "botloom.nodes.ocr.api:TextSearch"})

and a node of another pack asks for it by name when it needs it::

    TextSearch = capability("ocr.text_search", purpose="text targets",
                            install="pip install 'botloom[ocr]'")

A capability's name starts with the name of the pack expected to provide it (``ocr.``): the
lookup loads that pack first, through the ``botloom.nodes`` entry points the registry reads,
then the other installed packs, so a third-party pack can provide a capability too. When no
installed pack provides it, or its provider fails to import, the node fails with a
``MissingDependencyError`` that names what needed it and the install command. Found
capabilities are kept for the life of the process.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from ..errors import MissingDependencyError

__all__ = ["capability"]

_found: dict[str, Any] = {}
_packs: dict[str, Any] = {}  # entry-point name -> NodePack, or the text of why it failed to load
_lock = threading.RLock()  # re-entrant: a provider may ask for a capability while it loads


def capability(name: str, *, purpose: str, install: str) -> Any:
    """The object a pack provides under ``name``. ``purpose`` (what needs it, as a noun:
    "text targets", "screen reading") and ``install`` (the command that installs a provider)
    word the error."""
    with _lock:
        if name in _found:
            return _found[name]
        target, why = _provider(name)
        if target is None:
            raise MissingDependencyError(f"cannot use {purpose}: no installed node pack provides the "
                                         f"capability '{name}'{why}", fix=f"run: {install}",
                                         details={"capability": name})
        try:
            value = _resolve(target)
        except Exception as exc:  # noqa: BLE001 - a broken provider is reported, not raised as is
            raise MissingDependencyError(f"cannot use {purpose}: the provider of the capability '{name}', "
                                         f"{target}, cannot be loaded: {type(exc).__name__}: {exc}",
                                         fix=f"reinstall the pack that provides it: {install}",
                                         details={"capability": name, "provider": target}) from None
        _found[name] = value
        return value


def _provider(name: str) -> tuple[str | None, str]:
    """The target that provides ``name``, and why none does (for the message)."""
    from importlib.metadata import entry_points

    from .registry import ENTRY_POINT_GROUP

    prefix = name.split(".", 1)[0]
    eps = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name != prefix, e.name))
    broken = []
    for ep in eps:
        pack = _pack(ep)
        if isinstance(pack, str):
            broken.append(f"'{ep.name}' ({pack})")
            continue
        target = pack.provides.get(name)
        if target is not None:
            return target, ""
    why = f"; these packs failed to load: {', '.join(broken)}" if broken else ""
    if not any(ep.name == prefix for ep in eps):
        why = f" (the '{prefix}' node pack is not installed){why}"
    return None, why


def _pack(ep) -> Any:
    if ep.name not in _packs:
        from .registry import load_pack

        try:
            _packs[ep.name] = load_pack(ep)
        except Exception as exc:  # noqa: BLE001 - one broken pack must not hide the others
            _packs[ep.name] = f"{type(exc).__name__}: {exc}"
    return _packs[ep.name]


def _resolve(target: str) -> Any:
    module, _, attr = target.partition(":")
    value: Any = importlib.import_module(module)
    for part in attr.split("."):
        value = getattr(value, part)
    return value
