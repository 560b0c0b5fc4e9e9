"""Arranging a flow and fitting it: layered, wrapped into bands when long, edges that go back
routed around the nodes, sticky notes moved out of the way, and a fit that stays readable."""

from __future__ import annotations

from bots import write_bot
from PySide6.QtWidgets import QApplication

from botloom.app import autolayout
from botloom.runner import botfile
from botloom.runner.graph import Bot

LOG = {"type": "core.log", "params": {"message": "x"}}


def chain_bot(tmp_path, n: int, name: str = "long"):
    nodes = {"start": {"type": "core.start"}}
    edges, prev = [], "start"
    for i in range(n):
        nodes[f"s{i}"] = dict(LOG)
        edges.append((f"{prev}.out", f"s{i}.in"))
        prev = f"s{i}"
    return write_bot(tmp_path, name, nodes, edges)


def rects(positions, heights=None):
    heights = heights or {}
    return {n: (x, y, x + autolayout.NODE_WIDTH, y + heights.get(n, 100)) for n, (x, y) in positions.items()}


def overlapping(boxes) -> list:
    items = list(boxes.items())
    return [(a, b) for i, (a, ra) in enumerate(items) for b, rb in items[i + 1:]
            if ra[0] < rb[2] and rb[0] < ra[2] and ra[1] < rb[3] and rb[1] < ra[3]]


def test_a_long_chain_wraps_into_bands_of_six_columns(tmp_path):
    flow = Bot(botfile.load(chain_bot(tmp_path, 11))).flows["main"]
    pos = autolayout.layout(flow)
    assert len(pos) == 12 and not overlapping(rects(pos))
    rows = sorted({y for _, y in pos.values()})
    assert len(rows) == 2 and rows[1] - rows[0] >= 100 + autolayout.BAND_GAP - 40
    first = [n for n in pos if pos[n][1] == rows[0]]
    assert sorted(pos[n][0] for n in first) == [i * autolayout.COLUMN for i in range(6)]
    assert pos["start"] == (0.0, 0.0) and pos["s5"] == (0.0, rows[1])  # reading order: left to right, then down
    # a short chain stays on one row
    short = autolayout.layout(Bot(botfile.load(chain_bot(tmp_path, 5, "short"))).flows["main"])
    assert len({y for _, y in short.values()}) == 1


def test_branches_and_a_loop_body_get_their_own_rows_without_overlaps(tmp_path):
    path = write_bot(tmp_path, "branchy", {
        "start": {"type": "core.start"},
        "each": {"type": "core.for_each", "params": {"items": [1, 2]}},
        "check": {"type": "core.if", "params": {"condition": "{{ true }}"}},
        "yes": dict(LOG), "no": dict(LOG), "after": dict(LOG), "done": dict(LOG),
    }, [("start.out", "each.in"), ("each.body", "check.in"), ("check.true", "yes.in"), ("check.false", "no.in"),
        ("yes.out", "after.in"), ("no.out", "after.in"), ("each.out", "done.in")])
    flow = Bot(botfile.load(path)).flows["main"]
    heights = {"each": 120, "check": 110}
    pos = autolayout.layout(flow, heights)
    assert not overlapping(rects(pos, heights))
    x = {n: p[0] for n, p in pos.items()}
    assert x["start"] < x["each"] < x["check"] < x["yes"] < x["after"] and x["yes"] == x["no"]
    assert pos["yes"][1] != pos["no"][1]  # the two branches one above the other
    assert x["done"] > x["each"]


def test_notes_go_above_the_arranged_flow_in_their_order():
    moved = autolayout.place_notes([("b", (500, 300), (200, 80)), ("a", (0, 900), (260, 120))])
    assert moved == {"a": ((0, 900), (0.0, -160.0)), "b": ((500, 300), (280.0, -160.0))}


def test_arrange_then_fit_keeps_labels_readable_and_routes_returns_around_nodes(win, tmp_path):
    assert win.open_path(str(chain_bot(tmp_path, 23, "twentyfour")))
    before = {n: (i.x(), i.y()) for n, i in win.scene.nodes.items()}
    win.a_layout.trigger()
    view, scene = win.view, win.scene
    # 24 nodes: four bands of six; fit stops at the readable zoom and shows where the flow starts
    assert len({item.pos().y() for item in scene.nodes.values()}) == 4
    view.fit_to_view()
    assert view.zoom_level() >= view.MIN_FIT_ZOOM - 1e-6
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(scene.nodes["start"].sceneBoundingRect())
    # the edges from the end of one band to the start of the next cross no node
    returns = [e for e in scene.edge_items.values() if e.routed]
    assert len(returns) == 3
    for edge in returns:
        path = edge.path()
        points = [path.pointAtPercent(i / 400) for i in range(401)]  # along the line (intersects() fills it)
        for nid, node in scene.nodes.items():
            if nid in (edge.edge.source, edge.edge.target):
                continue
            box = node.sceneBoundingRect().adjusted(4, 4, -4, -4)
            assert not any(box.contains(p) for p in points), (edge.edge, nid)
    # one undo puts everything back
    win.a_undo.trigger()
    assert {n: (i.x(), i.y()) for n, i in scene.nodes.items()} == before


def test_the_samples_are_saved_arranged():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "bots"
    for path in sorted(root.glob("*/*.bot.json")):
        bot = Bot(botfile.load(path))
        for flow in bot.flows.values():
            positions = {n: tuple(flow.position(n)) for n in flow.node_ids()}
            assert len(set(positions.values())) == len(positions), path  # no two nodes in one place
            columns = {x for x, _ in positions.values()}
            assert len(columns) <= autolayout.WRAP_AFTER, (path, len(columns))


def test_the_theme_is_chosen_in_the_view_menu_remembered_and_applied_at_once(win, qtbot, sample):
    from PySide6.QtGui import QPalette

    from botloom.app import theme

    assert win.open_path(str(sample))
    try:
        win.theme_actions["dark"].trigger()
        assert theme.is_dark() and win.settings.value("theme") == "dark"
        assert win.scene.colors.background.name() == "#1e1f24"
        assert QApplication.instance().palette().color(QPalette.Window).lightness() < 128
        shot = win.view.viewport().grab().toImage()
        assert shot.pixelColor(5, 5).lightness() < 60  # the canvas is drawn dark now, without reopening
        win.theme_actions["light"].trigger()
        assert not theme.is_dark() and win.scene.colors.background.name() == "#f6f7f9"
        assert win.view.viewport().grab().toImage().pixelColor(5, 5).lightness() > 200
        assert win.theme_actions["light"].isChecked() and not win.theme_actions["dark"].isChecked()
    finally:
        theme.set_theme("system")
