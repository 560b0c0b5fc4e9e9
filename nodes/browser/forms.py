"""Fill a web form from a record: each column goes to the field whose *label* matches it.

Forms change between page loads (fields move, ids are generated, labels are attached in
different ways), but the words a person reads stay. So fields are found by their labels,
read the way a screen reader would: ``<label for>``, a label wrapped around the field,
``aria-label``, ``aria-labelledby``, the placeholder, the title, a radio group's
``<legend>``/``radiogroup`` label; a ``<label>`` without ``for`` just before the field (as
Angular and React forms often write it, with generated ids); the ``name``/``id`` only as a last
resort. Fields inside open shadow roots (web components) are found too. The "form's labels" of
an error message are the labels only, never generated ids. Texts are
compared normalised: case, accents, spacing, punctuation, ``*``, ``:`` and a trailing
"(optional)" do not count. A column that matches no field is reported with the closest
labels the page has.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Any

from botloom.runner.sdk import NodeError, Output, Param

from .base import _ms, _node, run_on_page, session_of
from .session import Failure
from .targets import locate, parse

_COLLECT_JS = r"""(root) => {
  root = root || document;
  const CONTROL = 'input, select, textarea';
  const own = el => {  // a label's text without the text of the fields inside it
    const c = el.cloneNode(true);
    c.querySelectorAll('input, select, textarea, button, option').forEach(x => x.remove());
    return (c.innerText !== undefined && c.innerText !== '' ? c.innerText : c.textContent) || '';
  };
  const deep = (from, sel) => {  // querySelectorAll that also looks inside open shadow roots
    const out = [...from.querySelectorAll(sel)];
    for (const host of from.querySelectorAll('*')) if (host.shadowRoot) out.push(...deep(host.shadowRoot, sel));
    return out;
  };
  const byIds = (el, ids) => {
    const scope = el.getRootNode && el.getRootNode().getElementById ? el.getRootNode() : document;
    return (ids || '').split(/\s+/).map(i => i && (scope.getElementById(i) || document.getElementById(i)))
      .filter(Boolean).map(own).join(' ');
  };
  const sibling = el => {  // <label>Name</label><input> with no for=: the label just before the field
    let node = el;
    for (let depth = 0; depth < 3 && node && node.parentElement; depth++) {
      for (let prev = node.previousElementSibling; prev; prev = prev.previousElementSibling) {
        if (prev.matches(CONTROL) || prev.querySelector(CONTROL)) return '';  // another field's place
        const label = prev.tagName === 'LABEL' ? prev : prev.querySelector('label');
        if (label && !label.htmlFor) return own(label);
      }
      node = node.parentElement;
      if (node.querySelectorAll(CONTROL).length > 1) return '';  // the box holds other fields too
    }
    return '';
  };
  const labelsOf = el => {
    const strong = [];
    if (el.labels) for (const l of el.labels) strong.push(own(l));
    if (el.getAttribute('aria-labelledby')) strong.push(byIds(el, el.getAttribute('aria-labelledby')));
    if (el.getAttribute('aria-label')) strong.push(el.getAttribute('aria-label'));
    if (!strong.some(t => t && t.trim())) strong.push(sibling(el));
    if (el.placeholder) strong.push(el.placeholder);
    if (el.title) strong.push(el.title);
    return strong.filter(s => s && s.trim());
  };
  const visible = el => el.getClientRects().length > 0;
  const controls = deep(root, CONTROL).filter(e =>
    !['hidden', 'submit', 'button', 'reset', 'image'].includes((e.type || '').toLowerCase()) && !e.disabled);
  const fields = [], groups = new Map();
  let n = 0;
  for (const el of controls) {
    const id = 'f' + (n++);
    el.setAttribute('data-botloom-field', id);
    const tag = el.tagName.toLowerCase();
    const kind = tag === 'input' ? (el.type || 'text').toLowerCase() : tag;
    if (kind === 'radio') {
      const key = (el.form ? 'form' + [...document.forms].indexOf(el.form) : 'doc') + ':' + (el.name || id);
      let g = groups.get(key);
      if (!g) {
        const labels = [];
        const box = el.closest('[role=radiogroup]');
        if (box) {
          if (box.getAttribute('aria-labelledby')) labels.push(byIds(box, box.getAttribute('aria-labelledby')));
          if (box.getAttribute('aria-label')) labels.push(box.getAttribute('aria-label'));
        }
        const fs = el.closest('fieldset');
        const legend = fs && fs.querySelector('legend');
        if (legend) labels.push(own(legend));
        g = {id: 'g' + groups.size, kind: 'radio', labels: labels.filter(s => s && s.trim()),
             names: [el.name].filter(Boolean), options: [], visible: false};
        groups.set(key, g);
        fields.push(g);
      }
      g.options.push({id, labels: labelsOf(el), value: el.value});
      g.visible = g.visible || visible(el);
      continue;
    }
    const f = {id, kind, labels: labelsOf(el), names: [el.name, el.id].filter(Boolean), visible: visible(el)};
    if (kind === 'select') {
      f.options = [...el.options].map(o => ({value: o.value, text: o.textContent.replace(/\s+/g, ' ').trim()}));
      f.multiple = el.multiple;
    }
    fields.push(f);
  }
  return fields;
}"""

TEXT_KINDS = {"text", "email", "tel", "number", "password", "url", "search", "date", "time", "datetime-local",
              "month", "week", "color", "range", "textarea"}
TRUE = {"1", "true", "yes", "y", "x", "on", "checked", "ja", "oui", "si", "sí", "✓", "✔"}
FALSE = {"0", "false", "no", "n", "off", "", "none", "unchecked", "nein", "non"}


def normalise(text: Any) -> str:
    """Lower case, no accents, no punctuation, single spaces; '(optional)' and the like dropped."""
    t = unicodedata.normalize("NFKD", str(text))
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    t = re.sub(r"\((optional|required|mandatory|pflicht|obligatoire)\)", " ", t)
    t = re.sub(r"[_\-]+", " ", t)
    t = re.sub(r"[^\w\s]", " ", t)
    return re.sub(r"\s+", " ", t).strip()


def compact(text: Any) -> str:
    return normalise(text).replace(" ", "")


def truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, (int, float)):
        return value != 0
    t = str(value).strip().lower()
    if t in TRUE:
        return True
    if t in FALSE:
        return False
    raise ValueError(t)


def match_fields(record_keys: list[str], fields: list[dict], labels: dict[str, Any]) -> tuple[dict, list[dict]]:
    """Columns to fields. Returns ({column: field}, [unmatched {column, looked_for, suggestion}])."""
    strong: dict[str, list[int]] = {}
    weak: dict[str, list[int]] = {}
    shown: dict[str, str] = {}
    for i, f in enumerate(fields):
        for text in f.get("labels", []):
            key = compact(text)
            if key:
                strong.setdefault(key, []).append(i)
                shown.setdefault(key, " ".join(str(text).split()))
        for text in f.get("names", []):
            key = compact(text)
            if key:
                weak.setdefault(key, []).append(i)
    used: set[int] = set()
    matched: dict[str, dict] = {}
    unmatched: list[dict] = []

    def pick(candidates: list[int] | None) -> int | None:
        if not candidates:
            return None
        free = [i for i in dict.fromkeys(candidates) if i not in used]
        visible = [i for i in free if fields[i].get("visible", True)]
        pool = visible or free
        return pool[0] if len(pool) == 1 else (None if len(pool) > 1 else None)

    for column in record_keys:
        wanted = labels.get(column, column)
        wanted = wanted if isinstance(wanted, list) else [wanted]
        hit = None
        for w in wanted:
            key = compact(w)
            hit = pick(strong.get(key))
            if hit is None:
                hit = pick(weak.get(key))
            if hit is None:  # a label that starts with the words: "E-mail" for "E-mail address"
                starts = [i for k, ids in strong.items() if k.startswith(key) and len(key) >= 4 for i in ids]
                if len(set(starts)) == 1:
                    hit = pick(starts)
            if hit is not None:
                break
        if hit is None:
            key = compact(wanted[0])
            close = difflib.get_close_matches(key, list(shown), n=2, cutoff=0.6)
            ambiguous = [i for w in wanted for i in strong.get(compact(w), []) if i not in used]
            unmatched.append({"column": column, "looked_for": [str(w) for w in wanted],
                              "suggestion": [shown[c] for c in close],
                              "ambiguous": len(set(ambiguous)) > 1})
            continue
        used.add(hit)
        matched[column] = fields[hit]
    return matched, unmatched


def _fill_one(s, root, field: dict, value: Any, timeout_ms: float | None) -> str | None:
    """Fill one field (browser thread); returns a problem text, or None when done."""
    kind = field["kind"]
    if kind == "radio":
        want = compact(value)
        for opt in field["options"]:
            if want and (want in [compact(t) for t in opt["labels"]] or want == compact(opt["value"])):
                root.locator(f'[data-botloom-field="{opt["id"]}"]').check(timeout=timeout_ms)
                return None
        choices = [(o["labels"] or [o["value"]])[0].strip() for o in field["options"]]
        return f"'{value}' is not one of its choices ({', '.join(choices)})"
    loc = root.locator(f'[data-botloom-field="{field["id"]}"]')
    if kind == "checkbox":
        try:
            loc.set_checked(truthy(value), timeout=timeout_ms)
        except ValueError:
            return f"'{value}' is neither yes nor no (use true/false, yes/no, 1/0, x)"
        return None
    if kind == "select":
        wanted = value if isinstance(value, list) else [value]
        chosen = []
        for w in wanted:
            cw = compact(w)
            hit = next((o["value"] for o in field["options"] if compact(o["text"]) == cw), None)
            if hit is None:
                hit = next((o["value"] for o in field["options"] if compact(o["value"]) == cw), None)
            if hit is None:
                texts = [o["text"] for o in field["options"] if o["text"] and o["value"] != ""]
                near = difflib.get_close_matches(str(w), texts, n=1, cutoff=0.5)
                return (f"'{w}' is not one of its options" + (f" (did you mean '{near[0]}'?)" if near else "")
                        + f"; options: {', '.join(texts[:12])}")
            chosen.append(hit)
        loc.select_option(value=chosen, timeout=timeout_ms)
        return None
    if kind == "file":
        loc.set_input_files(value if isinstance(value, list) else [str(value)], timeout=timeout_ms)
        return None
    text = "" if value is None else value
    if isinstance(text, bool):
        text = "yes" if text else "no"
    if isinstance(text, float) and text.is_integer():
        text = int(text)
    text = str(text)
    if kind == "date" and re.match(r"^\d{4}-\d{2}-\d{2}[T ]", text):
        text = text[:10]
    loc.fill(text, timeout=timeout_ms)
    return None


def _label(field: dict) -> str:
    texts = field.get("labels") or field.get("names") or [field["id"]]
    return " ".join(str(texts[0]).split())


def _read_labels(fields: list[dict]) -> str:
    """The labels a person reads on the form, for a message: never a generated id or name."""
    shown = [" ".join(str(f["labels"][0]).split()) for f in fields if f.get("labels")]
    bare = sum(1 for f in fields if not f.get("labels"))
    text = ", ".join(shown) if shown else "(none)"
    return text + (f"; and {bare} field(s) without a label" if bare else "")


def _stays_in_page(params: dict) -> bool:
    """Filling only changes the page; filling and submitting sends the form to the site (not
    safe to do twice)."""
    return not params.get("submit")


@_node("browser.fill_form", title="Fill form", icon="form", side_effects=True, idempotent=_stays_in_page,
       session_effect=_stays_in_page,
       params=[Param("record", "object", required=True,
                     description="Column name to value, e.g. one row of a spreadsheet. Each column goes to the "
                                 "field whose label reads the same (case, spaces and punctuation do not count)."),
               Param("labels", "object", default={}, description='Columns whose field has another label: '
                                                                '{"email": "E-mail address"} or a list of labels to try.'),
               Param("ignore", "list", default=[], description="Columns to leave out (ids, notes ...)."),
               Param("form", "string", placeholder="css=form#order",
                     description="Only fields inside this element (a target; empty: the whole page)."),
               Param("submit", "string", placeholder='role=button[name="Save"]',
                     description="A button to click when every field is filled (a target; optional)."),
               Param("unmatched", "string", default="fail", choices=("fail", "skip"),
                     description="A column with no matching field fails the node (fail) or is reported in "
                                 "'unmatched' and skipped (skip)."),
               Param("timeout", "number", minimum=0, advanced=True,
                     description="Seconds to wait for the form and for each field (default: settings.browser.timeout).")],
       outputs=[Output("filled", "list", "The columns that were filled."),
                Output("unmatched", "list", "Columns without a field: {column, suggestion}."),
                Output("fields", "list", "Labels of every field found on the page.")],
       aliases=("form", "fill from row", "data entry", "autofill", "spreadsheet to form"))
def fill_form(ctx, record, labels, ignore, form, submit, unmatched, timeout):
    """Fills text fields, text areas, drop-downs, checkboxes and radio buttons from a record by
    matching each column to a field label, however the form is laid out today."""
    skip = {str(c) for c in (ignore or [])}
    items = [(str(k), v) for k, v in (record or {}).items() if str(k) not in skip]
    labels = labels or {}
    form_parts = parse(form) if form else None
    submit_parts = parse(submit) if submit else None
    ms = _ms(timeout)
    session_of(ctx)

    def work(s):
        page = s.current()
        root = locate(page, form_parts) if form_parts else page
        scope = root.locator("input, select, textarea").first
        s.waiting(lambda t: scope.wait_for(state="attached", timeout=t), ms)
        fields = (root.evaluate(_COLLECT_JS) if form_parts else page.evaluate(_COLLECT_JS, None))
        labelled = _read_labels(fields)
        matched, missing = match_fields([k for k, _ in items], fields, labels)
        if missing and unmatched != "skip":
            return {"fields": [_label(f) for f in fields], "missing": missing, "filled": [], "problems": [],
                    "labelled": labelled}
        problems, filled = [], []
        for column, value in items:
            f = matched.get(column)
            if f is None:
                continue
            problem = _fill_one(s, page, f, value, ms)
            if problem:
                problems.append(f"'{column}' (field '{_label(f)}'): {problem}")
            else:
                filled.append(column)
        if problems:
            raise Failure("fill", "some values do not fit their fields: " + "; ".join(problems), url=page.url, screenshot=s.screenshot())
        if submit_parts:
            locate(page, submit_parts).click(timeout=ms)
        return {"fields": [_label(f) for f in fields], "missing": missing, "filled": filled, "problems": [],
                "labelled": labelled}

    result = run_on_page(ctx, work, parts=form_parts, action="fill the form", timeout=timeout)
    missing = result["missing"]
    for m in missing:
        m["suggestion"] = m["suggestion"][0] if m["suggestion"] else None
    if missing and unmatched != "skip":
        what = []
        for m in missing:
            hint = (" (several fields have that label)" if m["ambiguous"] else
                    f" (did you mean '{m['suggestion']}'?)" if m["suggestion"] else " (no similar label)")
            what.append(f"'{m['column']}'{hint}")
        png = session_of(ctx).run(ctx, lambda s: s.screenshot())
        shot = ctx.artifact(png, name=f"{ctx.seq:05d}-{ctx.node_id}-failure.png", kind="screenshot") if png else None
        raise NodeError(f"{len(missing)} column(s) match no field of the form: {', '.join(what)}", kind="not_found",
                        details={"unmatched": missing, "fields": result["fields"],
                                 "screenshot": str(shot) if shot else None},
                        fix=f"the form's labels are: {result['labelled']}; rename the column, map it "
                            "with the 'labels' parameter, list it in 'ignore', or set unmatched to skip"
                            + (f" (screenshot of the page: {shot})" if shot else ""))
    for m in missing:
        ctx.log(f"column '{m['column']}' matches no field" + (f" (did you mean '{m['suggestion']}'?)"
                                                              if m["suggestion"] else ""), "warning")
    return {"filled": result["filled"], "unmatched": [{"column": m["column"], "suggestion": m["suggestion"]}
                                                       for m in missing],
            "fields": result["fields"]}
