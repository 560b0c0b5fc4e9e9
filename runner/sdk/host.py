"""What a pack may use of the Botloom installation it runs in: its folders in the data
folder, the user's settings, a lock between processes, file checksums.

Botloom keeps runs, logs, artifacts and settings in one data folder (``BOTLOOM_HOME``, or the
platform's user data folder). A pack never builds paths into it by hand: it asks for a
folder of its own, named after the pack, and for a cache folder (files it can derive again)::

    from botloom.runner.sdk import cache_dir, data_dir

    db = data_dir("crm") / "contacts.sqlite"     # <data folder>/crm/
    models = cache_dir("crm-models")             # <data folder>/cache/crm-models/

Folder names the runner itself uses are refused, so a pack cannot write over the run store
or the logs by choosing an unlucky name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .. import paths
from ..errors import BotloomError

__all__ = ["cache_dir", "data_dir", "read_setting"]

FOLDER_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
# What the runner and the designer keep at the top of the data folder (see runner/paths.py).
RESERVED = frozenset({"artifacts", "autosave", "cache", "locks", "logs", "samples"})


def _checked(name: str, what: str) -> str:
    if not isinstance(name, str) or not FOLDER_NAME.match(name):
        raise BotloomError(f"{what} {name!r} is not a valid folder name",
                           fix="name it after the pack: lower-case letters, digits, '-' and '_', "
                               "starting with a letter (e.g. 'crm')")
    return name


def data_dir(name: str, *, create: bool = True) -> Path:
    """``<data folder>/<name>``: a pack's own files (databases, registries, state). Created,
    private to the user (0700) as every folder of the data folder is, unless ``create`` is
    false (a reader that must not leave an empty folder behind)."""
    _checked(name, "data folder")
    if name in RESERVED:
        raise BotloomError(f"the data folder '{name}' belongs to Botloom itself",
                           fix=f"name the pack's folder after the pack; taken: {', '.join(sorted(RESERVED))}")
    path = paths.home() / name
    return paths.private_dir(path) if create else path


def cache_dir(name: str) -> Path:
    """``<data folder>/cache/<name>``, created (0700): files the pack can make again (converted
    models, downloads). A user may delete the cache folder at any time."""
    return paths.cache_dir(_checked(name, "cache folder"))


def read_setting(key: str) -> Any:
    """The value of a user setting (``botloom config KEY``), its default when unset, None
    for a key nobody set. Raises a ``BotloomError`` with a fix when settings.json is broken."""
    from .. import settings

    return settings.get(key)
