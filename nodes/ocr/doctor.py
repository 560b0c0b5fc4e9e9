"""`botloom doctor` checks for OCR: which engines are usable here, and PDF support. The
default engine is loaded (a second); EasyOCR is only looked for, since loading torch would
make every doctor run slow."""

from __future__ import annotations


def checks():
    from botloom.runner.sdk import BotloomError, Check

    from .engines import DEFAULT_ENGINE, ENGINES, INSTALL, easyocr_installed, get_engine

    found = []
    for name in ENGINES:
        try:
            detail = easyocr_installed() if name == "easyocr" else get_engine(name).describe()
            found.append(Check("ocr", f"engine {name}", True, detail))
        except BotloomError as exc:
            # the default engine missing is a failure; the optional ones are "not installed"
            found.append(Check("ocr", f"engine {name}", False if name == DEFAULT_ENGINE else None,
                               exc.message, exc.fix or INSTALL[name]))
        except Exception as exc:  # noqa: BLE001 - a broken install must show, not crash doctor
            found.append(Check("ocr", f"engine {name}", False if name == DEFAULT_ENGINE else None,
                               f"cannot load: {type(exc).__name__}: {exc}", INSTALL[name]))
    try:
        import pypdfium2  # noqa: F401

        found.append(Check("ocr", "pdf", True, "pypdfium2 (text layers and page rendering)"))
    except ImportError:
        found.append(Check("ocr", "pdf", False, "pypdfium2 is not installed", "pip install 'botloom[ocr]'"))
    return found
