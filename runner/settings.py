"""User settings in ``settings.json`` in the data folder (``botloom config`` reads and writes it)."""

from __future__ import annotations

import json
import os
from typing import Any

from . import paths
from .errors import BotloomError


class SettingsError(BotloomError):
    exit_code = 2

DEFAULTS: dict[str, Any] = {
    "logs.retention_days": 30,
    "logs.max_runs": 1000,
    "logs.level": "info",
    "ocr.engine": "auto",  # rapidocr, easyocr, tesseract; auto: rapidocr
    "secrets.backend": "auto",  # secret-service, encrypted-file, keyring, environment (runner/secret_backends.py)
    "secrets.plaintext": "refuse",  # allow: accept a keyring backend that keeps secrets as plain text
}


def _file(base=None):
    return (base or paths.home()) / "settings.json"


def load(base=None) -> dict[str, Any]:
    """The settings of the data folder ``base`` (the default one when None), over the defaults."""
    values = dict(DEFAULTS)
    f = _file(base)
    if f.exists():
        try:
            values.update(json.loads(f.read_text(encoding="utf-8")))
        except (ValueError, OSError) as exc:
            raise SettingsError(f"cannot read the settings: {exc}", where=str(f),
                               fix="correct the JSON, or delete the file to return to the defaults") from None
    return values


def get(key: str) -> Any:
    return load().get(key)


def set(key: str, value: str) -> Any:
    if key not in DEFAULTS:
        raise SettingsError(f"unknown setting '{key}'", fix=f"settings: {', '.join(DEFAULTS)}")
    default = DEFAULTS[key]
    try:
        typed = type(default)(value) if not isinstance(default, str) else value
    except ValueError:
        raise SettingsError(f"setting '{key}' takes a {type(default).__name__}, got {value!r}") from None
    current = {k: v for k, v in load().items() if k in DEFAULTS and v != DEFAULTS[k]}
    current[key] = typed
    tmp = _file().with_suffix(".tmp")
    with paths.private_open(tmp, "w", encoding="utf-8") as f:  # 0600, like everything in the data folder
        f.write(json.dumps(current, indent=2) + "\n")
    os.replace(tmp, _file())
    from .audit import record

    record("setting_changed", key=key, value=typed)  # settings decide security (secrets.plaintext): kept in the trail
    return typed
