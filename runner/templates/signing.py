"""Ed25519 signatures of template manifests, and the keys this user trusts.

An author makes a key pair once (``botloom template keygen NAME``: ``NAME.key``, the private
key in PEM, owner-only; ``NAME.pub``, the public key in PEM, to hand out) and signs with
``botloom template pack BOT --sign NAME.key``. The signature covers the exact bytes of
``manifest.json``, which holds every file's SHA-256, so one signature covers the package.

A receiver trusts a key with ``botloom template trust-key NAME.pub``: it is kept in the data
folder's ``templates/keys/`` under its key id (the first 16 hex digits of the SHA-256 of the
raw public key). Verifying a package gives one of four answers (:class:`Verdict`):

``unsigned``  no signature: installing warns
``unknown``   a valid signature by a key not trusted here: installing warns, naming the key id
``trusted``   a valid signature by a trusted key: installing names the signer
``bad``       the signature does not match the manifest: the package is refused

``cryptography`` is imported when a signature is made or checked, not when Botloom starts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .manifest import TemplateError

UNSIGNED, UNKNOWN, TRUSTED, BAD = "unsigned", "unknown", "trusted", "bad"


@dataclass(frozen=True)
class Verdict:
    status: str
    key_id: str = ""
    signer: str = ""  # the trusted key's label (the name of the file it was trusted from)

    def describe(self) -> str:
        if self.status == TRUSTED:
            return f"signed by {self.signer} (key {self.key_id}), a key you trust"
        if self.status == UNKNOWN:
            return f"signed by key {self.key_id}, which you do not trust"
        if self.status == UNSIGNED:
            return "not signed: nothing shows who made it"
        return "its signature does not match its contents"


def _crypto():
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise TemplateError("signing and checking template signatures needs the 'cryptography' package",
                            fix="pip install cryptography (it comes with Botloom; reinstall Botloom)") from None
    return ed25519, serialization, InvalidSignature


def key_id(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def keys_dir(home: str | os.PathLike) -> Path:
    return Path(home) / "templates" / "keys"


def generate(stem: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``STEM.key`` (private, 0600) and ``STEM.pub``; refuses to overwrite either."""
    from .. import paths

    ed25519, serialization, _ = _crypto()
    stem = Path(stem)
    private_path, public_path = stem.with_name(stem.name + ".key"), stem.with_name(stem.name + ".pub")
    for path in (private_path, public_path):
        if path.exists():
            raise TemplateError(f"{path} exists already", fix="choose another name, or move the old key away")
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    with paths.private_open(private_path, "xb") as f:
        f.write(pem)
    public_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))
    return private_path, public_path


def _load_private(path: str | os.PathLike):
    ed25519, serialization, _ = _crypto()
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except OSError as exc:
        raise TemplateError(f"cannot read the signing key {path}: {exc.strerror}", fix="check the path") from None
    except (ValueError, TypeError) as exc:
        raise TemplateError(f"{path} is not an unencrypted private key in PEM: {exc}",
                            fix="make one with `botloom template keygen NAME` and sign with NAME.key") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise TemplateError(f"{path} is not an Ed25519 key", fix="make one with `botloom template keygen NAME`")
    return key


def load_public(path: str | os.PathLike) -> bytes:
    """The raw 32 bytes of an Ed25519 public key file (PEM)."""
    ed25519, serialization, _ = _crypto()
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except OSError as exc:
        raise TemplateError(f"cannot read the key {path}: {exc.strerror}", fix="check the path") from None
    except (ValueError, TypeError):
        raise TemplateError(f"{path} is not a public key in PEM",
                            fix="trust the NAME.pub file the author made with `botloom template keygen`") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise TemplateError(f"{path} is not an Ed25519 public key", fix="ask the author for their NAME.pub file")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign(manifest_bytes: bytes, private_key_path: str | os.PathLike) -> bytes:
    """The text of ``signature.json`` for these manifest bytes."""
    _, serialization, _ = _crypto()
    key = _load_private(private_key_path)
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    data = {"format": 1, "algorithm": "ed25519", "key_id": key_id(public),
            "public_key": base64.b64encode(public).decode(),
            "signature": base64.b64encode(key.sign(manifest_bytes)).decode()}
    return (json.dumps(data, indent=2) + "\n").encode()


def trusted_keys(home: str | os.PathLike) -> dict[str, tuple[bytes, str]]:
    """Trusted keys by key id: (raw public key, label)."""
    found = {}
    folder = keys_dir(home)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            raw = base64.b64decode(data["public_key"], validate=True)
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a damaged entry trusts nothing
        if key_id(raw) == path.stem:
            found[path.stem] = (raw, str(data.get("label", path.stem)))
    return found


def trust_key(home: str | os.PathLike, public_key_path: str | os.PathLike) -> dict:
    """Trust a public key file; returns what was recorded (also in the audit trail)."""
    from .. import paths
    from ..audit import AuditTrail

    raw = load_public(public_key_path)
    kid = key_id(raw)
    label = Path(public_key_path).name.removesuffix(".pub")
    folder = paths.private_dir(keys_dir(home))
    entry = {"key_id": kid, "label": label, "public_key": base64.b64encode(raw).decode(),
             "from": str(Path(public_key_path).resolve())}
    with paths.private_open(folder / f"{kid}.json", "w", encoding="utf-8") as f:
        f.write(json.dumps(entry, indent=2) + "\n")
    AuditTrail(home).record("template_key_trusted", key_id=kid, label=label, source=entry["from"])
    return entry


def verify(manifest_bytes: bytes, signature_bytes: bytes | None, home: str | os.PathLike) -> Verdict:
    """Who signed these manifest bytes (see the module's docstring for the four answers)."""
    if signature_bytes is None:
        return Verdict(UNSIGNED)
    ed25519, _, InvalidSignature = _crypto()
    try:
        data: Any = json.loads(signature_bytes)
        public = base64.b64decode(data["public_key"], validate=True)
        signature = base64.b64decode(data["signature"], validate=True)
        key = ed25519.Ed25519PublicKey.from_public_bytes(public)
    except (ValueError, KeyError, TypeError):
        return Verdict(BAD)
    kid = key_id(public)
    try:
        key.verify(signature, manifest_bytes)
    except InvalidSignature:
        return Verdict(BAD, kid)
    trusted = trusted_keys(home).get(kid)
    if trusted is not None and trusted[0] == public:
        return Verdict(TRUSTED, kid, trusted[1])
    return Verdict(UNKNOWN, kid)
