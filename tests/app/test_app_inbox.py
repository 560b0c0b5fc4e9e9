"""The designer's inbox (offscreen): a task suspended by a real run shows with its page image
and the field boxes; a correction is typed, approved from the keyboard, and the run resumes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsRectItem

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bots import write_bot  # noqa: E402

FIELDS = [{"name": "total", "type": "number", "value": "148.51", "confidence": 0.41, "box": [350, 380, 160, 24],
           "page": 1, "required": True},
          {"name": "vendor", "type": "string", "value": "Acme Office Supplies", "confidence": 0.93,
           "box": [40, 40, 300, 30], "page": 1},
          {"name": "currency", "type": "string", "value": "EUR", "choices": ["EUR", "USD"]}]


def suspend_review(folder: Path, home: Path, out: Path, title: str = "Invoice INV-1", queue: str = "ap") -> None:
    from PIL import Image, ImageDraw

    image = folder / "invoice.png"
    if not image.exists():
        img = Image.new("RGB", (620, 877), "white")
        ImageDraw.Draw(img).text((360, 385), "Total 148.51 EUR", fill="black")
        img.save(image)
    bot = write_bot(folder, f"invoices-{queue}", {
        "start": {"type": "core.start"},
        "review": {"type": "review.task", "params": {"title": title, "instructions": "Check the total.",
                                                     "fields": FIELDS, "document": str(image), "queue": queue}},
        "save": {"type": "data.write_json", "params": {"path": str(out), "data": "{{ nodes.review }}"}},
    }, [("start.out", "review.in"), ("review.out", "save.in")])
    env = {**os.environ, "BOTLOOM_HOME": str(home)}
    run = subprocess.run([sys.executable, "-m", "botloom.runner.cli", "run", str(bot)], env=env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 3, run.stderr  # suspended, and its process has exited


def test_the_inbox_shows_the_task_with_its_page_and_a_typed_correction_resumes_the_run(win, qtbot, tmp_path,
                                                                                        botloom_home):
    out = tmp_path / "answer.json"
    suspend_review(tmp_path, botloom_home, out)
    inbox = win.inbox
    win.dock_inbox.show()
    win.dock_inbox.raise_()
    inbox.reload()
    assert inbox.table.rowCount() == 1 and inbox.table.item(0, 0).text() == "Invoice INV-1"
    view = inbox.view
    assert view.title.text() == "Invoice INV-1" and "Check the total." in view.instructions.text()
    items = view.page_view.scene().items()
    pixmaps = [i for i in items if isinstance(i, QGraphicsPixmapItem)]
    assert len(pixmaps) == 1 and pixmaps[0].pixmap().width() == 620  # the page image the run kept
    assert sorted(view.page_view.boxes) == ["total", "vendor"]  # currency has no box
    assert isinstance(view.page_view.boxes["total"], QGraphicsRectItem)
    assert view.page_view.boxes["total"].rect().getRect() == (350, 380, 160, 24)
    assert sorted(view.buttons) == ["approve", "correct", "reject"]
    assert view.fields["currency"].kind == "combo"  # a field with choices: a drop-down, as in the inspector

    total = view.fields["total"].editor
    assert total.hasFocus() and view.page_view.current == "total"  # the first field, its box highlighted
    total.selectAll()
    qtbot.keyClicks(total, "lots")
    assert "expected a number" in view.fields["total"].error.text()  # marked as it is typed
    qtbot.keyClick(total, Qt.Key_Return, Qt.ControlModifier)
    assert "Not sent: total: expected a number" in view.status.text() and not out.exists()
    total.selectAll()
    qtbot.keyClicks(total, "151.20")
    assert view.fields["total"].error.isHidden()
    qtbot.keyClick(total, Qt.Key_Tab)  # next field: its box is the highlighted one
    assert view.fields["vendor"].editor.hasFocus() and view.page_view.current == "vendor"
    with qtbot.waitSignal(inbox.completed, timeout=60_000) as done:
        qtbot.keyClick(view.fields["vendor"].editor, Qt.Key_Return, Qt.ControlModifier)  # approve
    task_id, code, output = done.args
    assert code == 0, output
    answer = json.loads(out.read_text())
    assert answer["outcome"] == "approve" and answer["values"]["total"] == 151.2
    assert answer["values"]["vendor"] == "Acme Office Supplies" and answer["by"]
    assert inbox.table.rowCount() == 0 and view.task is None


def test_filters_and_next_task_from_the_keyboard(win, qtbot, tmp_path, botloom_home):
    suspend_review(tmp_path, botloom_home, tmp_path / "a.json", "Invoice A", "ap")
    suspend_review(tmp_path, botloom_home, tmp_path / "b.json", "Invoice B", "ap-leads")
    inbox = win.inbox
    assert win.dock_inbox.toggleViewAction().shortcut().toString() == "Ctrl+Shift+I"  # View > Inbox
    inbox.reload()
    assert inbox.table.rowCount() == 2 and inbox.view.title.text() == "Invoice A"
    qtbot.keyClick(inbox.view.fields["total"].editor, Qt.Key_Down, Qt.ControlModifier)
    assert inbox.view.title.text() == "Invoice B"
    inbox.queue_filter.setCurrentIndex(inbox.queue_filter.findData("ap-leads"))
    inbox.reload()
    assert inbox.table.rowCount() == 1 and inbox.view.title.text() == "Invoice B"
    inbox.deadline_filter.setCurrentIndex(inbox.deadline_filter.findData(0))  # overdue: none has a deadline
    inbox.reload()
    assert inbox.table.rowCount() == 0 and inbox.view.title.text() == "No open task."


def test_a_field_on_another_page_turns_to_it(win, qtbot, tmp_path, botloom_home):
    from PIL import Image

    pdf = tmp_path / "two-pages.pdf"
    pages = [Image.new("RGB", (620, 877), "white"), Image.new("RGB", (620, 877), "white")]
    pages[0].save(pdf, save_all=True, append_images=pages[1:], resolution=72)
    fields = [{"name": "number", "value": "INV-1", "box": [100, 100, 300, 50], "page": 1},
              {"name": "total", "type": "number", "value": 148.51, "box": [900, 2000, 300, 50], "page": 2}]
    bot = write_bot(tmp_path, "pages", {
        "start": {"type": "core.start"},
        "review": {"type": "review.task", "params": {"title": "Two pages", "fields": fields, "document": str(pdf)}},
    }, [("start.out", "review.in")])
    env = {**os.environ, "BOTLOOM_HOME": str(botloom_home)}
    assert subprocess.run([sys.executable, "-m", "botloom.runner.cli", "run", str(bot)], env=env,
                          capture_output=True, timeout=60).returncode == 3
    inbox = win.inbox
    inbox.reload()
    view = inbox.view
    assert view.page_view.page == 1 and view.page_label.text().startswith("Page 1 of 2")
    qtbot.keyClick(view.fields["number"].editor, Qt.Key_Tab)  # to 'total', whose box is on page 2
    assert view.page_view.page == 2 and view.page_view.current == "total" and list(view.page_view.boxes) == ["total"]
    qtbot.keyClick(view.fields["total"].editor, Qt.Key_PageUp, Qt.ControlModifier)
    assert view.page_view.page == 1 and view.page_label.text().startswith("Page 1 of 2")
