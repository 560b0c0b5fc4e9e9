"""The parts of the main window that are not the canvas or the inspector: the start page
(new, open, recent bots, sample bots) and the problems panel."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from botloom.runner import botfile
from botloom.runner.errors import BotloomError

from . import theme


def bots_dir() -> Path:
    """The sample bots: the installed package botloom.bots, or bots/ of a checkout."""
    from botloom.runner.start import bots_dir as samples

    return samples()


def sample_bots() -> list[Path]:
    folder = bots_dir()
    return sorted(folder.glob("*/*.bot.json")) if folder.is_dir() else []


class ProblemsPanel(QTreeWidget):
    problemActivated = Signal(object)  # Problem

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setHeaderLabels(["", "Where", "Problem", "Fix"])
        self.setRootIsDecorated(False)
        self.setColumnWidth(0, 70)
        self.setColumnWidth(1, 200)
        self.setColumnWidth(2, 420)
        self.problems: list = []
        self.itemActivated.connect(self._activated)
        self.itemClicked.connect(self._activated)

    def show_problems(self, problems: list) -> None:
        self.problems = list(problems)
        self.clear()
        for i, p in enumerate(self.problems):
            item = QTreeWidgetItem([p.severity, p.location, p.message, p.fix or ""])
            item.setData(0, Qt.UserRole, i)
            item.setForeground(0, QColor("#e5484d" if p.severity == "error" else "#f5a524"))
            item.setToolTip(2, p.message)
            self.addTopLevelItem(item)

    def _activated(self, item, _column=0) -> None:
        self.problemActivated.emit(self.problems[item.data(0, Qt.UserRole)])


class StartPage(QWidget):
    openRequested = Signal(str)
    newRequested = Signal()
    openDialogRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 36, 48, 36)
        head = QHBoxLayout()
        logo = QLabel()
        logo.setPixmap(theme.app_icon().pixmap(56, 56))
        head.addWidget(logo)
        title = QLabel("<h1 style='margin:0'>Botloom</h1><span style='color:gray'>Draw a bot, run it, see what "
                       "it did.</span>")
        head.addWidget(title, 1)
        layout.addLayout(head)
        buttons = QHBoxLayout()
        self.new_button = QPushButton("New bot")
        self.open_button = QPushButton("Open…")
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        cols = QHBoxLayout()
        self.recent = QListWidget(objectName="recent-bots")
        self.samples = QListWidget(objectName="sample-bots")
        for label, lst in (("<b>Recent bots</b>", self.recent), ("<b>Sample bots</b>", self.samples)):
            lst.setWordWrap(True)  # a sample's description is read whole, not cut at the list's edge
            lst.setTextElideMode(Qt.ElideNone)
            lst.setResizeMode(QListWidget.Adjust)
            lst.setSpacing(2)
            box = QVBoxLayout()
            box.addWidget(QLabel(label))
            box.addWidget(lst)
            cols.addLayout(box)
            lst.itemActivated.connect(lambda item: self.openRequested.emit(item.data(Qt.UserRole)))
        layout.addLayout(cols, 1)
        self.new_button.clicked.connect(self.newRequested)
        self.open_button.clicked.connect(self.openDialogRequested)

    def fill(self, recent: list[str]) -> None:
        self.recent.clear()
        for path in recent:
            item = QListWidgetItem(f"{Path(path).name}   —   {Path(path).parent}")
            item.setData(Qt.UserRole, path)
            self.recent.addItem(item)
        if not recent:
            item = QListWidgetItem("(none yet)")
            item.setFlags(Qt.NoItemFlags)
            self.recent.addItem(item)
        self.samples.clear()
        for path in sample_bots():
            try:
                description = botfile.load(path).description
            except BotloomError:
                description = ""
            item = QListWidgetItem(path.name + (f"\n{description}" if description else ""))
            item.setToolTip(description or str(path))
            item.setData(Qt.UserRole, str(path))
            self.samples.addItem(item)
