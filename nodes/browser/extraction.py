"""Browser nodes that read the page: text, attributes, HTML and ARIA tables, repeated items."""

from __future__ import annotations

import re
from typing import Any

from botloom.runner.sdk import NodeError, Output, Param

from .base import _ms, _node, _with_target, target_param, timeout_param
from .session import Failure
from .targets import locate, parse


_TEXT_JS = """el => {
  const t = el.tagName;
  if (t === 'INPUT' || t === 'TEXTAREA') return el.value;
  if (t === 'SELECT') return [...el.selectedOptions].map(o => o.textContent.trim()).join(', ');
  return (el.innerText !== undefined ? el.innerText : el.textContent).replace(/\\s+/g, ' ').trim();
}"""


@_node("browser.get_text", title="Get text", icon="text",
       params=[target_param(description="The element to read (a field gives its value)."),
               Param("all", "boolean", default=False,
                     description="Read every matching element into 'texts' (no error when none matches)."),
               timeout_param()],
       outputs=[Output("text", "string", "The text (the first match when 'all' is on)."),
                Output("texts", "list", "Texts of every match."), Output("count", "integer")],
       aliases=("read text", "scrape", "extract text", "inner text", "value"))
def get_text(ctx, target, all, timeout):
    """Reads the visible text of an element (or the value of a field)."""
    if all:
        texts = _with_target(ctx, target, "read", lambda s, loc: loc.evaluate_all(f"els => els.map({_TEXT_JS})"), timeout)
        return {"text": texts[0] if texts else "", "texts": texts, "count": len(texts)}
    text = _with_target(ctx, target, "read", lambda s, loc: loc.evaluate(_TEXT_JS, timeout=_ms(timeout)), timeout)
    return {"text": text, "texts": [text], "count": 1}


@_node("browser.get_attribute", title="Get attribute", icon="text",
       params=[target_param(), Param("name", "string", required=True, placeholder="href",
                                     description="The attribute's name (href, src, value, data-id ...)."),
               Param("all", "boolean", default=False, description="Read it from every matching element."),
               timeout_param()],
       outputs=[Output("value", "any", "The value (null when the element has no such attribute)."),
                Output("values", "list")],
       aliases=("href", "link", "src", "data attribute"))
def get_attribute(ctx, target, name, all, timeout):
    """Reads an attribute of an element."""
    if all:
        values = _with_target(ctx, target, "read",
                              lambda s, loc: loc.evaluate_all("(els, n) => els.map(e => e.getAttribute(n))", name), timeout)
        return {"value": values[0] if values else None, "values": values}
    value = _with_target(ctx, target, "read", lambda s, loc: loc.get_attribute(name, timeout=_ms(timeout)), timeout)
    return {"value": value, "values": [value]}


_TABLE_JS = """(el, header) => {
  const clean = s => (s || '').replace(/\\s+/g, ' ').trim();
  let table = el;
  const isAria = e => ['table', 'grid', 'treegrid'].includes(e.getAttribute('role'));
  if (el.tagName !== 'TABLE' && !isAria(el)) table = el.querySelector('table, [role=table], [role=grid]') || el;
  let rows;
  if (table.tagName === 'TABLE') {
    rows = [...table.rows].map(r => ({head: r.parentElement.tagName === 'THEAD' || [...r.cells].every(c => c.tagName === 'TH'),
                                      cells: [...r.cells].flatMap(c => Array(Math.max(1, c.colSpan || 1)).fill(clean(c.innerText)))}));
  } else {
    rows = [...table.querySelectorAll('[role=row]')].map(r => {
      const cells = [...r.querySelectorAll('[role=cell], [role=gridcell], [role=columnheader], [role=rowheader]')];
      return {head: cells.length > 0 && cells.every(c => c.getAttribute('role') === 'columnheader'),
              cells: cells.map(c => clean(c.innerText))};
    });
  }
  rows = rows.filter(r => r.cells.length > 0);
  let columns = null;
  if (header && rows.length) {
    const heads = rows.filter(r => r.head);
    const h = heads.length ? heads[heads.length - 1] : rows[0];
    columns = h.cells;
    rows = rows.filter(r => !r.head && r !== h);
  }
  return {columns, rows: rows.map(r => r.cells)};
}"""

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _infer(text: str) -> Any:
    t = text.replace(",", "") if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", text) else text
    if _NUMBER.match(t):
        return float(t) if "." in t else int(t)
    return text


def paging_params() -> list[Param]:
    return [Param("next", "string", placeholder='role=link[name="Next"], css=.pagination .next',
                  description="Follow this 'next page' link or button and read every page (empty: this page only). "
                              "Reading stops at the last page: when the target is gone, hidden or disabled."),
            Param("max_pages", "integer", default=10, minimum=1,
                  description="Read at most this many pages.")]


def _pages(s, loc, read, next_parts, max_pages: int, timeout_ms: float | None) -> tuple[list, int]:
    """On the browser thread: ``read()`` on this page, then after each click on the next-page
    target, until it is gone, disabled or ``max_pages`` pages were read. After a click, waits
    until what the target matches (the table, the items) reads differently."""
    results, pages = [read()], 1
    while next_parts is not None and pages < max_pages:
        page = s.current()
        nxt = locate(page, next_parts)
        if nxt.count() == 0 or not nxt.first.is_visible() or not nxt.first.is_enabled() \
                or (nxt.first.get_attribute("aria-disabled") or "").lower() == "true":
            break
        before = _fingerprint(loc)
        nxt.first.click(timeout=timeout_ms)
        try:
            s.waiting(lambda t: _changed(s, loc, before, t), timeout_ms)
        except s.errors.TimeoutError:
            raise Failure("waited", f"page {pages + 1} did not show new content after clicking the next-page target "
                                    "(the same content stayed)", url=page.url, screenshot=s.screenshot()) from None
        results.append(read())
        pages += 1
    return results, pages


def _fingerprint(loc) -> str:
    try:
        return "\n".join(loc.evaluate_all("els => els.map(e => e.innerText)"))
    except Exception:
        return ""


def _changed(s, loc, before: str, slice_ms: float) -> None:
    """Wait up to ``slice_ms`` for the content to differ from ``before``; TimeoutError otherwise."""
    import time

    end = time.monotonic() + slice_ms / 1000
    while True:
        now = _fingerprint(loc)
        if now and now != before:
            return
        if time.monotonic() >= end:
            raise s.errors.TimeoutError("content did not change")
        loc.page.wait_for_timeout(30)


def unique_columns(names: list[str], width: int) -> list[str]:
    out: list[str] = []
    for i in range(width):
        base = (names[i] if i < len(names) else "") or f"column{i + 1}"
        name, n = base, 2
        while name in out:
            name, n = f"{base}_{n}", n + 1
        out.append(name)
    return out


@_node("browser.extract_table", title="Extract table", icon="table",
       params=[target_param(required=False, description="The table (or an element around it); empty: the first "
                                                        "table of the page. ARIA tables (role=table/grid) work too."),
               Param("header", "boolean", default=True,
                     description="The header row (<th> cells or the first row) names the columns."),
               Param("infer_types", "boolean", default=False,
                     description="Turn cells that hold plain numbers into numbers."),
               *paging_params(),
               timeout_param()],
       outputs=[Output("rows", "table", "One object per row, keyed by column name (the rows of every page read)."),
                Output("columns", "list"), Output("count", "integer"), Output("pages", "integer", "Pages read.")],
       aliases=("scrape table", "html table", "grid", "read table"))
def extract_table(ctx, target, header, infer_types, next, max_pages, timeout):
    """Reads an HTML table into a table of rows (column names from its header); with 'next',
    the same table on every following page too, one table of all their rows."""
    target = target or "table"
    next_parts = parse(next) if next else None

    def op(s, loc):
        return _pages(s, loc, lambda: loc.evaluate(_TABLE_JS, bool(header), timeout=_ms(timeout)),
                      next_parts, int(max_pages or 1), _ms(timeout))

    pages, count = _with_target(ctx, target, "read the table", op, timeout)
    data = {"columns": pages[0]["columns"], "rows": [r for p in pages for r in p["rows"]]}
    rows = data["rows"]
    width = max([len(r) for r in rows] + [len(data["columns"] or [])] + [0])
    columns = unique_columns(data["columns"] or [], width)
    table = []
    for cells in rows:
        values = [(_infer(c) if infer_types else c) for c in cells] + [None] * (width - len(cells))
        table.append(dict(zip(columns, values)))
    return {"rows": table, "columns": columns, "count": len(table), "pages": count}


_LIST_JS = """(items, fields) => items.map(item => {
  const row = {};
  for (const [name, spec] of Object.entries(fields)) {
    let sel = String(spec || '').trim(), attr = null;
    const at = sel.lastIndexOf('@');
    if (at >= 0 && !sel.slice(at).includes(']')) { attr = sel.slice(at + 1).trim(); sel = sel.slice(0, at).trim(); }
    const el = sel ? item.querySelector(sel) : item;
    if (!el) { row[name] = null; continue; }
    if (attr) row[name] = el.getAttribute(attr);
    else if (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') row[name] = el.value;
    else row[name] = (el.innerText || el.textContent || '').replace(/\\s+/g, ' ').trim();
  }
  return row;
})"""


@_node("browser.extract_list", title="Extract list", icon="table",
       params=[Param("items", "string", required=True, placeholder=".product, css=#results li",
                     description="A target matching each repeated item (a card, a list entry, a row)."),
               Param("fields", "object", required=True,
                     description='Column name to a CSS selector inside the item, e.g. {"name": ".title", '
                                 '"price": ".price", "link": "a@href"}; "@attr" reads an attribute, an empty '
                                 "selector means the item itself."),
               Param("wait", "boolean", default=True,
                     description="Wait for the first item to appear (false: an empty table when there is none)."),
               *paging_params(),
               timeout_param()],
       outputs=[Output("rows", "table", "One object per item (of every page read)."), Output("count", "integer"),
                Output("pages", "integer", "Pages read.")],
       aliases=("scrape list", "cards", "repeated", "search results"))
def extract_list(ctx, items, fields, wait, next, max_pages, timeout):
    """Reads repeated elements (search results, product cards) into a table, one row per item."""
    if not fields:
        raise NodeError("no fields to read from each item", kind="bad_input",
                        fix='give fields such as {"name": ".title", "link": "a@href"}')

    next_parts = parse(next) if next else None

    def op(s, loc):
        if wait:
            s.waiting(lambda t: loc.first.wait_for(state="attached", timeout=t), _ms(timeout))
        spec = {str(k): str(v) for k, v in fields.items()}
        return _pages(s, loc, lambda: loc.evaluate_all(_LIST_JS, spec), next_parts, int(max_pages or 1), _ms(timeout))

    try:
        pages, count = _with_target(ctx, items, "read the items", op, timeout)
        rows = [r for p in pages for r in p]
    except NodeError as exc:
        if "css.escape" in exc.message.lower() or "is not a valid selector" in exc.message:
            exc.kind, exc.fix = "bad_input", "check the CSS selectors in 'fields'"
        raise
    return {"rows": rows, "count": len(rows), "pages": count}
