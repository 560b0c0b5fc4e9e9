"""Automatic layout of a flow: readable layers from left to right along the control edges.

The Sugiyama method (grandalf): each node goes into a layer (a column) after every node that
leads to it; the edges that return to a loop node are set aside first, so a loop body is laid
out after its loop and the loop's "done" branch goes on beside it. An edge that spans several
columns gets a placeholder in each column it crosses, and the order of the nodes within each
column is chosen to cross as few edges as possible: long edges run in a free lane between
nodes instead of through them, and the branches of a condition sit one above the other.
A long flow is wrapped like lines of text: beyond seven columns the columns are cut into
bands of at most six, each band below the previous one, so that the arranged flow fits a
screen at a readable zoom instead of one row of tiny boxes. Separate groups of nodes (nothing
connects them) are laid out one below the other, the one with the start node first. Pure
function of the graph: no Qt.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # networkx loads with it: only when a bot is open
    from botloom.runner.graph import Flow


NODE_WIDTH = 168
COLUMN = 280  # one column per layer: a node and the gap its edges need
ROW_GAP = 50  # between two nodes of a column
GROUP_GAP = 120  # between separate groups
GRID = 20
WRAP_AFTER = 7  # columns a flow may have before it is wrapped into bands
BAND = 6  # at most this many columns per band
BAND_GAP = 140  # between two bands: room for the edge that returns to the left


class _Box:
    """grandalf's view of a node: ``w`` across a layer, ``h`` along the flow (its layers run
    top to bottom; the result is turned to run left to right)."""

    def __init__(self, height: float):
        self.w = height
        self.h = NODE_WIDTH
        self.xy = (0.0, 0.0)


def layout(flow: Flow, heights: dict[str, float] | None = None) -> dict[str, tuple[float, float]]:
    """New positions (top-left corners, on the 20 px grid) for every node of ``flow``."""
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    heights = heights or {}
    ids = flow.node_ids()
    if not ids:
        return {}
    vertices = {}
    for nid in ids:
        vertices[nid] = Vertex(nid)
        vertices[nid].view = _Box(float(heights.get(nid, 100)))
    pairs = sorted({(e.source, e.target) for e in flow.edges()
                    if e.source in vertices and e.target in vertices and e.source != e.target})
    graph = Graph(list(vertices.values()), [Edge(vertices[a], vertices[b]) for a, b in pairs])
    groups = sorted(graph.C, key=lambda g: (not any(v.data == "start" for v in g.sV),
                                            min(flow.position(v.data)[1] for v in g.sV),
                                            min(v.data for v in g.sV)))
    positions: dict[str, tuple[float, float]] = {}
    top = 0.0
    for group in groups:
        members = list(group.sV)
        if len(members) == 1:
            placed = {members[0].data: (0.0, 0.0)}
        else:
            sugiyama = SugiyamaLayout(group)
            sugiyama.xspace, sugiyama.yspace = ROW_GAP, COLUMN - NODE_WIDTH
            starts = [v for v in members if v.data == "start"]
            roots = starts or [v for v in members if not any(e.v[1] is v for e in v.e)] or members[:1]
            sugiyama.init_all(roots=sorted(roots, key=lambda v: v.data))
            sugiyama.draw(8)
            placed = {}
            for v in members:  # grandalf gives centres, layers along y: turn left to right
                across, along = v.view.xy
                placed[v.data] = (along - NODE_WIDTH / 2, across - v.view.w / 2)
        min_x = min(x for x, _ in placed.values())
        min_y = min(y for _, y in placed.values())
        placed = {nid: (x - min_x, y - min_y) for nid, (x, y) in placed.items()}
        bottom = top
        for nid, (x, y) in _wrap(placed, heights).items():
            px, py = _snap(x), _snap(y + top)
            positions[nid] = (px, py)
            bottom = max(bottom, py + float(heights.get(nid, 100)))
        top = _snap(bottom + GROUP_GAP)
    return positions


def _wrap(placed: dict[str, tuple[float, float]], heights: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Cut a wide layout into bands of columns stacked top to bottom (even bands: 12 columns
    make two of six, 9 make five and four)."""
    columns = sorted({round(x / COLUMN) for x, _ in placed.values()})
    if len(columns) <= WRAP_AFTER:
        return placed
    bands = math.ceil(len(columns) / BAND)
    per_band = math.ceil(len(columns) / bands)
    band_of = {col: i // per_band for i, col in enumerate(columns)}
    first_col = {}
    for col in columns:
        first_col.setdefault(band_of[col], col)
    band_top, band_rows = {}, {}
    for nid, (x, y) in placed.items():
        band = band_of[round(x / COLUMN)]
        band_rows.setdefault(band, []).append((y, y + float(heights.get(nid, 100))))
    offset = 0.0
    for band in range(bands):
        rows = band_rows.get(band, [(0.0, 0.0)])
        band_top[band] = offset - min(a for a, _ in rows)
        offset += max(b for _, b in rows) - min(a for a, _ in rows) + BAND_GAP
    out = {}
    for nid, (x, y) in placed.items():
        col = round(x / COLUMN)
        band = band_of[col]
        out[nid] = (x - first_col[band] * COLUMN, y + band_top[band])
    return out


def _snap(value: float) -> float:
    return float(round(value / GRID) * GRID)


def place_notes(notes: list[tuple[str, tuple[float, float], tuple[float, float]]]) -> dict:
    """Sticky notes after an arrangement: in a row above the flow (which starts at y 0), in
    their old left-to-right order. ``notes``: (id, (x, y), (width, height)); gives id ->
    ((old x, old y), (new x, new y))."""
    out, x = {}, 0.0
    tallest = max((h for _, _, (_, h) in notes), default=0.0)
    for nid, pos, (width, height) in sorted(notes, key=lambda n: (n[1][0], n[1][1], n[0])):
        out[nid] = (tuple(pos), (_snap(x), _snap(-tallest - 40)))
        x += width + 20
    return out
