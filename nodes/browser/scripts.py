"""Browser nodes for the page's JavaScript: answering its dialogs (alert, confirm, prompt),
reading the dialogs it showed, and running a script in the page."""

from __future__ import annotations

from botloom.runner.sdk import Next, Output, Param

from .base import _node, _with_target, run_on_page, target_param


@_node("browser.handle_dialog", title="Handle dialogs", icon="message", session_effect=True,
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
