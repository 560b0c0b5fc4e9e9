"""The open bot in the main window: a canvas tab per open flow (main and subflows), the
document's signals wired to the window, the selection feeding the inspector, and the
problems panel kept up to date."""

from __future__ import annotations

from PySide6.QtCore import QTimer

from . import theme
from .canvas import FlowScene, FlowView
from .document import Document


class FlowsMixin:
    """Part of :class:`~botloom.app.main.MainWindow`: the document and its flow tabs."""

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
        if not self.run.running:  # the last run's log and variables were another bot's
            self.log.clear()
            self.variables.clear()
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
