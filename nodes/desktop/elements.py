"""Desktop elements by accessibility selector, desktop checks, and the application scope.

Element nodes find controls in the application's accessibility tree (AT-SPI on Linux, UI
Automation on Windows; see a11y.py for the selector vocabulary) and act on them through it:
a button is pressed by its own action, a field gets its text set, a label is read, without
pixels, so they survive themes, scaling and window moves. See docs/desktop.md.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

from botloom.runner.sdk import Next, NodeError, Output, Param, node, verify

from . import a11y
from .session import IS_LINUX, gui, human_wait, pace, preflight, require_display, with_evidence

CATEGORY = "Desktop"
SELECTOR_HELP = ('An accessibility selector: toggle button[name="7"], edit[id="search"] or {"role": "button", '
                 '"name": "Save"}; `botloom inspect --window TITLE` prints each element\'s selector.')
ELEMENT_PARAMS = [
    Param("selector", "string", required=True, description=SELECTOR_HELP),
    Param("window", "string", default="", description="The window's title (a regular expression) to search in; "
                                                      "empty: every application's windows."),
    Param("process", "string", default="", advanced=True, description="The application's process name or id."),
    Param("timeout", "number", default=5, minimum=0, description="Seconds to wait for the element."),
]
READY_WAIT = 1.0  # seconds an element our previous click checked may take to be ready again
ELEMENT_OUT = Output("element", "object", "The element: role, name, id, class, states, box, pid.")


def lint_selector(params: dict, info) -> list:
    from botloom.runner.sdk import Lint

    sel = params.get("selector")
    if not isinstance(sel, (str, dict)) or (isinstance(sel, str) and "{{" in sel) or sel in ("", {}):
        return []
    try:
        a11y.parse(sel)
    except NodeError as exc:
        return [Lint(exc.message, param="selector", fix=exc.fix)]
    return []


def _find(ctx, selector, window, process, timeout, state=None):
    require_display(ctx)
    el = a11y.locate(selector, window=window, process=process, timeout=float(timeout), ctx=ctx, state=state)
    ctx.log(f"element {a11y.render(a11y.parse(selector))} matched: {el.role} {el.name!r}", "debug")
    return el


def _center(el) -> tuple[int, int]:
    x, y, w, h = el.box()
    if w <= 1 and h <= 1:
        raise NodeError(f"the element {el.role} {el.name!r} has no place on the screen (it is hidden)",
                        kind="not_found", fix="open the menu or tab that shows it first")
    return x + w // 2, y + h // 2


@node("desktop.element_click", title="Click element", category=CATEGORY, icon="mouse", side_effects=True,
      preflight=preflight, lint=lint_selector,
      params=[*ELEMENT_PARAMS,
              Param("method", "string", default="auto", choices=("auto", "action", "mouse"),
                    description="action: the element's own action (press, click, toggle: needs no focus or "
                                "free mouse); mouse: a real click on its centre; auto: action when it has one.")],
      outputs=[ELEMENT_OUT, Output("method", "string", "How it was clicked: action or mouse.")],
      aliases=("press button", "click control", "invoke", "ui element click", "click selector"))
@with_evidence
def element_click(ctx, selector, window, process, timeout, method):
    """Clicks an element found by its accessibility selector, once it is enabled."""
    el = _find(ctx, selector, window, process, timeout, state="sensitive" if IS_LINUX else None)
    last = ctx.resource("desktop.last_element_click", dict)
    if last.get("element") == el and not last.get("was_checked"):
        # our previous click checked it: a button that resets itself (a calculator's key) is ready
        # again once the application has handled that click; a second click sooner unchecks it
        deadline = time.monotonic() + READY_WAIT
        while "checked" in el.states() and time.monotonic() < deadline:
            ctx.sleep(0.01)
    last.update(element=el, was_checked="checked" in el.states())
    used = "mouse"
    if method in ("auto", "action") and el.do_action():
        used = "action"
    elif method == "action":
        raise NodeError(f"the element {el.role} {el.name!r} has no action to perform (its actions: "
                        f"{', '.join(el.actions()) or 'none'})", kind="bad_input",
                        fix="use method 'mouse' for this element")
    else:
        x, y = _center(el)
        gui(ctx).click(x, y)
    human_wait(ctx)
    return {"element": el.describe(), "method": used}


@node("desktop.element_type", title="Type into element", category=CATEGORY, icon="keyboard", side_effects=True,
      preflight=preflight, lint=lint_selector,
      params=[*ELEMENT_PARAMS,
              Param("text", "string", required=True, multiline=True, description="The text."),
              Param("mode", "string", default="replace", choices=("replace", "append", "keys"),
                    description="replace: set the field's whole text; append: add to its end; keys: focus it "
                                "and type key by key (for fields that react to each key).")],
      outputs=[ELEMENT_OUT, Output("text", "string", "The field's text afterwards.")],
      aliases=("set text", "fill field", "enter text in element", "type into"))
@with_evidence
def element_type(ctx, selector, window, process, timeout, text, mode):
    """Puts text into an editable element found by its selector and reads it back."""
    el = _find(ctx, selector, window, process, timeout)
    text = str(text)
    if mode == "keys":
        from .input import type_text_now

        if not el.focus():
            gui(ctx).click(*_center(el))
        pag = gui(ctx)
        type_text_now(ctx, pag, text, "auto", min(pace(ctx), 0.05))
    else:
        ok = el.set_text(text) if mode == "replace" else el.insert_text(text)
        if not ok:
            raise NodeError(f"the element {el.role} {el.name!r} does not take text", kind="bad_input",
                            fix="choose its text field (role edit or text), or use mode 'keys'")
    human_wait(ctx)
    return {"element": el.describe(), "text": el.text()}


@node("desktop.element_read", title="Read element", category=CATEGORY, icon="eye", preflight=preflight,
      lint=lint_selector, params=ELEMENT_PARAMS,
      outputs=[Output("text", "string", "What it shows: its text, else its value, else its name."),
               Output("name", "string"), Output("value", "number", "Its value (sliders, spin buttons), or null."),
               Output("states", "list", "Its states: enabled, focused, checked, selected, editable, showing..."),
               ELEMENT_OUT],
      aliases=("get text", "read control", "get element", "read label"))
@with_evidence
def element_read(ctx, selector, window, process, timeout):
    """Reads an element's text, name, value and states."""
    el = _find(ctx, selector, window, process, timeout)
    return {"text": el.text(), "name": el.name, "value": el.value(), "states": sorted(el.states()),
            "element": el.describe()}


WAIT_STATES = ("exists", "gone", "enabled", "disabled", "focused", "checked", "unchecked", "selected")


def _state_holds(el, state: str) -> bool:
    if state == "exists":
        return el is not None
    if state == "gone":
        return el is None
    if el is None:
        return False
    states = el.states()
    return {"enabled": "sensitive" in states or "enabled" in states,
            "disabled": "sensitive" not in states and "enabled" not in states,
            "focused": "focused" in states, "checked": "checked" in states,
            "unchecked": "checked" not in states, "selected": "selected" in states}[state]


def _probe(selector, window, process, ctx):
    return a11y.search(selector, window=window, process=process, ctx=ctx)[0]


@node("desktop.element_wait", title="Wait for element", category=CATEGORY, icon="hourglass", preflight=preflight,
      lint=lint_selector, ports=("out", "timeout"),
      params=[*ELEMENT_PARAMS[:3],
              Param("state", "string", default="exists", choices=WAIT_STATES,
                    description="What to wait for: the element exists, is gone, is enabled, focused, checked..."),
              Param("timeout", "number", default=10, minimum=0, description="Seconds to wait.")],
      outputs=[Output("found", "boolean", "Whether the state was reached."), ELEMENT_OUT],
      aliases=("wait until element", "element exists", "wait for control"))
@with_evidence
def element_wait(ctx, selector, window, process, state, timeout):
    """Waits until an element exists, is gone or has a state; goes on through 'timeout' when the
    time runs out (with no 'timeout' path the run fails there)."""
    require_display(ctx)
    a11y.parse(selector)
    deadline = time.monotonic() + float(timeout)
    while True:
        found = _probe(selector, window, process, ctx)
        el = found[0] if found else None
        if _state_holds(el, state):
            return {"found": True, "element": el.describe() if el is not None else {}}
        if time.monotonic() >= deadline:
            break
        ctx.sleep(0.1)
    if ctx.has_branch("timeout"):
        return Next("timeout", {"found": False, "element": el.describe() if el is not None else {}})
    raise NodeError(f"the element {selector} did not become {state} within {float(timeout):g} s",
                    kind="timeout", fix="raise 'timeout', or check the selector with `botloom inspect`")


VERIFY_WHAT = ("element_exists", "element_gone", "element_text", "element_state", "element_count",
               "window_title", "window_exists")


@node("desktop.verify", title="Verify (desktop)", category=CATEGORY, icon="check", preflight=preflight,
      lint=lint_selector,
      params=[Param("check", "string", default="element_text", choices=VERIFY_WHAT,
                    description="What to check: an element's text, state or existence, how many elements match, "
                                "or a window's title / existence."),
              Param("selector", "string", default="", description=SELECTOR_HELP),
              Param("window", "string", default="", description="The window's title (a regular expression)."),
              Param("operator", "string", default="equals", choices=tuple(verify.OPERATORS),
                    description="How to compare what is found with 'expected'."),
              Param("expected", "any", default=None, description="The expected text, state, count or title."),
              Param("ignore_case", "boolean", default=False, advanced=True),
              Param("timeout", "number", default=5, minimum=0,
                    description="Seconds to keep checking (the application may still be updating).")],
      outputs=[Output("actual", "any", "What was found the last time.")],
      aliases=("assert element", "check element", "assert window", "expect"))
@with_evidence
def desktop_verify(ctx, check, selector, window, operator, expected, ignore_case, timeout):
    """Checks an element or a window, retrying until the timeout; fails with expected versus got
    and a screenshot."""
    require_display(ctx)
    from . import windows

    if check.startswith("element") and not selector:
        raise NodeError(f"the check '{check}' needs a selector", kind="bad_input", fix=SELECTOR_HELP)
    op, exp, what = operator, expected, "the value"
    if check == "element_exists":
        probe, op, exp, what = (lambda: bool(_probe(selector, window, "", ctx))), "is_true", None, f"{selector} exists"
    elif check == "element_gone":
        probe, op, exp, what = (lambda: not _probe(selector, window, "", ctx)), "is_true", None, f"{selector} is gone"
    elif check == "element_count":
        probe, what = (lambda: len(_probe(selector, window, "", ctx))), f"the number of {selector}"
    elif check == "element_text":
        probe, what = (lambda: _probe(selector, window, "", ctx)[0].text()), f"the text of {selector}"
    elif check == "element_state":
        probe, op, what = (lambda: _state_holds((_probe(selector, window, "", ctx) or [None])[0], str(expected))), \
            "is_true", f"{selector} is {expected}"
        if expected not in WAIT_STATES:
            raise NodeError(f"unknown state {expected!r}", kind="bad_input", fix=f"one of: {', '.join(WAIT_STATES)}")
        exp = None
    elif check == "window_exists":
        probe, op, exp, what = (lambda: bool(windows.matching(windows.list_all(), window, ""))), "is_true", None, \
            f"a window /{window}/ exists"
    else:
        probe, what = (lambda: windows.find(window, "", 0, ctx).title), f"the title of the window /{window}/"
    outcome = verify.poll(probe, op, exp, timeout=float(timeout), what=what, ignore_case=bool(ignore_case),
                          cancelled=lambda: ctx.cancelled)
    if not outcome.ok:
        raise verify.failed(outcome, timeout=float(timeout), where=check,
                            fix="look at the screenshot kept with the run; raise 'timeout' if the application is "
                                "slow to update")
    return {"actual": outcome.actual}


# ---------------------------------------------------------------- application scope
@node("desktop.app", title="Application scope", category=CATEGORY, icon="window", side_effects=True,
      preflight=preflight, ports=("out",), body_ports=("body",),
      params=[Param("command", "string", required=True,
                    description="The program and its arguments, e.g. galculator or \"C:\\\\Apps\\\\crm.exe\"."),
              Param("window", "string", required=True,
                    description="The title of its main window (a regular expression): waited for before the "
                                "body runs, and the window attached to when it is already open."),
              Param("attach", "boolean", default=False,
                    description="Use the application when it is already open instead of starting another."),
              Param("close", "string", default="always", choices=("always", "on_success", "never"),
                    description="When to close the application after the body (always: whatever the outcome)."),
              Param("timeout", "number", default=30, minimum=0, description="Seconds to wait for the window.")],
      outputs=[Output("pid", "integer", "The application's process id."),
               Output("window", "object", "Its main window.")],
      aliases=("open application scope", "use application", "attach to app", "launch and close"))
@with_evidence
def app_scope(ctx, command, window, attach, close, timeout):
    """Starts an application (or attaches to it), runs 'body', and closes it afterwards, also
    when the body fails: its windows are asked to close, then the process is stopped."""
    from . import windows

    require_display(ctx)
    win = None
    if attach:
        win = next(iter(windows.matching(windows.list_all(), window, "")), None)
    proc = None
    if win is None:
        proc = windows.start_program(command)
        try:
            win = windows.find(window, "", float(timeout), ctx)
        except NodeError:
            _stop(ctx, proc, None)
            raise
        ctx.log(f"started {proc.args[0]} (pid {proc.pid}), window '{win.title}'")
    else:
        ctx.log(f"attached to '{win.title}' (pid {win.pid})")
    ok = False
    try:
        ctx.run_branch("body")
        ok = True
    finally:
        if close == "always" or (close == "on_success" and ok):
            _stop(ctx, proc, win)
    return {"pid": proc.pid if proc is not None else win.pid, "window": win.to_dict()}


def _stop(ctx, proc, win) -> None:
    """Close the application's windows politely, then stop its process group (TERM, then KILL)."""
    from . import windows

    pid = proc.pid if proc is not None else (win.pid if win is not None else 0)
    for w in [w for w in windows.list_all() if pid and w.pid == pid]:
        try:
            windows.set_state(w, "close")
        except Exception:
            pass
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and any(w.pid == pid for w in windows.list_all()):
        time.sleep(0.1)
    left = [w for w in windows.list_all() if pid and w.pid == pid]
    if proc is not None and proc.poll() is None:
        for sig, wait in ((signal.SIGTERM, 3), (signal.SIGKILL, 3)):
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError, AttributeError):
                try:
                    proc.send_signal(sig)
                except ProcessLookupError:
                    break
            try:
                proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
    elif left and pid:
        try:
            os.kill(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    ctx.log(f"closed the application (pid {pid})" + (" after it kept a window open" if left else ""), "debug")

