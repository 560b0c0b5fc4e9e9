"""A small web site for the browser tests, served on 127.0.0.1 by a stdlib HTTP server.

Pages: a login with a session cookie, a form whose fields move and are re-labelled on every
load, a table filled in by JavaScript, a slow element, a download, an upload, JavaScript
dialogs, a pop-up tab, a page that never answers in time.
"""

from __future__ import annotations

import html
import json
import random
import secrets
import threading
import time
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

USERS = {"alice": "s3cret!"}

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1>{body}</body></html>"""

FIELDS = [  # (name, label texts to vary between, kind, options)
    ("full_name", ["Full name", "full name:", "Full Name *"], "text", None),
    ("email", ["E-mail", "Email:", "E-Mail *"], "email", None),
    ("country", ["Country", "country:", "Country *"], "select", ["Germany", "France", "United Kingdom"]),
    ("newsletter", ["Newsletter", "newsletter"], "checkbox", None),
    ("plan", ["Plan", "Plan:"], "radio", ["Basic", "Pro"]),
    ("comments", ["Comments", "Comments (optional)"], "textarea", None),
    ("start_date", ["Start date", "Start Date:"], "date", None),
]


def moving_form(rng: random.Random, action: str = "/form") -> str:
    """The same form, each load in another order, with new ids and another way of labelling."""
    order = FIELDS[:]
    rng.shuffle(order)
    blocks = []
    for name, texts, kind, options in order:
        fid = f"f{rng.randrange(10**6)}"
        label = rng.choice(texts)
        how = rng.choice(["for", "wrap", "aria-labelledby", "aria-label"])
        if kind == "radio":
            lid = f"l{rng.randrange(10**6)}"
            radios = "".join(f'<label><input type="radio" name="{name}" value="{o.lower()}"> {o}</label>'
                             for o in options)
            if how in ("for", "wrap"):
                blocks.append(f"<fieldset><legend>{label}</legend>{radios}</fieldset>")
            else:
                blocks.append(f'<div role="radiogroup" aria-labelledby="{lid}"><span id="{lid}">{label}</span>{radios}</div>')
            continue
        if kind == "select":
            opts = '<option value="">--</option>' + "".join(
                f'<option value="{o[:2].upper()}">{o}</option>' for o in options)
            control = f'<select id="{fid}" name="{name}" {{extra}}>{opts}</select>'
        elif kind == "textarea":
            control = f'<textarea id="{fid}" name="{name}" {{extra}}></textarea>'
        else:
            control = f'<input id="{fid}" name="{name}" type="{kind}" {{extra}}>'
        if how == "for":
            blocks.append(f'<div><label for="{fid}">{label}</label> {control.format(extra="")}</div>')
        elif how == "wrap":
            blocks.append(f'<div><label>{label} {control.format(extra="")}</label></div>')
        elif how == "aria-labelledby":
            lid = f"l{rng.randrange(10**6)}"
            blocks.append(f'<div><span id="{lid}">{label}</span> {control.format(extra=f"aria-labelledby={lid}")}</div>')
        else:
            blocks.append(f'<div>{control.format(extra=f"aria-label={json.dumps(label)}")}</div>')
    return (f'<form method="post" action="{action}">' + "".join(blocks) +
            '<button type="submit">Send</button></form>')


class Site:
    def __init__(self):
        self.sessions: dict[str, str] = {}
        self.submissions: list[dict] = []
        self.uploads: list[dict] = []
        self.loads = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "Site":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send(self, body: str | bytes, status: int = 200, ctype: str = "text/html; charset=utf-8",
                     headers: dict | None = None):
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def page(self, title: str, body: str, **kw):
                self.send(PAGE.format(title=title, body=body), **kw)

            def redirect(self, to: str, headers: dict | None = None):
                self.send(b"", 303, headers={"Location": to, **(headers or {})})

            def user(self) -> str | None:
                for part in (self.headers.get("Cookie") or "").split(";"):
                    k, _, v = part.strip().partition("=")
                    if k == "session" and v in site.sessions:
                        return site.sessions[v]
                return None

            def body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_GET(self):
                path = urlparse(self.path).path
                route = getattr(self, "get_" + (path.strip("/").replace("/", "_").replace(".", "_") or "index"), None)
                if route is None:
                    return self.page("Not found", "<p>No such page</p>", status=404)
                route()

            def do_POST(self):
                path = urlparse(self.path).path
                getattr(self, "post_" + path.strip("/").replace("/", "_"))()

            # ---- pages
            def get_index(self):
                self.page("Home", '<a href="/login">Log in</a>')

            def get_login(self):
                self.page("Log in", '<form method="post" action="/login">'
                                    '<label>User name <input name="user"></label>'
                                    '<label for="pw">Password</label><input id="pw" type="password" name="password">'
                                    '<button>Sign in</button></form>')

            def post_login(self):
                form = {k: v[0] for k, v in parse_qs(self.body().decode()).items()}
                if USERS.get(form.get("user")) != form.get("password"):
                    return self.page("Log in", '<p class="error">Wrong user name or password</p>', status=401)
                token = secrets.token_hex(8)
                site.sessions[token] = form["user"]
                self.redirect("/account", {"Set-Cookie": f"session={token}; Path=/; HttpOnly"})

            def get_account(self):
                user = self.user()
                if user is None:
                    return self.redirect("/login")
                self.page("Account", f'<p id="welcome">Welcome, {html.escape(user)}</p>'
                                     '<a href="/account/orders">Orders</a>')

            def get_account_orders(self):
                if self.user() is None:
                    return self.redirect("/login")
                self.page("Orders", '<table id="orders"><tr><th>No</th><th>Total</th></tr>'
                                    '<tr><td>A-1</td><td>10.50</td></tr></table>')

            def get_form(self):
                with site.lock:
                    site.loads += 1
                    seed = site.loads
                self.page("Register", moving_form(random.Random(seed)))

            def post_form(self):
                form = {k: v[0] for k, v in parse_qs(self.body().decode(), keep_blank_values=True).items()}
                with site.lock:
                    site.submissions.append(form)
                    n = len(site.submissions)
                self.page("Saved", f'<p id="result">Saved #{n}</p>')

            def get_table(self):
                rows = [{"id": i, "customer": c, "total": t} for i, c, t in
                        [(1, "ACME Corp", "1,250.00"), (2, "Globex", "99.90"), (3, "Initech", "7")]]
                self.page("Orders", '<div id="host">Loading...</div><ul id="cards"></ul><script>'
                          f'const rows = {json.dumps(rows)};'
                          'setTimeout(() => {'
                          ' const t = document.createElement("table"); t.id = "orders";'
                          ' t.innerHTML = "<thead><tr><th>Order</th><th>Customer</th><th>Total</th></tr></thead><tbody>" +'
                          '  rows.map(r => `<tr><td>${r.id}</td><td>${r.customer}</td><td>${r.total}</td></tr>`).join("") + "</tbody>";'
                          ' document.getElementById("host").replaceChildren(t);'
                          ' document.getElementById("cards").innerHTML = rows.map(r =>'
                          '  `<li class="card" data-id="${r.id}"><b class="name">${r.customer}</b>'
                          '   <a href="/orders/${r.id}">open</a><span class="total">${r.total}</span></li>`).join("");'
                          '}, 400);</script>')

            def get_slow(self):
                self.page("Slow", '<p>Working...</p><script>setTimeout(() => {'
                                  ' const p = document.createElement("p"); p.id = "done"; p.textContent = "Report ready";'
                                  ' document.body.appendChild(p); }, 1200);</script>')

            def get_downloads(self):
                self.page("Reports", '<a id="report" href="/files/report.csv">Monthly report</a>')

            def get_files_report_csv(self):
                self.send("month,total\n2026-10,1200\n2026-11,1350\n", ctype="text/csv",
                          headers={"Content-Disposition": 'attachment; filename="report-2026-11.csv"'})

            def get_upload(self):
                self.page("Upload", '<form method="post" action="/upload" enctype="multipart/form-data">'
                                    '<label>Invoice <input type="file" name="invoice"></label>'
                                    '<button>Upload</button></form>')

            def post_upload(self):
                raw = self.body()
                msg = BytesParser(policy=HTTP).parsebytes(
                    f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + raw)
                got = []
                for part in msg.iter_parts():
                    name = part.get_filename()
                    if name:
                        data = part.get_payload(decode=True) or b""
                        site.uploads.append({"name": name, "data": data})
                        got.append(f"{html.escape(name)} ({len(data)} bytes)")
                self.page("Uploaded", f'<p id="result">Received {", ".join(got) or "nothing"}</p>')

            def get_dialogs(self):
                self.page("Dialogs", '<button id="alert" onclick="alert(\'Saved!\')">Alert</button>'
                          '<button id="confirm" onclick="document.getElementById(\'out\').textContent = '
                          'confirm(\'Delete the order?\') ? \'deleted\' : \'kept\'">Delete</button>'
                          '<button id="prompt" onclick="document.getElementById(\'out\').textContent = '
                          '\'Hello \' + prompt(\'Your name?\', \'nobody\')">Name</button><p id="out"></p>')

            def get_tabs(self):
                self.page("Tabs", '<a id="pop" href="/popup" target="_blank">Open details</a>')

            def get_popup(self):
                self.page("Details", '<p id="detail">Order A-1 details</p>')

            def get_never(self):
                time.sleep(4)
                self.page("Late", "<p>too late</p>")

            def get_remember(self):
                self.page("Remember", '<p id="stored"></p><script>'
                                      'const q = new URLSearchParams(location.search).get("set");'
                                      'if (q) localStorage.setItem("note", q);'
                                      'document.getElementById("stored").textContent = '
                                      'localStorage.getItem("note") || "(nothing)";</script>')

            def get_frame(self):
                inner = html.escape('<label>Card number <input id="card"></label><p id="echo"></p>'
                                    '<script>card.oninput = () => echo.textContent = card.value</script>', quote=True)
                self.page("Pay", f'<iframe id="payment" srcdoc="{inner}"></iframe>')

            # ---- pages of the second round (see test_browser_page.py)
            def get_status(self):
                self.page("Status", '<p id="status">Working</p><p id="other">Done elsewhere</p><script>'
                                    'setTimeout(() => document.getElementById("status").textContent = "Done: 3 orders", 700);</script>')

            def get_api_orders(self):
                self.send(json.dumps({"orders": [{"id": 1}, {"id": 2}]}), ctype="application/json")

            def get_shop(self):
                self.page("Shop", '<button id="load" onclick="fetch(\'/api/orders?page=1\').then(r => r.json())'
                                  '.then(d => out.textContent = d.orders.length)">Load</button><p id="out"></p>')

            def get_long(self):
                self.page("Long", '<div style="height:3000px">top</div><p id="far">far away</p>'
                                  '<div style="height:2000px"></div>')

            def get_drag(self):
                self.page("Drag", '<div id="card" draggable="true" style="width:80px;height:40px;background:#ccc">Card</div>'
                          '<div id="bin" style="width:200px;height:120px;margin-top:60px;border:1px solid">Bin</div>'
                          '<p id="dropped"></p><script>'
                          'card.ondragstart = e => e.dataTransfer.setData("text/plain", "card");'
                          'bin.ondragover = e => e.preventDefault();'
                          'bin.ondrop = e => { e.preventDefault(); dropped.textContent = "dropped " + '
                          'e.dataTransfer.getData("text/plain"); };</script>')

            def get_canvas(self):
                self.page("Canvas", '<canvas id="c" width="400" height="300" style="position:absolute;left:0;top:0">'
                          '</canvas><p id="at" style="position:absolute;top:320px"></p><script>'
                          'c.onclick = e => at.textContent = e.clientX + "," + e.clientY;</script>')

            def get_whoami(self):
                seen = {"user_agent": self.headers.get("User-Agent"), "language": self.headers.get("Accept-Language")}
                self.page("Who", f'<pre id="server">{html.escape(json.dumps(seen))}</pre><pre id="js"></pre><script>'
                          'js.textContent = JSON.stringify({ua: navigator.userAgent, lang: navigator.language,'
                          ' tz: Intl.DateTimeFormat().resolvedOptions().timeZone});</script>')

            def get_private(self):
                import base64

                want = "Basic " + base64.b64encode(b"bob:hunter2").decode()
                if self.headers.get("Authorization") != want:
                    return self.send("no", 401, ctype="text/plain", headers={"WWW-Authenticate": 'Basic realm="x"'})
                self.page("Private", '<p id="secret">Inside</p>')

            def get_paged(self):
                n = int(parse_qs(urlparse(self.path).query).get("p", ["1"])[0])
                rows = "".join(f"<tr><td>{(n - 1) * 2 + i}</td><td>item {(n - 1) * 2 + i}</td></tr>" for i in (1, 2))
                items = "".join(f'<li class="it"><b>item {(n - 1) * 2 + i}</b></li>' for i in (1, 2))
                nav = f'<a class="next" href="/paged?p={n + 1}">Next</a>' if n < 3 else '<span class="next-off">Next</span>'
                self.page(f"Page {n}", f'<table id="t"><tr><th>No</th><th>Name</th></tr>{rows}</table>'
                                       f'<ul>{items}</ul>{nav}')

            def get_angular(self):  # as the RPA challenge writes it: sibling labels, generated ids and names
                rng = random.Random()
                fields = ["First Name", "Last Name", "Company Name", "Role in Company", "Address", "Email", "Phone Number"]
                rng.shuffle(fields)
                blocks = "".join(
                    f'<div class="col"><rpa1-field ng-reflect-dictionary-value="{{}}"><div class="form-group">'
                    f'<label>{f}</label><input class="form-control" id="id{rng.randrange(10**8)}" '
                    f'name="n{rng.randrange(10**8)}" ng-reflect-name="label{f.replace(" ", "")}"></div>'
                    '</rpa1-field></div>' for f in fields)
                self.page("Challenge", '<form id="f">' + blocks + '<input type="submit" value="Submit"></form>'
                          '<p id="out"></p><script>f.onsubmit = e => { e.preventDefault(); out.textContent = JSON.stringify('
                          '[...f.querySelectorAll(".form-group")].map(g => [g.querySelector("label").textContent,'
                          ' g.querySelector("input").value])); };</script>')

            def get_shadow(self):
                self.page("Shadow", '<sign-up id="host"></sign-up><p id="out"></p><script>'
                          'customElements.define("sign-up", class extends HTMLElement { connectedCallback() {'
                          ' const r = this.attachShadow({mode: "open"});'
                          ' r.innerHTML = `<label for="a">Full name</label><input id="a">'
                          '<label>City <input id="b"></label><span id="pl">Plan</span>'
                          '<select id="c" aria-labelledby="pl"><option>Basic</option><option>Pro</option></select>'
                          '<button id="go">Go</button>`;'
                          ' r.getElementById("go").onclick = () => document.getElementById("out").textContent ='
                          ' [r.getElementById("a").value, r.getElementById("b").value, r.getElementById("c").value].join("|");'
                          '}});</script>')

            def get_buttons(self):
                self.page("Buttons", '<button>Save</button><button>Save</button>'
                                     '<button data-testid="go" onclick="this.textContent=\'Gone\'">Go</button>')

        return Handler
