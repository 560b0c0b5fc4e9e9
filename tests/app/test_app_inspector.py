"""The inspector: a form generated from the node type's parameter schema, filled as a person
would, with invalid values marked at once; the problems panel; the screen-target picker."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit

from bots import write_bot
from botloom.runner import botfile


def select(win, node_id: str, flow: str = "main"):
    win.select_node(flow, node_id)
    assert win.inspector.node_id == node_id
    return win.inspector


def type_into(qtbot, editor: QLineEdit, text: str, enter: bool = True) -> None:
    editor.setFocus()
    editor.selectAll()
    QTest.keyClick(editor, Qt.Key_Delete)
    qtbot.keyClicks(editor, text)
    if enter:
        QTest.keyClick(editor, Qt.Key_Return)


def test_fill_the_form_with_live_checks(win, qtbot, tmp_path):
    path = write_bot(tmp_path, "form", {
        "start": {"type": "core.start"},
        "wait": {"type": "core.delay", "params": {"seconds": 1}},
        "say": {"type": "core.log", "params": {"message": "hello"}},
        "fetch": {"type": "http.request", "params": {"url": "https://example.com"}},
    }, [("start.out", "wait.in"), ("wait.out", "say.in"), ("say.out", "fetch.in")],
        secrets={"shop_token": "API token", "crm_password": "CRM"},
        variables={"total": {"type": "number", "default": 0}})
    assert win.open_path(str(path))
    insp = select(win, "wait")
    seconds = insp.fields["seconds"]
    assert isinstance(seconds.editor, QLineEdit)
    # a value that is not a number is marked at once, with the reason, before it is committed
    type_into(qtbot, seconds.editor, "soon", enter=False)
    assert seconds.error.isVisibleTo(insp) and "number" in seconds.error.text()
    type_into(qtbot, seconds.editor, "-3")
    assert "below the minimum" in seconds.error.text()
    assert win.doc.flow().node("wait").params["seconds"] == -3  # kept, and listed as a problem
    qtbot.waitUntil(lambda: any(p.node == "wait" and p.param == "seconds" for p in win.problems.problems))
    type_into(qtbot, seconds.editor, "2.5")
    assert not seconds.error.isVisibleTo(insp)
    assert win.doc.flow().node("wait").params["seconds"] == 2.5
    assert win.a_undo.text() == "&Undo Change 'Seconds' of 'Delay'"
    # an expression is accepted in a number field; names complete as they are typed
    type_into(qtbot, seconds.editor, "{{ tot", enter=False)
    assert "total" in seconds.editor.completions()
    seconds.editor.insert_completion("total")
    qtbot.keyClicks(seconds.editor, " / 10 }}")
    QTest.keyClick(seconds.editor, Qt.Key_Return)
    assert win.doc.flow().node("wait").params["seconds"] == "{{ total / 10 }}"
    assert not seconds.error.isVisibleTo(insp)
    # undo and redo reach the form
    win.a_undo.trigger()
    assert seconds.editor.text() == "2.5"
    win.a_redo.trigger()
    assert seconds.editor.text() == "{{ total / 10 }}"

    # title, a choice and node settings
    insp = select(win, "say")
    type_into(qtbot, insp.title_edit, "Greet")
    assert win.doc.flow().node("say").title == "Greet"
    level = insp.fields["level"].editor
    assert isinstance(level, QComboBox)
    level.setFocus()
    level.setCurrentIndex(level.findData("warning"))
    level.activated.emit(level.currentIndex())
    assert win.doc.flow().node("say").params["level"] == "warning"
    type_into(qtbot, insp.timeout_edit, "0")
    assert "above 0" in insp.timeout_error.text()
    assert "timeout" not in win.doc.flow().node("say").settings
    type_into(qtbot, insp.timeout_edit, "30")
    assert win.doc.flow().node("say").settings["timeout"] == 30
    qtbot.mouseClick(insp.disabled_box, Qt.LeftButton, pos=QPoint(8, insp.disabled_box.height() // 2))
    assert win.doc.flow().node("say").disabled is True

    # a secret parameter offers the bot's declared secrets by name
    insp = select(win, "fetch")
    secret_fields = [f for f in insp.fields.values() if f.hints.get("secret")]
    assert secret_fields
    combo = secret_fields[0].editor
    assert sorted(combo.itemText(i) for i in range(combo.count())) == ["crm_password", "shop_token"]
    combo.setCurrentIndex(combo.findText("shop_token"))
    combo.activated.emit(combo.currentIndex())
    assert win.doc.flow().node("fetch").params[secret_fields[0].name] == "shop_token"
    # a yes/no parameter is a check box
    checks = [f for f in insp.fields.values() if isinstance(f.editor, QCheckBox)]
    assert checks


def test_show_if_and_problems_panel(win, qtbot, tmp_path):
    path = write_bot(tmp_path, "probs", {
        "start": {"type": "core.start"},
        "find": {"type": "uitest.find_image"},
        "say": {"type": "core.log"},
    }, [("start.out", "find.in"), ("find.out", "say.in")])
    assert win.open_path(str(path))
    insp = select(win, "find")
    assert not insp.fields["confidence"].isVisibleTo(insp)  # shown only when mode is 'exact'
    mode = insp.fields["mode"].editor
    mode.setCurrentIndex(mode.findData("exact"))
    mode.activated.emit(mode.currentIndex())
    assert insp.fields["confidence"].isVisibleTo(insp)

    # the problems panel lists the missing message, live; clicking it selects the node and field
    qtbot.waitUntil(lambda: any(p.node == "say" and p.code == "missing-param" for p in win.problems.problems))
    row = next(i for i, p in enumerate(win.problems.problems) if p.node == "say")
    item = win.problems.topLevelItem(row)
    win.dock_problems.raise_()
    rect = win.problems.visualItemRect(item)
    qtbot.mouseClick(win.problems.viewport(), Qt.LeftButton, pos=rect.center())
    assert win.scene.selected_node_ids() == ["say"]
    assert win.inspector.node_id == "say"
    message = win.inspector.fields["message"]
    assert "required" in message.error.text()
    message.editor.setPlainText("all done")
    message.editor.editingFinished.emit()  # what leaving the box does
    qtbot.waitUntil(lambda: not any(p.node == "say" for p in win.problems.problems))


def test_screen_target_picker_saves_the_image_beside_the_bot(win, qtbot, tmp_path):
    path = write_bot(tmp_path, "target", {
        "start": {"type": "core.start"},
        "find": {"type": "uitest.find_image", "params": {"target": {"kind": "image", "image": "old.png",
                                                                   "confidence": 0.8}}},
    }, [("start.out", "find.in")])
    assert win.open_path(str(path))
    insp = select(win, "find")
    assert insp.fields["target"].kind == "screen-target"
    assert insp.fields["target"].capture_button.text() == "Capture…"

    # the region picker, driven with the mouse over a known "screen"
    from botloom.app.capture import RegionPicker, save_screen_target

    shot = QPixmap(400, 300)
    shot.fill(QColor("#ffffff"))
    from PySide6.QtGui import QPainter

    p = QPainter(shot)
    p.fillRect(QRect(100, 80, 60, 40), QColor("#ff0000"))
    p.end()
    picker = RegionPicker(shot)
    qtbot.addWidget(picker)
    picker.show()
    qtbot.waitExposed(picker)
    with qtbot.waitSignal(picker.picked) as got:
        QTest.mousePress(picker, Qt.LeftButton, Qt.NoModifier, QRect(100, 80, 1, 1).topLeft())
        QTest.mouseMove(picker, QRect(130, 100, 1, 1).topLeft())
        QTest.mouseRelease(picker, Qt.LeftButton, Qt.NoModifier, QRect(160, 120, 1, 1).topLeft())
    image: QImage = got.args[0]
    assert (image.width(), image.height()) == (60, 40)
    assert image.pixelColor(30, 20) == QColor("#ff0000")

    value = save_screen_target(win.doc, "main", "find", "target", image)
    assert value == {"kind": "image", "image": "images/find.png", "confidence": 0.8}
    saved = QImage(str(tmp_path / "images" / "find.png"))
    assert (saved.width(), saved.height()) == (60, 40)
    assert insp.fields["target"].editor.text() == "image images/find.png"
    assert insp.fields["target"].preview.isVisibleTo(insp) and insp.fields["target"].preview.pixmap().width() == 60
    assert win.a_undo.text() == "&Undo Change 'Target' of 'Find image'"
    win.save()
    assert botfile.load(path).main.nodes["find"].params["target"]["image"] == "images/find.png"


def test_retry_settings_are_edited_in_the_form_as_undoable_steps(win, qtbot, tmp_path):
    path = write_bot(tmp_path, "retry", {
        "start": {"type": "core.start"},
        "say": {"type": "core.log", "params": {"message": "hello"}},
        "calm": {"type": "core.log", "params": {"message": "calm"},
                 "settings": {"retry": {"attempts": 2, "on": ["timeout"]}}},
    }, [("start.out", "say.in"), ("say.out", "calm.in")])
    assert win.open_path(str(path))
    settings = lambda node: win.doc.flow().node(node).settings  # noqa: E731
    insp = select(win, "say")
    attempts, delay = insp.retry_edits["attempts"], insp.retry_edits["delay"]
    # without retry only the number of attempts is offered; the rest appears once it is set
    assert attempts.isVisibleTo(insp) and not delay.isVisibleTo(insp)
    type_into(qtbot, attempts, "0")
    assert "1 to 100" in insp.retry_error.text() and insp.retry_error.isVisibleTo(insp)
    assert "retry" not in settings("say")  # an invalid value is not written
    type_into(qtbot, attempts, "3")
    assert settings("say")["retry"] == {"attempts": 3}
    assert not insp.retry_error.isVisibleTo(insp) and delay.isVisibleTo(insp)
    assert win.a_undo.text() == "&Undo Change retry of 'Log message'"
    type_into(qtbot, delay, "-1")
    assert "cannot be negative" in insp.retry_error.text()
    type_into(qtbot, delay, "0.5")
    type_into(qtbot, insp.retry_edits["backoff"], "3")
    type_into(qtbot, insp.retry_edits["max_delay"], "20")
    type_into(qtbot, insp.retry_edits["on"], "timeout, network")
    assert settings("say")["retry"] == {"attempts": 3, "delay": 0.5, "backoff": 3, "max_delay": 20,
                                        "on": ["timeout", "network"]}
    # each field was one step: undo walks back through them and the form follows
    win.a_undo.trigger()
    assert "on" not in settings("say")["retry"] and insp.retry_edits["on"].text() == ""
    win.a_undo.trigger()
    win.a_undo.trigger()
    win.a_undo.trigger()
    assert settings("say")["retry"] == {"attempts": 3} and delay.text() == ""
    win.a_redo.trigger()
    assert settings("say")["retry"] == {"attempts": 3, "delay": 0.5} and delay.text() == "0.5"
    # a node's existing retry settings are shown, and emptying every field removes them
    insp = select(win, "calm")
    assert insp.retry_edits["attempts"].text() == "2" and insp.retry_edits["on"].text() == "timeout"
    type_into(qtbot, insp.retry_edits["on"], "")
    type_into(qtbot, insp.retry_edits["attempts"], "")
    assert "retry" not in settings("calm")
    # saved in the bot file as the bot format has it
    assert win.save()
    saved = botfile.load(path).main.nodes
    assert saved["say"].settings["retry"] == {"attempts": 3, "delay": 0.5}
    assert "retry" not in saved["calm"].settings


def test_multiline_fields_complete_names_and_the_loop_variable_is_offered(win, qtbot, tmp_path):
    from botloom.app.fields import MultiLineEdit

    path = write_bot(tmp_path, "loop", {
        "loop": {"type": "core.for_each", "params": {"items": [1, 2]}},  # item_var left at its default
        "say": {"type": "core.log", "params": {"message": "x"}},
    }, [("start.out", "loop.in"), ("loop.body", "say.in")], variables={"total": {"type": "number", "default": 0}})
    assert win.open_path(str(path))
    insp = select(win, "say")
    message = insp.fields["message"].editor
    assert isinstance(message, MultiLineEdit)
    message.setFocus()
    message.selectAll()
    qtbot.keyClicks(message, "Line one")
    QTest.keyClick(message, Qt.Key_Return)
    qtbot.keyClicks(message, "Item {{ it")
    assert "item" in message.completions()
    qtbot.waitUntil(lambda: message.completer_.popup().isVisible())
    message.insert_completion("item")
    qtbot.keyClicks(message, " }} of {{ tot")
    assert message.completions() == ["total"]
    message.insert_completion("total")
    qtbot.keyClicks(message, " }}")
    message.editingFinished.emit()
    assert win.doc.flow().node("say").params["message"] == "Line one\nItem {{ item }} of {{ total }}"
    assert "index" in insp.completion_names()
