"""Values on invoices and receipts, recognised and normalised: dates (English, German, Dutch and
French month names; ``DMY`` or ``MDY`` for ``01/02/2024``) to ISO ``YYYY-MM-DD``, amounts
(``1.234,56``, ``1,234.56``, ``$6.90``, ``1 234,56 €``) to ``Decimal``, currency words and signs
to ISO 4217 codes. ``extract.py`` finds where the values are; this module says what they are."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

MONTHS = {
    # English, German, Dutch, French (full names and 3-letter forms)
    "january": 1, "jan": 1, "januar": 1, "jänner": 1, "januari": 1, "janvier": 1, "janv": 1,
    "february": 2, "feb": 2, "februar": 2, "februari": 2, "février": 2, "fevrier": 2, "févr": 2,
    "march": 3, "mar": 3, "märz": 3, "maerz": 3, "mrz": 3, "maart": 3, "mars": 3, "mär": 3,
    "april": 4, "apr": 4, "avril": 4, "avr": 4,
    "may": 5, "mai": 5, "mei": 5,
    "june": 6, "jun": 6, "juni": 6, "juin": 6,
    "july": 7, "jul": 7, "juli": 7, "juillet": 7, "juil": 7,
    "august": 8, "aug": 8, "augustus": 8, "août": 8, "aout": 8,
    "september": 9, "sep": 9, "sept": 9, "septembre": 9,
    "october": 10, "oct": 10, "oktober": 10, "okt": 10, "octobre": 10,
    "november": 11, "nov": 11, "novembre": 11,
    "december": 12, "dec": 12, "dezember": 12, "dez": 12, "décembre": 12, "decembre": 12,
}
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_END = r"(?=\D|$|\d{1,2}:\d{2})"  # a number ends here (a time may follow without a space)
DATE_PATTERNS = [
    re.compile(rf"(?<!\d)(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}}){_END}"),                    # ISO
    re.compile(rf"(?<!\d)(\d{{1,2}})\s?[-/.]\s?(\d{{1,2}})\s?[-/.]\s?(\d{{4}}|\d{{2}}){_END}"),   # d/m/y
    re.compile(rf"(?<![\w])(\d{{1,2}})\.?[\s/-]*({_MONTH_RE})\.?[\s/-]*,?\s*(\d{{4}}|\d{{2}})(?!\d)", re.IGNORECASE),  # 3 May 2014
    re.compile(rf"(?<![\w])({_MONTH_RE})\.?\s*(\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*(\d{{4}})(?!\d)", re.IGNORECASE),  # May 3, 2014
]
RATE_RE = re.compile(r"\d+([.,]\d+)?\s*%")  # "GST @6%", "19,00%": a rate, never an amount
AMOUNT_RE = re.compile(
    r"(?<![\w.,])(-?)\s?(?:[$€£₹¥]|RM|Rs\.?|EUR|USD|GBP|INR|MYR|CHF|PLN)?\s?"
    r"(\d{1,3}(?:[.,' ]\d{3})+|\d+)([.,]\d{2})(?!\d|[.,]\d)(?:\s?[-–]|\s?[A-Z]{1,2}\b)?"
    r"|(?:[$€£₹¥]|\bRM|\bRs\.?|\bEUR|\bUSD|\bINR)\s?(\d{1,3}(?:[.,']\d{3})+|\d+)(?![\d.,])")
CURRENCIES = {"EUR": "EUR", "€": "EUR", "EURO": "EUR", "USD": "USD", "US$": "USD", "$": "USD", "GBP": "GBP",
              "£": "GBP", "INR": "INR", "₹": "INR", "RS": "INR", "RS.": "INR", "MYR": "MYR", "RM": "MYR",
              "CHF": "CHF", "PLN": "PLN", "ZŁ": "PLN", "JPY": "JPY", "¥": "JPY", "SGD": "SGD", "AUD": "AUD",
              "CAD": "CAD", "SEK": "SEK", "DKK": "DKK", "NOK": "NOK", "CZK": "CZK", "HKD": "HKD"}
CURRENCY_RE = re.compile(r"(?<![A-Za-z])(EUR|EURO|USD|US\$|GBP|INR|MYR|CHF|PLN|JPY|SGD|AUD|CAD|SEK|DKK|NOK|CZK|HKD|"
                         r"RM|Rs\.?|zł)(?![A-Za-z])|([€$£₹¥])")

# (pattern, strength) per field; patterns are matched on the lower-cased line text


def parse_amount(text: str) -> Decimal | None:
    """``"1.234,56"``, ``"1,234.56"``, ``"$6.90"``, ``"1 234,56 €"`` -> Decimal; None if no amount."""
    m = AMOUNT_RE.search(text)
    if not m:
        return None
    return _amount_from_match(m)


def _amount_from_match(m) -> Decimal | None:
    if m.group(4):  # a whole amount after a currency sign: "Rs 1939", "€ 25"
        try:
            return Decimal(re.sub(r"[.,']", "", m.group(4)))
        except InvalidOperation:
            return None
    sign, whole, frac = m.group(1), m.group(2), m.group(3)
    whole = re.sub(r"[.,' ]", "", whole)
    try:
        value = Decimal(f"{whole}.{frac[1:]}")
    except InvalidOperation:
        return None
    return -value if sign == "-" else value


def amounts_in(text: str) -> list[tuple[Decimal, int, int]]:
    out = []
    for m in AMOUNT_RE.finditer(text):
        value = _amount_from_match(m)
        if value is not None:
            out.append((value, m.start(), m.end()))
    return out


def fmt_amount(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def parse_date(text: str, order: str = "DMY") -> tuple[str, int, int] | None:
    """The first date in ``text`` as (ISO text, start, end); ``order`` resolves 01/02/2020 (DMY or MDY)."""
    if re.search(r"\b(tel|fax|phone|telefon|hp|mobile)\b", text, re.IGNORECASE) and not re.search(r"dat", text, re.IGNORECASE):
        return None
    best = None
    for i, pattern in enumerate(DATE_PATTERNS):
        pos = 0
        while True:
            m = pattern.search(text, pos)
            if not m:
                break
            iso = _date_from(i, m.groups(), order) if not _code_like(text, m, i) else None
            if iso:
                if best is None or m.start() < best[1]:
                    best = (iso, m.start(), m.end())
                break
            pos = m.start() + 1  # overlapping: "REG #19- 18/01/2018"
    return best


ARTICLE_LABEL = re.compile(r"\b(art(ikel)?[.\s-]*(nr|no)|article\s*(no|number|code)|sku|item\s*(no|code|#)|"
                           r"part\s*(no|number|#)|ean|gtin|upc|serial(\s*no)?|s/n|batch|charge|lot\s*(no|#)|"
                           r"model|modell|ref(erence)?\s*(no|nr|#))[\s.:#-]*$", re.IGNORECASE)


def _code_like(text: str, m, kind: int) -> bool:
    """Whether a numeric date match is part of an article code, not a date: an article-number
    label precedes it ("Art.-Nr. 10-11-2023"), its separators differ ("12-03.21"), or it is joined to more of a code by a hyphen, slash or dot
    ("AB-12-03-21", "4711/01/02/2024", "12.03.21-7")."""
    if kind > 1:
        return False
    if ARTICLE_LABEL.search(text[:m.start()]):  # "Art.-Nr. 10-11-2023": labelled as a code
        return True
    if len(set(re.findall(r"[-/.]", m.group(0)))) > 1:
        return True
    before, after = text[:m.start()], text[m.end():]
    if re.search(r"[A-Za-z0-9][-/.]$", before) or re.match(r"[-/][A-Za-z0-9]|\.\d", after):
        return True
    return bool(re.search(r"[A-Za-z]\d*$", before) and re.search(r"\d", before[-8:]))


def _year(y: str) -> int:
    n = int(y)
    return n + 2000 if n < 100 and len(y) <= 2 else n


def document_date_order(texts, order: str = "DMY") -> str:
    """The order a document writes its numeric dates in: ``order``, unless its own dates settle
    it (a document keeps one format): "11/17/2017" can only be month first, "17/11/2017" only
    day first. When its dates point both ways, ``order`` stands."""
    day_first = month_first = False
    for m in DATE_PATTERNS[1].finditer("\n".join(texts)):
        a, b = int(m.group(1)), int(m.group(2))
        day_first |= 12 < a <= 31 and 1 <= b <= 12
        month_first |= 12 < b <= 31 and 1 <= a <= 12
    if month_first and not day_first:
        return "MDY"
    if day_first and not month_first:
        return "DMY"
    return order


def _date_from(kind: int, g, order: str) -> str | None:
    try:
        if kind == 0:
            y, mth, d = int(g[0]), int(g[1]), int(g[2])
        elif kind == 1:
            a, b, y = int(g[0]), int(g[1]), _year(g[2])
            d, mth = (a, b) if order.upper().startswith("D") else (b, a)
            if mth > 12 and d <= 12:
                d, mth = mth, d
        elif kind == 2:
            d, mth, y = int(g[0]), MONTHS[g[1].lower()], _year(g[2])
        else:
            mth, d, y = MONTHS[g[0].lower()], int(g[1]), _year(g[2])
        if not 1990 <= y <= date.today().year + 1:
            return None
        return date(y, mth, d).isoformat()
    except (ValueError, KeyError):
        return None


def find_currency(text: str) -> str | None:
    m = CURRENCY_RE.search(text)
    if not m:
        return None
    token = (m.group(1) or m.group(2)).upper()
    return CURRENCIES.get(token) or CURRENCIES.get(token.rstrip("."))
