"""The questions the main window asks (file names, unsaved changes, text, recovery, run
inputs) and how it tells the person something. Every question is one small ``ask_*``
method, so tests (and embedders) can answer it."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from botloom.runner import botfile

from .theme import APP_NAME


class DialogsMixin:
    """Part of :class:`~botloom.app.main.MainWindow`: its dialogs and notifications."""

    def ask_open_path(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a bot", str(self._last_dir()), "Bots (*.bot.json);;All (*)")
        return path or None

    def ask_save_path(self) -> str | None:
        name = (self.doc.bot.name if self.doc else "bot") + botfile.SUFFIX
        path, _ = QFileDialog.getSaveFileName(self, "Save the bot", str(self._last_dir() / name), "Bots (*.bot.json)")
        if path and not path.endswith(botfile.SUFFIX):
            path += botfile.SUFFIX
        return path or None

    def ask_unsaved(self) -> str:
        """'save', 'discard' or 'cancel'."""
        box = QMessageBox(QMessageBox.Warning, APP_NAME, f"'{self.doc.title}' has unsaved changes.",
                          QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, self)
        box.setInformativeText("Save them before closing?")
        answer = box.exec()
        return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(answer, "cancel")

    def ask_text(self, title: str, label: str, text: str = "", multiline: bool = False) -> str | None:
        if multiline:
            value, ok = QInputDialog.getMultiLineText(self, title, label, text)
        else:
            value, ok = QInputDialog.getText(self, title, label, text=text)
        return value if ok else None

    def ask_recover(self, entries: list[dict]) -> dict | None:
        names = [f"{Path(e.get('path') or 'untitled').name} (autosaved {time.strftime('%H:%M', time.localtime(e['at']))})"
                 for e in entries]
        choice, ok = QInputDialog.getItem(self, "Recover unsaved work",
                                          "The designer closed without saving. Recover this bot?", names, 0, False)
        return entries[names.index(choice)] if ok else None

    def place_banner(self) -> None:
        """Lay the banner over the editor's top edge (below the tab bar), as wide as the editor."""
        editor = self.banner.parentWidget()
        top = self.tabs.tabBar().height() if self.tabs.count() else 0
        width = editor.width()
        self.banner.setGeometry(0, top, width, self.banner.heightForWidth(width))

    def eventFilter(self, obj, event) -> bool:
        from PySide6.QtCore import QEvent

        if obj is getattr(self, "_editor", None) and event.type() == QEvent.Resize and self.banner.isVisible():
            self.place_banner()
        return super().eventFilter(obj, event)

    def notify(self, level: str, text: str) -> None:
        """Tell the person something: the banner for errors and warnings, the status bar otherwise."""
        self.messages.append((level, text))
        if level in ("error", "warning"):
            color = "#e5484d" if level == "error" else "#f5a524"
            self.banner.setStyleSheet(f"background: {color}; color: white; padding: 8px;")
            self.banner.setText(text + "   (click to hide)")
            self.place_banner()
            self.banner.show()
            self.banner.raise_()
        self.statusBar().showMessage(text, 10000)
