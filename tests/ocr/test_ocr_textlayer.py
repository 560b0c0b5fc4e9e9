"""Text-layer quality: unmapped glyphs are not text, and such a page is OCR'd instead (its
source recorded per page)."""

from __future__ import annotations

import zlib

from botloom.nodes.ocr.documents import read_pdf
from botloom.nodes.ocr.extract import extract
from botloom.nodes.ocr.textlayer import assess
from ocr_docs import EN_LINES, PAGE, render, write_pdf_objects


def test_real_text_is_readable_in_several_languages():
    for text in ("Invoice No INV-1 Total 148.51 EUR thank you for your business",
                 "Rechnung Nr 123 vom 01.02.2024 Gesamtbetrag 100,00 EUR Lieferant GmbH",
                 "Facture n° 12 du 02/07/2015 montant total TTC pour le client"):
        assert assess([text])[0], text
    assert assess(["4711 0815 12.00 13.50 99.99"])[0]  # figures alone are not a reason to OCR


def test_unmapped_glyphs_are_not_text():
    assert not assess(["\ue001\ue002\ue003 \ue004\ue005\ue006"] * 5)[0]
    assert not assess(["(cid:12)(cid:44)(cid:3)(cid:18) (cid:52)(cid:9)"] * 5)[0]
    assert not assess(["\ufffd\ufffd\ufffd \ufffd\ufffd"] * 5)[0]
    ok, why = assess(["Ë×ÛÏ ÓÜÏÌ ÑÔÒÏ ÐÕÑÏÑ Ö×ÚÛ ÝÛÜÏ ÙÏÚÙ ÎÏÌÛÏ"])
    assert not ok and "common word" in why
    ok, why = assess(["Xkqzt Vbnrw Plmkj Qwrtz Zxcvb Mnbvc Lkjhg Trwqp Sdfgh"])
    assert not ok


def _pdf_with_glyph_layer(path, image):
    """A one-page PDF: the invoice as a picture, under a text layer whose characters map to the
    private-use area (a font without a usable character map)."""
    w, h = PAGE[0] * 72 / 150, PAGE[1] * 72 / 150
    rgb = image.convert("RGB")
    data = zlib.compress(rgb.tobytes())
    diffs = " ".join(f"/uniE{c:03X}" for c in range(32, 127))
    text = "BT /F1 12 Tf 40 700 Td (Invoice No INV 2024 0042 Total 148.51 EUR) Tj ET"
    content = f"q {w:.1f} 0 0 {h:.1f} 0 0 cm /Im1 Do Q 3 Tr {text}".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w:.1f} {h:.1f}] /Resources << /Font << /F1 4 0 R >> "
        f"/XObject << /Im1 6 0 R >> >> /Contents 5 0 R >>".encode(),
        f"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding /Differences [32 {diffs}] >> >>".encode(),
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        f"<< /Type /XObject /Subtype /Image /Width {rgb.width} /Height {rgb.height} /ColorSpace /DeviceRGB "
        f"/BitsPerComponent 8 /Filter /FlateDecode /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream",
    ]
    return write_pdf_objects(path, objects)


def test_a_page_of_unmapped_glyphs_is_read_by_ocr(tmp_path, rapid):
    path = _pdf_with_glyph_layer(tmp_path / "glyphs.pdf", render(EN_LINES))
    layer = read_pdf(path, mode="text")[0]
    assert not assess(layer.lines)[0], layer.text  # the layer really is unmapped glyphs
    said = []
    pages = read_pdf(path, mode="auto", engine=rapid, log=said.append)
    assert pages[0].source == "ocr" and "not text" in said[0]
    extraction = extract(pages)
    assert extraction.sources == ["ocr"]
    assert extraction.values()["total"] == "148.51" and extraction.values()["invoice_number"] == "INV-2024-0042"
