"""The audit trail: every kind of tampering is detected and the first bad record named; runs,
secret reads and settings changes are recorded; several processes append to one trail."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from bots import write_bot
from botloom.runner.audit import DIGEST_EVERY, AuditTrail, canonical, record_hash


@pytest.fixture
def trail(tmp_path) -> AuditTrail:
    t = AuditTrail(tmp_path / "home")
    for i in range(1, 31):
        t.record("test_event", number=i)
    t.digest()  # records 21-30 signed too: the whole trail is covered
    return t


def lines(t: AuditTrail) -> list[str]:
    return t.trail.read_text().splitlines()


def rewrite(t: AuditTrail, new: list[str]) -> None:
    t.trail.write_text("\n".join(new) + "\n")


def rechain(records: list[dict]) -> list[str]:
    """What an attacker without the digest key can do: renumber and re-hash the whole chain."""
    prev, out = "0" * 64, []
    for seq, rec in enumerate(records, 1):
        rec = dict(rec, seq=seq, prev=prev)
        rec["hash"] = prev = record_hash(rec)
        out.append(canonical(rec).decode())
    return out


def test_an_untouched_trail_verifies(trail):
    verdict = trail.verify()
    assert verdict.ok, verdict.problem
    assert (verdict.records, verdict.covered) == (30, 30) and verdict.digests == 30 // DIGEST_EVERY + 1


def alter(text: list[str]) -> None:
    text[6] = text[6].replace('"number":7', '"number":70')


def delete(text: list[str]) -> None:
    del text[11]


def insert(text: list[str]) -> None:
    before = json.loads(text[4])  # a forged record 6 with a good hash, chained to record 5
    forged = {**before, "seq": 6, "number": 999, "kind": "secret_read", "prev": before["hash"]}
    forged["hash"] = record_hash(forged)
    text.insert(5, canonical(forged).decode())


def reorder(text: list[str]) -> None:
    text[8], text[9] = text[9], text[8]


def cut(text: list[str]) -> None:
    del text[24:]


@pytest.mark.parametrize("tamper, line, seq, problem", [
    (alter, 7, 7, "record 7 was altered: its content does not match its hash"),
    (delete, 12, 12, "record 12 is missing (deleted)"),
    (insert, 6, 6, "record 6 is not the record the digest signed"),
    (reorder, 9, 9, "records were reordered: record 10 comes before record 9"),
    (cut, 25, 25, "records 25 to 30 were cut from its end"),
], ids=["altered", "deleted", "inserted", "reordered", "tail cut"])
def test_tampering_is_detected_and_the_first_bad_record_named(trail, tamper, line, seq, problem):
    text = lines(trail)
    tamper(text)
    rewrite(trail, text)
    verdict = trail.verify()
    assert not verdict.ok and (verdict.line, verdict.seq) == (line, seq)
    assert problem in verdict.problem


def test_a_rebuilt_chain_is_caught_by_the_signed_digests(trail):
    records = [json.loads(line) for line in lines(trail)]
    del records[14]  # delete record 15 and rebuild a consistent chain after it
    rewrite(trail, rechain(records))
    verdict = trail.verify()
    assert not verdict.ok and (verdict.line, verdict.seq) == (15, 15)
    assert "not the record the digest signed" in verdict.problem


def test_an_edited_digest_is_detected(trail):
    digests = trail.digests.read_text().splitlines()
    first = json.loads(digests[0])
    first["hashes"][0] = "f" * 64
    digests[0] = canonical(first).decode()
    trail.digests.write_text("\n".join(digests) + "\n")
    verdict = trail.verify()
    assert not verdict.ok and verdict.line == 1 and "bad signature" in verdict.problem


def test_cli_verify_and_export(cli, tmp_path):
    t = AuditTrail(cli.home)
    for i in range(3):
        t.record("test_event", number=i)
    ok = cli("audit", "verify")
    assert ok.returncode == 0 and "intact: 3 records" in ok.stdout and "not yet signed" in ok.stdout
    exported = [json.loads(line) for line in cli("audit", "export").stdout.splitlines()]
    assert [r["number"] for r in exported] == [0, 1, 2]
    assert cli("audit", "digest").returncode == 0
    assert len(cli("audit", "export", "--digests").stdout.splitlines()) == 1
    text = lines(t)
    text[1] = text[1].replace('"number":1', '"number":5')
    rewrite(t, text)
    bad = cli("audit", "verify")
    assert bad.returncode == 1 and "line 2, record 2: record 2 was altered" in bad.stderr
    assert cli.json("audit", "verify")["line"] == 2


def test_runs_secret_reads_and_settings_are_recorded(cli, tmp_path):
    cli.env["BOTLOOM_SECRET_API_TOKEN"] = "tok-1"
    bot = write_bot(tmp_path, "reader", {
        "start": {"type": "core.start"},
        "use": {"type": "demo.reveal_length", "params": {"secret": "api_token"}},
        "again": {"type": "demo.reveal_length", "params": {"secret": "api_token"}},
    }, [("start.out", "use.in"), ("use.out", "again.in")], secrets={"api_token": "t"})
    assert cli("config", "logs.level", "debug").returncode == 0
    run = cli("run", bot, "--json")
    assert run.returncode == 0, run.stderr
    run_id = json.loads(run.stdout)["run_id"]
    records = list(AuditTrail(cli.home).records())
    digest = hashlib.sha256(bot.read_bytes()).hexdigest()
    assert [r["kind"] for r in records] == ["setting_changed", "run_started", "secret_read", "run_finished"]
    setting, started, read, finished = records
    assert (setting["key"], setting["value"]) == ("logs.level", "debug")
    assert (started["run"], started["bot"], started["bot_hash"], started["bot_path"]) == (run_id, "reader", digest,
                                                                                           str(bot))
    assert (read["name"], read["bot"], read["run"]) == ("api_token", "reader", run_id)  # once, though read twice
    assert (finished["state"], finished["bot_hash"]) == ("succeeded", digest)
    assert "tok-1" not in (cli.home / "audit" / "trail.jsonl").read_text()
    assert AuditTrail(cli.home).verify().ok


WRITER = """
import sys
from botloom.runner.audit import AuditTrail
t = AuditTrail(sys.argv[1])
for i in range(40):
    t.record("test_event", writer=sys.argv[2], number=i)
"""


def test_processes_appending_at_once_keep_one_chain(tmp_path):
    home = tmp_path / "home"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(home), str(n)]) for n in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    t = AuditTrail(home)
    verdict = t.verify()
    assert verdict.ok, verdict.problem
    assert verdict.records == 120 and sorted(r["seq"] for r in t.records()) == list(range(1, 121))


def test_model_activations_are_recorded(botloom_home):
    pytest.importorskip("onnx")
    from botloom.nodes.ai.doctor import _tiny_model
    from botloom.nodes.ai.registry import Registry

    reg = Registry()
    for note in range(2):
        reg.add_version("m", _tiny_model(), ["a", "b"], {"task": "test", "note": note})
    reg.activate("m", "1")
    reg.activate("m", "2")
    reg.rollback("m")
    found = [(r["kind"], r["model"], r["version"], r.get("previous"), r.get("rollback"))
             for r in AuditTrail(botloom_home).records()]
    assert found == [("model_activated", "m", "1", None, None), ("model_activated", "m", "2", "1", None),
                     ("model_activated", "m", "1", "2", True)]


def test_a_damaged_line_and_a_missing_key_are_told_plainly(trail):
    text = lines(trail)
    text[2] = text[2][:40]  # a line cut in the middle
    rewrite(trail, text)
    verdict = trail.verify()
    assert not verdict.ok and (verdict.line, verdict.seq) == (3, 3) and "not a valid record" in verdict.problem
    (trail.folder / "key").unlink()
    from botloom.runner.audit import AuditError

    with pytest.raises(AuditError, match="their key .* is missing"):
        trail.verify()
    assert not (trail.folder / "key").exists()  # verifying never makes a new key


def test_review_decisions_are_recorded_with_who_decided(botloom_home):
    from botloom.nodes.ai.monitor import add_correction, add_review

    item = add_review("m", "1", "invoice from ACME", "spam", 0.41, {"spam": 0.41, "invoice": 0.39})
    add_correction("m", "invoice", review_id=item, source="alice, at the review screen")
    found = [r for r in AuditTrail(botloom_home).records() if r["kind"] == "review_decided"]
    assert [(r["model"], r["review"], r["label"], r["by"]) for r in found] == [
        ("m", item, "invoice", "alice, at the review screen")]
    assert "ACME" not in (botloom_home / "audit" / "trail.jsonl").read_text()  # the reviewed text stays out


def test_a_run_stops_when_its_start_cannot_be_recorded_and_resumes_once_it_can(cli, tmp_path):
    bot = write_bot(tmp_path, "plain", {"start": {"type": "core.start"}}, [])
    folder = cli.home / "audit"
    folder.mkdir(parents=True)
    (folder / "trail.jsonl").write_text('{"seq": 1, "hash": \n')  # a damaged last record
    proc = cli("run", bot)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "the last record of the audit trail" in proc.stderr and "botloom audit verify" in proc.stderr
    run_id = proc.stderr.split("run ")[1].split()[0]
    (folder / "trail.jsonl").rename(folder / "damaged.jsonl")  # kept as evidence; a new trail starts
    assert cli("resume", run_id).returncode == 0
    assert [r["kind"] for r in AuditTrail(cli.home).records()] == ["run_resumed", "run_finished"]
