"""A per-run lock file held by the process running the run.

While a run is live its process holds an exclusive lock on ``locks/RUN.lock``; the operating
system drops it when the process dies, however it dies. So "running in the store but the lock
can be taken" means the process is gone: the run crashed. Unlike a PID check, this cannot be
fooled by a reused process id.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..filelock import try_lock, unlock


class RunLock:
    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if try_lock(fd):
            self._fd = fd
            return True
        os.close(fd)
        return False

    def release(self) -> None:
        if self._fd is not None:
            unlock(self._fd)
            os.close(self._fd)
            self._fd = None
            try:
                self.path.unlink()
            except OSError:
                pass

    def held_elsewhere(self) -> bool:
        """True if another live process holds the lock."""
        if not self.path.exists():
            return False
        if self.acquire():
            self.release()
            return False
        return True
