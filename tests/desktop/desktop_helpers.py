"""Helpers for the desktop tests: write a bot file, run it durably (store, journal,
artifacts) through the service the CLI uses, read its artifacts."""

from __future__ import annotations

import json
from pathlib import Path

from botloom.runner import service
from botloom.runner.engine import EventLog


def write_bot(folder: Path, name: str, nodes: dict, edges: list, settings: dict | None = None, **top) -> Path:
    nodes = {"start": {"type": "core.start"}, **nodes}
    data = {"format": 1, "name": name, **top, "nodes": nodes,
            "edges": [{"from": a if "." in a else f"{a}.out", "to": b if "." in b else f"{b}.in"} for a, b in edges]}
    if settings is not None:
        data["settings"] = {"desktop": settings}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.bot.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def chain(*ids: str) -> list[tuple[str, str]]:
    return [("start", ids[0]), *zip(ids, ids[1:])]


def run_bot(path: Path, inputs: dict | None = None):
    log = EventLog()
    result = service.start_run(path, inputs or {}, listeners=[log])
    return result, log


def messages(log: EventLog) -> list[str]:
    return [e.message for e in log.of("log")]


def artifacts(log: EventLog, kind: str | None = None) -> list[Path]:
    return [Path(e.path) for e in log.of("artifact") if kind is None or e.artifact_kind == kind]


def outputs(log: EventLog, node: str) -> dict:
    done = [e for e in log.of("node_finished") if e.node == node]
    assert done, f"node {node} did not finish"
    return done[-1].outputs
