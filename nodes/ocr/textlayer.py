"""Whether a PDF page's text layer is real text or unmapped glyphs.

Some PDFs embed fonts without a usable character map: the text layer then holds private-use
characters (U+E000-U+F8FF), replacement characters (U+FFFD), control characters, ``(cid:NN)``
placeholders, or letters of the font's internal encoding that spell nothing ("Ë×ÛÏ ÓÜÏÌ").
Such a layer has plenty of "characters" but no words, so the extractor finds nothing and
nothing tells the user why. ``assess`` says whether a page's layer is readable and why not; a
page that is not is rendered and OCR'd instead (``documents.read_pdf``), and its source is
recorded as ``ocr`` with the reason.

The word test is deliberately small and language-neutral: a page is readable when enough of its
alphabetic tokens are common words of English, German, French, Dutch, Spanish or Italian, or
invoice vocabulary, or at least look like words (a vowel, no run of five consonants, a single
script, few accented letters, few symbols). Numbers alone (a page of figures) do not make a page
unreadable.
"""

from __future__ import annotations

import re
import unicodedata

BAD_SHARE = 0.1          # more private-use / replacement / control / cid characters than this: unmapped
MIN_TOKENS = 8           # fewer alphabetic tokens than this: not enough to judge the words
MIN_WORDLIKE = 0.45      # share of tokens that must look like words
MAX_ACCENTED = 0.4       # with no common word: a Latin text with more accented letters than this is not text
MAX_SYMBOLS = 0.25       # with no common word: more punctuation and symbols than this is not text
CID = re.compile(r"\(cid:\d+\)|/g\d{2,}|\bglyph\d+", re.IGNORECASE)
COMMON = frozenset("""
the and for with from this that you your our are not all any can will per net due date total amount invoice
bill order number price quantity qty unit tax vat sub page customer account bank payment description item
der die das und mit von für auf ist ein eine den dem des rechnung datum betrag summe gesamt netto brutto
menge preis steuer seite kunde zahlung bis nach bei oder auch wir ihr sie
le la les des une pour avec sur par est pas date facture montant total prix quantité tva client page
het een van voor met op is niet factuur datum bedrag totaal prijs aantal btw klant
el los las del una por con para factura fecha importe precio cantidad iva cliente
il lo gli per con una fattura data importo prezzo quantità totale
""".split())
VOWELS = set("aeiouyäöüàâéèêëîïôùûœæåøáíóúãõ")


def _bad_chars(text: str) -> int:
    bad = 0
    for ch in text:
        code = ord(ch)
        if 0xE000 <= code <= 0xF8FF or code >= 0xF0000 or ch == "\ufffd":
            bad += 1
        elif unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") and ch not in "\t\n\r":
            bad += 1
    return bad


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else "?"


def _wordlike(token: str) -> bool:
    low = token.casefold()
    if low in COMMON:
        return True
    if not any(c in VOWELS for c in low) or re.search(r"[^aeiouyäöüàâéèêëîïôùûœæåøáíóúãõ\W\d_]{5,}", low):
        return False
    return len({_script(c) for c in token}) == 1


def assess(lines) -> tuple[bool, str]:
    """(readable, reason) for a page's text-layer lines (``Line`` objects or strings)."""
    text = " ".join(getattr(ln, "text", ln) for ln in lines)
    printable = [c for c in text if not c.isspace()]
    if not printable:
        return False, "the text layer is empty"
    cids = sum(len(m.group(0)) for m in CID.finditer(text))
    bad = _bad_chars(text) + cids
    if bad > BAD_SHARE * len(printable):
        return False, (f"{bad} of its {len(printable)} characters are unmapped glyphs (private-use, replacement, "
                       f"control characters or cid:NN)")
    tokens = [t for t in re.findall(r"[^\W\d_]{2,}", CID.sub(" ", text))]
    if len(tokens) < MIN_TOKENS:
        return True, "few words to judge (figures, or a short page)"
    common = sum(t.casefold() in COMMON for t in tokens)
    wordlike = sum(_wordlike(t) for t in tokens)
    symbols = sum(unicodedata.category(c)[0] in "PS" for c in printable)
    if common == 0 and symbols > MAX_SYMBOLS * len(printable):
        return False, (f"none of its {len(tokens)} words is a common word and {symbols} of its {len(printable)} "
                       f"characters are symbols (glyphs of a font without a character map)")
    letters = [c for c in printable if c.isalpha()]
    accented = sum(not c.isascii() and _script(c) == "LATIN" for c in letters)
    if common == 0 and accented > MAX_ACCENTED * len(letters):
        return False, (f"none of its {len(tokens)} words is a common word and {accented} of its {len(letters)} "
                       f"letters are accented (glyphs of a font without a character map)")
    if common == 0 and wordlike < MIN_WORDLIKE * len(tokens):
        return False, (f"none of its {len(tokens)} words is a common word and only {wordlike} look like words "
                       f"(glyphs of a font without a character map)")
    return True, "readable"
