"""Copy and paste of node selections as text: JSON on the clipboard, so a selection pastes into
another bot, another designer window, or a text editor (and back).

    {"botloom": "nodes", "format": 1,
     "nodes": {"read": {"type": "data.read_csv", "version": 1, "params": {...}}},
     "edges": [{"from": "read.out", "to": "log.in"}],
     "positions": {"read": [200, 0]}}

Only the edges between copied nodes travel with them. Pasting gives nodes whose ids clash
fresh ids (``read_2``) and rewrites the edges to match.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botloom.runner.botfile.model import NODE_ID, Edge, NodeSpec

if TYPE_CHECKING:  # networkx loads with it: only when a bot is open
    from botloom.runner.graph import Flow

MARKER = "nodes"


def copy_text(flow: Flow, node_ids: list[str]) -> str:
    ids = [n for n in node_ids if n in flow]
    chosen = set(ids)
    data = {
        "botloom": MARKER, "format": 1,
        "nodes": {nid: flow.node(nid).to_json() for nid in sorted(ids)},
        "edges": [e.to_json() for e in flow.edges() if e.source in chosen and e.target in chosen],
        "positions": {nid: list(flow.position(nid)) for nid in sorted(ids)},
    }
    return json.dumps(data, ensure_ascii=False, indent=1)


def parse(text: str) -> dict | None:
    """The clipboard's nodes, or None when the text is not a Botloom selection."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("botloom") != MARKER or not isinstance(data.get("nodes"), dict):
        return None
    return data


def paste_plan(flow: Flow, data: dict, offset: tuple[float, float] = (40, 40),
               at: tuple[float, float] | None = None) -> tuple[list[tuple[NodeSpec, tuple[float, float]]], list[Edge]]:
    """The nodes (with new ids where needed) and edges a paste adds to ``flow``."""
    rename: dict[str, str] = {}
    taken = set(flow.g.nodes)
    nodes: list[tuple[NodeSpec, tuple[float, float]]] = []
    positions = data.get("positions") or {}
    raw_nodes: dict[str, Any] = data["nodes"]
    pts = [tuple(positions.get(nid, (0, 0))) for nid in raw_nodes]
    if at is not None and pts:
        min_x, min_y = min(p[0] for p in pts), min(p[1] for p in pts)
        offset = (at[0] - min_x, at[1] - min_y)
    for nid, block in raw_nodes.items():
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            continue
        if block["type"] == "core.start":
            continue  # a flow has exactly one start
        new = _fresh(nid if NODE_ID.match(nid) else "node", taken)
        taken.add(new)
        rename[nid] = new
        extra = {k: v for k, v in block.items() if k.startswith("x-")}
        spec = NodeSpec(id=new, type=block["type"], version=int(block.get("version", 1)),
                        title=str(block.get("title", "")), params=dict(block.get("params") or {}),
                        settings=dict(block.get("settings") or {}), disabled=bool(block.get("disabled", False)),
                        notes=str(block.get("notes", "")), extra=extra)
        x, y = positions.get(nid, (0, 0))
        nodes.append((spec, (float(x) + offset[0], float(y) + offset[1])))
    edges = []
    for e in data.get("edges") or []:
        try:
            s, sp = e["from"].split(".", 1)
            t, tp = e["to"].split(".", 1)
        except (KeyError, ValueError, AttributeError):
            continue
        if s in rename and t in rename:
            edges.append(Edge(rename[s], sp, rename[t], tp))
    return nodes, edges


def _fresh(base: str, taken: set) -> str:
    if base not in taken:
        return base
    stem = base.rsplit("_", 1)[0] if base.rsplit("_", 1)[-1].isdigit() else base
    n = 2
    while f"{stem}_{n}" in taken:
        n += 1
    return f"{stem}_{n}"
