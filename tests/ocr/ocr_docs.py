"""Documents the OCR tests generate, with known fields (imported by tests/ocr/conftest.py and
the test modules; a uniquely named module, unlike conftest, so imports never pick another
area's helpers)."""

from __future__ import annotations

from pathlib import Path

import pytest

FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/Library/Fonts", "C:/Windows/Fonts"]
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"

# The invoice every generated document shows, and what the extractor must return for it.
EN_LINES = [
    ("Acme Office Supplies GmbH", 60, 50, 34),
    ("Hauptstrasse 12, 10115 Berlin", 60, 100, 22),
    ("INVOICE", 60, 170, 40),
    ("Invoice No: INV-2024-0042", 60, 250, 24),
    ("Invoice Date: 15.03.2024", 60, 290, 24),
    ("Due Date: 14.04.2024", 60, 330, 24),
    ("Bill to: Example Customer Ltd, 1 Main Street, London", 60, 390, 22),
    ("Description", 60, 470, 24), ("Qty", 700, 470, 24), ("Unit price", 830, 470, 24), ("Amount", 1080, 470, 24),
    ("Printer paper A4", 60, 520, 24), ("10", 700, 520, 24), ("4.50", 830, 520, 24), ("45.00", 1080, 520, 24),
    ("Toner cartridge", 60, 565, 24), ("2", 700, 565, 24), ("39.90", 830, 565, 24), ("79.80", 1080, 565, 24),
    ("Subtotal", 700, 660, 26), ("124.80 EUR", 1000, 660, 26),
    ("VAT 19%", 700, 710, 26), ("23.71 EUR", 1000, 710, 26),
    ("Total", 700, 760, 30), ("148.51 EUR", 1000, 760, 30),
    ("Thank you for your business.", 60, 900, 22),
]
DE_LINES = [
    ("Muster Handel GmbH", 60, 50, 34),
    ("Lindenweg 5, 80331 München", 60, 100, 22),
    ("RECHNUNG", 60, 170, 40),
    ("Rechnungsnummer: RE-7781", 60, 250, 24),
    ("Rechnungsdatum: 02.05.2024", 60, 290, 24),
    ("Fällig am: 16.05.2024", 60, 330, 24),
    ("Beschreibung", 60, 470, 24), ("Menge", 700, 470, 24), ("Einzelpreis", 830, 470, 24), ("Betrag", 1080, 470, 24),
    ("Beratung Stunden", 60, 520, 24), ("4", 700, 520, 24), ("340,00", 830, 520, 24), ("1.360,00", 1080, 520, 24),
    ("Nettobetrag", 700, 660, 26), ("1.360,00 €", 1000, 660, 26),
    ("MwSt. 19%", 700, 710, 26), ("258,40 €", 1000, 710, 26),
    ("Gesamtbetrag", 700, 760, 30), ("1.618,40 €", 1000, 760, 30),
]
EN_FIELDS = {"vendor": "Acme Office Supplies GmbH", "invoice_number": "INV-2024-0042",
             "invoice_date": "2024-03-15", "due_date": "2024-04-14", "currency": "EUR",
             "subtotal": "124.80", "tax": "23.71", "total": "148.51", "address": "Hauptstrasse 12, 10115 Berlin",
             "vendor_brand": None, "vendor_legal_name": None, "buyer": "Example Customer Ltd"}
DE_FIELDS = {"vendor": "Muster Handel GmbH", "invoice_number": "RE-7781", "invoice_date": "2024-05-02",
             "due_date": "2024-05-16", "currency": "EUR", "subtotal": "1360.00", "tax": "258.40", "total": "1618.40",
             "address": "Lindenweg 5, 80331 München", "vendor_brand": None, "vendor_legal_name": None, "buyer": None}
PAGE = (1240, 1754)  # A4 at 150 dpi


def font_path(bold: bool = False) -> Path | None:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FONT_DIRS:
        p = Path(folder) / name
        if p.exists():
            return p
    return None


def render(lines, size=PAGE):
    from PIL import Image, ImageDraw, ImageFont

    path = font_path()
    if path is None:
        pytest.skip("the DejaVu Sans font is not installed (apt-get install fonts-dejavu-core)")
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    for text, x, y, px in lines:
        draw.text((x, y), text, fill=(20, 20, 20), font=ImageFont.truetype(str(path), px))
    return img


def degrade(img, seed: int = 7):
    """A scanned-looking copy: slight rotation, blur, grey paper, noise (deterministic)."""
    import numpy as np
    from PIL import Image, ImageFilter

    rotated = img.rotate(0.8, resample=Image.BICUBIC, expand=False, fillcolor=(255, 255, 255))
    blurred = rotated.filter(ImageFilter.GaussianBlur(0.9))
    arr = np.asarray(blurred).astype(np.int16)
    rng = np.random.default_rng(seed)
    arr = arr * 0.88 + 18 + rng.normal(0, 14, arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def write_text_pdf(path: Path, lines, size=PAGE, dpi: int = 150, encrypt: bool = False) -> Path:
    """A one-page PDF whose text is real text (Helvetica, WinAnsi), placed where ``render``
    draws it. ``encrypt`` adds a standard-security-handler dictionary with a user password
    (the content is not really encrypted: enough for a reader to ask for the password)."""
    scale = 72.0 / dpi
    w, h = size[0] * scale, size[1] * scale
    ops = []
    for text, x, y, px in lines:
        pt = px * scale
        safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"BT /F1 {pt:.1f} Tf {x * scale:.1f} {h - y * scale - pt:.1f} Td ({safe}) Tj ET")
    content = "\n".join(ops).encode("cp1252")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w:.1f} {h:.1f}] /Resources << /Font << /F1 4 0 R >> >> "
        f"/Contents 5 0 R >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
    ]
    if encrypt:
        objects.append(b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 +
                       b"> /P -4 >>")
    extra = f" /Encrypt {len(objects)} 0 R /ID [<{'ab' * 16}> <{'ab' * 16}>]" if encrypt else ""
    return write_pdf_objects(path, objects, extra)


def write_pdf_objects(path: Path, objects: list[bytes], trailer_extra: str = "") -> Path:
    """A PDF file of numbered objects (1 is the catalog), with its cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R" + trailer_extra
    out += (trailer + f" >>\nstartxref\n{xref}\n%%EOF\n").encode()
    path.write_bytes(bytes(out))
    return path


def shared_data(name: str) -> Path:
    folder = SHARED / name
    if not folder.is_dir():
        pytest.skip(f"the shared sample data {folder} is not present (a plain clone has no ../shared)")
    return folder
