"""`botloom eval ocr|extract DIR`: measure OCR engines and the field extractor on documents with
ground truth (layouts: see botloom.nodes.ocr.evaluate and docs/ocr.md). Kept light: the
engines load only when the command runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from botloom.runner.sdk import BotloomError


def register(sub) -> None:
    p = sub.add_parser("eval", help="evaluate OCR engines (CER, time per page) or the invoice/receipt "
                                    "extractor (per-field accuracy) on a folder with ground truth")
    p.add_argument("what", choices=("ocr", "extract"), help="ocr: character error rate per engine; "
                                                            "extract: per-field accuracy")
    p.add_argument("folder", help="folder of documents with ground truth (see docs/ocr.md)")
    p.add_argument("--engine", action="append", default=None,
                   help="OCR engine (rapidocr, easyocr, tesseract); repeat to compare; default: the configured one")
    p.add_argument("--mode", choices=("auto", "ocr", "text"), default="auto",
                   help="extract: PDF pages from their text layer when present (auto), always OCR, or text only")
    p.add_argument("--limit", type=int, default=0, help="only the first N documents")
    p.add_argument("--date-order", choices=("DMY", "MDY"), default="DMY", help="how to read 01/02/2024")
    p.add_argument("--threads", type=int, default=0, help="inference threads (default: up to 4)")
    p.add_argument("--json", metavar="FILE", help="also write the full results as JSON")
    p.add_argument("--cache", metavar="DIR", help="keep each document's OCR output in DIR and reuse it (re-run the "
                                                  "extractor or the CER without OCR; times are the original ones)")
    p.add_argument("--ignore-xml", action="store_true",
                   help="extract: measure the printed page even when the PDF carries e-invoice XML (Factur-X, "
                        "ZUGFeRD), which is otherwise read")
    p.add_argument("-q", "--quiet", action="store_true", help="only the summary")
    p.set_defaults(func=cmd_eval)


def cmd_eval(args) -> int:
    from .evaluate import discover, run_extract, run_ocr

    folder = Path(args.folder)
    if not folder.is_dir():
        raise BotloomError(f"folder not found: {folder}", fix="give a folder of documents with ground truth")
    docs = discover(folder)
    if args.limit:
        docs = docs[: args.limit]
    if not docs:
        raise BotloomError(f"no documents with ground truth in {folder}",
                           fix="put NAME.pdf/png/jpg with NAME.json (expected fields) beside it; see docs/ocr.md")
    log = (lambda *_: None) if args.quiet else (lambda msg: print(msg, flush=True))
    settings = {"threads": args.threads} if args.threads else {}
    engines = args.engine or [None]
    report = []
    for name in engines:
        if args.what == "ocr":
            print(f"OCR {name or 'default engine'} on {len(docs)} documents in {folder}", flush=True)
            r = run_ocr(docs, name, settings, log=log, cache=Path(args.cache) if args.cache else None)
            print(f"{r['engine']}: CER {r['cer']:.2%} (words aligned to the reference lines), reading-order CER "
                  f"{r['reading_order_cer']:.2%}, over {r['pages']} pages, {r['seconds_per_page']:.2f} s per page")
        else:
            print(f"extract ({name or 'default engine'}, mode {args.mode}) on {len(docs)} documents in {folder}",
                  flush=True)
            r = run_extract(docs, name, settings, mode=args.mode, date_order=args.date_order, log=log,
                            cache=Path(args.cache) if args.cache else None, structured=not args.ignore_xml)
            r["engine"] = name or "default"
            print(f"{'field':<16}{'accuracy':>9}  count")
            for field, acc in r["accuracy"].items():
                print(f"{field:<16}{acc:>9.1%}  {r['counts'][field]}")
            print(f"{'all fields':<16}{r['overall']:>9.1%}  {r['overall_count']}   "
                  f"{r['seconds_per_page']:.2f} s per page")
            sroie = r.get("sroie")
            if sroie:
                print(f"SROIE key information (company, date, address, total): F1 {sroie['f1']:.1%} "
                      f"(precision {sroie['precision']:.1%}, recall {sroie['recall']:.1%}); "
                      + ", ".join(f"{k} {v}" for k, v in sroie["counts"].items()))
            li = r.get("line_items")
            if li:
                print(f"line items on {li['documents']} documents with expected items "
                      f"({li['expected']} expected, {li['extracted']} extracted):")
                for field, acc in li["accuracy"].items():
                    print(f"  {field:<14}{acc:>9.1%}  {li['counts'][field]}")
                print(f"  {'all':<14}{li['overall']:>9.1%}  {li['overall_count']}")
        report.append(r)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    sys.stdout.flush()
    return 0
