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
    p.add_argument("what", choices=("ocr", "extract", "calibrate"),
                   help="ocr: character error rate per engine; extract: per-field accuracy; calibrate: fit the "
                        "field confidences on the folders and report review routing, cross-validated")
    p.add_argument("folder", nargs="+", help="folder(s) of documents with ground truth (see docs/ocr.md)")
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
    p.add_argument("--out", metavar="FILE",
                   help="calibrate: where to write the fitted models (default: the pack's calibration.json)")
    p.add_argument("--review-fields", default="vendor,invoice_date,total",
                   help="calibrate: the fields whose doubt sends to review, comma-separated (routing figures)")
    p.add_argument("--folds", type=int, default=5, help="calibrate: cross-validation folds")
    p.add_argument("-q", "--quiet", action="store_true", help="only the summary")
    p.set_defaults(func=cmd_eval)


def cmd_eval(args) -> int:
    from .evaluate import discover, run_extract, run_ocr

    docs = []
    for name in args.folder:
        folder = Path(name)
        if not folder.is_dir():
            raise BotloomError(f"folder not found: {folder}", fix="give a folder of documents with ground truth")
        docs += discover(folder)
    folder = ", ".join(args.folder)
    if args.limit:
        docs = docs[: args.limit]
    if not docs:
        raise BotloomError(f"no documents with ground truth in {folder}",
                           fix="put NAME.pdf/png/jpg with NAME.json (expected fields) beside it; see docs/ocr.md")
    log = (lambda *_: None) if args.quiet else (lambda msg: print(msg, flush=True))
    settings = {"threads": args.threads} if args.threads else {}
    engines = args.engine or [None]
    if args.what == "calibrate":
        return _calibrate(args, docs, engines[0], log)
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


def _calibrate(args, docs, engine, log) -> int:
    from .confidence import SHIPPED, cross_validate, fit, routing, samples_of
    from .confidence import collect

    print(f"calibrate on {len(docs)} documents ({args.folds}-fold cross-validation for the routing figures)",
          flush=True)
    rows = collect(docs, engine, Path(args.cache) if args.cache else None, log=log)
    chosen = [f.strip() for f in args.review_fields.split(",") if f.strip()]
    held = cross_validate(rows, max(2, args.folds))
    print(f"review routing on {', '.join(chosen)} (each document scored by models fitted without it):")
    print(f"{'threshold':>10} {'reviewed':>10} {'passed fields right':>22}")
    figures = []
    for t in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99):
        r = routing(held, chosen, t)
        figures.append(r)
        print(f"{t:>10.2f} {r['review_share']:>9.1%} {r['passed_accuracy']:>14.1%} "
              f"({r['passed_right']}/{r['passed_fields']})")
    model = fit(samples_of(rows))
    model["fitted_on"] = {"documents": len(rows), "folders": list(args.folder)}
    out = Path(args.out) if args.out else SHIPPED
    out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    print(f"models for {', '.join(model['fields'])} written to {out}")
    if args.json:
        Path(args.json).write_text(json.dumps({"routing": figures, "review_fields": chosen}, indent=2),
                                   encoding="utf-8")
    return 0
