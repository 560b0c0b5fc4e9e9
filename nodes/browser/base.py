"""What every browser node shares: how a node is declared (category, requirement, preflight
check), the common target and timeout parameters, and running work on the browser thread
with a Playwright failure turned into an error that names the target, the page and a
screenshot kept with the run.

Every node of a run shares one browser session (see ``session.py``); the first browser node
opens it with the bot's ``settings.browser`` when no Open browser node ran before. Elements are
named by a *target* (see ``targets.py`` and docs/browser.md).
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, Callable

from botloom.runner.sdk import BotloomError, NodeError, Param, Requirement, node

from . import discover
from .session import INSTALL, Failure, Holder, env_headless, holder, options, prestart
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


TARGET_PARAMS = ("target", "after", "next", "form", "submit", "items")


def _lint_targets(names: tuple[str, ...], more=None):
    """A lint check: every written-out target parameter parses (before any browser starts)."""
    from botloom.runner.sdk import Lint

    from .targets import check

    def lint(params, info):
        for name in names:
            value = params.get(name)
            if isinstance(value, str) and value.strip() and "{{" not in value:
                try:
                    check(value)
                except NodeError as exc:
                    yield Lint(exc.message, param=name, fix=exc.fix)
        if more is not None:
            yield from more(params, info)

    return lint


def _node(type_id: str, targets: tuple[str, ...] | None = None, **kw):
    if targets is None:
        targets = tuple(p.name for p in kw.get("params", ()) if p.name in TARGET_PARAMS)
    if targets:
        kw["lint"] = _lint_targets(targets, kw.get("lint"))
    kw.setdefault("category", CATEGORY)
    kw.setdefault("requires", REQUIRES)
    kw.setdefault("preflight", _preflight)
    kw.setdefault("prestart", prestart)
    kw.setdefault("uses_session", True)  # journalled at once: a resumed run cannot read the old page again
    return node(type_id, **kw)


def target_param(required: bool = True, description: str = "The element to act on.") -> Param:
    return Param("target", "string", required=required, placeholder=TARGET_PLACEHOLDER, widget="web-target",
                 description=description + " CSS by default; or text=, role=, label=, placeholder=, testid=, "
                                           "xpath=; join parts with ' >> ', pick one with nth=N.")


def timeout_param(what: str = "for the element", default: float | None = None,
                  default_text: str = "settings.browser.timeout, else 10") -> Param:
    return Param("timeout", "number", default=default, minimum=0, advanced=True,
                 description=f"Seconds to wait {what} (default: {default_text}).")


def loading_params() -> list[Param]:
    """When a navigation counts as done, and how long it may take."""
    return [Param("wait_until", "string", default="load", choices=("load", "domcontentloaded", "networkidle", "commit"),
                  advanced=True, description="When the page counts as loaded."),
            timeout_param("for the page to load", default_text="settings.browser.navigation_timeout, else 30")]


# ---------------------------------------------------------------- running work on the browser thread
def session_of(ctx) -> Holder:
    """The run's browser, opened with the bot's settings if no Open browser node ran yet."""
    h = holder(ctx)
    if not h.is_open:
        h.open(ctx, options(ctx.settings("browser")))
    return h


def _ms(timeout: float | None) -> float | None:
    return None if timeout is None else float(timeout) * 1000


def _failure(s, exc: Exception, parts, navigating: bool = False) -> Failure:
    """On the browser thread: what went wrong, with the page's URL, a screenshot and, for a
    target, how many elements match it now. A navigation that timed out is stopped first: the
    page still waits for the server, and a screenshot of it would wait too."""
    message = str(exc).strip()
    first = message.splitlines()[0] if message else type(exc).__name__
    first = re.sub(r"^(Locator|Page|Frame|ElementHandle)\.\w+: ", "", first)
    kind = "timeout" if isinstance(exc, s.errors.TimeoutError) else "browser"
    if "strict mode violation" in message:
        kind = "strict"
    elif "net::ERR_" in message:
        kind = "network"
    if navigating and kind == "timeout":
        s.stop_loading()
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
            raise _failure(s, exc, parts, navigating is not None) from None

    try:
        return h.run(ctx, guarded)
    except Failure as f:
        raise _error(ctx, h, f, parts, action, timeout, navigating) from None


_OWN_KINDS = {"fill": "bad_input", "no_tab": "not_found", "download": "browser", "waited": "timeout"}


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
