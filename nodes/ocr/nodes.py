"""OCR and document nodes: read images, files, PDF pages and screen regions; find text on screen;
read PDFs; extract tables; extract invoice and receipt fields with confidences.

The engine is the node's ``engine`` parameter, else the bot's ``settings.ocr.engine``, else the
user setting ``ocr.engine`` (``botloom config ocr.engine tesseract``), else rapidocr.
Heavy imports (numpy, onnxruntime, torch, pypdfium2) happen when a node runs.
"""

from __future__ import annotations

from pathlib import Path

from botloom.runner.sdk import Lint, Next, NodeError, Output, Param, Requirement, capability, node

from .engines import ENGINES

CATEGORY = "OCR and documents"
INSTALL = "pip install 'botloom[ocr]'"
ENGINE_CHOICES = ("", "auto") + ENGINES
REQUIRES = [Requirement("numpy", INSTALL), Requirement("PIL", INSTALL)]


def _engine_param():
    return Param("engine", "string", default="", choices=ENGINE_CHOICES, advanced=True,
                 description="OCR engine: rapidocr (default, ONNX), easyocr or tesseract. Empty: the bot's "
                             "settings.ocr.engine, else the user setting ocr.engine, else rapidocr.")


def _engine(ctx, name):
    from .engines import get_engine

    return get_engine(name or None, ctx.settings("ocr"))


def _engine_loader(ctx, name):
    return lambda: _engine(ctx, name)


def preflight_engine(info) -> None:
    """Fail the run before it starts when a named engine cannot be loaded."""
    from .engines import resolve_name

    settings = info.area("ocr") if hasattr(info, "area") else {}
    names = {resolve_name(None, settings)}
    for _flow, _node_id, params in info.nodes:
        value = (params or {}).get("engine")
        if isinstance(value, str) and value and "{{" not in value:
            names.add(resolve_name(value, settings))
    from .engines import get_engine

    for name in sorted(names):
        get_engine(name, settings)


def _pages_param(default=""):
    return Param("pages", "string", default=default,
                 description="Pages to read, from 1: empty for all, 2, 1-3 or 1,3. Images have one page.")


def _ocr_outputs():
    return [Output("text", "string", "All text in reading order."),
            Output("lines", "list", "Lines: {text, box: [x, y, w, h], confidence, words}."),
            Output("confidence", "number", "Mean confidence of the text, 0..1."),
            Output("pages", "list", "Per page: {page, text, lines, confidence, source (ocr or text-layer)}.")]


def _pack_pages(results, numbers=None, words: bool = True):
    """Outputs of OCR nodes; ``numbers`` are the pages' numbers (from 1), default 1, 2, ..."""
    numbers = list(numbers) if numbers else list(range(1, len(results) + 1))
    pages = []
    for number, r in zip(numbers, results):
        d = r.to_dict(words)
        d["page"] = number
        pages.append(d)
    text = "\n\n".join(p["text"] for p in pages)
    lines = [dict(ln, page=p["page"]) for p in pages for ln in p["lines"]]
    total = sum(len(p["text"]) for p in pages)
    conf = sum(p["confidence"] * len(p["text"]) for p in pages) / total if total else 1.0
    return {"text": text, "lines": lines, "confidence": round(conf, 4), "pages": pages}


def _path(ctx, value) -> Path:
    return Path(ctx.path(value))


def _crop(image, region):
    if not region:
        return image, (0, 0)
    x, y, w, h = _region(region)
    if w <= 0 or h <= 0 or x >= image.shape[1] or y >= image.shape[0]:
        raise NodeError(f"the region {list(region)} is outside the {image.shape[1]}x{image.shape[0]} image",
                        kind="bad_input", fix="give a region [x, y, width, height] inside the image")
    return image[y:y + h, x:x + w], (x, y)


def _region(region):
    if isinstance(region, dict):
        region = [region.get("x", 0), region.get("y", 0), region.get("width", region.get("w")),
                  region.get("height", region.get("h"))]
    try:
        x, y, w, h = (int(v) for v in region)
    except (TypeError, ValueError):
        raise NodeError(f"bad region {region!r}", kind="bad_input",
                        fix="give the region as [x, y, width, height] in pixels") from None
    return max(0, x), max(0, y), w, h


def _shift(results, dx, dy):
    for r in results:
        for ln in r.lines:
            ln.box = (ln.box[0] + dx, ln.box[1] + dy, ln.box[2], ln.box[3])
            for w in ln.words:
                w.box = (w.box[0] + dx, w.box[1] + dy, w.box[2], w.box[3])
    return results


def _grab(ctx, region):
    grab = capability("desktop.screen_grab", purpose="reading text on the screen",
                      install="pip install 'botloom[desktop]'")
    return grab(region=tuple(_region(region)) if region else None)


# ---------------------------------------------------------------- OCR nodes

@node("ocr.read_text", title="OCR a document", category=CATEGORY, icon="scan-text",
      params=[Param("path", "path", required=True, path="open",
                    description="An image (PNG, JPEG, TIFF, BMP) or a PDF."),
              _pages_param(),
              Param("region", "list", default=None, advanced=True,
                    description="Only this part of each page image: [x, y, width, height] in pixels."),
              Param("mode", "string", default="auto", choices=("auto", "ocr", "text"), advanced=True,
                    description="PDFs: auto reads a page's text layer when it has one and OCRs scanned pages; "
                                "ocr always renders and OCRs; text only reads the text layer."),
              Param("dpi", "integer", default=200, minimum=72, maximum=600, advanced=True,
                    description="Resolution for rendering scanned PDF pages."),
              Param("password", "secret", default=None, advanced=True,
                    description="Name of the secret holding the PDF's password, for encrypted PDFs."),
              _engine_param()],
      outputs=_ocr_outputs(), requires=REQUIRES, preflight=preflight_engine,
      aliases=("ocr", "read image", "ocr file", "ocr pdf page", "text from image"))
def read_text(ctx, path, pages, region, mode, dpi, password, engine):
    """Reads the text of an image or PDF file (each page), with line boxes and confidences."""
    from .documents import kind_of, load_image, read_pdf, read_text_file

    p = _path(ctx, path)
    kind = kind_of(p)
    secret = password.reveal() if password is not None else None
    if kind == "pdf" and not region:
        results = read_pdf(p, pages=pages, mode=mode, engine=_engine_loader(ctx, engine), dpi=dpi,
                           password=secret, check_cancelled=ctx.check_cancelled)
        from .documents import page_indexes, pdf_page_count

        return _pack_pages(results, [i + 1 for i in page_indexes(pages, pdf_page_count(p, secret), p)])
    if kind == "pdf":
        from .documents import open_pdf, page_indexes, render_page

        pdf = open_pdf(p, secret)
        try:
            idx = page_indexes(pages or "1", len(pdf), p)
            images = [render_page(pdf[i], dpi) for i in idx]
        finally:
            pdf.close()
        numbers = [i + 1 for i in idx]
    elif kind == "text":
        return _pack_pages([read_text_file(p)])
    else:
        from .documents import page_indexes

        page_indexes(pages, 1, p)
        images, numbers = [load_image(p)], [1]
    ocr = _engine(ctx, engine)
    results = []
    for image in images:
        part, (dx, dy) = _crop(image, region)
        results += _shift([ocr.read(part)], dx, dy)
    return _pack_pages(results, numbers)


@node("ocr.read_screen", title="OCR a screen region", category=CATEGORY, icon="scan-text",
      params=[Param("region", "list", default=None, widget="screen-target",
                    description="[x, y, width, height] on the screen; empty for the whole screen."),
              _engine_param()],
      outputs=_ocr_outputs()[:3], requires=REQUIRES, preflight=preflight_engine,
      aliases=("screen ocr", "read screen", "ocr region"))
def read_screen(ctx, region, engine):
    """Captures the screen (or a region) and reads its text; boxes are in screen pixels."""
    image = _grab(ctx, region)
    result = _engine(ctx, engine).read(image)
    if region:
        x, y, _, _ = _region(region)
        _shift([result], x, y)
    packed = _pack_pages([result])
    return {"text": packed["text"], "lines": packed["lines"], "confidence": packed["confidence"]}


@node("ocr.find_text", title="Find text on screen", category=CATEGORY, icon="search",
      params=[Param("text", "string", required=True, description="The text to look for (case-insensitive, "
                                                                   "a misread letter still matches)."),
              Param("region", "list", default=None, widget="screen-target",
                    description="Only search this part of the screen: [x, y, width, height]."),
              Param("path", "path", default="", path="open", advanced=True,
                    description="Search an image file instead of the screen."),
              Param("min_confidence", "number", default=0.6, minimum=0, maximum=1, advanced=True),
              Param("timeout", "number", default=0, minimum=0, advanced=True,
                    description="Keep looking for this many seconds before giving up (0: look once)."),
              _engine_param()],
      outputs=[Output("found", "boolean"), Output("box", "list", "[x, y, w, h] of the best match."),
               Output("center", "list", "[x, y] of the best match's centre, to click."),
               Output("confidence", "number"),
               Output("matches", "list", "Every match read, best first. A line that is the text itself comes "
                                         "first; once one is read, longer lines are not read.")],
      ports=("found", "missing"), requires=REQUIRES, preflight=preflight_engine,
      aliases=("locate text", "where is text", "text on screen"))
def find_text_node(ctx, text, region, path, min_confidence, timeout, engine):
    """Looks for a text on the screen (or in an image) and gives its box; leaves by `missing` when absent."""
    import time

    from .api import TextSearch

    search = TextSearch(text, engine=_engine(ctx, engine), min_confidence=min_confidence)
    deadline = time.monotonic() + float(timeout or 0)
    while True:
        if path:
            from .documents import load_image

            image = load_image(_path(ctx, path))
            image, (dx, dy) = _crop(image, region)
        else:
            image = _grab(ctx, region)
            dx, dy = _region(region)[:2] if region else (0, 0)
        matches, _ = search(image)  # an unchanged screen is not read again
        if matches or time.monotonic() >= deadline:
            break
        ctx.sleep(0.5)
    found = [dict(m.to_dict(), box=[m.box[0] + dx, m.box[1] + dy, m.box[2], m.box[3]],
                  center=[m.center[0] + dx, m.center[1] + dy]) for m in matches]
    if not found:
        return Next("missing", {"found": False, "box": None, "center": None, "confidence": 0.0, "matches": []})
    best = found[0]
    return Next("found", {"found": True, "box": best["box"], "center": best["center"],
                          "confidence": best["confidence"], "matches": found})


@node("ocr.read_pdf", title="Read a PDF", category=CATEGORY, icon="file-text",
      params=[Param("path", "path", required=True, path="open"), _pages_param(),
              Param("mode", "string", default="auto", choices=("auto", "ocr", "text"),
                    description="auto: the text layer of digital pages, OCR for scanned pages."),
              Param("dpi", "integer", default=200, minimum=72, maximum=600, advanced=True),
              Param("password", "secret", default=None, advanced=True,
                    description="Name of the secret holding the password of an encrypted PDF."),
              _engine_param()],
      outputs=_ocr_outputs() + [Output("page_count", "integer")], requires=REQUIRES + [
          Requirement("pypdfium2", INSTALL)], preflight=preflight_engine,
      aliases=("pdf to text", "pdf text", "scanned pdf"))
def read_pdf_node(ctx, path, pages, mode, dpi, password, engine):
    """Reads a PDF page by page: the text layer when the page is digital, OCR when it is scanned."""
    from .documents import page_indexes, pdf_page_count, read_pdf

    p = _path(ctx, path)
    secret = password.reveal() if password is not None else None
    count = pdf_page_count(p, secret)
    results = read_pdf(p, pages=pages, mode=mode, engine=_engine_loader(ctx, engine), dpi=dpi, password=secret,
                       check_cancelled=ctx.check_cancelled)
    packed = _pack_pages(results, [i + 1 for i in page_indexes(pages, count, p)])
    packed["page_count"] = count
    return packed


@node("ocr.extract_table", title="Extract a table", category=CATEGORY, icon="table",
      params=[Param("path", "path", required=True, path="open", description="Image or PDF."),
              Param("page", "integer", default=1, minimum=1),
              Param("header", "boolean", default=True, description="The first row holds column names."),
              Param("password", "secret", default=None, advanced=True), _engine_param()],
      outputs=[Output("rows", "table", "Rows as objects keyed by the header (or col1, col2 ...)."),
               Output("cells", "list", "Rows as lists of cell texts."), Output("columns", "list")],
      requires=REQUIRES, preflight=preflight_engine, aliases=("table from pdf", "table ocr"))
def extract_table(ctx, path, page, header, password, engine):
    """Finds the table on a page (columns from the text boxes' layout) and returns its rows."""
    from .documents import read_document
    from .tables import table_from_lines

    p = _path(ctx, path)
    results = read_document(p, pages=str(page), engine=_engine_loader(ctx, engine),
                            password=password.reveal() if password is not None else None)
    cells = table_from_lines(results[0].lines)
    if not cells:
        return {"rows": [], "cells": [], "columns": []}
    columns = [c or f"col{i + 1}" for i, c in enumerate(cells[0])] if header else [
        f"col{i + 1}" for i in range(len(cells[0]))]
    body = cells[1:] if header else cells
    return {"rows": [dict(zip(columns, r)) for r in body], "cells": cells, "columns": columns}


def _check_review_fields(params, info):
    from .extract import FIELDS

    chosen = params.get("review_fields")
    if isinstance(chosen, (list, tuple)):
        unknown = [str(f) for f in chosen if f not in FIELDS]
        if unknown:
            yield Lint(f"unknown field{'s' if len(unknown) > 1 else ''} in review_fields: {', '.join(unknown)}",
                       param="review_fields", fix=f"choose from: {', '.join(FIELDS)}")


@node("ocr.extract_invoice", title="Extract invoice fields", category=CATEGORY, icon="receipt",
      params=[Param("path", "path", required=True, path="open",
                    description="The invoice or receipt: PDF (digital or scanned), image or text file, or an "
                                "XRechnung / UBL e-invoice (XML)."),
              _pages_param(),
              Param("threshold", "number", default=0.7, minimum=0, maximum=1,
                    description="Fields below this confidence are listed in low_confidence and send the "
                                "document to the review port."),
              Param("review_fields", "list", default=[],
                    description="The fields whose doubt sends the document to review (e.g. total, "
                                "invoice_date); empty: vendor, number, dates, currency and amounts."),
              Param("our_names", "list", default=[], advanced=True,
                    description="Your own company's names (as customer): never taken for the vendor, e.g. "
                                "the names a reviewer corrected away from the vendor."),
              Param("structured", "boolean", default=True, advanced=True,
                    description="Read every field from the e-invoice data when the PDF carries Factur-X / "
                                "ZUGFeRD XML (the printed page is still read, and differences reported)."),
              Param("date_order", "string", default="DMY", choices=("DMY", "MDY"), advanced=True,
                    description="How to read 01/02/2024: day first (DMY) or month first (MDY)."),
              Param("default_currency", "string", default="", advanced=True,
                    description="Currency when the document names none (EUR, USD ...)."),
              Param("password", "secret", default=None, advanced=True), _engine_param()],
      outputs=[Output("values", "object", "Field -> normalised value (ISO dates, decimal amounts as text); "
                                          "vendor_brand / vendor_legal_name: the issuer's other name, when printed."),
               Output("fields", "object", "Field -> {value, confidence, box, page, text}."),
               Output("line_items", "list", "{description, quantity, unit_price, amount, confidence, box, page, "
                                            "details (lines printed under the description), code (article code) "
                                            "when printed}."),
               Output("checks", "list", "Arithmetic checks, e.g. subtotal + tax = total, with ok."),
               Output("low_confidence", "list", "Fields below the threshold (or missing required ones)."),
               Output("review", "boolean", "True when a person should check the document."),
               Output("sources", "list", "Where each page's text came from: text-layer, ocr (a scan, or a text "
                                         "layer of unreadable glyphs), or xml (e-invoice data)."),
               Output("disagreements", "list", "{field, xml, printed}: where the printed page and the e-invoice "
                                               "XML differ.")],
      ports=("out", "review"), requires=REQUIRES, preflight=preflight_engine, lint=_check_review_fields,
      aliases=("invoice", "receipt", "document understanding", "invoice ocr", "extract fields", "e-invoice",
               "factur-x", "zugferd", "xrechnung"))
def extract_invoice(ctx, path, pages, threshold, review_fields, our_names, structured, date_order,
                    default_currency, password, engine):
    """Reads an invoice or receipt and extracts vendor, number, dates, currency, amounts, address
    and line items, each with a confidence and its box; leaves by `review` when a field the user
    chose needs a person. An e-invoice's XML, when present, gives every field exactly."""
    from . import einvoice
    from .documents import read_document
    from .extract import FIELDS, extract

    p = _path(ctx, path)
    unknown = [str(f) for f in (review_fields or []) if f not in FIELDS]
    if unknown:
        raise NodeError(f"unknown field in review_fields: {', '.join(unknown)}", kind="bad_input",
                        fix=f"choose from: {', '.join(FIELDS)}")
    secret = password.reveal() if password is not None else None
    parsed = einvoice.structured(p, secret) if structured or p.suffix.lower() == ".xml" else None
    if parsed is None and p.suffix.lower() == ".xml":
        raise NodeError(f"{p} is not an e-invoice", kind="bad_input", fix="give an XRechnung or UBL XML file")
    if parsed is not None and p.suffix.lower() == ".xml":
        out = einvoice.to_extraction(parsed, threshold, review_fields).to_dict()
        out["disagreements"] = []
    else:
        results = read_document(p, pages=pages, engine=_engine_loader(ctx, engine), password=secret,
                                check_cancelled=ctx.check_cancelled, image_text=True,  # logos name the sender
                                log=lambda msg: ctx.log(f"{p.name}: {msg}", "info"))
        printed = extract(results, threshold=threshold, date_order=date_order,
                          default_currency=default_currency or None, review_fields=review_fields or None,
                          our_names=[str(n) for n in our_names or []])
        if parsed is None:
            out = printed.to_dict()
            out["disagreements"] = []
        else:
            out = einvoice.to_extraction(parsed, threshold, review_fields).to_dict()
            out["disagreements"] = einvoice.disagreements(parsed, printed)
            for d in out["disagreements"]:
                ctx.log(f"{p.name}: {d['field']}: the XML says {d['xml']!r}, the printed page {d['printed']!r}",
                        "warning")
    out.pop("threshold", None)
    if out["review"]:
        ctx.log(f"{p.name}: fields for review: {', '.join(out['low_confidence'])}", "info")
        return Next("review", out)
    return out
