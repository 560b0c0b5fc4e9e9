"""Masking: a secret revealed during a run never reaches the store, the logs, the event stream,
the result or a kept file, in plain text or in its common encodings."""

from __future__ import annotations

import base64
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bots import registry_with, run, write_bot
from botloom.runner.codec import dumps
from botloom.runner.masking import MASK, Masker
from botloom.runner.sdk import Param, node
from secret_leaks import blobs, hits

TOKEN = 'Tk9/x+Q=z&"a<b>%41-rest'


# ---------------------------------------------------------------- the masker
def test_value_and_its_encodings_are_masked():
    m = Masker()
    m.add(TOKEN)
    basic = base64.b64encode(f"alice:{TOKEN}".encode()).decode()  # inside the base64 of a longer text
    text = {"plain": f"Bearer {TOKEN}", "basic": f"Basic {basic}", "json": json.dumps({"t": TOKEN}),
            "url": f"?t={__import__('urllib.parse').parse.quote(TOKEN, safe='')}", "hex": TOKEN.encode().hex(),
            "bytes": b"x" + TOKEN.encode() + b"y", ("key " + TOKEN): [TOKEN, (TOKEN,)]}
    masked = m.mask(text)
    blob = json.dumps({str(k): str(v) for k, v in masked.items()})
    assert hits(TOKEN, {"masked": blob.encode()}) == []
    assert "alice" not in masked["basic"] or MASK in masked["basic"]
    assert masked["plain"] == f"Bearer {MASK}" and masked["bytes"] == b"x" + MASK.encode() + b"y"
    assert masked[f"key {MASK}"] == [MASK, (MASK,)]


def test_nothing_registered_costs_nothing_and_changes_nothing():
    m = Masker()
    value = {"a": ["b", {"c": "d"}]}
    assert not m and m.mask(value) is value
    m.add("")  # an empty secret is not a secret
    assert not m
    m.add("zzzz")
    assert m.mask(value) is value  # nothing to replace: the same objects, not copies


def test_encodings_shorter_than_four_characters_are_left_alone():
    m = Masker()
    m.add("ab")  # base64 "YWI" is too short to mask (it would blank ordinary text); hex "6162" is not
    assert m.mask_text("cab YWI= 6162") == f"c{MASK} YWI= {MASK}"


def test_a_kept_zip_archive_is_masked_member_by_member(tmp_path):
    trace = tmp_path / "trace.zip"
    with zipfile.ZipFile(trace, "w") as z:
        z.writestr("trace.trace", json.dumps({"method": "fill", "params": {"value": TOKEN}}))
        z.writestr("trace.network", f"authorization: Bearer {TOKEN}")
        z.writestr("other.txt", "nothing secret")
    m = Masker()
    m.add(TOKEN)
    assert m.mask_file(trace)
    assert hits(TOKEN, blobs(tmp_path)) == []
    with zipfile.ZipFile(trace) as z:
        assert z.read("other.txt") == b"nothing secret" and MASK.encode() in z.read("trace.network")


# ---------------------------------------------------------------- in the engine
@node("test.leaky", title="Leaky", params=[Param("secret", "secret"), Param("note", "string", default="")])
def leaky(ctx, secret, note):
    value = secret.reveal()
    ctx.log(f"using {value}")
    ctx.set_var("copy", value)
    if note == "raise":
        raise ValueError(f"the server refused {value!r}")
    return {"echo": value, "encoded": base64.b64encode(value.encode()).decode()}


def test_events_and_result_are_masked_before_listeners_see_them(monkeypatch):
    from bots import make

    monkeypatch.setenv("BOTLOOM_SECRET_API_TOKEN", TOKEN)
    doc = make({"start": {"type": "core.start"},
                "a": {"type": "test.leaky", "params": {"secret": "api_token"}},
                "b": {"type": "core.log", "params": {"message": "again {{ secrets.api_token }}"}},
                "c": {"type": "test.leaky", "params": {"secret": "api_token", "note": "raise"}}},
               [("start", "a"), ("a", "b"), ("b", "c")], secrets={"api_token": "t"}, variables={"copy": {"type": "any"}})
    result, log = run(doc, reg=registry_with(leaky))
    assert result.state == "failed"
    stream = "\n".join(dumps(e.to_dict()) for e in log.events) + dumps(result.error)
    assert hits(TOKEN, {"events": stream.encode()}) == []
    assert "the server refused '***'" in result.error["message"]
    assert "again ***" in [e.message for e in log.of("log")]
    first = [e for e in log.of("node_finished") if e.node == "a"][0]
    assert first.outputs["echo"] == MASK and first.writes == {"copy": MASK}


# ---------------------------------------------------------------- the whole runner
class EchoServer(ThreadingHTTPServer):
    """Answers 401 on /api with the request's headers in the body (as a careless server does),
    200 with the same body elsewhere; keeps the Authorization headers it saw."""

    def __init__(self):
        self.seen: list[str] = []
        super().__init__(("127.0.0.1", 0), _Echo)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.seen.append(self.headers.get("Authorization") or self.headers.get("X-Api-Key") or "")
        body = json.dumps(dict(self.headers)).encode()
        self.send_response(401 if self.path.startswith("/api") else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def echo():
    server = EchoServer()
    yield server
    server.shutdown()
    server.server_close()


def leak_bot(folder, url: str, extra: dict | None = None, chain_extra: tuple = ()):
    """HTTP header (bearer and header by expression), an expression, a log message, a failing step."""
    nodes = {
        "start": {"type": "core.start"},
        "call": {"type": "http.request", "params": {"url": f"{url}/api", "bearer_token": "api_token"},
                 "settings": {"on_error": "continue"}},
        "header": {"type": "http.request", "params": {"url": f"{url}/ok",
                                                      "headers": {"X-Api-Key": "{{ secrets.api_token }}"}}},
        "expr": {"type": "core.set_variable", "params": {"name": "t", "value": "token={{ secrets.api_token }}"}},
        "say": {"type": "core.log", "params": {"message": "the token is {{ secrets.api_token }}, "
                                                          "or {{ secrets.api_token | urlencode }}"}},
        **(extra or {}),
        "fail": {"type": "core.fail", "params": {"message": "giving up with {{ secrets.api_token }}"}},
    }
    order = ["start", "call", "header", "expr", "say", *chain_extra, "fail"]
    return write_bot(folder, "leaky", nodes, [(f"{a}.out", f"{b}.in") for a, b in zip(order, order[1:])],
                     secrets={"api_token": "the API's token"}, variables={"t": {"type": "string", "default": ""}})


def run_and_search(cli, bot, value: str) -> tuple[dict, list[str]]:
    """Run the bot with the event stream on, then search the data folder, the stream, stderr,
    `show --json` and `logs` for the value; returns the run's final event and the hits."""
    proc = cli("run", bot, "--events", "jsonl", timeout=240)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert events and events[-1]["event"] == "run_finished", proc.stderr[-2000:]
    run_id = events[-1]["run_id"]
    shown = cli("show", run_id, "--json").stdout + cli("logs", run_id).stdout + cli("logs", run_id, "--json").stdout
    sources = {**blobs(cli.home), "event stream": proc.stdout.encode(), "stderr": proc.stderr.encode(),
               "show and logs": shown.encode()}
    return events[-1], hits(value, sources)


def test_a_secret_used_everywhere_leaks_nowhere(cli, tmp_path, echo):
    cli.env.pop("PYTHON_KEYRING_BACKEND", None)
    cli.env["BOTLOOM_KEYRING_KEY"] = "key of this test"  # a real backend: the encrypted file
    assert cli("secret", "set", "api_token", input=TOKEN + "\n").returncode == 0
    finished, found = run_and_search(cli, leak_bot(tmp_path, echo.url), TOKEN)
    assert echo.seen == [f"Bearer {TOKEN}", TOKEN]  # the secret really went out, twice
    assert finished["state"] == "failed" and MASK in finished["error"]["message"]
    assert found == []
    trail = [json.loads(line) for line in (cli.home / "audit" / "trail.jsonl").read_text().splitlines()]
    reads = [r for r in trail if r["kind"] == "secret_read"]
    assert [(r["name"], r["bot"], r["run"]) for r in reads] == [("api_token", "leaky", finished["run_id"])]
