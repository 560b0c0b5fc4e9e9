"""The core files nodes, run through the engine."""

from __future__ import annotations

import threading
import time

from nodes_helpers import logs_of, make_engine, outputs_of, run_bot, run_node


# ---------------------------------------------------------------- files.list
def test_list_pattern_recursive_and_include(work):
    for name in ("b.pdf", "a.pdf", "notes.txt", "sub/c.pdf", "sub/deeper/d.pdf"):
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text("x")
    result, outs = run_node("files.list", {"folder": ".", "pattern": "*.pdf"}, base_dir=work)
    assert result.state == "succeeded", result.error
    assert outs == {"paths": [str(work / "a.pdf"), str(work / "b.pdf")], "count": 2}
    result, outs = run_node("files.list", {"folder": str(work), "pattern": "*.pdf", "recursive": True})
    assert outs["count"] == 4 and str(work / "sub" / "deeper" / "d.pdf") in outs["paths"]
    result, outs = run_node("files.list", {"folder": str(work), "include": "folders", "recursive": True})
    assert outs["paths"] == [str(work / "sub"), str(work / "sub" / "deeper")]


def test_list_count_feeds_a_for_each(work):
    for i in range(3):
        (work / f"in{i}.csv").write_text("x")
    result, log = run_bot(
        {"ls": {"type": "files.list", "params": {"folder": str(work), "pattern": "*.csv"}},
         "loop": {"type": "core.for_each", "params": {"items": "{{ nodes.ls.paths }}", "item_var": "f"}},
         "mv": {"type": "files.move", "params": {"source": "{{ f }}", "destination": str(work / "done") + "/"}}},
        edges=[{"from": "start.out", "to": "ls.in"}, {"from": "ls.out", "to": "loop.in"},
               {"from": "loop.body", "to": "mv.in"}])
    assert result.state == "succeeded", result.error
    assert sorted(p.name for p in (work / "done").iterdir()) == ["in0.csv", "in1.csv", "in2.csv"]
    assert outputs_of(log, "loop")["count"] == 3


def test_list_missing_folder_is_not_found(work):
    result, _ = run_node("files.list", {"folder": "nope"}, base_dir=work)
    assert result.error["kind"] == "not_found"
    assert str(work / "nope") in result.error["message"] and str(work) in result.error["fix"]


# ---------------------------------------------------------------- copy / move / delete
def test_copy_file_into_folder_and_folder_copy_is_repeatable(work):
    (work / "a.txt").write_text("hello")
    (work / "out").mkdir()
    result, outs = run_node("files.copy", {"source": "a.txt", "destination": "out"}, base_dir=work)
    assert outs["path"] == str(work / "out" / "a.txt") and (work / "out" / "a.txt").read_text() == "hello"
    assert (work / "a.txt").exists()
    for _ in range(2):
        result, outs = run_node("files.copy", {"source": "out", "destination": "backup"}, base_dir=work)
        assert result.state == "succeeded", result.error
    assert sorted(p.name for p in (work / "backup").iterdir()) == ["a.txt"]


def test_copy_refuses_to_overwrite_when_told_so(work):
    (work / "a.txt").write_text("new")
    (work / "b.txt").write_text("old")
    result, _ = run_node("files.copy", {"source": "a.txt", "destination": "b.txt", "overwrite": False}, base_dir=work)
    assert result.error["kind"] == "io" and "already exists" in result.error["message"]
    assert (work / "b.txt").read_text() == "old"


def test_move_renames_and_respects_overwrite(work):
    (work / "a.txt").write_text("A")
    (work / "b.txt").write_text("B")
    result, _ = run_node("files.move", {"source": "a.txt", "destination": "b.txt"}, base_dir=work)
    assert result.error["kind"] == "io" and (work / "a.txt").exists()
    result, outs = run_node("files.move", {"source": "a.txt", "destination": "b.txt", "overwrite": True},
                            base_dir=work)
    assert outs["path"] == str(work / "b.txt") and (work / "b.txt").read_text() == "A"
    assert not (work / "a.txt").exists()
    result, outs = run_node("files.move", {"source": "b.txt", "destination": "new/dir/c.txt"}, base_dir=work)
    assert (work / "new" / "dir" / "c.txt").read_text() == "A"


def test_move_missing_source_is_not_found(work):
    result, _ = run_node("files.move", {"source": "ghost.txt", "destination": "x.txt"}, base_dir=work)
    assert result.error["kind"] == "not_found" and "ghost.txt" in result.error["message"]


def test_delete_file_folder_and_missing(work):
    (work / "f.txt").write_text("x")
    (work / "d" / "e").mkdir(parents=True)
    (work / "d" / "e" / "g.txt").write_text("x")
    assert run_node("files.delete", {"path": "f.txt"}, base_dir=work)[1] == {"deleted": True}
    assert run_node("files.delete", {"path": "d"}, base_dir=work)[1] == {"deleted": True}
    assert not (work / "f.txt").exists() and not (work / "d").exists()
    assert run_node("files.delete", {"path": "f.txt"}, base_dir=work)[1] == {"deleted": False}
    result, _ = run_node("files.delete", {"path": "f.txt", "missing_ok": False}, base_dir=work)
    assert result.error["kind"] == "not_found"


def test_delete_refuses_the_bots_own_folder(work):
    (work / "keep.txt").write_text("x")
    result, _ = run_node("files.delete", {"path": "."}, base_dir=work)
    assert result.state == "failed" and result.error["kind"] == "bad_input"
    assert (work / "keep.txt").exists()


# ---------------------------------------------------------------- text files
def test_write_append_read_text(work):
    result, log = run_bot(
        {"w": {"type": "files.write_text", "params": {"path": "logs/run.txt", "text": "first\n"}},
         "a1": {"type": "files.append_text", "params": {"path": "logs/run.txt", "text": "second"}},
         "a2": {"type": "files.append_text", "params": {"path": "logs/run.txt", "text": "third", "add_newline": False}},
         "r": {"type": "files.read_text", "params": {"path": "logs/run.txt"}},
         "v": {"type": "core.set_variable", "params": {"name": "content", "value": "{{ nodes.r.text }}"}}},
        base_dir=work, outputs={"content": {"type": "string"}})
    assert result.state == "succeeded", result.error
    assert result.outputs["content"] == "first\nsecond\nthird"
    assert outputs_of(log, "w")["path"] == str(work / "logs" / "run.txt")


def test_write_text_replaces_and_keeps_unicode(work):
    (work / "t.txt").write_text("old content that is longer")
    run_node("files.write_text", {"path": "t.txt", "text": "Grüße ✓"}, base_dir=work)
    assert (work / "t.txt").read_text(encoding="utf-8") == "Grüße ✓"
    run_node("files.write_text", {"path": "t.txt", "text": "Grüße", "encoding": "cp1252"}, base_dir=work)
    assert (work / "t.txt").read_bytes() == "Grüße".encode("cp1252")


def test_read_text_errors_are_explained(work):
    result, _ = run_node("files.read_text", {"path": "missing.txt"}, base_dir=work)
    assert result.error["kind"] == "not_found"
    assert result.error["message"] == f"file not found: {work / 'missing.txt'}"
    (work / "latin.txt").write_bytes("café".encode("cp1252"))
    result, _ = run_node("files.read_text", {"path": "latin.txt"}, base_dir=work)
    assert result.error["kind"] == "bad_input" and "encoding" in result.error["fix"]
    result, outs = run_node("files.read_text", {"path": "latin.txt", "encoding": "cp1252"}, base_dir=work)
    assert outs == {"text": "café"}
    result, _ = run_node("files.read_text", {"path": "latin.txt", "encoding": "klingon"}, base_dir=work)
    assert result.error["kind"] == "bad_input" and "klingon" in result.error["message"]
    result, _ = run_node("files.read_text", {"path": "."}, base_dir=work)
    assert result.error["kind"] == "bad_input" and "folder" in result.error["message"]


# ---------------------------------------------------------------- files.wait
def _later(delay, action):
    timer = threading.Timer(delay, action)
    timer.start()
    return timer


def test_wait_finds_a_file_that_appears_later(work):
    (work / "downloads").mkdir()
    timer = _later(0.3, lambda: (work / "downloads" / "report.pdf").write_bytes(b"%PDF-1.7"))
    t0 = time.monotonic()
    result, outs = run_node("files.wait", {"pattern": "downloads/*.pdf", "timeout": 10, "interval": 0.05},
                            base_dir=work)
    timer.join()
    assert result.state == "succeeded", result.error
    assert outs["path"] == str(work / "downloads" / "report.pdf") and outs["size"] == 8
    assert 0.2 <= outs["waited"] < 5 and time.monotonic() - t0 < 5


def test_wait_ignores_partial_downloads_and_waits_for_stable_size(work):
    part = work / "big.zip.crdownload"
    part.write_bytes(b"x")
    stop = threading.Event()

    def grow():  # the browser renames the partial file, then it keeps growing a little
        part.rename(work / "big.zip")
        for _ in range(6):
            if stop.wait(0.1):
                return
            with open(work / "big.zip", "ab") as fh:
                fh.write(b"y" * 100)

    timer = _later(0.2, grow)
    result, outs = run_node("files.wait", {"pattern": str(work / "big*"), "timeout": 10, "stable_for": 0.4,
                                           "interval": 0.05})
    stop.set()
    timer.join()
    assert result.state == "succeeded", result.error
    assert outs["path"] == str(work / "big.zip") and outs["size"] == 601


def test_wait_times_out_with_kind_timeout(work):
    t0 = time.monotonic()
    result, _ = run_node("files.wait", {"pattern": "never/*.txt", "timeout": 0.3, "interval": 0.05}, base_dir=work)
    assert time.monotonic() - t0 < 3
    assert result.state == "failed" and result.error["kind"] == "timeout"
    assert "never/*.txt" in result.error["message"] and str(work) in result.error["fix"]


def test_wait_is_cancellable(work):
    engine, log = make_engine({"w": {"type": "files.wait", "params": {"pattern": "*.never", "timeout": 60}}},
                              base_dir=work)
    timer = _later(0.3, engine.cancel)
    t0 = time.monotonic()
    result = engine.run()
    timer.join()
    assert result.state == "cancelled"
    assert time.monotonic() - t0 < 5


def test_wait_logs_what_it_found(work):
    (work / "ready.flag").write_text("")
    result, log = run_bot({"w": {"type": "files.wait", "params": {"pattern": "*.flag", "timeout": 1}}}, base_dir=work)
    assert result.state == "succeeded"
    assert any("ready.flag" in m for m in logs_of(log, "w"))
