"""The `botloom` command end to end, in child processes, as users and parent processes use it."""

from __future__ import annotations

import json
import time

from bots import write_bot

HELLO = ({"start": {"type": "core.start"},
          "hello": {"type": "core.log", "params": {"message": "hello {{ who }}"}}},
         [("start.out", "hello.in")])


def hello_bot(tmp_path, **top):
    top.setdefault("inputs", {"who": {"type": "string", "default": "world"}})
    return write_bot(tmp_path, "hello", *HELLO, **top)


def test_version_and_help(cli):
    assert cli("--version").stdout.startswith("botloom ")
    helped = cli("run", "--help")
    assert helped.returncode == 0 and "exit codes" in helped.stdout


def test_run_succeeds_with_inputs_and_json(cli, tmp_path):
    bot = write_bot(tmp_path, "sum", {
        "start": {"type": "core.start"},
        "add": {"type": "core.set_variable", "params": {"name": "total", "value": "{{ a + b }}"}},
    }, [("start.out", "add.in")], inputs={"a": "integer", "b": {"type": "number", "default": 0.5}},
        outputs={"total": "number"})
    proc = cli("run", bot, "--input", "a=2", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["state"] == "succeeded" and result["outputs"] == {"total": 2.5}


def test_one_node_run_imports_nothing_heavy(cli, tmp_path):
    """`botloom run` of a one-node bot must not load Qt, Playwright, ONNX Runtime or OpenCV,
    nor the node packs it does not use."""
    bot = write_bot(tmp_path, "one", {"start": {"type": "core.start"}}, [])
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sys, json\n"
        "from botloom.runner.cli import main\n"
        f"code = main(['run', {str(bot)!r}, '-q'])\n"
        "heavy = ('PySide6', 'PyQt5', 'PyQt6', 'playwright', 'onnxruntime', 'cv2', 'easyocr', 'torch', 'openpyxl', 'numpy', 'sklearn', 'rapidocr', 'pyautogui', 'mss', 'pypdfium2', 'PIL')\n"
        "packs = sorted({m.split('.')[2] for m in sys.modules if m.startswith('botloom.nodes.')})\n"
        "print(json.dumps({'code': code, 'loaded': sorted(m for m in sys.modules if m.split('.')[0] in heavy), "
        "'packs': packs}))\n")
    import subprocess
    import sys

    for attempt in ("first run (validates)", "cached run"):
        out = subprocess.run([sys.executable, str(probe)], env=cli.env, capture_output=True, text=True, timeout=60)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        # only the pack the bot uses is imported: not desktop, browser, OCR or AI
        assert result == {"code": 0, "loaded": [], "packs": ["core"]}, (attempt, out.stderr)


def test_bad_input_and_bad_bot_exit_2_without_traceback(cli, tmp_path):
    bot = hello_bot(tmp_path, inputs={"count": "integer"})
    wrong = cli("run", bot, "--input", "cuont=3")
    assert wrong.returncode == 2 and "unknown input 'cuont' (did you mean 'count'?)" in wrong.stderr
    typed = cli("run", bot, "--input", "count=three")
    assert typed.returncode == 2 and "input 'count'" in typed.stderr and "whole number" in typed.stderr
    assert cli("run", bot, "--input", "noequals").returncode == 2
    typo = write_bot(tmp_path, "typo", {"start": {"type": "core.start"}, "x": {"type": "core.lgo"}},
                     [("start.out", "x.in")])
    proc = cli("run", typo)
    assert proc.returncode == 2
    assert "unknown node type 'core.lgo' (did you mean 'core.log'?)" in proc.stderr
    assert "typo.bot.json" in proc.stderr
    missing = cli("run", tmp_path / "nope.bot.json")
    assert missing.returncode == 2 and "file not found" in missing.stderr
    for proc in (wrong, typed, proc, missing):
        assert "Traceback" not in proc.stderr


def test_newer_format_is_refused_and_file_untouched(cli, tmp_path):
    path = tmp_path / "future.bot.json"
    text = json.dumps({"format": 99, "name": "future", "nodes": {}, "edges": [], "hologram": True})
    path.write_text(text)
    proc = cli("run", path)
    assert proc.returncode == 2 and "newer Botloom" in proc.stderr and "upgrade Botloom" in proc.stderr
    assert path.read_text() == text


def test_failed_run_exit_1_with_where_and_fix(cli, tmp_path):
    bot = write_bot(tmp_path, "fails", {
        "start": {"type": "core.start"},
        "boom": {"type": "core.fail", "params": {"message": "invoice {{ 42 }} is not approved"}},
    }, [("start.out", "boom.in")])
    proc = cli("run", bot)
    assert proc.returncode == 1
    assert "invoice 42 is not approved" in proc.stderr and "node 'boom'" in proc.stderr
    shown = cli.json("show", "last")
    assert shown["run"]["state"] == "failed"
    assert json.loads(shown["steps"][-1]["error"])["kind"] == "failed"


def test_validate_reports_every_problem(cli, tmp_path):
    good = hello_bot(tmp_path)
    bad = write_bot(tmp_path, "bad", {
        "start": {"type": "core.start"},
        "a": {"type": "core.log", "params": {"mesage": "x"}},
        "orphan": {"type": "core.log", "params": {"message": "never"}},
    }, [("start.out", "a.in"), ("a.out", "ghost.in")])
    ok = cli("validate", good)
    assert ok.returncode == 0 and "ok" in ok.stdout
    proc = cli("validate", good, bad, "--json")
    assert proc.returncode == 2
    report = {r["bot"].rsplit("/", 1)[-1]: r for r in json.loads(proc.stdout)}
    codes = sorted(p["code"] for p in report["bad.bot.json"]["problems"])
    assert codes == ["dangling-edge", "missing-param", "unknown-param", "unreachable"]
    unknown = next(p for p in report["bad.bot.json"]["problems"] if p["code"] == "unknown-param")
    assert "did you mean 'message'" in unknown["message"] and unknown["pointer"] == "/nodes/a/params/mesage"


def test_nodes_list_show_and_docs(cli):
    listed = cli("nodes")
    assert listed.returncode == 0
    for type_id in ("core.for_each", "core.try", "data.read_csv", "http.request", "demo.shout"):
        assert type_id in listed.stdout
    shown = cli("nodes", "show", "core.while")
    assert "max_iterations" in shown.stdout and "Control ports" in shown.stdout
    described = cli.json("nodes", "show", "core.log")
    assert described["params"]["level"]["enum"] == ["debug", "info", "warning", "error"]
    unknown = cli("nodes", "show", "core.sett_variable")
    assert unknown.returncode == 2 and "did you mean 'core.set_variable'" in unknown.stderr
    searched = cli("nodes", "--search", "loop")
    assert "core.for_each" in searched.stdout and "http.request" not in searched.stdout
    docs = cli("nodes", "docs")
    assert "# Node reference" in docs.stdout and "### For each (`core.for_each`)" in docs.stdout


def test_third_party_pack_is_discovered_and_old_versions_load(cli, tmp_path):
    bot = write_bot(tmp_path, "legacy", {
        "start": {"type": "core.start"},
        "old": {"type": "demo.yell", "version": 1, "params": {"words": "quiet"}},
        "set": {"type": "core.set_variable", "params": {"name": "said", "value": "{{ nodes.old.text }}"}},
    }, [("start.out", "old.in"), ("old.out", "set.in")], outputs={"said": "string"})
    proc = cli("run", bot, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["outputs"] == {"said": "QUIET"}


def test_missing_optional_dependency_names_the_install_command(cli, tmp_path):
    bot = write_bot(tmp_path, "extra", {"start": {"type": "core.start"}, "x": {"type": "demo.needs_extra"}},
                    [("start.out", "x.in")])
    proc = cli("run", bot)
    assert proc.returncode == 1
    assert "pip install 'botloom-demo-pack[extra]'" in proc.stderr
    assert "needs: pip install 'botloom-demo-pack[extra]'" in cli("nodes").stdout


def test_events_jsonl_stream(cli, tmp_path):
    bot = hello_bot(tmp_path)
    proc = cli("run", bot, "--events", "jsonl", "-q")
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert kinds.count("node_started") == kinds.count("node_finished") == 2
    log = next(e for e in events if e["event"] == "log")
    assert log["message"] == "hello world" and log["node"] == "hello"


def test_debugger_over_stdin(cli, tmp_path):
    bot = write_bot(tmp_path, "debug", {
        "start": {"type": "core.start"},
        "a": {"type": "core.set_variable", "params": {"name": "x", "value": 1}},
        "b": {"type": "core.set_variable", "params": {"name": "x", "value": 2}},
        "c": {"type": "core.log", "params": {"message": "x={{ x }}"}},
    }, [("start.out", "a.in"), ("a.out", "b.in"), ("b.out", "c.in")])
    proc = cli.start("run", bot, "--events", "jsonl", "--control", "stdin", "--break", "b", "-q",
                     stdin=__import__("subprocess").PIPE)

    def next_event(kind):
        while True:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            event = json.loads(line)
            if event["event"] == kind:
                return event

    paused = next_event("paused")
    assert (paused["node"], paused["reason"], paused["variables"]) == ("b", "breakpoint", {"x": 1})
    proc.stdin.write(json.dumps({"cmd": "step"}) + "\n")
    proc.stdin.flush()
    stepped = next_event("paused")
    assert (stepped["node"], stepped["reason"], stepped["variables"]) == ("c", "step", {"x": 2})
    proc.stdin.write(json.dumps({"cmd": "resume"}) + "\n")
    proc.stdin.flush()
    assert next_event("run_finished")["state"] == "succeeded"
    assert proc.wait(10) == 0


def test_runs_filters_show_and_logs(cli, tmp_path):
    hello = hello_bot(tmp_path)
    fails = write_bot(tmp_path, "fails", {"start": {"type": "core.start"},
                                          "x": {"type": "core.fail", "params": {"message": "no"}}},
                      [("start.out", "x.in")])
    assert cli("run", hello, "-i", "who=Ann").returncode == 0
    assert cli("run", fails, "--trigger", "nightly").returncode == 1
    assert {r["bot"]: r["trigger"] for r in cli.json("runs")} == {"hello": "cli", "fails": "nightly"}
    assert [r["bot"] for r in cli.json("runs", "--state", "failed")] == ["fails"]
    assert [r["state"] for r in cli.json("runs", "--bot", "hello")] == ["succeeded"]
    run_id = cli.json("runs", "--bot", "hello")[0]["id"]
    text = cli("logs", run_id[-6:])  # a unique part of the id is enough
    assert "[hello] hello Ann" in text.stdout and "run succeeded" in text.stdout
    events = [json.loads(line) for line in cli("logs", run_id, "--json").stdout.splitlines()]
    assert events[0]["event"] == "run_started" and events[-1]["event"] == "run_finished"
    shown = cli("show", run_id)
    assert "succeeded" in shown.stdout and "hello" in shown.stdout and "history:" in shown.stdout
    assert cli("show", "no-such-run").returncode == 2


def test_logs_follow_streams_until_the_run_ends(cli, tmp_path):
    bot = write_bot(tmp_path, "slow", {
        "start": {"type": "core.start"},
        "one": {"type": "core.log", "params": {"message": "first"}},
        "wait": {"type": "core.delay", "params": {"seconds": 1.0}},
        "two": {"type": "core.log", "params": {"message": "second"}},
    }, [("start.out", "one.in"), ("one.out", "wait.in"), ("wait.out", "two.in")])
    run = cli.start("run", bot)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not cli.json("runs"):
        pass  # follow as soon as the run exists, perhaps before its log file does
    follow = cli("logs", "last", "--follow")
    assert run.wait(20) == 0
    assert "first" in follow.stdout and "second" in follow.stdout and "run succeeded" in follow.stdout


def test_logs_follow_waits_for_the_last_lines_of_a_run_just_over(cli, tmp_path, botloom_home, monkeypatch, capsys):
    """The store says a run is over a moment before its log's last lines are flushed: the
    follower keeps reading until the file has been still, instead of stopping at the first end
    of file after the state changed."""
    import argparse

    from botloom.runner import cli_history

    assert cli("run", hello_bot(tmp_path), "-q").returncode == 0
    log = next((botloom_home / "logs").glob("*.log"))
    first, rest = log.read_text(encoding="utf-8").split("\n", 1)
    assert rest.strip()
    log.write_text(first + "\n", encoding="utf-8")  # as if the rest were still in the runner's buffer
    real_sleep = cli_history.time.sleep

    def runner_flushes(seconds):  # while the follower waits at the end of the file, the runner flushes
        if log.read_text(encoding="utf-8") == first + "\n":
            with open(log, "a", encoding="utf-8") as f:
                f.write(rest)
        real_sleep(seconds)

    monkeypatch.setattr(cli_history.time, "sleep", runner_flushes)
    monkeypatch.setattr(cli_history, "_run_over", lambda run_id: True)
    capsys.readouterr()
    assert cli_history.cmd_logs(argparse.Namespace(run="last", json=False, follow=True)) == 0
    assert capsys.readouterr().out == first + "\n" + rest


def test_log_retention_prunes_old_logs(cli, tmp_path, botloom_home):
    import os

    bot = hello_bot(tmp_path)
    for _ in range(3):
        assert cli("run", bot, "-q").returncode == 0
    logs = sorted((botloom_home / "logs").glob("*.log"))
    assert len(logs) == 3
    old = time.time() - 40 * 86400
    os.utime(logs[0], (old, old))
    os.utime(logs[0].with_suffix(".jsonl"), (old, old))
    assert cli("config", "logs.max_runs", "5").returncode == 0
    assert cli("run", bot, "-q").returncode == 0
    remaining = sorted((botloom_home / "logs").glob("*.log"))
    assert logs[0] not in remaining and len(remaining) == 3
    assert "logs.max_runs = 5" in cli("config").stdout
    assert cli("config", "logs.nonsense", "1").returncode == 2


def test_schema_command_prints_the_published_schema(cli):
    proc = cli("schema")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["properties"]["format"]


def test_start_without_display_runs_the_sample_headless(cli):
    env = {k: v for k, v in cli.env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "botloom.runner.cli", "start"], env=env, capture_output=True,
                          text=True, timeout=60, cwd=cli.cwd)
    assert proc.returncode == 0, proc.stderr
    assert "no display" in proc.stderr and "headless" in proc.stderr and "succeeded" in proc.stderr


def test_artifacts_are_kept_with_the_run(cli, tmp_path, botloom_home):
    bot = write_bot(tmp_path, "keeps", {"start": {"type": "core.start"},
                                        "snap": {"type": "demo.snapshot", "params": {"text": "pixels"}}},
                    [("start.out", "snap.in")])
    assert cli("run", bot).returncode == 0, cli("run", bot).stderr
    shown = cli.json("show", "last")
    [artifact] = shown["artifacts"]
    assert artifact["kind"] == "screenshot" and artifact["node_id"] == "snap"
    assert artifact["path"].startswith(str(botloom_home / "artifacts" / shown["run"]["id"]))
    assert open(artifact["path"]).read() == "pixels"
    assert "artifacts:" in cli("show", "last").stdout


def test_inputs_from_a_json_file(cli, tmp_path):
    bot = write_bot(tmp_path, "sum", {
        "start": {"type": "core.start"},
        "add": {"type": "core.set_variable", "params": {"name": "total", "value": "{{ items | sum }}"}},
    }, [("start.out", "add.in")], inputs={"items": "list", "label": "string"}, outputs={"total": "number"})
    (tmp_path / "in.json").write_text(json.dumps({"items": [1, 2, 3.5], "label": "x"}))
    proc = cli("run", bot, "--inputs", tmp_path / "in.json", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["outputs"] == {"total": 6.5}
    overridden = cli("run", bot, "--inputs", tmp_path / "in.json", "-i", "items=[10]", "--json")
    assert json.loads(overridden.stdout)["outputs"] == {"total": 10}
    (tmp_path / "bad.json").write_text("[1, 2]")
    bad = cli("run", bot, "--inputs", tmp_path / "bad.json")
    assert bad.returncode == 2 and "JSON object" in bad.stderr
