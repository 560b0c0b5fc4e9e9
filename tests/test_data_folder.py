"""The data folder is for its owner alone, and a full disk or a read-only data folder gives a
clear message, never a traceback, while the history stays readable.

Real runs of the `botloom` command in child processes. The full and read-only disks are real
file systems: a 2 MiB tmpfs mounted for the test (and remounted read-only), which needs root;
the permission case runs the command as the unprivileged user ``nobody``.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

from bots import write_bot
from tmpfs import mounted, remount_read_only

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "bots" / "csv-report" / "csv-report.bot.json"
FAILING = ({"start": {"type": "core.start"}, "boom": {"type": "core.fail", "params": {"message": "on purpose"}}},
           [("start.out", "boom.in")])


def run_cli(cli, *args, umask: int | None = None, user: str | None = None, env: dict | None = None):
    argv = cli.argv(*args)
    if user:
        import pwd

        who = pwd.getpwnam(user)
        argv = ["setpriv", f"--reuid={who.pw_uid}", f"--regid={who.pw_gid}", "--clear-groups", *argv]
    return subprocess.run(argv, cwd=cli.cwd, env=env or cli.env, capture_output=True, text=True, timeout=120,
                          preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)


def modes(folder: Path) -> dict[str, str]:
    """Every path below ``folder`` (and itself): "dir 0o700", "file 0o600"..."""
    found = {}
    for path in [folder, *folder.rglob("*")]:
        st = path.lstat()
        kind = "dir" if stat.S_ISDIR(st.st_mode) else "file"
        found[str(path.relative_to(folder))] = f"{kind} {oct(stat.S_IMODE(st.st_mode))}"
    return found


def assert_clear(proc, *words: str) -> None:
    """Failed with a message naming ``words``, and no traceback."""
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr and "sqlite3." not in proc.stderr, proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr


def live_run(cli, umask: int | None = None) -> tuple[subprocess.Popen, Path]:
    """A run that waits for a file (returned) to appear, once its process holds the run's lock."""
    go = cli.cwd / "go.txt"
    waiting = write_bot(cli.cwd, "waits", {"start": {"type": "core.start"},
                                           "wait": {"type": "files.wait", "params": {"pattern": str(go)}}},
                        [("start.out", "wait.in")])
    proc = subprocess.Popen(cli.argv("run", waiting, "-q"), cwd=cli.cwd, env=cli.env, stderr=subprocess.PIPE,
                            text=True, preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)
    deadline = time.monotonic() + 60  # a bound on a wait for the child, not a timing assertion
    while not list((cli.home / "locks").glob("*.lock")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None and list((cli.home / "locks").glob("*.lock")), "the run did not start"
    return proc, go


# ---------------------------------------------------------------- modes

@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_every_folder_is_0700_and_every_file_0600_whatever_the_umask(cli, tmp_path, umask):
    home = cli.home
    ran = run_cli(cli, "run", SAMPLE, "-q", "--input", f"out_dir={tmp_path / 'out'}", umask=umask)
    assert ran.returncode == 0, ran.stderr
    snap = write_bot(tmp_path, "keeps", {"start": {"type": "core.start"},
                                         "snap": {"type": "demo.snapshot", "params": {"text": "pixels"}}},
                     [("start.out", "snap.in")])
    kept = run_cli(cli, "run", snap, "-q", umask=umask)
    assert kept.returncode == 0, kept.stderr
    assert run_cli(cli, "config", "logs.max_runs", "500", umask=umask).returncode == 0
    headless = {k: v for k, v in cli.env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    started = run_cli(cli, "start", umask=umask, env=headless)
    assert started.returncode == 0, started.stderr

    # a lock file exists while a run is live: look at it then, and let the run end
    proc, go = live_run(cli, umask)
    try:
        found = modes(home)
    finally:
        go.write_text("go")
        assert proc.wait(timeout=60) == 0, proc.stderr.read()

    every = {**modes(home), **found}
    assert {"runs.sqlite", "runs.sqlite-wal", "settings.json", "cache/valid", "samples/csv-report/summary.json"} \
        <= set(every), sorted(every)
    for kind in ("logs/", "locks/", "artifacts/"):
        assert any(p.startswith(kind) and every[p].startswith("file") for p in every), (kind, sorted(every))
    wrong = {rel: mode for rel, mode in every.items() if mode not in ("dir 0o700", "file 0o600")}
    assert wrong == {}


def test_an_older_data_folder_keeps_working_and_new_files_are_private(cli, tmp_path):
    """A data folder made before (0755, a 0644 store) still works; what is created now is 0600."""
    home = cli.home
    home.mkdir(mode=0o755)
    assert run_cli(cli, "run", SAMPLE, "-q", "--input", f"out_dir={tmp_path / 'out'}").returncode == 0
    logs = list((home / "logs").iterdir())
    assert logs and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in logs)
    assert stat.S_IMODE((home / "logs").stat().st_mode) == 0o700


def test_a_damaged_store_is_still_told_as_damaged(cli):
    """The full-disk and read-only messages are not a guess for every error: a store file that
    is not a database keeps its own message."""
    cli.home.mkdir()
    (cli.home / "runs.sqlite").write_bytes(b"this is not an SQLite file" * 100)
    listed = run_cli(cli, "runs")
    assert_clear(listed, "damaged", "move it away")
    assert " is full" not in listed.stderr and "read-only" not in listed.stderr


# ---------------------------------------------------------------- full and read-only disks

@pytest.fixture
def small_disk(tmp_path):
    """A real 2 MiB file system (tmpfs), unmounted at the end."""
    yield from mounted(tmp_path / "disk", "2m")


def fill(disk: Path) -> Path:
    """Write zeros until the disk is full; returns the filler file."""
    filler = disk / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    assert shutil.disk_usage(disk).free < 65536
    return filler


@pytest.fixture
def on_disk(cli, small_disk):
    """The cli fixture with its data folder on the small disk, holding one good and one failed run."""
    cli.home = small_disk / "home"
    cli.env = dict(cli.env, BOTLOOM_HOME=str(cli.home))
    assert run_cli(cli, "run", SAMPLE, "-q", "--input", f"out_dir={cli.cwd / 'out'}").returncode == 0
    failing = write_bot(cli.cwd, "failing", *FAILING)
    assert run_cli(cli, "run", failing, "-q").returncode == 1
    runs = json.loads(run_cli(cli, "runs", "--json").stdout)
    cli.failed = next(r["id"] for r in runs if r["state"] == "failed")
    cli.disk = small_disk
    return cli


def test_a_full_disk_keeps_the_history_readable_and_says_what_to_do(on_disk):
    cli = on_disk
    proc, _ = live_run(cli)
    proc.kill()  # a run that died with the disk full: still "running" in the store, its lock gone
    proc.wait(timeout=60)
    filler = fill(cli.disk)

    listed = run_cli(cli, "runs")  # marks the dead run crashed: a write that may fail now, or fit the WAL
    assert listed.returncode == 0, listed.stderr
    assert "csv-report" in listed.stdout and "failing" in listed.stdout and "waits" in listed.stdout
    assert run_cli(cli, "show", "last").returncode == 0
    shown = run_cli(cli, "show", cli.failed)
    assert shown.returncode == 0, shown.stderr
    assert "failing" in shown.stdout and "on purpose" in shown.stdout

    ran = run_cli(cli, "run", SAMPLE, "-q", "--input", f"out_dir={cli.cwd / 'out2'}")
    assert_clear(ran, "is full", "free space", str(cli.home))
    resumed = run_cli(cli, "resume", cli.failed, "--retry")
    assert_clear(resumed, "is full", "free space", f"botloom resume {cli.failed}")

    filler.unlink()  # with space again, the dead run is recorded as crashed (if it was not already)
    runs = json.loads(run_cli(cli, "runs", "--json").stdout)
    assert [r["state"] for r in runs if r["bot"] == "waits"] == ["crashed"]


def test_a_read_only_data_folder_says_so_not_that_the_file_is_damaged(on_disk):
    cli = on_disk
    remount_read_only(cli.disk)

    listed = run_cli(cli, "runs")
    assert listed.returncode == 0, listed.stderr
    assert "csv-report" in listed.stdout and "failing" in listed.stdout
    assert run_cli(cli, "show", "last").returncode == 0
    for proc in (run_cli(cli, "run", SAMPLE, "-q", "--input", f"out_dir={cli.cwd / 'out2'}"),
                 run_cli(cli, "resume", cli.failed, "--retry"),
                 run_cli(cli, "config", "logs.max_runs", "10")):
        assert_clear(proc, "read-only", "BOTLOOM_HOME")
        assert "damaged" not in proc.stderr


def test_a_data_folder_this_user_cannot_write_says_so(cli, tmp_path):
    """chmod 0500 stops no root process, so the command runs as the unprivileged user nobody."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run as another user")
    import pwd

    nobody = pwd.getpwnam("nobody")
    shared = Path(tmp_path.anchor) / "tmp" / f"botloom-ro-{os.getpid()}"  # outside the 0700 pytest folders
    shared.mkdir(mode=0o755)
    try:
        cli.home = shared / "home"
        cli.env = dict(cli.env, BOTLOOM_HOME=str(cli.home), HOME=str(shared))
        cli.cwd = shared
        assert run_cli(cli, "run", SAMPLE, "-q", "--input", f"out_dir={shared / 'out'}").returncode == 0
        for path in [cli.home, *cli.home.rglob("*")]:
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
            path.chmod(0o500 if path.is_dir() else 0o400)

        listed = run_cli(cli, "runs", user="nobody")
        assert listed.returncode == 0, listed.stderr
        assert "csv-report" in listed.stdout
        ran = run_cli(cli, "run", SAMPLE, "-q", "--input", f"out_dir={shared / 'out2'}", user="nobody")
        assert_clear(ran, "cannot be written by this user", "BOTLOOM_HOME")
        assert "damaged" not in ran.stderr
    finally:
        shutil.rmtree(shared, ignore_errors=True)
