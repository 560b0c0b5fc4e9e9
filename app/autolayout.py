"""Automatic layout of a messy flow: layers from left to right along the control edges.

Each node goes one column to the right of the furthest node that leads to it (longest path
from the start, loop bodies drawn back to their loop node ignored); within a column, nodes are
ordered by the order their predecessors were placed, so branches stay together. A node that
nothing leads to starts in the first column, like the start node. Pure function of the graph:
no Qt.
"""

from __future__ import annotations

import networkx as nx

from botloom.runner.graph import Flow

COLUMN = 280
ROW = 150


def layout(flow: Flow, heights: dict[str, float] | None = None) -> dict[str, tuple[float, float]]:
    """New positions for every node of ``flow``."""
    heights = heights or {}
    ids = flow.node_ids()
    if not ids:
        return {}
    g = nx.DiGraph()
    g.add_nodes_from(ids)
    for e in flow.edges():
        if e.source in flow and e.target in flow and e.source != e.target:
            g.add_edge(e.source, e.target)
    roots = [n for n in ids if g.in_degree(n) == 0] or ids[:1]
    roots.sort(key=lambda n: (n != "start", flow.position(n)[1], n))
    # drop back edges (loop bodies returning to their loop) found by a DFS from the roots
    dag = nx.DiGraph()
    dag.add_nodes_from(ids)
    seen: set[str] = set()
    for root in roots + ids:
        if root in seen:
            continue
        for u, v, kind in nx.dfs_labeled_edges(g, root):
            if kind == "forward" and u != v:
                dag.add_edge(u, v)
            elif kind == "nontree" and u != v and not nx.has_path(dag, v, u):
                dag.add_edge(u, v)
        seen |= nx.descendants(g, root) | {root}
    layer: dict[str, int] = {}
    for n in nx.topological_sort(dag):
        preds = list(dag.predecessors(n))
        layer[n] = max((layer[p] + 1 for p in preds), default=0)
    columns: dict[int, list[str]] = {}
    order: dict[str, float] = {}
    for n in nx.topological_sort(dag):
        columns.setdefault(layer[n], []).append(n)
    positions: dict[str, tuple[float, float]] = {}
    for col in sorted(columns):
        members = columns[col]
        members.sort(key=lambda n: (min((order.get(p, 0) for p in dag.predecessors(n)), default=0),
                                    flow.position(n)[1], n))
        y = 0.0
        for i, n in enumerate(members):
            order[n] = i
            positions[n] = (float(col * COLUMN), y)
            y += max(ROW, heights.get(n, 100) + 40)
    return positions
