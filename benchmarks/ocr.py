"""OCR benchmarks: seconds per page for every installed engine on the same pages, in one run.

    .venv/bin/python benchmarks/ocr.py            # full run (generated pages + SROIE receipts if present)
    .venv/bin/python benchmarks/ocr.py --quick    # smoke run: one page, rapidocr and tesseract
    .venv/bin/python benchmarks/ocr.py --json results.json

Pages: a generated A4 invoice (150 dpi), a scan-degraded copy of it, and, when
../shared/data/sroie-dev exists, real receipts. Also find-text on two generated 1280x800 screens
(fourteen long list lines; a business application's form and table at 12-14 px): a button's label,
a text inside a longer line, and a text that is absent. Last, the field extractor's time per page on
the default engine's reading of the same pages (beside the rules alone and the OCR time).
Tesseract is the peer: ratios are engine time / Tesseract time on the same pages. rapidocr runs
as users get it (int8 recogniser on the CPU, detection at 1280 px); its first load, which makes
the int8 copy in a fresh cache folder, is reported apart.
Targets (2 CPU cores): default engine <= 1.0 s per receipt/invoice page; find-text (a label) <= 0.5 s;
issue 22's: <= 0.6 s per page, and a text inside a longer line or an absent one found <= 0.5 s.
The exit code is 0 whether or not targets are met (a report); non-zero only if a measurement broke.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import arguments, print_targets, write_json

ROOT = Path(__file__).resolve().parents[1]
SROIE = ROOT.parent / "shared" / "data" / "sroie-dev" / "img"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
TARGETS = {"default_s_per_page": 1.0, "find_text_s": 0.5, "page_s_issue22": 0.6, "find_inside_absent_s": 0.5}


def generated_pages():
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    def font(px):
        return ImageFont.truetype(str(FONT), px) if FONT.exists() else ImageFont.load_default()

    img = Image.new("RGB", (1240, 1754), "white")
    d = ImageDraw.Draw(img)
    rows = [("Acme Office Supplies GmbH", 60, 50, 34), ("INVOICE", 60, 170, 40),
            ("Invoice No: INV-2024-0042", 60, 250, 24), ("Invoice Date: 15.03.2024", 60, 290, 24),
            ("Description", 60, 470, 24), ("Qty", 700, 470, 24), ("Amount", 1080, 470, 24)]
    rows += [(f"Item number {i}", 60, 520 + 40 * i, 22) for i in range(12)]
    rows += [(f"{(i + 1) * 3.5:.2f}", 1080, 520 + 40 * i, 22) for i in range(12)]
    rows += [("Subtotal", 700, 1100, 26), ("273.00 EUR", 1000, 1100, 26), ("Total", 700, 1200, 30),
             ("324.87 EUR", 1000, 1200, 30)]
    for text, x, y, px in rows:
        d.text((x, y), text, fill=(20, 20, 20), font=font(px))
    clean = np.asarray(img)
    rng = np.random.default_rng(3)
    noisy = np.asarray(img.rotate(0.8, fillcolor="white").filter(ImageFilter.GaussianBlur(0.9))).astype(float)
    noisy = np.clip(noisy * 0.88 + 18 + rng.normal(0, 14, noisy.shape), 0, 255).astype(np.uint8)
    return [("invoice", clean), ("scanned invoice", noisy)], {"rows": rows_screen(font), "form": form_screen(font)}


def rows_screen(font):
    """A menu bar, fourteen long lines of a list, and a button (the screen of earlier runs)."""
    import numpy as np
    from PIL import Image, ImageDraw

    screen = Image.new("RGB", (1280, 800), (240, 240, 240))
    sd = ImageDraw.Draw(screen)
    for i, label in enumerate(["File", "Edit", "View", "Tools", "Help"]):
        sd.text((20 + 70 * i, 8), label, fill="black", font=font(15))
    for r in range(14):
        sd.text((40, 80 + 45 * r), f"Customer {r:02d}   Invoice INV-{1000 + r}   Amount {r * 17.5:.2f}",
                fill="black", font=font(16))
    sd.rectangle((1000, 700, 1150, 740), outline="black")
    sd.text((1030, 710), "Save changes", fill="black", font=font(16))
    return np.asarray(screen)


def form_screen(font):
    """A business application at office font sizes (12-14 px): title and menu bars, a toolbar,
    a navigation list, a customer form, a table of invoices, buttons and a status bar."""
    import numpy as np
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (1280, 800), (246, 246, 246))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, 1280, 30), fill=(40, 70, 120))
    d.text((12, 8), "Acme Billing - Customer 4711 - Invoices", fill="white", font=font(13))
    for i, label in enumerate(["File", "Edit", "View", "Customer", "Invoice", "Reports", "Window", "Help"]):
        d.text((12 + 78 * i, 40), label, fill="black", font=font(13))
    for i, label in enumerate(["New", "Open", "Save", "Print", "Export", "Refresh"]):
        d.rectangle((10 + 82 * i, 64, 86 + 82 * i, 90), outline=(160, 160, 160), fill=(252, 252, 252))
        d.text((20 + 82 * i, 70), label, fill="black", font=font(12))
    d.rectangle((0, 100, 180, 770), fill=(232, 236, 242))
    for i, label in enumerate(["Dashboard", "Customers", "Invoices", "Payments", "Reminders", "Products",
                               "Reports", "Settings"]):
        d.text((16, 116 + 34 * i), label, fill=(20, 20, 60), font=font(14))
    fields = [("Customer name", "Müller & Söhne KG"), ("Street", "Hauptstraße 5"), ("City", "München"),
              ("Postcode", "80331"), ("Country", "Germany"), ("VAT ID", "DE 129 273 398"),
              ("Payment terms", "30 days net"), ("Contact", "anna.berger@mueller-soehne.de")]
    for i, (label, value) in enumerate(fields):
        x, y = 200 + 520 * (i % 2), 112 + 36 * (i // 2)
        d.text((x, y + 5), label, fill=(60, 60, 60), font=font(13))
        d.rectangle((x + 130, y, x + 480, y + 26), outline=(170, 170, 170), fill="white")
        d.text((x + 136, y + 5), value, fill="black", font=font(13))
    columns = [("Invoice", 200), ("Date", 330), ("Description", 450), ("Amount", 850), ("Status", 980),
               ("Due", 1100)]
    d.rectangle((196, 270, 1270, 296), fill=(225, 229, 236))
    for title, x in columns:
        d.text((x, 276), title, fill="black", font=font(13))
    for r in range(12):
        y = 304 + 30 * r
        row = [f"INV-{2024100 + r}", f"{(r % 28) + 1:02d}.03.2024", f"Consulting services, project {r + 7} hours",
               f"{(r + 3) * 118.25:,.2f} EUR", ["open", "paid", "overdue"][r % 3], f"{(r % 28) + 1:02d}.04.2024"]
        for (_, x), text in zip(columns, row):
            d.text((x, y), text, fill="black", font=font(13))
    for label, x in [("Cancel", 940), ("Save changes", 1080)]:
        d.rectangle((x, 690, x + 130, 722), outline=(90, 90, 90), fill=(250, 250, 250))
        d.text((x + 14, 698), label, fill="black", font=font(13))
    d.rectangle((0, 776, 1280, 800), fill=(225, 225, 225))
    d.text((10, 781), "Ready - 12 invoices loaded, 3 overdue - last saved 14:32", fill=(50, 50, 50), font=font(12))
    return np.asarray(img)


# What is looked for on each screen: a button's label (the usual case: click it), a text inside
# a longer line (every line is read), and a text that is not there (every line is read).
SEARCHES = {"label": "Save changes", "inside": {"rows": "INV-1007", "form": "project 14"},
            "absent": "Delete forever"}


def sroie_pages(n):
    import numpy as np
    from PIL import Image

    if not SROIE.is_dir():
        return []
    files = sorted(SROIE.glob("*.jpg"))[:n]
    return [(f"receipt {f.stem}", np.asarray(Image.open(f).convert("RGB"))) for f in files]


def main() -> int:
    ap = arguments(__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    # A fresh model cache: rapidocr's first load includes making its int8 recogniser (once per machine).
    with tempfile.TemporaryDirectory(prefix="botloom-bench-models-") as cache:
        os.environ["BOTLOOM_MODEL_CACHE"] = cache
        return measure(args)


def measure(args) -> int:
    sys.path.insert(0, str(ROOT))
    from botloom.nodes.ocr import engines as engines_module
    from botloom.nodes.ocr.api import _loose, search_text
    from botloom.nodes.ocr.engines import ENGINES, get_engine
    from botloom.runner.errors import BotloomError

    pages, screens = generated_pages()
    pages = pages[:1] if args.quick else pages + sroie_pages(3)
    names = ["rapidocr", "tesseract"] if args.quick else list(ENGINES)
    repeats = 1 if args.quick else 2
    results = {"machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
               "threads": args.threads, "pages": [p[0] for p in pages], "engines": {}}
    print(f"OCR benchmark: {len(pages)} pages x {repeats}, {args.threads} threads, {results['machine']}")
    for name in names:
        try:
            started = time.perf_counter()
            engine = get_engine(name, {"threads": args.threads})
            first_load = load = time.perf_counter() - started
            if name == "rapidocr":  # again, with the int8 copy already made
                engines_module._CACHE.clear()
                started = time.perf_counter()
                engine = get_engine(name, {"threads": args.threads})
                load = time.perf_counter() - started
        except BotloomError as exc:
            print(f"  {name:<10} not available: {exc.message}")
            results["engines"][name] = {"available": False, "reason": exc.message}
            continue
        if not args.quick:
            engine.read(pages[0][1])  # warm-up (first-call allocations)
        per_page = []
        for _ in range(1 if name == "easyocr" else repeats):  # easyocr: one pass (several s per page)
            for _label, image in pages:
                t = time.perf_counter()
                engine.read(image)
                per_page.append(time.perf_counter() - t)
        finds = {}
        for screen_name, screen in screens.items():
            for case, wanted in SEARCHES.items():
                wanted = wanted[screen_name] if isinstance(wanted, dict) else wanted
                times = []
                for _ in range(1 if args.quick else repeats + 1):
                    t = time.perf_counter()
                    matches, _ = search_text(screen, wanted, engine=engine)
                    times.append(time.perf_counter() - t)
                found = bool(matches) and _loose(matches[0].line).find(_loose(wanted)) >= 0
                finds[f"{screen_name} {case}"] = {"s": round(statistics.median(times), 3),
                                                  "found": found == (case != "absent")}
        results["engines"][name] = {"available": True, "describe": engine.describe(), "load_s": round(load, 3),
                                    "first_load_s": round(first_load, 3),
                                    "s_per_page": round(statistics.median(per_page), 3), "find_text": finds}
    peer = results["engines"].get("tesseract", {})
    print(f"\n{'engine':<10} {'load s':>7} {'s/page':>7} {'vs tess':>8}")
    for name, r in results["engines"].items():
        if r.get("available"):
            ratio = r["s_per_page"] / peer["s_per_page"] if peer.get("available") else float("nan")
            r["ratio_vs_tesseract"] = round(ratio, 2)
            print(f"{name:<10} {r['load_s']:>7.2f} {r['s_per_page']:>7.2f} {ratio:>7.2f}x")
    print("\nfind-text on a 1280x800 screen, seconds (x: a wrong answer: the text missed, "
          "or an absent text found)")
    cases = [f"{screen} {case}" for screen in screens for case in SEARCHES]
    print(f"{'engine':<10} " + " ".join(f"{c:>14}" for c in cases))
    for name, r in results["engines"].items():
        if r.get("available"):
            cells = [f"{r['find_text'][c]['s']:.2f}" + ("" if r["find_text"][c]["found"] else " x") for c in cases]
            print(f"{name:<10} " + " ".join(f"{c:>14}" for c in cells))
    default = results["engines"].get("rapidocr", {})
    if default.get("available"):
        labels = [default["find_text"][f"{screen} label"] for screen in screens]
        slowest = max(f["s"] for f in labels)
        others = [default["find_text"][f"{screen} {case}"] for screen in screens for case in ("inside", "absent")]
        slowest_other = max(f["s"] for f in others)
        print(f"\nrapidocr: {default['describe']}; first load on a new machine (making the int8 "
              f"recogniser) {default['first_load_s']:.2f} s")
        print_targets([
            (f"default engine s/page <= {TARGETS['default_s_per_page']}: {default['s_per_page']:.2f}",
             default["s_per_page"] <= TARGETS["default_s_per_page"]),
            (f"find-text (a label) on 1280x800 <= {TARGETS['find_text_s']}: {slowest:.2f} (slower screen)",
             slowest <= TARGETS["find_text_s"] and all(f["found"] for f in labels)),
            (f"default engine s/page <= {TARGETS['page_s_issue22']} (issue 22): {default['s_per_page']:.2f}",
             default["s_per_page"] <= TARGETS["page_s_issue22"]),
            (f"find-text inside a longer line / absent <= {TARGETS['find_inside_absent_s']}: {slowest_other:.2f} "
             f"(slowest of both screens)",
             slowest_other <= TARGETS["find_inside_absent_s"] and all(f["found"] for f in others))])
    if default.get("available"):
        results["extraction"] = measure_extraction(pages, args)
    write_json(args.json, results)
    return 0


def measure_extraction(pages, args) -> dict:
    """The field extractor's time per page on the default engine's reading of the same pages
    (read once, outside the timing): as shipped (calibrated confidences) and with the rules'
    own scores only (calibrate=False), median of repeated runs; the page's OCR time beside it."""
    from botloom.nodes.ocr.engines import get_engine
    from botloom.nodes.ocr.extract import extract

    engine = get_engine("rapidocr", {"threads": args.threads})
    repeats = 3 if args.quick else 15
    rows = []
    for label, image in pages:
        t = time.perf_counter()
        read = engine.read(image)
        ocr_s = time.perf_counter() - t
        timings = {}
        for mode, calibrate in (("shipped", True), ("rules only", False)):
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                extract([read], calibrate=calibrate)
                times.append(time.perf_counter() - t)
            timings[mode] = statistics.median(times)
        rows.append({"page": label, "lines": len(read.lines), "ocr_s": round(ocr_s, 3),
                     "extract_ms": round(1000 * timings["shipped"], 2),
                     "rules_only_ms": round(1000 * timings["rules only"], 2)})
    print(f"\nextraction (fields from the default engine's lines, median of {repeats}), ms per page")
    print(f"{'page':<22} {'lines':>5} {'shipped':>8} {'rules only':>11} {'OCR of the page':>16}")
    for r in rows:
        print(f"{r['page']:<22} {r['lines']:>5} {r['extract_ms']:>8.1f} {r['rules_only_ms']:>11.1f} "
              f"{1000 * r['ocr_s']:>14.0f}")
    mean = statistics.mean(r["extract_ms"] for r in rows)
    rules = statistics.mean(r["rules_only_ms"] for r in rows)
    share = mean / max(1e-9, 1000 * statistics.mean(r["ocr_s"] for r in rows))
    print(f"mean {mean:.1f} ms per page ({mean / max(1e-9, rules):.2f}x the rules alone, {share:.1%} of the OCR time)")
    return {"pages": rows, "mean_ms": round(mean, 2), "rules_only_mean_ms": round(rules, 2),
            "share_of_ocr": round(share, 4)}


if __name__ == "__main__":
    sys.exit(main())
