"""Browser nodes: open a Chromium-family browser, navigate, act on elements, wait, extract
data, screenshots, downloads, uploads, dialogs, tabs.

Every node of a run shares one browser session (see ``session.py``); the first browser node
opens it with the bot's ``settings.browser`` when no Open browser node ran before. Elements are
named by a *target* (see ``targets.py`` and docs/browser.md). Failures say what was looked
for, on which page, and keep a screenshot of the page with the run.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

from botloom.runner.errors import BotloomError, NodeError
from botloom.runner.sdk import Next, Output, Param, Requirement, node

from . import discover
from .session import INSTALL, Failure, Holder, env_headless, holder, options
from .targets import HELP as TARGET_HELP, describe, locate, parse

CATEGORY = "Browser"
REQUIRES = (Requirement("playwright", INSTALL),)
TARGET_PLACEHOLDER = '#id, text=Save, role=button[name="Save"], label=E-mail, testid=submit'


def _preflight(info) -> None:
    """Before the run: Playwright is installed and the browser the bot would use exists."""
    import importlib.util

    if importlib.util.find_spec("playwright") is None:
        raise BotloomError("the bot uses browser nodes, but the Python package 'playwright' is not installed",
                           where=info.bot, fix=f"run: {INSTALL}")
    settings = info.area("browser")
    choices = set()
    for _flow, _node, static in info.nodes:
        value = static.get("browser")
        if isinstance(value, str) and "{{" not in value:
            choices.add(value or "auto")
    if not choices:
        choices.add("auto")
    headless = [static["headless"] for _f, _n, static in info.nodes if static.get("headless") is not None]
    wants_window = False in headless or (not headless and settings.get("headless") is False) or \
        (not headless and "headless" not in settings and env_headless() is False)
    if wants_window and sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or
                                                                   os.environ.get("WAYLAND_DISPLAY")):
        raise BotloomError("the bot asks for a headed (visible) browser, but there is no display (DISPLAY is not set)",
                           where=info.bot, fix="run headless (settings.browser.headless: true), or start the run "
                                               "inside a desktop session or Xvfb")
    for value in sorted(choices):
        choice, source = discover.choose(value, settings)
        try:
            discover.resolve(choice, source)
        except NodeError as exc:
            raise BotloomError(exc.message, where=info.bot, fix=exc.fix) from None


def _node(type_id: str, **kw):
    kw.setdefault("category", CATEGORY)
    kw.setdefault("requires", REQUIRES)
    kw.setdefault("preflight", _preflight)
    return node(type_id, **kw)


def target_param(required: bool = True, description: str = "The element to act on.") -> Param:
    return Param("target", "string", required=required, placeholder=TARGET_PLACEHOLDER,
                 description=description + " CSS by default; or text=, role=, label=, placeholder=, testid=, "
                                           "xpath=; join parts with ' >> ', pick one with nth=N.")


def timeout_param(what: str = "for the element", default: float | None = None) -> Param:
    return Param("timeout", "number", default=default, minimum=0, advanced=True,
                 description=f"Seconds to wait {what} (default: settings.browser.timeout, else 10).")


# ---------------------------------------------------------------- running work on the browser thread
def session_of(ctx) -> Holder:
    """The run's browser, opened with the bot's settings if no Open browser node ran yet."""
    h = holder(ctx)
    if not h.is_open:
        h.open(ctx, options(ctx.settings("browser")))
    return h


def _ms(timeout: float | None) -> float | None:
    return None if timeout is None else float(timeout) * 1000


def _failure(s, exc: Exception, parts) -> Failure:
    """On the browser thread: what went wrong, with the page's URL, a screenshot and, for a
    target, how many elements match it now."""
    message = str(exc).strip()
    first = message.splitlines()[0] if message else type(exc).__name__
    first = re.sub(r"^(Locator|Page|Frame|ElementHandle)\.\w+: ", "", first)
    kind = "timeout" if isinstance(exc, s.errors.TimeoutError) else "browser"
    if "strict mode violation" in message:
        kind = "strict"
    elif "net::ERR_" in message:
        kind = "network"
    page = s.page
    url = ""
    try:
        url = page.url if page is not None and not page.is_closed() else ""
    except Exception:
        pass
    matches = None
    if parts is not None:
        try:
            matches = locate(s.current(), parts).count()
        except Exception:
            matches = None
    return Failure(kind, first, url=url, screenshot=s.screenshot(), matches=matches)


def run_on_page(ctx, work: Callable, *, parts=None, action: str = "use", timeout: float | None = None,
                navigating: str | None = None) -> Any:
    """Run ``work(session)`` on the browser thread; turn a Playwright failure into a NodeError
    that names the target, the page and the screenshot kept with the run."""
    h = session_of(ctx)

    def guarded(s):
        try:
            return work(s)
        except Failure:
            raise
        except s.errors.Error as exc:
            raise _failure(s, exc, parts) from None

    try:
        return h.run(ctx, guarded)
    except Failure as f:
        raise _error(ctx, h, f, parts, action, timeout, navigating) from None


_OWN_KINDS = {"fill": "bad_input", "no_tab": "not_found", "download": "browser"}


def _error(ctx, h: Holder, f: Failure, parts, action: str, timeout: float | None, navigating: str | None) -> NodeError:
    shot = None
    if f.screenshot:
        shot = ctx.artifact(f.screenshot, name=f"{ctx.seq:05d}-{ctx.node_id}-failure.png", kind="screenshot")
    seen = f" (screenshot of the page: {shot})" if shot else ""
    details = {"url": f.url, "screenshot": str(shot) if shot else None}
    wait = timeout if timeout is not None else (h.session.opts["timeout"] if h.session else 10)
    page = f"on {f.url}" if f.url else "on the page"
    if f.kind in _OWN_KINDS:  # raised by Botloom's own code on the browser thread: the message says it all
        return NodeError(f"{f.message} ({page})", kind=_OWN_KINDS[f.kind], details=details,
                         fix=f"check the values against the page{seen}" if f.kind == "fill" else (seen.strip() or None))
    if navigating is not None:
        details["target_url"] = navigating
        nav_wait = timeout if timeout is not None else (h.session.opts["navigation_timeout"] if h.session else 30)
        if f.kind == "timeout":
            return NodeError(f"{navigating} did not load within {nav_wait:g} s", kind="timeout", details=details,
                             fix=f"check that the site is up and answers; raise this node's timeout or "
                                 f"settings.browser.navigation_timeout{seen}")
        if f.kind == "network":
            code = re.search(r"net::(ERR_[A-Z_]+)", f.message)
            return NodeError(f"cannot open {navigating}: {code.group(1) if code else f.message}", kind="network",
                             details=details, fix=f"check the address, the network and that the site is running{seen}")
        return NodeError(f"cannot open {navigating}: {f.message}", kind="browser", details=details,
                         fix=f"check the address{seen}")
    if parts is not None:
        target = describe(parts)
        details["target"] = target
        if f.kind == "strict":
            n = re.search(r"resolved to (\d+) elements", f.message)
            count = n.group(1) if n else ("several" if f.matches is None else str(f.matches))
            return NodeError(f"the target '{target}' matches {count} elements {page}; {action} needs exactly one",
                             kind="bad_input", details=details,
                             fix=f"make the target more precise, or pick one with ' >> nth=0' (the first){seen}")
        if f.kind == "timeout" and not f.matches:
            return NodeError(f"no element matches the target '{target}' {page} (waited {wait:g} s)",
                             kind="not_found", details=details,
                             fix="check the target against the page (it may have changed, or the element appears "
                                 f"later: add a Wait node or raise the timeout); {TARGET_HELP}{seen}")
        if f.kind == "timeout":
            return NodeError(f"the element '{target}' was found {page} but could not {action} it within {wait:g} s "
                             f"(it stayed hidden, disabled, covered or was not the right kind of element)",
                             kind="timeout", details=details,
                             fix=f"wait for the page to be ready first (Wait node), or check the target{seen}")
        return NodeError(f"cannot {action} '{target}' {page}: {f.message}", kind="browser", details=details,
                         fix=f"check that the target is the right kind of element for this node{seen}")
    if f.kind == "timeout":
        return NodeError(f"{action} did not finish within {wait:g} s {page}: {f.message}", kind="timeout",
                         details=details, fix=f"raise the timeout, or check that the page does what is expected{seen}")
    return NodeError(f"{action} failed {page}: {f.message}", kind="browser", details=details, fix=seen.strip() or None)


def _page_info(s) -> dict:
    p = s.current()
    return {"url": p.url, "title": p.title()}


def _with_target(ctx, target: str, action: str, op: Callable, timeout: float | None = None) -> Any:
    parts = parse(target)
    return run_on_page(ctx, lambda s: op(s, locate(s.current(), parts)), parts=parts, action=action,
                       timeout=timeout)


# ---------------------------------------------------------------- session and tabs
@_node("browser.open", title="Open browser", icon="globe",
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


@_node("browser.new_tab", title="New tab", icon="globe",
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


@_node("browser.switch_tab", title="Switch tab", icon="globe",
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


@_node("browser.close", title="Close browser", icon="globe",
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


# ---------------------------------------------------------------- navigation
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


@_node("browser.goto", title="Go to URL", icon="globe", side_effects=True, idempotent=True,
       params=[Param("url", "string", required=True, placeholder="https://example.com/login",
                     description="The address to open (https:// is added when no scheme is given)."),
               Param("wait_until", "string", default="load", choices=("load", "domcontentloaded", "networkidle", "commit"),
                     advanced=True, description="When the page counts as loaded."),
               timeout_param("for the page to load (default: settings.browser.navigation_timeout, else 30)")],
       outputs=[Output("url", "string", "The address after redirects."), Output("title", "string"),
                Output("status", "integer", "The HTTP status of the page.")],
       aliases=("navigate", "open url", "open page", "visit"))
def goto(ctx, url, wait_until, timeout):
    """Opens an address in the current tab and waits for it to load."""
    return _goto(ctx, url, wait_until, timeout)


# ---------------------------------------------------------------- acting on elements
@_node("browser.click", title="Click", icon="cursor", side_effects=True, idempotent=False,
       params=[target_param(),
               Param("button", "string", default="left", choices=("left", "right", "middle"), advanced=True),
               Param("double", "boolean", default=False, description="Double-click."),
               Param("force", "boolean", default=False, advanced=True,
                     description="Click even if the element seems hidden or covered."),
               timeout_param()],
       aliases=("press button", "tap", "submit", "link"))
def click(ctx, target, button, double, force, timeout):
    """Clicks an element once it is visible, enabled and still."""
    def op(s, loc):
        kw = {"button": button or "left", "force": bool(force), "timeout": _ms(timeout)}
        loc.dblclick(**kw) if double else loc.click(**kw)

    _with_target(ctx, target, "click", op, timeout)


@_node("browser.fill", title="Fill field", icon="keyboard", side_effects=True, idempotent=True,
       params=[target_param(description="The input field."),
               Param("value", "string", default="", description="The text to put in the field (replaces what is there)."),
               Param("secret", "secret", advanced=True,
                     description="Fill with this secret instead (its value is never logged)."),
               timeout_param()],
       aliases=("input", "set text", "enter text", "write field", "password"))
def fill(ctx, target, value, secret, timeout):
    """Replaces the text of an input field, text area or editable element."""
    text = secret.reveal() if secret is not None else ("" if value is None else str(value))
    _with_target(ctx, target, "fill", lambda s, loc: loc.fill(text, timeout=_ms(timeout)), timeout)


@_node("browser.type", title="Type text", icon="keyboard", side_effects=True, idempotent=False,
       params=[target_param(required=False, description="The element to type into (empty: where the focus is)."),
               Param("text", "string", required=True),
               Param("delay", "number", default=0.0, minimum=0, advanced=True,
                     description="Seconds between keys (for pages that react to each key)."),
               Param("clear", "boolean", default=False, description="Empty the field first."),
               timeout_param()],
       aliases=("keys", "keyboard", "send keys"))
def type_text(ctx, target, text, delay, clear, timeout):
    """Types text key by key, as a person would (pages with autocomplete or key handlers)."""
    ms = (delay or 0) * 1000
    if not target:
        run_on_page(ctx, lambda s: s.current().keyboard.type(text, delay=ms), action="type")
        return None

    def op(s, loc):
        if clear:
            loc.fill("", timeout=_ms(timeout))
        loc.press_sequentially(text, delay=ms, timeout=_ms(timeout))

    _with_target(ctx, target, "type into", op, timeout)


@_node("browser.select", title="Select option", icon="list", side_effects=True, idempotent=True,
       params=[target_param(description="The <select> element."),
               Param("option", "any", required=True,
                     description="The option to choose (a list for multiple choice)."),
               Param("by", "string", default="label", choices=("label", "value", "index"),
                     description="Match the option's visible text, its value, or its position (0 the first)."),
               timeout_param()],
       outputs=[Output("selected", "list", "Values of the selected options.")],
       aliases=("dropdown", "combo", "choose"))
def select(ctx, target, option, by, timeout):
    """Chooses one (or several) options of a drop-down list."""
    values = option if isinstance(option, list) else [option]
    if by == "index":
        kw = {"index": [int(v) for v in values]}
    else:
        kw = {by or "label": [str(v) for v in values]}
    selected = _with_target(ctx, target, "select an option of",
                            lambda s, loc: loc.select_option(timeout=_ms(timeout), **kw), timeout)
    return {"selected": selected}


@_node("browser.check", title="Check / uncheck", icon="check", side_effects=True, idempotent=True,
       params=[target_param(description="The checkbox or radio button."),
               Param("checked", "boolean", default=True, description="Tick it (true) or clear it (false)."),
               timeout_param()],
       aliases=("checkbox", "tick", "untick", "uncheck", "radio", "toggle"))
def check(ctx, target, checked, timeout):
    """Ticks or clears a checkbox, or chooses a radio button."""
    _with_target(ctx, target, "check" if checked else "uncheck",
                 lambda s, loc: loc.set_checked(bool(checked), timeout=_ms(timeout)), timeout)


@_node("browser.press", title="Press key", icon="keyboard", side_effects=True, idempotent=False,
       params=[Param("key", "string", required=True, placeholder="Enter, Tab, Control+A, ArrowDown",
                     description="A key or combination, as Playwright names them (Enter, Escape, Control+A)."),
               target_param(required=False, description="Focus this element first (empty: where the focus is)."),
               timeout_param()],
       aliases=("key", "hotkey", "enter", "shortcut"))
def press(ctx, key, target, timeout):
    """Presses a key or key combination."""
    if not target:
        run_on_page(ctx, lambda s: s.current().keyboard.press(key), action=f"press {key}")
        return None
    _with_target(ctx, target, f"press {key} on", lambda s, loc: loc.press(key, timeout=_ms(timeout)), timeout)


@_node("browser.hover", title="Hover", icon="cursor",
       params=[target_param(), timeout_param()], aliases=("mouse over", "menu"))
def hover(ctx, target, timeout):
    """Moves the mouse over an element (menus that open on hover)."""
    _with_target(ctx, target, "hover over", lambda s, loc: loc.hover(timeout=_ms(timeout)), timeout)


# ---------------------------------------------------------------- waiting
@_node("browser.wait", title="Wait for page", icon="clock",
       params=[Param("until", "string", default="element",
                     choices=("element", "text", "url", "network_idle", "load"),
                     description="What to wait for: an element (in a state), a text on the page, the address, "
                                 "the network to be idle, or the page's load event."),
               target_param(required=False, description="The element to wait for."),
               Param("state", "string", default="visible", choices=("visible", "hidden", "attached", "detached"),
                     show_if={"until": ["element"]}, description="Wait until the element is in this state."),
               Param("text", "string", show_if={"until": ["text"]},
                     description="Wait until this text is visible on the page."),
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

        def work(s):
            loc = locate(s.current(), parts).first
            s.waiting(lambda t: loc.wait_for(state=state or "visible", timeout=t), ms)
            return {"url": s.current().url}

        try:
            return run_on_page(ctx, work, parts=parts, action="wait for", timeout=timeout)
        except NodeError as exc:
            if exc.kind == "not_found" or (exc.kind == "timeout" and state != "visible"):
                exc.kind = "timeout"
                exc.message = (f"the element '{describe(parts)}' did not become {state} within {timeout:g} s "
                               f"on {exc.details.get('url') or 'the page'}")
            raise
    if until == "text":
        if not text:
            raise NodeError("waiting for a text needs the text", kind="bad_input", fix="fill in the text parameter")

        def work(s):
            loc = s.current().get_by_text(text).first
            s.waiting(lambda t: loc.wait_for(state="visible", timeout=t), ms)
            return {"url": s.current().url}

        try:
            return run_on_page(ctx, work, action="wait for the text", timeout=timeout)
        except NodeError as exc:
            if exc.kind == "timeout":
                exc.message = f"the text '{text}' did not appear within {timeout:g} s on {exc.details.get('url')}"
            raise
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

        def work(s):
            s.waiting(lambda t: s.current().wait_for_url(pattern, timeout=t, wait_until="commit"), ms)
            return {"url": s.current().url}

        try:
            return run_on_page(ctx, work, action="wait for the address", timeout=timeout)
        except NodeError as exc:
            if exc.kind == "timeout":
                exc.message = f"the address did not become '{url}' within {timeout:g} s (it is {exc.details.get('url')})"
            raise

    def work(s):
        state_ = "networkidle" if until == "network_idle" else "load"
        s.waiting(lambda t: s.current().wait_for_load_state(state_, timeout=t), ms)
        return {"url": s.current().url}

    return run_on_page(ctx, work, action=f"wait for {until.replace('_', ' ')}", timeout=timeout)


# ---------------------------------------------------------------- reading the page
_TEXT_JS = """el => {
  const t = el.tagName;
  if (t === 'INPUT' || t === 'TEXTAREA') return el.value;
  if (t === 'SELECT') return [...el.selectedOptions].map(o => o.textContent.trim()).join(', ');
  return (el.innerText !== undefined ? el.innerText : el.textContent).replace(/\\s+/g, ' ').trim();
}"""


@_node("browser.get_text", title="Get text", icon="text",
       params=[target_param(description="The element to read (a field gives its value)."),
               Param("all", "boolean", default=False,
                     description="Read every matching element into 'texts' (no error when none matches)."),
               timeout_param()],
       outputs=[Output("text", "string", "The text (the first match when 'all' is on)."),
                Output("texts", "list", "Texts of every match."), Output("count", "integer")],
       aliases=("read text", "scrape", "extract text", "inner text", "value"))
def get_text(ctx, target, all, timeout):
    """Reads the visible text of an element (or the value of a field)."""
    if all:
        texts = _with_target(ctx, target, "read", lambda s, loc: loc.evaluate_all(f"els => els.map({_TEXT_JS})"), timeout)
        return {"text": texts[0] if texts else "", "texts": texts, "count": len(texts)}
    text = _with_target(ctx, target, "read", lambda s, loc: loc.evaluate(_TEXT_JS, timeout=_ms(timeout)), timeout)
    return {"text": text, "texts": [text], "count": 1}


@_node("browser.get_attribute", title="Get attribute", icon="text",
       params=[target_param(), Param("name", "string", required=True, placeholder="href",
                                     description="The attribute's name (href, src, value, data-id ...)."),
               Param("all", "boolean", default=False, description="Read it from every matching element."),
               timeout_param()],
       outputs=[Output("value", "any", "The value (null when the element has no such attribute)."),
                Output("values", "list")],
       aliases=("href", "link", "src", "data attribute"))
def get_attribute(ctx, target, name, all, timeout):
    """Reads an attribute of an element."""
    if all:
        values = _with_target(ctx, target, "read",
                              lambda s, loc: loc.evaluate_all("(els, n) => els.map(e => e.getAttribute(n))", name), timeout)
        return {"value": values[0] if values else None, "values": values}
    value = _with_target(ctx, target, "read", lambda s, loc: loc.get_attribute(name, timeout=_ms(timeout)), timeout)
    return {"value": value, "values": [value]}


_TABLE_JS = """(el, header) => {
  const clean = s => (s || '').replace(/\\s+/g, ' ').trim();
  let table = el;
  const isAria = e => ['table', 'grid', 'treegrid'].includes(e.getAttribute('role'));
  if (el.tagName !== 'TABLE' && !isAria(el)) table = el.querySelector('table, [role=table], [role=grid]') || el;
  let rows;
  if (table.tagName === 'TABLE') {
    rows = [...table.rows].map(r => ({head: r.parentElement.tagName === 'THEAD' || [...r.cells].every(c => c.tagName === 'TH'),
                                      cells: [...r.cells].flatMap(c => Array(Math.max(1, c.colSpan || 1)).fill(clean(c.innerText)))}));
  } else {
    rows = [...table.querySelectorAll('[role=row]')].map(r => {
      const cells = [...r.querySelectorAll('[role=cell], [role=gridcell], [role=columnheader], [role=rowheader]')];
      return {head: cells.length > 0 && cells.every(c => c.getAttribute('role') === 'columnheader'),
              cells: cells.map(c => clean(c.innerText))};
    });
  }
  rows = rows.filter(r => r.cells.length > 0);
  let columns = null;
  if (header && rows.length) {
    const heads = rows.filter(r => r.head);
    const h = heads.length ? heads[heads.length - 1] : rows[0];
    columns = h.cells;
    rows = rows.filter(r => !r.head && r !== h);
  }
  return {columns, rows: rows.map(r => r.cells)};
}"""

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _infer(text: str) -> Any:
    t = text.replace(",", "") if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", text) else text
    if _NUMBER.match(t):
        return float(t) if "." in t else int(t)
    return text


def unique_columns(names: list[str], width: int) -> list[str]:
    out: list[str] = []
    for i in range(width):
        base = (names[i] if i < len(names) else "") or f"column{i + 1}"
        name, n = base, 2
        while name in out:
            name, n = f"{base}_{n}", n + 1
        out.append(name)
    return out


@_node("browser.extract_table", title="Extract table", icon="table",
       params=[target_param(required=False, description="The table (or an element around it); empty: the first "
                                                        "table of the page. ARIA tables (role=table/grid) work too."),
               Param("header", "boolean", default=True,
                     description="The header row (<th> cells or the first row) names the columns."),
               Param("infer_types", "boolean", default=False,
                     description="Turn cells that hold plain numbers into numbers."),
               timeout_param()],
       outputs=[Output("rows", "table", "One object per row, keyed by column name."),
                Output("columns", "list"), Output("count", "integer")],
       aliases=("scrape table", "html table", "grid", "read table"))
def extract_table(ctx, target, header, infer_types, timeout):
    """Reads an HTML table into a table of rows (column names from its header)."""
    target = target or "table"
    data = _with_target(ctx, target, "read the table",
                        lambda s, loc: loc.evaluate(_TABLE_JS, bool(header), timeout=_ms(timeout)), timeout)
    rows = data["rows"]
    width = max([len(r) for r in rows] + [len(data["columns"] or [])] + [0])
    columns = unique_columns(data["columns"] or [], width)
    table = []
    for cells in rows:
        values = [(_infer(c) if infer_types else c) for c in cells] + [None] * (width - len(cells))
        table.append(dict(zip(columns, values)))
    return {"rows": table, "columns": columns, "count": len(table)}


_LIST_JS = """(items, fields) => items.map(item => {
  const row = {};
  for (const [name, spec] of Object.entries(fields)) {
    let sel = String(spec || '').trim(), attr = null;
    const at = sel.lastIndexOf('@');
    if (at >= 0 && !sel.slice(at).includes(']')) { attr = sel.slice(at + 1).trim(); sel = sel.slice(0, at).trim(); }
    const el = sel ? item.querySelector(sel) : item;
    if (!el) { row[name] = null; continue; }
    if (attr) row[name] = el.getAttribute(attr);
    else if (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') row[name] = el.value;
    else row[name] = (el.innerText || el.textContent || '').replace(/\\s+/g, ' ').trim();
  }
  return row;
})"""


@_node("browser.extract_list", title="Extract list", icon="table",
       params=[Param("items", "string", required=True, placeholder=".product, css=#results li",
                     description="A target matching each repeated item (a card, a list entry, a row)."),
               Param("fields", "object", required=True,
                     description='Column name to a CSS selector inside the item, e.g. {"name": ".title", '
                                 '"price": ".price", "link": "a@href"}; "@attr" reads an attribute, an empty '
                                 "selector means the item itself."),
               Param("wait", "boolean", default=True,
                     description="Wait for the first item to appear (false: an empty table when there is none)."),
               timeout_param()],
       outputs=[Output("rows", "table", "One object per item."), Output("count", "integer")],
       aliases=("scrape list", "cards", "repeated", "search results"))
def extract_list(ctx, items, fields, wait, timeout):
    """Reads repeated elements (search results, product cards) into a table, one row per item."""
    if not fields:
        raise NodeError("no fields to read from each item", kind="bad_input",
                        fix='give fields such as {"name": ".title", "link": "a@href"}')

    def op(s, loc):
        if wait:
            s.waiting(lambda t: loc.first.wait_for(state="attached", timeout=t), _ms(timeout))
        return loc.evaluate_all(_LIST_JS, {str(k): str(v) for k, v in fields.items()})

    try:
        rows = _with_target(ctx, items, "read the items", op, timeout)
    except NodeError as exc:
        if "css.escape" in exc.message.lower() or "is not a valid selector" in exc.message:
            exc.kind, exc.fix = "bad_input", "check the CSS selectors in 'fields'"
        raise
    return {"rows": rows, "count": len(rows)}


# ---------------------------------------------------------------- screenshots, files, dialogs
@_node("browser.screenshot", title="Screenshot", icon="camera",
       params=[target_param(required=False, description="Only this element (empty: the page)."),
               Param("full_page", "boolean", default=False, description="The whole page, not only what is in view."),
               Param("path", "path", path="save", description="Also save the PNG here (optional)."),
               timeout_param()],
       outputs=[Output("path", "path", "The screenshot kept with the run (or the saved file).")],
       aliases=("capture", "snapshot", "image", "png"))
def screenshot(ctx, target, full_page, path, timeout):
    """Takes a PNG screenshot of the page or one element and keeps it with the run."""
    def again(s, shoot):
        # a headed window that has just opened (or lost its compositor frame) can refuse the
        # first capture with "Protocol error (Page.captureScreenshot)": give it a moment
        for attempt in range(3):
            try:
                return shoot()
            except s.errors.Error as exc:
                if "captureScreenshot" not in str(exc) or attempt == 2:
                    raise
                s.current().wait_for_timeout(200)

    if target:
        data = _with_target(ctx, target, "take a screenshot of",
                            lambda s, loc: again(s, lambda: loc.screenshot(timeout=_ms(timeout))), timeout)
    else:
        data = run_on_page(ctx, lambda s: again(s, lambda: s.current().screenshot(full_page=bool(full_page),
                                                                                 timeout=_ms(timeout))),
                           action="take a screenshot")
    kept = ctx.artifact(data, name=f"{ctx.seq:05d}-{ctx.node_id}.png", kind="screenshot")
    if path:
        from botloom.nodes.core.files import make_parent, os_failure

        dest = ctx.path(path)
        make_parent(ctx, dest)
        try:
            dest.write_bytes(data)
        except OSError as exc:
            raise os_failure(ctx, exc, dest, "write") from None
        return {"path": str(dest)}
    return {"path": str(kept)}


@_node("browser.download", title="Download file", icon="download", side_effects=True, idempotent=True,
       params=[target_param(description="The link or button that starts the download."),
               Param("save_to", "path", default="downloads/", path="folder",
                     description="A folder (the file keeps the name the site gives it) or a file path."),
               Param("keep", "boolean", default=False, advanced=True, description="Also keep a copy with the run."),
               timeout_param("for the download to start", 30)],
       outputs=[Output("path", "path", "Where the file was saved."), Output("filename", "string",
                                                                            "The name the site gave the file."),
                Output("size", "integer", "Bytes.")],
       aliases=("download", "export", "save file", "report"))
def download(ctx, target, save_to, keep, timeout):
    """Clicks a link or button and saves the file it downloads."""
    from botloom.nodes.core.files import make_parent

    raw = str(save_to or "downloads/")
    base = ctx.path(raw)
    into_folder = raw.endswith(("/", os.sep)) or base.is_dir()
    ms = _ms(timeout if timeout is not None else 30)
    tmp = {}

    def op(s, loc):
        page = s.current()
        with page.expect_download(timeout=ms) as info:
            loc.click(timeout=ms)
        d = info.value
        failure = d.failure()
        if failure:
            raise Failure("download", f"the download failed: {failure}", url=page.url, screenshot=s.screenshot())
        name = d.suggested_filename or "download"
        dest = base / name if into_folder else base
        dest.parent.mkdir(parents=True, exist_ok=True)
        d.save_as(str(dest))
        tmp["name"] = name
        return str(dest)

    if into_folder:
        make_parent(ctx, base / "x")
    path = _with_target(ctx, target, "download from", op, timeout if timeout is not None else 30)
    size = Path(path).stat().st_size
    if keep:
        ctx.artifact(path, kind="download")
    ctx.log(f"downloaded {tmp['name']} ({size} bytes) to {path}", "info")
    return {"path": path, "filename": tmp["name"], "size": size}


@_node("browser.upload", title="Upload file", icon="upload", side_effects=True, idempotent=True,
       params=[target_param(description="The file input, or the button that opens the file chooser."),
               Param("files", "any", required=True, description="A file path or a list of paths."),
               timeout_param()],
       outputs=[Output("count", "integer", "How many files were chosen.")],
       aliases=("attach", "file input", "choose file"))
def upload(ctx, target, files, timeout):
    """Chooses files for a file input (or a button that opens the file chooser)."""
    from botloom.nodes.core.files import not_found

    listed = files if isinstance(files, list) else [files]
    paths = []
    for f in listed:
        p = ctx.path(str(f))
        if not p.is_file():
            raise not_found(ctx, p)
        paths.append(str(p))

    def op(s, loc):
        is_input = loc.evaluate("e => e.tagName === 'INPUT' && e.type === 'file'", timeout=_ms(timeout))
        if is_input:
            loc.set_input_files(paths, timeout=_ms(timeout))
        else:
            with s.current().expect_file_chooser(timeout=_ms(timeout)) as info:
                loc.click(timeout=_ms(timeout))
            info.value.set_files(paths)
        return len(paths)

    return {"count": _with_target(ctx, target, "upload with", op, timeout)}


@_node("browser.handle_dialog", title="Handle dialogs", icon="message",
       params=[Param("action", "string", default="accept", choices=("accept", "dismiss"),
                     description="Press OK (accept) or Cancel (dismiss)."),
               Param("prompt_text", "string", description="The answer typed into a prompt() before accepting."),
               Param("applies_to", "string", default="next", choices=("next", "every"),
                     description="Only the next dialog, or every dialog from now on.")],
       aliases=("alert", "confirm", "prompt", "popup", "javascript dialog"))
def handle_dialog(ctx, action, prompt_text, applies_to):
    """Says how to answer JavaScript dialogs (alert, confirm, prompt). Put it before the step that
    opens the dialog. Without it, dialogs are dismissed (Cancel) and logged."""
    policy = {"action": action or "accept", "prompt_text": prompt_text}

    def work(s):
        if applies_to == "every":
            s.dialog_policy, s.dialog_next = policy, None
        else:
            s.dialog_next = policy

    run_on_page(ctx, work, action="set the dialog handling")


@_node("browser.get_dialog", title="Last dialog", icon="message",
       params=[Param("timeout", "number", default=0, minimum=0,
                     description="Seconds to wait for a dialog when none came since the last time this was asked.")],
       outputs=[Output("message", "string", "The dialog's text."),
                Output("type", "string", "alert, confirm, prompt or beforeunload."),
                Output("action", "string", "accept or dismiss: how it was answered."),
                Output("count", "integer", "Dialogs seen since the last time this node ran.")],
       ports=("out", "none"), aliases=("alert text", "confirm text", "dialog message"))
def get_dialog(ctx, timeout):
    """The JavaScript dialogs shown since the last time this node ran; leaves through 'none'
    when there was none."""
    def work(s):
        import time

        deadline = time.monotonic() + (timeout or 0)
        while not s.dialogs and time.monotonic() < deadline and not s.thread.aborting():
            s.current().wait_for_timeout(50)
        seen, s.dialogs = list(s.dialogs), []
        return seen

    seen = run_on_page(ctx, work, action="read the dialogs")
    if not seen:
        return Next("none", {"message": "", "type": "", "action": "", "count": 0})
    last = seen[-1]
    for d in seen:
        ctx.log(f"dialog ({d['type']}): {d['message']!r} -> {d['action']}", "info")
    return {"message": last["message"], "type": last["type"], "action": last["action"], "count": len(seen)}


@_node("browser.run_script", title="Run JavaScript", icon="code", side_effects=True, idempotent=False,
       params=[Param("script", "string", required=True, multiline=True, placeholder="() => document.title",
                     description="A JavaScript function (or expression) run in the page; its result must be JSON."),
               Param("arg", "any", description="A JSON value passed to the function as its argument."),
               target_param(required=False, description="Run it on this element (passed as the first argument).")],
       outputs=[Output("result", "any", "What the script returned.")],
       aliases=("javascript", "js", "evaluate", "execute script"))
def run_script(ctx, script, arg, target):
    """Runs JavaScript in the current page, for what no other node does."""
    if target:
        return {"result": _with_target(ctx, target, "run the script on",
                                       lambda s, loc: loc.evaluate(script, arg), None)}
    return {"result": run_on_page(ctx, lambda s: s.current().evaluate(script, arg), action="run the script")}
