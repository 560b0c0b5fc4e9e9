"""Line items of an invoice: the table header's words place the columns (description,
quantity, unit price, amount), rows below are items. Part of the extractor (``extract.py``)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from .engines import Word, union_box
from .extract import Item, _label_match, tidy
from .values import amounts_in, fmt_amount


COLUMN_KINDS = [  # (kind, pattern on one header word, lower case); first match wins
    ("unit_price", r"^(unit\s*price|einzelpreis|stückpreis|vk-?preis|ep|p\.?\s?u\.?|prix|price|preis|prijs|rate|tarif|"
                   r"cena|rate/unit)$"),
    ("quantity", r"^(qty|quantity|quantité|menge|anzahl|aantal|hoeveelheid|nombre|ilość|stk|hours|stunden|std|pcs)\.?$"),
    ("amount", r"^(amount|betrag|bedrag|montant|total|totaal|summe|zeilenbetrag|gesamtpreis|gesamt|wartość|"
               r"subtotal|line\s*total)$"),
    ("description", r"^(description|descr|beschreibung|omschrijving|désignation|designation|bezeichnung|"
                    r"leistung|product|produkt|title|nazwa|libellé|item|items|service|services|artikel|article|"
                    r"particulars|details|artikelbezeichnung|leistungsbeschreibung)$"),
]


_COLUMN_RES = [(kind, re.compile(pattern)) for kind, pattern in COLUMN_KINDS]


def _header_columns(row: list[Item]):
    """[kind, x0, x1] columns of a table header row from its words, left to right, or None when
    it is not a header (fewer than two of description, quantity, price, amount)."""
    words = []
    for it in sorted(row, key=lambda it: it.line.box[0]):
        for wd in (it.line.words or [Word(it.line.text, it.line.box, it.line.confidence)]):
            words.append((wd.text.strip(" :.").lower(), wd.box[0], wd.box[0] + wd.box[2]))
    cols: list[list] = []
    for i, (w, x0, x1) in enumerate(words):
        if not w:
            continue
        kind = next((k for k, pattern in _COLUMN_RES if pattern.match(w)), "other")
        if kind == "other" and w == "unit" and i + 1 < len(words) and re.match(r"pri|rate|cost", words[i + 1][0]):
            kind = "unit_price"
        if kind == "other" and w == "unit" and i > 0 and words[i - 1][0] in ("per", "/"):
            kind = "join"
        prev = cols[-1] if cols else None
        near = prev is not None and x0 - prev[2] < 1.2 * max(1, (x1 - x0) / max(1, len(w))) * 2.5
        # "Unit Price", "Montant HT", "Prijs per stuk", "Prix (EUR)": one column's words
        qualified = i > 0 and re.match(r"^(incl|inkl|excl|exkl|ohne|zzgl|plus|before|after|per)$", words[i - 1][0])
        if prev is not None and near and (kind in ("other", "join") or kind == prev[0]) and prev[0] != "other" and (
                qualified or not re.match(r"^(tax|vat|btw|mwst|ust|tva|disc|rabatt|korting|remise|%)", w)):
            prev[2] = x1
            continue
        if prev is not None and near and prev[0] == "other" and kind != "other" and prev[3] in ("unit", "net", "netto"):
            prev[0] = kind
            prev[2] = x1
            continue
        cols.append([kind if kind != "join" else "other", x0, x1, w])
    kinds = [c[0] for c in cols]
    if len({k for k in kinds if k != "other"}) < 2:
        return None
    # two price columns and no amount column: the second is the line's amount ("Prijs incl. BTW")
    if "amount" not in kinds and kinds.count("unit_price") >= 2:
        cols[len(kinds) - 1 - kinds[::-1].index("unit_price")][0] = "amount"
    # several amount columns ("Montant HT" ... "Montant TTC"): the rightmost is the line's amount
    amounts = [c for c in cols if c[0] == "amount"]
    for c in amounts[:-1]:
        c[0] = "amount_other"
    if not any(c[0] in ("amount", "unit_price") for c in cols):
        return None
    merged: list[list] = []
    for c in cols:
        if merged and merged[-1][0] == c[0] == "description":
            merged[-1][2] = c[2]
        else:
            merged.append(c[:3])
    return merged


def _cells(row: list[Item], cols) -> dict:
    """The row's text per column kind: a text box starting in the description column goes there
    whole; other boxes are split into words, each to the column whose span holds its centre
    (spans reach halfway to the neighbouring columns)."""
    bounds = []
    for i, (kind, x0, x1) in enumerate(cols):
        left = -1e9 if i == 0 else (cols[i - 1][2] + x0) / 2
        right = 1e9 if i == len(cols) - 1 else (x1 + cols[i + 1][1]) / 2
        bounds.append((kind, left, right))
    out: dict[str, list[str]] = {}

    def column_at(x):
        return next((k for k, lo, hi in bounds if lo <= x < hi), bounds[-1][0])

    for it in sorted(row, key=lambda it: it.line.box[0]):
        x, _, w, _ = it.line.box
        if column_at(x) == "description" and re.search(r"[A-Za-zÄÖÜäöüß]{2,}", it.line.text):
            out.setdefault("description", []).append(it.line.text)
            continue
        for wd in (it.line.words or [Word(it.line.text, it.line.box, it.line.confidence)]):
            out.setdefault(column_at(wd.box[0] + wd.box[2] / 2), []).append(wd.text)
    return {k: tidy(" ".join(v)) for k, v in out.items()}


def _rows(items: list[Item]) -> list[list[Item]]:
    """Items grouped into rows: on one page, vertical centres within half a line height."""
    rows: list[list[Item]] = []
    for it in items:
        cy = it.line.box[1] + it.line.box[3] / 2
        if rows and rows[-1][0].page == it.page and abs(
                cy - (rows[-1][0].line.box[1] + rows[-1][0].line.box[3] / 2)) <= 0.5 * it.line.box[3]:
            rows[-1].append(it)
        else:
            rows.append([it])
    return rows


def _line_items(items: list[Item], f: dict) -> list[dict]:
    """Line items from a table: the header row's words (description, quantity, unit price,
    amount in English, German, Dutch, French) place the columns; every row below with an amount
    or a price is an item, text-only rows just under an item are its ``details`` (a description
    over several lines), other total/subtotal rows are skipped; the table ends at the document's
    subtotal, tax or total. Tables continued on later pages under a repeated header are read too.
    Falls back on reading each row's text when no header's columns can be placed."""
    rows = _rows(items)
    out: list[dict] = []
    found_header = False
    net_amounts: list[int] = []  # pages whose table header says its amounts are net ("Ohne MwSt.", "HT")
    for page in sorted({r[0].page for r in rows}):
        page_rows = [r for r in rows if r[0].page == page]
        at = next(((i, cols) for i, r in enumerate(page_rows) if (cols := _header_columns(r))), None)
        if at is None:
            continue
        found_header = True
        header_at, cols = at
        head = [page_rows[header_at]] + [r for r in page_rows[header_at + 1:header_at + 3]
                                          if not any(re.search(r"\d", it.line.text) for it in r)]
        if re.search(r"ohne\s*mwst|excl|exkl|netto|\bnet\b|\bht\b|zzgl|before\s*tax|zonder\s*btw",
                     " ".join(it.line.text for r in head for it in r), re.IGNORECASE):
            net_amounts.append(page)
        header_y = page_rows[header_at][0].line.box[1]
        page_h = max(it.line.box[1] + it.line.box[3] for r in page_rows for it in r)
        stop_y = page_h * 0.92  # the page footer is not part of the table
        for name in ("subtotal", "total", "tax"):
            if name in f and f[name].page == page and f[name].box and f[name].box[1] > header_y:
                stop_y = min(stop_y, f[name].box[1] - 2)
        current = None
        for row in page_rows[header_at + 1:]:
            y = min(it.line.box[1] for it in row)
            h = max(it.line.box[3] for it in row)
            if y >= page_h * 0.92:
                break
            if _header_columns(row):
                continue
            cells = _cells(row, cols)
            text = "  ".join(it.line.text for it in sorted(row, key=lambda it: it.line.box[0]))
            amount = amounts_in(cells.get("amount", ""))
            price = amounts_in(cells.get("unit_price", ""))
            if not price and re.fullmatch(r"\s*[$€£]?\s*\d+\s*", cells.get("unit_price", "")):
                price = [(Decimal(re.sub(r"\D", "", cells["unit_price"])), 0, 0)]
            description = re.sub(r"^\s*\d{1,3}\s+(?=\D)", "", cells.get("description", "")).strip(" :-|")
            labelled = _label_match(text, "total")[0] or _label_match(text, "subtotal")[0]
            # the table ends at the document's subtotal, tax or total (an item row may hold the tax
            # column's value: that row is still an item)
            if y >= stop_y and (labelled or _label_match(text, "tax")[0] or
                                not re.search(r"[A-Za-zÄÖÜäöü]{2,}", description)):
                break
            if (amount or price) and not labelled and re.search(r"[A-Za-zÄÖÜäöü]{2,}", description):
                qty = None
                q = re.search(r"(?<![\d.,])(\d+(?:[.,]\d+)?)(?![\d])", cells.get("quantity", ""))
                if q:
                    try:
                        qty = Decimal(q.group(1).replace(",", "."))
                    except InvalidOperation:
                        qty = None
                amt = amount[-1][0] if amount else None
                unit = price[0][0] if price else None
                if amt is None and unit is not None:
                    amt = unit * qty if qty is not None else unit
                if unit is None and amt is not None and qty:
                    unit = (amt / qty).quantize(Decimal("0.01"))
                conf = 0.8
                if qty is not None and unit is not None and abs(qty * unit - amt) <= Decimal("0.02"):
                    conf = 0.92
                current = {"description": " ".join(description.split()),
                           "quantity": format(qty.normalize(), "f") if qty is not None else None,
                           "unit_price": fmt_amount(unit) if unit is not None else None,
                           "amount": fmt_amount(amt),
                           "confidence": round(conf * (0.6 + 0.4 * min(it.line.confidence for it in row)), 3),
                           "box": list(union_box(it.line.box for it in row)), "page": page, "details": [],
                           "_bottom": y + h, "_h": h, "_x": min(it.line.box[0] for it in row)}
                code = re.match(r"^(\[[^\]\s]{2,}\]|\*[^*\s]{2,}\*|(?=[A-Z0-9_./-]*\d)[A-Z0-9_./-]{5,})\s+(?=\S*[A-Za-z])",
                                current["description"])
                if code:  # "[FURN_7777] Office Chair", "E103184 Onderhoudsset": the article code apart
                    current["code"] = code.group(1).strip("[]*")
                    current["description"] = current["description"][code.end():]
                out.append(current)
            elif (current is not None and current["page"] == page and not amount and not labelled
                  and y - current["_bottom"] <= 1.3 * max(h, current["_h"])
                  and min(it.line.box[0] for it in row) >= current["_x"] - h):
                current["details"].append(" ".join(text.split()))  # the description's next line
                current["_bottom"] = y + h
            else:
                current = None
    if not found_header:
        return _line_items_by_text(items, f), False
    for item in out:
        for key in ("_bottom", "_x", "_h"):
            item.pop(key, None)
    return out, bool(out) and all(item["page"] in net_amounts for item in out)


def _line_items_by_text(items: list[Item], f: dict) -> list[dict]:
    """Rows between a table header (description/qty/price/amount words) and the totals, read
    from each row's text: the fallback when the header's columns cannot be placed."""
    rows = _rows(items)
    header_at = None
    for i, row in enumerate(rows):
        low = " ".join(it.line.text for it in row).lower()
        hits = sum(bool(re.search(p, low)) for p in (
            r"descr|beschreibung|artikel|item|bezeichnung|omschrijving|leistung|product|produkt|service",
            r"qty|quantity|menge|anzahl|aantal|stk",
            r"price|preis|prijs|rate|unit",
            r"amount|betrag|total|summe|bedrag"))
        if hits >= 2:
            header_at = i
            break
    if header_at is None:
        return []
    header = rows[header_at][0]
    stop_y = None
    for name in ("subtotal", "total", "tax"):
        if name in f and f[name].page == header.page and f[name].box[1] > header.line.box[1]:
            y = f[name].box[1]
            stop_y = y if stop_y is None else min(stop_y, y)
    rows = [r for r in rows[header_at + 1:] if r[0].page == header.page
            and (stop_y is None or r[0].line.box[1] < stop_y - 2)]
    out = []
    for row in rows:
        row.sort(key=lambda it: it.line.box[0])
        text = "  ".join(it.line.text for it in row)
        if _label_match(text, "total")[0] or _label_match(text, "subtotal")[0]:
            break
        amounts = amounts_in(text)
        if not amounts:
            continue
        first_amount_at = amounts[0][1]
        desc_part = text[:first_amount_at]
        qty = None
        m = re.search(r"(?:^|\s)(\d+(?:[.,]\d+)?)\s*(?:x|stk\.?|pcs|units?|kg|l|g)?\s*$", desc_part, re.IGNORECASE)
        if m:
            try:
                qty = Decimal(m.group(1).replace(",", "."))
                desc_part = desc_part[:m.start()]
            except InvalidOperation:
                qty = None
        description = re.sub(r"^\s*\d{1,3}\s+(?=\D)", "", desc_part).strip(" :-|")
        if not re.search(r"[A-Za-zÄÖÜäöü]{2,}", description):
            continue
        amount = amounts[-1][0]
        unit = amounts[-2][0] if len(amounts) >= 2 else (amount / qty if qty else amount)
        conf = 0.75
        if qty is not None and abs(qty * unit - amount) <= Decimal("0.02"):
            conf = 0.92
        out.append({"description": " ".join(description.split()), "quantity": format(qty.normalize(), "f") if qty is not None else None,
                    "unit_price": fmt_amount(unit), "amount": fmt_amount(amount),
                    "confidence": round(conf * (0.6 + 0.4 * min(it.line.confidence for it in row)), 3),
                    "box": list(union_box(it.line.box for it in row)), "page": header.page})
    return out
