"""Recording from the designer: ``botloom record-web|record-desktop --events jsonl`` in a child
process.

``RecorderProcess`` starts a recorder with a ``QProcess`` and turns its JSON lines into signals
(the browser or listener is ready; the steps so far after each action; the final steps; an
error). ``RecordingMixin`` is the main window's part: Flow ▸ Record in browser asks for the
first address and counts the steps in the status bar; Flow ▸ Record on desktop saves the bot
(the images of clicked places go into its images/ folder), minimises the designer and counts
the steps in a small window that stays on top (clicks and keys in the designer's own windows
are not recorded). Stop ends either; the steps are appended to the open flow after the
selected node (or the end of the flow) as one undoable command.
"""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from botloom.runner import paths
from botloom.runner.sdk import recording


class RecorderProcess(QObject):
    ready = Signal()            # the browser is open at the first address
    steps = Signal(list)        # the steps recorded so far (dicts), after each change
    finished = Signal(list)     # the final steps
    failed = Signal(str)        # why the recording could not start or ended badly
    picked = Signal(dict)       # a picker's result: {"target": ..., "alternatives": [...]}

    def __init__(self, parent: QObject | None = None, python: str | None = None):
        super().__init__(parent)
        self.python = python or sys.executable
        self.proc: QProcess | None = None
        self._buf = b""
        self._ended = False
        self.last: list[dict] = []

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.state() != QProcess.NotRunning

    def start(self, command: str, args: list[str] = ()) -> None:
        self._buf, self._ended, self.last = b"", False, []
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("BOTLOOM_HOME", str(paths.home()))
        proc.setProcessEnvironment(env)
        proc.readyReadStandardOutput.connect(self._read)
        proc.finished.connect(self._exited)
        self.proc = proc
        proc.start(self.python, ["-m", "botloom.runner.cli", command, *args, "--events", "jsonl"])

    def stop(self) -> None:
        if self.running:
            self.proc.write(b"stop\n")

    def _read(self) -> None:
        self._buf += bytes(self.proc.readAllStandardOutput())
        *lines, self._buf = self._buf.split(b"\n")
        for raw in lines:
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            kind = event.get("event")
            if kind == "ready":
                self.ready.emit()
            elif kind == "steps":
                self.last = event.get("steps") or []
                self.steps.emit(self.last)
            elif kind == "picked":
                self.picked.emit({k: v for k, v in event.items() if k != "event"})
            elif kind == "done":
                self._ended = True
                self.last = event.get("steps") or []
                self.finished.emit(self.last)
            elif kind == "error":
                self._ended = True
                fix = event.get("fix")
                self.failed.emit(event.get("message", "the recorder failed") + (f" ({fix})" if fix else ""))

    def _exited(self, code: int, _status) -> None:
        self._read()
        if not self._ended:
            err = bytes(self.proc.readAllStandardError()).decode(errors="replace").strip().splitlines()
            self.failed.emit(f"the recorder stopped unexpectedly (exit code {code})" + (f": {err[-1]}" if err else ""))
            if self.last:  # what was recorded up to then is not lost
                self.finished.emit(self.last)


class RecordingBar(QWidget):
    """'● Recording in the browser: N steps   [Stop recording]' (in the status bar, or on its own
    above every window while recording on the desktop)."""

    def __init__(self, stop, where: str = "in the browser", parent: QWidget | None = None):
        super().__init__(parent)
        self.where = where
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 0, 4, 0)
        self.label = QLabel()
        self.label.setStyleSheet("color: #e5484d; font-weight: 600;")
        self.button = QPushButton("Stop recording")
        self.button.clicked.connect(stop)
        row.addWidget(self.label)
        row.addWidget(self.button)
        self.label.setText("Starting the browser…")

    def count(self, n: int) -> None:
        self.label.setText(f"● Recording {self.where}: {n} step{'s' if n != 1 else ''}")


class RecordingMixin:
    """Part of :class:`~botloom.app.main.MainWindow`: Flow ▸ Record in browser, Flow ▸ Record on
    desktop, and the inspector's Pick… of a browser target."""

    recorder_extra: list[str] = []  # more options for the recorder process (e.g. --browser chrome)

    def record_web(self, url: str | None = None) -> bool:
        if not self._can_record():
            return False
        if url is None:
            url = self.ask_text("Record in browser", "The address to start at:",
                                str(self.settings.value("recorder/last_url", "https://")))
            if url is None:
                return False
        url = url.strip()
        self.settings.setValue("recorder/last_url", url)
        bar = RecordingBar(self.stop_recording, "in the browser")
        self.statusBar().addPermanentWidget(bar)
        self._start_recorder("record-web", [url], bar, "browser")
        return True

    def record_desktop(self) -> bool:
        """Record clicks and keys on the desktop; the designer steps aside meanwhile."""
        import os

        from PySide6.QtCore import Qt

        if not self._can_record():
            return False
        if self.doc.path is None and not self.save():  # the images of clicked places go beside the bot
            return False
        bar = RecordingBar(self.stop_recording, "on the desktop")
        bar.setWindowFlags(Qt.Tool | Qt.WindowStaysOnTopHint)
        bar.setWindowTitle("Botloom: recording")
        self._start_recorder("record-desktop", ["--images", str(self.doc.folder / "images"),
                                                "--ignore-pid", str(os.getpid())], bar, "desktop")
        screen = self.screen().availableGeometry()
        bar.adjustSize()
        bar.move(screen.right() - bar.width() - 24, screen.top() + 24)
        bar.show()
        self.showMinimized()
        return True

    def pick_web_target(self, param: str) -> bool:
        """Pick…: a browser at the flow's address (or one asked for); the element clicked there is
        not clicked but named, and its best target goes into the parameter (undoable)."""
        if not self._can_record():
            return False
        node_id, flow_name = self.inspector.node_id, self.inspector.flow_name
        url = self.ask_text("Pick an element", "The page to pick it on:", self._flow_url(flow_name))
        if url is None:
            return False
        url = url.strip()
        self.settings.setValue("recorder/last_url", url)
        bar = RecordingBar(self.stop_recording, "in the browser")
        bar.label.setText("Click the element in the browser…")
        bar.button.setText("Cancel")
        self.statusBar().addPermanentWidget(bar)

        def picked(result: dict) -> None:
            from .capture import set_target

            target = result.get("target")
            if not target or self.doc is None or node_id not in self.doc.flow(flow_name):
                return
            set_target(self.doc, flow_name, node_id, param, target)
            others = result.get("alternatives") or []
            self.notify("info", f"Picked {target}" + (f" (also works: {', '.join(others[:3])})" if others else ""))

        self._start_recorder("record-web", [url, "--pick"], bar, "browser", picked=picked)
        return True

    def _flow_url(self, flow_name: str) -> str:
        """The address the flow opens (its first Open browser or Go to URL with a written-out url)."""
        flow = self.doc.flow(flow_name)
        for spec in flow.specs().values():
            url = spec.params.get("url")
            if spec.type in ("browser.open", "browser.goto") and isinstance(url, str) and url and "{{" not in url:
                return url
        return str(self.settings.value("recorder/last_url", "https://"))

    def _can_record(self) -> bool:
        if self.doc is None or self.scene is None:
            return False
        if getattr(self, "recorder", None) is not None and self.recorder.running:
            self.notify("info", "A recording is already in progress: stop it first.")
            return False
        return True

    def _start_recorder(self, command: str, args: list[str], bar: RecordingBar, what: str, picked=None) -> None:
        self._record_into = (self.flow_name, self._recording_anchor(), what)
        self.recorder = RecorderProcess(self)
        self.recording_bar = bar
        if picked is not None:  # picking one element: no steps, the bar goes when it ends
            self.recorder.picked.connect(picked)
            self.recorder.finished.connect(lambda _steps: self._end_recording_bar())
        else:
            self.recorder.ready.connect(lambda: bar.count(0))
            # a browser recording's first step is the Open browser it starts with
            skip = 1 if what == "browser" else 0
            self.recorder.steps.connect(lambda steps: bar.count(max(0, len(steps) - skip)))
            self.recorder.finished.connect(self._recording_done)
        self.recorder.failed.connect(self._recording_failed)
        self.recorder.start(command, [*args, *self.recorder_extra])

    def stop_recording(self) -> None:
        if getattr(self, "recorder", None) is not None:
            self.recorder.stop()

    def _end_recording_bar(self) -> None:
        bar = getattr(self, "recording_bar", None)
        if bar is not None:
            if bar.isWindow():
                bar.close()
                self.showNormal()  # back from the desktop recording
                self.activateWindow()
            else:
                self.statusBar().removeWidget(bar)
            bar.deleteLater()
            self.recording_bar = None

    def _recording_failed(self, message: str) -> None:
        self._end_recording_bar()
        self.notify("error", f"Recording: {message}")

    def _recording_anchor(self) -> tuple[str, str] | None:
        """The node (and exit) the recording follows: the selected node, else the last node of
        the flow (lowest, then rightmost) with one free exit, else none."""
        flow = self.scene.flow
        selected = self.selected_nodes()
        candidates = selected if len(selected) == 1 else sorted(
            flow.node_ids(), key=lambda n: (flow.position(n)[1], flow.position(n)[0]))
        for node_id in reversed(candidates):
            exit_port = self.free_exit(node_id)
            if exit_port is not None:
                return node_id, exit_port
        return None

    def _recording_done(self, steps: list[dict]) -> None:
        from . import commands
        from .canvas_items import NODE_W

        self._end_recording_bar()
        flow_name, anchor, what = self._record_into
        if self.doc is None or flow_name not in self.doc.bot.flows:
            return
        flow = self.doc.flow(flow_name)
        recorded = [recording.Step.from_json(s) for s in steps]
        if any(spec.type == "browser.open" for spec in flow.specs().values()) and recorded and \
                recorded[0].type == "browser.open":  # the flow opens its browser already: go to the address instead
            first = recorded[0]
            recorded[0] = recording.Step("browser.goto", {"url": first.params.get("url", "")},
                                         f"Go to {first.params.get('url', '')}")
        if anchor is not None and (anchor[0] not in flow or
                                   any(e.source == anchor[0] and e.source_port == anchor[1] for e in flow.edges())):
            anchor = None  # the node went away or got connected meanwhile
        if not recorded or (len(recorded) == 1 and recorded[0].type == "browser.open" and
                            not recorded[0].params.get("url")):
            self.notify("info", "Nothing was recorded.")
            return
        origin = None
        if anchor is not None:
            ax, ay = flow.position(anchor[0])
            origin = (ax + NODE_W + 92, ay)
        nodes, edges = recording.plan(recorded, flow.node_ids(), [flow.position(n) for n in flow.node_ids()],
                                      after=anchor, origin=origin,
                                      versions={t.id: t.version for t in self.doc.registry.latest()})
        text = f"Record {len(nodes)} {what} step(s)"
        secrets = recording.secrets_to_declare(recorded, self.doc.bot.secrets)
        self.doc.undo.beginMacro(text)  # one undo step, with the secrets a typed password makes the bot declare
        self.doc.undo.push(commands.AddNodes(self.doc, flow_name, nodes, edges, text=text))
        if secrets != self.doc.bot.secrets:
            self.doc.undo.push(commands.SetBotProperties(self.doc, {"secrets": secrets}))
        self.doc.undo.endMacro()
        if self.flow_name == flow_name:
            self.scene.select_nodes([s.id for s, _ in nodes])
            if self.view is not None:  # show where the steps went
                x, y = nodes[0][1]
                self.view.centerOn(x + NODE_W * 1.5, y + 60)
        warned = sum(1 for s in recorded if s.warning)
        self.notify("warning" if warned else "info",
                    f"Recorded {len(nodes)} {what} step(s)" +
                    (f"; {warned} need a look (see their notes)" if warned else "") + ".")
