"""The inspector's "how the node runs" form, below a node's parameters: timeout, what to do
on an error, retry (attempts, delay, backoff, longest wait, error kinds) and whether the node
is disabled. These are the node's ``settings`` in the bot format (docs/bot-format.md, *Node
settings*). A value is checked as it is typed; each committed change is one undoable command
(``SetNodeField``)."""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QLineEdit

ERROR_STYLE = "border: 1.5px solid #e5484d; border-radius: 3px;"

# retry key: (label, placeholder, tooltip)
RETRY_FIELDS = {
    "attempts": ("Retry attempts", "1 (no retry)", "How many times to run the node in all, 1 to 100."),
    "delay": ("Retry delay (s)", "1", "Seconds before the second attempt."),
    "backoff": ("Backoff", "2", "Each later wait is this many times the one before."),
    "max_delay": ("Longest wait (s)", "60", "The longest wait between attempts, in seconds."),
    "on": ("Retry on", "most kinds (see tooltip)",
           "The error kinds to retry, separated by commas (e.g. timeout, network, http). Empty: every kind "
           "except bad_input, expression, missing_dependency and failed. *: every kind."),
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def parse_retry(key: str, text: str) -> Any:
    """The value of retry ``key`` typed as ``text`` (None: left empty); ValueError says why not."""
    text = text.strip()
    if not text:
        return None
    if key == "on":
        kinds = [k.strip() for k in text.split(",") if k.strip()]
        return kinds or None
    if key == "attempts":
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"attempts must be a whole number from 1 to 100, got '{text}'") from None
        if not 1 <= value <= 100:
            raise ValueError(f"attempts must be a whole number from 1 to 100, got {value}")
        return value
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"the {RETRY_FIELDS[key][0].lower()} must be a number, got '{text}'") from None
    if value < 0:
        raise ValueError(f"the {RETRY_FIELDS[key][0].lower()} cannot be negative, got {text}")
    return int(value) if value.is_integer() else value


class NodeSettings:
    """Builds the settings rows into ``form`` and commits through ``set_field(field, value)``
    (the inspector's ``_set_field``: a ``SetNodeField`` command unless the value is unchanged)."""

    def __init__(self, form: QFormLayout, spec, set_field):
        self.set_field = set_field
        self.timeout_edit = QLineEdit(_text(spec.settings.get("timeout")), placeholderText="no limit",
                                      objectName="setting-timeout")
        self.timeout_edit.editingFinished.connect(self._commit_timeout)
        form.addRow("Timeout (s)", self.timeout_edit)
        self.on_error = QComboBox(objectName="setting-on_error")
        self.on_error.addItem("Stop the run", None)
        self.on_error.addItem("Continue", "continue")
        self.on_error.setCurrentIndex(1 if spec.settings.get("on_error") == "continue" else 0)
        self.on_error.activated.connect(lambda _i: self.set_field("settings.on_error", self.on_error.currentData()))
        form.addRow("On error", self.on_error)
        self.retry_edits: dict[str, QLineEdit] = {}
        self.retry_rows: dict[str, tuple[QLabel, QLineEdit]] = {}
        for key, (label, placeholder, tip) in RETRY_FIELDS.items():
            edit = QLineEdit(placeholderText=placeholder, objectName=f"setting-retry-{key}")
            edit.setToolTip(tip)
            edit.textChanged.connect(lambda _t, k=key: self._check_retry(k))
            edit.editingFinished.connect(lambda k=key: self._commit_retry(k))
            caption = QLabel(label)
            caption.setToolTip(tip)
            form.addRow(caption, edit)
            self.retry_edits[key] = edit
            self.retry_rows[key] = (caption, edit)
        self.retry_error = QLabel(styleSheet="color: #e5484d; font-size: 11px;", objectName="setting-retry-error")
        self.retry_error.setWordWrap(True)
        self.retry_error.hide()
        form.addRow("", self.retry_error)
        self.disabled_box = QCheckBox("Skip this node (disabled)", objectName="node-disabled")
        self.disabled_box.setChecked(spec.disabled)
        self.disabled_box.toggled.connect(lambda v: self.set_field("disabled", bool(v)))
        form.addRow("", self.disabled_box)
        self.timeout_error = QLabel(styleSheet="color: #e5484d; font-size: 11px;")
        self.timeout_error.hide()
        form.addRow("", self.timeout_error)
        self.retry = copy.deepcopy(spec.settings.get("retry") or {})
        self._load_retry()

    # ------------------------------------------------------------ showing the node's values
    def load(self, spec) -> None:
        """Show the node's settings again (after an edit or an undo); a field showing an error keeps
        what the person typed."""
        if not self.timeout_error.text() and self.timeout_edit.text() != _text(spec.settings.get("timeout")):
            self.timeout_edit.setText(_text(spec.settings.get("timeout")))
        self.on_error.setCurrentIndex(1 if spec.settings.get("on_error") == "continue" else 0)
        self.disabled_box.blockSignals(True)
        self.disabled_box.setChecked(spec.disabled)
        self.disabled_box.blockSignals(False)
        self.retry = copy.deepcopy(spec.settings.get("retry") or {})
        self._load_retry()

    def _load_retry(self) -> None:
        for key, edit in self.retry_edits.items():
            if edit.styleSheet():  # showing an error: keep the typed text
                continue
            if edit.text() != _text(self.retry.get(key)):
                edit.blockSignals(True)
                edit.setText(_text(self.retry.get(key)))
                edit.blockSignals(False)
        self._show_retry_details()

    def _show_retry_details(self) -> None:
        """The delay, backoff, longest wait and kinds matter once there is more than one attempt."""
        shown = bool(self.retry) or bool(self.retry_edits["attempts"].text().strip())
        for key, (caption, edit) in self.retry_rows.items():
            if key != "attempts":
                caption.setVisible(shown)
                edit.setVisible(shown)

    # ------------------------------------------------------------ checking and committing
    def _check_retry(self, key: str) -> tuple[bool, Any]:
        """(True, value) when the text of retry ``key`` fits, else (False, None) with the reason shown."""
        edit = self.retry_edits[key]
        try:
            value = parse_retry(key, edit.text())
        except ValueError as exc:
            edit.setStyleSheet(ERROR_STYLE)
            self.retry_error.setText(str(exc))
            self.retry_error.show()
            return False, None
        edit.setStyleSheet("")
        if not any(e.styleSheet() for e in self.retry_edits.values()):
            self.retry_error.setText("")
            self.retry_error.hide()
        return True, value

    def _commit_retry(self, key: str) -> None:
        ok, value = self._check_retry(key)
        if not ok:
            return
        retry = copy.deepcopy(self.retry)
        if value is None:
            retry.pop(key, None)
        else:
            retry[key] = value
        self.set_field("settings.retry", retry or None)
        self._show_retry_details()

    def _commit_timeout(self) -> None:
        text = self.timeout_edit.text().strip()
        if not text:
            self.timeout_error.hide()
            self.timeout_error.setText("")
            self.timeout_edit.setStyleSheet("")
            self.set_field("settings.timeout", None)
            return
        try:
            value = float(text)
            if value <= 0:
                raise ValueError
        except ValueError:
            self.timeout_error.setText(f"the timeout must be a number of seconds above 0, got '{text}'")
            self.timeout_error.show()
            self.timeout_edit.setStyleSheet(ERROR_STYLE)
            return
        self.timeout_error.hide()
        self.timeout_error.setText("")
        self.timeout_edit.setStyleSheet("")
        self.set_field("settings.timeout", int(value) if value.is_integer() else value)
