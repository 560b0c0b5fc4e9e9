"""The two end-to-end samples, run as a user runs them (the real `botloom`, real files, a real
store): accounts payable (a clear invoice goes straight to the ledger, a doubtful one waits for
review, a duplicate is caught) and support triage (a trained model, routine tickets answered from
a template, the rest reviewed, the corrections training the next version)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

BOTS = Path(__file__).resolve().parents[1] / "bots"


def _copy(name: str, work: Path) -> Path:
    folder = work / name
    shutil.copytree(BOTS / name, folder, ignore=shutil.ignore_patterns("out"))
    return folder


def _open_tasks(cli) -> list[dict]:
    return cli.json("tasks", "list")


def _ledger(path: Path) -> list[dict]:
    from openpyxl import load_workbook

    sheet = load_workbook(path, read_only=True)["Ledger"]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_accounts_payable_straight_through_review_and_duplicate(cli, work):
    folder = _copy("accounts-payable", work)
    cli.cwd = folder
    first = cli("run", folder / "accounts-payable.bot.json")
    assert first.returncode == 3, first.stdout + first.stderr  # suspended at a review; the process exited
    # the clear invoice went straight through: booked, moved to done
    assert [r["invoice_number"] for r in _ledger(folder / "out/ledger.xlsx")] == ["INV-1001"]
    assert _ledger(folder / "out/ledger.xlsx")[0]["route"] == "straight"
    assert (folder / "out/done/INV-1001-northwind.txt").exists()
    # the same invoice number sent again is caught as a duplicate and waits for a person
    (task,) = _open_tasks(cli)
    shown = cli.json("tasks", "show", task["id"])
    assert "duplicate invoice_number 'INV-1001'" in shown["form"]["instructions"]
    rejected = cli("tasks", "complete", task["id"], "reject", "--by", "ap-clerk")
    assert rejected.returncode == 3, rejected.stdout + rejected.stderr  # on to the next doubtful one
    assert (folder / "out/failed/INV-1001-resent-northwind.txt").exists()
    # the large invoice waits for review; the reviewer corrects the invoice date and approves
    (task,) = _open_tasks(cli)
    shown = cli.json("tasks", "show", task["id"])
    assert "total > 5000" in shown["form"]["instructions"]
    assert shown["form"]["document"].endswith("INV-2002-contoso.pdf") and len(shown["form"]["pages"]) == 1
    assert {f["name"]: f["box"] for f in shown["form"]["fields"]}["total"]  # the field's box on the page image
    done = cli("tasks", "complete", task["id"], "approve", "--set", "invoice_date=2026-11-06", "--by", "ap-lead")
    assert done.returncode == 0, done.stdout + done.stderr
    ledger = _ledger(folder / "out/ledger.xlsx")
    assert [(r["invoice_number"], r["route"], r["by"]) for r in ledger] == [
        ("INV-1001", "straight", "bot"), ("INV-2002", "review", "ap-lead")]
    assert ledger[1]["invoice_date"] == "2026-11-06" and str(ledger[1]["total"]) == "8806.00"
    assert sorted(p.name for p in (folder / "out/done").iterdir()) == ["INV-1001-northwind.txt",
                                                                      "INV-2002-contoso.pdf"]
    assert not list((folder / "inbox").iterdir())
    # the reviewer's correction is a labelled example
    from botloom.runner import paths
    from botloom.runner.store import examples
    from botloom.runner.store.db import connect

    conn = connect(paths.store_path())
    try:
        changed = [(e["field"], e["original"], e["corrected"]) for e in examples.examples(conn) if e["changed"]]
    finally:
        conn.close()
    assert changed == [("invoice_date", "2026-11-05", "2026-11-06")]


def test_support_triage_answers_routine_tickets_and_reviews_train_the_model(cli, work):
    pytest.importorskip("sklearn")
    folder = _copy("support-triage", work)
    cli.cwd = folder
    trained = cli("models", "train", "support-triage", "--csv", folder / "training.csv")
    assert trained.returncode == 0, trained.stderr
    first = cli("run", folder / "support-triage.bot.json")
    assert first.returncode == 3, first.stdout + first.stderr
    with open(folder / "out/answered.csv", newline="", encoding="utf-8") as f:
        answered = list(csv.DictReader(f))
    assert [(r["ticket_id"], r["category"]) for r in answered] == [
        ("T-101", "password_reset"), ("T-102", "delivery_status"), ("T-103", "invoice_copy")]
    assert answered[0]["reply"].startswith("Dear Ana Lopez,") and "/reset" in answered[0]["reply"]
    (task,) = _open_tasks(cli)
    shown = cli.json("tasks", "show", task["id"])
    assert shown["form"]["title"] == "Ticket T-104: Broken again"
    assert "Dana Novak wrote" in shown["form"]["instructions"]
    assert cli("tasks", "complete", task["id"], "approve", "--set", "reply=We are sorry; a new unit is on its way.",
               "--by", "agent").returncode == 3
    (task,) = _open_tasks(cli)
    assert cli.json("tasks", "show", task["id"])["form"]["title"] == "Ticket T-105: Billing"
    done = cli("tasks", "complete", task["id"], "approve", "--set", "category=complaint", "--set", "reply=Refunded.",
               "--by", "agent")
    assert done.returncode == 0, done.stdout + done.stderr
    with open(folder / "out/reviewed.csv", newline="", encoding="utf-8") as f:
        reviewed = [(r["ticket_id"], r["category"], r["by"]) for r in csv.DictReader(f)]
    assert reviewed == [("T-104", "complaint", "agent"), ("T-105", "complaint", "agent")]
    # the two reviewed tickets are labelled examples of the model: the next version trains on them
    again = cli.json("models", "train", "support-triage", "--csv", folder / "training.csv", "--from-reviews")
    assert again["sources"][-1] == "2 reviews"
    assert again["examples"]["complaint"] == 13 and again["version"] == "2"
