"""The manifest of a template package: what it is, what it needs, what it touches.

``manifest.json`` (format 1)::

    {
      "format": 1,
      "name": "csv-report", "version": "1.0.0", "author": "...", "description": "...", "licence": "MIT",
      "bot": "csv-report.bot.json",
      "packs": {"core": ">=0.1.0"},
      "secrets": {"crm_token": "API token of the CRM"},
      "inputs": {"invoices": {"type": "path", "default": "invoices.csv", "description": "..."}},
      "touches": {"files": ["invoices.csv", "out/summary.json"], "hosts": [], "apps": [], "sites": []},
      "files": {"csv-report.bot.json": "<sha256>", "invoices.csv": "<sha256>"}
    }

What the bot touches is derived from its nodes (:func:`derive_touches`): every parameter of
type ``path``, and the default of every input of type ``path``, is a file or folder, the URL of
``http.request`` a network host, the URL of a browser node a site, the command of
``desktop.launch`` and the window titles of desktop nodes an app. A value computed by an
expression is shown as written, with ``{{ input }}`` replaced by the input's default where it
has one, so ``{{ out_dir }}/summary.json`` reads ``out/summary.json``. The author adds what
cannot be derived (``--touch hosts=api.example.com``).

A manifest read from a package is checked field by field (:meth:`Manifest.from_json`): a
hostile or damaged one gives a :class:`TemplateError` naming the field, never a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..botfile.requires import PACK, BadRequirement
from ..botfile.requires import parse as parse_requirement
from ..errors import BotloomError

FORMAT = 1
TOUCH_KINDS = ("files", "hosts", "apps", "sites")
TOUCH_TITLES = {"files": "files and folders", "hosts": "network hosts", "apps": "desktop apps and windows",
                "sites": "browser sites"}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
SHA256 = re.compile(r"^[0-9a-f]{64}\Z")
BROWSER_URL_NODES = ("browser.open", "browser.goto", "browser.new_tab")
_INPUT = re.compile(r"\{\{\s*(?:inputs\.)?([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class TemplateError(BotloomError):
    """A template that cannot be packed, read, trusted or installed (exit code 2: nothing changed)."""

    exit_code = 2


@dataclass
class Manifest:
    name: str
    version: str = "0.0.0"
    bot: str = ""
    author: str = ""
    description: str = ""
    licence: str = ""
    packs: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, dict] = field(default_factory=dict)
    touches: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in TOUCH_KINDS})
    files: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"format": FORMAT, "name": self.name, "version": self.version, "author": self.author,
                "description": self.description, "licence": self.licence, "bot": self.bot,
                "packs": dict(sorted(self.packs.items())), "secrets": dict(sorted(self.secrets.items())),
                "inputs": dict(sorted(self.inputs.items())),
                "touches": {k: sorted(set(self.touches.get(k, []))) for k in TOUCH_KINDS},
                "files": dict(sorted(self.files.items()))}

    @classmethod
    def from_json(cls, data: Any, where: str) -> "Manifest":
        """Check a manifest read from a package; ``where`` names the package in errors."""
        def bad(key: str, what: str) -> TemplateError:
            return TemplateError(f"manifest.json: '{key}' {what}", where=where,
                                 fix="the package is damaged or was not made by `botloom template pack`; "
                                     "ask its author for a new one")

        if not isinstance(data, dict):
            raise bad("", "must be a JSON object")
        if data.get("format") != FORMAT:
            raise bad("format", f"is {data.get('format')!r}; this Botloom reads template manifests of format "
                                f"{FORMAT}")
        text = {}
        for key in ("name", "version", "author", "description", "licence", "bot"):
            value = data.get(key, "")
            if not isinstance(value, str):
                raise bad(key, "must be text")
            text[key] = value
        if not NAME.match(text["name"]):
            raise bad("name", "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
        maps = {}
        for key in ("packs", "secrets", "inputs", "files"):
            value = data.get(key, {})
            if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
                raise bad(key, "must be an object")
            maps[key] = value
        for pack, spec in maps["packs"].items():
            if not PACK.match(pack) or not isinstance(spec, str):
                raise bad(f"packs/{pack}", "must be a node pack name with a version requirement")
            try:
                parse_requirement(spec)
            except BadRequirement as exc:
                raise bad(f"packs/{pack}", str(exc)) from None
        if not all(isinstance(v, str) for v in maps["secrets"].values()):
            raise bad("secrets", "must map secret names to descriptions")
        if not all(isinstance(v, dict) for v in maps["inputs"].values()):
            raise bad("inputs", "must map input names to declarations")
        for path, digest in maps["files"].items():
            if not isinstance(digest, str) or not SHA256.match(digest):
                raise bad(f"files/{path}", "must be a SHA-256 checksum (64 hex digits)")
            safe_path(path, where)
        if text["bot"] not in maps["files"]:
            raise bad("bot", f"names {text['bot']!r}, which is not among the package's files")
        touches = data.get("touches", {})
        if not isinstance(touches, dict):
            raise bad("touches", "must be an object")
        checked = {}
        for kind in TOUCH_KINDS:
            items = touches.get(kind, [])
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise bad(f"touches/{kind}", "must be a list of texts")
            checked[kind] = items
        return cls(**text, packs=maps["packs"], secrets=maps["secrets"], inputs=maps["inputs"], touches=checked,
                   files=maps["files"])


def safe_path(path: str, where: str) -> str:
    """A package's file path: relative, forward slashes, no ``..``, nothing hidden outside."""
    parts = path.split("/")
    if (not path or path.startswith("/") or "\\" in path or ":" in parts[0]
            or any(p in ("", ".", "..") for p in parts) or "\x00" in path):
        raise TemplateError(f"the package names the file {path[:80]!r}, which would land outside the template's "
                            "folder", where=where, fix="do not install this package: it may be hostile")
    return path


def _fill(value: str, defaults: dict[str, Any]) -> str:
    """``{{ out_dir }}/x`` -> ``out/x`` when ``out_dir`` has a default."""
    return _INPUT.sub(lambda m: str(defaults[m.group(1)]) if m.group(1) in defaults else m.group(0), value)


def _host(url: str) -> str:
    if "{{" in url:
        return url
    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


def typed_nodes(doc: Any, registry: Any):
    """Every node of every flow of ``doc`` with its node type (None for a type not installed:
    reporting that is the validator's job)."""
    for flow in doc.flows().values():
        for spec in flow.nodes.values():
            try:
                yield spec, registry.get(spec.type, spec.version)
            except Exception:  # noqa: BLE001 - an unknown type or version
                yield spec, None


def derive_touches(doc: Any, registry: Any) -> dict[str, list[str]]:
    """What a bot's nodes touch, from their types and their path and URL parameters."""
    found: dict[str, set[str]] = {k: set() for k in TOUCH_KINDS}
    defaults = {name: d.default for name, d in doc.main.inputs.items()
                if isinstance(d.default, (str, int, float)) and not isinstance(d.default, bool)}
    found["files"].update(str(d.default) for d in doc.main.inputs.values() if d.type == "path" and d.default
                          and isinstance(d.default, str))
    for spec, nt in typed_nodes(doc, registry):
        for pname, value in spec.params.items():
            if not isinstance(value, str) or not value.strip():
                continue
            text = _fill(value, defaults)
            param = nt.param(pname) if nt is not None else None
            if param is not None and param.type == "path":
                found["files"].add(text)
            elif spec.type == "http.request" and pname == "url":
                found["hosts"].add(_host(text))
            elif spec.type in BROWSER_URL_NODES and pname == "url":
                found["sites"].add(_host(text))
            elif spec.type == "desktop.launch" and pname == "command":
                found["apps"].add(text)
            elif spec.type.startswith("desktop.") and pname == "title":
                found["apps"].add(f"window '{text}'")
    for host in (doc.settings.get("trust") or {}).get("hosts") or []:
        if isinstance(host, str):
            found["hosts"].add(host)
    return {k: sorted(v) for k, v in found.items()}
