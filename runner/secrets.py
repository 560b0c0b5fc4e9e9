"""Secrets, referenced by name in bot files and fetched only when a node needs the text.

Look-up order: the environment variable ``BOTLOOM_SECRET_<NAME>`` (upper case; for CI and
containers), then the backend chosen by the settings (``secret_backends.py``: the Secret
Service, an encrypted file whose key a service is given, or the platform's keyring; plaintext
backends are refused). Bot files, journals and logs only ever hold the name; a Secret prints as
``<secret NAME>``.

:class:`SecretStore` is the data folder's store (the ``botloom secret`` commands use it).
:class:`RunSecrets` is the store as one run sees it: each value it hands out is registered
with the run's :class:`~botloom.runner.masking.Masker` before the node gets it, its first read
in the run is written to the audit trail (name, bot, run; never the value), values are read
once per run and kept in memory only, and expressions
read secrets through it as ``secrets.NAME``.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from .errors import BotloomError, NodeError
from .sdk.types import Secret
from .secret_backends import INSTALL, Backend, BackendError, NoBackend, choose, list_names

SERVICE = "botloom"
ENV_PREFIX = "BOTLOOM_SECRET_"


class SecretError(BotloomError):
    """Storing or deleting a secret failed (a command-line problem, exit code 2)."""

    exit_code = 2


class SecretStore:
    def __init__(self, service: str = SERVICE, home: str | os.PathLike | None = None,
                 settings: dict | None = None):
        """``home``: the data folder (for the encrypted file, the names index, the settings and
        the audit trail; default: the current one); ``settings`` override the folder's."""
        self.service = service
        self._home = Path(home) if home is not None else None
        self._settings = settings
        self._backend: Backend | None = None

    @property
    def home(self) -> Path:
        from . import paths

        return self._home or paths.home()

    def setting(self, key: str, default: str) -> str:
        from . import settings

        if self._settings and key in self._settings:
            return str(self._settings[key])
        return str(settings.load(self.home).get(key, default))

    def backend(self) -> Backend:
        """The backend in use (chosen once per store); raises BackendError with what to do."""
        if self._backend is None:
            self._backend = choose(self.setting("secrets.backend", "auto"),
                                   self.setting("secrets.plaintext", "refuse"), self.home)
        return self._backend

    def secret(self, name: str) -> Secret:
        return Secret(name, self.get)

    def get(self, name: str) -> str:
        value = os.environ.get(ENV_PREFIX + name.upper())
        if value is not None:
            return value
        try:
            backend = self.backend()
        except BackendError as exc:
            raise NodeError(f"secret '{name}' cannot be read: {exc.message}", kind="secret",
                            fix=exc.fix) from None
        value = None
        if backend.keyring is not None:
            value = self._call(backend, "read", lambda kr: kr.get_password(self.service, name), name, NodeError)
        if value is None:
            raise NodeError(f"secret '{name}' is not set (looked in {backend.describe()} and the environment "
                            f"variable {ENV_PREFIX}{name.upper()})", kind="secret",
                            fix=f"store it with `botloom secret set {name}` or set {ENV_PREFIX}{name.upper()}")
        return value

    def set(self, name: str, value: str) -> None:
        backend = self._writable("store")
        self._call(backend, "store", lambda kr: kr.set_password(self.service, name, value), name, SecretError)
        self._index(name, True)
        self._audit("secret_set", name=name, backend=backend.name)

    def delete(self, name: str) -> None:
        backend = self._writable("delete")
        from keyring.errors import PasswordDeleteError

        try:
            self._call(backend, "delete", lambda kr: kr.delete_password(self.service, name), name, SecretError)
        except PasswordDeleteError:
            raise SecretError(f"cannot delete secret '{name}': it is not in {backend.describe()}",
                              fix="`botloom secret list` shows the names that are stored") from None
        self._index(name, False)
        self._audit("secret_deleted", name=name, backend=backend.name)

    def rekey(self, new_key: str) -> list[str]:
        """Re-encrypt the encrypted secrets file with ``new_key`` (the current key must open it);
        the old key opens nothing afterwards. Returns the names carried over."""
        from .secret_backends import open_encrypted_file

        backend = self._writable("re-encrypt")
        if backend.name != "encrypted-file":
            raise SecretError(f"only the encrypted-file backend has a key to change; this one is {backend.describe()}",
                              fix="to rotate a secret's value, `botloom secret set NAME` again")
        if not new_key.strip():
            raise SecretError("the new key is empty", fix="give the new key on standard input")
        names = self.names()
        values = {n: self._call(backend, "read", lambda kr, n=n: kr.get_password(self.service, n), n, SecretError)
                  for n in names}
        path = Path(backend.keyring.file_path)
        staged = path.with_name(path.name + ".new")
        staged.unlink(missing_ok=True)
        fresh = open_encrypted_file(staged, new_key, "the new key")
        for name, value in values.items():
            if value is not None:
                fresh.keyring.set_password(self.service, name, value)
        os.replace(staged, path)
        self._backend = None  # the next use opens the file with the key it is given then
        self._audit("secret_key_rotated", backend=backend.name, names=len(values))
        return names

    def names(self) -> list[str]:
        """The names stored in the backend (never the values), and those set by environment variables."""
        backend = self.backend()
        stored = self._call(backend, "list", lambda kr: list_names(backend, self.service), "", SecretError)
        if stored is None:  # a backend that cannot list: the names Botloom stored in it
            stored = [n for n in self._read_index() if self._has(backend, n)]
        env = [k[len(ENV_PREFIX):].lower() for k in os.environ if k.startswith(ENV_PREFIX)]
        return sorted(set(stored) | set(env))

    def check(self) -> dict:
        """Which backend is in use, whether it is secure and usable now (a read goes through)."""
        try:
            backend = self.backend()
        except BackendError as exc:
            return {"backend": None, "secure": False, "usable": False, "problem": exc.message, "fix": exc.fix,
                    "absent": isinstance(exc, NoBackend)}
        report = {"backend": backend.name, "location": backend.location, "secure": backend.secure,
                  "usable": True}
        if not backend.secure:
            report["why"] = backend.why
        if backend.keyring is not None:
            try:
                self._call(backend, "read", lambda kr: kr.get_password(self.service, "botloom-check"), "",
                           SecretError)
            except SecretError as exc:
                report.update(usable=False, problem=exc.message, fix=exc.fix)
        return report

    # ------------------------------------------------------------ internals
    def _writable(self, verb: str) -> Backend:
        try:
            backend = self.backend()
        except BackendError as exc:
            raise SecretError(f"cannot {verb} the secret: {exc.message}", fix=exc.fix) from None
        if backend.keyring is None:
            raise SecretError(f"cannot {verb} the secret: secrets.backend is 'environment', which only reads "
                              f"{ENV_PREFIX}<NAME> variables",
                              fix="set the variable in the service's environment, or choose a backend that "
                                  "stores secrets: `botloom config secrets.backend auto`")
        return backend

    def _call(self, backend: Backend, verb: str, call, name: str, error: type[BotloomError]) -> Any:
        from keyring.errors import KeyringError, KeyringLocked, PasswordDeleteError

        what = f"secret '{name}'" if name else "the secrets"
        extra = {"kind": "secret"} if error is NodeError else {}
        try:
            return call(backend.keyring)
        except PasswordDeleteError:
            raise
        except KeyringLocked:
            raise error(f"cannot {verb} {what}: the keyring {backend.describe()} is locked", **extra,
                        fix="unlock it for this session: on a server, `printf '%s' \"$KEYRING_PASSWORD\" | "
                            "gnome-keyring-daemon --unlock` inside the dbus-run-session Botloom runs in "
                            "(docs/it-secrets-and-audit.md)") from None
        except (KeyringError, OSError, ValueError) as exc:
            text = str(exc) or type(exc).__name__
            fix = INSTALL if ("org.freedesktop.secrets" in text or "D-Bus" in text or "dbus" in text) else \
                f"check the keyring {backend.describe()}; `botloom secret check` tests it"
            raise error(f"cannot {verb} {what} in {backend.describe()}: {text}", **extra, fix=fix) from None
        except Exception as exc:  # secretstorage and D-Bus errors are not KeyringErrors
            raise error(f"cannot {verb} {what} in {backend.describe()}: {type(exc).__name__}: {exc}", **extra,
                        fix=INSTALL) from None

    def _has(self, backend: Backend, name: str) -> bool:
        return self._call(backend, "read", lambda kr: kr.get_password(self.service, name), name, SecretError) \
            is not None

    def _index_file(self) -> Path:
        return self.home / "secrets" / "names.json"

    def _read_index(self) -> list[str]:
        try:
            return list(json.loads(self._index_file().read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return []

    def _index(self, name: str, present: bool) -> None:
        """The names stored (never values), for backends that cannot list what they hold."""
        from . import paths

        names = set(self._read_index())
        names = names | {name} if present else names - {name}
        target = self._index_file()
        paths.private_dir(target.parent)
        tmp = target.with_suffix(".tmp")
        with paths.private_open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(sorted(names)))
        os.replace(tmp, target)

    def _audit(self, kind: str, **fields: Any) -> None:
        from .audit import AuditTrail

        AuditTrail(self.home).record(kind, **fields)


class SecretsView:
    """``secrets`` in expressions: ``{{ secrets.api_token }}`` is the text of that secret
    (read through the run's secrets, so it is masked and audited like any other read)."""

    __slots__ = ("_secrets",)

    def __init__(self, secrets: "RunSecrets"):
        self._secrets = secrets

    def __getitem__(self, name: str) -> str:
        return self._secrets.get(name)

    def __repr__(self) -> str:
        return "<secrets>"


class RunSecrets:
    """The secrets as one run sees them (see the module's docstring)."""

    def __init__(self, store: Any, masker: Any, *, run_id: str = "", bot: str = ""):
        self.store = store
        self.masker = masker
        self.run_id = run_id
        self.bot = bot
        self._values: dict[str, str] = {}  # read once per run: an encrypted-file read costs about a second
        self._lock = threading.Lock()
        self.view = SecretsView(self)

    def secret(self, name: str) -> Secret:
        return Secret(name, self.get)

    def get(self, name: str) -> str:
        with self._lock:
            value = self._values.get(name)
            if value is None:
                value = self.store.get(name)
                self.masker.add(value)  # before anyone can print it
                home = getattr(self.store, "home", None)
                if home is not None:
                    from .audit import AuditTrail

                    AuditTrail(home).record("secret_read", name=name, bot=self.bot, run=self.run_id)
                self._values[name] = value
        return value


def doctor_checks(store: SecretStore | None = None) -> list:
    """``botloom doctor`` lines: the secret backend (absent is optional: variables still work; insecure,
    locked or broken is a failure) and the audit trail's integrity."""
    from .audit import AuditError, AuditTrail
    from .doctor import Check

    store = store or SecretStore()
    report = store.check()
    if report["backend"] is None:
        found = [Check("secrets", "backend", None if report["absent"] else False, report["problem"], report["fix"])]
    else:
        detail = f"{report['backend']} ({report['location']})"
        if not report["secure"]:
            detail += f": {report['why']}"
        elif not report["usable"]:
            detail += f": {report['problem']}"
        found = [Check("secrets", "backend", report["secure"] and report["usable"], detail, report.get("fix", ""))]
    try:
        verdict = AuditTrail(store.home).verify()
    except AuditError as exc:
        return found + [Check("audit", "trail", False, exc.message, exc.fix or "")]
    detail = (f"{verdict.records} records, signed up to record {verdict.covered}" if verdict.ok else
              f"line {verdict.line}: {verdict.problem}")
    return found + [Check("audit", "trail", verdict.ok, detail, "" if verdict.ok else "keep the files as evidence; "
                          "`botloom audit verify` names the first bad record")]


__all__ = ["RunSecrets", "SecretError", "SecretStore", "SecretsView", "SERVICE", "doctor_checks"]
