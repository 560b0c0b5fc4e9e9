"""`botloom models ...` and `botloom doctor` in a child process, as a user runs them."""

from __future__ import annotations

import csv
import json

from ai_examples import generate


def _csv(path, texts, labels):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["message", "intent"])
        w.writerows(zip(texts, labels))
    return path


def test_models_commands_end_to_end(cli, tmp_path):
    texts, labels = generate(40, seed=1)
    data = _csv(tmp_path / "examples.csv", texts, labels)
    held = tmp_path / "held.csv"
    proc = cli("models", "train", "tickets", "--csv", data, "--text-column", "message", "--label-column", "intent",
               "--held-out-csv", held, "--json")
    assert proc.returncode == 0, proc.stderr
    trained = json.loads(proc.stdout)
    assert trained["version"] == "1" and trained["activated"]
    evaluated = json.loads(cli("models", "evaluate", "tickets", "--csv", held, "--text-column", "message",
                               "--label-column", "intent", "--json").stdout)
    assert evaluated["accuracy"] == trained["metrics"]["accuracy"] and evaluated["n"] == trained["metrics"]["n"]
    assert cli("models", "train", "tickets", "--csv", data, "--text-column", "message", "--label-column", "intent",
               "--activate", "always").returncode == 0
    listed = cli.json("models", "list")
    assert listed[0]["name"] == "tickets" and listed[0]["versions"] == ["1", "2"] and listed[0]["active"] == "2"
    shown = cli.json("models", "show", "tickets@1")
    assert shown["version"] == "1" and not shown["active"] and shown["limitations"]
    assert "rolled back to version 1" in cli("models", "rollback", "tickets").stdout
    assert cli("models", "activate", "tickets", "2").returncode == 0
    archive = tmp_path / "t.botmodel"
    assert cli("models", "export", "tickets@2", archive).returncode == 0
    imported = cli.json("models", "import", archive, "--name", "copy")
    assert imported == {"name": "copy", "version": "1", "active": True}
    report = cli.json("models", "drift", "tickets")
    assert report["score"] is None and "predictions recorded" in report["note"]
    assert "no open review items" in cli("models", "reviews", "tickets").stdout


def test_models_errors_are_clear(cli, tmp_path):
    proc = cli("models", "show", "nothing")
    assert proc.returncode == 2 and "no model named 'nothing'" in proc.stderr and "Traceback" not in proc.stderr
    missing = cli("models", "train", "x", "--csv", tmp_path / "none.csv")
    assert missing.returncode == 2 and "file not found" in missing.stderr
    bad = _csv(tmp_path / "bad.csv", ["a", "b"], ["x", "y"])
    cols = cli("models", "train", "x", "--csv", bad)
    assert cols.returncode == 2 and "has no column 'text'" in cols.stderr


def test_doctor_checks_report_the_cpu_provider():
    # the ai checks alone (the full `botloom doctor` also runs every other area's checks)
    from botloom.nodes.ai.doctor import checks

    by_name = {c.name: c for c in checks()}
    assert by_name["provider cpu"].ok is True and "ran a test model" in by_name["provider cpu"].detail
    assert by_name["onnxruntime"].ok is True and by_name["training"].ok is True
    assert by_name["provider cuda"].ok in (True, False, None)  # reported either way, with a fix when absent
