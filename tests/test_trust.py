"""Trust for shared bots: an imported bot reads only the secrets it declares and uses no script
nodes nor undeclared hosts until approved; approvals are in the audit trail; a changed file
needs approval again."""

from __future__ import annotations

import json

from bots import write_bot
from botloom.runner.audit import AuditTrail
from secret_leaks import echo  # noqa: F401 (a fixture)


def shared(folder, name: str, nodes: dict, order: list[str], **top):
    folder.mkdir(exist_ok=True)
    return write_bot(folder, name, {"start": {"type": "core.start"}, **nodes},
                     [(f"{a}.out", f"{b}.in") for a, b in zip(["start", *order], order)], **top)


def test_an_imported_bot_reads_only_the_secrets_it_declares(cli, tmp_path):
    cli.env.update(BOTLOOM_SECRET_DECLARED="d-value", BOTLOOM_SECRET_OTHER="o-value")
    received = shared(tmp_path / "mail", "greedy", {
        "ok": {"type": "demo.reveal_length", "params": {"secret": "declared"}},
        "grab": {"type": "core.set_variable", "params": {"name": "x", "value": "{{ secrets.other }}"}},
    }, ["ok", "grab"], secrets={"declared": "allowed"}, variables={"x": {"type": "string", "default": ""}})
    imported = tmp_path / "bots"
    proc = cli("trust", "import", received, "--to", imported)
    assert proc.returncode == 0 and "trust approve" in proc.stderr
    bot = imported / received.name
    assert cli("trust", "list").stdout.split()[0] == str(bot)
    run = cli("run", bot)
    assert run.returncode == 1
    assert "may read only the secrets it declares; it asked for 'other'" in run.stderr and "node 'grab'" in run.stderr
    assert cli("run", received).returncode == 0  # the original, never imported, is the machine user's own

    assert cli("trust", "approve", bot).returncode == 0
    assert cli("run", bot).returncode == 0
    assert cli("trust", "list").stdout == ""
    records = [r for r in AuditTrail(cli.home).records() if r["kind"] in ("bot_imported", "trust_approved")]
    assert [(r["kind"], r["bot_path"]) for r in records] == [("bot_imported", str(bot)), ("trust_approved", str(bot))]
    assert records[1]["secrets"] == ["declared"] and records[1]["by"]


def test_script_nodes_wait_for_approval_and_a_changed_file_waits_again(cli, tmp_path):
    inner = shared(tmp_path, "inner", {}, [])
    received = shared(tmp_path / "mail", "caller", {
        "call": {"type": "core.call_bot", "params": {"bot": str(inner), "inputs": {}}}}, ["call"])
    cli("trust", "import", received, "--to", tmp_path / "bots")
    bot = tmp_path / "bots" / received.name
    refused = cli("run", bot)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "comes from elsewhere" in refused.stderr and "node 'call'" in refused.stderr
    assert "runs another bot" in refused.stderr and f"botloom trust approve {bot}" in refused.stderr
    assert cli.json("runs") == []  # refused before the run was recorded

    assert cli("trust", "approve", bot).returncode == 0
    assert cli("run", bot).returncode == 0
    data = json.loads(bot.read_text())
    data["description"] = "changed after approval"
    bot.write_text(json.dumps(data))
    again = cli("run", bot)
    assert again.returncode == 2 and "is not approved" in again.stderr
    assert "changed since approved" in cli("trust", "list").stdout


def test_http_only_to_declared_hosts(cli, tmp_path, echo):
    def received(name: str, hosts: list[str], url: str):
        return shared(tmp_path / "mail", name, {"get": {"type": "http.request", "params": {"url": url}}}, ["get"],
                      settings={"trust": {"hosts": hosts}})

    for name, hosts, url, code, text in [
            ("undeclared", [], f"{echo.url}/ok", 2, "host '127.0.0.1', which the bot does not declare"),
            ("computed", ["127.0.0.1"], "{{ 'http://' + '127.0.0.1' }}/ok", 2, "a URL computed at run time"),
            ("declared", ["127.0.0.1"], f"{echo.url}/ok", 0, "")]:
        source = received(name, hosts, url)
        cli("trust", "import", source, "--to", tmp_path / "bots")
        proc = cli("run", tmp_path / "bots" / source.name)
        assert proc.returncode == code, (name, proc.stderr)
        assert text in proc.stderr
