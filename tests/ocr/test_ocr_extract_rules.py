"""Extraction rules on documents the tests build: who issued the invoice (letterhead, web domain,
payee, footer, "on behalf of", logos in a digital PDF), values that look like amounts but are not,
line items read by the table header's columns, and the line-item evaluation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from botloom.nodes.ocr.documents import read_document
from botloom.nodes.ocr.engines import Line, split_words
from botloom.nodes.ocr.evaluate import compare_items, expected_items
from botloom.nodes.ocr.extract import extract
from botloom.nodes.ocr.values import parse_amount
from ocr_docs import font_path, shared_data, write_text_pdf


def ln(text, x, y, h=20):
    box = (x, y, 10 * len(text), h)
    return Line(text, box, 0.99, split_words(text, box, 0.99))


def page(*rows):
    """A 1000-pixel-high page of lines; a last line near the bottom marks the page's extent."""
    return [[ln(*r) for r in rows] + [ln("Page 1 of 1", 400, 990)]]


# ---------------------------------------------------------------- the vendor

def test_the_name_the_documents_web_domain_spells_beats_a_tagline_above_it():
    values = extract(page(("Global Wholesaler", 700, 10), ("Northwind Interiors", 10, 40),
                          ("12 Harbour Road, Fremont", 10, 70), ("Invoice No: INV-77", 10, 200),
                          ("Date: 2024-02-01", 10, 230), ("Total", 10, 400), ("120.00", 300, 400),
                          ("www.northwind-interiors.com  info@northwind-interiors.com", 10, 960))).values()
    assert values["vendor"] == "Northwind Interiors"


def test_the_payee_of_the_bank_details_and_the_footer_name_beat_an_unlabelled_address_block():
    values = extract(page(("Jane Roe", 700, 60), ("5 Elm Street", 700, 90), ("Facture n° 2024118", 10, 200),
                          ("Date : 28/11/2022", 10, 230), ("Total TTC :", 600, 400), ("56,02 €", 800, 400),
                          ("Virement - Titulaire du compte : BRIGHTLINE", 10, 700),
                          ("BRIGHTLINE", 400, 930),
                          ("Siège social : 16 rue Mollien 92100 Boulogne", 10, 960))).values()
    assert values["vendor"] == "BRIGHTLINE"


def test_a_legal_name_issuing_on_behalf_of_a_brand_is_the_vendor_and_the_brand_is_kept_apart():
    result = extract(page(("Kaffeo", 10, 10, 40), ("Factuur VF100", 10, 200), ("Factuur datum 8-9-2022", 10, 230),
                          ("Factuur totaal EUR", 600, 400), ("49,99", 900, 400),
                          ("Beanline Nederland B.V. iov Kaffeo.com", 10, 900),
                          ("E-mail: verkoop@kaffeo.com  Website: kaffeo.com", 10, 930)))
    values = result.values()
    assert values["vendor"] == "Beanline Nederland B.V."
    assert values["vendor_brand"] == "Kaffeo"
    assert "vendor_brand" not in result.low_confidence  # an extra output, never a reason for review


def test_a_shop_name_stays_the_vendor_and_the_owning_company_is_its_legal_name():
    values = extract(page(("PIZZA PALACE", 200, 10), ("TAX INVOICE", 200, 50), ("Date: 11/04/18", 200, 100),
                          ("Grand Total", 200, 500), ("12.40", 600, 500), ("www.pizzapalace.com.my", 200, 850),
                          ("Owned by", 250, 900), ("Palace Foods Sdn Bhd", 200, 930),
                          ("Co. No. 419060-A", 200, 960))).values()
    assert values["vendor"] == "PIZZA PALACE"
    assert values["vendor_legal_name"] == "Palace Foods Sdn Bhd"


def test_a_registration_number_beside_the_name_does_not_hide_it_and_a_suffix_alone_is_no_name():
    values = extract(page(("AEON CO. (M) BHD. (126926-H)", 100, 90), ("3 FLOOR, AEON TAMAN MALURI SC", 100, 130),
                          ("Date: 11/04/18", 10, 300), ("Total", 10, 400), ("8.70", 400, 400))).values()
    assert values["vendor"] == "AEON CO. (M) BHD."
    values = extract(page(("OFF JALAN PUDU", 100, 90), ("Company Reg No.:75495-W", 100, 130),
                          ("Date: 27/03/2018", 10, 300), ("Total", 10, 400), ("8.70", 400, 400))).values()
    assert values["vendor"] != "Company"


def test_a_social_network_the_receipt_links_to_is_not_a_brand():
    values = extract(page(("UNIHAKKA INTERNATIONAL SDN BHD", 10, 10), ("Date: 11/04/18", 10, 100),
                          ("Total", 10, 400), ("8.70", 400, 400), ("Like and Follow Us on Facebook!", 10, 800),
                          ("Facebook.com/BarWangRice", 10, 830))).values()
    assert values["vendor"] == "UNIHAKKA INTERNATIONAL SDN BHD" and values["vendor_brand"] is None


def test_the_vendors_customer_service_is_not_the_customers_address_block():
    values = extract(page(("Free Telecom", 10, 10), ("75371 Paris", 10, 40), ("Facture n°562044387", 10, 200),
                          ("du 02/07/2015", 10, 230), ("Total facture", 10, 400), ("29.99", 600, 400),
                          ("Service Clients", 10, 880), ("Pour toute question, contactez le Service Clients.", 10, 905),
                          ("Free SAS au capital de 3.441.812 Euros - RCS Paris - www.free.fr", 10, 940))).values()
    # the footer's legal name (with the document's own domain) wins over the letterhead's department
    assert values["vendor"] == "Free SAS"


def test_text_in_a_digital_pdfs_logo_is_read_when_asked(tmp_path, rapid):
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw, ImageFont

    bold = font_path(True)
    if bold is None:
        pytest.skip("the DejaVu Sans Bold font is not installed")
    path = write_text_pdf(tmp_path / "logo.pdf", [("Invoice No: INV-5", 60, 250, 24), ("Date: 2024-03-01", 60, 290, 24),
                                                  ("Total", 700, 760, 30), ("99.00 EUR", 1000, 760, 30)])
    logo = Image.new("RGB", (360, 90), "white")
    ImageDraw.Draw(logo).text((12, 14), "Brightline", fill=(200, 30, 30), font=ImageFont.truetype(str(bold), 54))
    pdf = pdfium.PdfDocument(str(path))
    pg = pdf[0]
    image = pdfium.PdfImage.new(pdf)
    image.set_bitmap(pdfium.PdfBitmap.from_pil(logo))
    image.set_matrix(pdfium.PdfMatrix().scale(120, 30).translate(30, pg.get_size()[1] - 60))
    pg.insert_obj(image)
    pg.gen_content()
    with_logo = tmp_path / "with-logo.pdf"
    pdf.save(str(with_logo))
    pdf.close()

    plain = read_document(with_logo, engine=lambda: pytest.fail("no OCR unless asked"))
    assert "Brightline" not in plain[0].text and plain[0].source == "text-layer"
    pages = read_document(with_logo, engine=rapid, image_text=True)
    assert pages[0].source == "text-layer" and "Brightline" in pages[0].text
    logo_line = next(line for line in pages[0].lines if line.text == "Brightline")
    x, y, w, _ = logo_line.box  # placed where the image is on the page (200 dpi: 30 pt = 83 px)
    assert 60 < x < 110 and 60 < y < 120 and w > 150
    assert extract(pages).values()["vendor"] == "Brightline"


def test_image_text_without_an_engine_keeps_the_text_layer(docs):
    from botloom.runner.errors import NodeError

    def missing():
        raise NodeError("engine not installed", kind="missing_dependency")

    messages = []
    pages = read_document(docs["digital-en.pdf"], engine=missing, image_text=True, log=messages.append)
    assert pages[0].source == "text-layer" and "Invoice" in pages[0].text  # no images: nothing to OCR


def test_a_notice_at_the_top_is_not_the_vendor_and_ocr_digits_in_an_initialism_are_letters():
    values = extract(page(("GOODS SOLD ARE NOT RETURNABLE, THSNK YOU", 10, 5), ("SLF CASH & CARRY", 100, 40),
                          ("(002107265-V)", 120, 70), ("NO. 15 JLN TSJ2, TMN SUBANG JASA", 60, 100),
                          ("TOTAL", 10, 400), ("21.20", 300, 400))).values()
    assert values["vendor"] == "SLF CASH & CARRY"
    values = extract(page(("31803042", 10, 5), ("MR. D.1.Y. (M) SDN BHD", 100, 40), ("(C0.REG :860671-D)", 120, 70),
                          ("TOTAL", 10, 400), ("21.20", 300, 400))).values()
    assert values["vendor"] == "MR. D.I.Y. (M) SDN BHD"


# ---------------------------------------------------------------- values that are not what they look like

def test_a_short_date_is_not_an_amount():
    assert parse_amount("Zahlungsziel 21.05.14") is None
    assert parse_amount("21.05 EUR") == Decimal("21.05")


def test_payment_terms_are_not_the_net_amount_and_a_tax_rate_is_not_the_tax():
    values = extract(page(("Acme GmbH", 10, 10), ("Rechnungsnr. 4711", 10, 100), ("Rechnungsdatum 07.05.2014", 10, 130),
                          ("Qty", 300, 250), ("Price", 450, 250), ("Tax(%)", 600, 250), ("Total", 800, 250),
                          ("Paper", 10, 290), ("1", 300, 290), ("278.61", 450, 290), ("14.50%", 600, 290),
                          ("319.00", 800, 290), ("Grand Total", 600, 400), ("319.00", 800, 400),
                          ("Zahlungsbedingungen", 10, 600), ("14 Tage netto", 300, 600),
                          ("Zahlungsziel", 10, 630), ("21.05.14", 300, 630))).values()
    assert values["total"] == "319.00" and values["tax"] is None and values["subtotal"] is None


def test_a_number_after_a_hash_sign_is_the_invoice_number():
    values = extract(page(("Sammy Stone", 10, 10), ("INVOICE", 700, 10, 50), ("# inv_number_7", 700, 80),
                          ("Date:", 600, 150), ("Jan 1, 2022", 800, 150), ("Total:", 600, 400),
                          ("$127.50", 800, 400))).values()
    assert values["invoice_number"] == "inv_number_7"


def test_a_date_label_beats_french_du_in_an_item_line():
    values = extract(page(("Acme SARL", 10, 10), ("Date :", 10, 200), ("28/11/2022", 120, 200),
                          ("Facture n° 2022089083", 10, 240), ("Désignation", 10, 300), ("Montant HT", 800, 300),
                          ("annonce du 06/12/2022", 10, 340), ("45,93 €", 800, 340),
                          ("Total TTC :", 600, 500), ("56,02 €", 800, 500))).values()
    assert values["invoice_date"] == "2022-11-28"
    only_du = extract(page(("Acme SARL", 10, 10), ("Facture n°562044387 du 02 Juillet 2015", 10, 200),
                           ("Total facture", 10, 400), ("29.99", 600, 400))).values()
    assert only_du["invoice_date"] == "2015-07-02"


def test_the_tax_amount_label_beats_a_tax_category_in_a_later_table_row():
    # "Steuerbetrag" is the document's tax; the charges table below names a tax category per row
    values = extract(page(("Lieferant GmbH", 10, 10), ("Rechnungsnummer: 471102", 10, 60),
                          ("Rechnungssumme ohne USt.", 300, 200), ("177,49", 800, 200),
                          ("Steuerbetrag", 300, 230), ("20,16", 800, 230), ("Bruttosumme", 300, 260),
                          ("197,65", 800, 260), ("Zu- und Abschläge", 10, 400), ("Art Prozent Basisbetrag Steuer Betrag", 10, 430),
                          ("Zuschlag Versandkosten", 10, 460), ("115,30", 400, 460), ("7 % UST (S)", 600, 460),
                          ("5,80", 800, 460))).values()
    assert values["tax"] == "20.16" and values["total"] == "197.65"


def test_the_documents_own_dates_settle_how_an_ambiguous_date_reads():
    from botloom.nodes.ocr.values import document_date_order

    rows = (("Au Bon Moulin", 10, 10), ("Invoice Date", 10, 100), ("11/03/2017", 300, 100), ("Due Date", 10, 130),
            ("12/03/2017", 300, 130), ("Delivered 11/17/2017", 10, 300), ("Due payable: 571.04 €", 10, 500),
            ("VAT total: 75.04 €", 10, 470), ("Net total: 496.00 €", 10, 440))
    values = extract(page(*rows)).values()
    assert values["invoice_date"] == "2017-11-03" and values["due_date"] == "2017-12-03"  # 11/17: month first
    assert values["total"] == "571.04"  # "VAT total" is the tax's total, "due payable" the amount due
    assert document_date_order(["17/11/2017", "03/11/2017"], "MDY") == "DMY"
    assert document_date_order(["03/11/2017"], "MDY") == "MDY"  # nothing settles it: as asked
    assert document_date_order(["17/11/2017", "11/17/2017"], "DMY") == "DMY"  # both ways: as asked


def test_the_invoice_total_is_its_gross_sum_not_the_amount_due_with_earlier_open_items():
    rows = [("Versicherer AG", 10, 10), ("Rechnungssumme ohne USt.", 300, 200), ("220,00", 800, 200),
            ("Bruttosumme", 300, 230), ("220,00", 800, 230), ("Offene Zahlungen", 300, 260), ("220,00", 800, 260),
            ("Zahlbetrag", 300, 290), ("440,00", 800, 290)]
    assert extract(page(*rows)).values()["total"] == "220.00"
    # without a deposit or open items the amount due is the total; a rounding is no deduction
    assert extract(page(*rows[:5], ("Zahlbetrag", 300, 290), ("440,00", 800, 290))).values()["total"] == "440.00"
    assert extract(page(("Shop Ltd", 10, 10), ("Grand total", 10, 200), ("29.83", 400, 200), ("Amount paid", 10, 230),
                        ("30.00", 400, 230), ("Total due", 10, 260), ("29.85", 400, 260))).values()["total"] == "29.85"


def test_a_vat_id_is_not_a_tax_amount_and_total_taxes_beats_a_rate_row():
    values = extract(page(("Au bon moulin SARL", 10, 10),
                          ("TVA : FR11999999998 - SIRET : 99999999800010 - SARL au capital de 120 000,00 €", 10, 40),
                          ("Avoir AV-2017-0005", 10, 100), ("Facture d'origine FA-2017-0010", 10, 130),
                          ("Total HT", 700, 600), ("218,48 €", 900, 600), ("TVA collectée (vente) 20,0%", 10, 630),
                          ("Total taxes", 700, 630), ("14,99 €", 900, 630), ("TVA collectée (vente) 5,5%", 10, 660),
                          ("543,00 €", 400, 660), ("Total TTC", 700, 690), ("233,47 €", 900, 690))).values()
    assert values["tax"] == "14.99" and values["total"] == "233.47"
    assert values["invoice_number"] == "AV-2017-0005"  # a credit note's own number, not the invoice it corrects


def test_net_and_tax_rows_per_category_add_up_to_the_final_sum():
    values = extract(page(("weclapp SE", 10, 10), ("Rechnung RE1001", 10, 60),
                          ("Positionen netto", 700, 600), ("804,35 €", 1450, 600),
                          ("Versandkosten netto", 700, 630), ("4,99 €", 1470, 630),
                          ("Positionen USt. 19,00% auf 804,35 €", 700, 660), ("152,83 €", 1450, 660),
                          ("Versandkosten USt. 19,00% auf 4,99 €", 700, 690), ("0,95 €", 1470, 690),
                          ("Endsumme", 700, 720), ("963,12 €", 1450, 720))).values()
    assert (values["subtotal"], values["tax"], values["total"]) == ("809.34", "153.78", "963.12")


def test_a_row_of_total_labels_over_values_set_further_down():
    # "TOTAL HT / TOTAL TVA / TOTAL TTC" labels, their values nearly four lines lower; the weak
    # "AMOUNT" of an item table's header, right over its value, does not win
    values = extract(page(("LE FOURNISSEUR", 10, 10), ("FACTURE N° : F20200027", 600, 40),
                          ("U/P AMOUNT", 300, 300, 14), ("100 0.25 25.00", 280, 345, 14),
                          ("TOTAL HT", 600, 700, 14), ("TOTAL TVA", 760, 700, 14), ("TOTAL TTC", 920, 700, 14),
                          ("100,00", 610, 757, 14), ("10,00", 770, 757, 14), ("110,00", 930, 757, 14),
                          ("Acompte :", 760, 800), ("10,00", 930, 800))).values()
    assert values["total"] == "110.00"


# ---------------------------------------------------------------- line items

ITEM_LINES = [
    ("Muster Handel GmbH", 60, 50, 34), ("Rechnungsnr. RE-7781", 60, 170, 24), ("Rechnungsdatum 02.05.2024", 60, 210, 24),
    ("Pos.", 60, 300, 20), ("Menge", 140, 300, 20), ("Beschreibung", 240, 300, 20), ("VK-Preis", 820, 300, 20),
    ("Zeilenbetrag", 1000, 300, 20), ("Ohne MwSt.", 1000, 325, 20),
    ("1", 60, 370, 20), ("2", 140, 370, 20), ("[A-100] Beratung vor Ort", 240, 370, 20), ("90,00", 820, 370, 20),
    ("180,00", 1000, 370, 20), ("Anfahrt und Aufbau", 240, 396, 20), ("01.05.24-02.05.24", 240, 422, 20),
    ("2", 60, 480, 20), ("1", 140, 480, 20), ("Schulung", 240, 480, 20), ("45,50", 820, 480, 20),
    ("45,50", 1000, 480, 20),
    ("Hinweis: Leistungen wie vereinbart erbracht.", 60, 560, 20),
    ("Gesamtbetrag EUR", 700, 640, 24), ("225,50", 1000, 640, 24),
]


def test_line_items_by_the_header_columns_with_codes_details_and_net_amounts(tmp_path):
    result = extract(read_document(write_text_pdf(tmp_path / "items.pdf", ITEM_LINES)))
    items = [(i["description"], i.get("code"), i["quantity"], i["unit_price"], i["amount"], i["details"])
             for i in result.line_items]
    assert items == [("Beratung vor Ort", "A-100", "2", "90.00", "180.00", ["Anfahrt und Aufbau", "01.05.24-02.05.24"]),
                     ("Schulung", None, "1", "45.50", "45.50", [])]
    values = result.values()
    # no tax printed, the columns are net ("Ohne MwSt."): their sum is the subtotal
    assert values["total"] == "225.50" and values["subtotal"] == "225.50" and values["tax"] is None
    assert {"check": "line items add up", "ok": True} in result.checks


def test_line_item_evaluation_pairs_items_by_description():
    expected = expected_items({"lines": [{"sectionheader": "--- Food ---"},
                                         {"name": "Beeswax XL\nAcme beeswax", "qty": 1.0, "price_unit": 42.0,
                                          "price_subtotal": 42.0},
                                         {"name": "Office Chair", "qty": 2, "price_unit": 70.0, "price_subtotal": 140.0},
                                         {"line_note": "delivered in glass"},
                                         {"name": "Olive Oil", "qty": 1, "price_unit": 1.0}]})
    assert [e["description"] for e in expected] == ["Beeswax XL\nAcme beeswax", "Office Chair", "Olive Oil"]
    found = [{"description": "Office Chair", "quantity": "2", "unit_price": "70.00", "amount": "104.00"},
             {"description": "Beeswax XL", "details": ["Acme beeswax"], "quantity": "1", "unit_price": "42.00",
              "amount": "42.00"}]
    result = compare_items(expected, found)
    assert result["counts"] == {"description": [2, 3], "quantity": [2, 3], "unit_price": [2, 3], "amount": [1, 2]}
    assert result["paired"] == 2 and result["found"] == 2


# ---------------------------------------------------------------- real invoices (skipped without ../shared/data)

def _real(name):
    return read_document(shared_data("invoice2data") / name, mode="text")


def test_real_invoice_line_items_with_a_description_over_two_lines():
    items = extract(_real("AzureInterior.pdf")).line_items
    assert [(i["description"], i["quantity"], i["unit_price"], i["amount"]) for i in items] == [
        ("Beeswax XL", "1", "42.00", "42.00"), ("Office Chair", "1", "70.00", "70.00"),
        ("Olive Oil", "1", "1.00", "0.90"), ("Luxury Truffles", "15", "10.00", "150.00")]
    assert items[0]["details"] == ["Acme beeswax"] and items[0]["code"] == "17589684"


def test_real_invoice_line_items_continued_on_a_second_page():
    result = extract(_real("QualityHosting.pdf"))
    items = result.line_items
    assert len(items) == 7 and [i["page"] for i in items] == [1] * 6 + [2]
    assert items[0]["description"] == "Small Business StandardExchange 2010"
    assert items[0]["details"] == ["Grundgebühr pro Einheit", "Dienst: OUDJQ_strukan", "01.05.14-31.05.14"]
    assert sum(Decimal(i["amount"]) for i in items) == Decimal("34.73")
    assert result.values()["subtotal"] == "34.73" and result.values()["total"] == "34.73"


def test_real_invoice_service_lines_with_their_notes():
    items = extract(_real("SammyMaystoneLinesTest.pdf")).line_items
    assert [(i["description"], i["quantity"], i["unit_price"], i["amount"]) for i in items] == [
        ("Service A", "12", "10.00", "120.00"), ("Service B", "5", "1.50", "7.50")]
    assert "Parts: 1 x cap_a" in items[0]["details"] and "Parts: 2 x shop supplies" in items[1]["details"]


def test_real_invoice_vendor_from_the_payee_and_the_footer():
    values = extract(_real("NetpresseInvoice.pdf")).values()
    assert values["vendor"] == "NETPRESSE"  # the page's top-right block is the customer's address


# ---------------------------------------------------------------- a receipt's arithmetic

def test_cash_less_change_gives_the_total_when_its_label_is_misread_and_a_tax_summary_says_total():
    # the total's label is misread ("21-Notal Sales:"); the tax summary's "TOTAL :" row restates
    # the amount before tax; a "Cash" line without an amount (the payment type) comes first, and
    # the vendor's name has "Cash" in it
    values = extract(page(("SLF CASH & CARRY", 10, 10), ("Payment: Cash", 10, 60), ("CASH", 10, 90),
                          ("CRISPO MINYAK 1 21.20", 10, 120), ("21-Notal Sales:", 10, 200), ("21.20", 400, 200),
                          ("CASH :", 10, 300), ("100.00", 400, 300), ("Change :", 10, 330), ("78.80", 400, 330),
                          ("GST SUMMARY", 10, 400), ("SR 6 20.00 1.20", 10, 430), ("TOTAL :", 10, 460),
                          ("20.00", 400, 460))).values()
    assert values["total"] == "21.20"


def test_cash_less_change_not_printed_on_the_page_changes_nothing():
    values = extract(page(("KEDAI RUNCIT MAJU", 10, 10), ("TOTAL", 10, 200), ("29.80", 400, 200),
                          ("CASH", 10, 300), ("20.00", 400, 300), ("CHANGE", 10, 330), ("0.00", 400, 330))).values()
    assert values["total"] == "29.80"  # paid partly in cash: 20.00 is not printed as an amount above


def test_a_rounded_total_with_a_word_in_its_label_is_the_amount_paid():
    values = extract(page(("GL HANDICRAFT", 10, 10), ("Subtotal :", 10, 200), ("130.00", 400, 200),
                          ("Total Incl. of GST", 10, 230), ("150.00", 400, 230),  # misread: 130.00 printed
                          ("Total Amt Rounded", 10, 260), ("130.00", 400, 260))).values()
    assert values["total"] == "130.00"  # the rounded total is the one paid, larger amounts above it or not


def test_a_total_equal_to_the_subtotal_becomes_the_subtotal_with_tax_printed_below():
    values = extract(page(("RESTORAN SRI MAJU", 10, 10), ("Subtotal", 10, 200), ("100.00", 400, 200),
                          ("GST 6%", 10, 230), ("6.00", 400, 230), ("Total", 10, 260), ("100.00", 400, 260),
                          ("Amount paid incl. rounding", 10, 290), ("106.00", 400, 290))).values()
    assert values["total"] == "106.00"
