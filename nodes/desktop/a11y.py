"""Accessibility selectors: desktop elements by role, name, automation id and class.

One vocabulary over the platforms' accessibility trees:

- Linux: AT-SPI, spoken directly over D-Bus with jeepney (pure Python: no GObject bindings,
  which exist only as a system package for the system's own Python). Applications expose
  their tree when accessibility is on: :func:`enable` turns it on for the session bus, and
  :func:`app_env` is the environment an application is started with.
- Windows: UI Automation through pywinauto, written to the same :class:`Element` interface.

A selector is a string (what ``botloom inspect`` prints) or an object::

    toggle button[name="7"]
    frame[name~="Mousepad"] >> text:nth(0)
    {"role": "button", "name": "Save", "id": "save-btn", "class": "...", "index": 0}

A step is an optional role, then ``[key op value]`` filters (keys: name, id, class,
description; ops: ``=`` exact, ``~=`` contains, ``^=`` starts with, ``$=`` ends with, all
case-insensitive except ``=``), then ``:nth(N)`` (0-based) to choose among matches; ``>>``
searches inside the elements the previous step found. A role matches its own name or its
family (``button`` matches push and toggle buttons, ``edit`` matches text fields). Only
elements that are showing match, unless the selector says ``[hidden=true]``.
"""

from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from botloom.runner.sdk import NodeError

INSTALL_LINUX = ("apt-get install at-spi2-core dbus (installer/apt/a11y.txt); run the session with a D-Bus "
                 "session bus (a desktop login, or `dbus-run-session -- ...` on a headless VM)")

# role families: one word for the same kind of control on every platform
FAMILIES = {
    "button": ("push button", "toggle button", "button", "split button"),
    "edit": ("text", "entry", "password text", "edit", "document", "terminal", "spin button", "document text"),
    "label": ("label", "static", "text label", "caption"),
    "checkbox": ("check box", "checkbox", "check menu item"),
    "radio": ("radio button", "radio menu item", "radiobutton"),
    "combobox": ("combo box", "combobox"),
    "list": ("list", "list box"),
    "listitem": ("list item", "listitem"),
    "menu": ("menu", "menu bar", "menubar", "popup menu"),
    "menuitem": ("menu item", "menuitem", "check menu item", "radio menu item"),
    "tab": ("page tab", "tab item", "tabitem"),
    "table": ("table", "tree table", "data grid", "datagrid"),
    "cell": ("table cell", "dataitem", "cell"),
    "window": ("frame", "window", "dialog", "file chooser", "alert"),
    "dialog": ("dialog", "file chooser", "alert"),
    "link": ("link", "hyperlink"),
    "slider": ("slider",),
    "tree": ("tree", "tree table"),
    "treeitem": ("tree item", "treeitem"),
    "image": ("image", "icon", "picture"),
}
ALIASES = {native: family for family, natives in FAMILIES.items() for native in natives}
KEYS = ("name", "id", "class", "description", "hidden")
OPS = ("~=", "^=", "$=", "=")


# ---------------------------------------------------------------- selectors
@dataclass
class Step:
    role: str | None = None
    filters: list[tuple[str, str, str]] = field(default_factory=list)
    nth: int | None = None
    hidden: bool = False

    def text(self) -> str:
        out = self.role or "*"
        for key, op, value in self.filters:
            out += f'[{key}{op}"{value}"]'
        if self.hidden:
            out += "[hidden=true]"
        if self.nth is not None:
            out += f":nth({self.nth})"
        return out


class SelectorError(NodeError):
    kind = "bad_input"


_STEP = re.compile(r"""\s*(?P<role>[A-Za-z*][A-Za-z0-9 _*-]*?)?\s*(?P<rest>(\[.*?\]|:nth\(\s*\d+\s*\))*)\s*$""", re.S)
_FILTER = re.compile(r"""\[\s*(?P<key>[A-Za-z_]+)\s*(?P<op>~=|\^=|\$=|=)\s*(?P<value>"(?:[^"\\]|\\.)*"|'[^']*'|[^\]]*?)\s*\]"""
                     r"""|:nth\(\s*(?P<nth>\d+)\s*\)""")


def parse(selector: Any, where: str = "selector") -> list[Step]:
    """The steps of a selector given as text or as an object; SelectorError says what is wrong."""
    fix = 'e.g. toggle button[name="7"], or {"role": "button", "name": "Save"}'
    if isinstance(selector, dict):
        unknown = sorted(set(selector) - {"role", "index", "path", *KEYS})
        if unknown:
            raise SelectorError(f"the {where} has unknown keys: {', '.join(unknown)}",
                                fix=f"a selector object takes role, {', '.join(KEYS)}, index and path")
        steps = parse(selector["path"], where) if selector.get("path") else []
        step = Step(role=_role(selector.get("role")), hidden=bool(selector.get("hidden")))
        for key in ("name", "id", "class", "description"):
            if selector.get(key) not in (None, ""):
                step.filters.append((key, "=", str(selector[key])))
        if selector.get("index") is not None:
            try:
                step.nth = int(selector["index"])
            except (TypeError, ValueError):
                raise SelectorError(f"the {where}'s index must be a whole number, got {selector['index']!r}",
                                    fix="0 is the first match") from None
        if step.role or step.filters or step.nth is not None or not steps:
            steps.append(step)
        if not any(s.role or s.filters for s in steps):
            raise SelectorError(f"the {where} names no role, name, id or class", fix=fix)
        return steps
    if not isinstance(selector, str) or not selector.strip():
        raise SelectorError(f"the {where} is empty", fix=fix)
    steps = []
    for part in _split(selector):
        m = _STEP.match(part)
        if not m or (not m.group("role") and not m.group("rest")):
            raise SelectorError(f"cannot read the {where} step '{part.strip()}' in {selector!r}", fix=fix)
        step = Step(role=_role(m.group("role")))
        rest = m.group("rest") or ""
        pos = 0
        for f in _FILTER.finditer(rest):
            if f.start() != pos:
                break
            pos = f.end()
            if f.group("nth") is not None:
                step.nth = int(f.group("nth"))
                continue
            key, op, value = f.group("key").lower(), f.group("op"), f.group("value")
            if value[:1] in "\"'" and value[-1:] == value[:1] and len(value) >= 2:
                value = value[1:-1].replace('\\"', '"')
            if key not in KEYS:
                raise SelectorError(f"unknown selector key '{key}' in {selector!r}",
                                    fix=f"use one of: {', '.join(KEYS)} (and a role before the brackets)")
            if key == "hidden":
                step.hidden = value.lower() in ("true", "1", "yes")
                continue
            step.filters.append((key, op, value))
        if pos != len(rest):
            raise SelectorError(f"cannot read '{rest[pos:]}' in the {where} {selector!r}",
                                fix='filters look like [name="Save"]; close every bracket and quote')
        steps.append(step)
    return steps


def _split(text: str) -> list[str]:
    parts, depth, quote, cur = [], 0, "", ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and i + 1 < len(text):
                cur += text[i:i + 2]
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'" and depth:
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif text.startswith(">>", i) and not depth:
            parts.append(cur)
            cur = ""
            i += 2
            continue
        cur += ch
        i += 1
    if quote or depth:
        raise SelectorError(f"the selector {text!r} has an unclosed {'quote' if quote else 'bracket'}",
                            fix='write filters as [name="Save"]')
    parts.append(cur)
    return [p for p in parts if p.strip()] or [text]


def _role(value: Any) -> str | None:
    if value in (None, "", "*"):
        return None
    return " ".join(str(value).lower().replace("_", " ").split())


def render(steps: list[Step]) -> str:
    return " >> ".join(s.text() for s in steps)


def role_matches(query: str | None, native: str) -> bool:
    if query is None:
        return True
    native = native.lower()
    return query == native or query == ALIASES.get(native) or query.replace(" ", "") == native.replace(" ", "")


def _value_matches(op: str, want: str, got: str) -> bool:
    if op == "=":
        return got == want
    g, w = got.lower(), want.lower()
    return w in g if op == "~=" else g.startswith(w) if op == "^=" else g.endswith(w)


def step_matches(step: Step, el: "Element") -> bool:
    if not role_matches(step.role, el.role):
        return False
    for key, op, want in step.filters:
        got = (el.name if key == "name" else el.automation_id if key == "id" else el.class_name if key == "class"
               else el.description)
        if not _value_matches(op, want, got or ""):
            return False
    return step.hidden or el.showing


# ---------------------------------------------------------------- elements
class Element:
    """One element of an accessibility tree (the platform backends implement it)."""

    role: str = ""
    name: str = ""
    automation_id: str = ""
    class_name: str = ""
    description: str = ""
    pid: int = 0

    def children(self) -> list["Element"]:
        raise NotImplementedError

    def box(self) -> tuple[int, int, int, int]:
        """(x, y, width, height) on the screen."""
        raise NotImplementedError

    def states(self) -> set[str]:
        raise NotImplementedError

    @property
    def showing(self) -> bool:
        return "showing" in self.states()

    def text(self) -> str:
        """What the element shows: its text content, else its value, else its name."""
        raise NotImplementedError

    def actions(self) -> list[str]:
        return []

    def do_action(self, name: str | None = None) -> bool:
        """Perform the element's default action (click, press, activate, toggle) or the one named."""
        return False

    def set_text(self, text: str) -> bool:
        return False

    def insert_text(self, text: str) -> bool:
        return False

    def focus(self) -> bool:
        return False

    def value(self) -> float | None:
        return None

    def describe(self) -> dict:
        x, y, w, h = self.box()
        return {"role": self.role, "name": self.name, "id": self.automation_id, "class": self.class_name,
                "states": sorted(self.states()), "box": [x, y, w, h], "pid": self.pid}


def walk(root: Element, max_depth: int = 40, limit: int = 20000) -> Iterator[tuple[Element, int]]:
    """Every element under ``root`` (not root itself), depth-first in document order, with its depth."""
    stack: list[tuple[Element, int]] = [(c, 1) for c in reversed(root.children())]
    seen = 0
    while stack:
        el, depth = stack.pop()
        seen += 1
        if seen > limit:
            return
        yield el, depth
        if depth < max_depth:
            try:
                kids = el.children()
            except Exception:  # an element that went away while we looked
                kids = []
            stack.extend((c, depth + 1) for c in reversed(kids))


def find_all(roots: Iterable[Element], steps: list[Step]) -> list[Element]:
    """The elements the selector's last step finds under ``roots``."""
    scope = list(roots)
    for root in scope:
        prefetch = getattr(root, "prefetch", None)
        if prefetch is not None:
            prefetch()
    for step in steps:
        found: list[Element] = []
        for root in scope:
            fill = getattr(getattr(root, "be", None), "fill_names", None)
            if fill is not None and any(key == "name" for key, _, _ in step.filters):
                fill([el for el, _ in walk(root) if role_matches(step.role, el.role)])
            for el, _ in walk(root):
                try:
                    if step_matches(step, el):
                        found.append(el)
                except Exception:
                    continue
        if step.nth is not None:
            found = found[step.nth:step.nth + 1]
        scope = found
        if not scope:
            return []
    return scope


@dataclass
class Seen:
    """One element as it was when a window was read (what selectors are made from); it has the
    attributes ``step_matches`` reads of an Element."""
    el: Element
    role: str
    name: str
    automation_id: str
    class_name: str
    showing: bool
    path: tuple[int, ...]  # indexes of its ancestors in the snapshot, outermost first
    description: str = ""


def snapshot(root: Element, max_depth: int = 40) -> list[Seen]:
    """Every element under ``root`` read once (role, name, id, class, showing)."""
    seen: list[Seen] = []
    chain: list[int] = []
    prefetch = getattr(root, "prefetch", None)
    if prefetch is not None:
        prefetch()
    for el, depth in walk(root, max_depth):
        del chain[depth - 1:]
        try:
            seen.append(Seen(el, el.role, el.name, el.automation_id, el.class_name, el.showing, tuple(chain)))
        except Exception:  # it went away while we looked
            seen.append(Seen(el, "?", "", "", "", False, tuple(chain)))
        chain.append(len(seen) - 1)
    return seen


def best_selector(index: int, seen: list[Seen]) -> str:
    """The shortest selector that finds ``seen[index]`` (and only it, counting :nth) in the snapshot."""
    me = seen[index]
    hidden = not me.showing
    steps: list[Step] = []
    if me.automation_id:
        steps.append(Step(role=me.role, filters=[("id", "=", me.automation_id)], hidden=hidden))
    if me.name:
        steps.append(Step(role=me.role, filters=[("name", "=", me.name)], hidden=hidden))
    for step in steps:
        hits = [i for i, s in enumerate(seen) if step_matches(step, s)]
        if hits == [index]:
            return render([step])
    base = steps[0] if steps else Step(role=me.role, hidden=hidden)
    for a in reversed(me.path):  # inside the nearest ancestor that a selector finds alone
        anc = seen[a]
        if not anc.name:
            continue
        head = Step(role=anc.role, filters=[("name", "=", anc.name)], hidden=not anc.showing)
        if [i for i, s in enumerate(seen) if step_matches(head, s)] != [a]:
            break
        inside = [i for i, s in enumerate(seen) if a in s.path and step_matches(base, s)]
        tail = Step(role=base.role, filters=list(base.filters), hidden=hidden,
                    nth=inside.index(index) if len(inside) > 1 else None)
        return render([head, tail])
    hits = [i for i, s in enumerate(seen) if step_matches(base, s)]
    nth = hits.index(index) if index in hits and len(hits) > 1 else None
    return render([Step(role=base.role, filters=list(base.filters), hidden=hidden, nth=nth)])


# ---------------------------------------------------------------- backends
def backend() -> "Backend":
    global _BACKEND
    if _BACKEND is None:
        if sys.platform == "win32":  # pragma: no cover - Windows only
            from .a11y_uia import UIABackend

            _BACKEND = UIABackend()
        else:
            from .a11y_atspi import ATSPIBackend

            _BACKEND = ATSPIBackend()
    return _BACKEND


_BACKEND: "Backend | None" = None


class Backend:
    def applications(self) -> list[Element]:
        raise NotImplementedError

    def windows(self, pid: int | None = None, title: str | None = None) -> list[Element]:
        """Top-level windows (frames, dialogs), of one process and with a title matching a regex."""
        found = []
        for app in self.applications():
            if pid and app.pid != pid:
                continue
            for win in app.children():
                if title and not re.search(title, win.name or "", re.I):
                    continue
                found.append(win)
        return found


class A11yUnavailable(NodeError):
    kind = "not_found"


def app_env(env: dict | None = None) -> dict:
    """The environment to start an application with so that it exposes its tree."""
    env = dict(os.environ if env is None else env)
    if sys.platform.startswith("linux") and not env.get("DBUS_SESSION_BUS_ADDRESS"):
        return env  # no session bus: the toolkits would start one of their own per application
    env.pop("NO_AT_BRIDGE", None)
    if env.get("GTK_A11Y") == "none":
        env.pop("GTK_A11Y")
    env["QT_LINUX_ACCESSIBILITY_ALWAYS_ON"] = "1"
    env.setdefault("QT_ACCESSIBILITY", "1")
    return env


# ---------------------------------------------------------------- finding with a wait
def roots_for(window_title: str = "", process: str = "", ctx=None, timeout: float = 0.0) -> list[Element]:
    """The accessible windows to search: those of the window a title/process finds, else all."""
    be = backend()
    if not window_title and not process:
        return [w for app in be.applications() for w in app.children()]
    from . import windows

    win = windows.find(window_title, process, timeout, ctx)
    found = be.windows(pid=win.pid) if win.pid else []
    titled = [w for w in found if (w.name or "") == win.title] or [
        w for w in found if window_title and re.search(window_title, w.name or "", re.I)]
    return titled or found


def search(selector: Any, *, window: str = "", process: str = "", ctx=None) -> tuple[list[Element], str]:
    """The elements the selector finds now, and, when there are none, why (for a message). A
    window that is not open is a miss; no accessibility bus at all is an error."""
    steps = selector if isinstance(selector, list) else parse(selector)
    try:
        roots = roots_for(window, process, ctx, 0.0)
    except NodeError as exc:
        if exc.kind != "not_found" or isinstance(exc, A11yUnavailable):
            raise
        return [], exc.message
    if not roots:
        return [], "no accessible window matched"
    found = find_all(roots, steps)
    return found, "" if found else "no element matched"


def locate(selector: Any, *, window: str = "", process: str = "", timeout: float = 5.0, ctx=None,
           state: str | None = None) -> Element:
    """The first element the selector finds, waiting up to ``timeout`` seconds for it (and, when
    ``state`` is given, for it to have that state); NodeError(not_found) names what was seen."""
    steps = parse(selector)
    deadline = time.monotonic() + max(0.0, float(timeout or 0))
    while True:
        found, last = search(steps, window=window, process=process, ctx=ctx)
        if found:
            el = found[0]
            if state is None or state in el.states():
                return el
            last = f"the element is not {state} (its states: {', '.join(sorted(el.states()))})"
        if time.monotonic() >= deadline:
            where = f" in the window /{window}/" if window else ""
            raise NodeError(f"element not found: {render(steps)}{where} within {float(timeout or 0):g} s ({last})",
                            kind="not_found", details={"selector": render(steps)},
                            fix="check the selector with `botloom inspect --window TITLE`; the application must "
                                "be started with accessibility on (desktop.launch and desktop.app do that)")
        if ctx is not None:
            ctx.sleep(0.05)
        else:
            time.sleep(0.05)


def element_at(x: int, y: int, window: str = "", process: str = "") -> dict | None:
    """The accessible element under a screen point, as the designer's point picker offers it
    (the capability ``desktop.element_at``): its best selector, role, name and box; None where
    no accessible element is (an application without accessibility, the desktop). Of the
    elements whose box holds the point, the smallest that can be acted on (a button, not the
    label inside it) is taken, else the smallest with a name."""
    try:
        roots = roots_for(window, process)
    except NodeError:
        return None
    best: tuple | None = None
    for root in roots:
        seen = snapshot(root)
        for i, s in enumerate(seen):
            if not s.showing or not (s.name or s.automation_id):
                continue
            try:
                bx, by, bw, bh = s.el.box()
                acts = bool(s.el.actions())
            except Exception:  # it went away while we looked
                continue
            if bw <= 0 or bh <= 0 or not (bx <= x < bx + bw and by <= y < by + bh):
                continue
            rank = (not acts, bw * bh)
            if best is None or rank < best[0]:
                best = (rank, i, seen, (bx, by, bw, bh))
    if best is None:
        return None
    _rank, i, seen, box = best
    return {"selector": best_selector(i, seen), "role": seen[i].role, "name": seen[i].name, "box": list(box)}


def tree_lines(root: Element, max_depth: int = 40) -> list[str]:
    """``botloom inspect``'s lines: each element indented under its parent, with its selector."""
    lines = [f"{root.role} {root.name!r}  {_box(root)}"]
    seen = snapshot(root, max_depth)
    for i, s in enumerate(seen):
        lines.append(f"{'  ' * (len(s.path) + 1)}{s.role} {s.name!r}  {_box(s.el)}  ->  {best_selector(i, seen)}")
    return lines


def _box(el: Element) -> str:
    try:
        x, y, w, h = el.box()
        return f"{w}x{h}+{x}+{y}"
    except Exception:
        return "?"
