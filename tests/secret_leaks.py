"""Search files and streams for a secret value and its common encodings (for the leak tests).

Written apart from ``runner/masking.py`` on purpose: a test that used the masker's own list of
encodings could not find what the masker forgot.
"""

from __future__ import annotations

import base64
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from bots import write_bot


FORM = """<!doctype html><html><head><title>Sign in</title></head><body>
<form onsubmit="return false"><label>Password <input id="pw" type="password"></label>
<label>Note <input id="note" type="text"></label></form></body></html>"""


def forms(value: str) -> dict[str, bytes]:
    raw = value.encode()
    return {"raw": raw, "url": quote(value, safe="").encode(), "url+": quote_plus(value).encode(),
            "base64": base64.b64encode(raw).rstrip(b"="), "base64url": base64.urlsafe_b64encode(raw).rstrip(b"="),
            "hex": raw.hex().encode(), "HEX": raw.hex().upper().encode(), "json": json.dumps(value)[1:-1].encode()}


def blobs(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by path, and each member of a zip archive (a browser trace)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        found[str(path)] = data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    found[f"{path}!{info.filename}"] = archive.read(info)
    return found


def hits(value: str, sources: dict[str, bytes]) -> list[str]:
    """``where: encoding`` for each place a form of ``value`` appears; empty when none does."""
    return [f"{where}: {name}" for where, data in sources.items() for name, form in forms(value).items()
            if form in data]


class EchoServer(ThreadingHTTPServer):
    """Answers 401 on /api with the request's headers in the body (as a careless server does),
    200 with the same body elsewhere, a login form on /form; keeps the Authorization (or
    X-Api-Key) headers it saw."""

    def __init__(self):
        self.seen: list[str] = []
        super().__init__(("127.0.0.1", 0), _Echo)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def echo():
    """A running EchoServer (import this fixture into a test module)."""
    server = EchoServer()
    yield server
    server.shutdown()
    server.server_close()


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path.startswith("/form"):
            return self._send(200, FORM.encode(), "text/html; charset=utf-8")
        if not self.path.startswith(("/api", "/ok")):  # the browser asks for /favicon.ico
            return self._send(404, b"{}")
        self.server.seen.append(self.headers.get("Authorization") or self.headers.get("X-Api-Key") or "")
        self._send(401 if self.path.startswith("/api") else 200, json.dumps(dict(self.headers)).encode())

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def leak_bot(folder, url: str, extra: dict | None = None, chain_extra: tuple = (), **top):
    """HTTP header (bearer and header by expression), an expression, a log message, a failing step;
    ``extra`` nodes (run in the order ``chain_extra``) before the failing step."""
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
                     secrets={"api_token": "the API's token"}, variables={"t": {"type": "string", "default": ""}}, **top)


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
