"""Secrets, referenced by name in bot files and fetched only when a node needs the text.

Look-up order: the environment variable ``BOTLOOM_SECRET_<NAME>`` (upper case; for CI and
containers), then the operating system's keyring (service ``botloom``). Bot files, journals
and logs only ever hold the name; a Secret prints as ``<secret NAME>``.
"""

from __future__ import annotations

import os

from .errors import NodeError
from .sdk.types import Secret

SERVICE = "botloom"


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
        import keyring

        keyring.set_password(self.service, name, value)
