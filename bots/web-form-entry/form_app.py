"""A tiny expense-claim web app for the web-form-entry sample bot (standard library only).

    python bots/web-form-entry/form_app.py            # serves http://127.0.0.1:8765/claims/new
    python bots/web-form-entry/form_app.py --port 0   # any free port (printed)

The claim form is deliberately awkward for a robot: on every load its fields come in another
order, with new ids, and are labelled in another way (<label for>, a wrapping <label>,
aria-labelledby, aria-label). Claims above 2500 EUR and malformed e-mail addresses are refused,
as a real back office would. Accepted claims get a reference number.
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LIMIT = 2500
FIELDS = [  # name, label, kind, options
    ("employee", "Employee", "text", None),
    ("email", "E-mail", "email", None),
    ("department", "Department", "select", ["Finance", "Sales", "Engineering", "Operations"]),
    ("amount", "Amount (EUR)", "number", None),
    ("date", "Expense date", "date", None),
    ("category", "Category", "radio", ["Travel", "Meals", "Equipment"]),
    ("receipt", "Receipt attached", "checkbox", None),
    ("description", "Description", "textarea", None),
]
PAGE = ('<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>'
        '<style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}} form div,fieldset{{margin:.6em 0}}'
        '</style></head><body><h1>{title}</h1>{body}</body></html>')


def claim_form(rng: random.Random) -> str:
    order = FIELDS[:]
    rng.shuffle(order)
    parts = []
    for name, label, kind, options in order:
        fid, lid = f"x{rng.randrange(10**8)}", f"l{rng.randrange(10**8)}"
        how = rng.choice(["for", "wrap", "labelledby", "aria"])
        if kind == "radio":
            radios = "".join(f'<label><input type="radio" name="{name}" value="{o.lower()}"> {o}</label> '
                             for o in options)
            parts.append(f"<fieldset><legend>{label}</legend>{radios}</fieldset>" if how in ("for", "wrap") else
                         f'<div role="radiogroup" aria-labelledby="{lid}"><b id="{lid}">{label}</b> {radios}</div>')
            continue
        if kind == "select":
            body = '<option value="">Choose...</option>' + "".join(f"<option>{o}</option>" for o in options)
            control = f'<select id="{fid}" name="{name}" %s>{body}</select>'
        elif kind == "textarea":
            control = f'<textarea id="{fid}" name="{name}" %s></textarea>'
        else:
            step = ' step="0.01"' if kind == "number" else ""
            control = f'<input id="{fid}" name="{name}" type="{kind}"{step} %s>'
        if how == "for":
            parts.append(f'<div><label for="{fid}">{label}</label> {control % ""}</div>')
        elif how == "wrap":
            parts.append(f"<div><label>{label}: {control % ''}</label></div>")
        elif how == "labelledby":
            parts.append(f'<div><span id="{lid}">{label}</span> {control % f"aria-labelledby={lid}"}</div>')
        else:
            parts.append(f"<div>{control % ('aria-label=' + json.dumps(label))}</div>")
    return ('<form method="post" action="/claims" novalidate>' + "".join(parts) +
            '<button type="submit">Submit claim</button></form>')


class FormApp:
    """The app: ``FormApp().start()`` serves it on a thread; ``.url`` is the form's address."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8765):
        self.claims: list[dict] = []
        self._numbers = itertools.count(1)
        self._loads = itertools.count(1)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}/claims/new"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "FormApp":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def check(self, claim: dict) -> str | None:
        """Why a claim is refused, or None."""
        if "@" not in claim.get("email", "") or "." not in claim.get("email", "").split("@")[-1]:
            return "the e-mail address is not valid"
        try:
            amount = float(claim.get("amount") or "")
        except ValueError:
            return "the amount is missing"
        if amount > LIMIT:
            return f"amounts above {LIMIT} EUR need a manager's approval"
        if not claim.get("category"):
            return "choose a category"
        return None

    def _handler(self):
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send(self, title: str, body: str, status: int = 200):
                data = PAGE.format(title=title, body=body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if urlparse(self.path).path != "/claims/new":
                    return self.send("Not found", '<p><a href="/claims/new">New expense claim</a></p>', 404)
                with app._lock:
                    seed = next(app._loads)
                self.send("New expense claim", claim_form(random.Random(seed)))

            def do_POST(self):
                size = int(self.headers.get("Content-Length") or 0)
                claim = {k: v[0] for k, v in parse_qs(self.rfile.read(size).decode(), keep_blank_values=True).items()}
                problem = app.check(claim)
                with app._lock:
                    if problem is None:
                        claim["reference"] = f"EXP-{next(app._numbers):04d}"
                    claim["status"] = "rejected" if problem else "accepted"
                    app.claims.append(claim)
                detail = f"Refused: {html.escape(problem)}" if problem else f"Reference {claim['reference']}"
                self.send("Claim " + claim["status"], f'<div id="result"><p>Status: <span id="status">'
                          f'{claim["status"]}</span></p><p id="detail">{detail}</p>'
                          '<p><a href="/claims/new">Next claim</a></p></div>')

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    app = FormApp(port=args.port)
    print(f"expense claims: {app.url}  (Ctrl+C to stop)", flush=True)
    try:
        app.server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
