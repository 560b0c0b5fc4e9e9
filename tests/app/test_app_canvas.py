"""The canvas, driven as a person would: drop nodes from the palette, connect ports by
dragging (and see an incompatible connection refused, with the reason), move, select, delete,
duplicate, undo and redo, zoom, fit, snap, arrange, sticky notes and subflow tabs."""

from __future__ import annotations

import warnings

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from app_helpers import click, double_click, mouse_drag, port_pos
from bots import write_bot
from botloom.runner.botfile.model import Edge


def drop_from_palette(win, type_id: str, at: QPoint) -> str:
    """Drag a palette entry onto the canvas. A real drag (QDrag.exec) runs a nested event loop
    that offscreen Qt cannot finish, so the test takes the palette's own drag data
    (``PaletteTree.mimeData``) and delivers the drag-enter and drop events the viewport would
    receive: the same handlers (``FlowView.dragEnterEvent``/``dropEvent``) run."""
    palette = win.palette
    item = palette.items[type_id]
    mime: QMimeData = palette.tree.mimeData([item])
    vp = win.view.viewport()
    before = set(win.doc.flow(win.flow_name).node_ids())
    with warnings.catch_warnings():  # the QPoint constructor is the one PySide6 offers; it warns
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(at, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(vp, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(at), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(vp, drop)
    (new,) = set(win.doc.flow(win.flow_name).node_ids()) - before
    return new


def test_drop_connect_undo_redo(win, qtbot, tmp_path):
    win.new_bot()
    assert win.doc.flow().node_ids() == ["start"]
    win.view.reset_zoom()
    win.view.centerOn(300, 100)
    log_id = drop_from_palette(win, "core.log", win.view.mapFromScene(QPointF(340, 40)))
    assert log_id == "log"
    assert win.doc.flow().node("log").type == "core.log"
    assert win.a_undo.text() == "&Undo Add 'Log message'"

    # connect start.out -> log.in by dragging from port to port
    scene = win.scene
    mouse_drag(win.view, port_pos(scene, "start", "out", "out"), port_pos(scene, "log", "in", "in"))
    assert Edge("start", "out", "log", "in") in win.doc.flow().edges()
    assert win.a_undo.text() == "&Undo Connect start.out to log.in"

    # undo twice: no edge, no node; redo brings both back
    qtbot.keyClick(win.view, Qt.Key_Z, Qt.ControlModifier)  # the shortcut, as a person presses it
    assert win.doc.flow().edges() == []
    win.a_undo.trigger()
    assert "log" not in win.doc.flow()
    assert "log" not in scene.nodes
    win.a_redo.trigger()
    qtbot.keyClick(win.view, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert Edge("start", "out", "log", "in") in win.doc.flow().edges()
    assert scene.edge_items[Edge("start", "out", "log", "in")].path().length() > 0


def test_incompatible_connection_is_refused_with_the_reason(win, qtbot, tmp_path):
    path = write_bot(tmp_path, "types", {
        "start": {"type": "core.start"},
        "list": {"type": "files.list", "params": {"folder": "."}},
        "wait": {"type": "core.delay", "params": {"seconds": 1}},
        "say": {"type": "core.log", "params": {"message": "x"}},
    }, [("start.out", "list.in"), ("list.out", "wait.in"), ("wait.out", "say.in")],
        layout={"main": {"nodes": {"start": [0, 0], "list": [240, 0], "wait": [480, 0], "say": [720, 0]}}})
    assert win.open_path(str(path))
    win.view.reset_zoom()
    win.view.centerOn(400, 60)
    scene = win.scene
    hints = []
    scene.connectionHint.connect(hints.append)
    refused = []
    scene.connectionRefused.connect(refused.append)
    # files.list gives a list of paths; the delay's 'seconds' takes a number
    edges_before = win.doc.flow().edges()
    mouse_drag(win.view, port_pos(scene, "list", "out", "paths"), port_pos(scene, "wait", "in", "seconds"))
    assert win.doc.flow().edges() == edges_before
    assert refused and "type mismatch" in refused[-1] and "seconds" in refused[-1].lower()
    assert any("type mismatch" in h for h in hints)  # said while hovering, before the drop
    assert "Not connected: type mismatch" in win.messages[-1][1]
    # a control port cannot feed a value
    reason = scene.connect_ports(scene.nodes["wait"].port("out", "out"), scene.nodes["say"].port("in", "message"))
    assert "control port" in reason
    # a control port leads to one node
    reason = scene.connect_ports(scene.nodes["start"].port("out", "out"), scene.nodes["say"].port("in", "in"))
    assert "already leads to 'list'" in reason
    # a compatible data connection is made
    mouse_drag(win.view, port_pos(scene, "list", "out", "count"), port_pos(scene, "wait", "in", "seconds"))
    assert Edge("list", "count", "wait", "seconds") in win.doc.flow().edges()


def test_move_select_delete_duplicate(win, qtbot, sample):
    assert win.open_path(str(sample))
    win.view.reset_zoom()
    scene, view = win.scene, win.view
    item = scene.nodes["report"]
    x0, y0 = win.doc.flow().position("report")
    view.centerOn(item)
    start = item.scenePos() + QPointF(60, 10)  # on the header, away from the ports
    mouse_drag(view, start, start + QPointF(93, 47))
    x, y = win.doc.flow().position("report")
    assert (x, y) == (x0 + 100, y0 + 40)  # moved by the mouse and snapped to the 20 px grid
    assert win.a_undo.text() == "&Undo Move 'Report'"
    win.a_undo.trigger()
    assert win.doc.flow().position("report") == (x0, y0)
    assert (item.x(), item.y()) == (x0, y0)

    # rubber-band selection of the first two nodes
    both = scene.nodes["start"].sceneBoundingRect().united(scene.nodes["read"].sceneBoundingRect())
    view.centerOn(both.center())
    mouse_drag(view, both.topLeft() - QPointF(20, 20), both.bottomRight() + QPointF(4, 4))
    assert scene.selected_node_ids() == ["read", "start"]

    # the start node stays; the other one goes, with its edges, and comes back on undo
    edges_before = win.doc.flow().edges()
    win.a_delete.trigger()
    assert "read" not in win.doc.flow() and "start" in win.doc.flow()
    assert win.a_undo.text() == "&Undo Delete 'Read invoices'"
    win.a_undo.trigger()
    assert win.doc.flow().edges() == edges_before

    scene.select_nodes(["check", "queue"])
    new = win.duplicate()
    assert sorted(new) == ["check_2", "queue_2"]
    assert Edge("check_2", "true", "queue_2", "in") in win.doc.flow().edges()
    assert win.doc.flow().node("check_2").params == win.doc.flow().node("check").params

    # click an edge and delete it
    e = Edge("summary", "out", "report", "in")
    path = scene.edge_items[e].path()
    scene.clearSelection()
    view.centerOn(path.pointAtPercent(0.5))
    click(view, path.pointAtPercent(0.5))
    assert scene.selected_edges() == [e]
    win.a_delete.trigger()
    assert e not in win.doc.flow().edges()
    assert win.a_undo.text() == "&Undo Delete 1 connection"


def test_zoom_fit_snap_layout_notes_subflows(win, qtbot, sample, monkeypatch):
    assert win.open_path(str(sample))
    view = win.view
    view.reset_zoom()
    win.a_zoom_in.trigger()
    assert view.zoom_level() > 1.0
    win.a_zoom_out.trigger()
    win.a_zoom_out.trigger()
    assert view.zoom_level() < 1.0
    win.a_fit.trigger()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(win.scene.nodes["start"].sceneBoundingRect())
    # the whole flow, unless that needs a zoom where labels cannot be read: then from its start
    assert (visible.contains(win.scene.nodes["report"].sceneBoundingRect())
            or abs(view.zoom_level() - view.MIN_FIT_ZOOM) < 1e-6)

    # a messy graph: everything at the origin; arranging spreads it left to right along the flow
    for nid in win.doc.flow().node_ids():
        win.doc.move("main", nid, (0, 0))
    win.a_layout.trigger()
    pos = win.doc.flow().position
    assert pos("start")[0] < pos("read")[0] < pos("each")[0] < pos("count")[0] < pos("report")[0]
    assert len({pos(n) for n in win.doc.flow().node_ids()}) == len(win.doc.flow().node_ids())
    assert win.a_undo.text() == "&Undo Arrange automatically"

    # sticky notes: add, edit, delete, undo
    nid = win.add_note("Checks the totals")
    assert nid == "note1" and win.doc.note("main", "note1").text == "Checks the totals"
    monkeypatch.setattr(win, "ask_text", lambda *a, **k: "Checks the totals twice")
    win.view.centerOn(win.scene.notes["note1"])  # placed beside the nodes, maybe below the view
    double_click(win.view, win.scene.notes["note1"].sceneBoundingRect().center())
    assert win.doc.note("main", "note1").text == "Checks the totals twice"
    win.scene.clearSelection()
    win.scene.notes["note1"].setSelected(True)
    win.a_delete.trigger()
    assert "note1" not in win.scene.notes
    win.a_undo.trigger()
    assert "note1" in win.scene.notes

    # subflows open in their own tab
    assert win.add_subflow("notify") == "notify"
    assert win.tabs.count() == 2 and win.flow_name == "notify"
    assert win.doc.flow("notify").node_ids() == ["start"]
    win.tabs.setCurrentIndex(0)
    call = win.add_node_at_center("core.call_subflow")
    win.doc.set_param("main", call, "subflow", "notify")
    win.tabs.setCurrentIndex(1)
    win._close_tab(1)
    assert win.tabs.count() == 1
    double_click(win.view, win.scene.nodes[call].scenePos() + QPointF(60, 10))
    assert win.flow_name == "notify"


def test_palette_search_tooltip_and_packs_installed_later(win, registry, qtbot):
    pal = win.palette
    pal.search.setText("locate picture")  # an alias
    assert pal.visible_types() == ["uitest.find_image"]
    pal.search.setText("csv")
    assert {"data.read_csv", "data.write_csv"} <= set(pal.visible_types())
    pal.search.setText("response")  # words of a description
    assert "http.request" in pal.visible_types()
    pal.search.clear()
    assert "Parameters" in pal.items["core.log"].toolTip(0)
    # a pack installed later shows up by re-reading the registry: no designer code knows it
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data" / "packs"))
    try:
        import botloom_demo_pack
    finally:
        sys.path.pop(0)
    from botloom.runner.sdk.registry import Registry

    reg = Registry()
    for pack in registry.packs.values():
        reg.add_pack(pack)
    reg.add_pack(botloom_demo_pack.pack())
    pal.registry = reg
    pal.reload()
    assert "demo.shout" in pal.items
    assert pal.items["demo.shout"].parent().text(0) == "Demo"


def test_a_node_added_from_the_palette_goes_beside_the_selected_one_and_is_connected(win, qtbot):
    win.new_bot()
    flow = win.scene.flow
    win.scene.select_nodes(["start"])
    first = win.add_node_at_center("core.log")
    sx, sy = flow.position("start")
    fx, fy = flow.position(first)
    assert fx > sx + 150 and fy == sy  # to the right, on the same row
    assert ("start", "out", first, "in") in [(e.source, e.source_port, e.target, e.target_port) for e in flow.edges()]
    second = win.add_node_at_center("core.set_variable")  # the new node is selected: the chain grows
    assert flow.position(second)[0] > fx
    assert (first, "out", second, "in") in [(e.source, e.source_port, e.target, e.target_port) for e in flow.edges()]
    win.a_undo.trigger()  # one step: the node and its connection
    assert second not in flow and not [e for e in flow.edges() if e.source == first]

    win.scene.select_nodes(["start"])  # its exit is taken now: placed beside, not connected, not on top
    third = win.add_node_at_center("core.log")
    assert not [e for e in flow.edges() if e.target == third]
    positions = [flow.position(n) for n in flow.specs()]
    assert len(set(positions)) == len(positions)
    win.scene.clearSelection()
    a, b = win.add_node_at_center("core.log"), win.add_node_at_center("core.log")
    win.scene.clearSelection()
    c = win.add_node_at_center("core.log")
    assert len({flow.position(n) for n in (a, b, c)}) == 3
