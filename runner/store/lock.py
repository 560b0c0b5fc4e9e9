"""A per-run lock file held by the process running the run.

While a run is live its process holds an exclusive lock on ``locks/RUN.lock``; the operating
system drops it when the process dies, however it dies. So "running in the store but the lock
can be taken" means the process is gone: the run crashed. Unlike a PID check, this cannot be
fooled by a reused process id.

The holder removes the file when it lets go, while still holding it; a process that opened the
old file just before that finds, once it has the lock, that the path names another file (or
none) and tries again on the new one. Without that check two processes could each hold "the"
lock: one on the removed file, one on its replacement.

Lock files are 0600 in a 0700 folder (the data folder is for its owner alone). On a read-only
data folder an existing lock file is opened read-only (``flock`` needs no write access), so
``botloom runs`` can still tell a live run from a crashed one there.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import paths
from ..filelock import try_lock, unlock


class RunLock:
    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        paths.private_dir(self.path.parent)
        while True:
            fd = self._open()
            if not try_lock(fd):
                os.close(fd)
                return False
            if _names(self.path, fd):
                self._fd = fd
                return True
            unlock(fd)  # locked a file its holder has just removed: the lock lives on the new one
            os.close(fd)

    def _open(self) -> int:
        try:
            return paths.private_fd(os.fspath(self.path), os.O_RDWR | os.O_CREAT)
        except OSError:
            if not self.path.exists():
                raise
            return os.open(self.path, os.O_RDONLY)  # a read-only folder: the lock can still be tested

    def release(self) -> None:
        if self._fd is not None:
            try:
                self.path.unlink()  # before unlocking: see the module docs
            except OSError:
                pass
            unlock(self._fd)
            os.close(self._fd)
            self._fd = None

    def held_elsewhere(self) -> bool:
        """True if another live process holds the lock."""
        if not self.path.exists():
            return False
        if self.acquire():
            self.release()
            return False
        return True


def _names(path: Path, fd: int) -> bool:
    """True if ``path`` still names the open file ``fd``."""
    try:
        on_disk, held = os.stat(path), os.fstat(fd)
    except OSError:
        return False
    return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)
