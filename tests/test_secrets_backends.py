"""Secret backends for unattended machines, each in a throw-away home (never a real user keyring):

* gnome-keyring's Secret Service inside ``dbus-run-session``, unlocked for that session (and
  locked, to see the error);
* the encrypted file (keyrings.cryptfile) with its key from an environment variable and from a
  systemd credential file;
* no usable backend, and a plaintext backend (refused unless allowed), with what to do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bots import write_bot
from botloom.runner.audit import AuditTrail

TESTS = Path(__file__).resolve().parent
VALUE = "pa$$ w0rd/+=&\"x"


def reveal_bot(folder: Path, secret: str) -> Path:
    return write_bot(folder, "reveal", {
        "start": {"type": "core.start"},
        "use": {"type": "demo.reveal_length", "params": {"secret": secret}},
        "keep": {"type": "core.set_variable", "params": {"name": "n", "value": "{{ nodes.use.length }}"}},
    }, [("start.out", "use.in"), ("use.out", "keep.in")], secrets={secret: "for the test"}, outputs={"n": "integer"})


def no_keyring_env(cli) -> None:
    """No test keyring and no desktop session: the backend comes from the settings and the key."""
    for name in ("PYTHON_KEYRING_BACKEND", "DBUS_SESSION_BUS_ADDRESS", "BOTLOOM_KEYRING_KEY", "CREDENTIALS_DIRECTORY"):
        cli.env.pop(name, None)


def all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


# ---------------------------------------------------------------- the encrypted file
def test_encrypted_file_with_key_from_environment(cli, tmp_path):
    no_keyring_env(cli)
    cli.env["BOTLOOM_KEYRING_KEY"] = "correct horse battery staple"
    proc = cli("secret", "set", "crm_password", input=VALUE + "\n")
    assert proc.returncode == 0, proc.stderr
    assert "encrypted-file" in proc.stderr
    assert cli("secret", "list").stdout.split() == ["crm_password"]
    check = cli.json("secret", "check")
    assert check["backend"] == "encrypted-file" and check["secure"] and check["usable"]
    stored = cli.home / "secrets" / "secrets.cfg"
    assert stored.exists() and oct(stored.stat().st_mode & 0o777) == "0o600"
    assert VALUE.encode() not in all_bytes(cli.home)
    run = cli("run", reveal_bot(tmp_path, "crm_password"), "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["outputs"] == {"n": len(VALUE)}

    cli.env["BOTLOOM_KEYRING_KEY"] = "a wrong key"
    wrong = cli("secret", "list")
    assert wrong.returncode == 2
    assert "does not open the encrypted secrets file" in wrong.stderr and "Traceback" not in wrong.stderr
    failed = cli("run", reveal_bot(tmp_path, "crm_password"))
    assert failed.returncode == 1 and "does not open the encrypted secrets file" in failed.stderr
    assert "node 'use'" in failed.stderr  # where: the bot and the node that asked


def test_encrypted_file_with_key_from_a_systemd_credential(cli, tmp_path):
    no_keyring_env(cli)
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "botloom-keyring-key").write_text("key from LoadCredential=\n")
    cli.env["CREDENTIALS_DIRECTORY"] = str(credentials)
    assert cli("secret", "set", "api_token", input="tok-9\n").returncode == 0
    check = cli.json("secret", "check")
    assert check["backend"] == "encrypted-file" and "systemd credential" in check["location"]
    run = cli("run", reveal_bot(tmp_path, "api_token"), "--json")
    assert json.loads(run.stdout)["outputs"] == {"n": 5}
    assert cli("secret", "delete", "api_token").returncode == 0
    assert cli("secret", "list").stdout.split() == []
    gone = cli("run", reveal_bot(tmp_path, "api_token"))
    assert gone.returncode == 1 and "secret 'api_token' is not set" in gone.stderr
    assert "node 'use'" in gone.stderr and "botloom secret set api_token" in gone.stderr


def test_encrypted_file_without_a_key_says_where_to_put_one(cli):
    no_keyring_env(cli)
    assert cli("config", "secrets.backend", "encrypted-file").returncode == 0
    proc = cli("secret", "set", "x", input="v\n")
    assert proc.returncode == 2
    assert "needs its key" in proc.stderr and "BOTLOOM_KEYRING_KEY" in proc.stderr
    assert "botloom-keyring-key" in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------------------- no backend, plaintext
def test_no_usable_backend_says_what_to_install(cli, tmp_path):
    no_keyring_env(cli)
    cli.env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    proc = cli("secret", "set", "api_token", input="v\n")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "no usable keyring backend" in proc.stderr
    assert "gnome-keyring" in proc.stderr and "keyrings.cryptfile" in proc.stderr
    check = cli("secret", "check")
    assert check.returncode == 2 and "no usable secret backend" in check.stdout
    run = cli("run", reveal_bot(tmp_path, "api_token"))
    assert run.returncode == 1 and "no usable keyring backend" in run.stderr and "node 'use'" in run.stderr
    cli.env["BOTLOOM_SECRET_API_TOKEN"] = "from-env"  # containers and CI: variables still work
    assert cli("run", reveal_bot(tmp_path, "api_token")).returncode == 0


def test_a_headless_machine_as_it_comes_says_what_to_set_up(cli, tmp_path):
    """No D-Bus session and no keyring configured, with keyrings.cryptfile installed: its file
    backends would ask for a password on the terminal, so none is picked behind the user's back."""
    no_keyring_env(cli)
    home = tmp_path / "user-home"
    cli.env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"))
    proc = cli("secret", "set", "api_token", input="v\n")
    assert proc.returncode == 2 and "no usable keyring backend" in proc.stderr
    assert "gnome-keyring" in proc.stderr and "BOTLOOM_KEYRING_KEY" in proc.stderr
    assert not home.exists() or not any(home.rglob("*.cfg"))  # no keyring file made on the side
    cli.env["PYTHON_KEYRING_BACKEND"] = "keyrings.cryptfile.cryptfile.CryptFileKeyring"
    named = cli("secret", "set", "api_token", input="v\n")
    assert named.returncode == 2 and "asks for its password on the terminal" in named.stderr
    assert "secrets.backend encrypted-file" in named.stderr


def test_plaintext_backend_is_refused_unless_allowed(cli, tmp_path):
    no_keyring_env(cli)
    cli.env.update(PYTHON_KEYRING_BACKEND="botloom_test_keyring.PlaintextKeyring", BOTLOOM_TEST_KEYRING=str(tmp_path))
    proc = cli("secret", "set", "api_token", input="v1\n")
    assert proc.returncode == 2
    assert "is refused" in proc.stderr and "plain text" in proc.stderr and "secrets.plaintext allow" in proc.stderr
    assert not (tmp_path / "keyring.json").exists()
    assert cli("config", "secrets.plaintext", "allow").returncode == 0
    assert cli("secret", "set", "api_token", input="v1\n").returncode == 0
    check = cli.json("secret", "check")
    assert check["secure"] is False and "plain text" in check["why"]
    assert cli("secret", "check").returncode == 2  # usable, but not secure: a script can tell
    assert cli("secret", "list").stdout.split() == ["api_token"]  # from the names index: this backend cannot list
    trail = [json.loads(line) for line in (cli.home / "audit" / "trail.jsonl").read_text().splitlines()]
    assert [(r["kind"], r.get("key") or r.get("name")) for r in trail] == [
        ("setting_changed", "secrets.plaintext"), ("secret_set", "api_token")]


# ---------------------------------------------------------------- gnome-keyring
def keyring_session(tmp_path: Path, cli, steps: list[dict], unlock: str | None = "vm keyring password") -> list[dict]:
    """Run ``steps`` in a fresh dbus-run-session with gnome-keyring in a throw-away home."""
    for tool in ("dbus-run-session", "gnome-keyring-daemon"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install the packages of installer/apt/secrets.txt")
    home = tmp_path / "vm-home"
    env = {"HOME": str(home), "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_RUNTIME_DIR": str(home / "runtime")}
    for path in env.values():
        Path(path).mkdir(parents=True, exist_ok=True)
    os.chmod(env["XDG_RUNTIME_DIR"], 0o700)
    spec = tmp_path / "session.json"
    out = tmp_path / "session-out.json"
    spec.write_text(json.dumps({"env": env, "unlock": unlock, "steps": steps}))
    child_env = {k: v for k, v in cli.env.items() if k not in ("PYTHON_KEYRING_BACKEND", "DBUS_SESSION_BUS_ADDRESS",
                                                                "DISPLAY", "BOTLOOM_KEYRING_KEY")}
    subprocess.run(["dbus-run-session", "--", sys.executable, str(TESTS / "keyring_session.py"), str(spec), str(out)],
                   env=child_env, cwd=cli.cwd, check=True, timeout=300, capture_output=True)
    return json.loads(out.read_text())


def test_gnome_keyring_in_a_service_session(cli, tmp_path):
    bot = reveal_bot(tmp_path, "api_token")
    lookup = ["secret-tool", "lookup", "service", "botloom", "username", "api_token"]
    lock = [sys.executable, "-c", "import secretstorage; c = secretstorage.dbus_init(); "
                                  "secretstorage.get_default_collection(c).lock()"]
    steps = [{"argv": cli.argv("secret", "set", "api_token"), "input": VALUE + "\n"},
             {"argv": cli.argv("secret", "check", "--json")},
             {"argv": cli.argv("secret", "list")},
             {"argv": cli.argv("run", bot, "--json")},
             {"argv": lookup},
             {"argv": lock},
             {"argv": cli.argv("run", bot)},
             {"argv": cli.argv("secret", "check")}]
    stored, check, listed, run, looked_up, locked, failed, check_locked = keyring_session(tmp_path, cli, steps)
    assert stored["code"] == 0, stored["stderr"]
    report = json.loads(check["stdout"])
    assert report["backend"] == "secret-service" and report["secure"] and report["usable"], report
    assert listed["stdout"].split() == ["api_token"]
    assert run["code"] == 0, run["stderr"]
    assert json.loads(run["stdout"])["outputs"] == {"n": len(VALUE)}
    assert looked_up["stdout"] == VALUE  # it really is in gnome-keyring, under service "botloom"
    assert (tmp_path / "vm-home" / "data" / "keyrings").is_dir()  # the throw-away home's keyring, not a real one
    assert locked["code"] == 0, locked["stderr"]
    assert failed["code"] == 1 and "is locked" in failed["stderr"] and "gnome-keyring-daemon --unlock" in failed["stderr"]
    assert "node 'use'" in failed["stderr"] and "Traceback" not in failed["stderr"]
    assert check_locked["code"] == 2 and "is locked" in check_locked["stdout"]
    assert VALUE.encode() not in all_bytes(cli.home)


def test_doctor_reports_the_backend_and_the_audit_trail(cli, tmp_path):
    no_keyring_env(cli)
    cli.env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

    def lines() -> dict:
        return {(c["area"], c["name"]): c for c in cli.json("doctor") if c["area"] in ("secrets", "audit")}

    found = lines()
    assert found[("secrets", "backend")]["ok"] is None  # nothing set up: optional, variables still work
    assert "gnome-keyring" in found[("secrets", "backend")]["fix"]
    assert found[("audit", "trail")]["ok"] is True
    cli.env.update(PYTHON_KEYRING_BACKEND="botloom_test_keyring.PlaintextKeyring", BOTLOOM_TEST_KEYRING=str(tmp_path))
    trail = AuditTrail(cli.home)
    for i in range(3):
        trail.record("test_event", number=i)
    trail.trail.write_text(trail.trail.read_text().replace('"number":1', '"number":7'))
    found = lines()
    assert found[("secrets", "backend")]["ok"] is False and "plain text" in found[("secrets", "backend")]["detail"]
    assert found[("audit", "trail")]["ok"] is False and "record 2 was altered" in found[("audit", "trail")]["detail"]


def test_rotating_the_encrypted_files_key(cli, tmp_path):
    no_keyring_env(cli)
    cli.env["BOTLOOM_KEYRING_KEY"] = "old key"
    for name, value in (("crm_password", VALUE), ("api_token", "tok-2")):
        assert cli("secret", "set", name, input=value + "\n").returncode == 0
    proc = cli("secret", "rekey", input="new key\n")
    assert proc.returncode == 0 and "re-encrypted 2 secrets" in proc.stderr
    old = cli("secret", "list")
    assert old.returncode == 2 and "does not open" in old.stderr  # the old key opens nothing any more
    cli.env["BOTLOOM_KEYRING_KEY"] = "new key"
    assert cli("secret", "list").stdout.split() == ["api_token", "crm_password"]
    run = cli("run", reveal_bot(tmp_path, "crm_password"), "--json")
    assert json.loads(run.stdout)["outputs"] == {"n": len(VALUE)}
    assert not list((cli.home / "secrets").glob("*.new"))
    kinds = [r["kind"] for r in AuditTrail(cli.home).records()]
    assert kinds.count("secret_key_rotated") == 1
