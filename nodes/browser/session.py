"""One browser session per run, owned by a thread of its own.

Playwright's sync API is bound to the thread that started it, while the engine runs a node on
a helper thread when the node has a timeout. So the session lives on a dedicated browser
thread and every node *submits* work to it (a function of the :class:`Session`), waiting for
the answer while watching for the run being stopped. The session is a run resource
(``ctx.resource``): opened by the first browser node, closed when the run ends in any way;
when the run failed, the Playwright trace is kept as an artifact.

Playwright itself is imported on the browser thread only, when the first browser node runs.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from concurrent.futures import Future

from botloom.runner.sdk import NodeError, RunCancelled

from . import discover

RESOURCE = "browser.session"
INSTALL = "pip install 'botloom[browser]'"
DEFAULTS = {"browser": "auto", "headless": True, "timeout": 10.0, "navigation_timeout": 30.0,
            "trace": "on-failure", "trace_snapshots": False, "profile": "", "slow_mo": 0, "viewport": None,
            "proxy": None, "user_agent": "", "locale": "", "timezone": "", "http_credentials": None}
TRACE_MODES = ("on-failure", "always", "off")


class Failure(Exception):
    """A browser operation failed (raised on the browser thread, turned into a NodeError on the
    node's thread). ``screenshot`` holds the page as PNG bytes at the moment of failure."""

    def __init__(self, kind: str, message: str, *, url: str = "", screenshot: bytes | None = None,
                 matches: int | None = None, timeout: float | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.url = url
        self.screenshot = screenshot
        self.matches = matches
        self.timeout = timeout


def env_headless() -> bool | None:
    value = os.environ.get("BOTLOOM_HEADLESS", "").strip().lower()
    if value in ("0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    return None


def options(settings: dict, **given: Any) -> dict:
    """Session options: a node's given values, then the bot's settings.browser, then defaults."""
    opts = dict(DEFAULTS)
    for key in DEFAULTS:
        if settings.get(key) not in (None, ""):
            opts[key] = settings[key]
    if "headless" not in settings and env_headless() is not None:
        opts["headless"] = env_headless()
    for key, value in given.items():
        if value not in (None, "", "auto") or (key == "headless" and value is not None):
            opts[key] = value
    opts["browser"], opts["browser_source"] = discover.choose(given.get("browser"), settings)
    if opts["trace"] not in TRACE_MODES:
        raise NodeError(f"settings.browser.trace is '{opts['trace']}'", kind="bad_input",
                        fix=f"use one of {', '.join(TRACE_MODES)}")
    context_args(opts)  # a malformed proxy or credentials setting fails here, before the browser starts
    return opts


def context_args(o: dict) -> dict:
    """Playwright's context options for settings.browser's proxy, user_agent, locale, timezone
    and http_credentials (a NodeError that names the setting when one is malformed)."""
    out: dict = {}
    proxy = o.get("proxy")
    if proxy:
        if isinstance(proxy, str):
            proxy = {"server": proxy}
        if not isinstance(proxy, dict) or not proxy.get("server"):
            raise NodeError(f"settings.browser.proxy is {proxy!r}", kind="bad_input",
                            fix='give the proxy\'s address, "http://proxy:3128", or {"server": "http://proxy:3128", '
                                '"username": "...", "password": "...", "bypass": "localhost,.internal"}')
        out["proxy"] = {k: str(v) for k, v in proxy.items() if k in ("server", "username", "password", "bypass") and v}
    creds = o.get("http_credentials")
    if creds:
        if not isinstance(creds, dict) or not creds.get("username") or "password" not in creds:
            raise NodeError("settings.browser.http_credentials needs a username and a password", kind="bad_input",
                            fix='give {"username": "...", "password": "..."} (HTTP basic or digest authentication)')
        password = creds["password"]
        password = password.reveal() if hasattr(password, "reveal") else str(password)
        out["http_credentials"] = {"username": str(creds["username"]), "password": password}
        if creds.get("origin"):
            out["http_credentials"]["origin"] = str(creds["origin"])
    if o.get("user_agent"):
        out["user_agent"] = str(o["user_agent"])
    if o.get("locale"):
        out["locale"] = str(o["locale"])
    if o.get("timezone"):
        out["timezone_id"] = str(o["timezone"])
    return out


# ---------------------------------------------------------------- the browser thread
class BrowserThread:
    """A thread that runs submitted functions one at a time, in order."""

    def __init__(self, name: str = "botloom-browser"):
        import queue

        self._queue: queue.Queue = queue.Queue()
        self.current: Future | None = None
        self._aborted: set = set()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    @property
    def ident(self) -> int | None:
        return self._thread.ident

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, args, future = item
            if not future.set_running_or_notify_cancel():
                continue
            self.current = future
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed back to the submitting thread
                future.set_exception(exc)
            finally:
                self.current = None
                self._aborted.discard(future)

    def abort(self, future: Future) -> None:
        """Ask the call behind ``future`` to give up at its next chance (see Session.waiting)."""
        if not future.done():
            self._aborted.add(future)

    def aborting(self) -> bool:
        current = self.current
        return current is not None and current in self._aborted

    def submit(self, fn: Callable, *args: Any) -> Future:
        from concurrent.futures import Future

        if threading.get_ident() == self._thread.ident:  # already on the browser thread
            future: Future = Future()
            try:
                future.set_result(fn(*args))
            except BaseException as exc:
                future.set_exception(exc)
            return future
        future = Future()
        self._queue.put((fn, args, future))
        return future

    def stop(self, wait: float = 10.0) -> None:
        self._queue.put(None)
        if threading.get_ident() != self._thread.ident:
            self._thread.join(wait)


# ---------------------------------------------------------------- the session (browser thread only)
@dataclass
class Session:
    opts: dict
    found: discover.Found
    pw: Any = None
    browser: Any = None
    context: Any = None
    pages: list = field(default_factory=list)
    page: Any = None
    dialogs: list = field(default_factory=list)
    dialog_policy: dict = field(default_factory=lambda: {"action": "dismiss", "prompt_text": None})
    dialog_next: dict | None = None
    tracing: bool = False
    thread: Any = None  # the BrowserThread, to notice a call that was given up
    errors: Any = None  # playwright.sync_api module: Error, TimeoutError

    @property
    def action_ms(self) -> float:
        return float(self.opts["timeout"]) * 1000

    def open(self) -> "Session":
        from playwright import sync_api

        self.errors = sync_api
        self.pw = sync_api.sync_playwright().start()
        o = self.opts
        launch = {"executable_path": self.found.executable, "headless": bool(o["headless"])}
        if o.get("slow_mo"):
            launch["slow_mo"] = float(o["slow_mo"])
        ctx_args: dict = {"accept_downloads": True, **context_args(o)}
        if o.get("viewport"):
            vp = o["viewport"]
            ctx_args["viewport"] = {"width": int(vp["width"]), "height": int(vp["height"])}
        try:
            if o.get("profile"):
                Path(o["profile"]).mkdir(parents=True, exist_ok=True)
                self.context = self.pw.chromium.launch_persistent_context(o["profile"], **launch, **ctx_args)
            else:
                self.browser = self.pw.chromium.launch(**launch)
                self.context = self.browser.new_context(**ctx_args)
        except Exception:
            self.pw.stop()
            raise
        self.context.set_default_timeout(self.action_ms)
        self.context.set_default_navigation_timeout(float(o["navigation_timeout"]) * 1000)
        if o["trace"] != "off":
            # By default the trace records every action with its timing, call log and error, but
            # not the DOM before and after each action: those snapshots cost about a tenth of
            # the speed of a form fill (benchmarks/browser.py). trace_snapshots turns them on.
            # No screencast: the failure screenshot is taken anyway.
            self.context.tracing.start(screenshots=False, snapshots=bool(o.get("trace_snapshots")))
            self.tracing = True
        self.context.on("page", self._adopt)
        for p in self.context.pages:
            self._adopt(p)
        if not self.pages:
            self._adopt(self.context.new_page())
        self.page = self.pages[0]
        return self

    def _adopt(self, page) -> None:
        if page in self.pages:
            return
        self.pages.append(page)
        page.on("dialog", self._on_dialog)
        page.on("close", self._forget)

    def _forget(self, page) -> None:
        if page in self.pages:
            self.pages.remove(page)
        if self.page is page:
            self.page = self.pages[-1] if self.pages else None

    def _on_dialog(self, dialog) -> None:
        policy = self.dialog_next or self.dialog_policy
        self.dialog_next = None
        record = {"type": dialog.type, "message": dialog.message, "default_value": dialog.default_value,
                  "action": policy["action"], "url": dialog.page.url if dialog.page else ""}
        try:
            if policy["action"] == "accept":
                if policy.get("prompt_text") is not None and dialog.type == "prompt":
                    dialog.accept(policy["prompt_text"])
                else:
                    dialog.accept()
            else:
                dialog.dismiss()
        finally:
            self.dialogs.append(record)

    def waiting(self, step: Callable[[float], Any], timeout_ms: float | None):
        """Run ``step(slice_ms)`` (a Playwright wait with that timeout) until it succeeds or the
        whole timeout has passed, in short slices: a stopped run or a node that timed out does
        not keep the browser thread busy for the rest of a long wait."""
        import time

        total = self.action_ms if timeout_ms is None else float(timeout_ms)
        deadline = time.monotonic() + total / 1000
        while True:
            left = (deadline - time.monotonic()) * 1000
            try:
                return step(max(1.0, min(250.0, left)))
            except self.errors.TimeoutError:
                if time.monotonic() >= deadline:
                    raise
                if self.thread is not None and self.thread.aborting():
                    raise Failure("stopped", "the run was stopped") from None

    def current(self):
        if self.page is None or self.page.is_closed():
            if not self.pages:
                self._adopt(self.context.new_page())
            self.page = self.pages[-1]
        return self.page

    def stop_loading(self) -> None:
        """Stop the current page's loading (as the browser's Stop button does), through the
        Chrome DevTools protocol: Playwright has no call for it, and a page that waits for a
        server that never answers cannot be captured until it stops."""
        try:
            if self.page is None or self.page.is_closed():
                return
            cdp = self.context.new_cdp_session(self.page)
            try:
                cdp.send("Page.stopLoading")
            finally:
                cdp.detach()
        except Exception:  # only for the error report: never hide the error itself
            pass

    def screenshot(self) -> bytes | None:
        for attempt in range(2):
            try:
                page = self.page
                if page is None or page.is_closed():
                    return None
                return page.screenshot(timeout=5000)
            except Exception:  # a screenshot for an error report must never hide the error
                if attempt == 0 and self.page is not None and not self.page.is_closed():
                    try:
                        self.page.wait_for_timeout(200)  # a headed window may refuse the first capture
                    except Exception:
                        return None
        return None

    def close(self, keep_trace: bool) -> str | None:
        """Close everything; returns the path of the saved trace when asked to keep it."""
        trace = None
        try:
            if self.tracing:
                if keep_trace:
                    import tempfile

                    fd, trace = tempfile.mkstemp(prefix="botloom-trace-", suffix=".zip")
                    os.close(fd)
                    self.context.tracing.stop(path=trace)
                else:
                    self.context.tracing.stop()
                self.tracing = False
        except Exception:
            trace = None
        finally:
            try:
                if self.browser is not None:
                    self.browser.close()  # closes its context too: one round trip less
                else:
                    self.context.close()  # a persistent profile: the context is the browser
            except Exception:
                pass
            try:
                self.pw.stop()
            except Exception:
                pass
        return trace


# ---------------------------------------------------------------- the run resource
class Holder:
    """The run's browser: the thread, the session on it, and the node that used it last
    (whose context receives the trace artifact when the run ends)."""

    def __init__(self):
        self.thread: BrowserThread | None = None
        self.session: Session | None = None
        self.last_ctx = None
        self.closed_sessions = 0

    @property
    def is_open(self) -> bool:
        return self.session is not None

    def open(self, ctx, opts: dict) -> Session:
        if self.session is not None:
            return self.session
        ctx.require("playwright", INSTALL)
        found = discover.resolve(opts["browser"], opts["browser_source"])
        if not opts["headless"] and sys.platform.startswith("linux") and not os.environ.get("DISPLAY") \
                and not os.environ.get("WAYLAND_DISPLAY"):
            raise NodeError("a headed (visible) browser was asked for, but there is no display (DISPLAY is not set)",
                            kind="bad_input", fix="run headless (headless: true, or settings.browser.headless), or "
                                                  "start the run inside a desktop session or Xvfb")
        early = _claim_early(opts, found) if self.thread is None else None
        if early is not None:
            self.thread, session, future = early
            ctx.log("using the browser started while the run was prepared", "debug")
        else:
            if self.thread is None:
                self.thread = BrowserThread()
            session = Session(opts, found, thread=self.thread)
            future = self.thread.submit(session.open)
        try:
            self.session = self.wait(ctx, future)
        except RunCancelled:
            raise
        except Exception as exc:
            raise NodeError(f"could not start {found.describe()}: {_first_line(exc)}", kind="browser",
                            fix="check that this browser starts on its own; point Botloom at another one with "
                                f"{discover.ENV} or settings.browser.browser (chrome, msedge, chromium, a path)") from None
        ctx.log(f"browser started: {found.describe()} ({'headless' if opts['headless'] else 'headed'}"
                f"{', profile ' + str(opts['profile']) if opts.get('profile') else ''})", "debug")
        return self.session

    def wait(self, ctx, future: Future):
        """The future's result; stops waiting (RunCancelled) when the run or node is stopped."""
        from concurrent.futures import TimeoutError as FutureTimeout

        while True:
            try:
                return future.result(timeout=0.1)
            except FutureTimeout:
                if ctx is not None and ctx.cancelled:
                    if self.thread is not None:
                        self.thread.abort(future)
                    raise RunCancelled("the run was stopped") from None

    def run(self, ctx, fn: Callable[[Session], Any]):
        self.last_ctx = ctx
        return self.wait(ctx, self.thread.submit(fn, self.session))

    def close(self, state: str = "succeeded", ctx=None) -> None:
        """Close the browser; keep the trace as an artifact per the trace setting."""
        session, self.session = self.session, None
        if session is None:
            return
        ctx = ctx or self.last_ctx
        mode = session.opts.get("trace", "on-failure")
        keep = mode == "always" or (mode == "on-failure" and state == "failed")
        future = self.thread.submit(session.close, keep)
        try:
            trace = future.result(timeout=60)
        except Exception:
            trace = None
        self.closed_sessions += 1
        if trace and ctx is not None:
            try:
                ctx.artifact(trace, name=f"{ctx.seq:05d}-browser-trace.zip", kind="trace")
                ctx.log("browser trace kept (open it with: playwright show-trace FILE)", "info")
            finally:
                os.unlink(trace)

    def shutdown(self, state: str) -> None:
        """The run ended: close the browser, stop the thread."""
        try:
            self.close(state)
        finally:
            if self.thread is not None:
                self.thread.stop()
                self.thread = None


# ---------------------------------------------------------------- started early (`botloom run`)
_early: dict = {}  # opts, found, thread, session, future: one browser started before the run
_early_lock = threading.Lock()
OPEN_KEYS = {"browser", "headless", "trace", "profile"}  # parameters only an Open browser node has


def prestart(info) -> None:
    """``botloom run``'s prestart hook: start the browser the bot's first browser node would
    open, on its browser thread, while the run is validated and recorded. The run's first
    browser node adopts it when its options are the same; otherwise, or when no browser node
    runs, it is closed (at the latest when the process ends)."""
    given: dict = {}
    opens = [static for _f, _n, static in info.nodes if OPEN_KEYS & set(static)]  # Open browser nodes
    if opens:
        first = opens[0]
        if first.get("profile"):
            return  # a profile folder is relative to the bot's folder: leave it to the node
        given = {k: first[k] for k in ("browser", "headless", "timeout", "trace") if k in first}
    opts = options(info.area("browser"), **given)
    if not opts["headless"] and sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        return
    found = discover.resolve(opts["browser"], opts["browser_source"])
    import importlib.util

    if importlib.util.find_spec("playwright") is None:
        return
    with _early_lock:
        if _early:
            return
        thread = BrowserThread()
        session = Session(opts, found, thread=thread)
        _early.update(opts=opts, found=found, thread=thread, session=session, future=thread.submit(session.open))
    import atexit

    atexit.register(_discard_early)


def _claim_early(opts: dict, found) -> tuple | None:
    """The browser started early, if it was started with these options (else it is closed)."""
    with _early_lock:
        if not _early:
            return None
        early = dict(_early)
        _early.clear()
    if early["opts"] == opts and early["found"] == found:
        return early["thread"], early["session"], early["future"]
    _close_early(early)
    return None


def _close_early(early: dict) -> None:
    def close():
        early["future"].result(timeout=60)
        early["session"].close(False)

    try:
        early["thread"].submit(close).result(timeout=60)
    except Exception:
        pass
    early["thread"].stop()


def _discard_early() -> None:
    with _early_lock:
        early = dict(_early)
        _early.clear()
    if early:
        _close_early(early)


def holder(ctx) -> Holder:
    return ctx.resource(RESOURCE, Holder, lambda h, state: h.shutdown(state))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
