"""The web-form-entry sample bot, end to end through the CLI: an Excel sheet of expense claims
entered into the sample's own form app (whose form changes on every load), one result per row."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "bots" / "web-form-entry"


@pytest.fixture(scope="module")
def form_app():
    spec = importlib.util.spec_from_file_location("web_form_entry_app", SAMPLE / "form_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = module.FormApp(port=0).start()
    yield app
    app.stop()


def test_the_sample_bot_enters_every_row_and_records_each_outcome(cli, form_app, work):
    import openpyxl

    results = work / "results.xlsx"
    proc = cli("run", SAMPLE / "web-form-entry.bot.json", "--input", f"form_url={form_app.url}",
               "--input", f"results_file={results}", "--json", timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert '"accepted": 3' in proc.stdout and '"rejected": 2' in proc.stdout and '"failed": 1' in proc.stdout
    rows = list(openpyxl.load_workbook(results).active.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[-2:] == ("Result", "Detail")
    outcome = {row[0]: (row[-2], row[-1]) for row in body}
    assert outcome[101] == ("accepted", "Reference EXP-0001")
    assert outcome[102] == ("accepted", "Reference EXP-0002")
    assert outcome[103] == ("rejected", "Refused: amounts above 2500 EUR need a manager's approval")
    assert outcome[104] == ("rejected", "Refused: the e-mail address is not valid")
    assert outcome[105][0] == "error" and "'Marketing' is not one of its options" in outcome[105][1]
    assert outcome[106] == ("accepted", "Reference EXP-0003")
    # what the app received: every field of every entered row, from labels that moved around
    first = form_app.claims[0]
    assert {k: first[k] for k in ("employee", "email", "department", "amount", "date", "category", "receipt",
                                  "description")} == {
        "employee": "Ana Souza", "email": "ana.souza@example.com", "department": "Sales", "amount": "86.4",
        "date": "2026-10-06", "category": "meals", "receipt": "on", "description": "Client lunch, ACME"}
    assert [c["status"] for c in form_app.claims] == ["accepted", "accepted", "rejected", "rejected", "accepted"]
