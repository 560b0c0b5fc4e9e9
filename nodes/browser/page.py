"""Browser nodes for the page as a whole: reload, back and forward; scrolling, drag and drop and
the mouse at page coordinates; cookies and storage state (a login kept in a file); waiting for
a network response or request by its URL."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from botloom.runner.sdk import NodeError, Output, Param, make_parent

from .base import _ms, _node, _page_info, _with_target, loading_params, run_on_page, target_param, timeout_param
from .session import Failure
from .targets import locate, parse


# ---------------------------------------------------------------- history
@_node("browser.history", title="Reload / back / forward", icon="globe", side_effects=True, idempotent=True,
       session_effect=True,
       params=[Param("action", "string", default="reload", choices=("reload", "back", "forward"),
                     description="Reload the page, or go back or forward in the tab's history."),
               *loading_params()],
       outputs=[Output("url", "string", "The address afterwards."), Output("title", "string"),
                Output("moved", "boolean", "False when there was no page to go back or forward to.")],
       aliases=("reload", "refresh", "back", "forward", "history", "f5"))
def history(ctx, action, wait_until, timeout):
    """Reloads the page, or goes back or forward like the browser's buttons."""
    def work(s):
        page = s.current()
        kw = {"wait_until": wait_until or "load", "timeout": _ms(timeout)}
        response = {"reload": page.reload, "back": page.go_back, "forward": page.go_forward}[action or "reload"](**kw)
        info = _page_info(s)
        info["moved"] = response is not None or action == "reload"
        return info

    return run_on_page(ctx, work, action=action or "reload", timeout=timeout, navigating=f"the page ({action})")


# ---------------------------------------------------------------- scroll, drag, mouse
@_node("browser.scroll", title="Scroll", icon="cursor", session_effect=True,
       params=[Param("to", "string", default="element", choices=("element", "bottom", "top", "by"),
                     description="Scroll an element into view, to the bottom or top of the page, or by an amount."),
               target_param(required=False, description="The element to bring into view (to: element), or the "
                                                         "scrollable element to scroll (top, bottom, by; empty: the page)."),
               Param("x", "number", default=0, show_if={"to": ["by"]}, description="Pixels to the right (to: by)."),
               Param("y", "number", default=0, show_if={"to": ["by"]}, description="Pixels down (to: by)."),
               timeout_param()],
       outputs=[Output("scroll_x", "number"), Output("scroll_y", "number", "The page's scroll position afterwards.")],
       aliases=("scroll down", "scroll into view", "infinite scroll", "page down"))
def scroll(ctx, to, target, x, y, timeout):
    """Scrolls the page or an element (lazy lists load more when the end comes into view)."""
    to = to or "element"
    if to == "element" and not target:
        raise NodeError("scrolling to an element needs a target", kind="bad_input",
                        fix="give the target, or choose to: bottom, top or by")
    js = """([to, x, y], el) => {
      const box = el || document.scrollingElement || document.documentElement;
      if (to === 'bottom') box.scrollTop = box.scrollHeight;
      else if (to === 'top') box.scrollTop = 0;
      else box.scrollBy(x, y);
    }"""
    position = "() => [window.scrollX, window.scrollY]"

    def op(s, loc):
        if to == "element":
            loc.scroll_into_view_if_needed(timeout=_ms(timeout))
        elif loc is None:
            s.current().evaluate(f"a => ({js})(a, null)", [to, x or 0, y or 0])
        else:
            loc.evaluate(f"(el, a) => ({js})(a, el)", [to, x or 0, y or 0], timeout=_ms(timeout))
        sx, sy = s.current().evaluate(position)
        return {"scroll_x": sx, "scroll_y": sy}

    if target:
        return _with_target(ctx, target, "scroll", op, timeout)
    return run_on_page(ctx, lambda s: op(s, None), action="scroll")


@_node("browser.drag", title="Drag and drop", icon="cursor", side_effects=True, idempotent=False,
       targets=("target", "to"),
       params=[target_param(description="The element to drag."),
               Param("to", "string", required=True, placeholder="#bin, text=Done",
                     description="The element to drop it on (a target)."),
               timeout_param()],
       aliases=("drag", "drop", "drag and drop", "move card", "sortable"))
def drag(ctx, target, to, timeout):
    """Drags an element with the mouse and drops it on another."""
    goal = parse(to)
    _with_target(ctx, target, "drag", lambda s, loc: loc.drag_to(locate(s.current(), goal), timeout=_ms(timeout)),
                 timeout)


@_node("browser.mouse", title="Mouse at coordinates", icon="cursor", side_effects=True, idempotent=False,
       params=[Param("action", "string", default="click", choices=("click", "double_click", "move", "down", "up", "wheel"),
                     description="What the mouse does at the point (wheel scrolls by dx/dy)."),
               Param("x", "number", required=True, description="Pixels from the page's left edge (the viewport)."),
               Param("y", "number", required=True, description="Pixels from the page's top edge (the viewport)."),
               Param("button", "string", default="left", choices=("left", "right", "middle"), advanced=True),
               Param("dx", "number", default=0, show_if={"action": ["wheel"]}, description="Wheel: pixels right."),
               Param("dy", "number", default=0, show_if={"action": ["wheel"]}, description="Wheel: pixels down.")],
       aliases=("mouse", "coordinates", "click at", "canvas", "xy"))
def mouse(ctx, action, x, y, button, dx, dy):
    """Moves, clicks or scrolls the mouse at a point of the page (canvases, maps, charts)."""
    def work(s):
        m = s.current().mouse
        b = button or "left"
        if action == "click":
            m.click(x, y, button=b)
        elif action == "double_click":
            m.dblclick(x, y, button=b)
        else:
            m.move(x, y)
            if action == "down":
                m.down(button=b)
            elif action == "up":
                m.up(button=b)
            elif action == "wheel":
                m.wheel(dx or 0, dy or 0)

    run_on_page(ctx, work, action=f"{action} the mouse at ({x:g}, {y:g})")


# ---------------------------------------------------------------- cookies and storage
@_node("browser.cookies", title="Cookies and storage", icon="key", side_effects=True, idempotent=True,
       session_effect=True,
       params=[Param("action", "string", default="get", choices=("get", "set", "clear", "save", "load"),
                     description="get the cookies, set some, clear them, save the storage state (cookies and "
                                 "local storage) to a file, or load one saved before."),
               Param("cookies", "list", show_if={"action": ["set"]},
                     description='Cookies to set: [{"name": "lang", "value": "de", "url": "https://example.com"}] '
                                 '(give url, or domain and path).'),
               Param("url", "string", show_if={"action": ["get"]},
                     description="Only the cookies sent to this address (empty: all)."),
               Param("file", "path", path="save", show_if={"action": ["save", "load"]},
                     description="The storage-state file (JSON, as Playwright writes it). It holds logins: keep it "
                                 "private.")],
       outputs=[Output("cookies", "list", "The cookies (get, save, load)."),
                Output("count", "integer"), Output("file", "string")],
       aliases=("cookie", "session", "local storage", "storage state", "login state", "keep logged in"))
def cookies(ctx, action, cookies, url, file):
    """Reads, sets or clears the browser's cookies; saves the whole storage state (cookies and
    local storage) to a file, or loads it, so a later run starts logged in."""
    action = action or "get"
    path = Path(ctx.path(file)) if file else None
    if action in ("save", "load") and path is None:
        raise NodeError(f"'{action}' needs the file parameter", kind="bad_input",
                        fix="give the path of the storage-state file, e.g. login-state.json")
    state = None
    if action == "load":
        state = _read_state(path)
    if action == "set":
        if not isinstance(cookies, list) or not cookies:
            raise NodeError("'set' needs a list of cookies", kind="bad_input",
                            fix='give cookies such as [{"name": "lang", "value": "de", "url": "https://example.com"}]')
        for i, c in enumerate(cookies):
            if not isinstance(c, dict) or "name" not in c or "value" not in c or not ("url" in c or "domain" in c):
                raise NodeError(f"cookie {i + 1} is {json.dumps(c, default=str)[:120]}", kind="bad_input",
                                fix='each cookie needs name, value and url (or domain and path)')
    if action == "save" and path is not None:
        make_parent(ctx, path)

    def work(s):
        c = s.context
        if action == "set":
            c.add_cookies([{**k, "value": str(k["value"])} for k in cookies])
        elif action == "clear":
            c.clear_cookies()
        elif action == "save":
            c.storage_state(path=str(path))
        elif action == "load":
            _apply_state(s, state)
        return c.cookies(url) if (url and action == "get") else c.cookies()

    got = run_on_page(ctx, work, action=f"{action} cookies")
    return {"cookies": got, "count": len(got), "file": str(path) if path else ""}


def _read_state(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NodeError(f"the storage-state file {path} does not exist", kind="not_found",
                        fix="save it first (action: save) in a run that logs in") from None
    except (OSError, ValueError) as exc:
        raise NodeError(f"cannot read the storage-state file {path}: {exc}", kind="bad_input",
                        fix="give a file written by action: save (or Playwright's storage_state)") from None
    if not isinstance(data, dict) or not isinstance(data.get("cookies", []), list) \
            or not isinstance(data.get("origins", []), list):
        raise NodeError(f"{path} is not a storage-state file (it needs 'cookies' and 'origins' lists)",
                        kind="bad_input", fix="give a file written by action: save")
    return data


def _apply_state(s, state: dict) -> None:
    """Cookies into the context; each origin's local storage written on a page of that origin."""
    s.context.add_cookies(state.get("cookies") or [])
    origins = [o for o in state.get("origins") or [] if isinstance(o, dict) and o.get("origin")]
    if not origins:
        return
    page = s.context.new_page()
    try:
        for origin in origins:
            items = {str(i.get("name")): str(i.get("value")) for i in origin.get("localStorage") or []}
            base = origin["origin"].rstrip("/")
            page.route(base + "/**", lambda route: route.fulfill(status=200, body="<html></html>",
                                                                content_type="text/html"))
            page.goto(base + "/", wait_until="commit")
            page.evaluate("items => { for (const [k, v] of Object.entries(items)) localStorage.setItem(k, v); }", items)
            page.unroute(base + "/**")
    finally:
        page.close()


# ---------------------------------------------------------------- network
def _url_matcher(pattern: str):
    if len(pattern) > 2 and pattern.startswith("/") and pattern.endswith("/"):
        rx = re.compile(pattern[1:-1])
    elif "*" in pattern:
        rx = re.compile("^" + re.escape(pattern).replace(r"\*\*", ".*").replace(r"\*", "[^/]*") + "$")
    else:
        rx = re.compile(re.escape(pattern))
    return lambda url: rx.search(url) is not None


@_node("browser.wait_network", title="Wait for response", icon="clock",
       params=[Param("url", "string", required=True, placeholder="/api/orders, **/api/*, /orders/\\d+/",
                     description="The address to wait for: a part of it, a glob (with *), or a regular "
                                 "expression between slashes."),
               Param("kind", "string", default="response", choices=("response", "request"),
                     description="Wait for the server's response (its status and body are outputs), or only for "
                                 "the request to be sent."),
               Param("method", "string", default="", placeholder="GET, POST", advanced=True,
                     description="Only requests with this HTTP method (empty: any)."),
               Param("after", "string", placeholder='role=button[name="Search"]',
                     description="Click this target first, and wait for what the click sends (empty: wait for the "
                                 "next matching one the page makes)."),
               Param("timeout", "number", default=30, minimum=0, description="Seconds to wait at most.")],
       outputs=[Output("url", "string", "The request's full address."), Output("method", "string"),
                Output("status", "integer", "The response's HTTP status (0 for kind: request)."),
                Output("body", "any", "The response's body: parsed JSON, else text (null for kind: request)."),
                Output("headers", "object")],
       aliases=("wait for response", "wait for request", "xhr", "api call", "network", "ajax"))
def wait_network(ctx, url, kind, method, after, timeout):
    """Waits for the page to send a request, or receive a response, whose address matches."""
    matches = _url_matcher(str(url))
    want = (method or "").strip().upper()
    click = parse(after) if after else None

    def hit(r):
        req = r if kind == "request" else r.request
        return matches(req.url) and (not want or req.method.upper() == want)

    def work(s):
        page = s.current()
        expect = page.expect_request if kind == "request" else page.expect_response
        try:
            with expect(hit, timeout=_ms(timeout)) as info:
                if click is not None:
                    locate(page, click).click()
            r = info.value
        except s.errors.TimeoutError:
            raise Failure("waited", f"no {kind} to '{url}' came within {timeout:g} s", url=page.url,
                          screenshot=s.screenshot()) from None
        if kind == "request":
            return {"url": r.url, "method": r.method, "status": 0, "body": None, "headers": dict(r.headers)}
        body: Any = None
        try:
            text = r.text()
            try:
                body = json.loads(text)
            except ValueError:
                body = text
        except s.errors.Error:  # a redirect or a response without a body
            body = None
        return {"url": r.url, "method": r.request.method, "status": r.status, "body": body,
                "headers": dict(r.headers)}

    return run_on_page(ctx, work, parts=click, action=f"wait for the {kind}", timeout=timeout)
