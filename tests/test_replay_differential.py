"""Differential replay: a run killed at random points (SIGKILL, real processes) and resumed ends
exactly as an uninterrupted run of the same bot: the same outputs and stored variables, the same
files, and every side effect exactly once.

Each bot runs once uninterrupted (the reference) and again through each kill plan, every time
in a work folder and a data folder of its own (``replay_corpus.Chain``). Kill points are exact
where they can be: before the k-th step (the debugger, ``--control stdin``), or at the k-th live
call of a gate or of an effect node that parks after writing (the in-flight case: the journal
says "running" and a person must decide retry or skip). Timed kills land anywhere else,
start-up and shutdown included.

The generated corpus (hypothesis, fixed seed, no shrinking: one example costs seconds) covers
every core node type and every value type the journal must carry; it runs at least
``MIN_KILLS`` kills. The csv-report sample is killed before each of its steps in turn.
"""

from __future__ import annotations

import difflib
import http.server
import json
import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import replay_corpus as rc

pytestmark = pytest.mark.skipif(os.name == "nt", reason="uses SIGKILL")

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
MIN_KILLS = 200


class _Api(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        body = json.dumps({"items": [1, 2], "path": self.path.split("?")[0]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def api():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def pythonpath(tmp_path_factory) -> list[Path]:
    return [rc.install_pack(tmp_path_factory.mktemp("replay-pack")), TESTS, TESTS / "data" / "packs"]


def corpus():
    """(segments, kill plans). A kill plan lists kill points, one per process in turn: ("step", k)
    before the first process's k-th step, ("park", k) at the k-th live gate or effect call of a
    process, ("time", s) s seconds after it started."""
    from hypothesis import strategies as st

    segment = st.tuples(st.sampled_from(rc.BotBuilder.SEGMENTS), st.sampled_from(rc.KINDS))
    kill = st.one_of(st.tuples(st.just("park"), st.integers(1, 4)),
                     st.tuples(st.just("time"), st.floats(0.3, 0.7).map(lambda s: round(s, 2))),
                     st.tuples(st.just("step"), st.integers(2, 30)))
    plan = st.lists(kill, min_size=5, max_size=8)
    return st.tuples(st.lists(segment, min_size=2, max_size=5), st.lists(plan, min_size=3, max_size=3))


def typed(encoded):
    """The fingerprint of a value as `botloom ... --json` prints it (the codec's tagged JSON):
    equal sets are equal whatever order their members were printed in."""
    from botloom.runner.codec import decode

    return rc.fingerprint(decode(encoded))


def differences(reference: rc.Chain, ref_result: dict, other: rc.Chain, result: dict, same=None) -> list[str]:
    """How a killed-and-resumed run differs from the uninterrupted one (empty: not at all).
    ``same(name, data)`` normalises a file's content before the comparison."""
    diffs = []
    for key in ("state", "outputs", "error"):
        if key == "outputs" and result.get("from_store"):
            continue  # compared as stored, below
        if typed(ref_result.get(key)) != typed(result.get(key)):
            diffs.append(f"{key}: uninterrupted {ref_result.get(key)!r}\n        resumed       {result.get(key)!r}")
    ref_shown, shown = reference.shown()["run"], other.shown()["run"]
    if typed(ref_shown["outputs"]) != typed(shown["outputs"]):
        diffs.append(f"stored outputs: uninterrupted {ref_shown['outputs']!r}\n        resumed {shown['outputs']!r}")
    twice = [line for line, n in Counter(rc.lines(other.work / rc.EFFECTS)).items() if n > 1]
    if twice:
        diffs.append(f"side effects repeated: {twice}")
    ref_files, files = reference.files(), other.files()
    same = same or (lambda name, data: data)
    for name in sorted(set(ref_files) | set(files)):
        if name not in ref_files or name not in files or same(name, ref_files[name]) != same(name, files[name]):
            a, b = ((f.get(name) or b"").decode("utf-8", "replace").splitlines() for f in (ref_files, files))
            diff = "\n".join(list(difflib.unified_diff(a, b, "uninterrupted", "resumed", lineterm=""))[:40])
            diffs.append(f"file {name} differs:\n{diff}")
    leaks = other.secret_leaks()
    if leaks:
        diffs.append(f"the secret's value was written to {leaks}")
    return diffs


def differential(root: Path, bot: dict, files: dict, plans: list[list[tuple]], pythonpath, extra=None,
                 same=None) -> int:
    """Run the bot uninterrupted and through each kill plan (in parallel); assert they agree.
    Returns the number of kills."""
    chains = [rc.Chain(root / f"chain{i}", bot, files, pythonpath, extra) for i in range(len(plans) + 1)]
    with ThreadPoolExecutor(min(len(chains), 4)) as pool:
        results = list(pool.map(lambda c, plan: c.drive(plan), chains, [[], *plans]))
    reference, ref_result = chains[0], results[0]
    assert ref_result["state"] == "succeeded", (ref_result, reference.log)
    effects = rc.lines(reference.work / rc.EFFECTS)
    assert len(effects) == len(set(effects)), "the generator must make every side effect line unique"
    problems = []
    for chain, result, plan in zip(chains[1:], results[1:], plans):
        diffs = differences(reference, ref_result, chain, result, same)
        if diffs:
            problems.append(f"kill plan {plan} ({chain.kills} kills; {'; '.join(chain.decisions) or 'no decision'}):\n"
                            + "\n".join(f"  - {d}" for d in diffs) + "\n  processes: " + " | ".join(chain.log))
    assert not problems, f"bot segments {bot.get('x-segments')}:\n" + "\n".join(problems)
    return sum(c.kills for c in chains)


EVERY_SEGMENT = [(segment, rc.KINDS[i % len(rc.KINDS)]) for i, segment in enumerate(rc.BotBuilder.SEGMENTS)]
EVERY_KIND = [("value", kind) for kind in rc.KINDS]
PARKS = [[("park", 1 + (i + j) % 4) for j in range(8)] for i in range(3)]


def test_generated_bots_resume_as_if_never_killed(tmp_path, api, pythonpath):
    from hypothesis import HealthCheck, Phase, example, given, settings

    kills, covered, kinds, started = [], set(), set(), []

    def one(segments, plans):
        n = len(started)  # hypothesis runs a failing example again: each attempt gets folders of its own
        started.append(segments)
        bot, files = rc.build(f"gen-{n}", segments, api)
        bot["x-segments"] = segments  # named in a failure message; Botloom keeps x- keys and ignores them
        covered.update(rc.node_types(bot, files))
        kinds.update(kind for segment, kind in segments if segment in ("value", "signal", "subflow", "callbot"))
        kills.append(differential(tmp_path / f"case{n}", bot, files, plans, pythonpath))

    @settings(max_examples=10, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(corpus())
    @example((EVERY_SEGMENT, [[("step", 12), ("park", 3), ("time", 0.5), ("park", 1), ("park", 4), ("park", 2)],
                              [("time", 0.6), ("step", 40), ("park", 2), ("park", 2), ("park", 3), ("park", 1)],
                              [("step", 3), ("park", 1), ("park", 1), ("time", 0.45), ("park", 4), ("park", 2)]]))
    @example((EVERY_KIND, PARKS))
    def check(case):
        one(*case)

    check()
    while sum(kills) < MIN_KILLS:  # the generated plans fell short: more kills of the widest bot
        one(EVERY_SEGMENT, PARKS)
    print(f"\n{sum(kills)} kills in {len(kills)} bots")  # noqa: T201 (the figure the issue asks for)
    assert {t.id for t in _core_pack().nodes} <= covered, {t.id for t in _core_pack().nodes} - covered
    assert set(rc.KINDS) <= kinds, set(rc.KINDS) - kinds


def _core_pack():
    from botloom.runner.sdk.registry import Registry

    return Registry.discover().packs["core"]


def sample(name: str) -> tuple[dict, dict[str, bytes]]:
    """A sample bot's JSON and the other files of its folder."""
    folder = ROOT / "bots" / name
    bot = json.loads((folder / f"{name}.bot.json").read_text(encoding="utf-8"))
    return bot, {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and not p.name.endswith(".bot.json")}


def test_the_csv_report_sample_resumes_as_if_never_killed(tmp_path, pythonpath):
    """Killed before every other one of its steps (and, in the resumes, at a moment in start-up)."""
    bot, extra = sample("csv-report")

    def same(name, data):  # the summary names the run that wrote it
        return {k: v for k, v in json.loads(data).items() if k != "run"} if name.endswith("summary.json") else data

    plans = [[("step", k), ("time", 0.3 + k % 4 * 0.05)] for k in range(2, 20, 2)]
    assert differential(tmp_path, bot, {}, plans, pythonpath, extra, same) >= len(plans)


def test_a_date_set_before_a_signal_is_still_a_date_after_it(tmp_path, pythonpath):
    """`when = parse_date(...)`, wait for a signal, log `when.year`: live and after `botloom signal`."""
    def bot(wait: bool) -> dict:
        flow = rc.Flow()
        flow.then("when", "core.set_variable", {"name": "when", "value": "{{ parse_date('2024-01-02') }}"})
        if wait:
            flow.then("wait", "core.wait_signal", {"signal": "go"})
        flow.then("year", "core.log", {"message": "year {{ when.year }}"})
        return {"format": 1, "name": "when", "outputs": {"when": "any"}, **flow.json()}

    live = rc.Chain(tmp_path / "live", bot(False), {}, pythonpath)
    lived = live.call("run", live.bot, "--json")
    assert lived.returncode == 0, lived.stdout + lived.stderr
    assert "year 2024" in lived.stderr

    waiting = rc.Chain(tmp_path / "waiting", bot(True), {}, pythonpath)
    first = waiting.call("run", waiting.bot, "--json")
    assert first.returncode == 3, first.stdout + first.stderr
    woken = waiting.call("signal", "last", "go", "--json")
    assert "has no attribute 'year'" not in woken.stdout + woken.stderr
    assert woken.returncode == 0, woken.stdout + woken.stderr
    assert "year 2024" in woken.stderr
    assert typed(json.loads(woken.stdout)["outputs"]) == typed(json.loads(lived.stdout)["outputs"]) == \
        "dict{str('when'): datetime(2024-01-02T00:00:00 None)}"


def _form_app():
    import importlib.util

    app_file = ROOT / "bots" / "web-form-entry" / "form_app.py"
    spec = importlib.util.spec_from_file_location("web_form_entry_app", app_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FormApp(port=0).start()


def test_the_web_form_sample_resumes_as_if_never_killed(tmp_path, pythonpath):
    """A real Chromium and the sample's own form app (one per run: the claims it received are the
    side effects). Killed a few times only, before a step: a browser run is slow to start."""
    import openpyxl
    from botloom.nodes.browser import discover

    discover.resolve("auto")  # fail loudly, not skip, when the machine has no browser
    bot, extra = sample("web-form-entry")

    def one(name: str, plan: list[tuple]):
        app = _form_app()
        try:
            bot["inputs"]["form_url"]["default"] = app.url  # the snapshot differs only in this default
            chain = rc.Chain(tmp_path / name, bot, {}, pythonpath, extra)
            result = chain.drive(plan)
            written = chain.work / "out" / "results.xlsx"
            rows = [tuple(v.replace(app.url, "URL") if isinstance(v, str) else v for v in row)  # its own port
                    for row in openpyxl.load_workbook(written).active.iter_rows(values_only=True)] \
                if written.exists() else None
            return chain, result, [c["status"] for c in app.claims], rows
        finally:
            app.stop()

    ref, ref_result, ref_claims, ref_rows = one("reference", [])
    assert ref_result["state"] == "succeeded" and ref_claims, (ref_result, ref.log)
    failures = []
    for k in (4, 10, 15):  # after the browser opened; before the second row; on the third row
        chain, result, claims, rows = one(f"kill{k}", [("step", k), ("time", 0.4)])
        assert chain.kills >= 1, chain.log
        diffs = [d for d, bad in ((f"state {result['state']}: {(result.get('error') or {}).get('message')}",
                                   result["state"] != "succeeded"),
                                  (f"outputs {result.get('outputs')}", typed(result.get("outputs")) !=
                                   typed(ref_result["outputs"]) and not result.get("from_store")),
                                  (f"claims received {claims}, not {ref_claims}", claims != ref_claims),
                                  (f"results.xlsx rows {rows}", rows != ref_rows)) if bad]
        if diffs:
            failures.append(f"killed before step {k} ({' | '.join(chain.log)}): " + "; ".join(diffs))
    # Killed between the first claim's submit and reading its answer (before step 8, 'detail'): the
    # submit reached the site and is not sent again, so the answer page is gone after the resume
    # (docs/browser.md, "Resuming a browser run"). The resumed run stops there, saying which
    # element it did not find on which page, with every claim sent once.
    chain, result, claims, rows = one("kill8", [("step", 8), ("time", 0.4)])
    message = (result.get("error") or {}).get("message") or ""
    if not (result["state"] == "failed" and "'css=#detail'" in message and "/claims/new" in message
            and claims == ref_claims[:1] and rows is None):
        failures.append(f"killed before step 8 ({' | '.join(chain.log)}): state {result['state']}: {message}; "
                        f"claims received {claims}, not {ref_claims[:1]}; results.xlsx rows {rows}")
    assert not failures, "\n".join(failures)


def test_the_mousepad_sample_resumes_as_if_never_killed(tmp_path, pythonpath):
    """Mousepad on a virtual screen (Xvfb + openbox): the runner is killed before typing the note,
    in the Save As dialog and before closing the editor, which stays open as it would after a
    crash of the runner alone; the resumed run must save the same file, typed once."""
    import signal

    from virtual_display import VirtualDisplay, missing_tools

    gone = missing_tools(("Xvfb", "openbox", "xdotool", "wmctrl", "xclip", "mousepad"))
    assert not gone, f"the desktop sample needs the system packages of installer/apt/desktop.txt: {gone}"
    bot, _ = sample("mousepad-note")

    def one(vd, name: str, plan: list[tuple]):
        target = tmp_path / f"{name}-note.txt"
        bot["inputs"]["save_as"]["default"] = str(target)  # a full path: it is typed into the dialog
        chain = rc.Chain(tmp_path / name, bot, {}, pythonpath)
        chain.env = {**vd.env, **{k: v for k, v in chain.env.items() if k.startswith(("BOTLOOM", "PYTHON"))}}
        try:
            result = chain.drive(plan)
        finally:  # an editor a failed run left open would take the next run's keys
            for step in chain.shown()["steps"] if chain.stored() else []:
                pid = json.loads(step["outputs"] or "{}").get("pid") if step["node_id"] == "launch" else None
                if pid:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        return chain, result, target.read_bytes() if target.exists() else None

    with VirtualDisplay(1280, 800) as vd:
        ref, ref_result, ref_note = one(vd, "reference", [])
        assert ref_result["state"] == "succeeded" and ref_note, (ref_result, ref.log)
        failures = []
        for k in (5, 8, 12):  # before 'write', before typing the file name, before 'close'
            chain, result, note = one(vd, f"kill{k}", [("step", k)])
            assert chain.kills == 1, chain.log
            if result["state"] != "succeeded" or note != ref_note:
                failures.append(f"killed before step {k} ({' | '.join(chain.log)}): {result['state']} "
                                f"{(result.get('error') or {}).get('message')}; saved {note!r}, not {ref_note!r}")
    assert not failures, "\n".join(failures)
