"""The web recorder: what a person does in a real browser becomes browser nodes.

Playwright's own recorder (the engine of ``playwright codegen``) watches the pages of a browser
context and reports each action (a click, a fill, a key press, a choice in a list, a tick, a
file chosen, an address typed) with the locator it chose for the element, in Playwright's
order of preference: test id, role and accessible name, label, placeholder, alt text, title,
text, then CSS. Typing into a field is reported as one fill whose text grows; the fill is
updated in place. This module turns those actions into Botloom nodes (:func:`step_of`) with
Botloom targets (:func:`target_of`).

:class:`WebRecorder` runs the browser; ``botloom record-web`` writes the steps into a bot file,
or (``--events jsonl``, what the designer runs in a child process) reports the steps recorded
so far as JSON lines.

Playwright offers the recorder to its own tools through ``BrowserContext._start_recording``
(what its CLI calls); that one call is private API, kept here and checked by the tests.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from botloom.runner.sdk import NodeError, recording

from .targets import parse

# Playwright's names of keyboard modifiers, in the bit order of its recorder's ``modifiers``
_MODIFIERS = ((1, "Alt"), (2, "Control"), (4, "Meta"), (8, "Shift"))
Step = recording.Step
_TEXT_KINDS = {"text": "text", "label": "label", "placeholder": "placeholder", "alt": "alt", "title": "title"}


def _text(value: str, exact: bool) -> str:
    """A text value as a target writes it: quoted when exact (or when it could not be read back unquoted)."""
    plain = not exact and value == value.strip() and value and value[0] not in "\"'" and " >> " not in value
    if plain:
        return value
    return '"' + value.replace('"', '\\"') + '"'


def _plain_css(text: str) -> bool:
    """Whether a CSS selector reads back as CSS without the css= prefix."""
    try:
        return parse(text) == parse(f"css={text}")
    except NodeError:
        return False


def _role(body: str, options: dict) -> tuple[str, str]:
    name = options.get("name")
    warning = ""
    attrs = [a for a in options.get("attrs") or [] if a.get("name") != "include-hidden"]
    if attrs:
        warning = "the recorder also told the element apart by " + ", ".join(
            f"{a.get('name')}={a.get('value')}" for a in attrs) + ", which a target cannot say; check the target"
    if name is None:
        return f"role={body}", warning
    exact = bool(options.get("exact")) or "]" in name or '"' in name
    if exact or name != name.strip():
        return f'role={body}[name="{name}"]' if '"' not in name else f"role={body}[name='{name}']", warning
    return f"role={body}[name={name}]", warning


def target_of(locator: dict) -> tuple[str, str]:
    """A Botloom target for a locator of Playwright's recorder, and a warning ('' when exact).

    The locator is the recorder's description of ``page.get_by_role(...).nth(1)`` and the like:
    ``{"kind": "role", "body": "button", "options": {"name": "Add", "exact": false}, "next": ...}``.
    """
    parts: list[str] = []
    warnings: list[str] = []
    loc = locator
    while loc:
        kind, body, options = loc.get("kind"), loc.get("body"), loc.get("options") or {}
        if kind == "default":
            text = str(body)
            if " >> " in text or text.startswith("internal:"):
                warnings.append(f"Playwright's selector '{text}' was kept as CSS; check the target")
            parts.append(text if _plain_css(text) else f"css={text}")
        elif kind == "role":
            part, warning = _role(str(body), options)
            parts.append(part)
            if warning:
                warnings.append(warning)
        elif kind in _TEXT_KINDS:
            parts.append(f"{_TEXT_KINDS[kind]}={_text(str(body), bool(options.get('exact')))}")
        elif kind == "test-id":
            parts.append(f"testid={body}")
        elif kind == "nth":
            parts.append(f"nth={int(body)}")
        elif kind == "first":
            parts.append("nth=0")
        elif kind == "last":
            parts.append("nth=-1")
        elif kind == "has-text":
            parts.append(f"has-text={_text(str(body), False)}")
        elif kind in ("frame-locator", "frame"):
            # frame-locator has the iframe's selector as body; frame (content_frame) follows the iframe's locator
            inner = str(body) if kind == "frame-locator" else (parts.pop() if parts else "")
            css = inner[4:] if inner.startswith("css=") else inner
            if "=" in css.split("[")[0] and not css.startswith(("#", ".", "[")):
                warnings.append(f"the frame '{inner}' is not a CSS selector; check the target")
            parts.append(f"frame={css}")
        elif kind == "visible":
            pass  # Botloom's nodes act on visible elements anyway
        else:
            warnings.append(f"Playwright's locator part '{kind}' has no Botloom target kind and was left out; "
                            "check the target")
        loc = loc.get("next")
    target = " >> ".join(parts)
    try:
        parse(target)
    except NodeError as exc:
        warnings.append(f"the recorded target does not parse: {exc.message}")
    return target, "; ".join(warnings)


def _what(target: str) -> str:
    """A short name of the element a target finds, for a node's title: 'New todo', '#save'."""
    try:
        parts = [p for p in parse(target) if p.kind != "nth"]
    except NodeError:
        parts = []
    if not parts:
        return target
    last = parts[-1]
    text = (last.name or last.value) if last.kind == "role" else last.value
    text = f"'{text}'" if last.kind not in ("css", "xpath") else text
    return text if len(text) <= 40 else text[:39] + "…"


def _key(action: dict) -> str:
    mods = int(action.get("modifiers") or 0)
    names = [name for bit, name in _MODIFIERS if mods & bit]
    return "+".join([*names, str(action.get("key"))])


def step_of(action: dict) -> Step | None:
    """The node for one action of Playwright's recorder (None for those that need none)."""
    name = action.get("name")
    target, warning = target_of(action["locator"]) if action.get("locator") else ("", "")
    short = _what(target)
    if name == "navigate":
        return Step("browser.goto", {"url": action.get("url", "")}, f"Go to {action.get('url', '')}")
    if name == "click":
        params: dict[str, Any] = {"target": target}
        if int(action.get("clickCount") or 1) == 2:
            params["double"] = True
        if action.get("button") not in (None, "left"):
            params["button"] = action["button"]
        if int(action.get("modifiers") or 0):
            mods = _key({**action, "key": ""}).rstrip("+")
            warning = "; ".join(w for w in (warning, f"the click was made holding {mods}, which is not recorded") if w)
        return Step("browser.click", params, f"Click {short}", warning)
    if name == "fill" and action.get("password"):
        return Step("browser.fill", {"target": target, "value": "", "secret": recording.PASSWORD_SECRET},
                    f"Fill {short} (password)",
                    "a password was typed here and is not kept in the bot: store it with `botloom secret set "
                    f"{recording.PASSWORD_SECRET}` (the bot declares the secret; another name can be chosen in this "
                    "node's Secret)", dict(recording.PASSWORD_SECRETS))
    if name == "fill":
        return Step("browser.fill", {"target": target, "value": action.get("text", "")}, f"Fill {short}", warning)
    if name == "press":
        return Step("browser.press", {"key": _key(action), "target": target}, f"Press {_key(action)}", warning)
    if name in ("check", "uncheck"):
        return Step("browser.check", {"target": target, "checked": name == "check"},
                    f"{'Tick' if name == 'check' else 'Clear'} {short}", warning)
    if name == "select":
        options = list(action.get("options") or [])
        return Step("browser.select", {"target": target, "option": options[0] if len(options) == 1 else options,
                                       "by": "value"}, f"Select in {short}", warning)
    if name == "setInputFiles":
        files = list(action.get("files") or [])
        return Step("browser.upload", {"target": target, "files": files[0] if len(files) == 1 else files},
                    f"Upload to {short}", warning)
    return None  # openPage, closePage, assertions: no node of their own


@dataclass
class Recording:
    """The actions recorded so far, turned into steps (thread-safe)."""

    url: str = ""
    actions: list[dict] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)  # page ids, in the order they opened
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: Callable[[], None] | None = None
    secrets: set[str] = field(default_factory=set)  # texts typed into password fields

    def add(self, action: dict, update: bool = False) -> None:
        with self.lock:
            if action.get("name") == "openPage":
                self.pages.append(action.get("pageGuid", ""))
            if update and self.actions:
                self.actions[-1] = action
            else:
                self.actions.append(action)
        if self.changed is not None:
            self.changed()

    def steps(self) -> list[Step]:
        """The browser nodes: an Open browser at the first address, then one node per action,
        with a Switch tab wherever the next action happens in another tab."""
        with self.lock:
            actions, pages = list(self.actions), list(self.pages)
        steps = [Step("browser.open", {"url": self.url}, "Open browser")]
        opened = False
        current = pages[0] if pages else None
        previous: dict = {}
        for action in actions:
            page = action.get("pageGuid")
            if action.get("name") == "navigate" and not opened:  # the first address opens with the browser
                steps[0].params["url"] = action.get("url", "")
                opened = True
                continue
            if _synthetic_click(action, previous):
                continue
            previous = action
            if action.get("name") == "fill" and action.get("text") and action["text"] in self.secrets:
                action = {**action, "password": True}
            step = step_of(action)
            if step is None:
                continue
            if page and current and page != current and page in pages:
                steps.append(Step("browser.switch_tab", {"tab": str(pages.index(page))},
                                  f"Switch to tab {pages.index(page)}"))
            current = page or current
            steps.append(step)
        return steps


SECRET_SCRIPT = r"""
document.addEventListener('input', (e) => {
  const el = e.target;
  if (el && el.type === 'password' && el.value && window.__botloomSecretTyped) window.__botloomSecretTyped(el.value);
}, true);
"""


def _synthetic_click(action: dict, previous: dict) -> bool:
    """The click a browser makes by itself when Enter submits a form or Space presses a button
    (no pointer, so its click count is 0): the key press is the person's action, replaying both
    would submit twice."""
    return (action.get("name") == "click" and action.get("clickCount") == 0 and previous.get("name") == "press"
            and previous.get("key") in ("Enter", " ", "Space") and not previous.get("modifiers"))


class WebRecorder:
    """A browser with Playwright's recorder on, for one recording.

    ``start()`` opens the browser (headed unless ``headless``) at ``url``; what the person does
    is recorded into :attr:`recording`; ``pump(seconds)`` lets Playwright deliver the actions
    (its sync API delivers events only while it is called); ``stop()`` closes it all.
    """

    def __init__(self, url: str = "", browser: str = "auto", headless: bool = False, cdp_port: int = 0):
        url = (url or "").strip()
        if url and "://" not in url and not url.startswith(("about:", "data:", "file:")):
            url = "https://" + url  # as Go to URL does
        self.url, self.browser_choice, self.headless, self.cdp_port = url, browser, headless, cdp_port
        self.dirty, self.closed = threading.Event(), threading.Event()
        self.recording = Recording(url=url, changed=self.dirty.set)
        self.pw = self.browser = self.context = self.page = None

    # the recorder's event sink (Playwright calls these on its thread)
    def action_added(self, page, data, code) -> None:
        self.recording.add(_action(data, code))

    def action_updated(self, page, data, code) -> None:
        self.recording.add(_action(data, code), update=True)

    def signal_added(self, page, data, code) -> None:
        pass  # navigations and pop-ups a click caused: the next action says where it happens

    def steps(self) -> list[Step]:
        return self.recording.steps()

    def start(self) -> "WebRecorder":
        from playwright.sync_api import sync_playwright

        from .discover import choose, resolve

        choice, source = choose(self.browser_choice, None)
        found = resolve(choice, source)
        self.pw = sync_playwright().start()
        try:
            args = [f"--remote-debugging-port={self.cdp_port}"] if self.cdp_port else []
            self.browser = self.pw.chromium.launch(executable_path=found.executable, headless=self.headless, args=args)
            self.browser.on("disconnected", lambda _b: self.closed.set())
            self.context = self.browser.new_context()
            self._watch()
            self.page = self.context.new_page()
            self.page.on("close", lambda _p: (self.context is None or not self.context.pages) and self.closed.set())
            if self.url:
                self.page.goto(self.url)
        except Exception:
            self.stop()
            raise
        return self

    def _watch(self) -> None:
        """Turn Playwright's recorder on in the context (a picker watches otherwise)."""
        start_recording = getattr(self.context._impl_obj, "_start_recording", None)
        if start_recording is None:
            raise NodeError("this version of Playwright does not offer its recorder", kind="not_supported",
                            fix="install the Playwright version Botloom was tested with (pip install -e .)")
        self.context._sync(start_recording({"language": "jsonl"}, self))
        # what is typed into password fields is told apart by its text (Playwright's actions do
        # not say the field's type): such fills never put their text into the bot
        self.context.expose_binding("__botloomSecretTyped", lambda _source, text: self.recording.secrets.add(text))
        self.context.add_init_script(SECRET_SCRIPT)

    def pump(self, seconds: float) -> None:
        """Let Playwright deliver what happened in the browser for ``seconds``."""
        import asyncio

        if self.closed.is_set() or self.context is None:
            return
        try:
            self.context._sync(asyncio.sleep(seconds))
        except Exception:
            self.closed.set()

    def stop(self) -> list[Step]:
        steps = self.steps()
        for close in (lambda: self.browser and self.browser.close(), lambda: self.pw and self.pw.stop()):
            try:
                close()
            except Exception:
                pass
        self.pw = self.browser = self.context = self.page = None
        self.closed.set()
        return steps


def _action(data: dict, code: str) -> dict:
    """The recorder's action with the structured locator its jsonl code line carries."""
    try:
        line = json.loads(code) if code else {}
    except ValueError:
        line = {}
    out = dict(line if isinstance(line, dict) else {})
    for key in ("name", "url", "text", "key", "modifiers", "button", "clickCount", "options", "files"):
        if key in data and key not in out:
            out[key] = data[key]
    return out


# ---------------------------------------------------------------- picking one element
# Installed in every page of the picking browser: the element under the mouse is outlined; a
# click on it is kept from the page (nothing is pressed) and reported with the targets that
# could name it, most wanted first (test id, role and name, label, placeholder, alt, title,
# text, id, CSS path). Which of them really find that one element Playwright decides.
PICK_SCRIPT = r"""
(() => {
  if (window.__botloomPickInstalled) return;
  window.__botloomPickInstalled = true;
  const clean = s => (s || '').replace(/\s+/g, ' ').trim();
  const q = s => '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
  const FIELD = new Set(['INPUT', 'SELECT', 'TEXTAREA']);
  const implicitRole = el => {
    const tag = el.tagName, type = (el.getAttribute('type') || '').toLowerCase();
    if (tag === 'A' && el.hasAttribute('href')) return 'link';
    if (tag === 'BUTTON') return 'button';
    if (tag === 'INPUT') {
      if (['button', 'submit', 'reset', 'image'].includes(type)) return 'button';
      if (type === 'checkbox') return 'checkbox';
      if (type === 'radio') return 'radio';
      if (type === 'range') return 'slider';
      if (type === 'number') return 'spinbutton';
      if (type === 'search') return 'searchbox';
      if (['hidden', 'file', 'color', 'date', 'time', 'password'].includes(type)) return '';
      return 'textbox';
    }
    if (tag === 'SELECT') return el.multiple || el.size > 1 ? 'listbox' : 'combobox';
    if (tag === 'TEXTAREA') return 'textbox';
    if (tag === 'IMG') return el.getAttribute('alt') === '' ? '' : 'img';
    if (/^H[1-6]$/.test(tag)) return 'heading';
    return {LI: 'listitem', UL: 'list', OL: 'list', TABLE: 'table', TR: 'row', TD: 'cell', TH: 'columnheader',
            NAV: 'navigation', OPTION: 'option', DIALOG: 'dialog', MAIN: 'main', FORM: 'form'}[tag] || '';
  };
  const labelOf = el => {
    if (el.getAttribute('aria-labelledby')) {
      return clean(el.getAttribute('aria-labelledby').split(/\s+/)
        .map(id => (document.getElementById(id) || {}).innerText || '').join(' '));
    }
    if (el.getAttribute('aria-label')) return clean(el.getAttribute('aria-label'));
    if (el.labels && el.labels.length) return clean(el.labels[0].innerText);
    return '';
  };
  const nameOf = (el, role) => {
    const label = labelOf(el);
    if (label) return label;
    if (el.tagName === 'IMG') return clean(el.getAttribute('alt'));
    if (el.tagName === 'INPUT' && ['submit', 'button', 'reset'].includes(el.type)) return clean(el.value);
    if (['button', 'link', 'heading', 'cell', 'columnheader', 'listitem', 'option', 'checkbox', 'radio', 'tab',
         'menuitem'].includes(role)) return clean(el.innerText);
    return clean(el.getAttribute('title') || '');  // a field named by its placeholder only: placeholder= (as codegen)
  };
  const cssPath = el => {
    const steps = [];
    for (let e = el; e && e.nodeType === 1 && e !== document.documentElement; e = e.parentElement) {
      if (e.id && /^[A-Za-z][\w-]*$/.test(e.id)) { steps.unshift('#' + e.id); break; }
      let step = e.tagName.toLowerCase();
      const same = e.parentElement ? [...e.parentElement.children].filter(c => c.tagName === e.tagName) : [];
      if (same.length > 1) step += `:nth-of-type(${same.indexOf(e) + 1})`;
      steps.unshift(step);
    }
    return steps.join(' > ');
  };
  const candidates = el => {
    const out = [];
    if (el.getAttribute('data-testid')) out.push('testid=' + el.getAttribute('data-testid'));
    const role = el.getAttribute('role') || implicitRole(el);
    const name = role ? nameOf(el, role) : '';
    if (role && name && name.length <= 80) out.push(`role=${role}[name=${q(name)}]`);
    if (FIELD.has(el.tagName)) {
      const label = labelOf(el);
      if (label) out.push('label=' + q(label));
      if (el.getAttribute('placeholder')) out.push('placeholder=' + q(el.getAttribute('placeholder')));
    }
    if (el.tagName === 'IMG' && el.getAttribute('alt')) out.push('alt=' + q(el.getAttribute('alt')));
    if (el.getAttribute('title')) out.push('title=' + q(el.getAttribute('title')));
    const text = clean(el.innerText);
    if (text && text.length <= 40 && !FIELD.has(el.tagName)) out.push('text=' + q(text));
    if (role && name && name.length <= 80) {  // inside the nearest item, row or group that says which
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        const around = a.getAttribute('role') || implicitRole(a);
        if (!['listitem', 'row', 'article', 'group', 'region', 'dialog', 'form'].includes(around)) continue;
        const own = clean(a.innerText.replace(el.innerText || '', ' ')).slice(0, 30).trim();
        if (own) out.push(`role=${around} >> has-text=${q(own)} >> role=${role}[name=${q(name)}]`);
        break;
      }
    }
    if (el.id && /^[A-Za-z][\w-]*$/.test(el.id) && !/\d{3,}/.test(el.id)) out.push('#' + el.id);
    out.push('css=' + cssPath(el));
    if (role && name && name.length <= 80) out.push(`role=${role}[name=${q(name)}]`);  // with nth= when not alone
    return out;
  };
  const box = document.createElement('div');
  box.style.cssText = 'position:fixed;pointer-events:none;z-index:2147483647;outline:2px solid #e5484d;' +
                      'background:rgba(229,72,77,.12);display:none';
  const place = el => {
    const r = el.getBoundingClientRect();
    Object.assign(box.style, {display: 'block', left: r.left + 'px', top: r.top + 'px', width: r.width + 'px',
                              height: r.height + 'px'});
    if (!box.isConnected) document.documentElement.appendChild(box);
  };
  window.__botloomCssPath = cssPath;  // also names an <iframe> in this document (frame_prefix)
  const keep = e => { e.preventDefault(); e.stopImmediatePropagation(); };
  document.addEventListener('mousemove', e => place(e.target), true);
  for (const t of ['pointerdown', 'mousedown', 'pointerup', 'mouseup', 'dblclick']) document.addEventListener(t, keep, true);
  document.addEventListener('click', e => {
    keep(e);
    window.__botloomPicked = e.target;
    window.__botloomPick(candidates(e.target));
  }, true);
})();
"""


def verified(page, candidates: list[str]) -> list[str]:
    """The candidates that find the picked element: those naming what a person sees and finding
    it alone first, then ids and CSS paths, then the ones that find several elements with the
    ``nth=`` of the picked one (browser thread)."""
    from .targets import locate

    alone, paths, among = [], [], []
    for text in candidates:
        try:
            parts = parse(text)
            loc = locate(page, parts)
            n = loc.count()
            index = loc.evaluate_all("(els) => els.indexOf(window.__botloomPicked)") if n else -1
        except Exception:  # a candidate Playwright cannot use: the next one
            continue
        if index < 0:
            continue
        if n == 1:
            if text.startswith(("#", "css=")):  # ids and CSS paths break with a redesign: after what a person sees
                paths.append(text[4:] if text.startswith("css=") and _plain_css(text[4:]) else text)
            elif text not in alone:
                alone.append(text)
        else:
            among.append(f"{text} >> nth={index}")
    return alone + paths + [t for i, t in enumerate(among) if t not in among[:i]]


# The CSS selector of an <iframe> element in its document: its id, name or title when that
# finds it alone, else the pick script's CSS path (installed in that document too).
FRAME_SELECTOR = r"""
(el) => {
  const esc = s => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const alone = sel => { try { return el.ownerDocument.querySelectorAll(sel).length === 1 ? sel : ''; } catch (e) { return ''; } };
  const tag = el.tagName.toLowerCase();
  if (el.id && /^[A-Za-z][\w-]*$/.test(el.id) && alone('#' + el.id)) return '#' + el.id;
  for (const attr of ['name', 'title']) {
    const v = el.getAttribute(attr);
    if (v && alone(`${tag}[${attr}="${esc(v)}"]`)) return `${tag}[${attr}="${esc(v)}"]`;
  }
  const cssPath = el.ownerDocument.defaultView.__botloomCssPath;
  return cssPath ? alone(cssPath(el)) : '';
}
"""


def frame_prefix(frame) -> str | None:
    """``frame=SELECTOR >> `` for each <iframe> from the page down to ``frame`` (nested frames
    in order), or None when an <iframe> has no selector that finds it alone (browser thread)."""
    parts = []
    while frame is not None and frame.parent_frame is not None:
        try:
            selector = frame.frame_element().evaluate(FRAME_SELECTOR)
        except Exception:  # the frame went away
            return None
        if not selector:
            return None
        parts.insert(0, f"frame={selector} >> ")
        frame = frame.parent_frame
    return "".join(parts)


class WebPicker(WebRecorder):
    """A browser for picking one element: the first element clicked is not clicked but named;
    :attr:`result` has the targets that find it, best first (``sdk.recording.serve`` reports it
    as the event ``picked``)."""

    def __init__(self, url: str = "", browser: str = "auto", headless: bool = False, cdp_port: int = 0):
        super().__init__(url, browser, headless, cdp_port)
        self.candidates: list[str] | None = None
        self.picked_page = None
        self.picked_frame = None  # the frame the element is in (an <iframe>'s, or the page's own)
        self.result: dict | None = None  # {"target": best, "alternatives": [...]} once picked

    def _on_pick(self, source, candidates) -> None:
        self.candidates, self.picked_page = list(candidates or []), source.get("page")
        self.picked_frame = source.get("frame")

    def _watch(self) -> None:
        self.context.expose_binding("__botloomPick", self._on_pick)
        self.context.add_init_script(PICK_SCRIPT)

    def pump(self, seconds: float) -> None:
        super().pump(seconds)
        if self.candidates is not None and self.result is None and self.picked_page is not None:
            frame = self.picked_frame
            inside = frame is not None and frame.parent_frame is not None
            prefix = frame_prefix(frame) if inside else ""  # None: an <iframe> no CSS selector names
            targets = [] if prefix is None else [
                prefix + t for t in verified(frame if inside else self.picked_page, self.candidates)]
            self.result = {"target": targets[0], "alternatives": targets[1:]} if targets else {"target": ""}
            self.closed.set()  # one pick ends it

    def steps(self) -> list[Step]:
        return []

    def stop(self) -> list[Step]:
        super().stop()
        return []
