"""Structured e-invoices: UBL and CII (XRechnung, Factur-X / ZUGFeRD) read exactly, hostile XML
refused with a clear error, the extract node on an XML file, and on real Factur-X PDFs (skipped
without ../shared/data) the embedded XML read and compared with the printed page."""

from __future__ import annotations

import pytest
from botloom.nodes.ocr import einvoice
from botloom.runner.sdk import NodeError
from ocr_docs import shared_data

from bots import finished, make, run

UBL = """<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <cbc:ID>UBL-2024-17</cbc:ID><cbc:IssueDate>2024-05-02</cbc:IssueDate><cbc:DueDate>2024-06-01</cbc:DueDate>
 <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode><cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
 <cac:AccountingSupplierParty><cac:Party><cac:PartyName><cbc:Name>Nordlicht</cbc:Name></cac:PartyName>
  <cac:PostalAddress><cbc:StreetName>Hafenstraße 9</cbc:StreetName><cbc:CityName>Hamburg</cbc:CityName>
  <cbc:PostalZone>20457</cbc:PostalZone><cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country>
  </cac:PostalAddress>
  <cac:PartyTaxScheme><cbc:CompanyID>DE123456789</cbc:CompanyID></cac:PartyTaxScheme>
  <cac:PartyLegalEntity><cbc:RegistrationName>Nordlicht Software GmbH</cbc:RegistrationName></cac:PartyLegalEntity>
 </cac:Party></cac:AccountingSupplierParty>
 <cac:AccountingCustomerParty><cac:Party><cac:PartyLegalEntity><cbc:RegistrationName>Kunden AG</cbc:RegistrationName>
 </cac:PartyLegalEntity></cac:Party></cac:AccountingCustomerParty>
 <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">19.00</cbc:TaxAmount></cac:TaxTotal>
 <cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID="EUR">100.00</cbc:LineExtensionAmount>
  <cbc:TaxExclusiveAmount currencyID="EUR">100.00</cbc:TaxExclusiveAmount>
  <cbc:TaxInclusiveAmount currencyID="EUR">119.00</cbc:TaxInclusiveAmount>
  <cbc:PayableAmount currencyID="EUR">119.00</cbc:PayableAmount></cac:LegalMonetaryTotal>
 <cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="HUR">4.000</cbc:InvoicedQuantity>
  <cbc:LineExtensionAmount currencyID="EUR">100.00</cbc:LineExtensionAmount>
  <cac:Item><cbc:Name>Beratung</cbc:Name></cac:Item><cac:Price><cbc:PriceAmount currencyID="EUR">25</cbc:PriceAmount></cac:Price>
 </cac:InvoiceLine>
</Invoice>"""

CII = """<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
 xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
 xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
 <rsm:ExchangedDocument><ram:ID>471102</ram:ID><ram:TypeCode>380</ram:TypeCode>
  <ram:IssueDateTime><udt:DateTimeString format="102">20180305</udt:DateTimeString></ram:IssueDateTime></rsm:ExchangedDocument>
 <rsm:SupplyChainTradeTransaction>
  <ram:IncludedSupplyChainTradeLineItem>
   <ram:SpecifiedTradeProduct><ram:Name>Trennblätter A4</ram:Name></ram:SpecifiedTradeProduct>
   <ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>9.9000</ram:ChargeAmount>
   </ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>
   <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="H87">20.0000</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>
   <ram:SpecifiedLineTradeSettlement><ram:SpecifiedTradeSettlementLineMonetarySummation>
    <ram:LineTotalAmount>198.00</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation>
   </ram:SpecifiedLineTradeSettlement></ram:IncludedSupplyChainTradeLineItem>
  <ram:ApplicableHeaderTradeAgreement>
   <ram:SellerTradeParty><ram:Name>Lieferant GmbH</ram:Name>
    <ram:PostalTradeAddress><ram:PostcodeCode>80333</ram:PostcodeCode><ram:LineOne>Lieferantenstraße 20</ram:LineOne>
    <ram:CityName>München</ram:CityName><ram:CountryID>DE</ram:CountryID></ram:PostalTradeAddress>
    <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">DE123456789</ram:ID></ram:SpecifiedTaxRegistration>
   </ram:SellerTradeParty>
   <ram:BuyerTradeParty><ram:Name>Kunden AG Mitte</ram:Name></ram:BuyerTradeParty>
  </ram:ApplicableHeaderTradeAgreement>
  <ram:ApplicableHeaderTradeSettlement><ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
   <ram:SpecifiedTradePaymentTerms><ram:DueDateDateTime><udt:DateTimeString format="102">20180404</udt:DateTimeString>
   </ram:DueDateDateTime></ram:SpecifiedTradePaymentTerms>
   <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    <ram:LineTotalAmount>198.00</ram:LineTotalAmount><ram:TaxBasisTotalAmount>198.00</ram:TaxBasisTotalAmount>
    <ram:TaxTotalAmount currencyID="EUR">37.62</ram:TaxTotalAmount><ram:GrandTotalAmount>235.62</ram:GrandTotalAmount>
   </ram:SpecifiedTradeSettlementHeaderMonetarySummation></ram:ApplicableHeaderTradeSettlement>
 </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>"""


def test_ubl_invoice_read_exactly():
    out = einvoice.parse(UBL.encode())
    assert out["syntax"] == "UBL Invoice" and out["seller_vat_id"] == "DE123456789"
    assert out["values"] == {"vendor": "Nordlicht Software GmbH", "buyer": "Kunden AG", "invoice_number": "UBL-2024-17",
                             "invoice_date": "2024-05-02", "due_date": "2024-06-01", "currency": "EUR",
                             "subtotal": "100.00", "tax": "19.00", "total": "119.00",
                             "address": "Hafenstraße 9, 20457 Hamburg, DE"}
    assert out["lines"] == [{"description": "Beratung", "quantity": "4", "unit_price": "25.00", "amount": "100.00"}]


def test_cii_invoice_read_exactly():
    out = einvoice.parse(CII.encode())
    assert out["syntax"] == "CII" and out["document_type"] == "380"
    v = out["values"]
    assert (v["vendor"], v["buyer"], v["invoice_number"], v["invoice_date"], v["due_date"]) == (
        "Lieferant GmbH", "Kunden AG Mitte", "471102", "2018-03-05", "2018-04-04")
    assert (v["subtotal"], v["tax"], v["total"], v["address"]) == ("198.00", "37.62", "235.62",
                                                                    "Lieferantenstraße 20, 80333 München, DE")
    assert out["lines"] == [{"description": "Trennblätter A4", "quantity": "20", "unit_price": "9.90", "amount": "198.00"}]


@pytest.mark.parametrize("data, words", [
    (b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaa">]><Invoice>&a;</Invoice>', "DOCTYPE"),
    (b"<Invoice><cbc:ID>1</Invoice>", "not well-formed"),
    (b"<Order><ID>1</ID></Order>", "not an e-invoice"),
])
def test_hostile_or_wrong_xml_gets_a_clear_error(data, words):
    with pytest.raises(NodeError) as err:
        einvoice.parse(data, "upload.xml")
    assert words in str(err.value) and "upload.xml" in str(err.value) and err.value.fix


def _bot(params):
    return make({"start": {"type": "core.start"}, "n": {"type": "ocr.extract_invoice", "params": params}},
                [("start", "n")])


def test_the_extract_node_reads_an_xrechnung_file(tmp_path):
    path = tmp_path / "xrechnung.xml"
    path.write_text(CII, encoding="utf-8")
    result, log = run(_bot({"path": str(path), "review_fields": ["total"]}))
    assert result.state == "succeeded", result.error
    out = finished(log, "n")[0].outputs
    assert out["values"]["total"] == "235.62" and out["values"]["buyer"] == "Kunden AG Mitte"
    assert out["sources"] == ["xml"] and out["review"] is False and out["disagreements"] == []
    assert out["line_items"][0]["amount"] == "198.00"


def test_the_extract_node_refuses_an_unknown_review_field(tmp_path):
    path = tmp_path / "x.xml"
    path.write_text(CII, encoding="utf-8")
    result, _ = run(_bot({"path": str(path), "review_fields": ["totl"]}))
    assert result.state == "failed" and "totl" in str(result.error)


def test_factur_x_pdfs_are_read_from_their_xml_and_compared_with_the_print():
    folder = shared_data("facturx")
    parsed = einvoice.structured(folder / "de_ferd22_EN16931_Einfach_DueDate.pdf")
    assert parsed["file"].endswith("factur-x.xml")
    assert parsed["values"]["vendor"] == "Lieferant GmbH" and parsed["values"]["total"] == "529.87"
    # weclapp's XML rounds its tax per line (153.77, total 963.11); its printed page says 153.78 / 963.12
    from botloom.nodes.ocr.documents import read_document
    from botloom.nodes.ocr.extract import extract

    path = folder / "de_mustang_weclapp_RE1001.pdf"
    parsed = einvoice.structured(path)
    printed = extract(read_document(path, mode="text"))
    diffs = {d["field"]: (d["xml"], d["printed"]) for d in einvoice.disagreements(parsed, printed)}
    assert diffs["total"][0] == "963.11" and diffs["total"][1] != "963.11"
    assert "invoice_number" not in diffs and "invoice_date" not in diffs  # those the page and the XML agree on


def test_a_pdf_without_xml_an_image_or_a_text_file_has_no_structured_data(docs, tmp_path):
    assert einvoice.structured(docs["digital-en.pdf"]) is None
    assert einvoice.structured(docs["invoice-en.png"]) is None
    text = tmp_path / "invoice.txt"
    text.write_text("Invoice INV-1\nTotal 12.00 EUR\n", encoding="utf-8")
    assert einvoice.structured(text) is None
