"""http.request against a real local HTTP server (http.server on 127.0.0.1, ephemeral port)."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from nodes_helpers import outputs_of, run_bot, run_node


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json", extra: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _echo(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8") if length else ""
        return {"method": self.command, "path": url.path, "query": parse_qs(url.query), "body": raw,
                "content_type": self.headers.get("Content-Type"), "auth": self.headers.get("Authorization"),
                "custom": self.headers.get("X-Custom")}

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/slow":
            time.sleep(2)
            return self._send(200, b"{}")
        if path == "/missing":
            return self._send(404, b'{"error": "no such order"}')
        if path == "/broken":
            return self._send(500, b"oops", "text/plain")
        if path == "/html":
            return self._send(200, "<h1>Grüße</h1>".encode("utf-8"), "text/html; charset=utf-8")
        if path == "/redirect":
            return self._send(302, b"", "text/plain", {"Location": "/orders"})
        return self._send(200, json.dumps(self._echo()).encode("utf-8"), "application/json; charset=utf-8",
                          {"X-Request-Id": "abc123"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_get_json_with_query_and_headers(server):
    result, outs = run_node("http.request", {"url": f"{server}/orders", "query": {"page": 2, "tag": ["a", "b"],
                                                                                  "open": True, "skip": None},
                                             "headers": {"X-Custom": "yes"}})
    assert result.state == "succeeded", result.error
    assert outs["status"] == 200 and outs["ok"] is True
    assert outs["json"]["method"] == "GET" and outs["json"]["path"] == "/orders"
    assert outs["json"]["query"] == {"page": ["2"], "tag": ["a", "b"], "open": ["true"]}
    assert outs["json"]["custom"] == "yes"
    assert outs["headers"]["x-request-id"] == "abc123"
    assert json.loads(outs["text"]) == outs["json"]


def test_post_json_body_and_use_of_the_response_in_the_next_node(server):
    result, log = run_bot(
        {"post": {"type": "http.request", "params": {"method": "POST", "url": f"{server}/orders",
                                                     "body": {"customer": "Zoë", "qty": 3, "items": [1, 2]}}},
         "v": {"type": "core.set_variable", "params": {"name": "sent", "value": "{{ nodes.post.json.body }}"}}},
        outputs={"sent": {"type": "any"}})
    assert result.state == "succeeded", result.error
    echo = outputs_of(log, "post")["json"]
    assert echo["method"] == "POST" and echo["content_type"] == "application/json"
    assert json.loads(result.outputs["sent"]) == {"customer": "Zoë", "qty": 3, "items": [1, 2]}


def test_json_typed_as_text_is_sent_as_json_form_and_text_bodies(server):
    _, outs = run_node("http.request", {"method": "PUT", "url": f"{server}/x", "body": '{"a": 1}'})
    assert json.loads(outs["json"]["body"]) == {"a": 1}
    _, outs = run_node("http.request", {"method": "POST", "url": f"{server}/x", "body_type": "form",
                                        "body": {"user": "ada", "tags": ["x", "y"], "n": 1}})
    assert outs["json"]["content_type"] == "application/x-www-form-urlencoded"
    assert parse_qs(outs["json"]["body"]) == {"user": ["ada"], "tags": ["x", "y"], "n": ["1"]}
    _, outs = run_node("http.request", {"method": "POST", "url": f"{server}/x", "body_type": "text",
                                        "body": "plain ✓"})
    assert outs["json"]["body"] == "plain ✓" and outs["json"]["content_type"].startswith("text/plain")
    result, _ = run_node("http.request", {"method": "POST", "url": f"{server}/x", "body_type": "form", "body": "x"})
    assert result.error["kind"] == "bad_input"


def test_404_is_an_http_error_with_the_status(server):
    result, _ = run_node("http.request", {"url": f"{server}/missing"})
    assert result.state == "failed"
    assert result.error["kind"] == "http"
    assert result.error["details"]["status"] == 404
    assert "no such order" in result.error["details"]["body"]
    assert "404" in result.error["message"] and f"{server}/missing" in result.error["message"]
    assert "URL" in result.error["fix"]


def test_status_is_an_output_when_raise_for_status_is_off(server):
    result, outs = run_node("http.request", {"url": f"{server}/broken", "raise_for_status": False})
    assert result.state == "succeeded"
    assert outs["status"] == 500 and outs["ok"] is False and outs["text"] == "oops" and outs["json"] is None


def test_http_error_can_be_caught_and_routed(server):
    result, _ = run_bot(
        {"get": {"type": "http.request", "params": {"url": f"{server}/missing"}},
         "handled": {"type": "core.set_variable",
                     "params": {"name": "status", "value": "{{ error.details.status }}"}}},
        edges=[{"from": "start.out", "to": "get.in"}, {"from": "get.error", "to": "handled.in"}],
        outputs={"status": {"type": "any"}})
    assert result.state == "succeeded" and result.outputs == {"status": 404}


def test_timeout_with_a_slow_handler(server):
    t0 = time.monotonic()
    result, _ = run_node("http.request", {"url": f"{server}/slow", "timeout": 0.3})
    assert time.monotonic() - t0 < 1.8
    assert result.state == "failed"
    assert result.error["kind"] == "timeout" and result.error["type"] == "NodeTimeoutError"
    assert "0.3 s" in result.error["message"]


def test_connection_refused_is_a_network_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result, _ = run_node("http.request", {"url": f"http://127.0.0.1:{port}/x", "timeout": 5})
    assert result.state == "failed"
    assert result.error["kind"] == "network"
    assert f"127.0.0.1:{port}" in result.error["message"] and "network" in result.error["fix"]


def test_network_errors_can_be_retried_by_kind():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result, log = run_bot({"get": {"type": "http.request", "params": {"url": f"http://127.0.0.1:{port}/"},
                                   "settings": {"retry": {"attempts": 2, "delay": 0, "on": ["network"]}}}})
    assert result.state == "failed" and len(log.of("node_retrying")) == 1


def test_bad_url_is_bad_input():
    result, _ = run_node("http.request", {"url": "www.example.com/no-scheme"})
    assert result.error["kind"] == "bad_input" and "https://" in result.error["fix"]


def test_html_is_text_not_json_and_redirects_are_followed(server):
    _, outs = run_node("http.request", {"url": f"{server}/html"})
    assert outs["text"] == "<h1>Grüße</h1>" and outs["json"] is None
    assert outs["headers"]["content-type"].startswith("text/html")
    _, outs = run_node("http.request", {"url": f"{server}/redirect"})
    assert outs["status"] == 200 and outs["url"] == f"{server}/orders"
    _, outs = run_node("http.request", {"url": f"{server}/redirect", "follow_redirects": False})
    assert outs["status"] == 302


def test_bearer_token_comes_from_a_secret(server, monkeypatch):
    monkeypatch.setenv("BOTLOOM_SECRET_API_TOKEN", "s3cret")
    result, log = run_bot({"get": {"type": "http.request",
                                   "params": {"url": f"{server}/me", "bearer_token": "api_token"}}})
    assert result.state == "succeeded", result.error
    # the server echoed "Bearer s3cret"; what listeners see of the run is masked
    assert outputs_of(log, "get")["json"]["auth"] == "Bearer ***"
    assert all("s3cret" not in e.message for e in log.of("log"))
