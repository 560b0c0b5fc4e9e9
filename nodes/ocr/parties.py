"""Seller and buyer blocks of an invoice: who issued it and who it is addressed to. Part of the
extractor (``vendor.py`` weighs the issuer's candidates; this module finds the labelled blocks).

Found by rules that hold across layouts and languages:

- **Labels** heading a block or a line: the seller's ("Seller:", "Sold by:", "Verkäufer",
  "Lieferant:", "Fournisseur", "Vendeur", "Supplier", "From:") and the buyer's ("Buyer:",
  "Bill to", "Ship to", "Customer", "Client", "Acheteur", "Käufer", "Rechnungsempfänger",
  "Kunde", "To:"). A label is a label when a colon follows it or it stands alone on its line
  ("Lieferant GmbH" is a company, "Lieferant:" a label). The party's name is the rest of the
  label's line, the box right of it, the value of a "Name:" row in the block under it (with the
  value's lines above it, a name over two lines), or the block's first name-like line.
- **The sender line** over a window envelope's address ("weclapp.com | Somestreet 42 | 08155
  Some city", DIN 5008): a line of three or more parts joined by "|", "•" or "·" with a postcode
  names the issuer in its first part, and the address block under it is the recipient's.
- **The customer's own names** (``our_names``, e.g. learned from review corrections): a block or
  candidate with such a name is the buyer, never the issuer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SELLER_LABEL = re.compile(
    r"^\W*(sold\s*by|seller|vendor|supplier|service\s*provider|issued\s*by|verkäufer(in)?|lieferant|"
    r"rechnungssteller|leistungserbringer|auftragnehmer|absender|fournisseur|vendeur|[ée]metteur|prestataire|"
    r"sprzedawca|leverancier|verkoper|from)\b\s*(:|$)", re.IGNORECASE)
BUYER_LABEL = re.compile(
    r"^\W*(buyer|purchaser|bill(ed)?\s*to|invoice\s*to|invoiced\s*to|sold\s*to|ship\s*to|deliver(ed|y)?\s*to|"
    r"customer|client|acheteur|käufer(\s*/\s*leistungsempfänger)?|leistungsempfänger|rechnungsempfänger|"
    r"empfänger|kunde|auftraggeber|destinataire|factur[ée]\s*à|livr[ée]\s*à|adresse\s*de\s*(facturation|livraison)|"
    r"rechnungsadresse|lieferadresse|nabywca|koper|klant|to)\b\s*(:|$)", re.IGNORECASE)
SENDER_SPLIT = re.compile(r"\s*[|•·●▪]\s*")
POSTCODE = re.compile(r"\b(\d{4,5}|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})\b")
NAME_ROW = re.compile(r"^\W*(name|firma|company|raison\s*sociale|nom|naam|bedrijf)\s*:?\s*$", re.IGNORECASE)


@dataclass
class Party:
    role: str                 # "seller" or "buyer"
    name: str | None
    item: object | None       # the item the name was read from
    block: list = field(default_factory=list)  # the block's items (the label's included)
    how: str = "label"        # "label" or "sender-line"


def _letters(text: str) -> int:
    return sum(c.isalpha() for c in text)


def _block_name_like(text: str) -> bool:
    """A line of a party's block that can be its name: mostly letters, no long number, no date,
    not a label ("Nummer:") nor an e-mail or web address. Looser than the vendor's test: under a
    seller or buyer label, "Taxi-Gast AG" is a name although it begins with "tax"."""
    from .values import parse_date

    t = text.strip()
    letters = _letters(t)
    return (letters >= 3 and letters >= 0.5 * len(t.replace(" ", "")) and not re.search(r"\d{3,}|@|www\.|https?:", t)
            and not t.endswith(":") and not NAME_ROW.match(t) and not parse_date(t)
            and not re.fullmatch(r"\(.*\)", t))  # "(Not to be used for payment remittance)": a note


def _name_from(items, label, rest: str, h: float, x1: float, bottom: float, all_labels):
    """(name, item, block items) for the party whose label is ``label``."""
    from .extract import _right_of
    from .vendor import _clean_company

    x, y, w, lh = label.line.box
    block = [it for it in items if it.page == label.page and it is not label and y - 0.3 * lh <= it.line.box[1] < bottom
             and x - 2 * lh <= it.line.box[0] < x1]
    block.sort(key=lambda it: (it.line.box[1], it.line.box[0]))
    if _letters(rest) >= 3:
        return _clean_company(rest), label, block
    right = [o for o in _right_of(items, label)[:1] if o.line.box[0] < x1]
    if right and _block_name_like(right[0].line.text):
        return _clean_company(right[0].line.text), right[0], block
    below = [it for it in block if it.line.box[1] > y + 0.5 * lh]
    for it in below:
        if NAME_ROW.match(it.line.text):
            values = [o for o in _right_of(items, it)[:1] if o.line.box[0] < x1]
            if values:
                value = values[0]
                vx, vy, vw, vh = value.line.box
                labelled_rows = [o.line.box for o in block if o.line.box[0] < vx - vh and o.line.text.rstrip().endswith(":")]
                # the value's first line(s) above it, on rows without a label: a name over two lines
                above = [o for o in below if abs(o.line.box[0] - vx) <= vh and vy - 1.8 * vh <= o.line.box[1] < vy - 0.3 * vh
                         and not any(abs(r[1] - o.line.box[1]) <= 0.5 * vh for r in labelled_rows)]
                name = " ".join([o.line.text for o in above] + [value.line.text])
                return _clean_company(name), value, block
    for it in below:
        text = it.line.text.strip()
        if it in all_labels or any(o.line.box[0] < x1 for o in _right_of(items, it)[:1]):
            continue  # a label row ("Nummer : 549910"), not a name
        cy = it.line.box[1] + it.line.box[3] / 2
        if any(o.line.box[0] + o.line.box[2] <= it.line.box[0] and abs(o.line.box[1] + o.line.box[3] / 2 - cy)
               <= 0.5 * it.line.box[3] for o in block):
            continue  # a value at the end of such a row ("4333741000005 (GTIN)")
        if _block_name_like(text):
            return _clean_company(text), it, block
    return None, None, block


def find_parties(items, our_names=()) -> list[Party]:
    """The labelled seller and buyer blocks and the sender line on the first page, top first."""
    first = [it for it in items if it.page == 1]
    if not first:
        return []
    width = max(it.line.box[0] + it.line.box[2] for it in first)
    height = max(it.line.box[1] + it.line.box[3] for it in first)
    labels = []
    for it in first:
        text = it.line.text
        for role, pattern in (("buyer", BUYER_LABEL), ("seller", SELLER_LABEL)):
            m = pattern.match(text)
            if m:
                labels.append((role, it, text[m.end():].strip(" :")))
                break
    label_items = [it for _, it, _ in labels]
    parties: list[Party] = []
    for role, it, rest in labels:
        x, y, w, h = it.line.box
        # the block reaches right to the next label on the same rows, down to the next label under it
        side = [o.line.box[0] for o in label_items if o is not it and o.line.box[0] > x + w
                and abs(o.line.box[1] - y) <= 3 * h]
        x1 = min(side) if side else max(x + w + 0.55 * width, x + 3 * w)
        under = [o.line.box[1] for o in label_items if o is not it and o.line.box[1] > y + 0.5 * h
                 and x - 2 * h <= o.line.box[0] < x1]
        bottom = min(under + [y + 12 * h, height + 1])
        name, src, block = _name_from(first, it, rest, h, x1, bottom, label_items)
        parties.append(Party(role, name, src, [it] + block))
    parties += _sender_lines(first, height)
    keys = {_key(n) for n in our_names if _key(n)}
    for p in parties:
        if p.role == "seller" and p.name and _is_ours(p.name, keys):
            p.role = "buyer"
    return parties


def _sender_lines(first, height) -> list[Party]:
    """The DIN 5008 sender line: "Name | Street 1 | 12345 City" over the recipient's address."""
    from .vendor import _clean_company, _name_like

    out = []
    top = [it for it in first if it.line.box[1] <= 0.4 * height]
    if not any(SENDER_SPLIT.search(it.line.text) for it in top):
        return out
    joined: set[int] = set()
    for it in top:
        if id(it) in joined:
            continue
        row = _row_from(top, it)  # a text layer may give each part and separator a box of its own
        joined.update(id(o) for o in row[1:])
        text = " ".join(o.line.text for o in row)
        parts = [p for p in SENDER_SPLIT.split(text) if p.strip()]
        if len(parts) < 3 or not POSTCODE.search(text):
            continue
        if not _name_like(parts[0]) and not re.search(r"\w\.\w{2,}", parts[0]):
            continue
        x, y, _w, h = it.line.box
        w = row[-1].line.box[0] + row[-1].line.box[2] - x
        block = [o for o in first if o not in row and y + 0.5 * h < o.line.box[1] <= y + 7 * h
                 and x - max(2 * h, 0.1 * w) <= o.line.box[0] < x + 0.6 * w]
        out.append(Party("seller", _clean_company(parts[0]), it, [], "sender-line"))
        if block:
            out.append(Party("buyer", block[0].line.text, block[0], block, "sender-line"))
    return out


def _row_from(first, it) -> list:
    """``it`` and the boxes that continue its row to the right with small gaps, left to right."""
    x, y, w, h = it.line.box
    row, right = [it], x + w
    for o in sorted((o for o in first if o is not it and abs(o.line.box[1] - y) <= 0.5 * h and o.line.box[0] >= right - 2),
                    key=lambda o: o.line.box[0]):
        if o.line.box[0] - right > 2.5 * h:
            break
        row.append(o)
        right = o.line.box[0] + o.line.box[2]
    return row


def _key(name: str) -> str:
    from .vendor import name_key

    return name_key(name)


def _is_ours(name: str, keys: set) -> bool:
    k = _key(name)
    return bool(k) and any(k == o or (min(len(k), len(o)) >= 5 and (k in o or o in k)) for o in keys)
