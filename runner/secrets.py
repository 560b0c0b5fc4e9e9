"""Secrets, referenced by name in bot files and fetched only when a node needs the text.

Look-up order: the environment variable ``BOTLOOM_SECRET_<NAME>`` (upper case; for CI and
containers), then the operating system's keyring (service ``botloom``). Bot files, journals
and logs only ever hold the name; a Secret prints as ``<secret NAME>``.
"""

from __future__ import annotations

import os

from .errors import BotloomError, NodeError
from .sdk.types import Secret

SERVICE = "botloom"


class SecretError(BotloomError):
    """Storing or deleting a secret failed (a command-line problem, exit code 2)."""

    exit_code = 2


class SecretStore:
    def __init__(self, service: str = SERVICE):
        self.service = service

    def secret(self, name: str) -> Secret:
        return Secret(name, self.get)

    def get(self, name: str) -> str:
        value = os.environ.get("BOTLOOM_SECRET_" + name.upper())
        if value is not None:
            return value
        try:
            import keyring
            from keyring.errors import KeyringError

            try:
                value = keyring.get_password(self.service, name)
            except KeyringError as exc:
                raise NodeError(f"the keyring could not be read for secret '{name}': {exc}", kind="secret",
                                fix="unlock the keyring, or set the environment variable "
                                    f"BOTLOOM_SECRET_{name.upper()}") from None
        except ImportError:
            value = None
        if value is None:
            raise NodeError(f"secret '{name}' is not set", kind="secret",
                            fix=f"store it with `botloom secret set {name}` or set BOTLOOM_SECRET_{name.upper()}")
        return value

    def set(self, name: str, value: str) -> None:
        self._keyring_call("store", lambda kr: kr.set_password(self.service, name, value))

    def delete(self, name: str) -> None:
        self._keyring_call("delete", lambda kr: kr.delete_password(self.service, name))

    def _keyring_call(self, verb: str, call) -> None:
        try:
            import keyring
            from keyring.errors import KeyringError, PasswordDeleteError
        except ImportError:
            raise SecretError("the keyring package is not installed", fix="pip install keyring") from None
        try:
            call(keyring)
        except PasswordDeleteError:
            raise SecretError(f"cannot {verb} the secret: it is not in the keyring") from None
        except KeyringError as exc:
            raise SecretError(f"cannot {verb} the secret in the keyring: {exc}",
                               fix="on a server without a desktop session, unlock a keyring (e.g. gnome-keyring "
                                   "under dbus-run-session) or use BOTLOOM_SECRET_<NAME> variables") from None
