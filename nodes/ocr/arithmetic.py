"""A receipt's and an invoice's arithmetic, where labels mislead: cash tendered less change is
the amount paid; the amount still to pay after a deposit or with earlier open items is not the
invoice's total. Part of the extractor (``extract.py``)."""

from __future__ import annotations

import re
from decimal import Decimal

from .extract import Item, _right_of
from .values import RATE_RE, amounts_in

# the amount still to pay (after a deposit, a partial payment, or with earlier open items) and
# the invoice's own gross total
DUE_LABEL = re.compile(r"amount\s*due|balance\s*due|total\s*amount\s*due|zu\s*zahlen|zahlbetrag|te\s*betalen|"
                       r"due\s*payable|total\s*payable|amount\s*payable|total\s*due|restbetrag|solde", re.IGNORECASE)
GROSS_LABEL = re.compile(r"grand\s*total|gesamtbetrag|rechnungsbetrag|bruttosumme|bruttobetrag|summe\s*brutto|"
                         r"brutto\s*gesamt|total\s*ttc|montant\s*(eur\s*)?ttc|invoice\s*total|total\s*incl", re.IGNORECASE)
PREPAID = re.compile(r"anzahlung|vorauszahlung|abschlagszahlung|offene\s*(zahlung|posten|betr)|bereits\s*(gezahlt|bezahlt)|"
                     r"prepaid|prepayment|deposit|already\s*paid|previous\s*balance|amount\s*paid|payments?\s*received|"
                     r"acompte|déjà\s*(payé|réglé)", re.IGNORECASE)


def gross_before_deductions(items: list[Item], totals: list, best) -> tuple | None:
    """The invoice's gross total (a candidate ``totals`` tuple) when the total taken is the amount
    still to pay and a deposit, a payment made or earlier open items explain the difference
    (``Bruttosumme 220,00 / Offene Zahlungen 220,00 / Zahlbetrag 440,00``): the invoice's total is
    its own gross amount."""
    if not DUE_LABEL.search(best[4].line.text) or not any(
            PREPAID.search(it.line.text) and it.page == best[4].page for it in items):
        return None
    gross = [t for t in totals if abs(t[0] - best[0]) > Decimal("0.05")  # not a rounding
             and GROSS_LABEL.search(t[4].line.text)
             and not DUE_LABEL.search(t[4].line.text)]
    return max(gross, key=lambda t: (t[1], t[4].page, t[4].line.box[1])) if gross else None


CASH_LABEL = re.compile(r"^\W*(cash(\s*tendered)?|amount\s*tendered|tendered|tunai)\b(?!\s*(&|and)\b)", re.IGNORECASE)
CHANGE_LABEL = re.compile(r"^\W*(change(\s*due)?|baki)\b", re.IGNORECASE)


def _labelled_amount(items: list[Item], label: re.Pattern) -> tuple[Decimal, Item] | None:
    """The amount of the first line that begins with ``label`` and has one (after the label, or in
    the box to its right)."""
    for it in items:
        m = label.search(it.line.text)
        if not m:
            continue
        found = amounts_in(RATE_RE.sub(" ", it.line.text[m.end():]))
        if found:
            return found[-1][0], it
        for o in _right_of(items, it)[:1]:
            found = amounts_in(RATE_RE.sub(" ", o.line.text))
            if found:
                return found[-1][0], o
    return None


def cash_less_change(items: list[Item]) -> tuple[Decimal, Item] | None:
    """(cash tendered - change, the line that prints that amount) on a receipt paid in cash: the
    amount paid, when it is printed on the page (the total line, labelled or not)."""
    cash = _labelled_amount(items, CASH_LABEL)
    change = _labelled_amount(items, CHANGE_LABEL) if cash is not None else None
    if cash is None or change is None:
        return None
    paid = cash[0] - change[0]
    if paid <= 0:
        return None
    cents = f"{paid:.2f}"[-2:]  # a quick look before reading the line's amounts
    printed = [it for it in items if it is not cash[1] and it is not change[1] and it.page == cash[1].page
               and it.line.box[1] < cash[1].line.box[1] and cents in it.line.text
               and any(a == paid for a, _, _ in amounts_in(it.line.text))]
    # the nearest printing above the cash line
    return (paid, max(printed, key=lambda it: it.line.box[1])) if printed else None


def per_rate_sums(subs: list, taxes: list, total: Decimal) -> tuple[Decimal, Decimal] | None:
    """(net, tax) when the document lists its net amounts and taxes in several labelled rows
    (per tax rate, or goods and shipping: "Positionen netto 804,35 / Versandkosten netto 4,99 /
    Positionen USt. 152,83 / Versandkosten USt. 0,95") whose sums add up to ``total``; None when
    one row each suffices or the sums do not add up. ``subs``, ``taxes``: the labelled candidates
    (value, confidence, value item, text, label item)."""
    def per_label(found):
        best: dict[int, tuple] = {}
        for t in found:
            if id(t[4]) not in best or t[1] > best[id(t[4])][1]:
                best[id(t[4])] = t
        return list(best.values())

    subs, taxes = per_label(subs), per_label(taxes)
    if len(subs) < 2 or len(taxes) < 2:
        return None
    net, tax = sum(t[0] for t in subs), sum(t[0] for t in taxes)
    return (net, tax) if abs(net + tax - total) <= Decimal("0.01") else None
