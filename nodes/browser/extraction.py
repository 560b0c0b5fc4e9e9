"""Browser nodes that read the page: text, attributes, HTML and ARIA tables, repeated items."""

from __future__ import annotations

import re
from typing import Any

from botloom.runner.sdk import NodeError, Output, Param

from .base import _ms, _node, _with_target, target_param, timeout_param


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
               timeout_param()],
       outputs=[Output("rows", "table", "One object per row, keyed by column name."),
                Output("columns", "list"), Output("count", "integer")],
       aliases=("scrape table", "html table", "grid", "read table"))
def extract_table(ctx, target, header, infer_types, timeout):
    """Reads an HTML table into a table of rows (column names from its header)."""
    target = target or "table"
    data = _with_target(ctx, target, "read the table",
                        lambda s, loc: loc.evaluate(_TABLE_JS, bool(header), timeout=_ms(timeout)), timeout)
    rows = data["rows"]
    width = max([len(r) for r in rows] + [len(data["columns"] or [])] + [0])
    columns = unique_columns(data["columns"] or [], width)
    table = []
    for cells in rows:
        values = [(_infer(c) if infer_types else c) for c in cells] + [None] * (width - len(cells))
        table.append(dict(zip(columns, values)))
    return {"rows": table, "columns": columns, "count": len(table)}


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
               timeout_param()],
       outputs=[Output("rows", "table", "One object per item."), Output("count", "integer")],
       aliases=("scrape list", "cards", "repeated", "search results"))
def extract_list(ctx, items, fields, wait, timeout):
    """Reads repeated elements (search results, product cards) into a table, one row per item."""
    if not fields:
        raise NodeError("no fields to read from each item", kind="bad_input",
                        fix='give fields such as {"name": ".title", "link": "a@href"}')

    def op(s, loc):
        if wait:
            s.waiting(lambda t: loc.first.wait_for(state="attached", timeout=t), _ms(timeout))
        return loc.evaluate_all(_LIST_JS, {str(k): str(v) for k, v in fields.items()})

    try:
        rows = _with_target(ctx, items, "read the items", op, timeout)
    except NodeError as exc:
        if "css.escape" in exc.message.lower() or "is not a valid selector" in exc.message:
            exc.kind, exc.fix = "bad_input", "check the CSS selectors in 'fields'"
        raise
    return {"rows": rows, "count": len(rows)}
