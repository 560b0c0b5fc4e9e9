"""The main window's actions, menus and toolbar, and keeping them enabled (and the title
starred) as the document, the selection and the run change."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMessageBox, QToolBar

from . import theme
from .theme import APP_NAME


def _keys(*keys) -> list[QKeySequence]:
    """Shortcuts: the platform's standard ones first, then the common others, without repeats."""
    out: list[QKeySequence] = []
    for key in keys:
        seqs = QKeySequence.keyBindings(key) if isinstance(key, QKeySequence.StandardKey) else [QKeySequence(key)]
        out += [s for s in seqs if s not in out and not s.isEmpty()]
    return out


class ActionsMixin:
    """Part of :class:`~botloom.app.main.MainWindow`: its actions, menus and toolbar."""

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
        self.a_properties = self._action("Bot &properties…", self.edit_properties, "Ctrl+Shift+P",
                                         "Name, description, inputs, outputs, variables, secrets and settings")
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
        self.a_record_web = self._action("&Record in browser…", lambda: self.record_web(), "Ctrl+Shift+R",
                                         "Do the work in a browser; each click, fill and choice becomes a node")
        self.a_record_desktop = self._action("Record on &desktop…", lambda: self.record_desktop(), "Ctrl+Shift+K",
                                             "Do the work in desktop applications; each click and what you type "
                                             "becomes a node")
        self.a_run = self._action("&Run", lambda: self.run_with_form(), "F5",
                                  "Run the bot (asks for its inputs, saves it first)")
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
        for a in (self.a_save, self.a_save_as, self.a_properties, self.a_close, self.a_new_window):
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
        themes = m.addMenu("&Theme")
        group = QActionGroup(self)
        self.theme_actions = {}
        for choice, text in (("system", "&Like the system"), ("light", "&Light"), ("dark", "&Dark")):
            a = themes.addAction(text)
            a.setCheckable(True)
            a.setActionGroup(group)
            a.triggered.connect(lambda _on=False, c=choice: self.set_theme(c))
            self.theme_actions[choice] = a
        self.theme_actions[theme.theme_choice()].setChecked(True)
        m.addSeparator()
        for d in (self.dock_palette, self.dock_inspector, self.dock_problems, self.dock_log, self.dock_vars,
                  self.dock_history, self.dock_inbox, self.dock_schedules, self.dock_dashboard):
            m.addAction(d.toggleViewAction())
        self.dock_inbox.toggleViewAction().setShortcut("Ctrl+Shift+I")  # the review tasks waiting for a person
        self.dock_dashboard.toggleViewAction().setShortcut("Ctrl+Shift+D")  # the figures of the runs, alerts
        m = mb.addMenu("F&low")
        m.addAction(self.a_subflow)
        m.addAction(self.a_open_subflow)
        m.addSeparator()
        m.addAction(self.a_record_web)
        m.addAction(self.a_record_desktop)
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
                  self.a_layout, self.a_note, None, self.a_record_web):
            tb.addSeparator() if a is None else tb.addAction(a)
        self.addToolBar(tb)
        self._fill_recent_menu()

    def set_theme(self, choice: str) -> None:
        """View ▸ Theme: light, dark or like the system; remembered, applied to every open flow at once."""
        choice = theme.set_theme(choice)
        self.settings.setValue("theme", choice)
        self.theme_actions[choice].setChecked(True)
        for scene in self.scenes.values():
            scene.colors = theme.colors()
            for item in scene.items():
                item.update()
            scene.update()

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
        for a in (self.a_save, self.a_save_as, self.a_properties, self.a_close, self.a_paste, self.a_select_all,
                  self.a_note, self.a_fit, self.a_layout, self.a_subflow, self.a_record_web, self.a_record_desktop, self.a_zoom_in, self.a_zoom_out, self.a_zoom_reset):
            a.setEnabled(has)
        selected = bool(has and self.scene and self.selected_nodes())
        for a in (self.a_copy, self.a_cut, self.a_duplicate, self.a_break, self.a_run_from):
            a.setEnabled(selected)
        running = self.run.running
        self.a_run.setEnabled(has and not running)
        for a in (self.a_pause, self.a_step, self.a_continue, self.a_stop):
            a.setEnabled(running)
        self._update_title()

    def about(self) -> None:
        from botloom.runner import __version__

        QMessageBox.about(self, APP_NAME, f"<b>Botloom</b> {__version__}<br>Open-source low-code automation.")
