"""Targets: one text parameter that says which element of the page a node acts on.

    #login button                 CSS (a target without a prefix is CSS)
    css=form.login input[name=q]  CSS, explicit
    //button[@type="submit"]      XPath (starts with // or ( ); also xpath=...
    text=Sign in                  the element whose text contains "Sign in" (any case)
    text="Sign in"                quoted: the whole text is exactly "Sign in"
    role=button[name="Sign in"]   an ARIA role with its accessible name (quoted: exact, else contains)
    role=checkbox                 a role without a name
    label=E-mail                  the form field labelled "E-mail" (<label for>, wrapping label, aria-label...)
    placeholder=Search            a field by its placeholder
    testid=submit                 data-testid="submit"
    alt=Company logo              an image by its alt text
    title=Close                   an element by its title attribute
    frame=#payment >> label=Card  inside an <iframe> (frame= takes the iframe's CSS selector)
    role=listitem >> has-text=Milk  of the elements found so far, those whose text contains "Milk"

Parts joined with `` >> `` narrow the search step by step; ``nth=N`` picks the N-th match
(from 0; ``nth=-1`` is the last)::

    css=table#orders >> role=row >> nth=1
    css=#results li >> nth=2
    label=Country >> nth=0

Parsing happens on the node's thread (a malformed target fails before the browser is asked);
building the Playwright locator happens on the browser thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from botloom.runner.sdk import NodeError

KINDS = ("css", "xpath", "text", "role", "label", "placeholder", "testid", "alt", "title", "nth", "frame", "has-text")
_PREFIX = re.compile(r"^\s*([a-z][a-z-]*)\s*=(.*)$", re.S)
_ROLE = re.compile(r'^\s*([a-z]+)\s*(?:\[\s*name\s*=\s*(?:"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'|([^\]]*))\s*\])?\s*$', re.S)
HELP = ("write a CSS selector (#id, .class, input[name=q]), or one of css=, xpath=, text=, role=button[name=\"OK\"], "
        "label=, placeholder=, testid=, alt=, title=; join parts with ' >> ', keep those containing a text with "
        "has-text=, and pick one of several with nth=N")


@dataclass(frozen=True)
class Part:
    kind: str
    value: str
    exact: bool = False
    name: str | None = None  # role name

    def __str__(self) -> str:
        if self.kind == "role":
            if self.name is None:
                return f"role={self.value}"
            return f'role={self.value}[name="{self.name}"]' if self.exact else f"role={self.value}[name={self.name}]"
        return f'{self.kind}="{self.value}"' if self.exact else f"{self.kind}={self.value}"


def _unquote(value: str) -> tuple[str, bool]:
    v = value.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        return v[1:-1].replace("\\" + v[0], v[0]), True
    return v, False


def parse(target: str) -> tuple[Part, ...]:
    """The parts of a target, or a NodeError (kind bad_input) that says what is wrong."""
    if target is None or not str(target).strip():
        raise NodeError("the target is empty", kind="bad_input", fix=HELP)
    return _parse(str(target))


@lru_cache(maxsize=512)
def _parse(target: str) -> tuple[Part, ...]:
    if not target.strip():
        raise NodeError("the target is empty", kind="bad_input", fix=HELP)
    parts = []
    for raw in str(target).split(" >> "):
        raw = raw.strip()
        if not raw:
            raise NodeError(f"the target '{target}' has an empty part between ' >> '", kind="bad_input", fix=HELP)
        m = _PREFIX.match(raw)
        kind = m.group(1) if m else None
        if kind is None or kind not in KINDS:
            if kind in ("id", "name", "data-testid", "aria-label", "value", "class"):
                raise NodeError(f"'{kind}=' is not a target kind (in '{target}')", kind="bad_input",
                                fix=f"for an attribute use CSS, e.g. [{kind}=\"...\"]; {HELP}")
            # no known prefix: XPath or CSS
            if raw.startswith(("//", "(")) or raw.startswith(".."):
                parts.append(Part("xpath", raw))
            else:
                parts.append(Part("css", raw))
            continue
        value = m.group(2).strip()
        if not value:
            raise NodeError(f"'{kind}=' in the target '{target}' has no value", kind="bad_input", fix=HELP)
        if kind == "nth":
            try:
                parts.append(Part("nth", str(int(value))))
            except ValueError:
                raise NodeError(f"nth={value} in the target '{target}' is not a whole number", kind="bad_input",
                                fix="nth=0 is the first match, nth=1 the second, nth=-1 the last") from None
            if len(parts) == 1:
                raise NodeError(f"the target '{target}' starts with nth=", kind="bad_input",
                                fix="put nth=N after the part it picks from, e.g. css=li >> nth=2")
            continue
        if kind == "role":
            rm = _ROLE.match(value)
            if not rm:
                where = "" if raw == target.strip() else f" in the target '{target}'"
                unclosed = " (its [ is not closed)" if value.count("[") > value.count("]") else ""
                raise NodeError(f"'role={value}'{where} is not a role target{unclosed}", kind="bad_input",
                                fix='write role=ROLE or role=ROLE[name="Accessible name"], e.g. role=button[name="Save"]')
            name, exact = None, False
            if rm.group(2) is not None or rm.group(3) is not None:
                name, exact = (rm.group(2) if rm.group(2) is not None else rm.group(3)), True
            elif rm.group(4) is not None:
                name = rm.group(4).strip()
            parts.append(Part("role", rm.group(1), exact, name))
            continue
        if kind == "has-text" and not parts:
            raise NodeError(f"the target '{target}' starts with has-text=", kind="bad_input",
                            fix="put has-text= after the part it narrows, e.g. role=listitem >> has-text=Milk")
        if kind in ("css", "xpath", "frame"):
            parts.append(Part(kind, value))
            continue
        text, exact = _unquote(value)
        parts.append(Part(kind, text, exact))
    if parts[-1].kind == "frame":
        raise NodeError(f"the target '{target}' ends with a frame", kind="bad_input",
                        fix="say what to find inside the frame, e.g. frame=#payment >> label=Card number")
    return tuple(parts)


def _balance(text: str) -> str | None:
    """What is unbalanced in a CSS or XPath text (brackets, parentheses, quotes), or None."""
    stack, quote = [], None
    pairs = {"]": "[", ")": "("}
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c in "[(":
            stack.append(c)
        elif c in "])":
            if not stack or stack[-1] != pairs[c]:
                return f"a '{c}' that closes nothing"
            stack.pop()
        i += 1
    if quote:
        return f"a {quote} quote that is not closed"
    if stack:
        return f"a '{stack[-1]}' that is not closed"
    return None


def check(target: str) -> None:
    """Parse the target and look for syntax errors a CSS or XPath part would only show in the
    browser (an unclosed bracket or quote): a NodeError (bad_input) that says what is wrong."""
    for p in parse(target):
        if p.kind in ("css", "xpath", "frame"):
            problem = _balance(p.value)
            if problem:
                raise NodeError(f"the target '{target}' has {problem} (in '{p.value}')", kind="bad_input",
                                fix="close every [, ( and quote; " + HELP)


def describe(parts: tuple[Part, ...]) -> str:
    return " >> ".join(str(p) for p in parts)


def locate(root, parts: tuple[Part, ...]):
    """A Playwright Locator for the parts, from a page, frame or locator (browser thread only)."""
    loc = root
    for p in parts:
        k = p.kind
        if k == "nth":
            loc = loc.nth(int(p.value))
        elif k == "frame":
            loc = loc.frame_locator(p.value)
        elif k == "has-text":
            loc = loc.filter(has_text=p.value)
        elif k == "css":
            loc = loc.locator(f"css={p.value}")
        elif k == "xpath":
            loc = loc.locator(f"xpath={p.value}")
        elif k == "text":
            loc = loc.get_by_text(p.value, exact=p.exact)
        elif k == "role":
            loc = loc.get_by_role(p.value, name=p.name, exact=p.exact) if p.name is not None else loc.get_by_role(p.value)
        elif k == "label":
            loc = loc.get_by_label(p.value, exact=p.exact)
        elif k == "placeholder":
            loc = loc.get_by_placeholder(p.value, exact=p.exact)
        elif k == "testid":
            loc = loc.get_by_test_id(p.value)
        elif k == "alt":
            loc = loc.get_by_alt_text(p.value, exact=p.exact)
        elif k == "title":
            loc = loc.get_by_title(p.value, exact=p.exact)
    return loc
