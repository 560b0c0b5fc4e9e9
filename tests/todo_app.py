"""A small to-do app for the recorder tests, served on 127.0.0.1: a page whose script keeps the
to-dos on the server (add with Enter or the Add button, tick done, choose what to show, a link
to a statistics page), so a test can read what a recording or a replay did."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TODO_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>To-do</title></head><body>
<h1>To-do</h1>
<form id="add"><input id="t1" placeholder="What needs to be done?" autocomplete="off">
<button type="submit">Add</button></form>
<label for="show">Show</label>
<select id="show"><option value="all">All</option><option value="open">Open</option><option value="done">Done</option></select>
<ul id="items"></ul>
<a href="/stats">Statistics</a>
<p><label for="pin">Sync PIN</label><input id="pin" type="password"></p>
<script>
async function load() {
  const todos = await (await fetch('/api/todos')).json();
  const show = document.getElementById('show').value;
  const ul = document.getElementById('items'); ul.innerHTML = '';
  for (const t of todos) {
    if (show === 'open' && t.done || show === 'done' && !t.done) continue;
    const li = document.createElement('li');
    li.innerHTML = '<label><input type="checkbox"' + (t.done ? ' checked' : '') + '> ' + t.title + '</label>';
    li.querySelector('input').addEventListener('change', async e => {
      await fetch('/api/todos/' + t.id, {method: 'POST', body: JSON.stringify({done: e.target.checked})});
    });
    ul.appendChild(li);
  }
}
document.getElementById('add').addEventListener('submit', async e => {
  e.preventDefault();
  const box = document.getElementById('t1');
  if (!box.value.trim()) return;
  await fetch('/api/todos', {method: 'POST', body: JSON.stringify({title: box.value})});
  box.value = ''; load();
});
document.getElementById('show').addEventListener('change', async e => {
  await fetch('/api/show', {method: 'POST', body: JSON.stringify({show: e.target.value})}); load();
});
load();
</script></body></html>"""


class TodoApp:
    """The to-do app: the page above and a JSON API whose state the test reads."""

    def __init__(self):
        self.todos: list[dict] = []
        self.show = "all"
        self.pages: list[str] = []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send(self, body: str, ctype: str = "text/html; charset=utf-8"):
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                app.pages.append(self.path)
                if self.path == "/api/todos":
                    self.send(json.dumps(app.todos), "application/json")
                elif self.path == "/stats":
                    done = sum(t["done"] for t in app.todos)
                    self.send(f"<!doctype html><title>Statistics</title><h1>Statistics</h1>"
                              f"<p>{done} of {len(app.todos)} done</p>")
                else:
                    self.send(TODO_PAGE)

            def do_POST(self):
                data = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                if self.path == "/api/todos":
                    app.todos.append({"id": len(app.todos) + 1, "title": data["title"], "done": False})
                elif self.path == "/api/show":
                    app.show = data["show"]
                else:
                    todo_id = int(self.path.rsplit("/", 1)[1])
                    next(t for t in app.todos if t["id"] == todo_id)["done"] = bool(data["done"])
                self.send("{}", "application/json")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def state(self) -> dict:
        return {"todos": [(t["title"], t["done"]) for t in self.todos], "show": self.show,
                "saw_stats": "/stats" in self.pages}

    def reset(self) -> None:
        self.todos, self.show, self.pages = [], "all", []

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def page_over_cdp(pw, port: int, url: str, timeout: float = 30.0):
    """The page at ``url`` of a browser whose DevTools protocol is on ``port`` (a recorder's
    browser, started with --cdp-port), once it is there: (browser connection, page)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            browser = pw.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    while True:
        pages = [p for c in browser.contexts for p in c.pages if p.url == url]
        if pages:
            return browser, pages[0]
        if time.monotonic() > deadline:
            raise TimeoutError(f"no page at {url} in the recorder's browser")
        time.sleep(0.2)
