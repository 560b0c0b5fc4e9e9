"""The document of a review task as page images, kept with the run as artifacts.

PDF pages are rendered with pypdfium2 at 200 dpi, the resolution ``ocr.extract_invoice``
reads them at, so the boxes it gives land on the same pixels; an image is stored as PNG after
its EXIF orientation is applied (as the extractor reads it). A document that cannot be read
is a clear error naming the file; a long PDF gives its first ``MAX_PAGES`` pages.
"""

from __future__ import annotations

import io
from pathlib import Path

from botloom.runner.sdk import NodeError, not_found, os_failure

DPI = 200
MAX_PAGES = 20
MAX_PIXELS = 60_000_000  # one page image; a hostile file's "page" of 100k x 100k pixels is refused
INSTALL = "pip install 'botloom[ocr]'"


def page_images(ctx, path: Path) -> list[dict]:
    """``[{page, image, width, height}]``: each page stored as a PNG artifact of the run."""
    if not path.exists():
        raise not_found(ctx, path, "document")
    try:
        with open(path, "rb") as f:
            head = f.read(5)
    except OSError as exc:
        raise os_failure(ctx, exc, path, "read") from None
    pages = _pdf_pages(ctx, path) if head.startswith(b"%PDF") else [_image(ctx, path)]
    out = []
    for number, (png, width, height) in enumerate(pages, start=1):
        target = ctx.artifact(png, name=f"{ctx.seq:05d}-{ctx.node_id}-page{number}.png", kind="image")
        out.append({"page": number, "image": str(target), "width": width, "height": height})
    return out


def _pdf_pages(ctx, path: Path):
    pdfium = ctx.require("pypdfium2", INSTALL)
    try:
        doc = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise NodeError(f"cannot open the PDF {path} to show it to the reviewer: {exc}", kind="bad_input",
                        fix="the file is damaged or password protected; give the review a readable copy") from None
    try:
        count = len(doc)
        if count > MAX_PAGES:
            ctx.log(f"{path.name} has {count} pages; the review shows the first {MAX_PAGES}", "warning")
        for index in range(min(count, MAX_PAGES)):
            page = doc[index]
            w, h = page.get_size()
            if (w * DPI / 72) * (h * DPI / 72) > MAX_PIXELS:
                raise NodeError(f"page {index + 1} of {path} is too large to show ({w:.0f} x {h:.0f} points)",
                                kind="bad_input", fix="give the review a document of ordinary page sizes")
            bitmap = page.render(scale=DPI / 72.0)
            try:
                img = bitmap.to_pil().convert("RGB")
            finally:
                bitmap.close()
            yield _png(img), img.width, img.height
    finally:
        doc.close()


def _image(ctx, path: Path):
    Image = ctx.require("PIL.Image", INSTALL)
    from PIL import ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as img:  # the header only, so far: the size is checked before the pixels load
            if img.width * img.height > MAX_PIXELS:
                raise NodeError(f"{path} is too large to show ({img.width} x {img.height} pixels)", kind="bad_input",
                                fix=f"give the review an image of at most {MAX_PIXELS // 1_000_000} megapixels")
            img = ImageOps.exif_transpose(img).convert("RGB")
    except Image.DecompressionBombError as exc:  # Pillow's own limit, met before the size check above
        raise NodeError(f"{path} is too large to show ({exc})", kind="bad_input",
                        fix=f"give the review an image of at most {MAX_PIXELS // 1_000_000} megapixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise NodeError(f"cannot show {path} to the reviewer: it is not a readable image or PDF ({exc})",
                        kind="bad_input", fix="use PNG, JPEG, TIFF or PDF; if it is one of those, the file is "
                                              "damaged") from None
    return _png(img), img.width, img.height


def _png(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
