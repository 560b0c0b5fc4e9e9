"""Files: save and reopen (byte-for-byte canonical), copy and paste between windows as JSON
text, unreadable and newer-format files (never overwritten), node types whose pack is missing
(placeholders that keep their parameters), unsaved-changes prompt, recent files, the start
page, and autosave with recovery after the designer's process dies."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from PySide6.QtGui import QGuiApplication

from bots import write_bot
from botloom.runner import botfile


def test_save_reopen_and_compare(win, qtbot, sample, registry):
    original = sample.read_bytes()
    assert win.open_path(str(sample))
    assert not win.is_dirty()
    win.a_save.trigger()
    assert sample.read_bytes() == original  # opening and saving an unchanged bot changes nothing

    win.select_node("main", "report")
    win.inspector.title_edit.setText("Final report")
    win.inspector.title_edit.editingFinished.emit()
    win.doc.undo.push(__import__("botloom.app.commands", fromlist=["x"]).MoveItems(
        win.doc, "main", {"report": ((1240, 0), (1260, 20))}))
    assert win.is_dirty() and win.windowTitle().startswith("*")
    win.a_save.trigger()
    assert not win.is_dirty()
    text = sample.read_text(encoding="utf-8")
    assert text == botfile.dumps(botfile.load(sample))  # the runner's canonical form
    assert '"title": "Final report"' in text and '"report": [1260, 20]' in text
    changed = set(original.decode().splitlines()) ^ set(text.splitlines())
    assert len(changed) == 4  # one title line and one layout line, before and after

    from botloom.app.main import MainWindow

    other = MainWindow(registry, win.settings)
    qtbot.addWidget(other)
    assert other.open_path(str(sample))
    assert other.doc.text() == win.doc.text()
    assert other.doc.flow().node("report").title == "Final report"
    assert win.settings.value("recent")[0] == str(sample.resolve())
    other.doc = None

    # save as: a new file; the recent list follows
    target = sample.parent / "copy.bot.json"
    win.ask_save_path = lambda: str(target)
    win.a_save_as.trigger()
    assert target.read_text(encoding="utf-8") == text
    assert win.doc.path == target.resolve()


def test_copy_paste_between_windows_as_json_text(win, qtbot, sample, registry):
    assert win.open_path(str(sample))
    win.scene.select_nodes(["check", "queue", "approve"])
    win.a_copy.trigger()
    text = QGuiApplication.clipboard().text()
    data = json.loads(text)
    assert data["botloom"] == "nodes" and sorted(data["nodes"]) == ["approve", "check", "queue"]
    assert {"from": "check.true", "to": "queue.in"} in data["edges"]

    from botloom.app.main import MainWindow

    other = MainWindow(registry, win.settings)
    qtbot.addWidget(other)
    other.show()
    other.a_new.trigger()
    other.a_paste.trigger()
    flow = other.doc.flow()
    assert sorted(flow.node_ids()) == ["approve", "check", "queue", "start"]
    assert flow.node("check").params == win.doc.flow().node("check").params
    assert {str(e) for e in flow.edges()} == {"check.false -> approve.in", "check.true -> queue.in"}
    assert other.a_undo.text() == "&Undo Paste 3 node(s)"
    # pasting again into the same bot gives fresh ids
    other.a_paste.trigger()
    assert {"check_2", "queue_2", "approve_2"} <= set(other.doc.flow().node_ids())
    other.doc = None
    # text that is not a Botloom selection is ignored
    QGuiApplication.clipboard().setText("hello")
    assert win.paste() == []


def test_broken_and_newer_files_are_reported_and_never_written(win, qtbot, tmp_path, sample):
    assert win.open_path(str(sample))
    broken = tmp_path / "broken.bot.json"
    broken.write_text('{"format": 1, "name": "x", "nodes": {', encoding="utf-8")
    before = broken.read_bytes()
    assert not win.open_path(str(broken))
    level, text = win.messages[-1]
    assert level == "error" and "not valid JSON" in text and "was not changed" in text
    assert win.banner.isVisibleTo(win) and "not valid JSON" in win.banner.text()
    assert win.doc.path == sample.resolve()  # the open bot stays open

    newer = tmp_path / "newer.bot.json"
    newer.write_text(json.dumps({"format": 99, "name": "future", "nodes": {}}), encoding="utf-8")
    before_newer = newer.read_bytes()
    assert not win.open_path(str(newer))
    level, text = win.messages[-1]
    assert "newer Botloom" in text and "Upgrade Botloom" in text and "unchanged" in text
    win.a_save.trigger()
    assert broken.read_bytes() == before and newer.read_bytes() == before_newer


def test_missing_pack_node_is_a_placeholder_that_keeps_its_params(win, qtbot, tmp_path):
    path = write_bot(tmp_path, "legacy", {
        "start": {"type": "core.start"},
        "scan": {"type": "acme.scan_invoice", "version": 3, "title": "Scan",
                 "params": {"engine": "deep", "pages": [1, 2], "nested": {"a": {"b": True}}},
                 "settings": {"timeout": 9}},
        "say": {"type": "core.log", "params": {"message": "{{ nodes.scan.total }}"}},
    }, [("start.out", "scan.in"), ("scan.out", "say.in"), ("scan.total", "say.message")])
    assert win.open_path(str(path))
    assert "acme.scan_invoice" in win.messages[-1][1] and "placeholder" in win.messages[-1][1]
    item = win.scene.nodes["scan"]
    assert item.missing and "missing pack" in item.subtitle
    assert item.port("out", "total") is not None  # its ports come from its edges
    assert any(p.code == "unknown-node-type" and p.node == "scan" for p in win.doc.problems())
    win.select_node("main", "scan")
    assert win.inspector.fields == {}  # no form to guess; its parameters are listed as they are
    # edit something else, save: the placeholder's block and edges are written back unchanged
    win.doc.move("main", "say", (400, 0))
    win.doc.force_dirty = True
    assert win.save()
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["nodes"]["scan"] == {"type": "acme.scan_invoice", "version": 3, "title": "Scan",
                                      "params": {"engine": "deep", "nested": {"a": {"b": True}}, "pages": [1, 2]},
                                      "settings": {"timeout": 9}}
    assert {"from": "scan.total", "to": "say.message"} in saved["edges"]
    # copy and paste keep it too
    win.scene.select_nodes(["scan"])
    win.a_duplicate.trigger()
    assert win.doc.flow().node("scan_2").params == saved["nodes"]["scan"]["params"]


def test_bot_settings_survive_a_save(win, qtbot, tmp_path):
    path = write_bot(tmp_path, "settings", {"start": {"type": "core.start"}}, [],
                     settings={"desktop": {"scale": 2}})
    assert win.open_path(str(path))
    win.doc.force_dirty = True
    assert win.save()
    assert json.loads(path.read_text(encoding="utf-8"))["settings"] == {"desktop": {"scale": 2}}


def test_unsaved_changes_prompt_and_start_page(win, qtbot, sample, tmp_path):
    assert win.open_path(str(sample))
    win.doc.set_param("main", "report", "message", "changed")
    win.doc.force_dirty = True
    other = write_bot(tmp_path, "other", {"start": {"type": "core.start"}}, [])
    asked = []
    win.ask_unsaved = lambda: asked.append(1) or "cancel"
    assert not win.open_path(str(other))
    assert asked and win.doc.path == sample.resolve()
    win.ask_unsaved = lambda: "save"
    assert win.open_path(str(other))
    assert '"message": "changed"' in sample.read_text(encoding="utf-8")
    win.a_close.trigger()
    assert win.stack.currentIndex() == 0
    recent = [win.start_page.recent.item(i).data(256) for i in range(win.start_page.recent.count())]
    assert recent[:2] == [str(other.resolve()), str(sample.resolve())]
    samples = [win.start_page.samples.item(i).data(256) for i in range(win.start_page.samples.count())]
    assert any(s.endswith("csv-report.bot.json") for s in samples)
    win.start_page.samples.itemActivated.emit(win.start_page.samples.item(0))
    assert win.doc is not None and win.doc.path.name.endswith(".bot.json")


def test_autosave_and_recovery_after_the_designer_dies(win, qtbot, sample, botloom_home):
    """A designer in another process edits the bot, autosaves, then is killed; the next
    designer offers the work back. The bot file itself is untouched until saved."""
    original = sample.read_bytes()
    script = textwrap.dedent(f"""
        import os, signal
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from botloom.app.main import MainWindow, create_app
        app = create_app([])
        win = MainWindow()
        assert win.open_path({str(sample)!r})
        win.doc.undo.push(__import__("botloom.app.commands", fromlist=["x"]).SetParam(
            win.doc, "main", "report", "message", "recovered text"))
        assert win.autosave() is not None
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "BOTLOOM_HOME": str(botloom_home)})
    assert proc.returncode == -9, proc.stderr
    assert sample.read_bytes() == original
    entries = win.recoverable()
    assert len(entries) == 1 and entries[0]["path"] == str(sample.resolve())
    win.ask_recover = lambda found: found[0]
    assert win.offer_recovery()
    assert win.doc.flow().node("report").params["message"] == "recovered text"
    assert win.doc.path == sample.resolve() and win.is_dirty()
    assert sample.read_bytes() == original
    win.a_save.trigger()
    assert "recovered text" in sample.read_text(encoding="utf-8")
    assert win.recoverable() == []


def test_start_page_shows_each_samples_description_whole(win, qtbot):
    """Descriptions wrap under the sample's name instead of being cut at the list's edge."""
    from botloom.runner import botfile

    lst = win.start_page.samples
    win.stack.setCurrentIndex(0)
    lst.resize(360, 600)
    qtbot.wait(50)
    assert lst.wordWrap()
    described = 0
    for i in range(lst.count()):
        item = lst.item(i)
        description = botfile.load(item.data(256)).description
        if not description:
            continue
        described += 1
        assert description in item.text()
        line = lst.fontMetrics().height()
        if lst.fontMetrics().horizontalAdvance(description) > lst.viewport().width():
            assert lst.visualItemRect(item).height() >= 3 * line, item.text()  # name + the wrapped description
    assert described >= 3


def test_the_banner_covers_the_canvas_top_instead_of_pushing_it_down(win, qtbot, sample):
    """A click aimed at the canvas lands where it was aimed, banner or not."""
    assert win.open_path(str(sample))
    canvas = win.tabs.currentWidget()
    before = canvas.mapTo(win, canvas.rect().topLeft()), canvas.size()
    win.notify("error", "something went wrong: " + "a long explanation " * 12)
    qtbot.waitUntil(lambda: win.banner.isVisible())
    assert (canvas.mapTo(win, canvas.rect().topLeft()), canvas.size()) == before
    banner = win.banner.geometry()
    assert banner.width() == win.banner.parentWidget().width() and banner.height() >= 30
    assert banner.top() >= win.tabs.tabBar().height()  # below the tab names, over the canvas
    win.resize(1000, 700)
    qtbot.waitUntil(lambda: win.banner.width() == win.banner.parentWidget().width())


def test_recovery_offers_the_newest_autosave_and_drops_stale_ones(win, qtbot, sample, tmp_path):
    import os
    import time

    folder = win.autosave_dir()
    other = tmp_path / "other.bot.json"
    other.write_bytes(sample.read_bytes())
    entries = [("a" * 16, sample, time.time() - 600), ("b" * 16, other, time.time() - 60),
               ("c" * 16, tmp_path / "gone.bot.json", time.time() - 300)]
    for key, path, at in entries:
        (folder / f"{key}.bot.json").write_bytes(sample.read_bytes())
        (folder / f"{key}.json").write_text(json.dumps({"path": str(path), "at": at, "pid": 999999999}))
    now = time.time()
    os.utime(sample, (now, now))  # the sample was saved after its autosave: that one is stale
    os.utime(other, (now - 3600, now - 3600))
    found = win.recoverable()
    assert [e["path"] for e in found] == [str(other), str(tmp_path / "gone.bot.json")]
    assert not (folder / ("a" * 16 + ".bot.json")).exists()


def test_each_node_has_help_from_its_declaration_and_a_link_to_its_packs_guide(win, qtbot, sample):
    from PySide6.QtWidgets import QLabel, QPlainTextEdit

    assert win.open_path(str(sample))
    win.select_node("main", "report")
    link = win.inspector.findChild(QLabel, "node-help")
    assert link is not None and "Help" in link.text()
    link.linkActivated.emit("help")
    dialog = win.inspector.help_dialog
    qtbot.waitUntil(dialog.isVisible)
    text = dialog.findChild(QPlainTextEdit, "node-help-text").toPlainText()
    nt = win.inspector.node_type
    assert nt.id in text and all(p.name in text for p in nt.params)
    guide = dialog.findChild(QLabel, "node-help-guide")
    assert guide is not None
    assert f"docs/{nt.pack}.md" in guide.text() or "docs/nodes.md" in guide.text()
    dialog.close()
