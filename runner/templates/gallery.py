"""What the designer's gallery lists, and "new bot from template", without Qt.

:func:`entries` lists the sample bots (``botloom.bots``) and the templates installed in a data
folder, each with its description, inputs, secrets and the bot file to draw. :func:`create`
makes a new bot from one: it copies the template's folder (the bot, the bots it calls, its
sample data) into a folder of the user's choice, sets each input's default to the value the
user gave, and renames the secrets to the names the user keeps them under (the declarations
and every ``secret`` parameter that names them). The copy is the user's own bot, not the
installed template, so it can be changed freely (the installed one cannot).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import botfile
from ..botfile.model import NAME
from .install import installed
from .manifest import TemplateError, typed_nodes


@dataclass
class Entry:
    name: str
    kind: str  # "sample" or "template"
    bot: Path
    description: str = ""
    version: str = ""
    author: str = ""
    signature: str = ""
    inputs: dict[str, dict] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.bot.parent


def _sample(bot: Path) -> Entry | None:
    try:
        doc = botfile.load(bot)
    except Exception:  # noqa: BLE001 - a broken sample is left out of the gallery, not fatal
        return None
    return Entry(doc.name, "sample", bot, doc.description, doc.version, "Botloom", "",
                 {n: d.to_json() for n, d in doc.main.inputs.items()}, dict(doc.secrets))


def entries(home: str | os.PathLike) -> list[Entry]:
    """The installed templates (by name), then the samples (by name)."""
    from ..start import bots_dir

    found = []
    for name, t in sorted(installed(home).items()):
        found.append(Entry(name, "template", Path(t["folder"]) / t["bot"], t.get("description", ""),
                           t.get("version", ""), t.get("author", ""), t.get("signature", ""),
                           dict(t.get("inputs", {})), dict(t.get("secrets", {}))))
    samples = bots_dir()
    for bot in sorted(samples.glob("*/*.bot.json")) if samples.is_dir() else []:
        entry = _sample(bot)
        if entry is not None:
            found.append(entry)
    return found


def required_inputs(entry: Entry) -> list[str]:
    """The inputs a new bot needs a value for: required ones and those without a default."""
    return [n for n, d in entry.inputs.items() if d.get("required") or "default" not in d]


def create(entry: Entry, target: str | os.PathLike, registry: Any, *, name: str | None = None,
           inputs: dict[str, Any] | None = None, secrets: dict[str, str] | None = None) -> Path:
    """Copy the template into the new folder ``target`` as a bot of its own; returns its bot file."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise TemplateError(f"{target} is not empty", where=entry.name, fix="choose a new or empty folder")
    doc = botfile.load(entry.bot)
    inputs = dict(inputs or {})
    for key in inputs:
        if key not in doc.main.inputs:
            raise TemplateError(f"the template has no input '{key}'", where=entry.name,
                                fix=f"its inputs: {', '.join(doc.main.inputs) or 'none'}")
    missing = [n for n in required_inputs(entry) if inputs.get(n) in (None, "")]
    if missing:
        raise TemplateError(f"give a value for the input{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
                            where=entry.name, fix="each is required and has no default")
    renames = {old: new for old, new in (secrets or {}).items() if new and new != old}
    for old, new in renames.items():
        if old not in doc.secrets:
            raise TemplateError(f"the template declares no secret '{old}'", where=entry.name)
        if not NAME.match(new):
            raise TemplateError(f"'{new}' is not a valid secret name", where=entry.name,
                                fix="use letters, digits and _ only, starting with a letter or _")
    for key, value in inputs.items():
        doc.main.inputs[key].default = value
    doc.secrets = {renames.get(k, k): v for k, v in doc.secrets.items()}
    for spec, nt in typed_nodes(doc, registry):
        for pname, value in list(spec.params.items()):
            param = nt.param(pname) if nt is not None else None
            if param is not None and param.type == "secret" and value in renames:
                spec.params[pname] = renames[value]
    if name:
        doc.name = name
    shutil.copytree(entry.folder, target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("out", "__pycache__", "*.pyc"))
    bot = target / entry.bot.name
    botfile.save(doc, bot)
    return bot
