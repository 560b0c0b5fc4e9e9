"""A keyring backend for tests: a JSON file in the folder named by BOTLOOM_TEST_KEYRING.
Selected with PYTHON_KEYRING_BACKEND=botloom_test_keyring.FileKeyring."""

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    priority = 1

    def _file(self) -> Path:
        return Path(os.environ["BOTLOOM_TEST_KEYRING"]) / "keyring.json"

    def _load(self) -> dict:
        f = self._file()
        return json.loads(f.read_text()) if f.exists() else {}

    def get_password(self, service, username):
        return self._load().get(f"{service}/{username}")

    def set_password(self, service, username, password):
        data = self._load()
        data[f"{service}/{username}"] = password
        self._file().write_text(json.dumps(data))

    def delete_password(self, service, username):
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError(username)
        self._file().write_text(json.dumps(data))


class PlaintextKeyring(FileKeyring):
    """The same file, declared as what it is: plain text (Botloom refuses it unless allowed)."""

    plaintext = True
