"""Invoice and receipt fields from OCR lines: labels + layout + value patterns, no templates.

For each field the extractor looks for a label (English and German, plus common Dutch and
French words) and takes the value found right of the label on its line, right of it on the
same row, or on the line below; value patterns (dates, amounts, currency codes and symbols)
accept or reject what it finds. Fields without a label fall back on layout (the date is the
first date on the page); the issuer is weighed from several candidates (letterhead, seller
label, payee, footer, logos, the document's own web domain: see ``vendor.py``), and line items
are read by the columns of the table header (``line_items.py``). Each field has a confidence
(label strength x OCR confidence) and the box it came from; arithmetic checks (subtotal + tax =
total, line items summing up) raise or lower the confidence of the amounts.

Values are normalised (``values.py``): dates as ISO ``YYYY-MM-DD``, amounts as decimal strings
``"1234.50"``, currency as an ISO 4217 code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from .engines import Line, reading_order, union_box
from .values import (AMOUNT_RE, CURRENCIES, CURRENCY_RE, RATE_RE, amounts_in, document_date_order, find_currency,
                     fmt_amount, parse_date)

FIELDS = ("vendor", "invoice_number", "invoice_date", "due_date", "currency", "subtotal", "tax", "total", "address")
# the fields whose doubt sends a document to review unless the user lists others (``review_fields``)
REVIEW_FIELDS = ("vendor", "invoice_number", "invoice_date", "due_date", "currency", "subtotal", "tax", "total")
# given when found, never a reason for review. vendor_brand: the issuer's trading name when it differs
# from ``vendor`` ("Flipkart" beside "WS Retail Services Pvt. Ltd."); vendor_legal_name: the company's
# legal name when ``vendor`` is a shop or brand name ("Dommal Food Services Sdn Bhd" beside "DOMINO'S PIZZA")
EXTRA_FIELDS = ("vendor_brand", "vendor_legal_name", "buyer")  # buyer: the customer's name, when labelled
DEFAULT_THRESHOLD = 0.7
REQUIRED = ("vendor", "invoice_date", "total")  # missing ones count as low confidence

LABELS = {
    "total": [
        (r"grand\s*total|endsumme|gesamtbetrag|gesamtsumme|rechnungsbetrag|endbetrag|totaal|total\s*ttc|montant\s*(eur\s*)?ttc|"
         r"amount\s*due|balance\s*due|total\s*amount\s*due|zu\s*zahlen|zahlbetrag|te\s*betalen|net\s*t\s*total|"
         r"nett\s*total|due\s*payable|total\s*after|after\s*(adj|round)|total\s*(\w{1,6}\.?\s*)?rounded|rounded\s*total|total\s*payable|amount\s*payable|total\s*due|"
         r"total\s*(rm|eur|usd|\$|€)?\s*incl|total\s*sales|total\s*for\s*this\s*invoice|summe\s*brutto|"
         r"brutto\s*gesamt|należność|bruttosumme|bruttobetrag|rechnungssumme\s*(inkl|mit|brutto)|total\s*incl", 0.95),
        (r"total\s*amount|totalbetrag|\btotal\b|\bsumme\b|\bbetrag\b|\bamount\b|\bbrutto\b", 0.75),
    ],
    "subtotal": [
        (r"exclusief\s*btw|excl\.?\s*(btw|vat|mwst|tax|gst)|ohne\s*(mwst|ust|umsatzsteuer)|zzgl\.?\s*(mwst|ust)|before\s*tax|"
         r"nettosumme|summe\s*ohne|rechnungssumme\s*(ohne|netto)|gesamtsumme\s*netto|"
         r"total\s*ht|montant\s*(eur\s*)?ht|net\s*total\b|nettosumme|summe\s*netto|grondslag|"
         r"bemessungsgrundlage|taxable\s*amount|base\s*ht", 0.95),
        (r"sub[\s-]*total|zwischensumme|nettobetrag|netto\s*betrag|summe\s*netto|gesamt\s*netto|total\s*net|"
         r"net\s*amount|amount\s*excl|total\s*excl|excl\.?\s*(vat|tax|gst|btw|mwst)|untaxed|montant\s*(eur\s*)?ht|"
         r"totaal\s*excl|subtotaal|\bnetto\b|\bht\b", 0.9),
    ],
    "tax": [
        # labels that say the amount is the document's tax: above a tax category in a table row
        # ("Zuschlag Versandkosten 7 % UST (S) 5,80", the charge's amount)
        (r"montant\s*tva|total\s*tva|kwota\s*vat|steuerbetrag|(ust|mwst|umsatzsteuer)\.?[\s-]*betrag|"
         r"summe\s*(ust|mwst|umsatzsteuer)|(vat|tax|gst)\s*amount|total\s*(vat|tax(es)?|taxe?s|gst|tva)\b", 0.97),
        # not a tax id ("TVA : FR11999999998", "USt-IdNr.", "VAT no")
        (r"\b(total\s*)?(vat|tax|gst|mwst|ust|umsatzsteuer|mehrwertsteuer|btw|tva|sales\s*tax)\b"
         r"(?!\s*(id|no|nr|reg|#|number|summary|invoice)|\s*[:.]?\s*[A-Z]{2}\s?\d{8,})", 0.85),
    ],
    "invoice_number": [
        # "Handelsrechnung (380) Nr. 471102", "Rechnung des Versicherers (575) Nr. ...": a document
        # type, perhaps with its code in brackets, then "Nr."/"No."
        (r"\w*(rechnung|gutschrift|invoice|facture|avoir|factuur)\w*(\s+[^\W\d]+){0,3}?\s*(\(\d{3}\)\s*)?"
         r"(nr|no|n°|nummer|number)(?!\w)\.?|"
         r"invoice\s*(no|number|nr|num|#|id)\b\.?|inv\s*(no|#)|rechnungs\s*-?\s*(nr|nummer)|rechnung\s*nr|"
         r"factuur\s*(nummer|nr)|facture\s*n|faktura\s*nr|bill\s*(no|number)|receipt\s*(no|#|number)|beleg\s*nr|"
         r"invoice\s*:|\binvoice\b|\bavoir\b|credit\s*note|document\s*(no|number)|slip\s*no", 0.9),
        (r"\bfactuur\b|\brechnung\b|\bfacture\b|\bbeleg\b|order\s*(no|number|nr)|booking\s*id", 0.7),
    ],
    "invoice_date": [
        (r"invoice\s*date|rechnungsdatum|factuurdatum|date\s*de\s*facture|data\s*wystawienia|date\s*of\s*issue|"
         r"issue\s*date|billing\s*date|belegdatum|datum\s*der\s*rechnung", 0.95),
        (r"\bdate\b|\bdatum\b|\bdated\b", 0.8),
        (r"\bdu\b", 0.7),  # "Facture n° 123 du 02 Juillet 2015"; also "le-tout-lyon.fr du 06/12/2022" in an item
    ],
    "due_date": [
        (r"due\s*date|payment\s*due|due\s*on|pay\s*by|fällig|faellig|fälligkeit|zahlbar\s*bis|zahlungsziel|"
         r"vervaldatum|uiterste|date\s*limite|échéance|echeance|termin\s*płatności", 0.95),
    ],
}
NOT_TOTAL = re.compile(r"sub[\s-]*total|zwischensumme|savings|discount|rabatt|qty|quantity|items?\b|count|"
                       r"excl|netto|\bnet\b(?!t)|untaxed|tax\s*\(|gst\s*summary|\bht\b|change|cash|tendered|"
                       r"paid|tip|points|menge|anzahl|\b(vat|tax|gst|mwst|tva)\s*total", re.IGNORECASE)
ROUNDING = re.compile(r"\bround", re.IGNORECASE)
COMPANY_SUFFIX = re.compile(
    r"\b(sdn\.?\s*bhd|bhd|berhad|s/b|ltd|limited|llc|inc|corp(oration)?|co\.|company|gmbh|ag|kg|ohg|ug|e\.?k\.?|"
    r"b\.v\.?|n\.v\.?|s\.a\.?|s\.a\.r\.l|sarl|sas|plc|pvt|enterprise|trading|restaurant|store|mart|"
    r"supermarket|hardware|bookstore|stationery|services?|holdings?|industries|group|s\.p\.a|srl|spółka)\b", re.IGNORECASE)
NOT_VENDOR = re.compile(r"^(nederland|deutschland|germany|united\s*states|usa|france|malaysia|india|"
                        r"united\s*kingdom|österreich|schweiz|belgi[eë]|polska)$|name\s*:|invoice|rechnung|receipt|quittung|factuur|facture|faktura|tax|bill\s*to|ship\s*to|"
                        r"customer|kunde|date|datum|tel\b|phone|fax|page|seite|www\.|http|@|gst|vat|reg\b|"
                        r"no\s*:|welcome|thank|cashier|table|order|payment|summary|original|copy|statement|"
                        # a notice, not a name: "GOODS SOLD ARE NOT RETURNABLE", "please come again"
                        r"\b(returnable|refundable|exchangeable|returned|refunded|exchanged|please|come\s*again)\b",
                        re.IGNORECASE)


@dataclass
class Field:
    value: object
    confidence: float
    box: tuple | None = None
    page: int = 1
    text: str = ""
    raw_confidence: float | None = None  # the extractor's own score, when ``confidence`` is calibrated

    def to_dict(self) -> dict:
        out = {"value": self.value, "confidence": round(float(self.confidence), 3),
               "box": list(self.box) if self.box else None, "page": self.page, "text": self.text}
        if self.raw_confidence is not None:
            out["raw_confidence"] = round(float(self.raw_confidence), 3)
        return out


@dataclass
class Extraction:
    fields: dict = field(default_factory=dict)  # name -> Field
    line_items: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    threshold: float = DEFAULT_THRESHOLD
    review_fields: tuple = REVIEW_FIELDS
    sources: list = field(default_factory=list)  # per page: "text-layer", "ocr", "xml" ...

    @property
    def low_confidence(self) -> list[str]:
        f = self.fields
        return [name for name in FIELDS if name in self.review_fields and
                ((name in f and f[name].confidence < self.threshold) or (name not in f and name in REQUIRED))]

    def values(self) -> dict:
        return {name: (self.fields[name].value if name in self.fields else None) for name in FIELDS + EXTRA_FIELDS}

    def to_dict(self) -> dict:
        low = self.low_confidence
        return {"values": self.values(),
                "fields": {name: (self.fields[name].to_dict() if name in self.fields else
                                  {"value": None, "confidence": 0.0, "box": None, "page": None, "text": ""})
                           for name in FIELDS + EXTRA_FIELDS},
                "line_items": self.line_items, "checks": self.checks, "low_confidence": low,
                "review": bool(low), "threshold": self.threshold, "sources": self.sources}


_TIDY = [(re.compile(p), r) for p, r in (
    (r"(\d)\s+([.,])\s*(\d)", r"\1\2\3"), (r"(\d)([.,])\s+(\d{2})(?!\d)", r"\1\2\3"), (r"(\w) _ (\w)", r"\1_\2"),
    (r"(?<!\d)(\d{1,2}) \. (?=[A-Za-zÄÖÜäöüé])", r"\1. "), (r"(\w) ([,:]) ", r"\1\2 "))]


def tidy(text: str) -> str:
    """Undo spacing that PDF text layers and OCR put inside numbers: "112 . 00" -> "112.00"."""
    for pattern, repl in _TIDY:
        text = pattern.sub(repl, text)
    return " ".join(text.split())


# ---------------------------------------------------------------- layout helpers

@dataclass
class Item:
    line: Line
    page: int


def _right_of(items: list[Item], src: Item) -> list[Item]:
    """Boxes on the same row as ``src``, to its right, nearest first."""
    x, y, w, h = src.line.box
    cy = y + h / 2
    out = []
    for it in items:
        if it is src or it.page != src.page:
            continue
        bx, by, bw, bh = it.line.box
        if bx >= x + w - 2 and abs((by + bh / 2) - cy) <= 0.5 * max(h, bh):
            out.append(it)
    # nearest row first (a skewed scan puts the next row's value almost level), then left to right
    return sorted(out, key=lambda it: (round(abs(it.line.box[1] + it.line.box[3] / 2 - cy) / (0.3 * h)),
                                       it.line.box[0]))


def _below(items: list[Item], src: Item, max_lines: float = 2.6) -> list[Item]:
    """Boxes just below ``src`` that overlap it horizontally, nearest first."""
    x, y, w, h = src.line.box
    out = []
    for it in items:
        if it is src or it.page != src.page:
            continue
        bx, by, bw, bh = it.line.box
        if y + h * 0.5 < by <= y + h + max_lines * h and bx < x + w + h and bx + bw > x - h:
            out.append(it)
    return sorted(out, key=lambda it: (it.line.box[1], abs(it.line.box[0] - x)))


_COMPILED_LABELS = {name: [(re.compile(p), strength) for p, strength in entries] for name, entries in LABELS.items()}
_DATE_WORD_AFTER = re.compile(r"\s*(datum|date|dat)\b")
_AMOUNT_WORD_AFTER = re.compile(r"\s*(totaal|total|betrag|bedrag|amount|summe|adres)")
_EXCLUDING_BEFORE = re.compile(r"(ohne|excl\.?|exkl\.?|exclusive\s*of|excluding|without|sans|hors|zonder|exclusief)\s*$")
_TERMS_BEFORE = re.compile(r"\d+\s*(tage|days|dagen|jours|dni)\s*$")
_TERMS_AFTER = re.compile(r"\s*\d+\s*(tage|days|dagen|jours|dni)\b")


@lru_cache(maxsize=8192)
def _label_match(text: str, fieldname: str):
    """(match, strength) of ``fieldname``'s strongest label in ``text``; cached for one document
    (``extract`` clears it): the same lines are asked about for every field and candidate."""
    low = text.lower()
    for pattern, strength in _COMPILED_LABELS[fieldname]:
        for m in pattern.finditer(low):
            # "Factuur datum", "Invoice date": a date label, not this field's
            if fieldname not in ("invoice_date", "due_date") and _DATE_WORD_AFTER.match(low, m.end()):
                continue
            if fieldname == "invoice_number" and _AMOUNT_WORD_AFTER.match(low, m.end()):
                continue
            # "Ohne MwSt.", "excl. VAT": a column of net amounts, not the tax
            if fieldname == "tax" and _EXCLUDING_BEFORE.search(low[:m.start()]):
                continue
            # "14 Tage netto", "net 30 days": payment terms, not the net amount
            if fieldname == "subtotal" and (_TERMS_BEFORE.search(low[:m.start()]) or _TERMS_AFTER.match(low, m.end())):
                continue
            return m, strength
    return None, 0.0


def _candidates(items, fieldname, parse, exclude=None):
    """(value, confidence, item, raw text) for every labelled value of ``fieldname``."""
    found = []
    for it in items:
        m, strength = _label_match(it.line.text, fieldname)
        if not m:
            continue
        if exclude is not None and exclude.search(it.line.text[:m.end() + 12]) and strength < 0.95:
            continue
        if fieldname == "total" and _label_match(it.line.text, "subtotal")[0] is not None:
            continue
        if fieldname == "tax" and not it.line.text[:m.start()].strip() and _header_above_excludes_tax(items, it):
            continue
        rest = it.line.text[m.end():]
        if fieldname == "tax":  # "VAT 19% on 100.00": the rate and the base are not the tax
            rest = re.sub(r"\b(on|of|auf|von|sur|op|over)\b\s*[$€£]?\s*[\d.,]+|\d+([.,]\d+)?\s*%", " ", rest)
        tries = [(rest, it, 1.0)]
        tries += [(o.line.text, o, 0.95) for o in _right_of(items, it)[:3]]
        # below: only the words under the label (a header row of several labels over a row of values)
        lx0, lx1 = _span_x(it.line, m.start(), m.end())
        reach = max(40, 3 * it.line.box[3])
        # a label in a line-item table's header ("Ohne MwSt." over a column of net amounts) heads
        # the items' column: the first value under it is an item's, not the document's
        below = [] if fieldname != "invoice_number" and _in_table_header(items, it) else _below(items, it)
        if not below and not rest.strip() and not tries[1:] and strength >= 0.95:
            # an explicit label alone on its row with nothing close under it ("TOTAL HT  TOTAL TVA
            # TOTAL TTC" over a row of values set further down): a value right under it, further
            x, _y, w, _h = it.line.box
            below = [o for o in _below(items, it, 4.0) if o.line.box[0] < x + w and o.line.box[0] + o.line.box[2] > x]
        if len(it.line.text) > (m.end() - m.start()) + 3:  # the label is part of a header row: its column first
            below.sort(key=lambda o: not (o.line.box[0] + o.line.box[2] >= lx0 - 5 and o.line.box[0] <= lx1 + reach))
        for o in below[:2]:
            under = [wd.text for wd in o.line.words if wd.box[0] + wd.box[2] >= lx0 - 5 and wd.box[0] <= lx1 + reach]
            if under and len(under) < len(o.line.words) and len(it.line.text) > (m.end() - m.start()) + 3:
                tries.append((" ".join(under), o, 0.85))
            tries.append((o.line.text, o, 0.8))
        if fieldname == "tax" and re.search(r"inclus|inklusive|enthalten|including", it.line.text, re.IGNORECASE):
            tries = tries[:1]  # "prices include VAT": a statement, not the tax amount
        for text, src, factor in tries:
            if src is not it and _label_hits_other(src.line.text, fieldname):
                continue
            if fieldname == "tax":  # "14.50%": a rate, not the tax amount
                text = RATE_RE.sub(" ", text)
            value = parse(text)
            if value is not None:
                if src is not it and it.line.box[3] > 1.6 * src.line.box[3]:
                    factor *= 0.8  # a title in a large font ("INVOICE") is a weaker label than a field's own
                conf = strength * factor * (0.6 + 0.4 * min(it.line.confidence, src.line.confidence))
                found.append((value, conf, src, text, it))
                break
    return found


def _in_table_header(items, it) -> bool:
    """Whether ``it`` is part of a line-item table's header row (or of a second header line right
    under one)."""
    from .line_items import _header_columns  # line_items.py builds on this module

    x, y, w, h = it.line.box
    cy = y + h / 2
    row = [o for o in items if o.page == it.page and abs(o.line.box[1] + o.line.box[3] / 2 - cy) <= 0.5 * h]
    if _header_columns(row):
        return True
    above = [o for o in items if o.page == it.page and y - 2.0 * h <= o.line.box[1] < y - 0.4 * h]
    if not above or any(re.search(r"\d", o.line.text) for o in above):
        return False
    top = min(o.line.box[1] for o in above)
    return bool(_header_columns([o for o in above if abs(o.line.box[1] - top) <= 0.5 * h]))


def _header_above_excludes_tax(items, it) -> bool:
    """A column header wrapped over two lines, "Ohne" over "MwSt.", "excl." over "VAT": net amounts."""
    x, y, w, h = it.line.box
    for o in items:
        ox, oy, ow, oh = o.line.box
        if o.page == it.page and o is not it and y - 1.8 * h <= oy < y - 0.3 * h and ox < x + w and ox + ow > x:
            if re.search(r"(ohne|excl\.?|exkl\.?|excluding|without|sans|hors|zonder|exclusief)\s*$", o.line.text.lower()):
                return True
    return False


def _span_x(line: Line, start: int, end: int) -> tuple[float, float]:
    """Left and right x of the characters ``start:end`` of the line's text, from its word boxes
    when they can be found in the text, else by the characters' share of the line's width."""
    text, low = line.text, line.text.lower()
    pos, xs = 0, []
    for w in line.words or []:
        at = low.find(w.text.lower(), pos)
        if at < 0:
            xs = []
            break
        if at < end and at + len(w.text) > start:
            xs += [w.box[0], w.box[0] + w.box[2]]
        pos = at + len(w.text)
    if xs:
        return min(xs), max(xs)
    x, _, w, _ = line.box
    n = max(1, len(text))
    return x + w * start / n, x + w * end / n


def _label_hits_other(text: str, fieldname: str) -> bool:
    """A box that is itself another field's label (not a value for this one)."""
    for other in LABELS:
        if other != fieldname and _label_match(text, other)[0] is not None and not re.search(r"\d", text):
            return True
    return False


# ---------------------------------------------------------------- the extractor

def extract(pages, *, threshold: float = DEFAULT_THRESHOLD, date_order: str = "DMY",
            default_currency: str | None = None, review_fields=None, our_names=(), calibrate=True) -> Extraction:
    """Fields of an invoice or receipt from page results (``OcrResult`` list, or lines).
    ``review_fields``: the fields whose low confidence sends the document to review (default
    ``REVIEW_FIELDS``). ``our_names``: the customer's own names, never the vendor. ``calibrate``:
    confidences as calibrated probabilities (``confidence.py``; a path: that calibration file),
    else the extractor's own scores. ``date_order``: how 01/02/2024 reads when the document's own
    dates do not settle it (see ``values.document_date_order``)."""
    from .address import find_address
    from .arithmetic import cash_less_change, gross_before_deductions, per_rate_sums
    from .parties import find_parties
    from .line_items import _line_items  # vendor.py, line_items.py and arithmetic.py build on this module
    from .vendor import _vendor

    _label_match.cache_clear()
    items: list[Item] = []
    for number, page in enumerate(pages, start=1):
        lines = page.lines if hasattr(page, "lines") else page
        items += [Item(Line(tidy(ln.text), ln.box, ln.confidence, ln.words), number)
                  for ln in reading_order(list(lines)) if ln.text.strip()]
    date_order = document_date_order((it.line.text for it in items), date_order)
    result = Extraction(threshold=threshold, review_fields=tuple(review_fields or REVIEW_FIELDS),
                        sources=[getattr(page, "source", None) or "lines" for page in pages])
    if not items:
        return result
    f = result.fields

    def put(name, value, conf, src: Item, text=""):
        f[name] = Field(value, round(min(1.0, conf), 3), tuple(src.line.box), src.page, text or src.line.text)

    # amounts
    def amount_parse(text):
        found = amounts_in(text)
        return found[-1][0] if found else None

    totals = _candidates(items, "total", amount_parse, exclude=NOT_TOTAL)
    totals = [t for t in totals if t[0] > 0 and not re.search(r"includ(es|ed)\b", t[4].line.text, re.IGNORECASE)]
    if totals:
        # among the best-labelled candidates, the largest amount: a total with tax and rounding
        # is never below the amounts before them
        # a total printed after a rounding adjustment is the one paid
        rounding = [it for it in items if ROUNDING.search(it.line.text)]
        if rounding:
            r = rounding[0]
            totals = [(t[0], t[1] + (0.15 if (t[4].page, t[4].line.box[1]) >= (r.page, r.line.box[1]) else 0.0))
                      + tuple(t[2:]) for t in totals]
        top = max(t[1] for t in totals)
        best = max((t for t in totals if t[1] >= top - 0.1), key=lambda t: (t[0], t[1]))
        value, src = best[0], best[2]
        if rounding:  # an unlabelled rounded amount printed after the rounding line: the amount paid
            r = rounding[0]
            for it in items:
                if (it.page, it.line.box[1]) <= (r.page, r.line.box[1] - 2):
                    continue
                for amount, _, _ in amounts_in(it.line.text):
                    if (amount != best[0] and abs(amount - best[0]) <= Decimal("0.05") and amount > Decimal("0.05")
                            and amount % Decimal("0.05") == 0 and best[0] % Decimal("0.05") != 0):
                        value, src = amount, it
        gross = gross_before_deductions(items, totals, best)
        if gross is not None:
            value, src = gross[0], gross[2]
        put("total", fmt_amount(value), min(best[1], 0.99), src)
        paid = cash_less_change(items)
        if paid is not None and paid[0] != value and paid[0] > 0:
            put("total", fmt_amount(paid[0]), 0.85, paid[1])
    else:  # no total label: the largest amount that appears twice or more
        counts: dict = {}
        for it in items:
            for value, _, _ in amounts_in(it.line.text):
                counts.setdefault(value, []).append(it)
        repeated = [v for v, its in counts.items() if len(its) >= 2 and v > 0]
        if repeated:
            v = max(repeated)
            put("total", fmt_amount(v), 0.5, counts[v][0])
    subs = _candidates(items, "subtotal", amount_parse)
    if subs:
        top = max(t[1] for t in subs)
        best = max((t for t in subs if t[1] >= top - 0.1), key=lambda t: (t[2].page, t[2].line.box[1]))
        put("subtotal", fmt_amount(best[0]), best[1], best[2])
    taxes = [t for t in _candidates(items, "tax", amount_parse) if t[0] >= 0]
    if taxes:
        top = max(t[1] for t in taxes)
        best = max((t for t in taxes if t[1] >= top - 0.1), key=lambda t: (t[2].page, t[2].line.box[1]))
        put("tax", fmt_amount(best[0]), best[1], best[2])

    sums = per_rate_sums(subs, taxes, Decimal(f["total"].value)) if "total" in f else None
    if sums and Decimal(f["subtotal"].value) + Decimal(f["tax"].value) != Decimal(f["total"].value):
        f["subtotal"] = Field(fmt_amount(sums[0]), 0.85, f["subtotal"].box, f["subtotal"].page, "sum of the net rows")
        f["tax"] = Field(fmt_amount(sums[1]), 0.85, f["tax"].box, f["tax"].page, "sum of the tax rows")
    if "total" in f and "subtotal" in f and "tax" in f and f["total"].value == f["subtotal"].value:
        # the total taken is the amount before tax: the amount with the tax (and a rounding of up
        # to 5 cents), printed below the subtotal, is the total
        gross = Decimal(f["subtotal"].value) + Decimal(f["tax"].value)
        sub_at = (f["subtotal"].page, f["subtotal"].box[1])
        for it in items:
            if (it.page, it.line.box[1]) <= sub_at or Decimal(f["tax"].value) <= 0:
                continue
            hits = [a for a, _, _ in amounts_in(it.line.text) if abs(a - gross) <= Decimal("0.05")]
            if hits:
                put("total", fmt_amount(hits[0]), 0.8, it)
                break
    if "subtotal" not in f and "total" in f and "tax" in f:  # derived: total - tax, for review
        value = Decimal(f["total"].value) - Decimal(f["tax"].value)
        f["subtotal"] = Field(fmt_amount(value), 0.6, f["total"].box, f["total"].page, "total - tax")

    # dates
    def date_parse(text):
        d = parse_date(text, date_order)
        return d[0] if d else None

    dues = _candidates(items, "due_date", date_parse)
    if dues:
        best = max(dues, key=lambda t: t[1])
        put("due_date", best[0], best[1], best[2])
    dates = [d for d in _candidates(items, "invoice_date", date_parse)
             if not re.search(LABELS["due_date"][0][0], d[4].line.text.lower())
             and not re.search(r"order|bestell|check|delivery|liefer|period|zeitraum", d[4].line.text.lower())]
    if dates:
        best = max(dates, key=lambda t: (round(t[1], 2), -t[2].page, -t[2].line.box[1]))
        put("invoice_date", best[0], best[1], best[2])
    else:
        for it in items:
            d = parse_date(it.line.text, date_order)
            if d and (not f.get("due_date") or d[0] != f["due_date"].value):
                put("invoice_date", d[0], 0.75 * (0.6 + 0.4 * it.line.confidence), it)
                break

    # invoice number
    def number_parse(text):
        m = re.search(r"#\s*([A-Za-z0-9][\w/\-.]*\d[\w/\-.]*)", text)  # "# inv_2024_1": '#' marks a number
        if m and len(m.group(1).strip(".:-")) >= 3 and not parse_date(m.group(1), date_order):
            return m.group(1).strip(".:-")
        text = re.sub(r"\(\s*\d{1,3}\s*\)", " ", text)  # "(380)": a document type code, not the number
        for token in re.findall(r"[#:]?\s*([A-Z0-9][A-Za-z0-9/_\-.#]*\d[A-Za-z0-9/_\-.]*)", text):
            token = token.strip(".:-#")
            if len(token) >= 3 and not parse_date(token, date_order) and not AMOUNT_RE.fullmatch(token):
                return token
        return None

    numbers = _candidates(items, "invoice_number", number_parse)
    if numbers:
        best = max(numbers, key=lambda t: (round(t[1], 2), -t[2].page, -t[2].line.box[1]))
        put("invoice_number", best[0], best[1], best[2])

    # currency: codes and symbols near amounts, most frequent wins
    votes: dict[str, float] = {}
    for it in items:
        for m in CURRENCY_RE.finditer(it.line.text):
            token = (m.group(1) or m.group(2)).upper()
            code = CURRENCIES.get(token) or CURRENCIES.get(token.rstrip("."))
            if code:
                near_total = "total" in f and f["total"].box == tuple(it.line.box)
                votes[code] = votes.get(code, 0) + (3 if near_total else 1) + (1 if len(token) == 3 else 0)
    if votes:
        code = max(votes, key=votes.get)
        share = votes[code] / sum(votes.values())
        src = next(it for it in items if find_currency(it.line.text) == code) if any(
            find_currency(it.line.text) == code for it in items) else items[0]
        put("currency", code, 0.6 + 0.35 * share, src)
    elif default_currency:
        f["currency"] = Field(default_currency.upper(), 0.6, None, 1, "")

    # vendor: a line with a company suffix near the top, else the first name-like line
    parties = find_parties(items, our_names)
    vendor = _vendor(items, parties, our_names)
    buyer = next((p for p in parties if p.role == "buyer" and p.name and p.item is not None), None)
    if buyer and not (vendor and buyer.item is vendor[2]):
        put("buyer", buyer.name, 0.7 * (0.6 + 0.4 * buyer.item.line.confidence), buyer.item, buyer.name)
    if vendor:
        put("vendor", vendor[0], vendor[1], vendor[2], vendor[0])
        if vendor[3]:
            brand, src = vendor[3]
            put("vendor_brand", brand, 0.7 * (0.6 + 0.4 * src.line.confidence), src, brand)
        if vendor[4]:
            legal, src = vendor[4]
            put("vendor_legal_name", legal, 0.7 * (0.6 + 0.4 * src.line.confidence), src, legal)
        found = find_address(items, f["vendor"].box, vendor[0])
        if found:
            text, parts = found
            f["address"] = Field(text, round(0.8 * (0.6 + 0.4 * min(p.line.confidence for p in parts)), 3),
                                 tuple(union_box(p.line.box for p in parts)), parts[0].page, text)

    result.line_items, net = _line_items(items, f)
    if "subtotal" not in f and net and result.line_items:  # the items' net amounts add up to the subtotal
        value = sum(Decimal(li["amount"]) for li in result.line_items)
        f["subtotal"] = Field(fmt_amount(value), 0.75, tuple(union_box(li["box"] for li in result.line_items)),
                              result.line_items[-1]["page"], "sum of the line items' net amounts")
    _checks(result)
    if calibrate:
        from .confidence import Calibrator

        Calibrator.load(None if calibrate is True else calibrate).apply(result, pages)
    return result


def _checks(result: Extraction) -> None:
    f = result.fields
    cent = Decimal("0.02")

    def dec(name):
        return Decimal(f[name].value) if name in f else None

    total, sub, tax = dec("total"), dec("subtotal"), dec("tax")
    derived = "subtotal" in f and f["subtotal"].text == "total - tax"  # equal by construction: no check
    if total is not None and sub is not None and tax is not None and not derived:
        ok = abs(sub + tax - total) <= cent
        result.checks.append({"check": "subtotal + tax = total", "ok": ok})
        for name in ("total", "subtotal", "tax"):
            f[name].confidence = round(max(f[name].confidence, 0.97) if ok else f[name].confidence * 0.7, 3)
    elif total is not None and sub is not None and sub == total:
        result.checks.append({"check": "subtotal = total (no tax)", "ok": True})
        f["total"].confidence = max(f["total"].confidence, 0.9)
    if result.line_items and total is not None:
        s = sum(Decimal(li["amount"]) for li in result.line_items)
        target = sub if sub is not None else total
        ok = abs(s - target) <= cent or abs(s - total) <= cent
        result.checks.append({"check": "line items add up", "ok": ok})
        if ok:
            f["total"].confidence = max(f["total"].confidence, 0.95)
            for li in result.line_items:
                li["confidence"] = max(li["confidence"], 0.9)
    if "due_date" in f and "invoice_date" in f:
        ok = f["due_date"].value >= f["invoice_date"].value
        result.checks.append({"check": "due date not before invoice date", "ok": ok})
        if not ok:
            f["due_date"].confidence = round(f["due_date"].confidence * 0.6, 3)
