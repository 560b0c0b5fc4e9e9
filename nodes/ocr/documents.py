"""Documents in, page images or text lines out: images, PDFs (digital or scanned), text files.

A digital PDF page (one with a readable text layer) is read from that layer, with boxes, without
OCR; a scanned page, or one whose text layer is unmapped glyphs (``textlayer.assess``), is
rendered with pypdfium2 and OCR'd, and its result's ``source`` says which ("text-layer", "ocr"). Every user-caused failure (missing,
unreadable or corrupt file, encrypted PDF, page out of range) is a ``NodeError`` that says what
to do.
"""

from __future__ import annotations

import time
from pathlib import Path

from botloom.runner.sdk import BotloomError, NodeError, os_failure

from .engines import Line, OcrResult, Word, merge_fragments, reading_order, split_words, union_box

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp", ".pbm", ".pgm", ".ppm"}
PDF_INSTALL = "pip install 'botloom[ocr]'"
MIN_TEXT_LAYER_CHARS = 20  # fewer printable characters than this: treat the page as scanned
DEFAULT_DPI = 200


def kind_of(path: Path) -> str:
    """"pdf", "image" or "text", from the file's first bytes (then its suffix)."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise os_failure(None, exc, path, "read") from None
    if head.startswith(b"%PDF"):
        return "pdf"
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        raise NodeError(f"{path} is not a valid PDF (it does not start with %PDF)", kind="bad_input",
                        fix="the file is damaged or is another format renamed to .pdf; open it in a viewer "
                            "and save or export it again")
    if suffix in (".txt", ".text", ".csv"):
        return "text"
    return "image"


def load_image(path: Path):
    """The file as an RGB numpy array; a clear error for a corrupt or unknown image."""
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    kind_of(path)  # existence and folder checks
    try:
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img)
            return np.asarray(img.convert("RGB"))
    except UnidentifiedImageError:
        raise NodeError(f"cannot read {path} as an image: unknown or damaged format", kind="bad_input",
                        fix="use PNG, JPEG, TIFF, BMP or PDF; if it is one of those, the file is damaged") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise NodeError(f"cannot read {path} as an image: {exc}", kind="bad_input",
                        fix="the file is truncated or damaged; get a fresh copy") from None


# ---------------------------------------------------------------- PDF

def open_pdf(path: Path, password: str | None = None):
    try:
        import pypdfium2 as pdfium
    except ImportError:
        raise NodeError("reading PDFs needs the Python package 'pypdfium2'", kind="missing_dependency",
                        fix=f"run: {PDF_INSTALL}") from None
    kind_of(path)
    try:
        return pdfium.PdfDocument(str(path), password=password or None)
    except pdfium.PdfiumError as exc:
        text = str(exc).lower()
        if "password" in text:
            if password:
                raise NodeError(f"wrong password for the encrypted PDF {path}", kind="encrypted",
                                fix="check the password (store it as a secret and pass it to the password "
                                    "parameter)") from None
            raise NodeError(f"the PDF {path} is encrypted (password protected)", kind="encrypted",
                            fix="give the password in the node's password parameter, or ask the sender for an "
                                "unprotected copy") from None
        raise NodeError(f"cannot open the PDF {path}: it is damaged or not a PDF ({exc})", kind="bad_input",
                        fix="open it in a PDF viewer; if that fails too, ask for a new copy") from None


def page_indexes(pages, count: int, path: Path) -> list[int]:
    """Zero-based page indexes from a 1-based spec: None/"" (all), 3, "1-3,5", [1, 2]."""
    if pages in (None, "", "all", 0):
        return list(range(count))
    wanted: list[int] = []
    if isinstance(pages, (int, float)):
        items = [str(int(pages))]
    elif isinstance(pages, (list, tuple)):
        items = [str(p) for p in pages]
    else:
        items = [p.strip() for p in str(pages).split(",") if p.strip()]
    for item in items:
        try:
            if "-" in item.lstrip("-"):
                a, b = item.split("-", 1)
                lo, hi = int(a), int(b) if b.strip() else count
            else:
                lo = hi = int(item)
        except ValueError:
            raise NodeError(f"bad page number '{item}'", kind="bad_input",
                            fix="give page numbers from 1, e.g. 1, 2-4 or 1,3") from None
        if lo == -1 and hi == -1:
            lo = hi = count
        for p in (lo, hi):
            if p < 1 or p > count:
                raise NodeError(f"page {p} is out of range: {path} has {count} page{'s' if count != 1 else ''}",
                                kind="page_out_of_range", fix=f"give a page from 1 to {count}")
        wanted.extend(range(lo - 1, hi))
    return wanted


def text_layer_lines(page, scale: float) -> list[Line]:
    """The page's text layer as lines with word boxes, in pixels of a render at ``scale``.

    Built from PDFium's characters (its text order already joins words and breaks lines, which
    per-character kerning in some PDFs would otherwise scatter); a wide horizontal gap inside a
    line (a column gap) starts a new box."""
    textpage = page.get_textpage()
    _, height = page.get_size()
    try:
        n = textpage.count_chars()
        text = textpage.get_text_range(0, n) if n else ""
        if len(text) != n:  # surrogate pairs or odd encodings: fall back to one call per character
            text = "".join(textpage.get_text_range(i, 1)[:1] or " " for i in range(n))
        chars = []  # (char, box in pixels) ; box None for generated spaces / breaks
        for i, ch in enumerate(text):
            if ch in "\r\n":
                chars.append(("\n", None))
                continue
            left, bottom, right, top = textpage.get_charbox(i, loose=False)
            if ch.isspace() or right <= left:
                chars.append((" ", None))
                continue
            chars.append((ch, (left * scale, (height - top) * scale, right * scale, (height - bottom) * scale)))
    finally:
        textpage.close()
    lines: list[Line] = []
    words: list[tuple[str, tuple]] = []
    cur, cur_box = "", None

    def end_word():
        nonlocal cur, cur_box
        if cur and cur_box:
            words.append((cur, cur_box))
        cur, cur_box = "", None

    def end_line():
        end_word()
        if words:
            ws = [Word(t, (int(b[0]), int(b[1]), max(1, int(b[2] - b[0])), max(1, int(b[3] - b[1]))), 1.0)
                  for t, b in words]
            lines.append(Line(" ".join(w.text for w in ws), union_box(w.box for w in ws), 1.0, ws))
        words.clear()

    for ch, box in chars:
        if ch == "\n":
            end_line()
            continue
        if box is None:
            end_word()
            continue
        if cur_box is not None:
            h = max(1.0, cur_box[3] - cur_box[1])
            if box[0] - cur_box[2] > 0.6 * h or abs(box[1] - cur_box[1]) > 0.8 * h:
                end_word()
        elif words:
            prev = words[-1][1]
            h = max(1.0, prev[3] - prev[1])
            if box[0] - prev[2] > 1.5 * h or box[0] < prev[0] or abs(box[1] - prev[1]) > 0.8 * h:
                end_line()
        if cur_box is None:
            cur, cur_box = ch, box
        else:
            cur += ch
            cur_box = (min(cur_box[0], box[0]), min(cur_box[1], box[1]), max(cur_box[2], box[2]),
                       max(cur_box[3], box[3]))
    end_line()
    return merge_fragments(lines, max_gap=0.8)  # pieces of one row that PDFium ordered apart


def render_page(page, dpi: int = DEFAULT_DPI):
    import numpy as np

    bitmap = page.render(scale=dpi / 72.0)
    try:
        return np.asarray(bitmap.to_pil().convert("RGB"))
    finally:
        bitmap.close()


IMAGE_TEXT_MIN_PT = (24.0, 8.0)   # an image smaller than this (width, height in points) holds no readable text
IMAGE_TEXT_MAX_SHARE = 0.4        # an image covering more of the page is a scanned page, not a logo
IMAGE_TEXT_TARGET_PX = 110        # render an image region so that it is at least this many pixels high
IMAGE_TEXT_MAX_DPI = 400
IMAGE_TEXT_MAX_IMAGES = 6        # per page
LOGO_MAX_PT = 120                 # an image at most this high whose text is a few short lines: a logo


def image_regions(page, lines: list[Line], scale: float) -> list[tuple[float, float, float, float]]:
    """(left, bottom, right, top) in PDF points of the page's images that may carry text the
    text layer lacks (logos, a letterhead pasted as a picture): not tiny, not a full-page scan,
    and with no text-layer words over them (a scanned PDF with a hidden OCR layer)."""
    try:
        import pypdfium2.raw as pdfium_c
    except ImportError:
        return []
    width, height = page.get_size()
    regions = []
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4):
        left, bottom, right, top = obj.get_bounds()
        left, bottom, right, top = max(0.0, left), max(0.0, bottom), min(width, right), min(height, top)
        w, h = right - left, top - bottom
        if w < IMAGE_TEXT_MIN_PT[0] or h < IMAGE_TEXT_MIN_PT[1] or w * h > IMAGE_TEXT_MAX_SHARE * width * height:
            continue
        x0, y0, x1, y1 = left * scale, (height - top) * scale, right * scale, (height - bottom) * scale
        covered = sum(1 for ln in lines for wd in (ln.words or [ln])
                      if x0 <= wd.box[0] + wd.box[2] / 2 <= x1 and y0 <= wd.box[1] + wd.box[3] / 2 <= y1)
        if covered >= 2:
            continue
        if any(abs(left - r[0]) < 1 and abs(top - r[3]) < 1 for r in regions):  # the same image drawn twice
            continue
        regions.append((left, bottom, right, top))
    # a page of product pictures: the header's and footer's images first (logos), then the largest
    regions.sort(key=lambda r: (not (r[3] >= 0.75 * height or r[1] <= 0.25 * height), -(r[2] - r[0]) * (r[3] - r[1])))
    return regions[:IMAGE_TEXT_MAX_IMAGES]


def image_text_lines(page, regions, ocr, scale: float) -> list[Line]:
    """OCR each image region (rendered large enough to read a small logo) and return its lines in
    the pixels of a page render at ``scale``."""
    import numpy as np

    width, height = page.get_size()
    out: list[Line] = []
    for left, bottom, right, top in regions:
        s = min(max(scale, IMAGE_TEXT_TARGET_PX / max(1.0, top - bottom)), IMAGE_TEXT_MAX_DPI / 72.0)
        bitmap = page.render(scale=s, crop=(left, bottom, width - right, height - top))
        try:
            image = np.asarray(bitmap.to_pil().convert("RGB"))
        finally:
            bitmap.close()
        if image.size == 0:
            continue
        k = scale / s  # region pixels -> page pixels

        def place(box, k=k, x0=left * scale, y0=(height - top) * scale):
            x, y, w, h = box
            return int(x0 + x * k), int(y0 + y * k), max(1, int(w * k)), max(1, int(h * k))

        found = [Line(ln.text, place(ln.box), ln.confidence, [Word(wd.text, place(wd.box), wd.confidence)
                                                              for wd in ln.words])
                 for ln in reading_order(ocr.read(image).lines)]
        if 1 < len(found) <= 3 and top - bottom <= LOGO_MAX_PT and all(len(ln.text.split()) <= 3 for ln in found):
            # a logo set over two or three lines ("azure" over "interior") is one name
            words = [wd for ln in found for wd in (ln.words or [Word(ln.text, ln.box, ln.confidence)])]
            found = [Line(" ".join(ln.text for ln in found), union_box(ln.box for ln in found),
                          min(ln.confidence for ln in found), words)]
        out += found
    return out


def read_pdf(path: Path, *, pages=None, mode: str = "auto", engine=None, dpi: int = DEFAULT_DPI,
             password: str | None = None, check_cancelled=None, image_text: bool = False,
             log=None) -> list[OcrResult]:
    """One ``OcrResult`` per wanted page. ``mode``: "auto" (text layer when the page has one,
    OCR otherwise), "text" (text layer only), "ocr" (always render and OCR). ``engine`` is an
    ``OcrEngine`` or a zero-argument callable returning one (loaded only if a page needs OCR).

    ``image_text`` (mode "auto" only): on a page read from its text layer, also OCR the images
    that may hold text the layer lacks (a logo with the sender's name, a letterhead pasted as a
    picture) and add their lines. Skipped (with a message to ``log``) when no OCR engine can be
    loaded."""
    pdf = open_pdf(path, password)
    loaded = []

    def get_ocr():
        if not loaded:
            loaded.append(engine() if callable(engine) and not hasattr(engine, "read") else engine)
        return loaded[0]

    try:
        results = []
        for index in page_indexes(pages, len(pdf), path):
            if check_cancelled:
                check_cancelled()
            page = pdf[index]
            try:
                started = time.perf_counter()
                scale = dpi / 72.0
                w, h = page.get_size()
                lines = [] if mode == "ocr" else text_layer_lines(page, scale)
                printable = sum(len(ln.text.replace(" ", "")) for ln in lines)
                readable = True
                if mode == "auto" and printable >= MIN_TEXT_LAYER_CHARS:
                    from .textlayer import assess

                    readable, why = assess(lines)
                    if not readable and log:
                        log(f"page {index + 1}: the text layer is not text ({why}): reading the page by OCR")
                if mode == "text" or (mode == "auto" and printable >= MIN_TEXT_LAYER_CHARS and readable):
                    regions = (image_regions(page, lines, scale) if image_text and mode == "auto" and engine is not None
                               else [])
                    if regions:
                        try:
                            lines = lines + image_text_lines(page, regions, get_ocr(), scale)
                        except BotloomError as exc:  # no engine here: the text layer alone
                            image_text = False
                            if log:
                                log(f"text in the PDF's images not read: {exc}")
                    results.append(OcrResult(lines, int(w * scale), int(h * scale), "text-layer",
                                             time.perf_counter() - started, source="text-layer"))
                else:
                    ocr = get_ocr()
                    result = ocr.read(render_page(page, dpi))
                    result.seconds = time.perf_counter() - started
                    result.source = "ocr"
                    results.append(result)
            finally:
                page.close()
        return results
    finally:
        pdf.close()


def pdf_page_count(path: Path, password: str | None = None) -> int:
    pdf = open_pdf(path, password)
    try:
        return len(pdf)
    finally:
        pdf.close()


def read_text_file(path: Path) -> OcrResult:
    """A plain-text document (an e-mailed invoice saved as text) as lines with character boxes
    (one character = 10 x 20 pixels), so the extractor's layout rules apply to it too."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NodeError(f"cannot read {path}: {exc.strerror or exc}", kind="io") from None
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeError:
            continue
    lines = []
    for row, raw_line in enumerate(text.splitlines()):
        # split a line at runs of 3+ spaces: columns of a text layout become separate boxes
        col = 0
        for chunk in _chunks(raw_line):
            start = raw_line.index(chunk, col)
            col = start + len(chunk)
            box = (start * 10, row * 20, len(chunk) * 10, 16)
            lines.append(Line(chunk, box, 1.0, split_words(chunk, box, 1.0)))
    width = max((ln.box[0] + ln.box[2] for ln in lines), default=0)
    return OcrResult(lines, width, len(text.splitlines()) * 20, "text-file", source="text-layer")


def _chunks(line: str) -> list[str]:
    import re

    return [c.strip() for c in re.split(r" {3,}|\t+", line) if c.strip()]


def read_document(path: Path, *, pages=None, mode: str = "auto", engine=None, dpi: int = DEFAULT_DPI,
                  password: str | None = None, check_cancelled=None, image_text: bool = False,
                  log=None) -> list[OcrResult]:
    """Any supported document as a list of page results (an image is one page); ``image_text``:
    see ``read_pdf``."""
    kind = kind_of(path)
    if kind == "pdf":
        return read_pdf(path, pages=pages, mode=mode, engine=engine, dpi=dpi, password=password,
                        check_cancelled=check_cancelled, image_text=image_text, log=log)
    if kind == "text":
        page_indexes(pages, 1, path)
        return [read_text_file(path)]
    page_indexes(pages, 1, path)
    image = load_image(path)
    ocr = engine() if callable(engine) and not hasattr(engine, "read") else engine
    return [ocr.read(image)]
