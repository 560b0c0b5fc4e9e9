"""Secrets: stored in a real keyring backend, referenced by name, never written to the store or logs."""

from __future__ import annotations

import json

from bots import write_bot


def reveal_bot(folder, name: str, secret: str):
    """A bot whose node reads secret `secret` and outputs only its length as `n`."""
    return write_bot(folder, name, {
        "start": {"type": "core.start"},
        "use": {"type": "demo.reveal_length", "params": {"secret": secret}},
        "keep": {"type": "core.set_variable", "params": {"name": "n", "value": "{{ nodes.use.length }}"}},
    }, [("start.out", "use.in"), ("use.out", "keep.in")], secrets={secret: "for the test"}, outputs={"n": "integer"})


def keyring_env(cli, tmp_path):
    cli.env.update(PYTHON_KEYRING_BACKEND="botloom_test_keyring.FileKeyring", BOTLOOM_TEST_KEYRING=str(tmp_path))


def test_secret_parameter_is_resolved_and_redacted(cli, tmp_path):
    keyring_env(cli, tmp_path)
    assert cli("secret", "set", "api_token", input="tok-123\n").returncode == 0
    bot = reveal_bot(tmp_path, "reveal", "api_token")
    proc = cli("run", bot, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["outputs"] == {"n": len("tok-123")}
    home = cli.home
    everything = (home / "runs.sqlite").read_bytes() + b"".join(p.read_bytes() for p in (home / "logs").iterdir())
    assert b"tok-123" not in everything
    assert b'{"$t":"secret","name":"api_token"}' in everything  # the journal keeps the name, never the text


def test_missing_secret_says_how_to_set_it(cli, tmp_path):
    keyring_env(cli, tmp_path)
    bot = reveal_bot(tmp_path, "nosecret", "absent")
    proc = cli("run", bot)
    assert proc.returncode == 1
    assert "secret 'absent' is not set" in proc.stderr and "botloom secret set absent" in proc.stderr


def test_environment_variable_secret(cli, tmp_path):
    keyring_env(cli, tmp_path)
    cli.env["BOTLOOM_SECRET_FROM_ENV"] = "abcd"
    bot = reveal_bot(tmp_path, "envsecret", "from_env")
    proc = cli("run", bot, "--json")
    assert json.loads(proc.stdout)["outputs"] == {"n": 4}
    assert cli("secret", "delete", "from_env").returncode == 2  # not in the keyring: a clear error


def test_expressions_read_secrets_by_name_and_validation_names_undeclared_ones(cli, tmp_path):
    cli.env["BOTLOOM_SECRET_GREETING"] = "hello"
    bot = write_bot(tmp_path, "expr", {
        "start": {"type": "core.start"},
        "keep": {"type": "core.set_variable", "params": {"name": "n", "value": "{{ secrets.greeting | length }}"}},
        "peek": {"type": "core.log", "params": {"message": "{{ secrets['other'] }} and {{ secrets.greeting }}"}},
    }, [("start.out", "keep.in")], secrets={"greeting": "a word"}, outputs={"n": "integer"})
    proc = cli("run", bot, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["outputs"] == {"n": 5}
    problems = cli.json("validate", bot)[0]["problems"]  # "peek" is not connected: it only shows the warning
    assert [(p["node"], p["message"]) for p in problems if p["code"] == "undeclared-secret"] == [
        ("peek", "an expression reads secret 'other', which is not declared in the bot's 'secrets'")]
