"""`botloom schedule ...` with no service running: the schedule table is written directly (the
same ScheduleDesk the designer's Schedules panel uses), and with a service running the same
commands go through its API."""

from __future__ import annotations

from conftest import delay_bot


def test_schedule_commands_without_a_service_write_the_store_and_say_when_they_take_effect(cli, tmp_path):
    bot = delay_bot(tmp_path)
    added = cli("schedule", "add", bot, "--cron", "0 7 * * MON-FRI", "--timezone", "Europe/Paris", "--name",
                "morning", "-i", "who=Ada")
    assert added.returncode == 0, added.stderr
    assert added.stdout.count("  next: ") == 5 and "no service runs now" in added.stderr
    [row] = cli.json("schedule", "list")
    assert (row["name"], row["kind"], row["inputs"], row["paused"], len(row["next_fires"])) == \
        ("morning", "cron", {"who": "Ada"}, False, 5)
    assert row["next_fire"] == row["next_fires"][0] and row["next_fire"].endswith(("+01:00", "+02:00"))
    assert cli("schedule", "pause", "morning").returncode == 0
    [row] = cli.json("schedule", "list")
    assert row["paused"] and row["next_fires"] == [] and row["next_fire"] is None
    bad = cli("schedule", "add", bot, "--cron", "0 7 * * FOO")
    assert bad.returncode == 2 and "Invalid weekday name" in bad.stderr and "Traceback" not in bad.stderr
    bad = cli("schedule", "add", bot, "--every", "5 fortnights")
    assert bad.returncode == 2 and "is not a duration" in bad.stderr
    assert cli("schedule", "remove", "morning").returncode == 0
    assert cli.json("schedule", "list") == []


def test_schedule_commands_with_a_service_running_go_through_its_api(service, cli, tmp_path):
    svc = service()
    cli.env["BOTLOOM_HOME"] = str(svc.home)
    bot = delay_bot(tmp_path)
    added = cli("schedule", "add", bot, "--every", "1h", "--name", "hourly")
    assert added.returncode == 0 and "no service runs now" not in added.stderr, added.stderr
    assert [s["name"] for s in svc.call("GET", "/schedules")] == ["hourly"]
    assert cli("schedule", "pause", "hourly").returncode == 0
    assert svc.call("GET", "/schedules")[0]["paused"] is True
    assert cli("schedule", "remove", "hourly").returncode == 0
    assert svc.call("GET", "/schedules") == []
