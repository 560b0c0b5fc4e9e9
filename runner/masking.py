"""Masking: secret values resolved during a run never reach what the run records or shows.

Each run has one :class:`Masker`. Every secret revealed during the run (a secret parameter's
``Secret.reveal()``, ``ctx.secret(name)``, ``secrets.NAME`` in an expression) is registered
with it, and the engine passes each event through :meth:`Masker.mask_event` before any
listener sees it: the run store, the log files, the event stream, the console and the designer
all get the masked event, so none of them has to know about secrets. The run's result
(``RunResult.error`` and outputs) is masked the same way.

What is replaced by :data:`MASK`, for each registered value:

* the value itself;
* its common encodings: URL-encoded (``quote``, ``quote_plus``), base64 (standard and
  URL-safe, at each of the three byte alignments, so the value is found inside the base64 of
  a longer text such as ``user:password`` in an HTTP Basic header), hex (lower and upper
  case), JSON-escaped, Python-``repr``-escaped and HTML-escaped text.

Encodings shorter than :data:`MIN_ENCODED` characters are not masked (a two-letter piece of
base64 would blank out ordinary text); the value itself is masked at any length. Masking
walks strings, bytes, lists, tuples, sets and dicts (keys too); other objects (a ``Secret``,
which prints only its name) pass through unchanged. A masker with no value costs one truth
test per event.

Files kept with a run pass through it too: when an ``artifact`` event is masked, the file is
masked in place (each member of a zip archive such as a Playwright trace, which records what
was filled and the request headers; the bytes of other files; compressed images are left as
they are).
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import json
import os
import re
import threading
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_ENCODED = 4
IMAGES = {".png", ".jpg", ".jpeg", ".webp", ".gif"}
_FIELDS: dict[type, tuple[str, ...]] = {}


def encodings(value: str) -> set[str]:
    """The value and the encoded forms of it that are masked (see the module's docstring)."""
    raw = value.encode("utf-8")
    forms = {quote(value, safe=""), quote(value), quote_plus(value), raw.hex(), raw.hex().upper(),
             json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1], repr(value)[1:-1],
             html.escape(value)}
    for offset in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            forms.add(_base64_core(encode, raw, offset))
    found = {form for form in forms if len(form) >= MIN_ENCODED}
    found.add(value)
    return found


def _base64_core(encode, raw: bytes, offset: int) -> str:
    """The base64 characters that depend only on ``raw`` when it starts ``offset`` bytes into
    a longer text (characters shared with the bytes around it are left out)."""
    text = encode(b"\0" * offset + raw).decode("ascii").rstrip("=")
    first = -(-offset * 8 // 6)  # the first character whose 6 bits all come from raw
    last = (offset + len(raw)) * 8 // 6  # one past the last such character
    return text[first:last]


class Masker:
    """The secret values of one run and the masking of everything recorded about it.

    Thread-safe: nodes that run in threads (timeouts, an executor) may reveal secrets while
    the engine's thread masks an event."""

    __slots__ = ("_forms", "_text", "_bytes", "_lock")

    def __init__(self) -> None:
        self._forms: set[str] = set()
        self._text: re.Pattern | None = None
        self._bytes: re.Pattern | None = None
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return self._text is not None

    def add(self, value: Any) -> None:
        """Register a secret value (text or bytes); an empty value is ignored."""
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode("utf-8", "surrogateescape")
        if not isinstance(value, str) or not value:
            return
        forms = encodings(value)
        with self._lock:
            if forms <= self._forms:
                return
            self._forms |= forms
            ordered = sorted(self._forms, key=len, reverse=True)  # the longest form first
            self._text = re.compile("|".join(map(re.escape, ordered)))
            self._bytes = re.compile(b"|".join(re.escape(f.encode("utf-8", "surrogateescape")) for f in ordered))

    def mask_text(self, text: str) -> str:
        pattern = self._text
        return text if pattern is None else pattern.sub(MASK, text)

    def mask(self, value: Any) -> Any:
        """``value`` with every registered form replaced; the same object when nothing changed."""
        if self._text is None:
            return value
        return _mask(value, self._text, self._bytes)

    def mask_event(self, event: Any) -> Any:
        """The event with its fields masked: the same event when none holds a secret, otherwise
        a copy (the engine keeps its own values; what listeners see is masked)."""
        if self._text is None:
            return event
        names = _FIELDS.get(type(event))
        if names is None:
            names = _FIELDS[type(event)] = tuple(f.name for f in dataclasses.fields(event))
        changes = {}
        for name in names:
            value = getattr(event, name)
            masked = _mask(value, self._text, self._bytes)
            if masked is not value:
                changes[name] = masked
        if getattr(event, "kind", "") == "artifact" and event.path:
            self.mask_file(event.path)
        return dataclasses.replace(event, **changes) if changes else event

    def mask_file(self, path: str | os.PathLike) -> bool:
        """Mask a file kept with the run, in place: each member of a zip archive (a browser
        trace), or the bytes of any other file but a compressed image (whose pixels cannot hold
        text). True when something was replaced."""
        path = Path(path)
        if self._bytes is None or path.suffix.lower() in IMAGES or not path.is_file():
            return False
        if zipfile.is_zipfile(path):
            return self._mask_zip(path)
        data = path.read_bytes()
        masked = self._bytes.sub(MASK.encode(), data)
        if masked == data:
            return False
        _replace(path, masked)
        return True

    def _mask_zip(self, path: Path) -> bool:
        with zipfile.ZipFile(path) as source:
            members = [(info, source.read(info)) for info in source.infolist()]
        changed = False
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
            for info, data in members:
                masked = data if Path(info.filename).suffix.lower() in IMAGES else self._bytes.sub(MASK.encode(), data)
                changed |= masked != data
                target.writestr(info, masked)
        if changed:
            _replace(path, buffer.getvalue())
        return changed


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".masking")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _mask(value: Any, text: re.Pattern, data: re.Pattern) -> Any:
    if isinstance(value, str):
        masked = text.sub(MASK, value)
        return value if masked == value else masked
    if isinstance(value, (bytes, bytearray)):
        masked = data.sub(MASK.encode(), bytes(value))
        return value if masked == value else masked
    if isinstance(value, dict):
        items = [(_mask(k, text, data), _mask(v, text, data)) for k, v in value.items()]
        if all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(items, value.items())):
            return value
        return dict(items)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_mask(v, text, data) for v in value]
        if all(a is b for a, b in zip(items, value)):
            return value
        return type(value)(items) if not hasattr(value, "_fields") else type(value)(*items)
    return value


__all__ = ["MASK", "MIN_ENCODED", "Masker", "encodings"]
