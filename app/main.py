"""The designer's main window and ``main()`` (what ``botloom start`` opens).

Layout: the palette on the left, the canvas in the middle (one tab per open flow: main and
subflows), the inspector on the right, and at the bottom the problems, the run log, the
variables at a pause, the run history, the inbox, the schedules and the gallery of templates. A
start page lists recent bots and the sample bots.

The window is built here; its work is split by job into mixins: ``actions.py`` (actions,
menus, toolbar), ``dialogs.py`` (the ``ask_*`` questions, which tests and embedders can
answer, and notifications), ``files.py`` (open, save, recent files, autosave and recovery),
``flows.py`` (the document and its flow tabs, selection, problems), ``editing.py`` (edit
commands), ``recording.py`` (the web recorder in a child process) and ``running.py`` (runs in a
child process, debugger, run history).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QApplication, QDockWidget, QLabel, QMainWindow, QPlainTextEdit, QStackedWidget,
                               QTabWidget, QTreeWidget, QVBoxLayout, QWidget)

from botloom.runner import botfile, paths

from . import theme
from .actions import ActionsMixin
from .canvas import FlowScene, FlowView
from .dialogs import DialogsMixin
from .document import Document
from .editing import EditingMixin
from .files import AUTOSAVE_MS, MAX_RECENT, FilesMixin  # noqa: F401 - MAX_RECENT re-exported
from .flows import FlowsMixin
from .history import RunHistory
from .inspector import Inspector
from .palette import Palette
from .panels import ProblemsPanel, StartPage, bots_dir, sample_bots  # noqa: F401 - re-exported
from .recording import RecordingMixin
from .runner_process import RunProcess
from .running import RunMixin
from .theme import APP_NAME


def registry():
    """The installed node packs, for one window (each pack loads when a bot first uses it)."""
    from botloom.runner.sdk.registry import Registry

    return Registry.discover(lazy=True)


def _load_graph_model_aside() -> None:
    """Import the editable graph model and validation (networkx, ~0.2 s) on a thread once the
    window is up: the start page does not need them, the first bot opened does."""
    import threading

    def load() -> None:
        import botloom.runner.graph  # noqa: F401
        import botloom.runner.validate  # noqa: F401

    threading.Thread(target=load, name="load-graph-model", daemon=True).start()


class MainWindow(ActionsMixin, DialogsMixin, FilesMixin, FlowsMixin, EditingMixin, RecordingMixin, RunMixin,
                 QMainWindow):
    def __init__(self, registry_=None, settings: QSettings | None = None):
        super().__init__()
        self.registry = registry_ or registry()
        self.settings = settings or QSettings(str(paths.home() / "designer.ini"), QSettings.IniFormat)
        if str(self.settings.value("theme", "system")) != theme.theme_choice():
            theme.set_theme(str(self.settings.value("theme", "system")))
        self.doc: Document | None = None
        self.scenes: dict[str, FlowScene] = {}
        self.views: dict[str, FlowView] = {}
        self.messages: list[tuple[str, str]] = []  # (level, text) shown to the person, newest last
        self.run = RunProcess(self, home=paths.home())  # runs go to this window's data folder
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
        # the banner floats over the top of the editor: showing it moves nothing under the mouse
        self.banner = QLabel(editor, objectName="banner", wordWrap=True)
        self.banner.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.banner.hide()
        self.banner.mousePressEvent = lambda _e: self.banner.hide()
        editor.installEventFilter(self)
        self._editor = editor
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
        self.inspector.pointRequested.connect(self.pick_point)
        self.inspector.pickRequested.connect(self.pick_web_target)
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
        from .inbox import Inbox  # review tasks waiting for a person

        self.inbox = Inbox()
        self.dock_inbox = self._dock("Inbox", self.inbox, Qt.BottomDockWidgetArea)
        self.dock_inbox.visibilityChanged.connect(lambda shown: shown and self.inbox.reload())
        from .dashboard import Dashboard  # the figures of the runs, alerts; double-click goes to the run

        self.dashboard = Dashboard()
        self.dashboard.runRequested.connect(self.show_run_in_history)
        self.dock_dashboard = self._dock("Dashboard", self.dashboard, Qt.BottomDockWidgetArea, scroll=True)
        self.dock_dashboard.visibilityChanged.connect(lambda shown: shown and self.dashboard.refresh_when_seen())
        from .schedules_panel import SchedulesPanel  # the data folder's schedules (through its service if it runs)

        self.schedules = SchedulesPanel(registry=self.registry,
                                        current_bot=lambda: str(self.doc.path) if self.doc and self.doc.path else None)
        self.dock_schedules = self._dock("Schedules", self.schedules, Qt.BottomDockWidgetArea)
        self.dock_schedules.visibilityChanged.connect(lambda shown: shown and self.schedules.reload())
        from .gallery import Gallery  # installed templates and samples; "new bot from template"

        self.gallery = Gallery(self.registry, paths.home())
        self.gallery.created.connect(self.open_path)
        self.dock_gallery = self._dock("Gallery", self.gallery, Qt.BottomDockWidgetArea)
        self.dock_gallery.visibilityChanged.connect(lambda shown: shown and self.gallery.reload())
        for d in (self.dock_log, self.dock_vars, self.dock_history, self.dock_inbox, self.dock_schedules,
                  self.dock_gallery, self.dock_dashboard):
            self.tabifyDockWidget(self.dock_problems, d)
        self.dock_problems.raise_()
        QTimer.singleShot(0, self.dock_problems.raise_)  # (before the first show the raise does not hold)
        QTimer.singleShot(0, _load_graph_model_aside)
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
    def _dock(self, title: str, widget: QWidget, area, scroll: bool = False) -> QDockWidget:
        dock = QDockWidget(title, self, objectName=f"dock-{title.lower().replace(' ', '-')}")
        if area == Qt.BottomDockWidgetArea and (scroll or widget.minimumSizeHint().height() > 160):
            # a tall panel (the dashboard's charts, the inbox's form) scrolls instead of holding the
            # bottom area open over half the window: the canvas keeps its room
            from PySide6.QtWidgets import QFrame, QScrollArea

            scroll = QScrollArea(objectName=f"scroll-{title.lower().replace(' ', '-')}")
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.NoFrame)
            scroll.setWidget(widget)
            dock.setWidget(scroll)
        else:
            dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def show_run_in_history(self, bot: str, run_id: str) -> None:
        """The dashboard's click-through: the run history of ``bot``, at run ``run_id``."""
        self.history.bot_filter = bot
        self.history.all_bots.setChecked(False)
        self.history.current = run_id or None
        self.history.refresh()
        self.dock_history.show()
        self.dock_history.raise_()

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


_windows: list[MainWindow] = []


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
