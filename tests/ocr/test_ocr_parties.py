"""Who issued the invoice and who it is for (labelled seller and buyer blocks, the sender line,
the customer's own names), the issuer's and the shop's address, and three rules for values
that look like something they are not (a name with its address glued on, an article code that
looks like a date, a column header with "Inc."). Documents are generated lines."""

from __future__ import annotations

from botloom.nodes.ocr.engines import Line, split_words
from botloom.nodes.ocr.extract import extract
from botloom.nodes.ocr.values import parse_date


def ln(text, x, y, h=20):
    box = (x, y, 10 * len(text), h)
    return Line(text, box, 0.99, split_words(text, box, 0.99))


def page(*rows):
    return [[ln(*r) for r in rows] + [ln("Page 1 of 1", 400, 990)]]


TOTALS = (("Invoice No: 2024-77", 10, 500), ("Invoice date: 02.03.2024", 10, 530), ("Total", 600, 800),
          ("119.00 EUR", 800, 800))


def test_a_buyer_block_at_the_top_left_is_not_the_issuer():
    # the customer's block comes first and has a legal form; the labelled seller is to its right
    values = extract(page(("Buyer:", 10, 40), ("Kunden Handel GmbH", 10, 70), ("Kundenweg 1, 12345 Berlin", 10, 100),
                          ("Seller:", 600, 40), ("Nordlicht Software", 600, 70), ("Hafenstraße 9, 20457 Hamburg", 600, 100),
                          *TOTALS)).values()
    assert values["vendor"] == "Nordlicht Software"
    assert values["buyer"] == "Kunden Handel GmbH"


def test_a_verkaeufer_block_with_a_name_row_over_two_lines():
    # FeRD's layout: a label column and a value column; the name's first line sits above the "Name:" row
    values = extract(page(("Verkäufer", 10, 100), ("Nummer:", 10, 140), ("549910", 400, 140),
                          ("MVM Musterhafter", 400, 180), ("Name:", 10, 205), ("Versicherungsverein a.G.", 400, 205),
                          ("Anschrift:", 10, 245), ("Musterstr. 12", 400, 245), ("DE 12345 Musterstadt", 400, 275),
                          ("Käufer/Leistungsempfänger", 10, 340), ("Name:", 10, 380), ("Max Mustermann", 400, 380),
                          *TOTALS)).values()
    assert values["vendor"] == "MVM Musterhafter Versicherungsverein a.G."
    assert values["buyer"] == "Max Mustermann"


def test_a_company_called_lieferant_is_not_a_label():
    values = extract(page(("Lieferant GmbH", 10, 40), ("Lieferantenstraße 20, 80333 München", 10, 70),
                          ("Rechnungsempfänger:", 600, 200), ("Kunden AG Mitte", 600, 230), *TOTALS)).values()
    assert values["vendor"] == "Lieferant GmbH" and values["buyer"] == "Kunden AG Mitte"


def test_the_sender_line_over_the_address_window_names_the_issuer():
    values = extract(page(("weclapp.com | Somestreet 42 | 08155 Some city", 10, 150, 12),
                          ("Beispiel AG", 10, 175), ("Feldstraße 34", 10, 200), ("54321 Hithausen", 10, 225),
                          ("Rechnung RE1001", 10, 330, 30), *TOTALS)).values()
    assert values["vendor"] == "weclapp.com"
    assert values["vendor"] != "Beispiel AG"


def test_a_sender_line_whose_parts_and_bullets_are_boxes_of_their_own():
    # a text layer gives "Bei Spiel GmbH", "●", "Ecke 12", ... a box each; the recipient's block
    # under it starts a little to the left of the smaller sender line
    values = extract(page(("Bei Spiel GmbH", 1254, 40), ("Ecke 12", 1254, 70), ("12345 Stadthausen", 1254, 100),
                          ("Bei Spiel GmbH", 228, 335, 15), ("●", 375, 339, 7), ("Ecke 12", 394, 335, 12),
                          ("●", 473, 339, 7), ("12345 Stadthausen ●", 501, 335, 12), ("Germany", 699, 336, 15),
                          ("Theodor Est", 198, 374), ("Bahnstr. 42", 199, 454), ("12345 Stadthausen", 199, 480),
                          *TOTALS)).values()
    assert values["vendor"] == "Bei Spiel GmbH" and values["buyer"] == "Theodor Est"


def test_the_customers_own_names_are_never_the_vendor():
    lines = page(("Acme Robotics Ltd", 10, 40), ("1 Main Street, London", 10, 70),
                 ("Seller:", 600, 300), ("Acme Robotics Ltd", 600, 330), ("Northwind Trading Ltd", 10, 900), *TOTALS)
    assert extract(lines).values()["vendor"] == "Acme Robotics Ltd"
    assert extract(lines, our_names=["ACME ROBOTICS LIMITED"]).values()["vendor"] == "Northwind Trading Ltd"


def test_a_vendor_with_its_address_glued_on_by_bullets():
    values = extract(page(("Brightside Studio • 14 Canal Street, Manchester M1 3HE", 10, 40),
                          *TOTALS)).values()
    assert values["vendor"] == "Brightside Studio"


def test_a_column_header_is_not_a_company():
    values = extract(page(("Description   Qty   Rate   Amt Inc.", 10, 40), ("Harbour Coffee", 10, 80),
                          ("Flat white   2   3.50   7.00", 10, 300), *TOTALS)).values()
    assert values["vendor"] == "Harbour Coffee"


def test_an_article_code_is_not_a_date():
    assert parse_date("Art.-Nr. AB-12-03-21") is None
    assert parse_date("Artikel 4711/01/02/2024 Schraube") is None
    assert parse_date("12-03.2021") is None  # mixed separators
    assert parse_date("Date: 15.03.2024")[0] == "2024-03-15"
    values = extract(page(("Harbour Coffee GmbH", 10, 40), ("Art.-Nr. 10-11-2023 Kaffeebohnen", 10, 300),
                          ("Lieferdatum 14.11.2023", 10, 340), ("Total", 600, 800), ("12.00 EUR", 800, 800))).values()
    assert values["invoice_date"] == "2023-11-14"


# ---------------------------------------------------------------- addresses

def test_a_receipts_address_skips_the_registration_number_and_ends_at_the_phone():
    values = extract(page(("GERBANG ALAF RESTAURANTS SDN BHD", 40, 40), ("(65351-M)", 150, 70),
                          ("FORMERLY KNOWN AS", 140, 100), ("GOLDEN ARCHES RESTAURANTS SDN BHD", 30, 130),
                          ("LEVEL 6, BANGUNAN TH, DAMANSARA UPTOWN3", 10, 160),
                          ("NO.3, JALAN SS21/39,47400 PETALING JAYA", 10, 190), ("SELANGOR", 150, 220),
                          ("TEL NO: 03-77262777", 120, 250), ("GST ID NO: 000504664064", 100, 280),
                          ("TOTAL", 10, 600), ("26.60", 400, 600))).values()
    assert values["address"] == "LEVEL 6, BANGUNAN TH, DAMANSARA UPTOWN3 NO.3, JALAN SS21/39, 47400 PETALING JAYA SELANGOR"
    assert values["vendor"] == "GERBANG ALAF RESTAURANTS SDN BHD"


def test_a_street_line_without_a_street_word_before_a_postcode_line():
    values = extract(page(("RELAIS TOTAL OULMES", 40, 40), ("AUTOROUTE RABAT MEKNES", 40, 70),
                          ("15000 KHEMISSET", 60, 100), ("TEL. : 05.22.95.66.66", 40, 130),
                          ("TOTAL", 10, 600), ("12.00", 400, 600))).values()
    assert values["address"] == "AUTOROUTE RABAT MEKNES 15000 KHEMISSET"


def test_ocr_confusions_in_an_address_are_undone():
    values = extract(page(("YONG CEN ENTERPRISE", 40, 40), ("L0T 9, JALAN SUBANG JASA 3,", 40, 70),
                          ("4015O SHAH ALAM, SELANGOR. TEL: 012-9719498", 40, 100),
                          ("TOTAL", 10, 600), ("12.00", 400, 600))).values()
    assert values["address"] == "LOT 9, JALAN SUBANG JASA 3, 40150 SHAH ALAM, SELANGOR."


def test_misread_malaysian_address_words_are_read_as_the_word_and_a_glued_tax_id_ends_the_address():
    values = extract(page(("KEDAI MAKAN SRI WANGI SDN BHD", 40, 40), ("12, JA:AN TAMPOI 7/4, KAWASAN PERINDUSTRÍAN", 40, 70),
                          ("TAMPOI,8120o Jahor Bahru, SELANGOR DIARUL EHSAN GSTID:002139201536", 40, 100),
                          ("TOTAL", 10, 600), ("12.00", 400, 600))).values()
    assert values["address"] == ("12, JALAN TAMPOI 7/4, KAWASAN PERINDUSTRIAN TAMPOI, 81200 Johor Bahru, "
                                 "SELANGOR DARUL EHSAN")


def test_address_words_are_left_alone_outside_a_malaysian_address_and_when_two_words_are_as_near():
    from botloom.nodes.ocr.address import normalise

    assert normalise("12 Sarah Street, Avevue House, Leeds") == "12 Sarah Street, Avevue House, Leeds"
    assert normalise("JALAN ULU KELANG, 54200 KUALA LUMPUR") == "JALAN ULU KELANG, 54200 KUALA LUMPUR"  # a spelling of its own
    assert normalise("JALAN RAYA, PETALING JAYA") == "JALAN RAYA, PETALING JAYA"  # short words never change
    # digits for letters in a short address word, undone only when the whole word comes out
    assert normalise("1.0T 1851-A & 1851-B, JALAN KPB 6") == "LOT 1851-A & 1851-B, JALAN KPB 6"
    assert normalise("NO. 15 JLN TSJ2, TMN SUBANG") == "NO. 15 JLN TSJ2, TMN SUBANG"


def test_the_number_after_a_document_type_and_its_code_is_the_invoice_number():
    for title, number in (("Handelsrechnung (380) Nr. 471102 vom", "471102"),
                          ("Rechnung des Versicherers (575) Nr. 01.234.567.8-2018-1 vom", "01.234.567.8-2018-1"),
                          ("Gutschrift (381) Nr. RK21012345 vom", "RK21012345")):
        values = extract(page((title, 10, 40, 30), ("05.03.2018", 700, 40), ("Lieferant GmbH", 10, 200),
                              ("Bestellnummer: 2018-471331", 10, 300), ("Total", 600, 800),
                              ("119.00 EUR", 800, 800))).values()
        assert values["invoice_number"] == number, title


def test_the_extract_node_takes_our_names(tmp_path):
    from bots import finished, make, run

    path = tmp_path / "invoice.txt"
    path.write_text("Acme Robotics Ltd\n1 Main Street, London\n\nINVOICE\nInvoice number: INV-9\n"
                    "Invoice date: 03/11/2026\n\nTotal                 GBP 96.00\n\n"
                    "Payable to: Northwind Trading Ltd\n", encoding="utf-8")

    def vendor(**params):
        bot = make({"start": {"type": "core.start"},
                    "n": {"type": "ocr.extract_invoice", "params": {"path": str(path), **params}}}, [("start", "n")])
        result, log = run(bot)
        assert result.state == "succeeded", result.error
        return finished(log, "n")[0].outputs["values"]["vendor"]

    assert vendor() == "Acme Robotics Ltd"
    assert vendor(our_names=["ACME ROBOTICS LIMITED"]) == "Northwind Trading Ltd"
