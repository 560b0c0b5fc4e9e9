"""`botloom validate` sees desktop targets before any run: a target of an unknown kind, an image
file that does not exist, a point outside the screen the bot declares; each with its node and
parameter. A point relative to a window, or an expression, is not judged."""

from __future__ import annotations

import json
import subprocess
import sys


def _validate(tmp_path, nodes):
    bot = {"format": 1, "name": "lint-me", "settings": {"desktop": {"screen": "1280x800"}},
           "nodes": {"start": {"type": "core.start"}, **nodes},
           "edges": [{"from": f"{a}.out", "to": f"{b}.in"} for a, b in zip(["start", *nodes], nodes)]}
    path = tmp_path / "lint-me.bot.json"
    path.write_text(json.dumps(bot), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "botloom.runner.cli", "validate", str(path), "--json"],
                          capture_output=True, text=True)
    return done.returncode, json.loads(done.stdout or "{}"), done.stderr


def test_validate_reports_bad_desktop_targets(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "ok.png").write_bytes(b"\x89PNG")
    code, report, err = _validate(tmp_path, {
        "a": {"type": "desktop.click", "params": {"target": {"kind": "image", "image": "images/gone.png"}}},
        "b": {"type": "desktop.click", "params": {"target": {"kind": "point", "x": 1500, "y": 10}}},
        "c": {"type": "desktop.click", "params": {"target": {"kind": "shape", "x": 1}}},
        "d": {"type": "desktop.drag", "params": {"source": {"kind": "image", "image": "images/ok.png"},
                                                 "destination": {"kind": "point", "x": 5000, "y": 5, "window": "W"}}},
        "e": {"type": "desktop.click", "params": {"target": {"kind": "image", "image": "{{ inputs.image }}"}}},
    })
    assert code != 0, err
    problems = {(p.get("node"), p.get("param")): p for p in report[0]["problems"]}
    assert "does not exist" in problems[("a", "target")]["message"]
    assert "outside the 1280x800 screen" in problems[("b", "target")]["message"]
    assert "unknown kind" in problems[("c", "target")]["message"]
    assert not [k for k in problems if k[0] in ("d", "e")], problems  # relative to a window; an expression
    assert problems[("a", "target")]["severity"] == "error" and "capture the image again" in problems[("a", "target")]["fix"]
