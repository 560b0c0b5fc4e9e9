"""Trust for shared bots: a bot from elsewhere is held back until someone approves it.

A bot comes *from elsewhere* when it was brought in with ``botloom trust import FILE`` (a bot
mailed, downloaded or shared; template installs will mark theirs the same way). Until it is
approved (``botloom trust approve FILE``), a run of it:

* may read only the secrets it declares in ``secrets`` (any other read fails, naming the
  secret, the bot and the node);
* may not use script-like nodes: ``browser.run_script`` (JavaScript in the page),
  ``desktop.launch`` (any program), ``core.call_bot`` (another bot, which would run without
  these limits);
* may send HTTP requests only to the hosts it declares in its settings,
  ``"settings": {"trust": {"hosts": ["api.example.com"]}}``; a URL computed by an expression
  cannot be checked before the run and is refused too.

The checks of nodes run before the run is recorded, so a refused bot leaves no run behind.
Approval holds for the file's text as approved (its SHA-256): a changed file needs approval
again. Imports and approvals are in the audit trail, with who approved. The state lives in the
data folder's ``trust.json``.

A bot written on this machine (never imported) is trusted as before: the rules protect
against files that come from someone else, not against the machine's own user.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import BotloomError, NodeError

SCRIPT_NODES = {"browser.run_script": "runs JavaScript in the page", "desktop.launch": "starts any program",
                "core.call_bot": "runs another bot without these limits"}


class TrustError(BotloomError):
    """A bot from elsewhere does what it may not before approval (exit code 2: nothing ran)."""

    exit_code = 2


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class TrustStore:
    def __init__(self, home: str | os.PathLike):
        self.home = Path(home)
        self.file = self.home / "trust.json"

    def _load(self) -> dict:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"format": 1, "imported": {}, "approved": {}}
        except (OSError, ValueError) as exc:
            raise TrustError(f"cannot read the trust decisions in {self.file}: {exc}",
                             fix="restore the file from a backup; `botloom audit export` lists the decisions") from None
        return data

    def _save(self, data: dict) -> None:
        from . import paths

        paths.private_dir(self.home)
        tmp = self.file.with_suffix(".tmp")
        with paths.private_open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, self.file)

    def import_bot(self, source: str | os.PathLike, folder: str | os.PathLike) -> Path:
        """Copy a bot from elsewhere into ``folder``, held back until approved."""
        from .audit import AuditTrail

        source = Path(source)
        if not source.is_file():
            raise TrustError(f"there is no bot file {source}", fix="give the path of a *.bot.json file")
        target = Path(folder).resolve() / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() and target.resolve() != source.resolve():
            raise TrustError(f"{target} exists already", fix="move it away, or import into another folder")
        if target.resolve() != source.resolve():
            shutil.copyfile(source, target)
        text = target.read_text(encoding="utf-8")
        data = self._load()
        data["imported"][str(target)] = {"from": str(source.resolve()), "sha256": _digest(text)}
        data["approved"].pop(str(target), None)
        self._save(data)
        AuditTrail(self.home).record("bot_imported", bot_path=str(target), source=str(source.resolve()),
                                     bot_hash=_digest(text))
        return target

    def approve(self, path: str | os.PathLike, *, by: str | None = None) -> dict:
        """Approve the bot file as it is now; recorded with who approved and what it may do."""
        from . import botfile
        from .audit import AuditTrail, _user

        path = Path(path).resolve()
        doc, text = botfile.load_text(path)
        data = self._load()
        if str(path) not in data["imported"]:
            raise TrustError(f"{path} was not imported, so it needs no approval",
                             fix="`botloom trust list` shows the bots held back")
        decision = {"sha256": _digest(text), "by": by or _user(), "secrets": sorted(doc.secrets),
                    "scripts": sorted({s.type for f in doc.flows().values() for s in f.nodes.values()
                                       if s.type in SCRIPT_NODES}),
                    "hosts": _declared_hosts(doc)}
        data["approved"][str(path)] = decision
        self._save(data)
        AuditTrail(self.home).record("trust_approved", bot_path=str(path), bot=doc.name, bot_hash=decision["sha256"],
                                     by=decision["by"], secrets=decision["secrets"], scripts=decision["scripts"],
                                     hosts=decision["hosts"])
        return decision

    def held_back(self) -> dict[str, dict]:
        """The imported bots not approved as they are now (path: what is known of it)."""
        data = self._load()
        found = {}
        for path, info in data["imported"].items():
            try:
                current = _digest(Path(path).read_text(encoding="utf-8"))
            except OSError:
                continue
            if data["approved"].get(path, {}).get("sha256") != current:
                found[path] = dict(info, changed=path in data["approved"])
        return found

    def untrusted(self, path: str | os.PathLike | None, text: str) -> dict | None:
        """What is known of the bot when it is held back, else None (trusted)."""
        if not path or not self.file.exists():
            return None
        key = str(Path(path).resolve())
        data = self._load()
        info = data["imported"].get(key)
        if info is None or data["approved"].get(key, {}).get("sha256") == _digest(text):
            return None
        return dict(info, path=key)


def check(home: str | os.PathLike, doc: Any, path: str | os.PathLike | None, text: str) -> dict | None:
    """Refuse (TrustError) a held-back bot that uses script nodes or undeclared hosts; returns what
    is known of a held-back bot (for :func:`restrict`), or None for a trusted one."""
    info = TrustStore(home).untrusted(path, text)
    if info is None:
        return None
    hosts = set(_declared_hosts(doc))
    approve = f"review it, then `botloom trust approve {info['path']}`"
    for flow in doc.flows().values():
        for spec in flow.nodes.values():
            where = f"{doc.label}: node '{spec.id}' ({spec.type})"
            if spec.type in SCRIPT_NODES:
                raise TrustError(f"this bot comes from elsewhere ({info['from']}) and is not approved: its node "
                                 f"'{spec.id}' {SCRIPT_NODES[spec.type]}", where=where, fix=approve)
            if spec.type == "http.request":
                url = str(spec.params.get("url", ""))
                host = urlsplit(url).hostname if "{{" not in url else None
                if host is None or host not in hosts:
                    what = f"host '{host}'" if host else f"a URL computed at run time ({url!r})"
                    raise TrustError(f"this bot comes from elsewhere ({info['from']}) and is not approved: node "
                                     f"'{spec.id}' sends a request to {what}, which the bot does not declare",
                                     where=where, fix=f"declare it in \"settings\": {{\"trust\": {{\"hosts\": [...]}}}}"
                                                      f" and {approve}")
    return info


class DeclaredSecrets:
    """A secret store that gives a held-back bot only the secrets it declares."""

    def __init__(self, store: Any, doc: Any, info: dict):
        self.store, self.declared, self.info, self.bot = store, set(doc.secrets), info, doc.label
        self.home = getattr(store, "home", None)

    def secret(self, name: str):
        from .sdk.types import Secret

        return Secret(name, self.get)

    def get(self, name: str) -> str:
        if name not in self.declared:
            raise NodeError(f"bot {self.bot} comes from elsewhere ({self.info['from']}) and may read only the secrets "
                            f"it declares; it asked for '{name}'", kind="secret",
                            fix=f"if it should, declare '{name}' in its 'secrets' and `botloom trust approve "
                                f"{self.info['path']}`")
        return self.store.get(name)


def restrict(store: Any, doc: Any, info: dict | None) -> Any:
    """The secret store a run of ``doc`` gets: limited to its declared secrets while it is held back."""
    return store if info is None else DeclaredSecrets(store, doc, info)


def _declared_hosts(doc: Any) -> list[str]:
    hosts = (doc.settings.get("trust") or {}).get("hosts") or []
    return sorted(str(h).lower() for h in hosts if isinstance(h, str))
