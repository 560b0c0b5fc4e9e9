"""Human tasks through the real service: its API lists and completes them (checked against the
form), its due job handles deadlines and delivers answers the service was not there to take."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bots import write_bot
from botloom.runner.errors import BotloomError

FIELDS = [{"name": "total", "type": "number", "value": "148.51", "confidence": 0.41, "required": True}]


def review_bot(folder, out, **params):
    return write_bot(folder, "invoices", {
        "start": {"type": "core.start"},
        "review": {"type": "review.task", "params": {"title": "Invoice", "fields": FIELDS, "queue": "ap", **params}},
        "save": {"type": "data.write_json", "params": {"path": str(out), "data": "{{ nodes.review }}"}},
    }, [("start.out", "review.in"), ("review.out", "save.in")])


def suspended_task(svc, bot):
    run_id = svc.call("POST", "/runs", {"bot": str(bot)})["run_id"]
    svc.wait_for(lambda: svc.runs(id=run_id, state="suspended"), what="the run to wait for review")
    tasks = svc.call("GET", "/tasks")
    assert [t["run_id"] for t in tasks] == [run_id]
    return run_id, tasks[0]


def test_the_api_completes_a_task_once_and_the_service_resumes_the_run(service, tmp_path):
    svc = service()
    out = tmp_path / "answer.json"
    run_id, task = suspended_task(svc, review_bot(tmp_path, out))
    assert svc.call("GET", f"/tasks/{task['id']}")["form"]["fields"][0]["confidence"] == 0.41
    with pytest.raises(BotloomError) as bad:
        svc.call("POST", f"/tasks/{task['id']}/complete", {"outcome": "approve", "values": {"total": "lots"}})
    assert "'total': expected a number" in bad.value.message and bad.value.exit_code == 2
    assert svc.call("GET", f"/tasks/{task['id']}")["state"] == "open"
    done = svc.call("POST", f"/tasks/{task['id']}/complete",
                    {"outcome": "correct", "values": {"total": 150}, "by": "maria"})
    assert done == {"task": task["id"], "outcome": "correct", "run_id": run_id, "queued": True}
    svc.wait_for(lambda: svc.runs(id=run_id, state="succeeded"), what="the run to finish")
    answer = json.loads(out.read_text())
    assert (answer["outcome"], answer["values"], answer["by"]) == ("correct", {"total": 150}, "maria")
    with pytest.raises(BotloomError) as twice:
        svc.call("POST", f"/tasks/{task['id']}/complete", {"outcome": "approve"})
    assert "already completed: correct by maria" in twice.value.message
    with pytest.raises(BotloomError) as missing:
        svc.call("GET", "/tasks/nosuchtask")
    assert "no task 'nosuchtask'" in missing.value.message
    figures = svc.call("GET", "/tasks/figures")["invoices"]
    assert (figures["tasks"], figures["completed"], figures["by_person"]) == (1, 1, 1)


def test_the_cli_completes_through_the_running_service(service, tmp_path, home):
    svc = service()
    out = tmp_path / "answer.json"
    run_id, task = suspended_task(svc, review_bot(tmp_path, out))
    env = {**os.environ, "BOTLOOM_HOME": str(home)}
    done = subprocess.run([sys.executable, "-m", "botloom.runner.cli", "tasks", "complete", task["id"], "approve",
                           "--by", "li"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "the service resumes" in done.stderr, done.stderr
    svc.wait_for(lambda: svc.runs(id=run_id, state="succeeded"), what="the run to finish")
    assert json.loads(out.read_text())["by"] == "li"


def test_the_service_due_job_takes_the_deadline_outcome(service, tmp_path):
    svc = service()
    out = tmp_path / "answer.json"
    run_id, task = suspended_task(svc, review_bot(tmp_path, out, deadline=1, on_deadline="outcome",
                                                  deadline_outcome="reject"))
    svc.wait_for(lambda: svc.runs(id=run_id, state="succeeded"), what="the deadline to resume the run")
    answer = json.loads(out.read_text())
    assert (answer["outcome"], answer["by"]) == ("reject", "deadline")
    assert svc.call("GET", f"/tasks/{task['id']}")["state"] == "expired"


def test_an_answer_given_while_no_service_ran_is_delivered_when_it_starts(service, tmp_path, home):
    out = tmp_path / "answer.json"
    env = {**os.environ, "BOTLOOM_HOME": str(home)}
    cli = [sys.executable, "-m", "botloom.runner.cli"]
    assert subprocess.run([*cli, "run", review_bot(tmp_path, out)], env=env, capture_output=True).returncode == 3
    tasks = json.loads(subprocess.run([*cli, "tasks", "list", "--json"], env=env, capture_output=True,
                                      text=True).stdout)
    recorded = subprocess.run([*cli, "tasks", "complete", tasks[0]["id"], "approve", "--no-resume"], env=env,
                              capture_output=True, text=True)
    assert recorded.returncode == 0 and not out.exists()  # answered; the run still waits
    svc = service()
    svc.wait_for(lambda: svc.runs(state="succeeded"), what="the due job to resume the answered run")
    assert json.loads(out.read_text())["outcome"] == "approve"
