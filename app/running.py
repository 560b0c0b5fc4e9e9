"""Running from the main window: the bot runs in a child process (``runner_process.py``);
its events colour the canvas and fill the run log and the variables panel; debugger
controls (breakpoints, pause, step, continue, stop), run from a node, resuming a past run
and the run history."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtWidgets import QDialog, QTreeWidgetItem

from botloom.runner.codec import display


class RunMixin:
    """Part of :class:`~botloom.app.main.MainWindow`: starting runs and following them."""

    def toggle_breakpoint(self) -> None:
        if self.doc is None:
            return
        flow = self.flow_name
        for nid in self.selected_nodes():
            on = self.doc.toggle_breakpoint(nid, flow)
            self.run.set_breakpoint(f"{flow}/{nid}", on)

    def run_bot(self, start_at: str | None = None, inputs: dict | None = None) -> bool:
        """Check, save, then run the bot in a child process (never in the designer's own process).
        A bot with problems is neither saved nor run: the problems panel says what to fix."""
        if self.doc is None or self.run.running:
            return False
        errors = [p for p in self.doc.problems() if p.severity == "error"]
        if errors:
            self.dock_problems.raise_()
            self.notify("error", f"The bot has {len(errors)} problem(s) to fix before it can run; see Problems.")
            return False
        if (self.is_dirty() or self.doc.path is None) and not self.save():
            self.notify("info", "The bot runs from its file: save it to run it.")
            return False
        self.clear_run_states()
        self.log.clear()
        self.variables.clear()
        self.dock_log.raise_()
        self.log.appendPlainText(f"> running {self.doc.path.name}" + (f" from '{start_at}'" if start_at else ""))
        self.run.start(self.doc.path, breakpoints=self.doc.run_breakpoints(), start_at=start_at, inputs=inputs)
        self._update_actions()
        return True

    def run_with_form(self, start_at: str | None = None) -> bool:
        """F5: check the bot, ask for its declared inputs (the run form, with the last values),
        then run. Problems are said before anything is asked, saved or run."""
        if self.doc is None or self.run.running:
            return False
        errors = [p for p in self.doc.problems() if p.severity == "error"]
        if errors:
            return self.run_bot(start_at=start_at)  # says what to fix, saves nothing
        declared = self.doc.flow("main").inputs
        inputs = None
        if declared:
            inputs = self.ask_inputs(declared, start_at)
            if inputs is None:
                return False
        return self.run_bot(start_at=start_at, inputs=inputs)

    def ask_inputs(self, declared: dict, start_at: str | None = None) -> dict | None:
        """The run form; None when the person cancels. The texts typed are remembered per bot."""
        from .runform import RunForm

        key = f"run-inputs/{self.doc.path or self.doc.bot.name}"
        try:
            last = json.loads(self.settings.value(key, "{}") or "{}")
        except (TypeError, ValueError):
            last = {}
        title = f"Run {self.doc.bot.name}" + (f" from '{start_at}'" if start_at else "")
        form = RunForm(declared, last if isinstance(last, dict) else {}, title, self)
        self.run_form = form
        if form.exec() != QDialog.DialogCode.Accepted:
            return None
        self.settings.setValue(key, json.dumps(form.texts))
        return form.values

    def run_from_selected(self) -> None:
        ids = self.selected_nodes()
        if len(ids) != 1 or self.flow_name != "main":
            self.notify("info", "Select one node of the main flow to run from it.")
            return
        self.run_with_form(start_at=ids[0])

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
        self._errors_of_run = set()
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
                self._shown_errors.add(str(e.get("message")))
                self.log.appendPlainText(f"[{ev['node']}] {state}: {e.get('message')}"
                                         + (f" — fix: {e['fix']}" if e.get("fix") else ""))
                if state == "failed" and flow in self.scenes and ev["node"] in self.scenes[flow].nodes:
                    self.scenes[flow].nodes[ev["node"]].set_run_error(e.get("message"), e.get("fix"))
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
            where = f"'{node}'" + (f" in subflow '{flow}'" if flow != "main" else "")
            self.log.appendPlainText(f"|| paused before {where} ({ev.get('reason')})")
            self._show_variables(ev.get("variables") or {})
            self.dock_vars.raise_()
            for scene in self.scenes.values():
                for item in scene.nodes.values():
                    if item.current:
                        item.set_state(item.state, item.duration, False)
            if flow in self.doc.bot.flows and node in self.doc.flow(flow):
                self.open_flow(flow)  # show where the run waits (a subflow gets its tab)
                self._set_state(flow, node, "paused", current=True)
            self.statusBar().showMessage(f"Paused before {where} ({ev.get('reason')}). F10 steps, F8 continues.")
        elif kind == "resumed":
            node = ev.get("node")
            if self.run_states.get((flow, node), ("",))[0] == "paused":
                self._set_state(flow, node, "running", current=True)
        elif kind == "run_finished":
            state = ev.get("state")
            text = f"run {state}"
            if ev.get("duration") is not None:
                text += f" in {ev['duration']:.2f} s, {ev.get('steps', 0)} steps"
            if ev.get("error"):
                e = ev["error"]
                if str(e.get("message")) in self._shown_errors:  # said once, on its node's line above
                    text += f" at {e.get('where', '')} (the error above)"
                else:
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
            text = display(value)
            item = QTreeWidgetItem([name, text[:2000]])
            item.setToolTip(1, text[:5000])
            self.variables.addTopLevelItem(item)

    @property
    def _shown_errors(self) -> set:
        """The error messages the run log has shown for this run (each is shown once)."""
        if getattr(self, "_errors_of_run", None) is None:
            self._errors_of_run = set()
        return self._errors_of_run

    def _on_run_output(self, stream: str, line: str) -> None:
        if stream == "stderr" and any(m and m in line for m in self._shown_errors):
            return  # the runner's own copy of an error the log has shown already
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
