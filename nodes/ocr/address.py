"""The issuer's postal address: the lines printed under its name, up to the first line that is
no longer an address (a phone number, a tax id, the document's title). Part of the extractor
(``extract.py``).

Receipts print the shop's address right under the company (SROIE's ``address`` key); invoices
print the issuer's under its name in the letterhead or the sender block. Between the name and
the address there may be a registration number, a tax id or a former name ("(65351-M)",
"FORMERLY KNOWN AS ..."): those are skipped before the address begins and end it after.

The address is normalised: lines joined with a space, runs of spaces collapsed, spaces before
commas and dots removed ("JALAN 6/37A , TAMAN" -> "JALAN 6/37A, TAMAN").
"""

from __future__ import annotations

import re
import unicodedata

# words that make a line an address line (street kinds, building parts, Malaysian and European
# places); a postcode before or after a place name does too
ADDRESS_WORD = re.compile(
    r"\b(jalan|jln|lorong|lrg|lot|no\.?|taman|tmn|level|lvl|floor|flr|ground|block|blok|blk|unit|suite|"
    r"persiaran|lebuh|lebuhraya|kampung|kg|bandar|seksyen|section|kawasan|perindustrian|industrial|"
    r"street|st\.?|road|rd\.?|avenue|ave\.?|lane|drive|boulevard|blvd|highway|building|bldg|plaza|mall|"
    r"centre|center|complex|tower|wisma|menara|sentral|square|"
    r"selangor|kuala\s*lumpur|johor|penang|pulau\s*pinang|perak|kedah|melaka|malacca|sabah|sarawak|pahang|"
    r"negeri\s*sembilan|terengganu|kelantan|perlis|putrajaya|labuan|malaysia|singapore|darul\s*ehsan|"
    r"stra(ß|ss)e|str\.|weg|platz|allee|gasse|ring|ufer|postfach|rue|chemin|impasse|cedex|straat|laan|plein|"
    r"p\.?\s*o\.?\s*box)\b|\w+(stra(ß|ss)e|str\.|weg|platz|allee|gasse|straat|laan)\b", re.IGNORECASE)
POSTCODE = re.compile(r"(?<![\d-])(\d{5}|\d{4}|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})(?![\d-])\s*,?\s*[A-Za-zÄÖÜäöü]{3,}|"
                      r"\b[A-Za-z]{3,}[,\s]+(\d{5})\b(?![\d-])")
# lines that end the address (and that are skipped before it starts)
STOP = re.compile(r"\b(tel|telephone|phone|fon|fax|hp|mobile|handphone|e-?mail|gst|vat|sst|tax|ust|steuer|"
                  r"reg\.?|registration|co\.?\s*no|company\s*no|brn|invoice|receipt|rechnung|facture|factuur|"
                  r"cashier|date|datum|time|thank|bill|order|table|doc|counter|member|slip|pos|opening|hours|carry|"
                  r"iban|bic|swift|bank|konto|www|http|formerly|licensee|president|manager)\b|invoice|@|www\.|"
                  r"\d{2,4}\s*-\s*\d{3,4}\s*\d{3,}|^\W*\(?\s*\d{4,}\s*-?\s*[A-Z]?\s*\)?\W*$", re.IGNORECASE)
# a registration number or tax id: "(1035693-T)", "GST NO : 0021...", "COMPANY REG. NO. : 725186-V", "BRN"
REGISTRATION = re.compile(r"\b(co|company|comp|reg|regn|registration|brn|gst|vat|sst|tax|ust|steuer|siret|siren|hrb)\b"
                          r"\s*[.-]?\s*(no\b|reg\b|id\b|ref\b|nr\b|#|:|\d)|^\W*brn\b|"
                          r"^\W*\(?\s*[A-Z]{0,3}\d{4,}\s*-?\s*[A-Z]?\s*\)?\W*(\(\w+\))?\W*$", re.IGNORECASE)
INLINE_STOP = re.compile(r"\s*(\b(tel|tei|phone|fax|e-?mail)\b|\bgst(id|no|reg)?\b).*$", re.IGNORECASE)
MAX_LINES = 6
# Malaysian address words (street and area kinds, the states and territories with their
# honorifics, large towns; the old spellings beside the new): in an address that has one of them
# as printed, an OCR'd word one letter away from exactly one of them is read as it ("Jahor" ->
# "Johor", "JA:AN" -> "JALAN", "DIARUL" -> "DARUL", "PERINDUSTRÍAN"). Five letters or more, so
# short words ("JAYA", "RAYA") are never changed into each other.
ADDRESS_LEXICON = frozenset("""
jalan lorong taman persiaran lebuhraya kampung kampong bandar seksyen kawasan perindustrian
perdagangan perumahan komersial industri pusat wisma menara sentral
selangor johor penang pinang perak kedah melaka sabah sarawak pahang negeri sembilan
terengganu kelantan perlis putrajaya labuan malaysia darul ehsan takzim makmur ridzuan naim
wilayah persekutuan kuala lumpur bahru petaling subang klang kelang puchong cheras kajang ampang
serdang kepong rawang selayang skudai seremban kuching kinabalu butterworth
""".split())


_BY_ENDS: dict[tuple[str, str], list[str]] = {}
for _word in ADDRESS_LEXICON:
    _BY_ENDS.setdefault((_word[0], _word[-1]), []).append(_word)


# short address words, matched only whole once OCR's digits for letters are undone ("1.0T" -> "LOT")
SHORT_WORDS = frozenset({"lot", "jln", "tmn", "lrg", "kg", "blok", "jalan", "taman"})
DIGIT_LETTERS = str.maketrans({"0": "o", "1": "l", "5": "s", "8": "b"})


def _lexicon_word(token: str) -> str:
    """``token``, or the address word it is one OCR slip away from (a letter misread, missing,
    doubled or added; an accent the print does not have; digits for letters in a short word), in
    the token's case."""
    if any(c.isdigit() for c in token) and any(c.isalpha() for c in token):
        letters = token.replace(".", "").casefold().translate(DIGIT_LETTERS)
        if letters in SHORT_WORDS:
            return letters.upper() if not any(c.islower() for c in token) else letters.capitalize()
        return token
    if len(token) < 5:
        return token
    plain = token if token.isascii() else "".join(
        c for c in unicodedata.normalize("NFKD", token) if not unicodedata.combining(c))
    low = plain.casefold()
    if low in ADDRESS_LEXICON:
        return plain
    if not re.fullmatch(r"[a-z][a-z:.'!|]*[a-z]", low):  # a word, perhaps with a misread letter
        return token
    near = [w for w in _BY_ENDS.get((low[0], low[-1]), ()) if abs(len(w) - len(low)) <= 1 and _one_edit(low, w)]
    if len(near) != 1:
        return token
    word = near[0]
    return word.upper() if plain.isupper() or not any(c.islower() for c in plain) else (
        word.capitalize() if plain[:1].isupper() else word)


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by changing, adding or removing one character."""
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def is_address_line(text: str) -> bool:
    return bool(ADDRESS_WORD.search(text) or POSTCODE.search(text))


def _digits_or_letters(token: str) -> str:
    """OCR's O/0 and I/1 confusions inside a token that is clearly a number or a word:
    "8120o" -> "81200", "L0T" -> "LOT"."""
    digits = sum(c.isdigit() for c in token)
    letters = sum(c.isalpha() for c in token)
    if digits >= 3 and letters == 1 and token[-1:] in "oO" or digits >= 3 and letters == 1 and token[:1] in "oO":
        return token.replace("o", "0").replace("O", "0")
    if letters >= 2 and digits == 1 and "0" in token and re.fullmatch(r"[A-Z]+0[A-Z]+", token):
        return token.replace("0", "O")
    return token


def normalise(text: str) -> str:
    text = re.sub(r",(?=\S)", ", ", text)  # "Tampoi,8120o": the postcode is a token of its own
    tokens = [_digits_or_letters(t) for t in text.split()]
    if any(t.strip(",.").casefold() in ADDRESS_LEXICON for t in tokens):  # an address of the lexicon's country
        tokens = [_lexicon_word(t[:-1]) + t[-1] if t[-1:] in ",." else _lexicon_word(t) for t in tokens]
    text = " ".join(tokens)
    text = re.sub(r"\s+([,.])", r"\1", text)
    return text.strip(" ,;:-")


def address_after(items: list, start: int, name: str = "") -> tuple[str, list] | None:
    """(address, its items) from the lines after ``items[start]`` (the issuer's name) on the same
    page, in reading order. Lines that repeat the name (a name over two lines) and a few
    non-address lines (registration numbers, tax ids, former names) are skipped before the
    address begins; the address ends at a stop line, a wide vertical gap, or after six lines.
    None when no address line follows."""
    from .vendor import LEGAL_FORM

    head = items[start]
    key = re.sub(r"[\W_]", "", name.casefold())
    taken: list = []
    skipped = 0
    last = head
    rest = [it for it in items[start + 1:] if it.page == head.page]
    for n, it in enumerate(rest):
        text = it.line.text.strip()
        h = max(1, last.line.box[3])
        gap = it.line.box[1] - (last.line.box[1] + last.line.box[3])
        if taken and gap > 2.2 * h:
            break
        if not taken:
            own = re.sub(r"[\W_]", "", text.casefold())
            # the name again (over two lines), or a branch line that begins with it
            if key and own and (own in key or own.startswith(key)):
                last = it
                continue
            nxt = rest[n + 1].line.text if n + 1 < len(rest) else ""
            blocked = REGISTRATION.search(text) or STOP.search(text) or LEGAL_FORM.search(text)
            # a street line with no street word ("AUTOROUTE RABAT MEKNES") when a postcode line follows
            leads = not blocked and POSTCODE.search(nxt) and not REGISTRATION.search(nxt) and len(text) <= 60
            if blocked or not (is_address_line(text) or leads):
                skipped += 1
                if skipped > 4 or gap > 4 * h:
                    return None
                last = it
                continue
        elif REGISTRATION.search(text) or (STOP.search(text) and not (
                INLINE_STOP.search(text) and ADDRESS_WORD.search(INLINE_STOP.sub("", text)))):
            break
        cut = INLINE_STOP.sub("", text) if INLINE_STOP.search(text) else text
        if cut.strip():
            taken.append((cut, it))
        if cut != text or len(taken) >= MAX_LINES:
            break
        last = it
    if not taken:
        return None
    return normalise(" ".join(t for t, _ in taken)), [it for _, it in taken]


def find_address(items: list, vendor_box, name: str = "") -> tuple[str, list] | None:
    """The address under the vendor's line (the item whose box is ``vendor_box``; ``name``: the
    vendor's name, which may span that line and the next)."""
    if vendor_box is None:
        return None
    for i, it in enumerate(items):
        if tuple(it.line.box) == tuple(vendor_box):
            return address_after(items, i, name or it.line.text)
    return None
