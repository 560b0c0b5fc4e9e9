"""The inbox: open review tasks, and the task view a person works them in.

A list of open tasks (filter by bot, queue, age and deadline), and for the selected task its
page images with every field's box drawn on them (the field being edited highlighted), the
form, and one button per outcome. The form is built by the inspector's own editors
(``fields.Field``) from each field's parameter schema (the ``schema`` ``review.task`` keeps
with the field), so a number field takes a number, a choice is a drop-down, and a value that
does not fit its type is marked at once, as in the inspector.

Keyboard: Tab / Shift+Tab next and previous field (its box is shown on the page, turning to its
page), Ctrl+PgDown / Ctrl+PgUp the next and previous page, Ctrl+Return the first outcome
(approve), Ctrl+1..9 an outcome by its place, Ctrl+Down / Ctrl+Up the next and previous task,
F5 reload the list.

Completing a task runs ``botloom tasks complete TASK OUTCOME --values FILE`` in a child process,
like every run the designer starts: the answer is checked against the form and recorded in one
store transaction, then the run resumes (through the service when one runs); the inbox shows
how it went and moves on to the next task. Reading the store is plain SQL (``runner/store/tasks.py``).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from types import SimpleNamespace
from typing import Any

from PySide6.QtCore import QProcess, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QPen, QPixmap, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFormLayout, QGraphicsScene, QGraphicsView, QHBoxLayout,
                               QHeaderView, QLabel, QPushButton, QScrollArea, QSplitter, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from botloom.runner import paths
from botloom.runner.store import RunStore
from botloom.runner.store import tasks as store_tasks

from .fields import Field

AGES = (("any age", None), ("older than 1 hour", 3600), ("older than 1 day", 86400), ("older than 1 week", 604800))
DEADLINES = (("any deadline", None), ("overdue", 0), ("due within 1 hour", 3600), ("due within 1 day", 86400))
BOX = QColor("#f5a623")
CURRENT = QColor("#e5484d")


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


class _FormHost:
    """What an inspector ``Field`` asks of its host, for a task's form: the live check of a
    value against the field's type (the ``Param.check`` the store applies when the task is
    completed), and no bot (no secrets to offer, paths as typed)."""

    captureRequested = SimpleNamespace(emit=lambda *_: None)
    pointRequested = SimpleNamespace(emit=lambda *_: None)
    pickRequested = SimpleNamespace(emit=lambda *_: None)

    def __init__(self, fields: list[dict]):
        self.doc = SimpleNamespace(bot=SimpleNamespace(secrets={}), folder=None)
        self.fields = {f["name"]: f for f in fields}

    def check_value(self, name: str, value: Any) -> str | None:
        from botloom.runner.sdk.params import Param
        from botloom.runner.sdk.types import TypeMismatch

        field = self.fields[name]
        if value in (None, ""):
            return "required" if field.get("required") else None
        try:
            Param(name, field.get("type") or "any", choices=tuple(field.get("choices") or ())).check(value)
        except TypeMismatch as exc:
            return str(exc)
        return None


class PageView(QGraphicsView):
    """A page image with the fields' boxes; ``show_field`` scrolls to one and highlights it."""

    pageChanged = Signal(int, int)  # page shown (0: none), pages

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setObjectName("inbox-page")
        self.setMinimumHeight(260)
        self.pages: dict[int, str] = {}
        self.fields: list[dict] = []
        self.page = None
        self.boxes: dict[str, Any] = {}
        self.current: str | None = None

    def set_task(self, pages: list[dict], fields: list[dict]) -> None:
        self.pages = {int(p["page"]): p["image"] for p in pages}
        self.fields = fields
        self.page = None
        self.show_page(min(self.pages) if self.pages else None)

    def turn(self, step: int) -> None:
        """The next (1) or previous (-1) page of the document."""
        numbers = sorted(self.pages)
        if self.page in numbers:
            index = max(0, min(len(numbers) - 1, numbers.index(self.page) + step))
            if numbers[index] != self.page:
                self.show_page(numbers[index])

    def show_page(self, number: int | None) -> None:
        scene = self.scene()
        scene.clear()
        self.boxes = {}
        self.page = number
        self.pageChanged.emit(number or 0, len(self.pages))
        if number is None or number not in self.pages:
            scene.addText("no document" if not self.pages else f"page {number} is not kept")
            return
        pixmap = QPixmap(self.pages[number])
        if pixmap.isNull():
            scene.addText(f"cannot show {self.pages[number]}")
            return
        scene.addPixmap(pixmap)
        scene.setSceneRect(QRectF(pixmap.rect()))
        for field in self.fields:
            if field.get("box") and (field.get("page") or 1) == number:
                x, y, w, h = field["box"]
                item = scene.addRect(QRectF(x, y, w, h), QPen(BOX, 3), QBrush(QColor(245, 166, 35, 40)))
                item.setToolTip(f"{field.get('label') or field['name']}: {field.get('value')}")
                self.boxes[field["name"]] = item
        self.fitInView(scene.sceneRect(), Qt.KeepAspectRatio)
        self._paint()

    def show_field(self, name: str | None) -> None:
        self.current = name
        field = next((f for f in self.fields if f["name"] == name), None)
        if field is not None and field.get("box") and (field.get("page") or 1) != self.page:
            self.show_page(field.get("page") or 1)
        self._paint()
        if name in self.boxes:
            self.ensureVisible(self.boxes[name], 40, 40)

    def _paint(self) -> None:
        for name, item in self.boxes.items():
            chosen = name == self.current
            item.setPen(QPen(CURRENT if chosen else BOX, 6 if chosen else 3))
            item.setBrush(QBrush(QColor(229, 72, 77, 60) if chosen else QColor(245, 166, 35, 40)))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.scene().sceneRect().width() > 0:
            self.fitInView(self.scene().sceneRect(), Qt.KeepAspectRatio)


class TaskView(QWidget):
    """One task: title, instructions, the page with the boxes, the form, the outcome buttons."""

    outcomeChosen = Signal(str, dict)  # outcome, values

    def __init__(self, parent=None):
        super().__init__(parent)
        self.task: dict | None = None
        self.fields: dict[str, Field] = {}
        layout = QVBoxLayout(self)
        self.title = QLabel("Select a task.", objectName="inbox-title")
        self.title.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.title.setWordWrap(True)
        self.meta = QLabel(objectName="inbox-meta")
        self.meta.setWordWrap(True)
        self.instructions = QLabel(objectName="inbox-instructions")
        self.instructions.setWordWrap(True)
        self.page_label = QLabel(objectName="inbox-page-label")
        for w in (self.title, self.meta, self.instructions, self.page_label):
            layout.addWidget(w)
        split = QSplitter(Qt.Horizontal)
        self.page_view = PageView()
        self.page_view.pageChanged.connect(self._page_shown)
        split.addWidget(self.page_view)
        form_box = QWidget()
        self.form = QFormLayout(form_box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(form_box)
        split.addWidget(scroll)
        split.setSizes([540, 440])
        layout.addWidget(split, 1)
        self.buttons_row = QHBoxLayout()
        layout.addLayout(self.buttons_row)
        self.buttons: dict[str, QPushButton] = {}
        self.status = QLabel(objectName="inbox-status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

    def show_task(self, task: dict | None) -> None:
        self.task = task
        while self.form.rowCount():
            self.form.removeRow(0)
        for button in self.buttons.values():
            self.buttons_row.removeWidget(button)
            button.deleteLater()
        self.fields, self.buttons = {}, {}
        if task is None:
            self.title.setText("No open task." if task is None else "")
            self.meta.setText("")
            self.instructions.setText("")
            self.page_view.set_task([], [])
            return
        form = task["form"]
        self.title.setText(form.get("title") or "(untitled task)")
        deadline = (f"deadline {time.strftime('%Y-%m-%d %H:%M', time.localtime(task['deadline']))}"
                    if task.get("deadline") else "no deadline")
        self.meta.setText(f"{task['bot']} · run {task['run_id'][-8:]} · queue {task['queue'] or '-'} · for "
                          f"{task['assignee'] or 'anyone'} · {deadline}")
        self.instructions.setText(form.get("instructions") or "")
        self.instructions.setVisible(bool(form.get("instructions")))
        self.page_view.set_task(form.get("pages") or [], form.get("fields") or [])
        host = _FormHost(form.get("fields") or [])
        for spec in form.get("fields") or []:
            field = Field(host, spec["name"], spec.get("schema") or {"x-botloom": {"type": spec.get("type")}}, [])
            field.set_value(spec.get("value"))
            field.editor.installEventFilter(self)
            field.editor.setProperty("inbox-field", spec["name"])
            conf = spec.get("confidence")
            label = QLabel(f"{spec.get('label') or spec['name']}" + (" *" if spec.get("required") else "")
                           + ("" if conf is None else f"  ({conf:.0%})"))
            if conf is not None and conf < 0.7:
                label.setStyleSheet("color: #e5484d;")
            self.form.addRow(label, field)
            self.fields[spec["name"]] = field
        for index, outcome in enumerate(form.get("outcomes") or []):
            hint = "Ctrl+Return" if index == 0 else (f"Ctrl+{index + 1}" if index < 9 else "")
            button = QPushButton(f"{outcome.capitalize()}  ({hint})" if hint else outcome.capitalize())
            button.setObjectName(f"outcome-{outcome}")
            button.clicked.connect(lambda _=False, o=outcome: self.choose(o))
            self.buttons_row.addWidget(button)
            self.buttons[outcome] = button
        self.status.setText("")
        first = next(iter(self.fields.values()), None)
        if first is not None:
            first.editor.setFocus()
            self.page_view.show_field(first.name)

    def _page_shown(self, number: int, count: int) -> None:
        text = f"Page {number} of {count}" if number else ""
        self.page_label.setText(text + ("  (Ctrl+PgDown / Ctrl+PgUp: other pages)" if count > 1 else ""))

    def eventFilter(self, obj, event) -> bool:
        from PySide6.QtCore import QEvent

        name = obj.property("inbox-field")
        if not name:
            return False
        if event.type() == QEvent.FocusIn:
            self.page_view.show_field(name)
        elif event.type() == QEvent.KeyPress and event.key() in (Qt.Key_Tab, Qt.Key_Backtab) and \
                not event.modifiers() & ~Qt.ShiftModifier:
            self.focus_field(name, -1 if event.key() == Qt.Key_Backtab else 1)  # next field, wrapping round
            return True
        return False

    def focus_field(self, name: str, step: int) -> None:
        names = list(self.fields)
        target = self.fields[names[(names.index(name) + step) % len(names)]].editor
        target.setFocus(Qt.TabFocusReason)
        if hasattr(target, "selectAll"):
            target.selectAll()

    def values(self) -> tuple[dict, list[str]]:
        """The corrected values (only those changed from the task's) and the problems."""
        values, problems = {}, []
        original = {f["name"]: f.get("value") for f in (self.task or {}).get("form", {}).get("fields", [])}
        host = _FormHost((self.task or {}).get("form", {}).get("fields", []))
        for name, field in self.fields.items():
            value = field.value()
            why = host.check_value(name, value)
            if why:
                problems.append(f"{name}: {why}")
            elif value != original.get(name):
                values[name] = value
        return values, problems

    def choose(self, outcome: str) -> None:
        if self.task is None or outcome not in self.buttons:
            return
        values, problems = self.values()
        if problems:
            self.status.setText("Not sent: " + "; ".join(problems))
            return
        self.outcomeChosen.emit(outcome, values)

    def choose_index(self, index: int) -> None:
        outcomes = list(self.buttons)
        if 0 <= index < len(outcomes):
            self.choose(outcomes[index])


class Inbox(QWidget):
    """The open tasks of the data folder, with filters, and the task view."""

    completed = Signal(str, int, str)  # task id, exit code of `botloom tasks complete`, its message

    def __init__(self, parent=None, home=None):
        super().__init__(parent)
        self.home = home
        self.tasks: list[dict] = []
        self.procs: dict[str, QProcess] = {}  # task id -> the child completing it
        layout = QVBoxLayout(self)
        filters = QHBoxLayout()
        self.bot_filter, self.queue_filter = QComboBox(objectName="inbox-bot"), QComboBox(objectName="inbox-queue")
        self.age_filter, self.deadline_filter = QComboBox(objectName="inbox-age"), QComboBox(objectName="inbox-deadline")
        for label, value in AGES:
            self.age_filter.addItem(label, value)
        for label, value in DEADLINES:
            self.deadline_filter.addItem(label, value)
        for combo in (self.bot_filter, self.queue_filter, self.age_filter, self.deadline_filter):
            combo.activated.connect(lambda _i: self.reload())
            filters.addWidget(combo)
        refresh = QPushButton("Reload (F5)")
        refresh.clicked.connect(self.reload)
        filters.addWidget(refresh)
        filters.addStretch(1)
        layout.addLayout(filters)
        split = QSplitter(Qt.Horizontal)
        self.table = QTableWidget(0, 5, objectName="inbox-tasks")
        self.table.setHorizontalHeaderLabels(["Task", "Bot", "Queue", "Age", "Deadline"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        for col, width in ((1, 110), (2, 100), (3, 44), (4, 84)):
            header.setSectionResizeMode(col, QHeaderView.Interactive)
            self.table.setColumnWidth(col, width)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.currentCellChanged.connect(lambda row, *_: self._show(row))
        split.addWidget(self.table)
        self.view = TaskView()
        self.view.outcomeChosen.connect(self.complete)
        split.addWidget(self.view)
        split.setSizes([470, 970])
        layout.addWidget(split, 1)
        for keys, slot in ((Qt.CTRL | Qt.Key_Return, lambda: self.view.choose_index(0)),
                           (Qt.CTRL | Qt.Key_Enter, lambda: self.view.choose_index(0)),
                           (Qt.CTRL | Qt.Key_Down, lambda: self.step(1)), (Qt.CTRL | Qt.Key_Up, lambda: self.step(-1)),
                           (Qt.CTRL | Qt.Key_PageDown, lambda: self.view.page_view.turn(1)),
                           (Qt.CTRL | Qt.Key_PageUp, lambda: self.view.page_view.turn(-1)),
                           (Qt.Key_F5, self.reload)):
            QShortcut(QKeySequence(keys), self, slot, context=Qt.WidgetWithChildrenShortcut)
        for n in range(1, 10):
            QShortcut(QKeySequence(Qt.CTRL | getattr(Qt, f"Key_{n}")), self, lambda i=n - 1: self.view.choose_index(i),
                      context=Qt.WidgetWithChildrenShortcut)

    # ------------------------------------------------------------ the list
    def _store(self) -> RunStore:
        return RunStore(paths.store_path(self.home))

    def reload(self) -> None:
        current = self.current_id()
        try:
            store = self._store()
        except Exception as exc:  # a read-only or damaged data folder: say so in the list
            self.view.status.setText(f"cannot read the run store: {exc}")
            return
        try:
            every = store_tasks.find(store.conn)
            self.tasks = store_tasks.find(store.conn, bot=self.bot_filter.currentData(),
                                          queue=self.queue_filter.currentData(),
                                          older_than=self.age_filter.currentData(),
                                          due_within=self.deadline_filter.currentData())
        finally:
            store.close()
        for combo, key, everyone in ((self.bot_filter, "bot", "every bot"), (self.queue_filter, "queue", "every queue")):
            chosen = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(everyone, None)
            for value in sorted({t[key] for t in every if t[key]}):
                combo.addItem(value, value)
            combo.setCurrentIndex(max(0, combo.findData(chosen)))
            combo.blockSignals(False)
        now = time.time()
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.tasks))
        for row, task in enumerate(self.tasks):
            deadline = time.strftime("%m-%d %H:%M", time.localtime(task["deadline"])) if task["deadline"] else "-"
            for col, text in enumerate((task["form"].get("title") or "", task["bot"], task["queue"] or "-",
                                        _age(now - task["created_at"]), deadline)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, col, item)
        self.table.blockSignals(False)
        ids = [t["id"] for t in self.tasks]
        row = ids.index(current) if current in ids else (0 if ids else -1)
        if row >= 0:
            self.table.setCurrentCell(row, 0)
        self._show(row)

    def current_id(self) -> str | None:
        return self.view.task["id"] if self.view.task else None

    def _show(self, row: int) -> None:
        task = self.tasks[row] if 0 <= row < len(self.tasks) else None
        if task is not self.view.task:
            self.view.show_task(task)

    def step(self, delta: int) -> None:
        if self.tasks:
            row = max(0, min(len(self.tasks) - 1, self.table.currentRow() + delta))
            self.table.setCurrentCell(row, 0)

    # ------------------------------------------------------------ completing
    def command(self, task_id: str, outcome: str, values_file: str) -> list[str]:
        return [sys.executable, "-m", "botloom.runner.cli", "tasks", "complete", task_id, outcome,
                "--values", values_file, "--by", _user()]

    def complete(self, outcome: str, values: dict) -> None:
        """Answer the shown task in a child process and go on to the next task at once; the
        list is read again when the child is done (an answer it refused comes back, with why)."""
        task = self.view.task
        if task is None or task["id"] in self.procs:
            return
        from PySide6.QtCore import QProcessEnvironment

        fd, values_file = tempfile.mkstemp(prefix="botloom-answer-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(values, f)  # the editors give plain values: text, numbers, yes/no, lists, objects
        argv = self.command(task["id"], outcome, values_file)
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        if self.home is not None:
            env.insert("BOTLOOM_HOME", str(self.home))
        proc.setProcessEnvironment(env)
        proc.setProcessChannelMode(QProcess.MergedChannels)
        proc.finished.connect(lambda code, _status, t=task["id"], p=values_file: self._done(t, code, p))
        self.procs[task["id"]] = proc
        proc.start(argv[0], argv[1:])
        row = self.tasks.index(task)
        self.tasks.pop(row)
        self.table.removeRow(row)
        self._show(min(row, len(self.tasks) - 1))
        self.view.status.setText(f"'{task['form'].get('title')}': {outcome} sent")

    def _done(self, task_id: str, code: int, values_file: str) -> None:
        proc = self.procs.pop(task_id, None)
        output = bytes(proc.readAll()).decode(errors="replace").strip() if proc is not None else ""
        try:
            os.unlink(values_file)
        except OSError:
            pass
        self.reload()
        if code not in (0, 3):  # 0: the run went on to its end, 3: it waits again (e.g. at its next review)
            ids = [t["id"] for t in self.tasks]
            if task_id in ids:
                self.table.setCurrentCell(ids.index(task_id), 0)
            self.view.status.setText(output.replace("botloom: ", "") or f"failed (exit code {code})")
        self.completed.emit(task_id, code, output)


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:
        return "designer"


__all__ = ["Inbox", "PageView", "TaskView"]


def screenshots(out, focus: str | None = None) -> list:
    """``inbox.png`` (the open tasks and the first one, its page with the field boxes) and
    ``inbox-field.png`` (the ``focus`` field, else the lowest-confidence one, selected: its box
    highlighted) of the data folder's open tasks; offscreen unless a display is set."""
    from pathlib import Path

    from PySide6.QtWidgets import QApplication

    from .theme import process_events

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    inbox = Inbox()
    inbox.resize(1440, 860)
    inbox.show()
    inbox.reload()
    process_events()
    written = [out / "inbox.png"]
    inbox.grab().save(str(written[0]))
    fields = (inbox.view.task or {}).get("form", {}).get("fields", [])
    name = focus or min(fields, key=lambda f: f.get("confidence") if f.get("confidence") is not None else 1,
                        default={}).get("name")
    if name in inbox.view.fields:
        inbox.view.fields[name].editor.setFocus()
        inbox.view.page_view.show_field(name)
        process_events()
        written.append(out / "inbox-field.png")
        inbox.grab().save(str(written[-1]))
    inbox.close()
    del app
    return written


if __name__ == "__main__":  # python -m botloom.app.inbox docs/screenshots [FIELD]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")
    for path in screenshots(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots",
                            sys.argv[2] if len(sys.argv) > 2 else None):
        print(path)
