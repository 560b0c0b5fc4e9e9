"""Evaluation of OCR engines and of the field extractor on a folder of documents with ground truth.

Layouts read (see docs/ocr.md, "Evaluating on your own documents"):

1. Botloom's own: ``NAME.pdf|png|jpg|tif|txt`` with ``NAME.json`` beside it holding the expected
   fields (``vendor``, ``invoice_number``, ``invoice_date``, ``due_date``, ``currency``,
   ``subtotal``, ``tax``, ``total``) and optionally ``NAME.gt.txt``, the page's text, for CER.
2. invoice2data's ``tests/compare`` (``NAME.json`` is a list with one object: ``issuer``,
   ``invoice_number``, ``date``, ``date_due``, ``amount``, ``amount_untaxed``, ``amount_tax``,
   ``currency``); other keys are ignored.
3. SROIE: ``img/NAME.jpg``, ``key/NAME.json`` (``company``, ``date``, ``address``, ``total``) and
   ``box/NAME.csv`` (``x1,y1,...,x4,y4,TEXT`` per line: the OCR ground truth).

For OCR, the reference text is ``NAME.gt.txt``, the SROIE box file, or, for a digital PDF, its
own text layer (the page is rendered and OCR'd, then compared with what the PDF says).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .engines import Line, reading_order

DOC_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".txt")
MAP_INVOICE2DATA = {"issuer": "vendor", "invoice_number": "invoice_number", "date": "invoice_date",
                    "date_due": "due_date", "amount": "total", "amount_untaxed": "subtotal", "amount_tax": "tax",
                    "currency": "currency"}
MAP_SROIE = {"company": "vendor", "date": "invoice_date", "address": "address", "total": "total"}
OWN = ("vendor", "invoice_number", "invoice_date", "due_date", "currency", "subtotal", "tax", "total", "address",
       "buyer")
SROIE_FIELDS = ("vendor", "invoice_date", "address", "total")  # SROIE's key information: company, date, address, total


@dataclass
class Doc:
    name: str
    path: Path
    fields: dict = field(default_factory=dict)   # our field name -> expected raw value
    reference: list | None = None                # list[Line] of the expected text, if known
    items: list | None = None                    # expected line items ({description, quantity, ...}), if known


def discover(folder: Path) -> list[Doc]:
    folder = Path(folder)
    docs: list[Doc] = []
    if (folder / "img").is_dir() and (folder / "key").is_dir():  # SROIE
        for img in sorted((folder / "img").iterdir()):
            if img.suffix.lower() not in DOC_SUFFIXES:
                continue
            doc = Doc(img.stem, img)
            key = folder / "key" / f"{img.stem}.json"
            if key.exists():
                raw = json.loads(key.read_text(encoding="utf-8"))
                doc.fields = {MAP_SROIE[k]: v for k, v in raw.items() if k in MAP_SROIE}
            box = folder / "box" / f"{img.stem}.csv"
            if box.exists():
                doc.reference = sroie_lines(box)
            docs.append(doc)
        return docs
    for gt in sorted(folder.glob("*.json")):
        source = None
        preference = (".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".txt", ".xml")
        for suffix in preference:
            if (folder / f"{gt.stem}{suffix}").exists():
                source = folder / f"{gt.stem}{suffix}"
                break
        if source is None:
            continue
        raw = json.loads(gt.read_text(encoding="utf-8"))
        if isinstance(raw, list):
            raw = raw[0] if raw else {}
        fields = {}
        for k, v in raw.items():
            if k in OWN:
                fields[k] = v
            elif k in MAP_INVOICE2DATA and MAP_INVOICE2DATA[k] not in fields:
                fields[MAP_INVOICE2DATA[k]] = v
        doc = Doc(gt.stem, source, fields, items=expected_items(raw))
        ref = folder / f"{gt.stem}.gt.txt"
        if ref.exists():
            doc.reference = [Line(t, (0, i * 20, 10 * len(t), 16), 1.0)
                             for i, t in enumerate(ref.read_text(encoding="utf-8").splitlines()) if t.strip()]
        docs.append(doc)
    return docs


def sroie_lines(path: Path) -> list[Line]:
    lines = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = raw.split(",", 8)
        if len(parts) < 9:
            continue
        try:
            xs = [int(float(parts[i])) for i in (0, 2, 4, 6)]
            ys = [int(float(parts[i])) for i in (1, 3, 5, 7)]
        except ValueError:
            continue
        x, y = min(xs), min(ys)
        lines.append(Line(parts[8].strip(), (x, y, max(xs) - x, max(ys) - y), 1.0))
    return lines


# ---------------------------------------------------------------- comparing values

def _alnum(text) -> str:
    return re.sub(r"[^0-9a-z]", "", str(text or "").casefold())


def expected_value(name: str, raw, date_order: str = "DMY"):
    from .values import find_currency, parse_amount, parse_date

    if raw is None or raw == "":
        return None
    if name in ("total", "subtotal", "tax"):
        if isinstance(raw, (int, float)):
            return Decimal(str(raw)).quantize(Decimal("0.01"))
        value = parse_amount(str(raw))
        if value is None:
            try:
                value = Decimal(str(raw).strip().lstrip("$€£"))
            except InvalidOperation:
                return None
        return value.quantize(Decimal("0.01"))
    if name in ("invoice_date", "due_date"):
        d = parse_date(str(raw), date_order)
        return d[0] if d else str(raw)
    if name == "currency":
        return find_currency(str(raw)) or str(raw).upper()
    return str(raw)


def matches(name: str, expected, predicted) -> bool:
    """Whether the extractor's value equals the expected one, both normalised. Names (vendor)
    match when, case-folded and reduced to letters and digits, one contains the other and the
    shorter is at least 60 % of the longer ("Coolblue B.V." = "COOLBLUE BV"); invoice numbers
    compare letters and digits only ("#BLR_WFLD2015" = "BLRWFLD2015")."""
    if predicted is None:
        return False
    if name in ("total", "subtotal", "tax"):
        try:
            return Decimal(str(predicted)).quantize(Decimal("0.01")) == expected
        except InvalidOperation:
            return False
    if name in ("vendor", "buyer"):
        a, b = _alnum(expected), _alnum(predicted)
        if not a or not b:
            return False
        short, long_ = sorted((a, b), key=len)
        return short in long_ and len(short) >= 0.6 * len(long_)
    if name == "invoice_number":
        return _alnum(expected) == _alnum(predicted)
    if name == "address":  # letters and digits, case-folded: SROIE's keys and receipts differ in commas and dots
        return bool(_alnum(expected)) and _alnum(expected) == _alnum(predicted)
    return str(expected) == str(predicted)


# ---------------------------------------------------------------- line items

ITEM_FIELDS = ("description", "quantity", "unit_price", "amount")
ITEM_KEYS = {"description": ("description", "name", "desc"), "quantity": ("quantity", "qty"),
             "unit_price": ("unit_price", "price_unit", "price"), "amount": ("amount", "price_subtotal")}


def expected_items(raw: dict) -> list[dict] | None:
    """Expected line items from ground truth: our own ``line_items`` ({description, quantity,
    unit_price, amount}) or invoice2data's ``lines`` ({name|desc, qty, price_unit|price,
    price_subtotal}; section headers and notes are not items). None when the file has none."""
    rows = raw.get("lines") if isinstance(raw.get("lines"), list) else raw.get("line_items")
    if not isinstance(rows, list):
        return None
    out = []
    for row in rows:
        if not isinstance(row, dict):
            continue
        item = {}
        for name, keys in ITEM_KEYS.items():
            value = next((row[k] for k in keys if row.get(k) not in (None, "")), None)
            if value is not None:
                item[name] = value
        if "description" in item:
            out.append(item)
    return out or None


def _tokens(text) -> list[str]:
    return re.findall(r"[0-9a-z]+", str(text or "").casefold())


def _token_f1(a, b) -> float:
    ta, tb = _tokens(a), _tokens(b)
    if not ta or not tb:
        return 0.0
    common = sum(min(ta.count(t), tb.count(t)) for t in set(ta))
    if not common:
        return 0.0
    p, r = common / len(tb), common / len(ta)
    return 2 * p * r / (p + r)


def description_matches(expected, item: dict) -> float:
    """How well a found item's description matches the expected one: the token F1 (words of
    letters and digits, case-folded) against its first line or against the first line with the
    lines printed under it (``details``), whichever is higher. A match is >= 0.8."""
    described = item.get("description") or ""
    full = " ".join([described] + list(item.get("details") or []))
    return max(_token_f1(expected, described), _token_f1(expected, full))


def compare_items(expected: list[dict], found: list[dict]) -> dict:
    """Per-field counts [right, expected] over the expected items: each expected item is paired
    with the found item whose description matches it best (each found item used once, pairs of
    match >= 0.8 only); an expected item without a pair misses all its fields."""
    pairs = sorted(((description_matches(e.get("description"), f), i, j) for i, e in enumerate(expected)
                    for j, f in enumerate(found)), reverse=True)
    taken_e, taken_f, paired = set(), set(), {}
    for score, i, j in pairs:
        if score < 0.8 or i in taken_e or j in taken_f:
            continue
        taken_e.add(i)
        taken_f.add(j)
        paired[i] = j
    counts = {name: [0, 0] for name in ITEM_FIELDS}
    misses = []
    for i, e in enumerate(expected):
        f = found[paired[i]] if i in paired else None
        for name in ITEM_FIELDS:
            if name not in e:
                continue
            counts[name][1] += 1
            if f is None:
                ok = False
            elif name == "description":
                ok = True
            else:
                try:
                    ok = f.get(name) is not None and Decimal(str(f[name])) == Decimal(str(e[name]))
                except InvalidOperation:
                    ok = False
            counts[name][0] += ok
            if not ok:
                misses.append(f"{str(e['description']).splitlines()[0][:30]!r} {name}: "
                              f"{(f or {}).get(name)!r} != {e[name]!r}")
    return {"counts": counts, "expected": len(expected), "found": len(found), "paired": len(paired),
            "misses": misses}


# ---------------------------------------------------------------- CER

def levenshtein(a: str, b: str) -> int:
    try:
        from rapidfuzz.distance import Levenshtein  # fast when installed

        return Levenshtein.distance(a, b)
    except ImportError:
        pass
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def page_text(lines) -> str:
    """Lines in reading order with all whitespace removed, case-folded. Spaces are left out of
    CER on purpose: PDF text layers and engines disagree on them ("4 . 50", "Total:" vs
    "Total :") far more than on the characters themselves."""
    return "".join("".join(ln.text for ln in reading_order(list(lines))).split()).casefold()


def aligned_errors(reference: list, hypothesis: list) -> tuple[int, int]:
    """(edit errors, reference characters) with each hypothesis word assigned to one reference
    line: reading order and line splitting do not count, misread, missing and extra characters do.
    Whitespace and letter case are ignored (SROIE's reference is all capitals; engines read the
    case printed).

    A word goes to the reference line whose box (padded by a third of its height) holds the
    word's centre; when several do (reference boxes overlap, as SROIE's often do), to the one
    whose vertical centre is nearest the word's, then the one that overlaps the word the most.
    Taking the lines one after another and handing each every word inside its box gave the
    words of a line to the overlapping line above it (65 % CER on a receipt read at 4 %)."""
    refs = list(reference)
    words = []
    for ln in hypothesis:
        for w in (ln.words or [ln]):
            words.append((w.text, w.box))
    owned: dict[int, list[int]] = {}
    stray = 0
    for i, (text, (wx, wy, ww, wh)) in enumerate(words):
        cx, cy = wx + ww / 2, wy + wh / 2
        best = None
        for j, ref in enumerate(refs):
            x, y, w, h = ref.box
            pad = 0.35 * h
            if not (x - pad <= cx <= x + w + pad and y - pad <= cy <= y + h + pad):
                continue
            overlap = max(0.0, min(wx + ww, x + w) - max(wx, x)) * max(0.0, min(wy + wh, y + h) - max(wy, y))
            rank = (abs(cy - (y + h / 2)) / max(1.0, h), -overlap)
            if best is None or rank < best[0]:
                best = (rank, j)
        if best is None:
            stray += len("".join(text.split()))
        else:
            owned.setdefault(best[1], []).append(i)
    errors = chars = 0
    for j, ref in enumerate(refs):
        got = "".join("".join(words[i][0].split())
                      for i in sorted(owned.get(j, []), key=lambda i: words[i][1][0])).casefold()
        want = "".join(ref.text.split()).casefold()
        errors += levenshtein(want, got)
        chars += len(want)
    return errors + stray, chars


def reading_order_errors(reference: list, hypothesis: list) -> tuple[int, int]:
    """(edit errors, reference characters) between the two pages' texts, each in reading order
    (``page_text``): what a consumer of the plain text sees, line order and splitting included."""
    ref, hyp = page_text(reference), page_text(hypothesis)
    return levenshtein(ref, hyp), len(ref)


def cer(reference: str, hypothesis: str) -> float:
    if not reference:
        return 0.0 if not hypothesis else 1.0
    return levenshtein(reference, hypothesis) / len(reference)


# ---------------------------------------------------------------- runs

def run_ocr(docs: list[Doc], engine_name: str | None, settings: dict | None = None, log=print,
            cache: Path | None = None) -> dict:
    from .documents import kind_of, read_pdf
    from .engines import get_engine

    engine = get_engine(engine_name, settings)
    rows, errors, chars, seconds, pages = [], 0, 0, 0.0, 0
    order_errors = order_chars = 0
    for doc in docs:
        kind = kind_of(doc.path)
        if kind == "text":
            continue
        reference = doc.reference
        if reference is None and kind == "pdf":
            reference = read_pdf(doc.path, pages="1", mode="text")[0].lines
        if not reference:
            continue
        results, took = _cached_read(doc, engine.name, settings, "ocr" if kind == "pdf" else "auto", cache,
                                     pages="1" if kind == "pdf" else None)
        result = results[0]
        order_dist, order_n = reading_order_errors(reference, result.lines)
        if not doc.path.with_suffix(".gt.txt").exists():  # reference lines with real boxes
            dist, n = aligned_errors(reference, result.lines)
        else:
            dist, n = order_dist, order_n
        errors += dist
        chars += n
        order_errors += order_dist
        order_chars += order_n
        seconds += took
        pages += 1
        rows.append({"document": doc.name, "cer": round(dist / max(1, n), 4),
                     "reading_order_cer": round(order_dist / max(1, order_n), 4), "seconds": round(took, 3)})
        log(f"  {doc.name:<28} CER {dist / max(1, n):6.2%}  reading order {order_dist / max(1, order_n):6.2%}  "
            f"{took:5.2f} s")
    return {"engine": engine.describe(), "pages": pages, "cer": round(errors / max(1, chars), 4),
            "reading_order_cer": round(order_errors / max(1, order_chars), 4),
            "seconds_per_page": round(seconds / max(1, pages), 3), "documents": rows}


def _cached_read(doc: Doc, engine_name, settings, mode, cache: Path | None, pages=None, image_text=False):
    """The document's page results; with ``cache``, OCR output is kept as JSON and reused (the
    extractor can then be re-run without OCR). The time of a cached read is the original one.
    ``image_text``: also OCR the images of a digital PDF's pages (as the extract node does)."""
    from .documents import read_document
    from .engines import Line, OcrResult, Word, get_engine

    key = None
    if cache is not None:
        images = "-img" if image_text and doc.path.suffix.lower() == ".pdf" and mode == "auto" else ""
        # keyed by the file's content, not its folder's name: two folders of the same layout
        # (img/NNN.jpg) no longer share entries, and a changed file is read again
        key = cache / f"{doc.name}-{content_hash(doc.path)}-{engine_name or 'default'}-{mode}{pages or ''}{images}.json"
        if key.exists():
            data = json.loads(key.read_text(encoding="utf-8"))
            pages = [OcrResult([Line(ln["text"], tuple(ln["box"]), ln["confidence"],
                                     [Word(w["text"], tuple(w["box"]), w["confidence"]) for w in ln["words"]])
                                for ln in p["lines"]], p["width"], p["height"], p["engine"], p["seconds"],
                               p["source"]) for p in data["pages"]]
            return pages, data["seconds"]
    started = time.perf_counter()
    wanted = pages
    pages = read_document(doc.path, pages=wanted, mode=mode, engine=lambda: get_engine(engine_name, settings),
                          image_text=image_text)
    took = time.perf_counter() - started
    if key is not None:
        key.parent.mkdir(parents=True, exist_ok=True)
        key.write_text(json.dumps({"seconds": took, "pages": [
            dict(p.to_dict(), lines=[ln.to_dict() for ln in p.lines], seconds=p.seconds) for p in pages]}),
            encoding="utf-8")
    return pages, took


def judged(doc: Doc, values: dict, date_order: str = "DMY"):
    """(field, expected value, right) for each field the document's truth gives."""
    for name, raw in doc.fields.items():
        if name not in OWN:
            continue
        expected = expected_value(name, raw, date_order)
        if expected is not None:
            yield name, expected, matches(name, expected, values.get(name))


def content_hash(path: Path) -> str:
    """The first 16 hex digits of the file's SHA-256."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def sroie_score(rows: list[dict]) -> dict | None:
    """SROIE's key-information score over the documents whose truth has SROIE's four fields
    (company, date, address, total): precision = right / predicted, recall = right / expected,
    F1, and the accuracy of each field. None when no document has them."""
    right = predicted = expected = 0
    per: dict[str, list[int]] = {name: [0, 0] for name in SROIE_FIELDS}
    for row in rows:
        fields = row["fields"]
        if not all(name in fields for name in SROIE_FIELDS):
            continue
        for name in SROIE_FIELDS:
            v = fields[name]
            expected += 1
            predicted += v["got"] not in (None, "")
            right += v["ok"]
            per[name][0] += v["ok"]
            per[name][1] += 1
    if not expected:
        return None
    p, r = right / max(1, predicted), right / expected
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / max(1e-9, p + r), 4),
            "accuracy": {k: round(v[0] / v[1], 4) for k, v in per.items() if v[1]},
            "counts": {k: f"{v[0]}/{v[1]}" for k, v in per.items() if v[1]}}


def run_extract(docs: list[Doc], engine_name: str | None, settings: dict | None = None, mode: str = "auto",
                date_order: str = "DMY", log=print, cache: Path | None = None, image_text: bool = True,
                structured: bool = True) -> dict:
    """Per-field accuracy of the extractor. ``structured``: read an e-invoice's XML (embedded in
    the PDF, or the document itself) when there is one, as the extract node does; off, the
    printed page is measured (the visual extraction) even on an e-invoice."""
    from . import einvoice
    from .extract import extract

    per_field: dict[str, list[int]] = {}
    per_item: dict[str, list[int]] = {name: [0, 0] for name in ITEM_FIELDS}
    item_docs = item_found = item_expected = 0
    rows, seconds, pages = [], 0.0, 0
    for doc in docs:
        if not doc.fields and not doc.items:
            continue
        started = time.perf_counter()
        parsed = einvoice.structured(doc.path) if structured and doc.path.suffix.lower() in (".pdf", ".xml") else None
        if parsed is not None:
            extraction, results = einvoice.to_extraction(parsed, 0.7), [None]
            took = time.perf_counter() - started
        else:
            results, took = _cached_read(doc, engine_name, settings, mode, cache, image_text=image_text)
            started = time.perf_counter()
            extraction = extract(results, date_order=date_order)
            took += time.perf_counter() - started
        seconds += took
        pages += len(results)
        values = extraction.values()
        row = {"document": doc.name, "seconds": round(took, 3), "fields": {}, "sources": extraction.sources}
        for name, expected, ok in judged(doc, values, date_order):
            per_field.setdefault(name, [0, 0])
            per_field[name][0] += ok
            per_field[name][1] += 1
            row["fields"][name] = {"ok": ok, "expected": str(expected), "got": values.get(name)}
        rows.append(row)
        misses = [f"{n}: {v['got']!r} != {v['expected']!r}" for n, v in row["fields"].items() if not v["ok"]]
        log(f"  {doc.name:<28} {took:5.2f} s  " + ("all fields right" if not misses else "; ".join(misses)))
        if doc.items:
            cmp = compare_items(doc.items, extraction.line_items)
            row["line_items"] = cmp
            item_docs += 1
            item_found += cmp["found"]
            item_expected += cmp["expected"]
            for name, (ok, n) in cmp["counts"].items():
                per_item[name][0] += ok
                per_item[name][1] += n
            log(f"  {doc.name + ' items':<28} line items: {cmp['paired']} of {cmp['expected']} expected found "
                f"({cmp['found']} extracted)" + ("" if not cmp["misses"] else "; " + "; ".join(cmp["misses"][:6])
                                                 + (" ..." if len(cmp["misses"]) > 6 else "")))
    total_ok = sum(v[0] for v in per_field.values())
    total_n = sum(v[1] for v in per_field.values())
    items_ok = sum(v[0] for v in per_item.values())
    items_n = sum(v[1] for v in per_item.values())
    line_items = None
    if item_docs:
        line_items = {"documents": item_docs, "expected": item_expected, "extracted": item_found,
                      "accuracy": {k: round(v[0] / v[1], 4) for k, v in per_item.items() if v[1]},
                      "counts": {k: f"{v[0]}/{v[1]}" for k, v in per_item.items() if v[1]},
                      "overall": round(items_ok / max(1, items_n), 4), "overall_count": f"{items_ok}/{items_n}"}
    return {"mode": mode, "documents": len(rows), "pages": pages, "line_items": line_items, "sroie": sroie_score(rows),
            "accuracy": {k: round(v[0] / v[1], 4) for k, v in sorted(per_field.items())},
            "counts": {k: f"{v[0]}/{v[1]}" for k, v in sorted(per_field.items())},
            "overall": round(total_ok / max(1, total_n), 4), "overall_count": f"{total_ok}/{total_n}",
            "seconds_per_page": round(seconds / max(1, pages), 3), "rows": rows}
