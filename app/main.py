"""The designer's main window and ``main()`` (what ``botloom start`` opens).

Layout: the palette on the left, the canvas in the middle (one tab per open flow: main and
subflows), the inspector on the right, and at the bottom the problems, the run log, the
variables at a pause, and the run history. A start page lists recent bots and the sample bots.

Dialogs go through small ``ask_*`` methods, so tests (and embedders) can answer them.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QPointF, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QHBoxLayout, QInputDialog, QLabel,
                               QListWidget, QListWidgetItem, QMainWindow, QMessageBox, QPlainTextEdit,
                               QPushButton, QStackedWidget, QTabWidget, QToolBar, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from botloom.runner import botfile, paths
from botloom.runner.botfile.model import Note
from botloom.runner.errors import BotloomError

from . import autolayout, clipboard, commands, theme
from .canvas import FlowScene, FlowView
from .document import Document
from .history import RunHistory
from .inspector import Inspector
from .palette import Palette
from .runner_process import RunProcess

APP_NAME = "Botloom Designer"
MAX_RECENT = 10
AUTOSAVE_MS = 30_000


def bots_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "bots"


def sample_bots() -> list[Path]:
    folder = bots_dir()
    return sorted(folder.glob("*/*.bot.json")) if folder.is_dir() else []


def _keys(*keys) -> list[QKeySequence]:
    """Shortcuts: the platform's standard ones first, then the common others, without repeats."""
    out: list[QKeySequence] = []
    for key in keys:
        seqs = QKeySequence.keyBindings(key) if isinstance(key, QKeySequence.StandardKey) else [QKeySequence(key)]
        out += [s for s in seqs if s not in out and not s.isEmpty()]
    return out


def registry():
    from botloom.runner import service

    return service.registry()


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
            item = QListWidgetItem(path.name + (f"   —   {description}" if description else ""))
            item.setData(Qt.UserRole, str(path))
            self.samples.addItem(item)


class MainWindow(QMainWindow):
    def __init__(self, registry_=None, settings: QSettings | None = None):
        super().__init__()
        self.registry = registry_ or registry()
        self.settings = settings or QSettings(str(paths.home() / "designer.ini"), QSettings.IniFormat)
        self.doc: Document | None = None
        self.scenes: dict[str, FlowScene] = {}
        self.views: dict[str, FlowView] = {}
        self.messages: list[tuple[str, str]] = []  # (level, text) shown to the person, newest last
        self.run = RunProcess(self)
        self.run_states: dict[tuple[str, str], tuple[str, float | None]] = {}
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(theme.app_icon())
        self.resize(1400, 860)

        # central: start page or editor
        self.stack = QStackedWidget()
        self.start_page = StartPage()
        self.start_page.openRequested.connect(self.open_path)
        self.start_page.newRequested.connect(self.new_bot)
        self.start_page.openDialogRequested.connect(self.open_dialog)
        editor = QWidget()
        el = QVBoxLayout(editor)
        el.setContentsMargins(0, 0, 0, 0)
        el.setSpacing(0)
        self.banner = QLabel(objectName="banner", wordWrap=True)
        self.banner.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.banner.hide()
        self.banner.mousePressEvent = lambda _e: self.banner.hide()
        el.addWidget(self.banner)
        self.tabs = QTabWidget(documentMode=True, tabsClosable=True)
        self.tabs.tabCloseRequested.connect(self._close_tab)
        self.tabs.currentChanged.connect(lambda _i: self._on_selection())
        el.addWidget(self.tabs, 1)
        self.stack.addWidget(self.start_page)
        self.stack.addWidget(editor)
        self.setCentralWidget(self.stack)

        # docks
        self.palette = Palette(self.registry)
        self.palette.activated.connect(self.add_node_at_center)
        self.inspector = Inspector()
        self.inspector.captureRequested.connect(self.capture_target)
        self.problems = ProblemsPanel()
        self.problems.problemActivated.connect(self.go_to_problem)
        self.log = QPlainTextEdit(readOnly=True, objectName="run-log")
        self.log.setMaximumBlockCount(20000)
        self.variables = QTreeWidget(objectName="variables")
        self.variables.setHeaderLabels(["Variable", "Value"])
        self.variables.setColumnWidth(0, 180)
        self.history = RunHistory()
        self.history.resumeRequested.connect(self.resume_run)
        self.history.openVersionRequested.connect(self.open_version)
        self.dock_palette = self._dock("Nodes", self.palette, Qt.LeftDockWidgetArea)
        self.dock_inspector = self._dock("Inspector", self.inspector, Qt.RightDockWidgetArea)
        self.dock_problems = self._dock("Problems", self.problems, Qt.BottomDockWidgetArea)
        self.dock_log = self._dock("Run log", self.log, Qt.BottomDockWidgetArea)
        self.dock_vars = self._dock("Variables", self.variables, Qt.BottomDockWidgetArea)
        self.dock_history = self._dock("Run history", self.history, Qt.BottomDockWidgetArea)
        for d in (self.dock_log, self.dock_vars, self.dock_history):
            self.tabifyDockWidget(self.dock_problems, d)
        self.dock_problems.raise_()
        self.resizeDocks([self.dock_palette, self.dock_inspector], [240, 340], Qt.Horizontal)
        self.resizeDocks([self.dock_problems], [220], Qt.Vertical)

        self._make_actions()
        self.run.event.connect(self._on_run_event)
        self.run.output.connect(self._on_run_output)
        self.run.finished.connect(self._on_run_finished)
        self.run.crashed.connect(self._on_run_crashed)
        self.autosave_timer = QTimer(self, interval=AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        self.show_start_page()
        self._update_actions()

    # ------------------------------------------------------------ building
    def _dock(self, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self, objectName=f"dock-{title.lower().replace(' ', '-')}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text: str, slot, shortcut=None, tip: str = "", checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
            a.setShortcutContext(Qt.WindowShortcut)
        a.setToolTip(tip or text.replace("&", ""))
        a.setCheckable(checkable)
        if checkable:
            a.toggled.connect(slot)
        else:
            a.triggered.connect(lambda _checked=False: slot())  # slots take their own arguments
        self.addAction(a)
        return a

    def _make_actions(self) -> None:
        K = QKeySequence
        self.a_new = self._action("&New bot", self.new_bot, K.New)
        self.a_open = self._action("&Open…", self.open_dialog, K.Open)
        self.a_save = self._action("&Save", self.save, K.Save)
        self.a_save_as = self._action("Save &as…", self.save_as, K.SaveAs)
        self.a_close = self._action("&Close bot", self.close_bot, K.Close)
        self.a_new_window = self._action("New &window", self.new_window, "Ctrl+Shift+N")
        self.a_quit = self._action("&Quit", self.close, K.Quit)
        self.a_undo = self._action("&Undo", lambda: self.doc and self.doc.undo.undo(), K.Undo)
        self.a_redo = self._action("&Redo", lambda: self.doc and self.doc.undo.redo(),
                                   _keys(K.Redo, "Ctrl+Shift+Z", "Ctrl+Y"))
        self.a_cut = self._action("Cu&t", self.cut, K.Cut)
        self.a_copy = self._action("&Copy", self.copy, K.Copy)
        self.a_paste = self._action("&Paste", self.paste, K.Paste)
        self.a_duplicate = self._action("&Duplicate", self.duplicate, "Ctrl+D")
        self.a_delete = self._action("De&lete", self.delete_selection, [K(K.Delete), K("Backspace")])
        self.a_select_all = self._action("Select &all", self.select_all, K.SelectAll)
        self.a_note = self._action("Add sticky &note", self.add_note, "Ctrl+Shift+M")
        self.a_zoom_in = self._action("Zoom &in", lambda: self.view and self.view.zoom(1.2), [K(K.ZoomIn), K("Ctrl+=")])
        self.a_zoom_out = self._action("Zoom &out", lambda: self.view and self.view.zoom(1 / 1.2), K.ZoomOut)
        self.a_zoom_reset = self._action("&Actual size", lambda: self.view and self.view.reset_zoom(), "Ctrl+0")
        self.a_fit = self._action("&Fit to view", lambda: self.view and self.view.fit_to_view(), "Ctrl+1")
        self.a_snap = self._action("&Snap to grid", self._toggle_snap, checkable=True)
        self.a_snap.setChecked(True)
        self.a_layout = self._action("Arrange &automatically", self.auto_layout, "Ctrl+Shift+L")
        self.a_subflow = self._action("Add &subflow…", self.add_subflow)
        self.a_open_subflow = self._action("&Open subflow…", self.open_subflow_dialog)
        self.a_run = self._action("&Run", lambda: self.run_bot(), "F5", "Run the bot (saves it first)")
        self.a_run_from = self._action("Run from &selected node…", self.run_from_selected, "Ctrl+F5")
        self.a_pause = self._action("&Pause", self.run.pause, "F6")
        self.a_step = self._action("S&tep", self.run.step, "F10")
        self.a_continue = self._action("&Continue", self.run.resume, "F8")
        self.a_stop = self._action("St&op", self.run.stop, "Shift+F5")
        self.a_break = self._action("Toggle &breakpoint", self.toggle_breakpoint, "F9")
        self.a_history = self._action("Run &history", self.show_history, "Ctrl+H")

        mb = self.menuBar()
        m = mb.addMenu("&File")
        for a in (self.a_new, self.a_open):
            m.addAction(a)
        self.recent_menu = m.addMenu("Open &recent")
        for a in (self.a_save, self.a_save_as, self.a_close, self.a_new_window):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.a_quit)
        m = mb.addMenu("&Edit")
        self.edit_menu = m
        for a in (self.a_undo, self.a_redo, None, self.a_cut, self.a_copy, self.a_paste, self.a_duplicate,
                  self.a_delete, self.a_select_all, None, self.a_note):
            m.addSeparator() if a is None else m.addAction(a)
        m = mb.addMenu("&View")
        for a in (self.a_zoom_in, self.a_zoom_out, self.a_zoom_reset, self.a_fit, None, self.a_snap, self.a_layout):
            m.addSeparator() if a is None else m.addAction(a)
        m.addSeparator()
        for d in (self.dock_palette, self.dock_inspector, self.dock_problems, self.dock_log, self.dock_vars,
                  self.dock_history):
            m.addAction(d.toggleViewAction())
        m = mb.addMenu("F&low")
        m.addAction(self.a_subflow)
        m.addAction(self.a_open_subflow)
        m = mb.addMenu("&Run")
        for a in (self.a_run, self.a_run_from, None, self.a_pause, self.a_step, self.a_continue, self.a_stop, None,
                  self.a_break, self.a_history):
            m.addSeparator() if a is None else m.addAction(a)
        help_menu = mb.addMenu("&Help")
        help_menu.addAction(self._action("&About Botloom", self.about))

        style = self.style()
        SP = style.StandardPixmap
        for action, pixmap in ((self.a_new, SP.SP_FileIcon), (self.a_open, SP.SP_DialogOpenButton),
                               (self.a_save, SP.SP_DialogSaveButton), (self.a_undo, SP.SP_ArrowBack),
                               (self.a_redo, SP.SP_ArrowForward), (self.a_run, SP.SP_MediaPlay),
                               (self.a_pause, SP.SP_MediaPause), (self.a_step, SP.SP_MediaSkipForward),
                               (self.a_continue, SP.SP_MediaSeekForward), (self.a_stop, SP.SP_MediaStop),
                               (self.a_fit, SP.SP_TitleBarMaxButton), (self.a_history, SP.SP_FileDialogDetailedView)):
            action.setIcon(style.standardIcon(pixmap))
        tb = QToolBar("Main", objectName="toolbar-main")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        for a in (self.a_new, self.a_open, self.a_save, None, self.a_undo, self.a_redo, None, self.a_run,
                  self.a_pause, self.a_step, self.a_continue, self.a_stop, self.a_break, None, self.a_fit,
                  self.a_layout, self.a_note):
            tb.addSeparator() if a is None else tb.addAction(a)
        self.addToolBar(tb)
        self._fill_recent_menu()

    # ------------------------------------------------------------ dialogs (tests answer these)
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

    def ask_run_from(self, node_id: str, inputs: dict) -> dict | None:
        text = self.ask_text("Run from here", f"Run from '{node_id}'. Input values as JSON (empty: defaults):",
                             json.dumps(inputs) if inputs else "", multiline=True)
        if text is None:
            return None
        try:
            value = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            self.notify("error", f"the inputs are not valid JSON: {exc}")
            return None
        return value if isinstance(value, dict) else None

    def notify(self, level: str, text: str) -> None:
        """Tell the person something: the banner for errors and warnings, the status bar otherwise."""
        self.messages.append((level, text))
        if level in ("error", "warning"):
            color = "#e5484d" if level == "error" else "#f5a524"
            self.banner.setStyleSheet(f"background: {color}; color: white; padding: 8px;")
            self.banner.setText(text + "   (click to hide)")
            self.banner.show()
        self.statusBar().showMessage(text, 10000)

    # ------------------------------------------------------------ documents
    def show_start_page(self) -> None:
        self.start_page.fill(self.recent_files())
        self.stack.setCurrentIndex(0)
        self.setWindowTitle(APP_NAME)

    def set_document(self, doc: Document) -> None:
        if self.doc is not None:
            self.doc.deleteLater()
        self.doc = doc
        doc.setParent(self)
        self.tabs.blockSignals(True)
        while self.tabs.count():
            w = self.tabs.widget(0)
            self.tabs.removeTab(0)
            w.deleteLater()
        self.tabs.blockSignals(False)
        for scene in self.scenes.values():
            scene.deleteLater()
        self.scenes, self.views, self.run_states = {}, {}, {}
        self.inspector.set_document(doc)
        doc.problemsChanged.connect(self._refresh_problems)
        doc.pathChanged.connect(self._update_title)
        doc.flowsChanged.connect(self._on_flows_changed)
        for signal in (doc.undo.canUndoChanged, doc.undo.canRedoChanged, doc.undo.undoTextChanged,
                       doc.undo.redoTextChanged, doc.undo.cleanChanged):
            signal.connect(self._on_undo_changed)
        self.open_flow("main")
        self.stack.setCurrentIndex(1)
        doc.schedule_validation()  # the problems panel fills once the canvas is on screen
        self._update_title()
        self._update_actions()
        self.history.bot_filter = doc.bot.name
        self.history.refresh()
        QTimer.singleShot(0, lambda: self.view and self.view.fit_to_view())

    def open_flow(self, name: str) -> FlowView:
        if name in self.views:
            self.tabs.setCurrentWidget(self.views[name])
            return self.views[name]
        scene = FlowScene(self.doc, name, self)
        scene.selectionChanged.connect(self._on_selection)
        scene.connectionRefused.connect(lambda reason: self.notify("warning", f"Not connected: {reason}"))
        scene.connectionHint.connect(lambda reason: self.statusBar().showMessage(reason or "Release to connect"))
        scene.nodeActivated.connect(lambda nid, f=name: self._node_activated(f, nid))
        scene.noteActivated.connect(lambda nid, f=name: self.edit_note(f, nid))
        scene.snap_to_grid = self.a_snap.isChecked()
        view = FlowView(scene)
        view.setObjectName(f"flow-{name}")
        self.scenes[name], self.views[name] = scene, view
        label = "Main flow" if name == "main" else f"Subflow: {name}"
        index = self.tabs.addTab(view, theme.category_icon("flow"), label)
        if name == "main":
            self.tabs.tabBar().setTabButton(index, self.tabs.tabBar().ButtonPosition.RightSide, None)
        self.tabs.setCurrentIndex(index)
        for (flow, nid), (state, dur) in self.run_states.items():
            if flow == name:
                scene.set_node_state(nid, state, dur)
        return view

    def _close_tab(self, index: int) -> None:
        view = self.tabs.widget(index)
        name = next((n for n, v in self.views.items() if v is view), None)
        if name and name != "main":
            self.tabs.removeTab(index)
            self.views.pop(name)
            self.scenes.pop(name).deleteLater()
            view.deleteLater()

    def _on_flows_changed(self) -> None:
        for name in list(self.views):
            if name not in self.doc.bot.flows:
                self._close_tab(self.tabs.indexOf(self.views[name]))
        self._refresh_problems()

    @property
    def flow_name(self) -> str:
        view = self.tabs.currentWidget()
        return next((n for n, v in self.views.items() if v is view), "main")

    @property
    def view(self) -> FlowView | None:
        return self.views.get(self.flow_name) if self.doc else None

    @property
    def scene(self) -> FlowScene | None:
        return self.scenes.get(self.flow_name) if self.doc else None

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
        if self.doc is None:
            return False
        path = self.ask_save_path()
        return self._save_to(Path(path)) if path else False

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

    def new_window(self) -> "MainWindow":
        win = MainWindow(self.registry, self.settings)
        win.show()
        _windows.append(win)
        return win

    def closeEvent(self, event) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        if self.run.running:
            self.run.kill()
            self.run.proc.waitForFinished(3000)
        self.clear_autosave()
        event.accept()

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
        folder = paths.home() / "autosave"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

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
        """Autosaved work left by a designer that did not close normally."""
        out = []
        for meta_file in sorted(cls.autosave_dir().glob("*.json")):
            if meta_file.name.endswith(".bot.json"):
                continue
            try:
                meta = json.loads(meta_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if _pid_alive(meta.get("pid")):
                continue  # that designer is still open (or this is this one's own copy)
            bot = meta_file.with_name(meta_file.name[:-5] + ".bot.json")
            if bot.exists():
                out.append({**meta, "autosave": str(bot), "meta": str(meta_file)})
        return out

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

    # ------------------------------------------------------------ editing
    def _toggle_snap(self, on: bool) -> None:
        for scene in self.scenes.values():
            scene.snap_to_grid = on

    def add_node_at_center(self, type_id: str) -> str | None:
        if self.view is None:
            return None
        center = self.view.mapToScene(self.view.viewport().rect().center())
        return self.view.drop_node(type_id, center)

    def selected_nodes(self) -> list[str]:
        return self.scene.selected_node_ids() if self.scene else []

    def copy(self) -> str | None:
        if self.scene is None or not self.selected_nodes():
            return None
        text = clipboard.copy_text(self.scene.flow, self.selected_nodes())
        QGuiApplication.clipboard().setText(text)
        self.statusBar().showMessage(f"Copied {len(self.selected_nodes())} node(s)", 3000)
        return text

    def cut(self) -> None:
        if self.copy():
            self.delete_selection()

    def paste(self, text: str | None = None, at: QPointF | None = None) -> list[str]:
        if self.scene is None:
            return []
        data = clipboard.parse(QGuiApplication.clipboard().text() if text is None else text)
        if data is None:
            self.statusBar().showMessage("The clipboard holds no Botloom nodes", 3000)
            return []
        nodes, edges = clipboard.paste_plan(self.scene.flow, data,
                                            at=(at.x(), at.y()) if at is not None else None)
        if not nodes:
            return []
        self.doc.undo.push(commands.AddNodes(self.doc, self.flow_name, nodes, edges,
                                             text=f"Paste {len(nodes)} node(s)"))
        ids = [s.id for s, _ in nodes]
        self.scene.select_nodes(ids)
        return ids

    def duplicate(self) -> list[str]:
        if self.scene is None or not self.selected_nodes():
            return []
        data = clipboard.parse(clipboard.copy_text(self.scene.flow, self.selected_nodes()))
        nodes, edges = clipboard.paste_plan(self.scene.flow, data)
        self.doc.undo.push(commands.AddNodes(self.doc, self.flow_name, nodes, edges,
                                             text=f"Duplicate {len(nodes)} node(s)"))
        ids = [s.id for s, _ in nodes]
        self.scene.select_nodes(ids)
        return ids

    def delete_selection(self) -> None:
        scene = self.scene
        if scene is None:
            return
        nodes = [n for n in scene.selected_node_ids()
                 if not (scene.flow.node(n).type == "core.start")]
        edges, notes = scene.selected_edges(), scene.selected_note_ids()
        if len(nodes) < len(scene.selected_node_ids()) and not (nodes or edges or notes):
            self.notify("info", "The start node cannot be deleted: every flow has exactly one.")
            return
        if nodes or edges or notes:
            self.doc.undo.push(commands.RemoveItems(self.doc, self.flow_name, nodes, edges, notes))

    def select_all(self) -> None:
        if self.scene is not None:
            for item in self.scene.items():
                if item.flags() & item.GraphicsItemFlag.ItemIsSelectable:
                    item.setSelected(True)

    def add_note(self, text: str | None = None) -> str | None:
        if self.scene is None:
            return None
        if text is None:
            text = self.ask_text("Sticky note", "Text of the note:", multiline=True)
            if not text:
                return None
        center = self.view.mapToScene(self.view.viewport().rect().center())
        note = Note(id=self.doc.new_note_id(self.flow_name), text=text, x=round(center.x() / 20) * 20,
                    y=round(center.y() / 20) * 20, width=220, height=100)
        self.doc.undo.push(commands.AddNote(self.doc, self.flow_name, note))
        return note.id

    def edit_note(self, flow: str, note_id: str) -> None:
        note = self.doc.note(flow, note_id)
        text = self.ask_text("Sticky note", "Text of the note:", note.text, multiline=True)
        if text is not None and text != note.text:
            self.doc.undo.push(commands.EditNote(self.doc, flow, note_id, text=text))

    def auto_layout(self) -> None:
        scene = self.scene
        if scene is None:
            return
        heights = {nid: item.height for nid, item in scene.nodes.items()}
        new = autolayout.layout(scene.flow, heights)
        moves = {nid: (tuple(scene.flow.position(nid)), pos) for nid, pos in new.items()
                 if tuple(scene.flow.position(nid)) != pos}
        if moves:
            self.doc.undo.push(commands.MoveItems(self.doc, self.flow_name, moves, text="Arrange automatically"))
        self.view.fit_to_view()

    def add_subflow(self, name: str | None = None) -> str | None:
        if self.doc is None:
            return None
        name = name or self.ask_text("Add subflow", "Name of the subflow (letters, digits, _):")
        if not name:
            return None
        from botloom.runner.botfile.model import NAME

        if not NAME.match(name) or name == "main" or name in self.doc.bot.flows:
            self.notify("error", f"'{name}' cannot be a subflow's name: use letters, digits and _, starting with a "
                        "letter, and a name not used yet")
            return None
        self.doc.undo.push(commands.AddSubflow(self.doc, name))
        self.open_flow(name)
        return name

    def open_subflow_dialog(self) -> None:
        names = [n for n in self.doc.bot.flows if n != "main"] if self.doc else []
        if not names:
            self.notify("info", "This bot has no subflows yet (Flow → Add subflow).")
            return
        choice, ok = QInputDialog.getItem(self, "Open subflow", "Subflow:", names, 0, False)
        if ok:
            self.open_flow(choice)

    def _node_activated(self, flow: str, node_id: str) -> None:
        spec = self.doc.flow(flow).node(node_id)
        sub = spec.params.get("subflow")
        if spec.type == "core.call_subflow" and isinstance(sub, str) and sub in self.doc.bot.flows:
            self.open_flow(sub)

    def toggle_breakpoint(self) -> None:
        if self.doc is None:
            return
        for nid in self.selected_nodes():
            if self.flow_name != "main":
                self.notify("info", "Breakpoints can be set on nodes of the main flow.")
                return
            on = self.doc.toggle_breakpoint(nid)
            self.run.set_breakpoint(nid, on)

    def capture_target(self, param: str) -> None:
        from .capture import RegionPicker, save_screen_target

        if self.doc.path is None and not self.save():
            return
        node_id, flow = self.inspector.node_id, self.inspector.flow_name
        self.hide()
        theme.process_events()
        picker = RegionPicker()
        self.show()
        if picker.exec() and picker.result_image is not None:
            try:
                save_screen_target(self.doc, flow, node_id, param, picker.result_image)
            except (OSError, ValueError) as exc:
                self.notify("error", f"The target image could not be saved: {exc}")

    # ------------------------------------------------------------ selection, problems
    def _on_selection(self) -> None:
        scene = self.scene
        if scene is None:
            return
        try:
            ids = scene.selected_node_ids()
        except RuntimeError:
            return
        self.inspector.show_node(self.flow_name, ids[0] if len(ids) == 1 else None)
        self._update_actions()

    def select_node(self, flow: str, node_id: str) -> None:
        view = self.open_flow(flow)
        scene = self.scenes[flow]
        scene.select_nodes([node_id])
        if node_id in scene.nodes:
            view.centerOn(scene.nodes[node_id])

    def go_to_problem(self, problem) -> None:
        if problem.node and problem.flow in self.doc.bot.flows and problem.node in self.doc.flow(problem.flow):
            self.select_node(problem.flow, problem.node)
            self.dock_inspector.raise_()
            self.inspector.focus_param(problem.param)

    def _refresh_problems(self) -> None:
        if self.doc is None:
            return
        problems = self.doc.problems()
        self.problems.show_problems(problems)
        errors = sum(p.severity == "error" for p in problems)
        self.dock_problems.setWindowTitle(f"Problems ({errors} errors, {len(problems) - errors} warnings)"
                                          if problems else "Problems")

    def _update_title(self) -> None:
        if self.doc is None:
            self.setWindowTitle(APP_NAME)
            return
        star = "*" if self.is_dirty() else ""
        self.setWindowTitle(f"{star}{self.doc.title} — {APP_NAME}")

    def _on_undo_changed(self, *_args) -> None:
        try:
            self._update_actions()
        except RuntimeError:  # the window is being destroyed
            pass

    def _update_actions(self) -> None:
        has = self.doc is not None
        undo = self.doc.undo if has else None
        self.a_undo.setEnabled(bool(has and undo.canUndo()))
        self.a_redo.setEnabled(bool(has and undo.canRedo()))
        self.a_undo.setText(f"&Undo {undo.undoText()}" if has and undo.canUndo() else "&Undo")
        self.a_redo.setText(f"&Redo {undo.redoText()}" if has and undo.canRedo() else "&Redo")
        for a in (self.a_save, self.a_save_as, self.a_close, self.a_paste, self.a_select_all, self.a_note,
                  self.a_fit, self.a_layout, self.a_subflow, self.a_zoom_in, self.a_zoom_out, self.a_zoom_reset):
            a.setEnabled(has)
        selected = bool(has and self.scene and self.selected_nodes())
        for a in (self.a_copy, self.a_cut, self.a_duplicate, self.a_break, self.a_run_from):
            a.setEnabled(selected)
        running = self.run.running
        self.a_run.setEnabled(has and not running)
        for a in (self.a_pause, self.a_step, self.a_continue, self.a_stop):
            a.setEnabled(running)
        self._update_title()

    # ------------------------------------------------------------ running
    def run_bot(self, start_at: str | None = None, inputs: dict | None = None) -> bool:
        """Save, then run the bot in a child process (never in the designer's own process)."""
        if self.doc is None or self.run.running:
            return False
        if (self.is_dirty() or self.doc.path is None) and not self.save():
            self.notify("info", "The bot runs from its file: save it to run it.")
            return False
        errors = [p for p in self.doc.problems() if p.severity == "error"]
        if errors:
            self.dock_problems.raise_()
            self.notify("error", f"The bot has {len(errors)} problem(s) to fix before it can run; see Problems.")
            return False
        self.clear_run_states()
        self.log.clear()
        self.variables.clear()
        self.dock_log.raise_()
        self.log.appendPlainText(f"> running {self.doc.path.name}" + (f" from '{start_at}'" if start_at else ""))
        breakpoints = [b for b in self.doc.breakpoints if b in self.doc.flow("main")]
        self.run.start(self.doc.path, breakpoints=breakpoints, start_at=start_at, inputs=inputs)
        self._update_actions()
        return True

    def run_from_selected(self) -> None:
        ids = self.selected_nodes()
        if len(ids) != 1 or self.flow_name != "main":
            self.notify("info", "Select one node of the main flow to run from it.")
            return
        inputs = self.ask_run_from(ids[0], {})
        if inputs is not None:
            self.run_bot(start_at=ids[0], inputs=inputs)

    def resume_run(self, run_id: str, action: str = "") -> None:
        if self.run.running:
            self.notify("info", "A run is in progress; wait for it to end or stop it.")
            return
        self.clear_run_states()
        self.log.clear()
        self.dock_log.raise_()
        self.log.appendPlainText(f"> resuming run {run_id}")
        cwd = self.doc.folder if self.doc and self.doc.folder else Path.cwd()
        self.run.start_resume(run_id, action or None, cwd)
        self._update_actions()

    def clear_run_states(self) -> None:
        self.run_states = {}
        for scene in self.scenes.values():
            scene.clear_states()

    def _set_state(self, flow: str, nid: str, state: str, duration=None, current=False) -> None:
        self.run_states[(flow, nid)] = (state, duration)
        if flow in self.scenes:
            self.scenes[flow].set_node_state(nid, state, duration, current)

    def _on_run_event(self, ev: dict) -> None:
        kind = ev.get("event")
        flow = ev.get("flow", "main")
        if kind == "run_started":
            self.log.appendPlainText(f"run {ev.get('run_id')} started")
        elif kind == "node_started":
            self._set_state(flow, ev["node"], "running", current=True)
        elif kind == "node_finished":
            state = ev.get("state", "succeeded")
            self._set_state(flow, ev["node"], state, ev.get("duration"))
            if ev.get("error"):
                e = ev["error"]
                self.log.appendPlainText(f"[{ev['node']}] {state}: {e.get('message')}"
                                         + (f" — fix: {e['fix']}" if e.get("fix") else ""))
        elif kind == "node_retrying":
            self._set_state(flow, ev["node"], "retrying")
            self.log.appendPlainText(f"[{ev['node']}] retrying in {ev.get('delay', 0):g} s: "
                                     f"{(ev.get('error') or {}).get('message')}")
        elif kind == "log":
            level = ev.get("level", "info")
            self.log.appendPlainText(f"[{ev.get('node')}] {'' if level == 'info' else level + ': '}{ev.get('message')}")
        elif kind == "artifact":
            self.log.appendPlainText(f"[{ev.get('node')}] kept {ev.get('artifact_kind')}: {ev.get('path')}")
        elif kind == "paused":
            node = ev.get("node")
            self.log.appendPlainText(f"|| paused before '{node}' ({ev.get('reason')})")
            self._show_variables(ev.get("variables") or {})
            self.dock_vars.raise_()
            for scene in self.scenes.values():
                for item in scene.nodes.values():
                    if item.current:
                        item.set_state(item.state, item.duration, False)
            if node in self.doc.flow("main"):
                self._set_state("main", node, "paused", current=True)
            self.statusBar().showMessage(f"Paused before '{node}' ({ev.get('reason')}). F10 steps, F8 continues.")
        elif kind == "resumed":
            node = ev.get("node")
            if self.run_states.get(("main", node), ("",))[0] == "paused":
                self._set_state("main", node, "running", current=True)
        elif kind == "run_finished":
            state = ev.get("state")
            text = f"run {state}"
            if ev.get("duration") is not None:
                text += f" in {ev['duration']:.2f} s, {ev.get('steps', 0)} steps"
            if ev.get("error"):
                e = ev["error"]
                text += f": {e.get('where', '')}: {e.get('message')}"
            self.log.appendPlainText(text)
            if ev.get("outputs"):
                self._show_variables(ev["outputs"], title="Outputs")
        self._update_actions()

    def _show_variables(self, values: dict, title: str | None = None) -> None:
        self.variables.clear()
        if title:
            self.variables.addTopLevelItem(QTreeWidgetItem([title, ""]))
        for name, value in sorted(values.items()):
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=repr)
            item = QTreeWidgetItem([name, text[:2000]])
            item.setToolTip(1, text[:5000])
            self.variables.addTopLevelItem(item)

    def _on_run_output(self, stream: str, line: str) -> None:
        self.log.appendPlainText(line)

    def _on_run_finished(self, state: str, code: int) -> None:
        for scene in self.scenes.values():
            for item in scene.nodes.values():
                if item.current:
                    item.set_state("cancelled" if item.state in ("running", "paused") else item.state,
                                   item.duration, False)
        self.statusBar().showMessage(f"Run {state}", 10000)
        self.history.refresh()
        self._update_actions()

    def _on_run_crashed(self, reason: str) -> None:
        self.log.appendPlainText(f"!! {reason}")
        self.notify("error", f"The run stopped unexpectedly: {reason}. The designer is fine; your bot is unchanged. "
                    "See the run log for details.")

    def show_history(self) -> None:
        self.history.refresh()
        self.dock_history.raise_()

    def about(self) -> None:
        from botloom.runner import __version__

        QMessageBox.about(self, APP_NAME, f"<b>Botloom</b> {__version__}<br>Open-source low-code automation.")


_windows: list[MainWindow] = []


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


def create_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or sys.argv)
    app.setApplicationName("Botloom")
    app.setOrganizationName("Botloom")
    app.setWindowIcon(theme.app_icon())
    theme.apply_palette(app)
    return app


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = create_app(argv)
    win = MainWindow()
    _windows.append(win)
    win.show()
    # `botloom start` passes its own argv ("botloom start"): only bot files are opened
    files = [a for a in argv[1:] if a.endswith(botfile.SUFFIX) or (not a.startswith("-") and Path(a).is_file())]
    if files:
        win.open_path(files[0])
    else:
        win.offer_recovery()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
