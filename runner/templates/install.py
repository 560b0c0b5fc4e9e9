"""Installing, listing and removing templates, and checking installed ones at run time.

Installing (:func:`install`) reads and checks the package (:mod:`.package`), refuses it when a
node pack it needs is missing or too old (naming the pack and the version), then shows the
trust summary (:func:`summary`: who signed it, what it will be able to touch, the packs and
secrets it needs, which of those secrets are not set here) and asks. The answer is recorded
in the audit trail either way (``template_installed`` or ``template_declined``, with the
signature's status, the key id and what the template touches).

An installed template lives in the data folder's ``templates/NAME/``; ``templates/index.json``
keeps each file's SHA-256 from the manifest. Its bot is marked as coming from elsewhere and,
since installing is the review, approved by the user who installed it (``trust.py``), so the
approval lapses if the bot file changes. :func:`check_installed`, called by the Runner when it
loads a bot, refuses a run of a template whose files changed since, naming the file.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from ..botfile.requires import satisfied
from . import signing
from .manifest import TOUCH_KINDS, TOUCH_TITLES, TemplateError
from .package import Package, read_package, sha256


def templates_dir(home: str | os.PathLike) -> Path:
    return Path(home) / "templates"


def _index_file(home: str | os.PathLike) -> Path:
    return templates_dir(home) / "index.json"


def installed(home: str | os.PathLike) -> dict[str, dict]:
    """The installed templates by name (what :func:`install` recorded)."""
    path = _index_file(home)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise TemplateError(f"cannot read the list of installed templates {path}: {exc}",
                            fix="restore it from a backup, or remove it and install the templates again") from None
    return data.get("templates", {}) if isinstance(data, dict) else {}


def _save_index(home: str | os.PathLike, templates: dict) -> None:
    from .. import paths

    folder = paths.private_dir(templates_dir(home))
    tmp = folder / f".index.json.tmp{os.getpid()}"
    with paths.private_open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps({"format": 1, "templates": templates}, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, folder / "index.json")


def needs(pkg: Package, registry: Any, secrets: Any = None) -> dict[str, list[str]]:
    """What is missing here: ``packs`` (refuse: nothing would run) and ``secrets`` (set them later)."""
    missing_packs = []
    packs = registry.packs
    for name, spec in sorted(pkg.manifest.packs.items()):
        if name not in packs:
            missing_packs.append(f"node pack '{name}' ({spec}) is not installed")
        elif not satisfied(spec, packs[name].version):
            missing_packs.append(f"node pack '{name}' {spec} is needed, {packs[name].version} is installed")
    missing_secrets = []
    if pkg.manifest.secrets:
        try:
            have = set(secrets.names()) if secrets is not None else set()
        except Exception:  # noqa: BLE001 - no keyring: say the secrets could not be checked
            have = set()
        missing_secrets = [n for n in sorted(pkg.manifest.secrets) if n not in have]
    return {"packs": missing_packs, "secrets": missing_secrets}


def summary(pkg: Package, missing: dict[str, list[str]]) -> str:
    """The trust summary shown before installing."""
    m = pkg.manifest
    lines = [f"Template {m.name} {m.version}" + (f" by {m.author}" if m.author else ""),
             *([f"  {m.description}"] if m.description else []),
             f"Signature: {pkg.verdict.describe()}"]
    if pkg.verdict.status == signing.UNSIGNED:
        lines.append("  WARNING: anyone could have made or changed this package")
    elif pkg.verdict.status == signing.UNKNOWN:
        lines.append(f"  WARNING: trust the author's key first if you know it "
                     f"(`botloom template trust-key FILE.pub`; key id {pkg.verdict.key_id})")
    lines.append("It will be able to touch (relative paths are inside the template's folder):")
    for kind in TOUCH_KINDS:
        items = m.touches.get(kind) or []
        lines.append(f"  {TOUCH_TITLES[kind]}: {', '.join(items) if items else 'none'}")
    lines.append(f"Node packs: {', '.join(f'{p} {s}' for p, s in m.packs.items()) or 'none'}")
    lines.append(f"Secrets (by name): {', '.join(m.secrets) or 'none'}")
    for problem in missing["packs"]:
        lines.append(f"  MISSING: {problem}")
    for name in missing["secrets"]:
        lines.append(f"  not set here: secret '{name}' (set it with `botloom secret set {name}` before running)")
    lines.append(f"Licence: {m.licence or 'not given'}; files: {len(m.files)}")
    return "\n".join(lines)


def _audit_fields(pkg: Package, by: str) -> dict:
    m = pkg.manifest
    return {"template": m.name, "version": m.version, "author": m.author, "signature": pkg.verdict.status,
            "key_id": pkg.verdict.key_id, "signer": pkg.verdict.signer, "package": str(Path(pkg.path).resolve()),
            "manifest_hash": sha256(pkg.manifest_bytes), "touches": m.touches, "packs": m.packs,
            "secrets": sorted(m.secrets), "by": by}


def install(path: str | os.PathLike, home: str | os.PathLike, registry: Any, *, secrets: Any = None,
            decide: Callable[[str], bool] = lambda text: True, replace: bool = False, by: str | None = None) -> dict:
    """Install the package into the data folder; ``decide`` is shown the trust summary and says yes
    or no. Returns the index entry. Raises TemplateError when refused or declined."""
    from .. import paths
    from ..audit import AuditTrail, _user
    from ..trust import TrustStore

    home = Path(home)
    pkg = read_package(path, home)
    m = pkg.manifest
    missing = needs(pkg, registry, secrets)
    if missing["packs"]:
        raise TemplateError(f"the template '{m.name}' needs what is not installed here: {'; '.join(missing['packs'])}",
                            where=str(path), fix="install the node pack (e.g. pip install 'botloom[desktop]' for "
                                                 "the desktop pack), then install the template again")
    index = installed(home)
    if m.name in index and not replace:
        raise TemplateError(f"a template '{m.name}' is installed already (version {index[m.name]['version']})",
                            where=str(path), fix="add --replace to install this one over it, or remove it first")
    by = by or _user()
    trail = AuditTrail(home)
    if not decide(summary(pkg, missing)):
        trail.record("template_declined", **_audit_fields(pkg, by))
        raise TemplateError(f"the template '{m.name}' was not installed: the installation was declined",
                            where=str(path))
    root = paths.private_dir(templates_dir(home))
    folder = root / m.name
    staging = root / f".{m.name}.installing{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    for rel, data in pkg.files.items():
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(staging, folder)
    bot = folder / m.bot
    entry = {"name": m.name, "version": m.version, "author": m.author, "description": m.description,
             "licence": m.licence, "folder": str(folder), "bot": m.bot, "files": m.files, "packs": m.packs,
             "secrets": m.secrets, "inputs": m.inputs, "touches": m.touches, "signature": pkg.verdict.status,
             "key_id": pkg.verdict.key_id, "signer": pkg.verdict.signer, "by": by,
             "installed": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    index[m.name] = entry
    _save_index(home, index)
    trust = TrustStore(home)
    trust.import_bot(bot, bot.parent)
    trust.approve(bot, by=by)
    trail.record("template_installed", **_audit_fields(pkg, by), folder=str(folder))
    return entry


def remove(home: str | os.PathLike, name: str) -> dict:
    from ..audit import AuditTrail
    from ..errors import did_you_mean

    index = installed(home)
    if name not in index:
        raise TemplateError(f"no template '{name}' is installed{did_you_mean(name, index)}",
                            fix="`botloom template list` shows the installed ones")
    entry = index.pop(name)
    shutil.rmtree(templates_dir(home) / name, ignore_errors=True)
    _save_index(home, index)
    AuditTrail(home).record("template_removed", template=name, version=entry.get("version", ""))
    return entry


def check_installed(home: str | os.PathLike, bot_path: str | os.PathLike) -> None:
    """Refuse (TemplateError) a bot of an installed template whose files changed since it was
    installed. A bot outside the data folder's ``templates/`` costs one path comparison."""
    root = templates_dir(home).resolve()
    path = Path(bot_path).resolve()
    if not path.is_relative_to(root):
        return
    name = path.relative_to(root).parts[0]
    entry = installed(home).get(name)
    if entry is None:
        return
    folder = root / name
    for rel, digest in sorted(entry.get("files", {}).items()):
        try:
            current = sha256((folder / rel).read_bytes())
        except FileNotFoundError:
            current = None
        except OSError as exc:
            raise TemplateError(f"cannot read {rel} of the installed template '{name}': {exc.strerror}",
                                where=str(path)) from None
        if current != digest:
            what = "was deleted" if current is None else "was changed"
            raise TemplateError(f"the file {rel} of the installed template '{name}' {what} after it was installed; "
                                "the run was refused", where=str(path),
                                fix="install the template again (`botloom template install PACKAGE --replace`), or "
                                    "copy its folder elsewhere to make it your own bot")
