"""The leak test with every way a bot uses a secret: an HTTP header (to a server that answers
401 and echoes it), typed on the virtual screen, filled and typed in a real Chromium (whose
trace, with DOM snapshots, is kept), an expression, a log message and a failing step. Then
every file of the data folder (the database, logs, artifacts, each member of the trace), the
event stream, `show` and `logs` are searched for the value and its encodings: zero hits."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from secret_leaks import echo, leak_bot, run_and_search  # noqa: E402, F401 (echo: a fixture)

TOKEN = 'Tk9/x+Q=z&"a<b>%41-rest'


def test_secret_typed_filled_sent_logged_and_failing_leaks_nowhere(desktop, cli, tmp_path, echo):
    from botloom.nodes.browser import discover

    discover.resolve("auto")  # a real Chromium: fail loudly when the machine has none
    cli.env.pop("PYTHON_KEYRING_BACKEND", None)
    cli.env["BOTLOOM_KEYRING_KEY"] = "key of this test"
    assert cli("secret", "set", "api_token", input=TOKEN + "\n").returncode == 0
    extra = {
        "desk": {"type": "desktop.type_text", "params": {"text": "{{ secrets.api_token }}"}},
        "page": {"type": "browser.goto", "params": {"url": f"{echo.url}/form"}},
        "fill": {"type": "browser.fill", "params": {"target": "css=#pw", "secret": "api_token"}},
        "keys": {"type": "browser.type", "params": {"target": "css=#note", "text": "{{ secrets.api_token }}"}},
        "read": {"type": "browser.get_text", "params": {"target": "css=#pw"}},
    }
    bot = leak_bot(tmp_path, echo.url, extra, ("desk", "page", "fill", "keys", "read"),
                   settings={"browser": {"trace": "always", "trace_snapshots": True}})
    finished, found = run_and_search(cli, bot, TOKEN)
    assert echo.seen == [f"Bearer {TOKEN}", TOKEN]
    assert finished["state"] == "failed" and finished["error"]["message"] == "giving up with ***", finished
    traces = list((cli.home / "artifacts").rglob("*trace.zip"))
    assert traces, "the browser kept no trace"
    assert found == []
