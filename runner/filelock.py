"""Advisory whole-file locks between processes: ``fcntl.flock`` on POSIX, ``msvcrt.locking``
on Windows. A lock held by a process goes away when the process dies, so a crashed run or
a killed trainer never leaves a stale lock behind."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def try_lock(fd: int) -> bool:
        """Take the lock on open file ``fd`` without waiting; False if another process has it."""
        try:
            os.lseek(fd, 0, 0)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            os.lseek(fd, 0, 0)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def try_lock(fd: int) -> bool:
        """Take the lock on open file ``fd`` without waiting; False if another process has it."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def locked(path: str | os.PathLike, timeout: float = 30.0) -> Iterator[None]:
    """Hold the lock on the file ``path`` (created if missing) while the block runs, between
    processes and between threads (each call opens its own handle). Waits up to ``timeout``
    seconds for another holder, then raises ``TimeoutError``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # lock files live in the owner-only data folder
    deadline = time.monotonic() + timeout
    try:
        while not try_lock(fd):
            if time.monotonic() > deadline:
                raise TimeoutError(f"another process has held {path} for more than {timeout:.0f} s")
            time.sleep(0.02)
        try:
            yield
        finally:
            unlock(fd)
    finally:
        os.close(fd)
