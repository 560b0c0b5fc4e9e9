"""The Schedules panel: the schedules of the designer's data folder (list, add, pause, resume,
remove) and the dialog that adds one, with a cron helper.

The panel goes through ``botloom.runner.server.manage.ScheduleDesk``, as ``botloom schedule``
does: to the running service of the data folder through its control API when there is one (its
scheduler knows of a change at once), or to the schedule table in the run store when there is
none; the panel then says that schedules take effect when the service starts. Schedules are
not edits of a bot, so they are not undoable commands: each change is made at once, and Remove
asks first.

The add dialog takes the bot (the open bot by default), the trigger (cron with a time zone, an
interval, a one-off date, a folder watch, a webhook, a work queue or a mailbox), the bot's inputs (the inspector's own
editors, checked against each input's type as they are typed), the misfire policy, the grace
time and whether runs may overlap. While the person types, the dialog shows the next five fire
times, computed by the same ``make_schedule`` and ``Schedule.next_fire_times`` the service
uses, or the reason the trigger is not valid (never a traceback).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDateTimeEdit, QDialog, QDialogButtonBox,
                               QFileDialog, QFormLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMessageBox,
                               QPushButton, QSizePolicy, QStackedWidget, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from botloom.runner import botfile
from botloom.runner.sdk.params import MISSING
from botloom.runner.errors import BotloomError

from .inbox import _FormHost  # the same live check of a typed value against its declared type
from .fields import Field

KINDS = (("cron", "Cron expression"), ("interval", "Every …"), ("date", "Once, at a date and time"),
         ("watch", "When a file arrives in a folder"), ("webhook", "When the local API receives a webhook"),
         ("queue", "When items wait in a work queue"), ("mail", "When a message arrives by e-mail (IMAP)"))
MISFIRE = (("once", "Run once, however many fire times were missed"), ("skip", "Skip fire times that were missed"),
           ("catch_up", "Catch up: one run per missed fire time"))
CRON_PRESETS = (("weekdays at 07:00", "0 7 * * MON-FRI"), ("every 15 minutes", "*/15 * * * *"),
                ("every hour", "0 * * * *"), ("every day at midnight", "0 0 * * *"),
                ("the 1st of each month at 06:00", "0 6 1 * *"))
ERROR_COLOR = "#e5484d"


def fire_time_text(when: datetime) -> str:
    """A fire time as the dialog and the panel show it: in the schedule's own time zone, with
    its offset from UTC (which is all the service's list keeps of the zone)."""
    offset = when.isoformat()[19:].lstrip("0123456789.") if when.tzinfo else ""
    return when.strftime("%a %Y-%m-%d %H:%M:%S") + (f" {offset}" if offset else "")


def _error_text(exc: BotloomError) -> str:
    return exc.message + (f" ({exc.where})" if exc.where else "") + (f"\nFix: {exc.fix}" if exc.fix else "")


def time_zones() -> list[str]:
    try:
        from zoneinfo import available_timezones

        return sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    except Exception:  # no time zone database: the person types the name
        return []


class ScheduleDialog(QDialog):
    """Add a schedule. ``submit(request)`` makes it (raising BotloomError to keep the dialog
    open with the message); ``request()`` is what ``ScheduleDesk.add`` takes."""

    def __init__(self, submit: Callable[[dict], Any], bot: str | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Add a schedule")
        self.setObjectName("schedule-dialog")
        self.submit = submit
        self.fire_times: list[datetime] = []
        self.inputs: dict[str, Field] = {}
        self.declared: dict[str, Any] = {}
        layout = QVBoxLayout(self)
        form = QFormLayout()
        layout.addLayout(form)

        bot_row = QHBoxLayout()
        self.bot = QLineEdit(bot or "", objectName="schedule-bot", placeholderText="the bot file (*.bot.json)")
        self.bot.editingFinished.connect(self._load_inputs)
        browse = QPushButton("…", maximumWidth=28, toolTip="Choose a bot file")
        browse.clicked.connect(self._browse_bot)
        bot_row.addWidget(self.bot, 1)
        bot_row.addWidget(browse)
        form.addRow("Bot", bot_row)
        self.name = QLineEdit(objectName="schedule-name", placeholderText="default: the bot's name and the trigger")
        form.addRow("Name", self.name)

        self.kind = QComboBox(objectName="schedule-kind")
        for key, label in KINDS:
            self.kind.addItem(label, key)
        form.addRow("Starts", self.kind)
        self.pages = QStackedWidget()
        self.pages.addWidget(self._cron_page())
        self.cron.setFocus()
        self.every = QLineEdit("15m", objectName="schedule-every", placeholderText="30s, 15m, 2h, 1d")
        self.pages.addWidget(self._page("Every", self.every))
        self.at = QDateTimeEdit(QDateTime.currentDateTime().addSecs(3600), objectName="schedule-at",
                                calendarPopup=True, displayFormat="yyyy-MM-dd HH:mm")
        self.pages.addWidget(self._page("At (local time)", self.at))
        self.folder = QLineEdit(objectName="schedule-folder", placeholderText="a folder on this machine")
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        pick = QPushButton("…", maximumWidth=28, toolTip="Choose a folder")
        pick.clicked.connect(self._browse_folder)
        folder_row.addWidget(pick)
        page = self._page("Folder", folder_row)
        page.layout().addRow(QLabel("Each file that has stopped growing starts one run with its path as the input "
                                    "'file'; it is moved to processing/, then done/ or failed/.", wordWrap=True))
        self.pages.addWidget(page)
        self.hook = QLineEdit(objectName="schedule-hook", placeholderText="letters, digits, - and _")
        self.pages.addWidget(self._page("Webhook name", self.hook))
        self.queue = QLineEdit(objectName="schedule-queue", placeholderText="the work queue's name, e.g. invoices")
        page = self._page("Queue", self.queue)
        page.layout().addRow(QLabel("A run starts while items wait in the queue; the bot takes them with its "
                                    "queue nodes.", wordWrap=True))
        self.pages.addWidget(page)
        self.mail = QLineEdit(objectName="schedule-mail", placeholderText="imaps://invoices@mail.example.com/INBOX")
        page = self._page("Mailbox", self.mail)
        self.mail_secret = QLineEdit(objectName="schedule-mail-secret",
                                     placeholderText="the secret holding the password (botloom secret set NAME)")
        page.layout().addRow("Password secret", self.mail_secret)
        self.mail_move = QLineEdit(objectName="schedule-mail-move", placeholderText="default: mark each message read")
        page.layout().addRow("Then move to", self.mail_move)
        page.layout().addRow(QLabel("Each new message starts one run with the message as its input; imap:// is "
                                    "without TLS, imap+starttls:// upgrades.", wordWrap=True))
        self.pages.addWidget(page)
        form.addRow(self.pages)

        self.preview = QLabel(objectName="schedule-preview", wordWrap=True, textFormat=Qt.PlainText)
        self.preview.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.preview.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        form.addRow("Next fire times", self.preview)

        self.inputs_box = QWidget()
        self.inputs_form = QFormLayout(self.inputs_box)
        self.inputs_form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Inputs", self.inputs_box)

        self.misfire = QComboBox(objectName="schedule-misfire")
        for key, label in MISFIRE:
            self.misfire.addItem(label, key)
        form.addRow("When late", self.misfire)
        self.grace = QLineEdit(objectName="schedule-grace",
                               placeholderText="how late a run may still start: no limit (30s for skip)")
        form.addRow("Grace", self.grace)
        self.overlap = QCheckBox("Allow a run while the previous run of this schedule is still going",
                                 objectName="schedule-overlap")
        form.addRow("", self.overlap)

        self.error = QLabel(objectName="schedule-error", wordWrap=True, textFormat=Qt.PlainText)
        self.error.setStyleSheet(f"color: {ERROR_COLOR};")
        self.error.hide()
        layout.addStretch(1)  # room to spare goes below the form, not into the trigger's page
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Ok).setText("Add schedule")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self.kind.currentIndexChanged.connect(self._kind_changed)
        for edit in (self.cron, self.every, self.folder, self.hook, self.queue, self.mail, self.grace):
            edit.textChanged.connect(self.update_preview)
        self.zone.currentTextChanged.connect(self.update_preview)
        self.at.dateTimeChanged.connect(self.update_preview)
        self.misfire.currentIndexChanged.connect(self.update_preview)
        self._load_inputs()
        self._fit_page()
        self.update_preview()
        self.resize(620, 520)

    # ------------------------------------------------------------ building
    @staticmethod
    def _page(label: str, editor) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(label, editor)
        return page

    def _cron_page(self) -> QWidget:
        self.cron = QLineEdit("0 7 * * MON-FRI", objectName="schedule-cron")
        self.cron.setToolTip("five fields: minute hour day-of-month month day-of-week, e.g. */15 8-18 * * MON-FRI")
        self.presets = QComboBox(objectName="schedule-cron-presets")
        self.presets.addItem("Examples…", None)
        for label, expr in CRON_PRESETS:
            self.presets.addItem(f"{label}   ({expr})", expr)
        self.presets.activated.connect(lambda i: self.presets.itemData(i)
                                       and self.cron.setText(self.presets.itemData(i)))
        row = QHBoxLayout()
        row.addWidget(self.cron, 1)
        row.addWidget(self.presets)
        page = self._page("Expression", row)
        page.layout().addRow("", QLabel("minute  hour  day-of-month  month  day-of-week", styleSheet="color: gray;"))
        self.zone = QComboBox(objectName="schedule-zone", editable=True)
        self.zone.addItem("")
        self.zone.addItems(time_zones())
        self.zone.lineEdit().setPlaceholderText("this machine's local time, or e.g. Europe/Paris")
        self.zone.setCurrentIndex(0)
        page.layout().addRow("Time zone", self.zone)
        return page

    def _browse_bot(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a bot", str(Path(self.bot.text()).parent),
                                              "Bots (*.bot.json);;All (*)")
        if path:
            self.bot.setText(path)
            self._load_inputs()

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose the folder to watch", self.folder.text())
        if path:
            self.folder.setText(path)

    def _kind_changed(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        self._fit_page()
        self.update_preview()

    def _fit_page(self) -> None:
        """The trigger's page takes the height it needs, not the tallest page's."""
        for i in range(self.pages.count()):
            policy = QSizePolicy.Preferred if i == self.pages.currentIndex() else QSizePolicy.Ignored
            self.pages.widget(i).setSizePolicy(QSizePolicy.Preferred, policy)
        self.pages.adjustSize()

    # ------------------------------------------------------------ the bot's inputs
    def _load_inputs(self) -> None:
        """An editor per input the bot declares (its main flow's), from its file."""
        while self.inputs_form.rowCount():
            self.inputs_form.removeRow(0)
        self.inputs, self.declared = {}, {}
        text = self.bot.text().strip()
        if not text:
            self.inputs_form.addRow(QLabel("Choose the bot first.", styleSheet="color: gray;"))
            return
        try:
            declared = botfile.load(Path(text).expanduser()).main.inputs
        except BotloomError as exc:
            self.inputs_form.addRow(QLabel(_error_text(exc), wordWrap=True, styleSheet=f"color: {ERROR_COLOR};"))
            return
        if not declared:
            self.inputs_form.addRow(QLabel("The bot takes no inputs.", styleSheet="color: gray;"))
            return
        self.host = _FormHost([{"name": n, "type": d.type, "required": d.required} for n, d in declared.items()])
        for name, decl in declared.items():
            schema = {"x-botloom": {"type": decl.type}, "description": decl.description}
            if decl.default is not MISSING:
                schema["default"] = decl.default
            field = Field(self.host, name, schema, [])
            field.set_value(None if decl.default is MISSING else decl.default)
            field.editor.setObjectName(f"schedule-input-{name}")
            self.inputs_form.addRow(name + (" *" if decl.required else ""), field)
            self.inputs[name] = field
            self.declared[name] = decl

    def input_values(self) -> tuple[dict, list[str]]:
        """The inputs given (those that differ from the bot's defaults) and the problems."""
        values, problems = {}, []
        for name, field in self.inputs.items():
            value = field.value()
            why = self.host.check_value(name, value)
            if why:
                problems.append(f"input '{name}': {why}")
            elif value is not None and value != self.declared[name].default:
                values[name] = value
        return values, problems

    # ------------------------------------------------------------ the trigger
    def request(self) -> dict:
        """What ``ScheduleDesk.add`` takes, from the fields as they stand."""
        kind = self.kind.currentData()
        request: dict[str, Any] = {"bot": self.bot.text().strip(), "name": self.name.text().strip() or None,
                                   "misfire": self.misfire.currentData(), "grace": self.grace.text().strip() or None,
                                   "overlap": self.overlap.isChecked(), "inputs": self.input_values()[0]}
        if kind == "cron":
            request.update(cron=self.cron.text().strip(), timezone=self.zone.currentText().strip() or None)
        elif kind == "interval":
            request["every"] = self.every.text().strip()
        elif kind == "date":
            request["at"] = self.at.dateTime().toString(Qt.ISODate)
        elif kind == "watch":
            request["watch"] = self.folder.text().strip()
        elif kind == "queue":
            request["queue"] = self.queue.text().strip()
        elif kind == "mail":
            request.update(mail=self.mail.text().strip(), mail_secret=self.mail_secret.text().strip() or None,
                           mail_move_to=self.mail_move.text().strip() or None)
        else:
            request["webhook"] = self.hook.text().strip()
        return request

    def check(self):
        """The schedule the fields make (not stored), or raise BotloomError saying what is wrong."""
        from botloom.runner.server.schedules import ScheduleError, make_schedule, parse_duration

        r = self.request()
        if not r["bot"]:
            raise ScheduleError("choose the bot this schedule starts", fix="type its path or pick it with …")
        for key, what, example in (("cron", "a cron expression", "0 7 * * MON-FRI (weekdays at 07:00)"),
                                   ("every", "an interval", "15m, 2h or 1d"),
                                   ("watch", "a folder", "a folder files arrive in, e.g. /srv/inbox"),
                                   ("webhook", "a webhook name", "intake (a run for each POST /hooks/intake)"),
                                   ("queue", "a work queue's name", "invoices"),
                                   ("mail", "a mailbox", "imaps://invoices@mail.example.com/INBOX")):
            if key in r and not r[key]:
                raise ScheduleError(f"the trigger needs {what}", fix=f"e.g. {example}")
        return make_schedule(r["bot"], cron=r.get("cron"), timezone_name=r.get("timezone"),
                             every=parse_duration(r["every"]) if r.get("every") else None, at=r.get("at"),
                             watch=r.get("watch"), webhook=r.get("webhook"), queue=r.get("queue"), mail=r.get("mail"),
                             mail_options={k: v for k, v in (("secret", r.get("mail_secret")),
                                                             ("move_to", r.get("mail_move_to"))) if v},
                             misfire=r["misfire"],
                             grace=parse_duration(r["grace"]) if r["grace"] else None)

    def update_preview(self, *_args) -> None:
        self.fire_times = []
        try:
            sched = self.check()
            self.fire_times = sched.next_fire_times(5)
        except BotloomError as exc:
            self.preview.setStyleSheet(f"color: {ERROR_COLOR};")
            self.preview.setText(_error_text(exc))
            return
        self.preview.setStyleSheet("")
        if sched.kind == "watch":
            self.preview.setText(f"Whenever a file arrives in {sched.spec['folder']}.")
        elif sched.kind == "queue":
            self.preview.setText(f"Whenever items wait in the work queue '{sched.spec['queue']}'.")
        elif sched.kind == "mail":
            spec = sched.spec
            self.preview.setText(f"Whenever a new message arrives in {spec.get('folder')} of {spec.get('user')}@"
                                 f"{spec.get('host')}" + (" (no password secret yet)" if not spec.get("secret") else "")
                                 + ".")
        elif sched.kind == "webhook":
            self.preview.setText(f"Whenever the service's API receives POST /hooks/{sched.spec['name']} (its JSON body "
                                 "is added to the inputs).")
        elif not self.fire_times:
            self.preview.setText("It would never fire: the date has passed.")
        else:
            self.preview.setText("\n".join(fire_time_text(t) for t in self.fire_times))

    def accept(self) -> None:
        problems = self.input_values()[1]
        try:
            self.check()
            if problems:
                raise BotloomError("; ".join(problems), fix="correct the inputs marked in red")
            self.submit(self.request())
        except BotloomError as exc:
            self._refused(exc)
            return
        except (OSError, sqlite3.Error) as exc:  # the data folder: a full disk, a read-only file system...
            from botloom.runner import paths

            self._refused(paths.storage_error(exc) or BotloomError(f"the run store could not be written: {exc}",
                                                                  fix="check the data folder, then try again"))
            return
        super().accept()

    def _refused(self, exc: BotloomError) -> None:
        self.error.setText("The schedule was not added: " + _error_text(exc))
        self.error.show()


class SchedulesPanel(QWidget):
    """The schedules of the data folder, through its service when one runs."""

    changed = Signal()

    def __init__(self, parent=None, home: Path | None = None, registry=None,
                 current_bot: Callable[[], str | None] = lambda: None):
        super().__init__(parent)
        self.home, self.registry, self.current_bot = home, registry, current_bot
        self.rows: list[dict] = []
        self.online = False
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.add_button = QPushButton("Add…", objectName="schedules-add")
        self.pause_button = QPushButton("Pause", objectName="schedules-pause")
        self.resume_button = QPushButton("Resume", objectName="schedules-resume")
        self.remove_button = QPushButton("Remove", objectName="schedules-remove")
        self.reload_button = QPushButton("Reload", objectName="schedules-reload")
        for button, slot in ((self.add_button, self.add_schedule), (self.pause_button, lambda: self.change("pause")),
                             (self.resume_button, lambda: self.change("resume")),
                             (self.remove_button, lambda: self.change("remove")), (self.reload_button, self.reload)):
            button.clicked.connect(lambda _=False, s=slot: s())
            top.addWidget(button)
        top.addStretch(1)
        layout.addLayout(top)
        self.status = QLabel(objectName="schedules-status", wordWrap=True, textFormat=Qt.PlainText)
        layout.addWidget(self.status)
        self.table = QTableWidget(0, 5, objectName="schedules-table")
        self.table.setHorizontalHeaderLabels(["Name", "Starts", "Next fire", "State", "Bot"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.table, 1)
        self._update_buttons()

    # ------------------------------------------------------------ the desk
    def desk(self):
        """The schedules' desk, looked up afresh (a service may have started or stopped)."""
        from botloom.runner.runtime import Runner
        from botloom.runner.server.manage import ScheduleDesk

        return ScheduleDesk.open(Runner(self.home, registry=self.registry))

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(f"color: {ERROR_COLOR};" if error else "")
        self.status.setText(text)

    def _where(self, desk) -> str:
        if desk.online:
            return (f"The service of this data folder runs (process {desk.client.state.get('pid')}): changes take "
                    "effect at once.")
        return ("No service runs on this data folder: schedules are kept and take effect when it starts "
                "(botloom runner serve, or the installed OS service).")

    def reload(self) -> None:
        try:
            desk = self.desk()
            self.rows, self.online = desk.list(), desk.online
        except BotloomError as exc:
            self._say("The schedules could not be read: " + _error_text(exc), error=True)
            return
        keep = self.selected()
        self.table.setRowCount(len(self.rows))
        for row, s in enumerate(self.rows):
            nxt = s.get("next_fire")
            values = [s["name"], s["trigger"], fire_time_text(datetime.fromisoformat(nxt)) if nxt else "-",
                      "paused" if s["paused"] else "active", s["bot"]]
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setData(Qt.UserRole, s["id"])
                if col == 2 and s.get("next_fires"):
                    item.setToolTip("\n".join(fire_time_text(datetime.fromisoformat(t)) for t in s["next_fires"]))
                self.table.setItem(row, col, item)
        ids = [s["id"] for s in self.rows]
        if keep in ids:
            self.table.selectRow(ids.index(keep))
        self._say(self._where(desk) if self.rows else self._where(desk) + " No schedules yet: Add… makes one.")
        self._update_buttons()

    def selected(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()]["id"] if rows and rows[0].row() < len(self.rows) else None

    def _selected_row(self) -> dict | None:
        sid = self.selected()
        return next((s for s in self.rows if s["id"] == sid), None)

    def _update_buttons(self) -> None:
        row = self._selected_row()
        self.pause_button.setEnabled(bool(row) and not row["paused"])
        self.resume_button.setEnabled(bool(row) and row["paused"])
        self.remove_button.setEnabled(bool(row))

    # ------------------------------------------------------------ changes
    def make_dialog(self) -> ScheduleDialog:
        return ScheduleDialog(self._submit, self.current_bot(), self)

    def add_schedule(self) -> None:
        self.make_dialog().exec()

    def _submit(self, request: dict) -> dict:
        desk = self.desk()
        made = desk.add(**request)
        self.reload()
        ids = [s["id"] for s in self.rows]
        if made["id"] in ids:
            self.table.selectRow(ids.index(made["id"]))
        self._say(f"Schedule '{made['name']}' added. " + self._where(desk))
        self.changed.emit()
        return made

    def ask_remove(self, name: str) -> bool:
        answer = QMessageBox.question(self, "Remove the schedule",
                                      f"Remove the schedule '{name}'? It will not start its bot again.")
        return answer == QMessageBox.Yes

    def change(self, verb: str) -> None:
        row = self._selected_row()
        if row is None:
            return
        if verb == "remove" and not self.ask_remove(row["name"]):
            return
        try:
            self.desk().change(row["id"], verb)
        except BotloomError as exc:
            self._say(f"The schedule '{row['name']}' was not changed: " + _error_text(exc), error=True)
            return
        self.reload()
        past = {"pause": "paused", "resume": "resumed", "remove": "removed"}[verb]
        self._say(f"Schedule '{row['name']}' {past}. " + self.status.text())
        self.changed.emit()


def screenshots(out) -> list[Path]:
    """``schedules.png`` (the panel with three schedules of the csv-report sample) and
    ``schedule-add.png`` (the add dialog with a cron expression and its next five fire times), in
    a throw-away data folder; offscreen unless a display is set."""
    import os
    import tempfile

    from PySide6.QtWidgets import QApplication

    from botloom.runner.runtime import Runner
    from botloom.runner.server.manage import ScheduleDesk

    from .panels import bots_dir
    from .theme import process_events

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    bot = str(bots_dir() / "csv-report" / "csv-report.bot.json")
    with tempfile.TemporaryDirectory() as home:
        os.environ["BOTLOOM_HOME"] = home
        desk = ScheduleDesk(Runner(home))
        desk.add(bot, cron="0 7 * * MON-FRI", timezone="Europe/Paris", name="invoices-morning",
                 inputs={"min_confidence": 0.9})
        desk.add(bot, every="15m", name="invoices-quarter-hour", misfire="skip")
        desk.add(bot, webhook="invoices", name="invoices-on-request")
        desk.change("invoices-quarter-hour", "pause")
        panel = SchedulesPanel(home=Path(home), current_bot=lambda: bot)
        panel.resize(1100, 300)
        panel.show()
        panel.reload()
        panel.table.selectRow(0)
        process_events()
        written = [out / "schedules.png"]
        panel.grab().save(str(written[0]))
        dialog = panel.make_dialog()
        dialog.cron.setText("*/30 8-18 * * MON-FRI")
        dialog.zone.setCurrentText("Europe/Paris")
        dialog.show()
        process_events()
        written.append(out / "schedule-add.png")
        dialog.grab().save(str(written[1]))
        dialog.close()
        panel.close()
    del app
    return written


__all__ = ["ScheduleDialog", "SchedulesPanel", "fire_time_text", "screenshots"]


if __name__ == "__main__":  # python -m botloom.app.schedules_panel docs/screenshots
    import os
    import sys

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")
    for path in screenshots(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"):
        print(path)
