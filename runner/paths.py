"""Where Botloom keeps its data: the run store, logs, artifacts, caches and settings.

The folder is the platform's user data folder (platformdirs) unless ``BOTLOOM_HOME`` names
another one. Tests always set ``BOTLOOM_HOME`` so they never touch a user's real data.

The data folder is for its owner alone: journals hold every step's parameters and outputs.
Folders Botloom creates in it are 0700 and files 0600, whatever the umask (the mode is set
exactly after creation, since the umask would only ever narrow it). SQLite creates the
store's ``-wal`` and ``-shm`` files with the main file's mode, so the store file is created
here, 0600, before SQLite first opens it. A data folder that already exists is left as it is
when ``BOTLOOM_HOME`` names it (it may be shared on purpose); the platform's default folder
is tightened to 0700.

:func:`storage_error` tells why the data folder cannot be written (a full disk, a read-only
file system, no write permission) as a :class:`~botloom.runner.errors.StoreError` that says
what to do, so no command shows a raw ``sqlite3.OperationalError`` or ``OSError`` for it.

Every folder function takes an optional ``base``: the data folder a runtime object
(``botloom.runner.runtime.Runner``) carries explicitly; without it, :func:`home`.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import IO

from .errors import StoreError

ENV_HOME = "BOTLOOM_HOME"
DIR_MODE = 0o700
FILE_MODE = 0o600
LOW_SPACE = 1 << 20  # below 1 MiB free, an unexplained I/O error from SQLite is taken for a full disk


def _home_path() -> tuple[Path, bool]:
    """The data folder's path (not created) and whether it is the platform's default."""
    override = os.environ.get(ENV_HOME)
    if override:
        return Path(override).expanduser(), False
    import platformdirs  # only when no override: keeps `botloom run` start-up lean

    return platformdirs.user_data_path("botloom", appauthor=False), True


def home() -> Path:
    """The data folder, created (0700) on first use."""
    path, default = _home_path()
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        private_dir(path)
    elif default:
        _tighten(path)
    return path


def _tighten(path: Path) -> None:
    try:
        st = path.stat()
        if st.st_mode & 0o077 and st.st_uid == os.getuid():
            path.chmod(DIR_MODE)
    except (OSError, AttributeError):  # read-only, or no getuid (Windows): the folder stays as it is
        pass


def private_dir(path: Path) -> Path:
    """Create the folder ``path`` with mode 0700, if it is missing (missing parents get the
    umask's mode: they lie outside the data folder, or it is created first)."""
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=DIR_MODE)
    except FileExistsError:
        return path
    path.chmod(DIR_MODE)
    return path


def private_fd(path: str, flags: int) -> int:
    """``os.open`` for the data folder: a file it creates is 0600 whatever the umask."""
    fd = os.open(path, flags, FILE_MODE)
    if os.name == "posix" and stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
        try:
            os.fchmod(fd, FILE_MODE)
        except OSError:  # not ours (the file was there before): its owner decides
            pass
    return fd


def private_open(path: str | os.PathLike, mode: str = "a", **kwargs) -> IO:
    """``open()`` for a file in the data folder: a file it creates is 0600 whatever the umask."""
    return open(path, mode, opener=private_fd, **kwargs)


def make_private(path: str | os.PathLike) -> None:
    """Set a file written by other means (a copied artifact) to 0600."""
    try:
        os.chmod(path, FILE_MODE)
    except OSError:
        pass


def store_path(base: Path | None = None) -> Path:
    """The run store, ``runs.sqlite``: created empty (0600) when missing, so SQLite, which
    creates files with the umask's mode and its ``-wal``/``-shm`` with the main file's, keeps
    it private. An empty file is a valid new database."""
    path = (base or home()) / "runs.sqlite"
    if not path.exists():
        try:
            os.close(private_fd(os.fspath(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL))
        except OSError:  # created meanwhile, or the folder cannot be written: SQLite says which
            pass
    return path


def logs_dir(base: Path | None = None) -> Path:
    return private_dir((base or home()) / "logs")


def artifacts_dir(run_id: str, base: Path | None = None) -> Path:
    return private_dir(private_dir((base or home()) / "artifacts") / run_id)


def cache_dir(name: str, base: Path | None = None) -> Path:
    return private_dir(private_dir((base or home()) / "cache") / name)


# ---------------------------------------------------------------- storage trouble

_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_DENIED = {errno.EACCES, errno.EPERM}


def storage_error(exc: BaseException, folder: str | os.PathLike | None = None, *,
                  then: str = "try again") -> StoreError | None:
    """A StoreError that says what to do, if ``exc`` (an ``OSError`` or ``sqlite3.Error``) came
    from a data folder that cannot be written: a full disk, a read-only file system, or no
    permission. None for any other error. ``folder`` defaults to the data folder; ``then`` is
    what to do once the cause is fixed (e.g. "`botloom resume RUN`")."""
    folder = Path(folder) if folder is not None else _home_path()[0]
    kind = _kind(exc, folder)
    if kind == "full":
        return StoreError(f"the disk holding the data folder {folder} is full",
                          fix=f"free space on it, then {then}")
    if kind == "read-only fs":
        return StoreError(f"the data folder {folder} is on a read-only file system, so Botloom cannot record "
                          "runs there (`botloom runs` and `botloom show` still read the history)",
                          fix=f"remount it writable or set BOTLOOM_HOME to a writable folder, then {then}")
    if kind == "denied":
        return StoreError(f"the data folder {folder} cannot be written by this user ({_user()})",
                          fix="its owner can give you write access (chmod u+w), or set BOTLOOM_HOME to a folder of "
                              f"your own; then {then}")
    return None


def _kind(exc: BaseException, folder: Path) -> str | None:
    if isinstance(exc, OSError):
        if exc.filename is not None and not _inside(exc.filename, folder):
            return None  # a bot's own file, not the data folder
        if exc.errno in _FULL:
            return "full"
        if exc.errno == errno.EROFS:
            return "read-only fs"
        if exc.errno in _DENIED:
            return "denied"
        return None
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    if type(exc).__module__ != "sqlite3":
        return None
    if "FULL" in name or "disk is full" in text:
        return "full"
    if not ("READONLY" in name or "CANTOPEN" in name or "IOERR" in name
            or "readonly" in text or "unable to open" in text or "disk i/o error" in text):
        return None
    probe = folder if folder.is_dir() else folder.parent
    try:
        if os.statvfs(probe).f_flag & os.ST_RDONLY:
            return "read-only fs"
    except (OSError, AttributeError):  # no statvfs (Windows)
        pass
    if not os.access(probe, os.W_OK):
        return "denied"
    try:
        import shutil

        if shutil.disk_usage(probe).free < LOW_SPACE:
            return "full"
    except OSError:
        pass
    return None


def _inside(filename, folder: Path) -> bool:
    try:
        Path(os.path.abspath(filename)).relative_to(os.path.abspath(folder))
        return True
    except ValueError:
        return False


def _user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # noqa: BLE001 - only for the message
        return "this user"
