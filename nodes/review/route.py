"""``review.route``: review for doubtful items, straight through for clear ones.

The user chooses the fields that matter (``check``): only those are held to the confidence
threshold (``thresholds`` per field), so a field nobody asked for never sends a document to a
person. Rules add reasons of their own:

- a comparison of a field with a value, ``total > 5000``, ``currency != EUR``,
  ``vendor in [Acme, Globex]`` (fields by name; numbers compare as numbers, decimal text too);
  or ``{"when": "{{ expression }}", "reason": "..."}`` for anything an expression can say;
- ``vendor_master``: a CSV whose ``vendor_column`` (default: the first) lists the known vendors;
  ``vendor_field`` not in it (compared without case and spacing) is a reason;
- ``reference_field``: a value this bot has routed before, in another run or another item,
  is a duplicate. The references are kept in the data folder (``review/references.sqlite``), per
  bot, with the run and step that saw each first, so a step run again is not its own duplicate.

Leaves through ``review`` or ``straight`` with ``reasons`` (one line each), ``values`` (field ->
value) and ``fields``, the list ``review.task`` takes: the fields that have a value, and every
chosen field (required, so a missing one is filled in by the reviewer).
"""

from __future__ import annotations

import csv
import re
import sqlite3
import time
from decimal import Decimal, InvalidOperation

from botloom.runner.sdk import NodeError, Next, Output, Param, data_dir, node, not_found, os_failure

from .form import as_list, guess_type

RULE = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(>=|<=|==|!=|>|<|=|\s+not in\s+|\s+in\s+)\s*([^<>=!\s].*?)\s*$")
MAX_MASTER_BYTES = 50_000_000


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            return None
    return None


def _compare(left, op: str, right_text: str) -> bool:
    if op in ("in", "not in"):
        items = [s.strip().strip("'\"").casefold() for s in right_text.strip("[]()").split(",")]
        found = str(left).casefold() in items
        return found if op == "in" else not found
    right_text = right_text.strip("'\"")
    a, b = _number(left), _number(right_text)
    if a is None or b is None:
        a, b = ("" if left is None else str(left)).casefold(), right_text.casefold()
        if op not in ("==", "=", "!="):
            return False  # no order between text and a number
    return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b, "==": a == b, "=": a == b, "!=": a != b}[op]


def _rule_reasons(rules, values: dict, where: str) -> list[str]:
    reasons = []
    for i, rule in enumerate(rules or ()):
        at = f"{where}, parameter 'rules', item {i + 1}"
        if isinstance(rule, dict):
            if set(rule) - {"when", "reason"}:
                raise NodeError("a rule object has 'when' and 'reason'", kind="bad_input", where=at,
                                fix="write {\"when\": \"{{ values.total > 5000 }}\", \"reason\": \"large amount\"}")
            if rule.get("when"):
                reasons.append(str(rule.get("reason") or f"rule {i + 1}"))
            continue
        match = RULE.match(str(rule))
        if match is None:
            raise NodeError(f"cannot read the rule {str(rule)!r}", kind="bad_input", where=at,
                            fix="write FIELD OP VALUE, e.g. total > 5000, currency != EUR, vendor in [A, B]; or "
                                "{\"when\": \"{{ expression }}\", \"reason\": \"...\"}")
        name, op, right = match.group(1), match.group(2).strip(), match.group(3)
        if name not in values:
            raise NodeError(f"the rule {rule!r} names the field '{name}', which the item does not have",
                            kind="bad_input", where=at, fix=f"its fields: {', '.join(values) or '(none)'}")
        if _compare(values[name], op, right):
            reasons.append(f"{name} {op} {right} ({name} is {values[name]})")
    return reasons


def _normal(text) -> str:
    return re.sub(r"[\W_]+", "", str(text or "")).casefold()


def _vendor_reason(ctx, master, column, vendor) -> str | None:
    path = ctx.path(master)
    if not path.exists():
        raise not_found(ctx, path, "vendor master")
    try:
        if path.stat().st_size > MAX_MASTER_BYTES:
            raise NodeError(f"the vendor master {path} is larger than {MAX_MASTER_BYTES // 1_000_000} MB",
                            kind="bad_input", fix="give a CSV of the vendors' names")
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except OSError as exc:
        raise os_failure(ctx, exc, path, "read") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise NodeError(f"cannot read the vendor master {path} as CSV: {exc}", kind="bad_input",
                        fix="save it as CSV in UTF-8, one vendor a row") from None
    if not rows:
        raise NodeError(f"the vendor master {path} is empty", kind="bad_input", fix="list the known vendors in it")
    header = rows[0]
    index = 0
    if column:
        if column not in header:
            raise NodeError(f"the vendor master {path} has no column '{column}'", kind="bad_input",
                            where=f"node '{ctx.node_id}', parameter 'vendor_column'",
                            fix=f"its columns: {', '.join(header)}")
        index = header.index(column)
    known = {_normal(r[index]) for r in rows[1:] if len(r) > index}
    if _normal(vendor) and _normal(vendor) in known:
        return None
    return f"vendor {vendor!r} is not in the vendor master" if vendor else "no vendor was found"


def _duplicate_reason(ctx, field: str, reference) -> str | None:
    if reference in (None, ""):
        return None
    key = str(reference).strip()
    db = sqlite3.connect(data_dir("review") / "references.sqlite", timeout=30, isolation_level=None)
    try:
        db.execute("CREATE TABLE IF NOT EXISTS refs (bot TEXT NOT NULL, field TEXT NOT NULL, ref TEXT NOT NULL, "
                   "run_id TEXT NOT NULL, seq INTEGER NOT NULL, at REAL NOT NULL, PRIMARY KEY (bot, field, ref))")
        db.execute("BEGIN IMMEDIATE")
        row = db.execute("SELECT run_id, seq, at FROM refs WHERE bot=? AND field=? AND ref=?",
                         (ctx.bot_name, field, key)).fetchone()
        if row is None:
            db.execute("INSERT INTO refs VALUES (?,?,?,?,?,?)", (ctx.bot_name, field, key, ctx.run_id, ctx.seq,
                                                                 time.time()))
        db.execute("COMMIT")
    finally:
        db.close()
    if row is None or (row[0] == ctx.run_id and row[1] == ctx.seq):
        return None
    seen = time.strftime("%Y-%m-%d %H:%M", time.localtime(row[2]))
    return f"duplicate {field} {key!r}: seen on {seen} in run {row[0]}"


@node("review.route", title="Route to review", category="Review", icon="route", ports=("review", "straight"),
      params=[Param("fields", "any", required=True,
                    description="The item's fields: the 'fields' output of Extract invoice fields (name -> "
                                "{value, confidence, box, page}), or a list of {name, value, confidence}."),
              Param("check", "list", default=[],
                    description="The fields whose confidence matters, e.g. [total, invoice_number]; a missing "
                                "one is a reason too. Empty: none."),
              Param("threshold", "number", default=0.7, minimum=0, maximum=1),
              Param("thresholds", "object", default={}, advanced=True,
                    description="A threshold per field, e.g. {\"total\": 0.9}."),
              Param("rules", "list", default=[],
                    description="e.g. [\"total > 5000\", \"currency != EUR\"], or {when, reason} objects."),
              Param("vendor_master", "path", default=None, path="open",
                    description="A CSV of the known vendors."),
              Param("vendor_column", "string", default="", advanced=True,
                    description="The master's column of names (default: the first)."),
              Param("vendor_field", "string", default="vendor"),
              Param("reference_field", "string", default="",
                    description="A field that must not repeat, e.g. invoice_number: seen before in this "
                                "bot's history, it is a duplicate.")],
      outputs=[Output("reasons", "list", "Why the item goes to review, one line each (empty: straight through)."),
               Output("values", "object", "Field -> value."),
               Output("fields", "list", "The fields as Human review takes them.")],
      aliases=("triage", "confidence check", "business rules", "duplicate check", "straight through"))
def route(ctx, fields, check, threshold, thresholds, rules, vendor_master, vendor_column, vendor_field,
          reference_field):
    """Leaves by `review` when a chosen field's confidence is below its threshold or a rule fires,
    by `straight` otherwise, with the reasons."""
    where = f"node '{ctx.node_id}'"
    items = as_list(fields, where)
    by_name = {str(f.get("name")): f for f in items if isinstance(f, dict)}
    values = {name: f.get("value") for name, f in by_name.items()}
    reasons = []
    for name in check or ():
        limit = float((thresholds or {}).get(name, threshold))
        field = by_name.get(name)
        if field is None or field.get("value") in (None, ""):
            reasons.append(f"{name} was not found")
            continue
        confidence = field.get("confidence")
        if confidence is not None and float(confidence) < limit:
            shown = f"{float(confidence):.2f}"
            if shown == f"{limit:.2f}":  # 0.949 against 0.95: say it with the digits that differ
                shown = f"{float(confidence):.4f}".rstrip("0")
            reasons.append(f"{name} confidence {shown} is below {limit:.2f}")
    reasons += _rule_reasons(rules, values, where)
    if vendor_master:
        reason = _vendor_reason(ctx, vendor_master, vendor_column, values.get(vendor_field))
        if reason:
            reasons.append(reason)
    if reference_field:
        reason = _duplicate_reason(ctx, reference_field, values.get(reference_field))
        if reason:
            reasons.append(reason)
    chosen = set(check or ())
    form = [{"name": name, "type": f.get("type") or guess_type(f.get("value")), "value": f.get("value"),
             "confidence": f.get("confidence"), "box": f.get("box"), "page": f.get("page"),
             "required": name in chosen}
            for name, f in by_name.items() if name in chosen or f.get("value") not in (None, "")]
    form += [{"name": name, "type": "string", "value": None, "confidence": 0.0, "required": True}
             for name in check or () if name not in by_name]  # asked for, not found: the person fills it in
    for reason in reasons:
        ctx.log(f"to review: {reason}")
    return Next("review" if reasons else "straight", {"reasons": reasons, "values": values, "fields": form})
