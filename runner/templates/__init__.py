"""Shareable bot templates: one signed file that says what the bot will touch.

A template package (``NAME-VERSION.botpkg``) is a zip holding:

``manifest.json``
    what the template is (name, version, author, description, licence), which bot in it runs
    (``bot``), the node packs it needs with versions (``packs``), the secrets it needs *by
    name*, its inputs, what it touches (files and folders, network hosts, desktop apps and
    windows, browser sites; derived from the nodes' parameters, plus what the author adds) and
    the SHA-256 of every other file in the package (``files``).
``signature.json`` (optional)
    an Ed25519 signature of the exact bytes of ``manifest.json``, with the signer's public key.
    Since the manifest holds every file's checksum, the signature covers every file.
``files/...``
    the bot, the bots it calls, its sample data and anything else the author included.

The life of a template: :mod:`.pack` builds one from a bot file, :mod:`.package` reads one back
and checks every file against the manifest, :mod:`.signing` says who signed it (trusted keys
live in the data folder's ``templates/keys/``), :mod:`.install` shows the trust summary,
records the decision in the audit trail and installs into ``templates/NAME/`` of the data
folder, where :func:`.install.check_installed` refuses to run a file that changed since.

Errors (``TemplateError``, exit code 2) say which template, which file and what to do.
"""

from __future__ import annotations

from .manifest import Manifest, TemplateError, derive_touches
from .package import Package, read_package

__all__ = ["Manifest", "Package", "TemplateError", "derive_touches", "read_package"]
