"""The invoice's issuer: weighed from several candidates (the letterhead, a seller label, the
payee of the bank details, a legal name in the footer, "X on behalf of Y", logo text, the
document's own web or e-mail domain). Part of the extractor (``extract.py``)."""

from __future__ import annotations

import re

from .extract import COMPANY_SUFFIX, NOT_VENDOR, Item, _below
from .values import parse_date


LEGAL_FORM = re.compile(
    r"\b(sdn\.?\s*bhd|bhd|berhad|s/b|pvt\.?|private|ltd\.?|limited|llc|l\.l\.c\.|inc\.?|incorporated|corp\.?|corporation|"
    r"gmbh(\s*&\s*co\.?\s*kg)?|ag|kg|ohg|ug|e\.\s?k\.?|b\.\s?v\.?|bv|n\.\s?v\.?|nv|s\.\s?a\.?\s?s\.?|sas|s\.\s?a\.?|sa|"
    r"s\.\s?a\.\s?r\.\s?l\.?|sarl|plc|s\.p\.a\.?|spa|s\.r\.l\.?|srl|sp\.\s?z\s?o\.\s?o\.?|spółka\s*akcyjna|"
    r"spółka\s*z\s*ograniczoną\s*odpowiedzialnością|pte\.?|pty\.?|a/s|aps|oy|ab|s\.r\.o\.?|kft\.?)(?!\w)", re.IGNORECASE)
PAYEE = re.compile(r"titulaire\s*du\s*compte|account\s*(holder|name)|kontoinhaber|begünstigter|beneficiary|"
                   r"in\s*favou?r\s*of|payable\s*to|ten\s*name\s*van|\bt\.\s?n\.\s?v\.?|\bpayee\b|zahlungsempfänger",
                   re.IGNORECASE)
REGISTERED = re.compile(r"si[èe]ge\s*social|regist(ered|ered\s*office)|regd\.?\s*office|corporate\s*office|head\s*office|"
                        r"sitz\s*(der\s*gesellschaft)?|geschäftsführ|registergericht|handelsregister|amtsgericht|"
                        r"\bhrb\b|\brcs\b|\bkvk\b|\bcin\b|\bsiret\b|au\s*capital\s*de|share\s*capital|"
                        r"stammkapital|vorstand|aufsichtsrat", re.IGNORECASE)
ON_BEHALF = re.compile(r"(?<=\S)\s+(i\.?\s?o\.?\s?v\.?|on\s*behalf\s*of|im\s*auftrag\s*(von|der|des)?|"
                       r"pour\s*le\s*compte\s*de|namens)\s+\S", re.IGNORECASE)
DOMAIN_RE = re.compile(r"(?:(?:https?://|www\.)([a-z0-9][a-z0-9.-]*\.[a-z]{2,6})|"
                       r"@([a-z0-9][a-z0-9.-]*\.[a-z]{2,6})|"
                       r"\b([a-z0-9][a-z0-9-]*\.(?:com|net|org|de|fr|nl|be|at|ch|co\.uk|uk|in|io|pl|es|it|eu|my|sg|"
                       r"com\.my|com\.sg|co\.in)))\b", re.IGNORECASE)
MAIL_PROVIDERS = {"gmail", "googlemail", "yahoo", "hotmail", "outlook", "live", "gmx", "icloud", "aol", "protonmail",
                  "msn", "yandex", "qq", "163", "rediffmail", "example", "fake", "web", "mail",
                  # platforms a sender links to, not the sender ("Like us on facebook.com/...")
                  "facebook", "fb", "instagram", "twitter", "x", "linkedin", "youtube", "tiktok", "google", "goo",
                  "apple", "whatsapp", "wa", "pinterest", "wechat", "paypal", "stripe", "bit", "tinyurl"}
NOT_BRAND_LABEL = re.compile(r"feedback|survey|careers?|jobs|review|rating", re.IGNORECASE)


HEADER_WORDS = re.compile(r"\b(qty|quantity|menge|anzahl|description|beschreibung|bezeichnung|désignation|designation|"
                          r"article|artikel|item|pos|unit|einheit|price|preis|prix|rate|amt|amount|betrag|montant|"
                          r"total|tax|vat|mwst|ust|tva|disc|discount|rabatt|hsn|sac|sku|code)\b\.?", re.IGNORECASE)


def header_row(text: str) -> bool:
    """A table's column header ("Description  Qty  Rate  Amt Inc."), never a company's name, even
    where a word reads as a legal form ("Inc." for "including")."""
    return len(HEADER_WORDS.findall(text)) >= 2


def _clean_company(text: str) -> str:
    # "Acme Ltd • 5 High Street • London": a name with its address glued on by separators
    parts = [p for p in re.split(r"\s*[•·|]\s*|\s+[–—]\s+", text) if p.strip()]
    if len(parts) > 1 and sum(c.isalpha() for c in parts[0]) >= 3:
        text = parts[0]
    m = COMPANY_SUFFIX.search(text)
    if m and re.match(r"\s*[-–|•]", text[m.end():]):
        text = text[:m.end()]
    # "e-Luscious Nederland B.V. iov Saeco.com", "Free SAS au capital de ...", "X Pvt. Ltd., Ozone Park":
    # the name ends with its legal form
    for lf in LEGAL_FORM.finditer(text):
        if lf.start() > 0 and re.match(r"\s*([,|–-]|i\.?o\.?v\.?\b|c/o\b|on\s*behalf|im\s*auftrag|au\s*capital|"
                                       r"with\s*(its\s*)?registered|registered|\(|[\w.-]+\.(com|net|org|de|fr|nl)\b)",
                                       text[lf.end():], re.IGNORECASE) and len(text[lf.end():].strip()) > 1:
            text = text[:lf.end()]
            break
    text = re.sub(r"\s*\((?:co\.?\s*(no|reg)\.?.*|[\w\s.-]*\d[\w\s.-]*)\)\s*$", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s*(gst|vat|co\.?\s*reg|reg\.?\s*no|tax\s*id)\b.*$", "", text, flags=re.IGNORECASE)
    text = re.sub(r"(\w) ([.,])(?=\s|$)", r"\1\2", " ".join(text.split()))  # "Pvt . Ltd ." -> "Pvt. Ltd."
    # OCR's 1 and 0 for I and O in letters: an initialism ("D.1.Y." -> "D.I.Y."), a word ("C0RP")
    if "1." in text or "0" in text:
        text = INITIALISM.sub(lambda m: m.group(0).replace("1", "I").replace("0", "O")
                              if re.search(r"[A-Z]", m.group(0)) else m.group(0), text)
        text = ZERO_IN_WORD.sub(lambda m: m.group(0).replace("0", "O"), text)
    return text.strip(" ,:-")


CUSTOMER_LABEL = re.compile(r"bill(ed)?\s*to|ship\s*to|sold\s*to|deliver\s*to|invoice\s*to|rechnungsadresse|"
                            r"lieferadresse|empfänger|kunde\b|customer|guest|factuuradres|afleveradres|client|"
                            r"adresse\s*de\s*facturation|nabywca", re.IGNORECASE)
SELLER_INLINE = re.compile(r"\b(sold\s*by|seller|sprzedawca|verkäufer|lieferant|supplier|vendor|service\s*provider)"
                           r"\b\s*:\s*(.*)", re.IGNORECASE)
NOT_ISSUER_LINE = re.compile(r"formerly|licensee|bill\s*to|ship\s*to|kunde|customer", re.IGNORECASE)
INITIALISM = re.compile(r"\b(?:[A-Z0-9]\.){2,}")
ZERO_IN_WORD = re.compile(r"\b[A-Z]+0[A-Z]+\b")


def name_key(name: str) -> str:
    """A company name without its legal form, case-folded letters and digits: "Oravel Stays Pvt. Ltd."
    and "Oravel Stays Private Limited" have the same key."""
    return re.sub(r"[\W_]", "", LEGAL_FORM.sub(" ", name).casefold())


def _name_like(text: str) -> bool:
    t = text.strip()
    letters = sum(c.isalpha() for c in t)
    return (letters >= 3 and letters >= 0.6 * len(t.replace(" ", "")) and not NOT_VENDOR.search(t)
            and not parse_date(t) and not re.search(r"\d{3,}", t))


def _domains(items: list[Item], skip: set) -> list[str]:
    """The registrable labels of web and e-mail domains on the document ("www.azure-interior.com" ->
    "azure-interior"), most frequent first; mail providers and the customer's addresses left out."""
    counts: dict[str, int] = {}
    for it in items:
        if id(it) in skip:
            continue
        for m in DOMAIN_RE.finditer(it.line.text.replace(" . ", ".")):
            host = (m.group(1) or m.group(2) or m.group(3)).lower().rstrip(".")
            parts = host.split(".")
            if len(parts) >= 3 and parts[-2] in ("co", "com", "org", "net", "gov", "ac") and len(parts[-1]) == 2:
                parts = parts[:-1]
            label = parts[-2] if len(parts) >= 2 else parts[0]
            if label in MAIL_PROVIDERS or len(label) < 2 or NOT_BRAND_LABEL.search(label) or re.search(
                    r"powered\s*by|generated\s*(by|with)|created\s*(by|with)|made\s*with", it.line.text, re.IGNORECASE):
                continue
            counts[label] = counts.get(label, 0) + (2 if not m.group(2) else 1)
    return sorted(counts, key=lambda k: -counts[k])


def _brand(items: list[Item], labels: list[str]) -> tuple[str, Item] | None:
    """The trading name printed on the document that its web or e-mail domain spells ("Flipkart"
    for flipkart.com), or a capitalised word the domain starts with, printed twice ("OYO" for
    oyorooms.com)."""
    for label in labels:
        key = re.sub(r"[\W_]", "", label)
        exact: dict[str, list] = {}
        prefix: dict[str, list] = {}
        for it in items:
            # the name as printed in the text, not inside a web or e-mail address
            text = re.sub(r"\S*@\S+|(https?://|www\.)\S+", " ", it.line.text)
            words = re.findall(r"[^\W_][\w&'-]*", text)
            for n in (1, 2, 3):
                for i in range(len(words) - n + 1):
                    phrase = " ".join(words[i:i + n])
                    k = re.sub(r"[\W_]", "", phrase.casefold())
                    if k == key and i + n < len(words) + 1:
                        exact.setdefault(phrase, []).append(it)
                    elif n == 1 and len(k) >= 3 and key.startswith(k) and phrase[0].isupper():
                        prefix.setdefault(phrase, []).append(it)
        # the printed form, not the domain's: "Flipkart" rather than "flipkart"
        pick = [p for p in exact if not p.islower()]
        if pick:
            best = max(pick, key=lambda p: (len(exact[p]), not p.isupper(), p[:1].isupper()))
            return best, exact[best][0]
        twice = [p for p, its in prefix.items() if len({id(i) for i in its}) >= 2]
        if twice:
            best = max(twice, key=lambda p: (len(p), len(prefix[p])))
            return best, prefix[best][0]
    return None


def _vendor(items: list[Item], parties=None, our_names=()):
    """(name, confidence, item, brand, legal) of the issuer. The name is the company that issued
    the document as it presents itself (its letterhead, or its legal name); ``brand`` is a different
    trading name (spelt by its web or e-mail domain), ``legal`` its legal name when the name has no
    legal form (each (text, item) or None).

    Candidates: a "Sold by / Seller / Verkäufer" label (taken at once), a line with a company
    suffix near the top, the payee of the bank details ("account holder", "in favour of"),
    "X B.V. on behalf of Y", a legal name in the page footer (beside "registered office",
    "Siège social", "HRB"), and the first name-like lines at the top. A name with a legal form, one the document's own web or
    e-mail domain spells, and one two sources agree on rank higher.

    ``parties``: the labelled seller and buyer blocks and the sender line (``parties.find_parties``);
    the buyer's blocks are never the issuer, nor is a name in ``our_names`` (the customer's own)."""
    from .parties import _is_ours, _key

    ours = {_key(n) for n in our_names if _key(n)}
    parties = parties or []
    first_page = [it for it in items if it.page == 1]
    if not first_page:
        return None
    height = max(it.line.box[1] + it.line.box[3] for it in first_page)
    # the customer's address block (under "Bill to", "Rechnungsadresse" ...) is not the vendor
    customer = set()
    for it in first_page:
        m = CUSTOMER_LABEL.search(it.line.text)
        # a label that heads the customer's block, not a sentence or the vendor's "Customer Service"
        if m and (m.start() <= 2 or len(it.line.text) <= 30) and not re.search(
                r"service\s*\w*\s*$", it.line.text[:m.start()], re.IGNORECASE) and not re.match(
                r"\w*\s*(service|care|support|center|centre)", it.line.text[m.end():], re.IGNORECASE):
            customer.add(id(it))
            x, y, w, h = it.line.box
            for o in first_page:
                ox, oy, ow, oh = o.line.box
                if y - h / 2 <= oy <= y + 6 * h and ox < x + w + 2 * h and ox + ow > x - h:
                    customer.add(id(o))
    for party in parties:
        if party.role == "buyer":
            customer.update(id(it) for it in party.block)
            if party.item is not None:
                customer.add(id(party.item))
    labels = _domains(items, customer)
    first_page = [it for it in first_page if id(it) not in customer]
    if not first_page:
        return None
    top = [it for it in first_page if it.line.box[1] <= 0.45 * height]

    def conf(it):
        return 0.6 + 0.4 * it.line.confidence

    # a labelled seller block ("Seller:", "Verkäufer" over a "Name:" row, "Fournisseur :")
    for party in parties:
        if party.role == "seller" and party.how == "label" and party.name and not _is_ours(party.name, ours) \
                and name_key(party.name):
            src = party.item
            return party.name, 0.85 * conf(src), src, _brand_apart(items, customer, party.name), None
    # lines right after "sold by:/seller:/verkäufer:" labels inside a line
    for i, it in enumerate(first_page):
        m = SELLER_INLINE.search(it.line.text)
        if m and not _is_ours(m.group(2), ours):
            rest = m.group(2).strip()
            if len(re.sub(r"[^A-Za-z]", "", rest)) >= 3:
                return _clean_company(rest), 0.85 * conf(it), it, _brand_apart(items, customer, _clean_company(rest)), None
    cands: list[list] = []  # [name, base score, item, source]
    for party in parties:  # the sender line over the recipient's address
        if party.role == "seller" and party.how == "sender-line" and party.name and id(party.item) not in customer:
            cands.append([party.name, 0.85, party.item, "sender-line"])
    for it in top[:15]:
        text = it.line.text
        if header_row(text):
            continue
        if COMPANY_SUFFIX.search(text) and not NOT_ISSUER_LINE.search(text):
            name = _clean_company(text)  # "AEON CO. (M) BHD. (126926-H)": the number is not part of the name
            letters = sum(c.isalpha() for c in name)
            if (letters >= 4 and letters >= 0.5 * len(name.replace(" ", ""))
                    and len(re.sub(r"[^A-Za-z]", "", COMPANY_SUFFIX.sub(" ", name))) >= 2):  # not "Company" alone
                idx = first_page.index(it)
                # a name broken over two lines: "POPULAR BOOK" / "CO. (M) SDN BHD"
                if idx > 0 and re.match(r"^(co\.|sdn|bhd|\(m\)|gmbh|ltd|inc|b\.v)", name, re.IGNORECASE):
                    prev = first_page[idx - 1]
                    if not NOT_VENDOR.search(prev.line.text) and abs(prev.line.box[1] - it.line.box[1]) < 3 * it.line.box[3]:
                        name = _clean_company(prev.line.text + " " + name)
                cands.append([name, 0.9, it, "top"])
                break
    # the payee of the bank details
    for it in items:
        if id(it) in customer:
            continue
        m = PAYEE.search(it.line.text)
        if not m:
            continue
        if m.group(0).lower() == "payee" and m.start() > 3 and not re.match(r"\s*:", it.line.text[m.end():]):
            continue  # "NOM : PAYEE NAME": the word inside a value, not the payee label
        rest = re.sub(r"^[\s:.-]+", "", it.line.text[m.end():])
        src = it
        if not rest:
            below = [o for o in _below(items, it, 1.6) if id(o) not in customer]
            if below:
                src, rest = below[0], below[0].line.text
        rest = _clean_company(rest)
        if rest and _name_like(rest) and len(rest) <= 60:
            cands.append([rest, 0.8, src, "payee"])
    # "X B.V. on behalf of Brand.com", "X GmbH im Auftrag von ...": X issues the document
    for it in items:
        m = ON_BEHALF.search(it.line.text)
        if m and id(it) not in customer:
            name = _clean_company(it.line.text[:m.start()])
            if LEGAL_FORM.search(name) and _name_like(LEGAL_FORM.sub(" ", name) + " x") and len(name) <= 60:
                cands.append([name, 0.9, it, "on-behalf"])
    # the legal name in a page's footer
    for page in sorted({it.page for it in items}):
        on_page = [it for it in items if it.page == page and id(it) not in customer]
        if not on_page:
            continue
        page_h = max(it.line.box[1] + it.line.box[3] for it in on_page)
        foot = [it for it in on_page if it.line.box[1] >= 0.78 * page_h]
        for it in foot:
            text = REGISTERED.split(it.line.text)[-1] if REGISTERED.match(it.line.text.strip()) else it.line.text
            text = re.sub(r"^[^A-Za-z0-9]*:\s*", "", text) if REGISTERED.match(it.line.text.strip()) else text
            name = _clean_company(text)
            lf = LEGAL_FORM.search(name)
            if lf and lf.start() > 1 and len(name) <= 60 and _name_like(LEGAL_FORM.sub(" ", name) + " x"):
                cands.append([name, 0.45, it, "footer"])
            elif REGISTERED.search(it.line.text):
                above = [o for o in on_page if o.line.box[1] < it.line.box[1] and
                         it.line.box[1] - (o.line.box[1] + o.line.box[3]) < 1.5 * it.line.box[3]]
                if above:
                    o = max(above, key=lambda o: o.line.box[1])
                    if _name_like(o.line.text) and len(o.line.text) <= 60 and not PAYEE.search(o.line.text):
                        cands.append([_clean_company(o.line.text), 0.45, o, "footer"])
    plain = 0
    for it in top[:8]:
        text = it.line.text.strip()
        if not _name_like(text):
            continue
        cands.append([_clean_company(text), 0.6 if plain == 0 else 0.5, it, "top-plain"])
        plain += 1
        if plain >= 5:
            break
    cands = [c for c in cands if name_key(c[0]) and not header_row(c[2].line.text) and not _is_ours(c[0], ours)]
    if not cands:
        return None
    keys = {re.sub(r"[\W_]", "", lab) for lab in labels}
    scored = []
    for name, base, it, source in cands:
        key = name_key(name)
        score = base
        if LEGAL_FORM.search(name):
            score += 0.25
        if key in keys:
            score += 0.3  # the document's own web or e-mail domain spells it
        elif any(min(len(key), len(k)) >= 4 and (key.startswith(k) or k.startswith(key)) for k in keys):
            score += 0.15  # ... or begins with it ("DOMINO'S PIZZA", dominos.com.my)
        others = {c[3] for c in cands if c[3] != source and c[2] is not it and name_key(c[0]) == key}
        score += 0.15 * len(others)
        scored.append((score, -items.index(it), name, it, base))
    score, _, name, it, base = max(scored, key=lambda t: t[:2])
    # the same name read twice (a logo and the text): show the better-read, properly cased one
    same = [t for t in scored if name_key(t[2]) == name_key(name)]
    name, it = max(((t[2], t[3]) for t in same), key=lambda t: (not t[0].islower(), t[1].line.confidence, t[1] is it))
    confidence = min(0.95, score if base >= 0.8 else score - 0.1) * conf(it)
    legal = None
    if not LEGAL_FORM.search(name):  # a shop or brand name: the company's legal name beside it, when printed
        others = [t for t in sorted(scored, key=lambda t: t[:2], reverse=True)
                  if LEGAL_FORM.search(t[2]) and name_key(t[2]) != name_key(name)]
        if others:
            legal = (others[0][2], others[0][3])
    return name, confidence, it, _brand_apart(items, customer, name), legal


def _brand_apart(items, customer, name):
    """The brand (name, item) when it is not already part of the vendor's name."""
    brand = _brand([i for i in items if id(i) not in customer], _domains(items, customer))
    if brand and re.sub(r"[\W_]", "", brand[0].casefold()) not in re.sub(r"[\W_]", "", name.casefold()):
        return brand
    return None
