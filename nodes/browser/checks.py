"""Browser nodes that check the page: an element-exists branch, and ``browser.verify``, which
asserts an element's state, text, count or value, or the page's address or title.

``browser.verify`` asks the page again and again until the expectation holds or its timeout
passes (``verify.poll`` from the SDK, the same waiting and the same "expected ..., got ..."
messages as the core and desktop verify nodes); on failure it keeps a screenshot of the page
with the run and fails with kind ``verify_failed``.
"""

from __future__ import annotations

from typing import Any

from botloom.runner.sdk import Next, NodeError, Output, Param, verify

from .base import _ms, _node, run_on_page, session_of, target_param
from .extraction import _TEXT_JS
from .targets import describe, locate, parse

# what is checked -> (needs a target, what the message calls it)
SUBJECTS = {
    "visible": (True, "the element's visibility"), "hidden": (True, "the element's visibility"),
    "enabled": (True, "whether the element is enabled"), "disabled": (True, "whether the element is enabled"),
    "checked": (True, "whether the element is checked"), "unchecked": (True, "whether the element is checked"),
    "text": (True, "the element's text"), "value": (True, "the field's value"),
    "count": (True, "the number of matching elements"), "attribute": (True, "the attribute"),
    "url": (False, "the page's address"), "title": (False, "the page's title"),
}
# a state check is "is_true" of a yes/no probe
STATES = {"visible": True, "hidden": False, "enabled": True, "disabled": False, "checked": True, "unchecked": False}


@_node("browser.exists", title="If element exists", icon="branch", ports=("found", "not_found"),
       params=[target_param(description="The element to look for."),
               Param("visible", "boolean", default=True,
                     description="Count only a visible element (false: any element in the page, hidden too)."),
               Param("timeout", "number", default=0, minimum=0,
                     description="Seconds to wait for it to appear before taking 'not_found' (0: look once).")],
       outputs=[Output("count", "integer", "How many elements match."), Output("found", "boolean")],
       aliases=("if exists", "element exists", "is present", "branch on element", "check element"))
def exists(ctx, target, visible, timeout):
    """Leaves through 'found' when the page has the element, else through 'not_found' (no error)."""
    parts = parse(target)
    state = "visible" if visible else "attached"

    def work(s):
        loc = locate(s.current(), parts)
        if timeout:
            try:
                s.waiting(lambda t: loc.first.wait_for(state=state, timeout=t), _ms(timeout))
            except s.errors.TimeoutError:
                pass
        count = loc.count()
        if visible and count:
            count = sum(1 for i in range(count) if loc.nth(i).is_visible())
        return count

    count = run_on_page(ctx, work, parts=parts, action="look for")
    return Next("found" if count else "not_found", {"count": count, "found": bool(count)})


def _probe(s, subject: str, parts, name: str | None):
    """On the browser thread: the current value of what is checked."""
    page = s.current()
    if subject == "url":
        return page.url
    if subject == "title":
        return page.title()
    loc = locate(page, parts)
    if subject == "count":
        return loc.count()
    if subject in ("visible", "hidden"):
        return loc.first.is_visible()  # no element: not visible
    one = loc.first if subject != "text" else loc
    if loc.count() == 0:
        raise LookupError(f"no element matches '{describe(parts)}'")
    if subject in ("enabled", "disabled"):
        return one.is_enabled(timeout=1000)
    if subject in ("checked", "unchecked"):
        return one.is_checked(timeout=1000)
    if subject == "value":
        return one.input_value(timeout=1000)
    if subject == "attribute":
        return one.get_attribute(name, timeout=1000)
    if loc.count() > 1:
        raise LookupError(f"'{describe(parts)}' matches {loc.count()} elements; pick one with ' >> nth=0'")
    return one.evaluate(_TEXT_JS, timeout=1000)


def _lint(params: dict, info):
    from botloom.runner.sdk import Lint

    check = params.get("check")
    if check in SUBJECTS and SUBJECTS[check][0] and "target" in params and not params.get("target"):
        yield Lint(f"checking {SUBJECTS[check][1]} needs a target", param="target",
                   fix="give the element's target, or check url or title")
    op = params.get("operator")
    if op and op not in verify.OPERATORS:
        yield Lint(f"'{op}' is not a comparison", param="operator", fix="use one of " + ", ".join(verify.OPERATORS))


@_node("browser.verify", title="Verify page", icon="check", lint=_lint,
       params=[Param("check", "string", default="text", choices=tuple(SUBJECTS),
                     description="What to check: an element's state (visible, hidden, enabled, disabled, checked, "
                                 "unchecked), its text, a field's value, an attribute, how many elements match, "
                                 "or the page's url or title."),
               target_param(required=False, description="The element (not needed for url and title)."),
               Param("operator", "string", default="equals", choices=tuple(verify.OPERATORS),
                     show_if={"check": ["text", "value", "count", "attribute", "url", "title"]},
                     description="How the value compares with 'expected'."),
               Param("expected", "any", show_if={"check": ["text", "value", "count", "attribute", "url", "title"]},
                     description="The expected value (text, a number for count, a pattern for matches)."),
               Param("name", "string", show_if={"check": ["attribute"]}, placeholder="href",
                     description="The attribute's name (check: attribute)."),
               Param("ignore_case", "boolean", default=False, advanced=True),
               Param("timeout", "number", default=5, minimum=0,
                     description="Seconds to keep checking until the expectation holds (the page may still be "
                                 "re-rendering)."),
               Param("message", "string", advanced=True, description="Said first when the check fails.")],
       outputs=[Output("actual", "any", "The value seen last."), Output("message", "string")],
       aliases=("assert", "expect", "check page", "verify text", "verify url", "verify title", "should"))
def verify_page(ctx, check, target, operator, expected, name, ignore_case, timeout, message):
    """Checks the page, waiting until the expectation holds; fails with what was expected and
    what the page showed, and a screenshot."""
    check = check or "text"
    needs_target, what = SUBJECTS[check]
    parts = None
    if needs_target:
        if not target:
            raise NodeError(f"checking {what} needs a target", kind="bad_input", fix="give the element's target")
        parts = parse(target)
        what = f"{what} of '{describe(parts)}'" if check != "attribute" else f"the attribute '{name}' of '{describe(parts)}'"
    if check == "attribute" and not name:
        raise NodeError("checking an attribute needs its name", kind="bad_input", fix="fill in the name parameter")
    op, want = operator or "equals", expected
    if check in STATES:
        op, want = ("is_true" if STATES[check] else "is_false"), None
    h = session_of(ctx)

    def probe() -> Any:
        return h.run(ctx, lambda s: _probe(s, check, parts, name))

    outcome = verify.poll(probe, op, want, timeout=float(timeout or 0), what=what, ignore_case=bool(ignore_case),
                          cancelled=lambda: ctx.cancelled)
    if outcome.ok:
        ctx.log(outcome.message.replace("expected", "verified:", 1), "debug")
        return {"actual": outcome.actual, "message": outcome.message}
    png = h.run(ctx, lambda s: s.screenshot())
    shot = ctx.artifact(png, name=f"{ctx.seq:05d}-{ctx.node_id}-failure.png", kind="screenshot") if png else None
    url = h.run(ctx, lambda s: s.current().url)
    error = verify.failed(outcome, timeout=timeout,
                          fix="check the page (the screenshot shows it when the time ran out)" +
                              (f": {shot}" if shot else "") + "; raise the timeout if the page is slow")
    if message:
        error.message = f"{message}: {error.message}"
    error.message += f" on {url}"
    error.details = {**(getattr(error, "details", None) or {}), "url": url, "actual": outcome.actual,
                     "screenshot": str(shot) if shot else None}
    raise error
