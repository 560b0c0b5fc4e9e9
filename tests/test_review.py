"""Human review: the review.task node suspends a run durably with a form, the task is answered
from the CLI (checked against the form, once), the run resumes in a new process with the answer;
deadlines; routing; the figures. Real processes, real store files, real documents."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from bots import write_bot

FIELDS = [{"name": "total", "type": "number", "value": "148.51", "confidence": 0.41, "box": [700, 760, 300, 30],
           "page": 1, "required": True},
          {"name": "vendor", "type": "string", "value": "Acme Office Supplies", "confidence": 0.93},
          {"name": "currency", "type": "string", "value": "EUR", "choices": ["EUR", "USD"]}]


def review_bot(folder: Path, out: Path, **params) -> Path:
    """start -> review -> (approve) write the answer as JSON / (reject) write 'rejected'."""
    review = {"title": "Invoice {{ 'INV-1' }}", "instructions": "Check the total.", "fields": FIELDS,
              "queue": "ap", **params}
    return write_bot(folder, "invoices", {
        "start": {"type": "core.start"},
        "review": {"type": "review.task", "params": review},
        "save": {"type": "data.write_json", "params": {"path": str(out), "data": "{{ nodes.review }}"}},
        "rejected": {"type": "files.write_text", "params": {"path": str(out), "text": "rejected"}},
    }, [("start.out", "review.in"), ("review.approve", "save.in"), ("review.out", "save.in"),
        ("review.reject", "rejected.in")])


def only_task(cli, *extra) -> dict:
    tasks = cli.json("tasks", "list", *extra)
    assert len(tasks) == 1, tasks
    return tasks[0]


def test_a_run_waits_for_review_without_a_process_and_resumes_in_a_new_one_with_the_corrections(cli, work):
    out = work / "answer.json"
    bot = review_bot(work, out)
    started = cli("run", bot)
    assert started.returncode == 3, started.stderr  # suspended: the process has exited
    assert "tasks complete" in started.stderr
    task = only_task(cli)
    assert (task["bot"], task["queue"], task["state"], task["title"]) == ("invoices", "ap", "open", "Invoice INV-1")
    shown = cli("tasks", "show", task["id"][-6:])
    assert shown.returncode == 0 and "total [number] (required) = 148.51  confidence 0.41" in shown.stderr + shown.stdout

    done = cli("tasks", "complete", task["id"][-6:], "approve", "--set", "total=151.20", "--by", "maria")
    assert done.returncode == 0, done.stderr
    assert "succeeded" in done.stderr
    answer = json.loads(out.read_text())
    assert answer["outcome"] == "approve" and answer["by"] == "maria" and answer["at"].endswith("Z")
    assert answer["values"] == {"total": 151.2, "vendor": "Acme Office Supplies", "currency": "EUR"}
    after = cli.json("tasks", "show", task["id"])
    assert after["state"] == "completed" and after["values"]["total"] == 151.2 and after["by"] == "maria"
    state = sqlite3.connect(cli.home / "runs.sqlite").execute("SELECT state FROM runs").fetchone()[0]
    assert state == "succeeded"


def test_a_task_completed_twice_is_refused_and_the_run_resumes_once(cli, work):
    out = work / "answer.json"
    assert cli("run", review_bot(work, out)).returncode == 3
    task = only_task(cli)
    assert cli("tasks", "complete", task["id"], "reject").returncode == 0
    assert out.read_text() == "rejected"
    out.unlink()
    again = cli("tasks", "complete", task["id"], "approve")
    assert again.returncode == 2
    assert "already completed: reject by" in again.stderr and "Traceback" not in again.stderr
    assert not out.exists()  # the run did not run on a second time
    assert cli.json("tasks", "show", task["id"])["outcome"] == "reject"


@pytest.mark.parametrize("args, why", [
    (["approve", "--set", "total=a lot"], "'total': expected a number, got 'a lot'"),
    (["approve", "--set", "total="], "'total' is required"),
    (["approve", "--set", "currency=GBP"], "'currency': 'GBP' is not one of: EUR, USD"),
    (["approve", "--set", "iban=DE00"], "the task has no field 'iban'"),
    (["pay"], "'pay' is not an outcome of this task"),
])
def test_an_answer_that_does_not_fit_the_form_is_refused_and_the_task_stays_open(cli, work, args, why):
    out = work / "answer.json"
    assert cli("run", review_bot(work, out)).returncode == 3
    task = only_task(cli)
    refused = cli("tasks", "complete", task["id"], *args)
    assert refused.returncode == 2, refused.stderr
    assert why in refused.stderr and "Traceback" not in refused.stderr
    assert cli.json("tasks", "show", task["id"])["state"] == "open"
    assert not out.exists()
    run = sqlite3.connect(cli.home / "runs.sqlite").execute("SELECT state FROM runs").fetchone()[0]
    assert run == "suspended"


def wait_until_due(cli, deadline_seconds: float) -> None:
    """Until the store's deadline of the one open task has passed (no timing is asserted)."""
    deadline = only_task(cli)["deadline"]
    assert deadline is not None
    while time.time() <= deadline:
        time.sleep(0.05)


def test_at_the_deadline_the_default_outcome_is_taken(cli, work):
    out = work / "answer.json"
    assert cli("run", review_bot(work, out, deadline=1, on_deadline="outcome", deadline_outcome="approve")).returncode == 3
    task = only_task(cli)
    wait_until_due(cli, 1)
    due = cli("resume", "--due")
    assert due.returncode == 0, due.stderr
    answer = json.loads(out.read_text())
    assert answer["outcome"] == "approve" and answer["by"] == "deadline" and answer["values"]["total"] == 148.51
    assert cli.json("tasks", "show", task["id"])["state"] == "expired"
    late = cli("tasks", "complete", task["id"], "reject")
    assert late.returncode == 2 and "expired at its deadline" in late.stderr


def test_before_its_deadline_a_task_is_not_due(cli, work):
    assert cli("run", review_bot(work, work / "a.json", deadline="2999-01-01", on_deadline="fail")).returncode == 3
    due = cli("resume", "--due")
    assert due.returncode == 0 and "no suspended run is due" in due.stderr
    assert only_task(cli)["state"] == "open"


def test_at_the_deadline_the_task_escalates_to_another_queue(cli, work):
    out = work / "answer.json"
    assert cli("run", review_bot(work, out, deadline=1, escalate_to="ap-leads")).returncode == 3
    first = only_task(cli)
    wait_until_due(cli, 1)
    assert cli("resume", "--due").returncode == 0
    escalated = only_task(cli)
    assert escalated["id"] == first["id"] and escalated["queue"] == "ap-leads" and escalated["deadline"] is None
    assert escalated["state"] == "open" and not out.exists()
    assert cli("tasks", "complete", first["id"], "approve").returncode == 0
    assert json.loads(out.read_text())["outcome"] == "approve"


def test_at_the_deadline_the_run_fails_when_told_to(cli, work):
    out = work / "answer.json"
    assert cli("run", review_bot(work, out, deadline=1, on_deadline="fail")).returncode == 3
    wait_until_due(cli, 1)
    due = cli("resume", "--due")
    assert due.returncode == 1
    assert "was not completed by its deadline" in due.stderr and "Traceback" not in due.stderr


def make_document(folder: Path) -> tuple[Path, Path]:
    from PIL import Image, ImageDraw

    pages = []
    for n in (1, 2):
        img = Image.new("RGB", (620, 877), "white")
        ImageDraw.Draw(img).text((350, 380), f"Total 148.51 page {n}", fill="black")
        pages.append(img)
    pdf = folder / "invoice.pdf"
    pages[0].save(pdf, save_all=True, append_images=pages[1:], resolution=72)
    png = folder / "receipt.png"
    pages[0].save(png)
    return pdf, png


def test_the_document_is_kept_with_the_run_as_page_images(cli, work):
    pdf, png = make_document(work)
    out = work / "answer.json"
    assert cli("run", review_bot(work, out, document=str(pdf))).returncode == 3
    form = cli.json("tasks", "show", only_task(cli)["id"])["form"]
    assert [p["page"] for p in form["pages"]] == [1, 2]
    first = Path(form["pages"][0]["image"])
    assert first.exists() and first.read_bytes()[:4] == b"\x89PNG"
    # rendered at 200 dpi, as the extractor reads a PDF, so its boxes land on the same pixels
    assert abs(form["pages"][0]["width"] - 620 * 200 / 72) <= 1 and abs(form["pages"][0]["height"] - 877 * 200 / 72) <= 1
    assert form["fields"][0]["box"] == [700, 760, 300, 30] and form["fields"][0]["page"] == 1
    assert form["fields"][0]["schema"]["x-botloom"]["type"] == "number"
    artifacts = sqlite3.connect(cli.home / "runs.sqlite").execute("SELECT name, kind FROM artifacts").fetchall()
    assert sorted(artifacts) == [("00002-review-page1.png", "image"), ("00002-review-page2.png", "image")]


def test_a_document_that_is_not_one_is_a_clear_error(cli, work):
    bad = work / "invoice.pdf"
    bad.write_bytes(b"%PDF-1.4 this is not a pdf")
    run = cli("run", review_bot(work, work / "a.json", document=str(bad)))
    assert run.returncode == 1 and "cannot open the PDF" in run.stderr and "Traceback" not in run.stderr
    assert cli.json("tasks", "list") == []


@pytest.mark.parametrize("fields, why", [
    ([{"value": 1}], "a field has no name"),
    ([{"name": "a"}, {"name": "a"}], "two fields are named 'a'"),
    ([{"name": "a", "type": "money"}], "unknown type 'money'"),
    ([{"name": "a", "box": [1, 2]}], "box must be [x, y, width, height]"),
    ([{"name": "a", "colour": "red"}], "unknown key(s) colour"),
])
def test_a_wrong_form_is_told_with_the_field(cli, work, fields, why):
    run = cli("run", review_bot(work, work / "a.json", fields=fields))
    assert run.returncode == 1 and why in run.stderr and "item" in run.stderr and "Traceback" not in run.stderr


def test_two_answers_at_the_same_moment_exactly_one_is_taken(cli, work):
    assert cli("run", review_bot(work, work / "a.json")).returncode == 3
    task = only_task(cli)
    racers = [cli.start("tasks", "complete", task["id"], outcome, "--no-resume", "--by", who)
              for outcome, who in (("approve", "ana"), ("reject", "ben"), ("correct", "cai"))]
    results = [(p.wait(60), p.stderr.read()) for p in racers]
    assert sorted(code for code, _ in results) == [0, 2, 2], results
    taken = cli.json("tasks", "show", task["id"])
    winner = [err for code, err in results if code == 0][0]
    assert f"({taken['outcome']})" in winner
    for code, err in results:
        if code == 2:
            assert f"already completed: {taken['outcome']} by {taken['by']}" in err


def test_list_filters_and_assign(cli, work):
    assert cli("run", review_bot(work, work / "a.json")).returncode == 3
    assert cli("run", review_bot(work, work / "b.json", queue="ap-leads", deadline=3600)).returncode == 3
    assert len(cli.json("tasks", "list")) == 2
    assert [t["queue"] for t in cli.json("tasks", "list", "--queue", "ap-leads")] == ["ap-leads"]
    assert [t["queue"] for t in cli.json("tasks", "list", "--due-within", "2h")] == ["ap-leads"]
    assert cli.json("tasks", "list", "--older-than", "1d") == []
    first = cli.json("tasks", "list", "--queue", "ap")[0]
    assigned = cli("tasks", "assign", first["id"], "--to", "maria", "--queue", "ap-leads")
    assert assigned.returncode == 0 and "for maria, queue ap-leads" in assigned.stdout
    assert [t["id"] for t in cli.json("tasks", "list", "--for", "maria")] == [first["id"]]
    bad = cli("tasks", "list", "--older-than", "soon")
    assert bad.returncode == 2 and "--older-than" in bad.stderr and "Traceback" not in bad.stderr
    assert cli("tasks", "show", "nosuchtask").returncode == 2


def test_a_store_of_schema_4_gains_the_tasks_table(tmp_path):
    from botloom.runner.store import RunStore
    from botloom.runner.store.db import SCHEMA_VERSION

    path = tmp_path / "runs.sqlite"
    RunStore(path).close()
    old = sqlite3.connect(path)  # as Botloom with schema 4 left it: its tables only (no tasks, nor later ones)
    v4 = {"artifacts", "blobs", "node_runs", "run_bots", "runs", "state_changes", "waits"}
    later = [r[0] for r in old.execute("SELECT name FROM sqlite_master WHERE type='table'") if r[0] not in v4]
    old.execute("PRAGMA foreign_keys=OFF")
    for table in later:
        old.execute(f"DROP TABLE {table}")
    old.execute("PRAGMA user_version=4")
    old.commit()
    old.close()
    store = RunStore(path)
    try:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        columns = [r[1] for r in store.conn.execute("PRAGMA table_info(tasks)")]
        assert columns == ["id", "run_id", "seq", "node", "bot", "queue", "assignee", "state", "form", "outcome",
                           "values", "by", "created_at", "deadline", "completed_at"]
        indexes = sorted(r[1] for r in store.conn.execute("PRAGMA index_list(tasks)") if not r[1].startswith("sqlite"))
        assert indexes == ["ix_tasks_run_id_seq", "ix_tasks_state_queue"]
    finally:
        store.close()


@pytest.mark.parametrize("side", [9_000, 100_000])  # over our limit; over Pillow's own too
def test_an_image_too_large_to_show_is_refused_before_its_pixels_load(cli, work, side):
    import struct
    import zlib

    huge = work / "bomb.png"  # a valid PNG header claiming side x side pixels, and almost no data
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))  # noqa: E731
    huge.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    run = cli("run", review_bot(work, work / "a.json", document=str(huge)))
    assert run.returncode == 1 and "bomb.png is too large to show" in run.stderr and "megapixels" in run.stderr
    assert "Traceback" not in run.stderr


def test_the_task_of_a_run_that_ended_meanwhile_is_not_listed_and_cannot_be_completed(cli, work):
    assert cli("run", review_bot(work, work / "a.json")).returncode == 3
    task = only_task(cli)
    db = sqlite3.connect(cli.home / "runs.sqlite")
    db.execute("UPDATE runs SET state='cancelled'")  # as if it was stopped while it waited
    db.commit()
    db.close()
    assert cli.json("tasks", "list") == []
    refused = cli("tasks", "complete", task["id"], "approve")
    assert refused.returncode == 2 and "is cancelled and waits for no answer" in refused.stderr


def test_a_task_its_run_went_past_cannot_be_completed(cli, work):
    out = work / "a.json"
    bot = write_bot(work, "two", {
        "start": {"type": "core.start"},
        "first": {"type": "review.task", "params": {"title": "first", "fields": FIELDS}},
        "second": {"type": "review.task", "params": {"title": "second", "fields": FIELDS}},
        "save": {"type": "data.write_json", "params": {"path": str(out), "data": "{{ nodes.second }}"}},
    }, [("start.out", "first.in"), ("first.out", "second.in"), ("second.out", "save.in")])
    assert cli("run", bot).returncode == 3
    first = only_task(cli)
    # answered by hand, not through the task: the run goes on to the second review
    assert cli("resume", first["run_id"], "--data", "outcome=approve").returncode == 3
    stale = cli("tasks", "complete", first["id"], "reject")
    assert stale.returncode == 2 and "its run went on past this review (it now waits at step 3)" in stale.stderr
    second = only_task(cli)  # the stale one is not listed
    assert second["title"] == "second"
    assert cli("tasks", "complete", second["id"], "approve").returncode == 0
    assert json.loads(out.read_text())["outcome"] == "approve"
