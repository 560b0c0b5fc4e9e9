"""Browser nodes that act on elements: click, fill, type, select, check, press a key, hover."""

from __future__ import annotations

from botloom.runner.sdk import Output, Param

from .base import _ms, _node, _with_target, run_on_page, target_param, timeout_param


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


@_node("browser.fill", title="Fill field", icon="keyboard", side_effects=True, idempotent=True, session_effect=True,
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


def _keys_stay_in_page(params: dict) -> bool:
    """Typed text without a line break only changes the page; Enter may submit a form."""
    text = params.get("text")
    return isinstance(text, str) and "\n" not in text and "\r" not in text


@_node("browser.type", title="Type text", icon="keyboard", side_effects=True, idempotent=False,
       session_effect=_keys_stay_in_page,
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
       session_effect=True,
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
       session_effect=True,
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


@_node("browser.hover", title="Hover", icon="cursor", session_effect=True,
       params=[target_param(), timeout_param()], aliases=("mouse over", "menu"))
def hover(ctx, target, timeout):
    """Moves the mouse over an element (menus that open on hover)."""
    _with_target(ctx, target, "hover over", lambda s, loc: loc.hover(timeout=_ms(timeout)), timeout)
