"""Bot files in the main window: new, open, open a past run's version, save, save as, the
unsaved-changes guard, recent files, and autosave with recovery after a crash."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from botloom.runner import botfile, paths
from botloom.runner.errors import BotloomError

from .document import Document
from .theme import APP_NAME

MAX_RECENT = 10
AUTOSAVE_MS = 30_000


class FilesMixin:
    """Part of :class:`~botloom.app.main.MainWindow`: opening, saving and recovering bots."""

    def show_start_page(self) -> None:
        self.start_page.fill(self.recent_files())
        self.stack.setCurrentIndex(0)
        self.setWindowTitle(APP_NAME)

    def new_bot(self) -> None:
        if not self.maybe_save():
            return
        self.set_document(Document.new(self.registry))

    def open_dialog(self) -> None:
        path = self.ask_open_path()
        if path:
            self.open_path(path)

    def open_path(self, path: str) -> bool:
        """Open a bot file. A file that cannot be read is reported and never written to."""
        if not self.maybe_save():
            return False
        try:
            doc = Document.open(path, self.registry)
        except BotloomError as exc:
            text = f"Cannot open {Path(path).name}: {exc.message}"
            if exc.where:
                text += f" ({exc.where})"
            if exc.fix:
                text += f". {exc.fix[0].upper()}{exc.fix[1:]}"
            if "unchanged" not in text:
                text += ". The file was not changed."
            self.notify("error", text)
            self.add_recent(path, remove=not Path(path).exists())
            return False
        self.set_document(doc)
        self.add_recent(str(doc.path))
        missing = sorted({s.type for f in doc.bot.flows.values() for s in f.specs().values()
                          if s.type not in self.registry})
        if missing:
            self.notify("warning", f"This bot uses node types that are not installed: {', '.join(missing)}. "
                        "They are shown as placeholders and kept unchanged when you save; install their node "
                        "pack to edit or run them.")
        return True

    def open_version(self, name: str, text: str) -> None:
        """Open the bot as a past run ran it (an unsaved copy; Save as… to keep it)."""
        if not self.maybe_save():
            return
        try:
            doc = Document.from_doc(botfile.loads(text, source=f"{name} (as it ran)"), self.registry)
        except BotloomError as exc:
            self.notify("error", f"The bot of that run cannot be read: {exc}")
            return
        doc.force_dirty = True
        self.set_document(doc)
        self.notify("info", f"Opened '{name}' as it ran. Use Save as… to keep this version.")

    def save(self) -> bool:
        if self.doc is None:
            return False
        if self.doc.path is None:
            return self.save_as()
        return self._save_to(self.doc.path)

    def save_as(self) -> bool:
        """Save under a new file name; a bot still called by its default name (new-bot) takes the
        new file's name (one undoable step). A named bot keeps its name: a copy is the same bot."""
        if self.doc is None:
            return False
        path = self.ask_save_path()
        if not path:
            return False
        from . import commands
        from .properties import BOT_NAME

        stem = Path(path).name
        for suffix in (".bot.json", ".json"):
            if stem.endswith(suffix):
                stem = stem[: -len(suffix)]
                break
        if self.doc.bot.name == "new-bot" and stem != self.doc.bot.name and BOT_NAME.match(stem):
            self.doc.undo.push(commands.SetBotProperties(self.doc, {"name": stem}))
        return self._save_to(Path(path))

    def edit_properties(self):
        """The bot's properties dialog (name, declarations, secrets, settings); one undoable change."""
        if self.doc is None:
            return None
        from PySide6.QtCore import Qt

        from .properties import BotProperties

        dialog = BotProperties(self.doc, self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()
        self.properties_dialog = dialog
        return dialog

    def _save_to(self, path: Path) -> bool:
        try:
            self.doc.save(path)
        except (OSError, BotloomError) as exc:
            self.notify("error", f"Could not save {path}: {exc}")
            return False
        self.clear_autosave()
        self.add_recent(str(self.doc.path))
        self.notify("info", f"Saved {self.doc.path}")
        self._update_title()
        return True

    def maybe_save(self) -> bool:
        """True when it is fine to drop the open bot (saved, or the person said so)."""
        if self.doc is None or not self.is_dirty():
            return True
        answer = self.ask_unsaved()
        if answer == "save":
            return self.save()
        if answer == "discard":
            self.clear_autosave()
            return True
        return False

    def is_dirty(self) -> bool:
        return self.doc is not None and self.doc.dirty

    def close_bot(self) -> None:
        if self.maybe_save():
            if self.doc is not None:
                self.doc.deleteLater()
            self.doc = None
            self.inspector._empty()
            self.show_start_page()
            self._update_actions()

    # ------------------------------------------------------------ recent files
    def recent_files(self) -> list[str]:
        value = self.settings.value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [p for p in (value or []) if p]

    def add_recent(self, path: str, remove: bool = False) -> None:
        items = [p for p in self.recent_files() if p != path]
        if not remove:
            items.insert(0, path)
        self.settings.setValue("recent", items[:MAX_RECENT])
        self.settings.sync()
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_files():
            a = self.recent_menu.addAction(Path(path).name)
            a.setToolTip(path)
            a.triggered.connect(lambda _c=False, p=path: self.open_path(p))
        self.recent_menu.setEnabled(bool(self.recent_files()))

    def _last_dir(self) -> Path:
        recent = self.recent_files()
        return Path(recent[0]).parent if recent else Path.home()

    # ------------------------------------------------------------ autosave and recovery
    def _autosave_key(self) -> str:
        ident = str(self.doc.path) if self.doc.path else f"untitled-{id(self.doc)}-{os.getpid()}"
        return hashlib.sha1(ident.encode()).hexdigest()[:16]

    @staticmethod
    def autosave_dir() -> Path:
        return paths.private_dir(paths.home() / "autosave")  # 0700: unsaved work is the owner's alone

    def autosave(self) -> Path | None:
        """Keep a copy of unsaved work (the bot file itself is only written by Save)."""
        if self.doc is None or not self.is_dirty():
            return None
        key = self._autosave_key()
        target = self.autosave_dir() / f"{key}.bot.json"
        try:
            botfile.save(self.doc.to_doc(), target)
            meta = {"path": str(self.doc.path) if self.doc.path else None, "at": time.time(), "pid": os.getpid()}
            (self.autosave_dir() / f"{key}.json").write_text(json.dumps(meta), encoding="utf-8")
        except (OSError, BotloomError) as exc:
            self.statusBar().showMessage(f"Autosave failed: {exc}", 5000)
            return None
        return target

    def clear_autosave(self) -> None:
        if self.doc is None:
            return
        key = self._autosave_key()
        for suffix in (".bot.json", ".json"):
            (self.autosave_dir() / f"{key}{suffix}").unlink(missing_ok=True)

    @classmethod
    def recoverable(cls) -> list[dict]:
        """Autosaved work left by a designer that did not close normally, newest first. An
        autosave older than its bot file (the bot was saved since, by this or another designer)
        is stale: it is removed, not offered."""
        out = []
        for meta_file in cls.autosave_dir().glob("*.json"):
            if meta_file.name.endswith(".bot.json"):
                continue
            try:
                meta = json.loads(meta_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if _pid_alive(meta.get("pid")):
                continue  # that designer is still open (or this is this one's own copy)
            bot = meta_file.with_name(meta_file.name[:-5] + ".bot.json")
            if not bot.exists():
                continue
            saved = Path(meta["path"]) if meta.get("path") else None
            try:
                stale = saved is not None and saved.stat().st_mtime > float(meta.get("at") or 0)
            except OSError:
                stale = False  # the bot file is gone: the autosave is all there is
            if stale:
                for leftover in (bot, meta_file):
                    leftover.unlink(missing_ok=True)
                continue
            out.append({**meta, "autosave": str(bot), "meta": str(meta_file)})
        return sorted(out, key=lambda e: -float(e.get("at") or 0))

    def offer_recovery(self) -> bool:
        entries = self.recoverable()
        if not entries:
            return False
        choice = self.ask_recover(entries)
        if choice is None:
            return False
        return self.recover(choice)

    def recover(self, entry: dict) -> bool:
        try:
            doc = Document.from_doc(botfile.load(entry["autosave"]), self.registry, entry.get("path"))
        except BotloomError as exc:
            self.notify("error", f"The autosaved copy cannot be read: {exc}")
            return False
        doc.force_dirty = True
        self.set_document(doc)
        for key in ("autosave", "meta"):
            Path(entry[key]).unlink(missing_ok=True)
        self.autosave()
        self.notify("info", "Recovered unsaved work. Save to keep it.")
        return True


def _pid_alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
