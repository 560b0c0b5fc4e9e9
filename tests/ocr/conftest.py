"""Fixtures for the OCR tests: invoices the tests render themselves, with known fields
(generators in ocr_docs.py).

``docs`` (one folder per session): ``invoice-en.png`` / ``invoice-de.png`` (rendered with Pillow
and DejaVu Sans, English and German labels), ``scanned-en.png`` (degraded like a scan: rotation,
blur, noise, fixed seed), ``scanned-en.pdf`` (image-only PDF), ``digital-en.pdf`` /
``digital-de.pdf`` (real text layer, minimal PDF writer), ``encrypted.pdf``.
``rapid``: the default engine, loaded once.
"""

from __future__ import annotations

import pytest
from ocr_docs import DE_LINES, EN_LINES, degrade, render, write_text_pdf


@pytest.fixture(scope="session")
def docs(tmp_path_factory):
    """Every generated document, written once per session."""
    folder = tmp_path_factory.mktemp("ocr-docs")
    en = render(EN_LINES)
    de = render(DE_LINES)
    paths = {}
    en.save(folder / "invoice-en.png")
    de.save(folder / "invoice-de.png")
    scanned = degrade(en)
    scanned.save(folder / "scanned-en.png")
    scanned.save(folder / "scanned-en.pdf", "PDF", resolution=150)
    write_text_pdf(folder / "digital-en.pdf", EN_LINES)
    write_text_pdf(folder / "digital-de.pdf", DE_LINES)
    write_text_pdf(folder / "encrypted.pdf", EN_LINES, encrypt=True)
    for name in ("invoice-en.png", "invoice-de.png", "scanned-en.png", "scanned-en.pdf", "digital-en.pdf",
                 "digital-de.pdf", "encrypted.pdf"):
        paths[name] = folder / name
    paths["folder"] = folder
    return paths


@pytest.fixture(scope="session")
def rapid():
    """The default engine, loaded once for the session."""
    from botloom.nodes.ocr.engines import get_engine

    return get_engine("rapidocr", {"threads": 2})
