"""Making a template package from a bot file (``botloom template pack BOT``).

What goes in, all relative to the bot's folder (nothing outside it may be packed):

* the bot and every bot it calls (``core.call_bot`` with a literal ``bot`` path), and theirs;
* its sample data: the existing files that literal path parameters and the defaults of path
  inputs name (``invoices.csv``), and the folder's ``README.md``;
* what the author adds with ``include`` (a script the bot's form talks to, say).

The manifest's ``packs`` are the bot's ``requires`` and the packs of every node type used, each
with the bot's own requirement or, where it says ``*``, at least the version installed here.
The zip is written deterministically (sorted entries, fixed times): the same bot packs to the
same bytes, so a package can be rebuilt and compared.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any, Iterable

from .. import botfile
from ..botfile.requires import ANY
from . import signing
from .manifest import TOUCH_KINDS, Manifest, TemplateError, _fill, derive_touches, typed_nodes
from .package import FILES, MANIFEST, SIGNATURE, SUFFIX, sha256

_EPOCH = (1980, 1, 1, 0, 0, 0)


def _inside(root: Path, path: Path, what: str, where: str) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        raise TemplateError(f"{what} {path} lies outside the bot's folder {root}", where=where,
                            fix="move it into the bot's folder (a template holds one folder)") from None


def _literal_paths(doc: Any, registry: Any) -> list[str]:
    """Path values written in the bot (with input defaults filled in) that it may read: candidates
    for sample data. What a node saves to (a ``save`` path parameter) is its output, never packed."""
    defaults = {n: d.default for n, d in doc.main.inputs.items() if isinstance(d.default, str)}
    found = [d.default for d in doc.main.inputs.values() if d.type == "path" and isinstance(d.default, str)]
    written = set()
    for spec, nt in typed_nodes(doc, registry):
        for name, value in spec.params.items():
            param = nt.param(name) if nt is not None else None
            if param is not None and param.type == "path" and isinstance(value, str):
                (written.add if param.path == "save" else found.append)(_fill(value, defaults))
    return [p for p in found if "{{" not in p and p not in written]


def collect(bot_path: Path, registry: Any, include: Iterable[str] = ()) -> tuple[dict[str, bytes], list]:
    """The package's files (relative path: bytes) and the bot documents in it (main bot first)."""
    root = bot_path.resolve().parent
    label = str(bot_path)
    files: dict[str, bytes] = {}
    docs = []
    todo = [bot_path.resolve()]
    while todo:
        path = todo.pop(0)
        rel = _inside(root, path, "the bot", label)
        if rel in files:
            continue
        doc, text = botfile.load_text(path)
        files[rel] = text.encode("utf-8")
        docs.append(doc)
        for flow in doc.flows().values():
            for spec in flow.nodes.values():
                target = spec.params.get("bot")
                if spec.type == "core.call_bot" and isinstance(target, str) and "{{" not in target:
                    todo.append((path.parent / target).resolve())
        for value in _literal_paths(doc, registry):
            candidate = (path.parent / value).resolve()
            if candidate.is_file() and candidate.is_relative_to(root) and not candidate.name.endswith(".bot.json"):
                files.setdefault(candidate.relative_to(root).as_posix(), candidate.read_bytes())
    readme = root / "README.md"
    if readme.is_file():
        files.setdefault("README.md", readme.read_bytes())
    for extra in include:
        path = Path(extra) if Path(extra).is_absolute() else root / extra
        if not path.is_file():
            raise TemplateError(f"there is no file {extra} to include", where=label,
                                fix="give a file inside the bot's folder, relative to it")
        files.setdefault(_inside(root, path, "the included file", label), path.read_bytes())
    return files, docs


def _packs(docs: list, registry: Any, where: str) -> dict[str, str]:
    wanted: dict[str, str] = {}
    for doc in docs:
        for pack, spec in doc.requires.items():
            if wanted.get(pack, ANY) in (ANY, ""):
                wanted[pack] = spec
        for spec, nt in typed_nodes(doc, registry):
            if nt is None:
                raise TemplateError(f"node '{spec.id}' has the type '{spec.type}', which no installed node pack "
                                    "provides", where=doc.label,
                                    fix="install its pack, or fix the bot (`botloom validate`) before packing")
            wanted.setdefault(nt.pack, ANY)
    installed = registry.packs
    for pack, spec in list(wanted.items()):
        if spec in (ANY, ""):
            if pack not in installed:
                raise TemplateError(f"the bot requires the node pack '{pack}', which is not installed here",
                                    where=where, fix="install it, or give the version it needs in 'requires'")
            wanted[pack] = f">={installed[pack].version}"
    return dict(sorted(wanted.items()))


def pack(bot_path: str | os.PathLike, out: str | os.PathLike | None, registry: Any, *, version: str | None = None,
         author: str = "", licence: str = "", description: str | None = None, include: Iterable[str] = (),
         touches: dict[str, list[str]] | None = None, sign_with: str | os.PathLike | None = None) -> Path:
    """Write the package; ``out`` is a file or a folder (default: the current folder). Returns its path."""
    bot_path = Path(bot_path)
    files, docs = collect(bot_path, registry, include)
    main = docs[0]
    found: dict[str, set[str]] = {k: set() for k in TOUCH_KINDS}
    for doc in docs:
        for kind, items in derive_touches(doc, registry).items():
            found[kind].update(items)
    for kind, items in (touches or {}).items():
        if kind not in TOUCH_KINDS:
            raise TemplateError(f"'{kind}' is not something a template touches", where=str(bot_path),
                                fix=f"use one of: {', '.join(TOUCH_KINDS)} (e.g. --touch hosts=api.example.com)")
        found[kind].update(items)
    secrets: dict[str, str] = {}
    for doc in docs:
        secrets.update({k: v for k, v in doc.secrets.items() if k not in secrets})
    manifest = Manifest(name=main.name, version=version or main.version or "0.0.0",
                        bot=next(iter(files)), author=author, licence=licence,
                        description=main.description if description is None else description,
                        packs=_packs(docs, registry, str(bot_path)), secrets=secrets,
                        inputs={n: d.to_json() for n, d in main.main.inputs.items()},
                        touches={k: sorted(v) for k, v in found.items()},
                        files={rel: sha256(data) for rel, data in files.items()})
    Manifest.from_json(manifest.to_json(), str(bot_path))  # what is written must read back
    manifest_bytes = (json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    entries = {MANIFEST: manifest_bytes, **{FILES + rel: data for rel, data in sorted(files.items())}}
    if sign_with is not None:
        entries[SIGNATURE] = signing.sign(manifest_bytes, sign_with)
    target = Path(out) if out is not None else Path.cwd()
    if target.is_dir():
        target = target / f"{manifest.name}-{manifest.version}{SUFFIX}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, _EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, target)
    return target
