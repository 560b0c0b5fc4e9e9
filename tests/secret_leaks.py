"""Search files and streams for a secret value and its common encodings (for the leak tests).

Written apart from ``runner/masking.py`` on purpose: a test that used the masker's own list of
encodings could not find what the masker forgot.
"""

from __future__ import annotations

import base64
import json
import zipfile
from pathlib import Path
from urllib.parse import quote, quote_plus


def forms(value: str) -> dict[str, bytes]:
    raw = value.encode()
    return {"raw": raw, "url": quote(value, safe="").encode(), "url+": quote_plus(value).encode(),
            "base64": base64.b64encode(raw).rstrip(b"="), "base64url": base64.urlsafe_b64encode(raw).rstrip(b"="),
            "hex": raw.hex().encode(), "HEX": raw.hex().upper().encode(), "json": json.dumps(value)[1:-1].encode()}


def blobs(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by path, and each member of a zip archive (a browser trace)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        found[str(path)] = data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    found[f"{path}!{info.filename}"] = archive.read(info)
    return found


def hits(value: str, sources: dict[str, bytes]) -> list[str]:
    """``where: encoding`` for each place a form of ``value`` appears; empty when none does."""
    return [f"{where}: {name}" for where, data in sources.items() for name, form in forms(value).items()
            if form in data]
