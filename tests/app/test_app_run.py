"""Running from the designer: the bot runs in a child process; the canvas shows the running
node and each node's result and duration; the log and variables panels fill; breakpoints,
step and continue; run from a node with inputs; a run whose process dies; the run history."""

from __future__ import annotations

from bots import write_bot


def chain_bot(folder, name="chain", extra_nodes=None, extra_edges=()):
    nodes = {
        "start": {"type": "core.start"},
        "a": {"type": "core.set_variable", "params": {"name": "x", "value": "{{ x + 1 }}"}},
        "b": {"type": "core.log", "params": {"message": "x is {{ x }}"}},
        "c": {"type": "core.set_variable", "params": {"name": "x", "value": "{{ x * 10 }}"}},
        "d": {"type": "core.log", "params": {"message": "done with {{ x }}"}},
        **(extra_nodes or {}),
    }
    edges = [("start.out", "a.in"), ("a.out", "b.in"), ("b.out", "c.in"), ("c.out", "d.in"), *extra_edges]
    return write_bot(folder, name, nodes, edges, inputs={"x": {"type": "integer", "default": 1}},
                     outputs={"x": {"type": "integer"}},
                     layout={"main": {"nodes": {"start": [0, 0], "a": [220, 0], "b": [440, 0], "c": [660, 0],
                                                "d": [880, 0]}}})


def state(win, node):
    item = win.scenes["main"].nodes[node]
    return item.state


def test_run_shows_node_states_log_and_history(win, qtbot, sample):
    assert win.open_path(str(sample))
    with qtbot.waitSignal(win.run.finished, timeout=60_000) as done:
        win.a_run.trigger()
        assert win.run.running and not win.a_run.isEnabled() and win.a_stop.isEnabled()
    assert done.args[0] == "succeeded"
    for node in ("start", "read", "each", "check", "count", "write_review", "summary", "report"):
        assert state(win, node) == "succeeded", node
        assert win.scenes["main"].nodes[node].duration is not None
    log = win.log.toPlainText()
    assert "invoices approved" in log and "run succeeded" in log
    outputs = {win.variables.topLevelItem(i).text(0): win.variables.topLevelItem(i).text(1)
               for i in range(win.variables.topLevelItemCount())}
    assert "approved" in outputs
    assert (sample.parent / "out" / "summary.json").exists()
    # the run is in the history, with per-node timings
    hist = win.history
    qtbot.waitUntil(lambda: hist.table.rowCount() >= 1)
    assert hist.table.item(0, 2).text() == "succeeded"
    assert hist.steps.rowCount() >= 8
    nodes = {hist.steps.item(r, 1).text() for r in range(hist.steps.rowCount())}
    assert {"read", "report"} <= nodes
    assert hist.open_button.isEnabled() and not hist.resume_button.isEnabled()
    # open the bot version that ran
    hist.open_button.click()
    assert win.doc.path is None and win.doc.bot.name == "csv-report" and win.is_dirty()
    assert "read" in win.doc.flow()


def test_breakpoint_step_continue(win, qtbot, tmp_path):
    path = chain_bot(tmp_path)
    assert win.open_path(str(path))
    win.select_node("main", "b")
    win.a_break.trigger()
    assert "b" in win.doc.breakpoints
    with qtbot.waitSignal(win.run.event, timeout=60_000, check_params_cb=lambda ev: ev.get("event") == "paused"):
        win.a_run.trigger()
    assert win.run.paused_at == "b"
    assert state(win, "a") == "succeeded" and state(win, "b") == "paused"
    assert win.scenes["main"].nodes["b"].current
    variables = {win.variables.topLevelItem(i).text(0): win.variables.topLevelItem(i).text(1)
                 for i in range(win.variables.topLevelItemCount())}
    assert variables["x"] == "2"
    assert "paused before 'b' (breakpoint)" in win.log.toPlainText()

    with qtbot.waitSignal(win.run.event, timeout=60_000,
                          check_params_cb=lambda ev: ev.get("event") == "paused" and ev.get("node") == "c"):
        win.a_step.trigger()
    assert state(win, "b") == "succeeded" and state(win, "c") == "paused"
    assert "paused before 'c' (step)" in win.log.toPlainText()

    with qtbot.waitSignal(win.run.finished, timeout=60_000) as done:
        win.a_continue.trigger()
    assert done.args[0] == "succeeded"
    assert [state(win, n) for n in "abcd"] == ["succeeded"] * 4
    assert "done with 20" in win.log.toPlainText()


def test_run_from_a_node_with_inputs(win, qtbot, tmp_path):
    path = chain_bot(tmp_path)
    assert win.open_path(str(path))
    win.select_node("main", "c")
    win.ask_inputs = lambda declared, start_at=None: {"x": 7} if start_at == "c" and "x" in declared else None
    with qtbot.waitSignal(win.run.finished, timeout=60_000) as done:
        win.a_run_from.trigger()
    assert done.args[0] == "succeeded"
    assert state(win, "a") is None and state(win, "b") is None
    assert state(win, "c") == "succeeded" and state(win, "d") == "succeeded"
    assert "done with 70" in win.log.toPlainText()


def test_a_run_whose_process_dies_is_reported_and_the_designer_stays_up(win, qtbot, tmp_path):
    path = chain_bot(tmp_path, "dies", {"boom": {"type": "uitest.die"}}, [("d.out", "boom.in")])
    assert win.open_path(str(path))
    with qtbot.waitSignal(win.run.finished, timeout=60_000) as done:
        win.a_run.trigger()
    assert done.args[0] == "crashed"
    level, text = win.messages[-1]
    assert level == "error" and "stopped unexpectedly" in text and "killed" in text
    assert win.banner.isVisibleTo(win)
    assert state(win, "d") == "succeeded"
    assert state(win, "boom") == "cancelled"  # was running when the process died
    # the designer carries on: edit and run again
    win.doc.undo.push(__import__("botloom.app.commands", fromlist=["x"]).RemoveItems(win.doc, "main", ["boom"]))
    with qtbot.waitSignal(win.run.finished, timeout=60_000) as again:
        win.a_run.trigger()
    assert again.args[0] == "succeeded"
    # the history says the first run crashed; it can be resumed from there
    win.show_history()
    hist = win.history
    qtbot.waitUntil(lambda: hist.table.rowCount() == 2)
    states = sorted(hist.table.item(r, 2).text() for r in range(2))
    assert states == ["crashed", "succeeded"]
    row = next(r for r in range(2) if hist.table.item(r, 2).text() == "crashed")
    hist.table.selectRow(row)
    assert hist.resume_button.isEnabled()


def test_history_shows_screenshots_inline(win, qtbot, tmp_path):
    path = write_bot(tmp_path, "shots", {"start": {"type": "core.start"},
                                         "shot": {"type": "uitest.screenshot", "params": {"name": "screen.png"}}},
                     [("start.out", "shot.in")])
    assert win.open_path(str(path))
    with qtbot.waitSignal(win.run.finished, timeout=60_000) as done:
        win.a_run.trigger()
    assert done.args[0] == "succeeded", win.log.toPlainText()
    assert "kept screenshot" in win.log.toPlainText()
    qtbot.waitUntil(lambda: win.history.table.rowCount() == 1)
    images = [w for w in win.history.artifacts.children() if w.objectName() == "artifact-image"]
    assert images and images[0].pixmap().width() == 40


def test_a_bot_with_problems_does_not_start(win, qtbot, tmp_path):
    path = write_bot(tmp_path, "bad", {"start": {"type": "core.start"}, "say": {"type": "core.log"}},
                     [("start.out", "say.in")])
    assert win.open_path(str(path))
    assert not win.run_bot()
    assert "problem" in win.messages[-1][1] and not win.run.running


def test_runs_started_from_the_designer_are_recorded_as_designer_runs(win, qtbot, tmp_path):
    path = chain_bot(tmp_path, "trig")
    assert win.open_path(str(path))
    assert win.run.argv(path)[-2:] == ["--trigger", "designer"]
    with qtbot.waitSignal(win.run.finished, timeout=60_000) as done:
        win.a_run.trigger()
    assert done.args[0] == "succeeded"
    from botloom.runner.store import RunStore

    store = RunStore()
    try:
        rows = store.conn.execute("SELECT trigger FROM runs WHERE bot_name = 'trig'").fetchall()
    finally:
        store.close()
    assert [tuple(r) for r in rows] == [("designer",)]
    hist = win.history
    qtbot.waitUntil(lambda: hist.table.rowCount() == 1)
    assert hist.table.horizontalHeaderItem(5).text() == "Trigger" and hist.table.item(0, 5).text() == "designer"


def subflow_bot(folder):
    sub = {"nodes": {"start": {"type": "core.start"},
                     "double": {"type": "core.set_variable", "params": {"name": "y", "value": "{{ n * 2 }}"}},
                     "say": {"type": "core.log", "params": {"message": "y is {{ y }}"}}},
           "edges": [{"from": "start.out", "to": "double.in"}, {"from": "double.out", "to": "say.in"}],
           "inputs": {"n": {"type": "integer"}}, "variables": {"y": {"type": "integer", "default": 0}}}
    nodes = {"start": {"type": "core.start"},
             "call": {"type": "core.call_subflow", "params": {"subflow": "twice", "inputs": {"n": 21}}},
             "done": {"type": "core.log", "params": {"message": "back in main"}},
             "say": {"type": "core.log", "params": {"message": "main's own say"}}}
    return write_bot(folder, "subs", nodes, [("start.out", "call.in"), ("call.out", "done.in"), ("done.out", "say.in")],
                     subflows={"twice": sub})


def test_breakpoint_on_a_node_of_a_subflow(win, qtbot, tmp_path):
    path = subflow_bot(tmp_path)
    assert win.open_path(str(path))
    win.open_flow("twice")
    win.select_node("twice", "say")
    win.a_break.trigger()
    assert win.doc.has_breakpoint("twice", "say") and not win.doc.has_breakpoint("main", "say")
    assert win.doc.run_breakpoints() == ["twice/say"]
    win.open_flow("main")
    with qtbot.waitSignal(win.run.event, timeout=60_000, check_params_cb=lambda ev: ev.get("event") == "paused") \
            as paused:
        win.a_run.trigger()
    assert (paused.args[0]["flow"], paused.args[0]["node"], paused.args[0]["reason"]) == ("twice", "say", "breakpoint")
    assert win.run.paused_at == "say"
    # the subflow's tab shows where the run waits; main's node of the same id is not touched
    assert win.flow_name == "twice"
    assert win.scenes["twice"].nodes["say"].state == "paused" and win.scenes["twice"].nodes["say"].current
    assert win.scenes["twice"].nodes["double"].state == "succeeded"
    assert state(win, "say") is None
    variables = {win.variables.topLevelItem(i).text(0): win.variables.topLevelItem(i).text(1)
                 for i in range(win.variables.topLevelItemCount())}
    assert variables["y"] == "42"
    with qtbot.waitSignal(win.run.finished, timeout=60_000) as done:
        win.a_continue.trigger()
    assert done.args[0] == "succeeded"
    assert win.scenes["twice"].nodes["say"].state == "succeeded"
    assert state(win, "say") == "succeeded"  # main's "say" ran without pausing: the breakpoint is the subflow's
    assert "paused before 'say' in subflow 'twice' (breakpoint)" in win.log.toPlainText()
    assert win.log.toPlainText().count("paused before") == 1


def test_opening_another_bot_clears_the_last_runs_log_and_variables(win, qtbot, tmp_path):
    first = chain_bot(tmp_path, "first")
    assert win.open_path(str(first))
    with qtbot.waitSignal(win.run.finished, timeout=60_000):
        win.a_run.trigger()
    assert "done with 20" in win.log.toPlainText() and win.variables.topLevelItemCount() > 0
    assert win.open_path(str(chain_bot(tmp_path, "second")))
    assert "done with" not in win.log.toPlainText()  # that was the first bot's run
    assert win.variables.topLevelItemCount() == 0


def test_f5_on_a_bot_with_problems_does_not_save_it(win, qtbot, tmp_path):
    """The problems are shown before anything is saved: the file on disk stays as it was."""
    path = chain_bot(tmp_path, "keep")
    assert win.open_path(str(path))
    before = path.read_text(encoding="utf-8")
    from botloom.app import commands

    win.doc.undo.push(commands.SetParam(win.doc, "main", "b", "message", None))  # a required one emptied
    assert win.is_dirty() and [p for p in win.doc.problems() if p.severity == "error"]
    assert not win.run_bot()
    assert "problem" in win.messages[-1][1] and not win.run.running
    assert path.read_text(encoding="utf-8") == before and win.is_dirty()


def test_a_failed_node_says_its_error_once_and_on_the_canvas(win, qtbot, tmp_path):
    path = write_bot(tmp_path, "boom", {"start": {"type": "core.start"},
                                        "fail": {"type": "core.fail", "params": {"message": "the total is negative"}}},
                     [("start.out", "fail.in")])
    assert win.open_path(str(path))
    with qtbot.waitSignal(win.run.finished, timeout=60_000) as done:
        win.a_run.trigger()
    assert done.args[0] == "failed"
    qtbot.wait(200)  # the child's last stderr lines
    log = win.log.toPlainText()
    assert log.count("the total is negative") == 1, log
    assert "run failed in" in log and "(the error above)" in log
    item = win.scenes["main"].nodes["fail"]
    assert item.state == "failed" and "Last run:" in item.toolTip() and "the total is negative" in item.toolTip()
    win.a_run.trigger()  # a new run starts clean
    assert "Last run:" not in item.toolTip()
    with qtbot.waitSignal(win.run.finished, timeout=60_000):
        pass


def test_f5_asks_for_the_declared_inputs_checks_them_and_remembers_them(win, qtbot, tmp_path):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from botloom.app.runform import RunForm

    path = chain_bot(tmp_path)
    assert win.open_path(str(path))
    win.ask_inputs = win.real_ask_inputs
    seen = []

    def fill(text: str, then_fix: str | None = None) -> None:
        form = QApplication.activeModalWidget()
        assert isinstance(form, RunForm)
        field = form.editors["x"]
        field.setText(text)
        form._accept()
        if then_fix is not None:  # the form stayed open and said why
            seen.append(form.errors["x"].text())
            field.setText(then_fix)
            form._accept()

    QTimer.singleShot(200, lambda: fill("seven", then_fix="3"))
    with qtbot.waitSignal(win.run.finished, timeout=60_000) as done:
        win.a_run.trigger()
    assert done.args[0] == "succeeded"
    assert seen and seen[0].startswith("not ")  # "seven" is no integer: said, and nothing ran yet
    assert "done with 40" in win.log.toPlainText()  # x = 3, then +1, then *10

    remembered = []
    QTimer.singleShot(200, lambda: (remembered.append(QApplication.activeModalWidget().editors["x"].text()),
                                    QApplication.activeModalWidget().reject()))
    win.a_run.trigger()
    assert remembered == ["3"]  # the last value is offered again; cancelling runs nothing
    assert not win.run.running
