"""Structured e-invoices: every field read exactly from Factur-X / ZUGFeRD XML embedded in a PDF,
or from an XRechnung (CII) or UBL file the user gives, instead of from the printed page.

Syntaxes read (namespaces ignored, elements found by their local names):

- UN/CEFACT Cross Industry Invoice (``CrossIndustryInvoice``: Factur-X, ZUGFeRD 2.x, XRechnung
  CII) and ZUGFeRD 1.0 (``CrossIndustryDocument``);
- OASIS UBL 2.x ``Invoice`` and ``CreditNote`` (XRechnung UBL, PEPPOL BIS).

The values are those of the XML (issuer = the seller's name, buyer, number, issue and due dates,
currency, subtotal = the tax basis, tax, total = the grand total, lines), normalised like the
visual extractor's (ISO dates, decimal amounts) with the confidence 1.0 and the source ``xml``.
``disagreements`` compares them with what the printed page gives, so a PDF whose picture and data
differ (a rounding, an edited page) is flagged instead of trusted blindly.

A hostile file gets a clear error: XML with a DOCTYPE (entity expansion) is refused, as are
files over 20 MB, and an XML that is none of the syntaxes above is reported as such.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from botloom.runner.sdk import NodeError

MAX_XML_BYTES = 20 * 1024 * 1024
# attachment names the standards use; any other *.xml attachment is tried after them
KNOWN_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml", "zugferd_invoice.xml", "order-x.xml")
ROOTS = ("CrossIndustryInvoice", "CrossIndustryDocument", "Invoice", "CreditNote")
COMPARED = ("vendor", "invoice_number", "invoice_date", "due_date", "currency", "subtotal", "tax", "total")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse(data: bytes, where: str):
    import xml.etree.ElementTree as ET

    if len(data) > MAX_XML_BYTES:
        raise NodeError(f"{where}: the e-invoice XML is {len(data) // 1024 // 1024} MB, over the 20 MB limit",
                        kind="bad_input", fix="an invoice's XML is a few hundred kB at most; check the file")
    if re.search(rb"<!DOCTYPE|<!ENTITY", data[:4096], re.IGNORECASE):
        raise NodeError(f"{where}: the XML declares a DOCTYPE or entities, which e-invoices never do",
                        kind="bad_input", fix="refused for safety (entity expansion); ask the sender for the "
                                              "invoice as plain Factur-X, XRechnung or UBL")
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise NodeError(f"{where}: the e-invoice XML is not well-formed ({exc})", kind="bad_input",
                        fix="the file is damaged or truncated; ask the sender for a new copy") from None


def _find(node, *path):
    """The first descendant reached by ``path`` of local names (each step: any depth below)."""
    for name in path:
        if node is None:
            return None
        node = next((el for el in node.iter() if el is not node and _local(el.tag) == name), None)
    return node


def _children(node, name):
    return [el for el in node.iter() if _local(el.tag) == name] if node is not None else []


def _text(node, *path) -> str | None:
    el = _find(node, *path) if path else node
    if el is None or el.text is None:
        return None
    return " ".join(el.text.split()) or None


def _decimal(text) -> Decimal | None:
    try:
        return Decimal(text.strip()) if text is not None else None
    except InvalidOperation:
        return None


def _amount(text) -> str | None:
    """An amount with at least two decimals ("300" -> "300.00", "9.9000" -> "9.90")."""
    value = _decimal(text)
    if value is None:
        return None
    cents = value.quantize(Decimal("0.01"))
    return str(cents) if value == cents else str(value)


def _quantity(text) -> str | None:
    """A quantity without trailing zeros ("20.0000" -> "20")."""
    value = _decimal(text)
    return None if value is None else format(value.normalize(), "f")


def _date(node) -> str | None:
    """An ISO date from CII's DateTimeString (format 102: YYYYMMDD) or UBL's YYYY-MM-DD."""
    if node is None:
        return None
    inner = _find(node, "DateTimeString")
    text = _text(inner if inner is not None else node)
    m = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2}).*", text or "")
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else None


def _first(*nodes):
    """The first of ``nodes`` that is not None (an Element without children is falsy)."""
    return next((n for n in nodes if n is not None), None)


def _vat_id(party) -> str | None:
    for reg in _children(party, "SpecifiedTaxRegistration") + _children(party, "PartyTaxScheme"):
        ident = _find(reg, "ID") if _local(reg.tag) == "SpecifiedTaxRegistration" else _find(reg, "CompanyID")
        if ident is not None and ident.text and (ident.get("schemeID") in (None, "VA")):
            return ident.text.strip()
    return None


def _address(party) -> str | None:
    addr = _first(_find(party, "PostalTradeAddress"), _find(party, "PostalAddress"))
    if addr is None:
        return None
    parts = [_text(addr, n) for n in ("LineOne", "LineTwo", "StreetName", "AdditionalStreetName")]
    city = " ".join(p for p in (_text(addr, "PostcodeCode") or _text(addr, "PostalZone"),
                                _text(addr, "CityName")) if p)
    parts.append(city)
    parts.append(_text(addr, "CountryID") or _text(addr, "IdentificationCode"))
    return ", ".join(p for p in parts if p) or None


def parse(data: bytes, where: str = "the e-invoice") -> dict:
    """The invoice's values and lines from CII or UBL XML: ``{"syntax", "values", "lines",
    "document_type", "seller_vat_id", "buyer_vat_id"}``. Raises ``NodeError`` for XML that is
    not one of those syntaxes."""
    root = _parse(data, where)
    kind = _local(root.tag)
    if kind not in ROOTS:
        raise NodeError(f"{where}: <{kind}> is not an e-invoice (expected Factur-X/ZUGFeRD/XRechnung CII or "
                        f"UBL Invoice/CreditNote)", kind="bad_input",
                        fix="give the invoice's XML (CrossIndustryInvoice, Invoice or CreditNote)")
    if kind in ("CrossIndustryInvoice", "CrossIndustryDocument"):
        return _parse_cii(root, kind)
    return _parse_ubl(root, kind)


def _parse_cii(root, kind) -> dict:
    header = _first(_find(root, "ExchangedDocument"), _find(root, "HeaderExchangedDocument"))
    seller, buyer = _find(root, "SellerTradeParty"), _find(root, "BuyerTradeParty")
    settlement = _first(_find(root, "ApplicableHeaderTradeSettlement"),
                        _find(root, "ApplicableSupplyChainTradeSettlement"))
    currency = _text(settlement, "InvoiceCurrencyCode")
    summary = _first(_find(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation"),
                     _find(settlement, "SpecifiedTradeSettlementMonetarySummation"))
    taxes = _children(summary, "TaxTotalAmount")
    tax = next((t for t in taxes if t.get("currencyID") in (None, currency)), taxes[0] if taxes else None)
    due = _find(settlement, "SpecifiedTradePaymentTerms", "DueDateDateTime")
    lines = []
    for li in _children(root, "IncludedSupplyChainTradeLineItem"):
        lines.append({"description": _text(li, "SpecifiedTradeProduct", "Name"),
                      "quantity": _quantity(_text(li, "BilledQuantity")),
                      "unit_price": _amount(_text(_find(li, "NetPriceProductTradePrice"), "ChargeAmount")),
                      "amount": _amount(_text(li, "LineTotalAmount"))})
    values = {"vendor": _text(seller, "Name"), "buyer": _text(buyer, "Name"),
              "invoice_number": _text(header, "ID"), "invoice_date": _date(_find(header, "IssueDateTime")),
              "due_date": _date(due), "currency": currency,
              "subtotal": _amount(_text(summary, "TaxBasisTotalAmount")),
              "tax": _amount(tax.text if tax is not None else None),
              "total": _amount(_text(summary, "GrandTotalAmount")), "address": _address(seller)}
    return {"syntax": "CII" if kind == "CrossIndustryInvoice" else "ZUGFeRD 1.0", "values": values, "lines": lines,
            "document_type": _text(header, "TypeCode"), "seller_vat_id": _vat_id(seller),
            "buyer_vat_id": _vat_id(buyer)}


def _ubl_party(root, name):
    party = _find(root, name, "Party")
    if party is None:
        return None, None
    legal = _find(party, "PartyLegalEntity")
    return party, _text(legal, "RegistrationName") or _text(party, "PartyName", "Name")


def _parse_ubl(root, kind) -> dict:
    def own(name):  # a direct child, not one of a line's
        return own_child(root, name)

    seller, seller_name = _ubl_party(root, "AccountingSupplierParty")
    buyer, buyer_name = _ubl_party(root, "AccountingCustomerParty")
    totals = own("LegalMonetaryTotal")
    currency = _text(own("DocumentCurrencyCode"))
    tax_totals = [t for t in root if _local(t.tag) == "TaxTotal"]
    tax = next((_find(t, "TaxAmount") for t in tax_totals
                if _find(t, "TaxAmount") is not None and _find(t, "TaxAmount").get("currencyID") in (None, currency)),
               None)
    due = _first(own("DueDate"), _find(own("PaymentMeans"), "PaymentDueDate"))
    lines = []
    for li in [el for el in root if _local(el.tag) in ("InvoiceLine", "CreditNoteLine")]:
        qty = _first(_find(li, "InvoicedQuantity"), _find(li, "CreditedQuantity"))
        lines.append({"description": _text(li, "Item", "Name"), "quantity": _quantity(_text(qty)),
                      "unit_price": _amount(_text(li, "Price", "PriceAmount")),
                      "amount": _amount(_text(own_child(li, "LineExtensionAmount")))})
    values = {"vendor": seller_name, "buyer": buyer_name, "invoice_number": _text(own("ID")),
              "invoice_date": _date(own("IssueDate")), "due_date": _date(due), "currency": currency,
              "subtotal": _amount(_text(totals, "TaxExclusiveAmount")),
              "tax": _amount(tax.text if tax is not None else None),
              "total": _amount(_text(totals, "TaxInclusiveAmount") or _text(totals, "PayableAmount")),
              "address": _address(seller)}
    return {"syntax": f"UBL {kind}", "values": values, "lines": lines,
            "document_type": _text(_first(own("InvoiceTypeCode"), own("CreditNoteTypeCode"))),
            "seller_vat_id": _vat_id(seller), "buyer_vat_id": _vat_id(buyer)}


def own_child(node, name):
    return next((el for el in node if _local(el.tag) == name), None)


def attached_xml(path: Path, password: str | None = None) -> tuple[str, bytes] | None:
    """(name, bytes) of the e-invoice XML embedded in the PDF, or None: attachments with a
    standard name first (``factur-x.xml``, ``zugferd-invoice.xml``, ``xrechnung.xml``), then any
    other ``.xml`` attachment whose root is an invoice."""
    from .documents import open_pdf

    pdf = open_pdf(path, password)
    try:
        found = []
        for i in range(pdf.count_attachments()):
            att = pdf.get_attachment(i)
            name = att.get_name() or ""
            if name.lower().endswith(".xml"):
                found.append((name.lower() not in KNOWN_NAMES, i, name, att))
        for _, _, name, att in sorted(found, key=lambda t: t[:2]):
            data = bytes(att.get_data())
            if re.search(rb"<([\w-]+:)?(CrossIndustryInvoice|CrossIndustryDocument|Invoice|CreditNote)[\s>]",
                         data[:65536]):
                return name, data
        return None
    finally:
        pdf.close()


def structured(path: Path, password: str | None = None) -> dict | None:
    """The parsed e-invoice of ``path`` (an XML file, or a PDF with one embedded) with
    ``"file"`` naming where it came from; None for a PDF without one and for a file that is not
    XML (an image, a text file)."""
    path = Path(path)
    head = path.read_bytes()[:8] if path.exists() else b""
    if head.startswith(b"%PDF"):
        found = attached_xml(path, password)
        if found is None:
            return None
        name, data = found
        out = parse(data, f"{path} (embedded {name})")
        out["file"] = f"{path.name}/{name}"
        return out
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NodeError(f"cannot read {path}: {exc.strerror or exc}", kind="io") from None
    if path.suffix.lower() != ".xml" and not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return None  # an image, a text file: not an e-invoice
    out = parse(data, str(path))
    out["file"] = path.name
    return out


def to_extraction(parsed: dict, threshold: float, review_fields=None):
    """An ``Extraction`` holding the XML's values (confidence 1.0, source ``xml``)."""
    from .extract import REVIEW_FIELDS, Extraction, Field

    result = Extraction(threshold=threshold, review_fields=tuple(review_fields or REVIEW_FIELDS), sources=["xml"])
    for name, value in parsed["values"].items():
        if value is not None and name != "buyer":
            result.fields[name] = Field(value, 1.0, None, 1, f"xml: {parsed['file']}")
    if parsed["values"].get("buyer"):
        result.fields["buyer"] = Field(parsed["values"]["buyer"], 1.0, None, 1, f"xml: {parsed['file']}")
    result.line_items = [dict(li, confidence=1.0, box=None, page=1) for li in parsed["lines"]]
    result.checks.append({"check": f"read from the {parsed['syntax']} XML", "ok": True})
    return result


def disagreements(parsed: dict, printed) -> list[dict]:
    """Fields where the printed page (``printed``: the visual ``Extraction``) gives a value and it
    differs from the XML's, compared as ``botloom eval`` compares values."""
    from .evaluate import expected_value, matches

    out = []
    got = printed.values()
    for name in COMPARED:
        xml_value, page_value = parsed["values"].get(name), got.get(name)
        if xml_value is None or page_value is None:
            continue
        if not matches(name, expected_value(name, xml_value), page_value):
            out.append({"field": name, "xml": xml_value, "printed": page_value})
    return out
