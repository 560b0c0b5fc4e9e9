"""Browser nodes for the session and navigation: open the browser, tabs (new, switch,
close) and going to an address."""

from __future__ import annotations

import re
from pathlib import Path

from botloom.runner.sdk import NodeError, Output, Param

from .base import _ms, _node, _page_info, loading_params, run_on_page, timeout_param
from .session import Failure, holder, options


@_node("browser.open", title="Open browser", icon="globe", session_effect=True,
       params=[Param("browser", "string", default="auto", placeholder="auto, chrome, msedge, chromium, playwright, or a path",
                     description="Which browser: auto (Playwright's Chromium where installed, else a system Chrome, "
                                 "Edge or Chromium), chrome, msedge, chromium, playwright, or the path of a browser "
                                 "executable. 'auto' defers to settings.browser.browser and BOTLOOM_BROWSER."),
               Param("url", "string", description="A page to open right away (optional)."),
               Param("headless", "boolean", description="Run without a window (default: settings.browser.headless, "
                                                        "BOTLOOM_HEADLESS, else true)."),
               Param("profile", "path", path="folder", advanced=True,
                     description="A folder for a persistent browser profile (cookies and logins survive between "
                                 "runs). Empty: a fresh, private profile."),
               Param("timeout", "number", minimum=0, advanced=True,
                     description="Default seconds every browser node waits for its element (default 10)."),
               Param("trace", "string", choices=("", "on-failure", "always", "off"), default="", advanced=True,
                     description="Keep a Playwright trace with the run: on-failure (default), always, off.")],
       outputs=[Output("browser", "string", "Which browser was started, and where it is."),
                Output("executable", "string"), Output("url", "string")],
       aliases=("browser", "chrome", "edge", "launch", "start browser", "web"))
def open_browser(ctx, browser, url, headless, profile, timeout, trace):
    """Starts the browser this run's browser nodes share. It is closed when the run ends,
    whatever the end; on failure a Playwright trace is kept with the run."""
    h = holder(ctx)
    given = {"browser": browser, "headless": headless, "timeout": timeout, "trace": trace,
             "profile": str(ctx.path(profile)) if profile else None}
    if h.is_open:
        ctx.log("the browser is already open; using it", "warning")
    else:
        h.open(ctx, options(ctx.settings("browser"), **given))
    found = h.session.found
    result = {"browser": found.describe(), "executable": found.executable, "url": ""}
    if url:
        result["url"] = _goto(ctx, url, "load", None)["url"]
    return result


@_node("browser.new_tab", title="New tab", icon="globe", session_effect=True,
       params=[Param("url", "string", description="A page to open in the new tab (optional).")],
       outputs=[Output("index", "integer", "The tab's position (0 is the first)."), Output("url", "string")],
       aliases=("tab", "new page", "new window"))
def new_tab(ctx, url):
    """Opens a new tab and makes it the current one."""
    def work(s):
        page = s.context.new_page()
        s._adopt(page)
        s.page = page
        return s.pages.index(page)

    index = run_on_page(ctx, work, action="open a tab")
    out = {"index": index, "url": "about:blank"}
    if url:
        out["url"] = _goto(ctx, url, "load", None)["url"]
    return out


@_node("browser.switch_tab", title="Switch tab", icon="globe", session_effect=True,
       params=[Param("tab", "string", required=True, placeholder="0, -1, Invoices, /reports/",
                     description="The tab by position (0 the first, -1 the last, e.g. a pop-up just opened) or "
                                 "by a text found in its title or URL."),
               timeout_param("for a matching tab to appear", 10)],
       outputs=[Output("index", "integer"), Output("url", "string"), Output("title", "string"),
                Output("count", "integer", "How many tabs are open.")],
       aliases=("tab", "popup", "window", "activate tab"))
def switch_tab(ctx, tab, timeout):
    """Makes another tab current: the following browser nodes act on it."""
    tab = str(tab).strip()

    def pick(s):
        if re.fullmatch(r"-?\d+", tab):
            i = int(tab)
            return s.pages[i] if -len(s.pages) <= i < len(s.pages) else None
        low = tab.lower()
        for page in s.pages:
            if low in page.url.lower() or low in page.title().lower():
                return page
        return None

    def work(s):
        import time

        start = time.monotonic()
        deadline = start + (timeout if timeout is not None else 10)
        grace = min(deadline, start + 2)
        while True:
            page = pick(s)
            # "-1" just after a click that opens a pop-up: the new tab may not have arrived yet
            early = page is s.page and tab.startswith("-") and time.monotonic() < grace
            if page is not None and not early:
                break
            if time.monotonic() >= deadline:
                listed = "; ".join(f"{i}: {p.title() or '(no title)'} {p.url}" for i, p in enumerate(s.pages))
                raise Failure("no_tab", f"no tab matches '{tab}' (open tabs: {listed})")
            if s.thread.aborting():
                raise Failure("stopped", "the run was stopped")
            s.current().wait_for_timeout(50)  # lets Playwright deliver new-page events
        s.page = page
        page.bring_to_front()
        try:
            page.wait_for_load_state("domcontentloaded")
        except Exception:
            pass
        return {"index": s.pages.index(page), "url": page.url, "title": page.title(), "count": len(s.pages)}

    try:
        return run_on_page(ctx, work, action="switch tabs")
    except NodeError as exc:
        if "no tab matches" in exc.message:
            exc.kind = "not_found"
            exc.fix = "give the tab's position (0, 1, -1 for the last) or a word of its title or URL"
        raise


@_node("browser.close", title="Close browser", icon="globe", session_effect=True,
       params=[Param("tab_only", "boolean", default=False,
                     description="Close only the current tab (the browser stays open).")],
       aliases=("quit", "exit browser", "close tab"))
def close(ctx, tab_only):
    """Closes the browser (or only the current tab). The run also closes it at its end."""
    h = holder(ctx)
    if not h.is_open:
        return None
    if tab_only:
        run_on_page(ctx, lambda s: s.current().close(), action="close the tab")
        return None
    h.close("succeeded", ctx)
    return None


def _goto(ctx, url: str, wait_until: str, timeout: float | None) -> dict:
    url = str(url).strip()
    if not re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I):
        if url.startswith(("/", "./", "../")) or re.match(r"^[A-Za-z]:\\", url):
            url = Path(ctx.path(url)).resolve().as_uri()
        else:
            url = "https://" + url

    def work(s):
        response = s.current().goto(url, wait_until=wait_until or "load", timeout=_ms(timeout))
        info = _page_info(s)
        info["status"] = response.status if response is not None else 0
        return info

    return run_on_page(ctx, work, action="open the page", timeout=timeout, navigating=url)


@_node("browser.goto", title="Go to URL", icon="globe", side_effects=True, idempotent=True, session_effect=True,
       params=[Param("url", "string", required=True, placeholder="https://example.com/login",
                     description="The address to open (https:// is added when no scheme is given)."),
               *loading_params()],
       outputs=[Output("url", "string", "The address after redirects."), Output("title", "string"),
                Output("status", "integer", "The HTTP status of the page.")],
       aliases=("navigate", "open url", "open page", "visit"))
def goto(ctx, url, wait_until, timeout):
    """Opens an address in the current tab and waits for it to load."""
    return _goto(ctx, url, wait_until, timeout)
