"""The browser's wait node: until an element is in a state, a text shows, the address
matches, the network is idle or the page has loaded."""

from __future__ import annotations

import re
from typing import Any

from botloom.runner.sdk import NodeError, Output, Param

from .base import _ms, _node, run_on_page, target_param
from .targets import HELP as TARGET_HELP, describe, locate, parse


@_node("browser.wait", title="Wait for page", icon="clock",
       params=[Param("until", "string", default="element",
                     choices=("element", "text", "url", "network_idle", "load"),
                     description="What to wait for: an element (in a state), a text on the page, the address, "
                                 "the network to be idle, or the page's load event."),
               target_param(required=False, description="The element to wait for (until: text, the element the text "
                                                         "must appear in; empty: anywhere on the page)."),
               Param("state", "string", default="visible", choices=("visible", "hidden", "attached", "detached"),
                     show_if={"until": ["element"]}, description="Wait until the element is in this state."),
               Param("text", "string", show_if={"until": ["text"]},
                     description="Wait until this text is visible on the page, or inside the target element "
                                 "(its text contains it; any case)."),
               Param("url", "string", show_if={"until": ["url"]}, placeholder="*/done*, /orders/\\d+/",
                     description="Wait until the address contains this text, or matches a glob (with *) or a "
                                 "regular expression between slashes."),
               Param("timeout", "number", default=30, minimum=0, description="Seconds to wait at most.")],
       outputs=[Output("url", "string", "The page's address when the wait ended.")],
       aliases=("wait for element", "wait for text", "wait for url", "network idle", "until visible"))
def wait(ctx, until, target, state, text, url, timeout):
    """Waits until something is true of the page."""
    ms = _ms(timeout)
    if until == "element":
        if not target:
            raise NodeError("waiting for an element needs a target", kind="bad_input", fix=TARGET_HELP)
        parts = parse(target)
        return _wait_on_page(
            ctx, lambda page, t: locate(page, parts).first.wait_for(state=state or "visible", timeout=t),
            action="wait for", timeout=timeout, ms=ms, parts=parts,
            rewrite=("not_found",) if state == "visible" else ("not_found", "timeout"),
            message=lambda at: f"the element '{describe(parts)}' did not become {state} within {timeout:g} s "
                               f"on {at or 'the page'}")
    if until == "text":
        if not text:
            raise NodeError("waiting for a text needs the text", kind="bad_input", fix="fill in the text parameter")
        if target:
            parts = parse(target)
            return _wait_on_page(
                ctx, lambda page, t: locate(page, parts).filter(has_text=text).first.wait_for(state="visible", timeout=t),
                action="wait for the text in", timeout=timeout, ms=ms, parts=parts, rewrite=("not_found", "timeout"),
                message=lambda at: f"the text '{text}' did not appear in '{describe(parts)}' within {timeout:g} s "
                                   f"on {at or 'the page'} (it reads {_text_now(ctx, parts)!r})")
        return _wait_on_page(
            ctx, lambda page, t: page.get_by_text(text).first.wait_for(state="visible", timeout=t),
            action="wait for the text", timeout=timeout, ms=ms,
            message=lambda at: f"the text '{text}' did not appear within {timeout:g} s on {at}")
    if until == "url":
        if not url:
            raise NodeError("waiting for an address needs the url parameter", kind="bad_input",
                            fix="give a part of the address, a glob such as **/done, or /a regex/")
        pattern: Any
        if len(url) > 2 and url.startswith("/") and url.endswith("/"):
            pattern = re.compile(url[1:-1])
        elif "*" in url:
            pattern = url
        else:
            pattern = re.compile(re.escape(url))
        return _wait_on_page(
            ctx, lambda page, t: page.wait_for_url(pattern, timeout=t, wait_until="commit"),
            action="wait for the address", timeout=timeout, ms=ms,
            message=lambda at: f"the address did not become '{url}' within {timeout:g} s (it is {at})")
    load_state = "networkidle" if until == "network_idle" else "load"
    return _wait_on_page(ctx, lambda page, t: page.wait_for_load_state(load_state, timeout=t),
                         action=f"wait for {until.replace('_', ' ')}", timeout=timeout, ms=ms, rewrite=())


def _text_now(ctx, parts) -> str:
    """What the element reads now, for the message of a text wait that timed out."""
    from .base import session_of

    def read(s):
        loc = locate(s.current(), parts)
        return loc.first.inner_text(timeout=500) if loc.count() else "(no such element)"

    try:
        return " ".join(str(session_of(ctx).run(ctx, read)).split())[:200]
    except Exception:
        return "(could not read it)"


def _wait_on_page(ctx, until_true, *, action: str, timeout, ms, message=None, parts=None,
                  rewrite: tuple[str, ...] = ("timeout",)):
    """Run the Playwright wait ``until_true(page, slice_ms)`` on the current page in short slices
    (``Session.waiting``); a failure of a kind in ``rewrite`` becomes a timeout whose message is
    ``message(url of the page)``."""

    def work(s):
        s.waiting(lambda t: until_true(s.current(), t), ms)
        return {"url": s.current().url}

    try:
        return run_on_page(ctx, work, parts=parts, action=action, timeout=timeout)
    except NodeError as exc:
        if exc.kind in rewrite:
            exc.kind = "timeout"
            exc.message = message(exc.details.get("url"))
        raise
