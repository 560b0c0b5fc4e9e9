"""Folder watches: a run for every file that arrives in a folder, exactly once.

A file counts once it has stopped growing: its size and modification time unchanged for the
schedule's ``settle`` seconds (a copy in progress is not picked up half-written). It is then
claimed by moving it into the folder's ``processing/`` subfolder (a rename: atomic, so no file is
claimed twice) and a run is queued with the claimed file's path as the input named by the
schedule's ``input`` (default ``file``). When the run ends the file moves to ``done/`` (succeeded)
or ``failed/`` (anything else). Names already taken there get a numbered suffix.

At start-up, files already waiting in the folder are picked up, and files left in
``processing/`` that no queued run refers to (the service stopped between claiming one and
queueing its run) are queued again.
"""

from __future__ import annotations

import fnmatch
import os
import threading
import time
from pathlib import Path
from typing import Callable

POLL_SECONDS = 0.25


def move_into(source: Path, folder: Path) -> Path:
    """Move ``source`` into ``folder`` (created if missing), never over an existing file."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    n = 1
    while True:
        try:
            # link + unlink never replaces an existing name, unlike rename
            os.link(source, target)
            os.unlink(source)
            return target
        except FileExistsError:
            target = folder / f"{source.stem}-{n}{source.suffix}"
            n += 1
        except OSError:  # a file system without hard links
            if not target.exists():
                os.replace(source, target)
                return target
            target = folder / f"{source.stem}-{n}{source.suffix}"
            n += 1


class FolderWatch:
    """Watches one schedule's folder; ``on_file(schedule, claimed_path)`` queues its run."""

    def __init__(self, schedule, on_file: Callable[[object, Path], None]):
        self.schedule = schedule
        spec = schedule.spec
        self.folder = Path(spec["folder"])
        self.pattern = spec.get("pattern") or "*"
        self.settle = float(spec.get("settle", 1.0))
        self.processing = Path(spec["processing"])
        self.on_file = on_file
        self._seen: dict[str, tuple[int, float, float]] = {}  # name -> (size, mtime, unchanged since)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._observer = None
        self._thread = threading.Thread(target=self._poll, name=f"botloom-watch-{schedule.name}", daemon=True)

    def start(self) -> None:
        self.processing.mkdir(parents=True, exist_ok=True)
        try:
            from watchdog.events import FileSystemEventHandler
            from watchdog.observers import Observer

            wake = self._wake

            class Handler(FileSystemEventHandler):
                def on_any_event(self, event):
                    wake.set()

            self._observer = Observer()
            self._observer.schedule(Handler(), str(self.folder), recursive=False)
            self._observer.start()
        except ImportError:  # without watchdog the folder is polled (slower to notice, just as exact)
            self._observer = None
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        self._thread.join(timeout=5)

    def _candidates(self) -> list[os.DirEntry]:
        try:
            with os.scandir(self.folder) as entries:
                return [e for e in entries if e.is_file(follow_symlinks=False) and not e.name.startswith(".")
                        and fnmatch.fnmatch(e.name, self.pattern)]
        except FileNotFoundError:
            return []

    def _poll(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            present = set()
            for entry in self._candidates():
                present.add(entry.name)
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                previous = self._seen.get(entry.name)
                if previous is None or previous[:2] != (st.st_size, st.st_mtime):
                    self._seen[entry.name] = (st.st_size, st.st_mtime, now)
                elif now - previous[2] >= self.settle:
                    self._claim(Path(entry.path))
                    self._seen.pop(entry.name, None)
            for gone in set(self._seen) - present:
                self._seen.pop(gone, None)
            self._wake.wait(POLL_SECONDS if self._seen else 2.0)
            self._wake.clear()

    def _claim(self, path: Path) -> None:
        try:
            claimed = move_into(path, self.processing)
        except FileNotFoundError:  # taken by someone else meanwhile
            return
        self.on_file(self.schedule, claimed)

    def orphans(self, referenced: set[str]) -> list[Path]:
        """Files in processing/ that no queued run refers to."""
        if not self.processing.is_dir():
            return []
        return [p for p in sorted(self.processing.iterdir()) if p.is_file() and str(p) not in referenced]


__all__ = ["FolderWatch", "move_into"]
