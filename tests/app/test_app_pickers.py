"""Indicating desktop targets: the point picker and the image capture on a still of a real
screen (Xvfb with Mousepad on it; the designer offscreen), driven with the mouse; the values are
relative to the window under the pointer, the image is the screen's own pixels, each change one
undoable step."""

from __future__ import annotations

from bots import write_bot
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest


def click_bot(win, tmp_path, target):
    path = write_bot(tmp_path, "clicker", {
        "start": {"type": "core.start"},
        "click": {"type": "desktop.click", "params": {"target": target}},
    }, [("start.out", "click.in")])
    assert win.open_path(str(path))
    win.scene.select_nodes(["click"])
    return path


def driven(factory, action):
    """A picker whose exec() is the test's mouse instead of a person's."""
    def make(still):
        picker = factory(still)

        def run():
            picker.show()
            action(picker)
            return picker.result() == picker.DialogCode.Accepted

        picker.exec = run
        return picker
    return make


def mousepad(vd):
    from botloom.nodes.desktop import windows

    return windows.matching(windows.list_all(), "Mousepad$")[0]


def test_the_point_picker_gives_a_point_relative_to_the_window_under_it(mousepad_screen, qtbot, tmp_path):
    from botloom.app.capture import PointPicker

    win, vd = mousepad_screen
    click_bot(win, tmp_path, {"kind": "point", "x": 1, "y": 1, "fallbacks": [{"kind": "text", "text": "File"}]})
    field = win.inspector.fields["target"]
    assert field.point_button.text() == "Point…" and field.editor.text() == "point 1, 1 (+1 fallback)"
    mp = mousepad(vd)
    seen = {}

    def act(picker):
        assert (picker.still.width(), picker.still.height()) == (800, 600)  # the real screen, not Qt's offscreen one
        QTest.mouseMove(picker, QPoint(mp.x + 150, mp.y + 120))
        seen["info"] = picker.info()
        QTest.mousePress(picker, Qt.LeftButton, Qt.NoModifier, QPoint(mp.x + 150, mp.y + 120))

    win.point_picker = driven(PointPicker, act)
    field.point_button.click()
    target = win.doc.flow("main").node("click").params["target"]
    assert target == {"kind": "point", "x": 150, "y": 120, "window": "\\-\\ Mousepad$", "process": "mousepad",
                      "fallbacks": [{"kind": "text", "text": "File"}]}
    assert seen["info"].startswith("150, 120 in '") and "Mousepad" in seen["info"]
    assert win.isVisible()  # back after picking
    assert field.editor.text() == "point 150, 120 in /\\-\\ Mousepad$/ (+1 fallback)"
    win.doc.undo.undo()
    assert win.doc.flow("main").node("click").params["target"]["x"] == 1


def test_capture_cuts_the_live_screen_and_looks_in_that_window(mousepad_screen, qtbot, tmp_path):
    import numpy as np

    from botloom.app.capture import RegionPicker
    from botloom.nodes.desktop.screen import grab

    win, vd = mousepad_screen
    path = click_bot(win, tmp_path, {"kind": "point", "x": 1, "y": 1})
    mp = mousepad(vd)
    box = (mp.x + 4, mp.y + 2, 60, 24)  # around the File menu

    def act(picker):
        QTest.mousePress(picker, Qt.LeftButton, Qt.NoModifier, QPoint(box[0], box[1]))
        QTest.mouseMove(picker, QPoint(box[0] + 30, box[1] + 10))
        QTest.mouseRelease(picker, Qt.LeftButton, Qt.NoModifier, QPoint(box[0] + box[2], box[1] + box[3]))

    win.region_picker = driven(RegionPicker, act)
    win.inspector.fields["target"].capture_button.click()
    target = win.doc.flow("main").node("click").params["target"]
    assert target == {"kind": "image", "image": "images/click.png", "window": "\\-\\ Mousepad$", "process": "mousepad"}
    saved = QImage(str(path.parent / "images" / "click.png")).convertToFormat(QImage.Format_RGB888)
    assert (saved.width(), saved.height()) == (60, 24)
    pixels = np.frombuffer(saved.constBits(), np.uint8).reshape(24, saved.bytesPerLine())[:, :180].reshape(24, 60, 3)
    assert np.array_equal(pixels, grab(box))  # the screen's own pixels: nothing of the designer in them
    field = win.inspector.fields["target"]
    assert field.editor.text() == "image images/click.png in /\\-\\ Mousepad$/"
    assert field.preview.isVisibleTo(win.inspector) and field.preview.pixmap().width() == 60


def test_wait_gone_returns_once_the_screen_is_still(mousepad_screen, qtbot):
    import time

    from botloom.app.capture import wait_gone

    win, _vd = mousepad_screen
    t0 = time.monotonic()
    still = wait_gone(win, quiet=0.15)
    assert not win.isVisible() and 0.15 <= time.monotonic() - t0 < 5.0  # (2 s is its own limit; a loaded machine adds)
    assert (still.width(), still.height()) == (800, 600)
    win.show()


def test_the_point_picker_offers_the_accessible_element_there_with_the_point_behind_it(qtbot):
    from botloom.app.capture import PointPicker

    window = {"title": "galculator", "pattern": "^galculator$", "process": "galculator", "x": 100, "y": 50,
              "width": 300, "height": 400}
    asked = []
    still = QImage(640, 480, QImage.Format_RGB888)
    still.fill(Qt.white)
    picker = PointPicker(still, find_window=lambda x, y: window,
                         find_element=lambda x, y, w: asked.append((x, y, w["pattern"])) or
                         {"selector": 'button[name="7"]', "role": "toggle button", "name": "7"})
    qtbot.addWidget(picker)
    picker.show()
    QTest.mousePress(picker, Qt.LeftButton, Qt.NoModifier, QPoint(130, 90))
    assert asked == [(130, 90, "^galculator$")]
    assert picker.target == {"kind": "element", "selector": 'button[name="7"]', "window": "^galculator$",
                             "process": "galculator", "fallbacks": [
                                 {"kind": "point", "x": 30, "y": 40, "window": "^galculator$", "process": "galculator"}]}
