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


def start_recorder(images: Path, *extra: str):
    """`botloom record-desktop --events jsonl` in its own process, once it is listening."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "botloom.runner.cli", "record-desktop", "--events", "jsonl",
                             "--images", str(images), *extra], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    first = json.loads(proc.stdout.readline())
    assert first == {"event": "ready"}, first
    return proc


def stop_recorder(proc) -> list:
    """Stop a recorder started with :func:`start_recorder`: its final steps."""
    from botloom.runner.sdk import recording

    try:
        proc.stdin.write("stop\n")
        proc.stdin.flush()
        events = [json.loads(line) for line in proc.stdout]
    finally:
        proc.wait(60)
    assert events and events[-1]["event"] == "done", events[-1:]
    return [recording.Step.from_json(s) for s in events[-1]["steps"]]
