"""Where secrets are kept: choosing a keyring backend, refusing unsafe ones, and explaining why.

The setting ``secrets.backend`` picks one:

``auto`` (the default)
    the encrypted file when its key is supplied (see below), else the keyring that the
    ``keyring`` package finds (the desktop's Secret Service, macOS Keychain, Windows Credential
    Locker, or the one named by ``PYTHON_KEYRING_BACKEND`` / ``keyringrc.cfg``).
``secret-service``
    the freedesktop Secret Service (gnome-keyring, KeePassXC) on the session's D-Bus; on a
    server, gnome-keyring unlocked inside ``dbus-run-session`` (docs/it-secrets-and-audit.md).
``encrypted-file``
    ``keyrings.cryptfile`` (Argon2 key derivation, AES-GCM) in ``secrets/secrets.cfg`` of the
    data folder. Its key comes from the environment variable ``BOTLOOM_KEYRING_KEY`` or from
    the systemd credential ``botloom-keyring-key`` (``$CREDENTIALS_DIRECTORY``, set by
    ``LoadCredential=``/``LoadCredentialEncrypted=``), never from a prompt: it is meant for
    services nobody logs in to.
``keyring``
    whatever the ``keyring`` package picks, without the encrypted-file shortcut.
``environment``
    only ``BOTLOOM_SECRET_<NAME>`` variables (containers, CI); nothing can be stored.

A backend that keeps secrets as plain (or merely base64-encoded) text, such as keyrings.alt's
``PlaintextKeyring``, is refused unless the setting ``secrets.plaintext`` is ``allow``; so is a
backend class that says ``plaintext = True``. The refusal says why and what to use instead.

Errors: :class:`~botloom.runner.secrets.SecretError` from commands (exit code 2); the same
messages reach a run as a ``NodeError`` of kind ``secret``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BotloomError

KEY_VARIABLE = "BOTLOOM_KEYRING_KEY"
KEY_CREDENTIAL = "botloom-keyring-key"
CHOICES = ("auto", "secret-service", "encrypted-file", "keyring", "environment")
PLAINTEXT_BACKENDS = {"keyrings.alt.file.PlaintextKeyring", "keyrings.cryptfile.file.PlaintextKeyring"}
# file keyrings that ask for their password on the terminal: a service has no one to answer
PROMPTING_BACKENDS = {"keyrings.cryptfile.cryptfile.CryptFileKeyring", "keyrings.cryptfile.file.EncryptedKeyring",
                      "keyrings.alt.file.EncryptedKeyring"}
INSTALL = ("install a keyring: on a server, `sudo apt-get install gnome-keyring libsecret-tools dbus-x11` and run "
           "Botloom inside `dbus-run-session` with the keyring unlocked, or `pip install keyrings.cryptfile` and "
           f"supply its key in {KEY_VARIABLE} or the systemd credential '{KEY_CREDENTIAL}' "
           "(see docs/it-secrets-and-audit.md); in containers and CI, BOTLOOM_SECRET_<NAME> variables also work")


class BackendError(BotloomError):
    """No usable, safe backend (exit code 2)."""

    exit_code = 2


class NoBackend(BackendError):
    """Nothing is set up (as opposed to a backend that is refused, locked or broken)."""


@dataclass
class Backend:
    """The backend in use: ``keyring`` is the keyring backend object (None for ``environment``)."""

    name: str
    keyring: Any
    secure: bool
    location: str
    why: str = ""

    def describe(self) -> str:
        return f"{self.name} ({self.location})"


def key_source() -> tuple[str, str] | None:
    """The encrypted file's key and where it came from, or None when none is supplied."""
    value = os.environ.get(KEY_VARIABLE)
    if value:
        return value, f"the environment variable {KEY_VARIABLE}"
    folder = os.environ.get("CREDENTIALS_DIRECTORY")
    if folder:
        path = Path(folder) / KEY_CREDENTIAL
        try:
            text = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise BackendError(f"cannot read the systemd credential {path}: {exc.strerror}",
                               fix="check LoadCredential= in the service's unit") from None
        if text:
            return text, f"the systemd credential {path}"
    return None


def choose(setting: str, plaintext: str, home: Path) -> Backend:
    """The backend for ``secrets.backend = setting``; raises BackendError with what to do."""
    if setting not in CHOICES:
        raise BackendError(f"the setting secrets.backend is '{setting}', which is not a backend",
                           fix=f"`botloom config secrets.backend auto` (choices: {', '.join(CHOICES)})")
    if setting == "environment":
        return Backend("environment", None, True, "BOTLOOM_SECRET_<NAME> variables")
    if setting == "encrypted-file" or (setting == "auto" and key_source() is not None):
        return _encrypted_file(home)
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        raise BackendError("the Python package 'keyring' is not installed", fix="pip install keyring") from None
    if setting == "secret-service":
        from keyring.backends import SecretService

        kr = SecretService.Keyring()
        try:
            SecretService.Keyring.priority  # noqa: B018 - raises when no Secret Service can be reached
        except Exception as exc:
            raise BackendError(f"the Secret Service cannot be used: {exc}", fix=INSTALL) from None
    else:
        kr = _first(keyring.get_keyring())
    if isinstance(kr, fail.Keyring) or not _chain(kr):
        raise NoBackend("no usable keyring backend: there is no Secret Service (desktop keyring) on this "
                           "session's D-Bus, and no other backend is set up", fix=INSTALL)
    plain = [b for b in _chain(kr) if _is_plaintext(b)]
    name = _name(kr)
    if name in PROMPTING_BACKENDS:
        raise BackendError(f"the keyring backend {name} asks for its password on the terminal, which a bot run "
                           "by a service cannot answer",
                           fix=f"`botloom config secrets.backend encrypted-file` and give its key in {KEY_VARIABLE} "
                               f"or the systemd credential '{KEY_CREDENTIAL}'")
    if plain:
        why = (f"{_name(plain[0])} keeps secrets as plain text in a file (base64 at most), readable by anyone "
               "who can read the file or its backups")
        if plaintext != "allow":
            raise BackendError(f"the keyring backend {name} is refused: {why}",
                               fix=f"use a secure backend ({INSTALL}); or, knowing the risk, "
                                   "`botloom config secrets.plaintext allow`")
        return Backend(name, kr, False, _location(kr), why)
    return Backend("secret-service" if "SecretService" in name else name, kr, True, _location(kr))


def _encrypted_file(home: Path) -> Backend:
    try:
        import keyrings.cryptfile.cryptfile  # noqa: F401 - present, or say how to install it
    except ImportError:
        raise BackendError("the encrypted-file backend needs the package keyrings.cryptfile",
                           fix="pip install keyrings.cryptfile") from None
    source = key_source()
    path = home / "secrets" / "secrets.cfg"
    if source is None:
        raise BackendError(f"the encrypted secrets file {path} needs its key, and none was supplied",
                           fix=f"set the environment variable {KEY_VARIABLE}, or give the service the systemd "
                               f"credential '{KEY_CREDENTIAL}' (LoadCredentialEncrypted={KEY_CREDENTIAL}:...)")
    return open_encrypted_file(path, *source)


def open_encrypted_file(path: Path, key: str, where: str) -> Backend:
    """The encrypted file at ``path`` opened (or made) with ``key``, which came from ``where``."""
    from keyrings.cryptfile.cryptfile import CryptFileKeyring

    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    kr = CryptFileKeyring()
    kr.file_path = str(path)
    try:
        kr.keyring_key = key  # opens the file (or creates it) and checks the key against it
    except ValueError as exc:
        raise BackendError(f"the key from {where} does not open the encrypted secrets file {path} ({exc})",
                           fix="supply the key the file was made with; if it is lost, move the file away and "
                               "store the secrets again") from None
    return Backend("encrypted-file", kr, True, f"{path}, key from {where}")


def _first(kr: Any) -> Any:
    """One backend, not keyring's chain of all the viable ones: the chain would fall back, when the
    first is locked, to the next, e.g. an encrypted file asking for its key on a terminal no one
    watches. The file backends that installing keyrings.cryptfile adds are left out of the
    automatic choice (Botloom opens that file itself, with its key: ``encrypted-file``); a backend
    named explicitly (``PYTHON_KEYRING_BACKEND``, keyringrc.cfg) is kept, to be judged."""
    from keyring.backends import fail

    if not hasattr(kr, "backends"):
        return kr
    chain = [b for b in kr.backends if not type(b).__module__.startswith("keyrings.cryptfile")
             and _name(b) not in PROMPTING_BACKENDS]
    return chain[0] if chain else fail.Keyring()


def _chain(kr: Any) -> list:
    backends = getattr(kr, "backends", None)
    return list(backends) if backends is not None else [kr]


def _name(kr: Any) -> str:
    return f"{type(kr).__module__}.{type(kr).__qualname__}"


def _is_plaintext(kr: Any) -> bool:
    return _name(kr) in PLAINTEXT_BACKENDS or getattr(kr, "plaintext", False) is True


def _location(kr: Any) -> str:
    path = getattr(kr, "file_path", None)
    if isinstance(path, str):
        return path
    collection = getattr(kr, "preferred_collection", None)
    if collection:
        return f"D-Bus collection {collection}"
    return "the keyring's own store"


def list_names(backend: Backend, service: str) -> list[str] | None:
    """The names stored for ``service``, or None when the backend cannot list them."""
    kr = backend.keyring
    if kr is None:
        return []
    if backend.name == "encrypted-file":
        import configparser

        from keyrings.cryptfile.escape import escape, unescape

        config = configparser.RawConfigParser()
        config.read(kr.file_path, encoding="utf-8")
        section = escape(service)
        return sorted(unescape(o) for o in config.options(section)) if config.has_section(section) else []
    if "SecretService" in _name(kr):
        collection = kr.get_preferred_collection()
        return sorted({item.get_attributes().get("username", "") for item in
                       collection.search_items({"service": service})} - {""})
    return None
