"""The service's mail trigger against a real IMAP server (dovecot on 127.0.0.1): every new
message starts one run with the message as input, is then marked read or moved, and a message
that already started a run is not run again after a restart."""

from __future__ import annotations

import email.message
import json
import os
import sqlite3
import subprocess
import sys
import threading

import pytest

from botloom.runner.server import mail_trigger
from botloom.runner.server.schedules import ScheduleError, ScheduleStore, make_schedule, parse_mail_url

PASSWORD = "mail-s3cret"  # tests/mail/conftest.py's account
USER = "bot@example.test"


class _Dispatcher:
    def busy_with(self, schedule_id=None):
        return False


class _Runner:
    class secrets:
        @staticmethod
        def get(name):
            assert name == "inbox_password"
            return PASSWORD


class FakeService:
    """What fire_mail_triggers uses of the service: schedules, settings, start_run."""

    def __init__(self, path):
        self.schedules = ScheduleStore(sqlite3.connect(path, check_same_thread=False))
        self.settings = {"service.mail_poll_seconds": 0}
        self.dispatcher = _Dispatcher()
        self.runner = _Runner()
        self.started: list[tuple[str, dict, str]] = []
        self.mail_polls: dict[str, float] = {}
        self.lock = threading.Lock()

    def start_run(self, bot, inputs, *, trigger, schedule_id):
        class Request:
            run_id = f"run-{len(self.started) + 1}"
        self.started.append((bot, inputs, trigger))
        return Request()


def _send(mail_servers, subject: str) -> None:
    msg = email.message.EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "supplier@example.test", USER, subject
    msg["Message-ID"] = f"<{subject.replace(' ', '-')}@example.test>"
    msg.set_content(f"{subject}: please find the invoice attached.")
    conn = mail_servers.imap()
    try:
        conn.append("INBOX", None, None, msg.as_bytes())
    finally:
        conn.logout()


def _folder(mail_servers, folder: str, criteria: str = "ALL") -> list[bytes]:
    conn = mail_servers.imap()
    try:
        conn.select(f'"{folder}"', readonly=True)
        return conn.uid("SEARCH", criteria)[1][0].split()
    finally:
        conn.logout()


def _schedule(tmp_path, mail_servers, **options):
    bot = tmp_path / "invoice.bot.json"
    bot.write_text("{}")
    return make_schedule(str(bot), mail=f"imap://{USER}@127.0.0.1:{mail_servers.imap_port}/INBOX",
                         mail_options={"secret": "inbox_password", **options}, name="invoices")


def test_each_new_message_starts_one_run_and_is_then_moved(mail_servers, tmp_path):
    svc = FakeService(tmp_path / "runs.sqlite")
    sched = _schedule(tmp_path, mail_servers, move_to="Processed")
    svc.schedules.add(sched)
    for n in range(3):
        _send(mail_servers, f"Invoice {n}")
    started = mail_trigger.fire_mail_triggers(svc)
    assert len(started) == 3
    subjects = [inputs["message"]["subject"] for _, inputs, _ in svc.started]
    assert subjects == ["Invoice 0", "Invoice 1", "Invoice 2"]
    first = svc.started[0][1]["message"]
    assert first["message_id"] == "<Invoice-0@example.test>" and first["from"] == "supplier@example.test"
    assert {t for _, _, t in svc.started} == {"mail:invoices"}
    assert _folder(mail_servers, "INBOX") == [] and len(_folder(mail_servers, "Processed")) == 3
    assert mail_trigger.fire_mail_triggers(svc) == []  # nothing new: nothing started
    fires = svc.schedules.fires(sched.id)
    assert [f["outcome"] for f in fires] == ["started"] * 3


def test_a_message_that_started_a_run_is_not_run_again_and_bad_logins_are_recorded(mail_servers, tmp_path):
    svc = FakeService(tmp_path / "runs.sqlite")
    sched = _schedule(tmp_path, mail_servers)  # no move_to: messages are marked read
    svc.schedules.add(sched)
    _send(mail_servers, "Ticket 7")
    # the service stopped after the run was recorded but before the message was taken
    svc.schedules.record_fire(sched.id, None, "started", "mail <Ticket-7@example.test>", run_id="earlier")
    assert mail_trigger.fire_mail_triggers(svc) == []
    assert _folder(mail_servers, "INBOX", "UNSEEN") == []  # taken now, without a second run

    wrong = FakeService(tmp_path / "other.sqlite")
    wrong.runner = type("R", (), {"secrets": type("S", (), {"get": staticmethod(lambda name: "nope")})})()
    bad = _schedule(tmp_path, mail_servers)
    wrong.schedules.add(bad)
    assert mail_trigger.fire_mail_triggers(wrong) == []
    (fire,) = wrong.schedules.fires(bad.id)
    assert fire["outcome"] == "refused" and "refused the login" in fire["detail"]


def test_mail_addresses_are_checked_when_the_schedule_is_made(tmp_path):
    assert parse_mail_url("imaps://inv%40corp@mail.example.com/Invoices/2026") == {
        "host": "mail.example.com", "port": 993, "security": "ssl", "user": "inv@corp", "folder": "Invoices/2026"}
    assert parse_mail_url("imap+starttls://mail.example.com:1143")["security"] == "starttls"
    for bad, says in (("https://mail.example.com/INBOX", "not an IMAP folder"),
                      ("imaps://u:pw@mail.example.com/", "must not hold a password")):
        with pytest.raises(ScheduleError) as err:
            parse_mail_url(bad)
        assert says in err.value.message
    bot = tmp_path / "b.bot.json"
    bot.write_text(json.dumps({"format": 1, "name": "b", "nodes": {"start": {"type": "core.start"}}, "edges": []}))
    env = {**os.environ, "BOTLOOM_HOME": str(tmp_path / "home")}
    out = subprocess.run([sys.executable, "-m", "botloom.runner.cli", "schedule", "add", str(bot), "--mail",
                          "imaps://bot@mail.example.com/INBOX", "--mail-secret", "inbox", "--json"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["kind"] == "mail" and data["spec"]["secret"] == "inbox"
    assert data["trigger"] == "new mail in INBOX at bot@mail.example.com:993"
