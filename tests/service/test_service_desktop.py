"""Desktop bots under the service on a machine with no desktop session: the real service process,
started with no DISPLAY at all, owns a virtual display (Xvfb + openbox) at the screen size the bot
declares and runs one desktop run on it at a time."""

from __future__ import annotations

import shutil
import sqlite3
import struct
from pathlib import Path

import pytest
from bots import write_bot


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


def desktop_bot(folder: Path, name: str, screen: str) -> Path:
    return write_bot(folder, name,
                     {"start": {"type": "core.start"},
                      "shot": {"type": "desktop.screenshot", "params": {"name": "screen"}},
                      "wait": {"type": "core.delay", "params": {"seconds": 1.0}}},
                     [("start.out", "shot.in"), ("shot.out", "wait.in")],
                     settings={"desktop": {"screen": screen}})


def test_desktop_bots_run_on_the_services_own_display_one_at_a_time(service, tmp_path, monkeypatch):
    missing = [tool for tool in ("Xvfb", "openbox") if shutil.which(tool) is None]
    if missing:  # ./dev.sh installs them (installer/apt/desktop.txt): not a reason to skip quietly
        pytest.fail(f"this test needs {', '.join(missing)} (installer/apt/desktop.txt; ./dev.sh setup installs them)")
    monkeypatch.delenv("DISPLAY", raising=False)  # the service inherits no desktop session
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    svc = service({"service.max_runs": 4})
    environ = Path(f"/proc/{svc.proc.pid}/environ").read_bytes().split(b"\0")
    assert not [v for v in environ if v.startswith(b"DISPLAY=")]
    bots = [desktop_bot(tmp_path, f"desk{i}", "1024x768") for i in (1, 2)]
    ids = [svc.call("POST", "/runs", {"bot": str(b)})["run_id"] for b in bots]
    seen_busy = svc.wait_for(lambda: [d for d in svc.call("GET", "/health")["displays"] if d["busy"]],
                             what="a display in use")
    assert seen_busy[0]["virtual"] and seen_busy[0]["size"] == "1024x768"
    conn = sqlite3.connect(svc.home / "runs.sqlite")

    def ended():
        rows = conn.execute("SELECT id, state, started_at, ended_at FROM runs WHERE id IN (?, ?)", ids).fetchall()
        return rows if len(rows) == 2 and all(r[1] in ("succeeded", "failed", "crashed") for r in rows) else None

    rows = svc.wait_for(ended, timeout=120, what="both desktop runs to end")
    assert [r[1] for r in rows] == ["succeeded", "succeeded"], (rows, svc.output())
    (_, _, s1, e1), (_, _, s2, e2) = sorted(rows, key=lambda r: r[2])
    assert e1 <= s2, "two desktop runs overlapped on one display"
    for run_id in ids:
        shots = list((svc.home / "artifacts" / run_id).rglob("*.png"))
        assert len(shots) == 1 and _png_size(shots[0]) == (1024, 768)
    displays = svc.wait_for(lambda: [d for d in svc.call("GET", "/health")["displays"] if not d["busy"]],
                            what="the display to be released when the last worker ended")
    assert [(d["virtual"], d["size"]) for d in displays] == [(True, "1024x768")]  # one display, reused
