"""`botloom models ...`: the model registry from the command line.

    botloom models list
    botloom models show NAME[@VERSION]
    botloom models import FILE [--name NAME] [--activate]
    botloom models export NAME[@VERSION] FILE
    botloom models activate NAME VERSION
    botloom models rollback NAME
    botloom models train NAME --csv FILE [--text-column text] [--label-column label] [--holdout 0.2]
                                 [--seed 13] [--activate if_better|always|never] [--corrections]
                                 [--held-out-csv FILE] [--from-reviews]
    botloom models evaluate NAME[@VERSION] --csv FILE [--text-column ...] [--label-column ...]
    botloom models drift NAME[@VERSION] [--window 1000]
    botloom models reviews NAME
    botloom models correct NAME TEXT LABEL [--by WHO]    (or --review ID LABEL)

This module is imported on every CLI start: it imports nothing heavy at module level.
"""

from __future__ import annotations

import json
import sys


def register(sub) -> None:
    m = sub.add_parser("models", help="local AI models: list, show, import, export, activate, roll back, train, "
                                      "evaluate, drift")
    ms = m.add_subparsers(dest="models_command", metavar="COMMAND")
    m.set_defaults(func=lambda args: (m.print_help(), 2)[1])

    p = ms.add_parser("list", help="every model, its versions and the active one")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = ms.add_parser("show", help="a version's model card (default: the active version)")
    p.add_argument("model", metavar="NAME[@VERSION]")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    p = ms.add_parser("import", help="add a model archive (.botmodel) as a new version")
    p.add_argument("file")
    p.add_argument("--name", help="store under this name (default: the name in the archive)")
    p.add_argument("--activate", action="store_true", help="activate it (the first version always is)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import)

    p = ms.add_parser("export", help="write a version as one archive file")
    p.add_argument("model", metavar="NAME[@VERSION]")
    p.add_argument("file", help="the archive to write (or a folder)")
    p.set_defaults(func=cmd_export)

    p = ms.add_parser("activate", help="make a version the one bots use")
    p.add_argument("name")
    p.add_argument("version")
    p.set_defaults(func=cmd_activate)

    p = ms.add_parser("rollback", help="go back to the previously active version")
    p.add_argument("name")
    p.set_defaults(func=cmd_rollback)

    p = ms.add_parser("train", help="train a text classifier from a CSV of examples")
    p.add_argument("name")
    p.add_argument("--csv", help="examples: a UTF-8 CSV with a header")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--holdout", type=float, default=0.2, help="share held back to measure it (stratified)")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--activate", choices=("if_better", "always", "never"), default="if_better")
    p.add_argument("--corrections", action="store_true", help="add the corrections recorded for this model")
    p.add_argument("--from-reviews", action="store_true",
                   help="add the labelled examples of completed review tasks whose field's source is this model")
    p.add_argument("--features", choices=("auto", "ngrams+sentence", "ngrams"), default="auto",
                   help="word and character n-grams, plus sentence embeddings when the encoder is installed "
                        "(auto, the default)")
    p.add_argument("--out-of-scope", metavar="LABEL", default="auto",
                   help="the label meaning none of the known ones: texts below a threshold chosen on validation "
                        "rows get it (auto: a label named oos or out_of_scope, if any; none: no such outcome)")
    p.add_argument("--held-out-csv", help="also write the held-back rows to this CSV (for 'evaluate')")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_train)

    p = ms.add_parser("correct", help="record the right label for a text (used by 'train --corrections')")
    p.add_argument("name")
    p.add_argument("text", help="the text as the model saw it (or a review item's id with --review)")
    p.add_argument("label", help="the label a person chose")
    p.add_argument("--review", action="store_true", help="TEXT is the id of an item of 'botloom models reviews'")
    p.add_argument("--by", default="", help="who corrected it (kept with the correction and in the audit trail)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_correct)
    p = ms.add_parser("evaluate", help="accuracy and macro-F1 of a version on a labelled CSV")
    p.add_argument("model", metavar="NAME[@VERSION]")
    p.add_argument("--csv", required=True)
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = ms.add_parser("drift", help="drift score of recent predictions against the training baseline")
    p.add_argument("model", metavar="NAME[@VERSION]")
    p.add_argument("--window", type=int, default=1000, help="how many recent predictions to compare")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_drift)

    p = ms.add_parser("reviews", help="items a classifier was unsure about (open) or corrected")
    p.add_argument("name")
    p.add_argument("--status", choices=("open", "corrected"), default="open")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_reviews)


def _ref(text: str) -> tuple[str, str | None]:
    name, _, version = text.partition("@")
    return name, version or None


def _out(data, as_json: bool, lines) -> None:
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        for line in lines():
            print(line)
    sys.stdout.flush()


def cmd_list(args) -> int:
    from .registry import Registry

    reg = Registry()
    data = []
    for name in reg.names():
        active = reg.active(name)
        card = reg.get(name, active).card if active else {}
        data.append({"name": name, "versions": reg.versions(name), "active": active, "task": card.get("task"),
                     "metrics": card.get("metrics", {})})
    _out(data, args.json, lambda: [f"{d['name']:<24} active {d['active'] or '-':<4} versions {','.join(d['versions'])}"
                                   f"  {d['task'] or ''} {_fmt_metrics(d['metrics'])}" for d in data]
         or ["no models yet: train one with 'botloom models train NAME --csv FILE'"])
    return 0


def _fmt_metrics(m: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in m.items()
                    if k in ("accuracy", "macro_f1", "n", "in_scope_accuracy", "out_of_scope_recall"))


def cmd_show(args) -> int:
    from .registry import Registry

    reg = Registry()
    name, version = _ref(args.model)
    mv = reg.get(name, version)
    card = dict(mv.card, active=reg.active(name) == mv.version, labels=mv.labels, folder=str(mv.folder))

    def lines():
        yield f"{mv.ref}{'  (active)' if card['active'] else ''}  {card.get('task', '')}"
        for key in ("created_at", "sha256", "preprocess", "intended_use"):
            if card.get(key):
                yield f"  {key}: {card[key]}"
        td = card.get("training_data") or {}
        if td:
            fitted = td.get("fitted_rows", td.get("train_rows"))
            yield (f"  training data: {td.get('rows')} rows given from {td.get('source')}, {fitted} fitted, "
                   f"{td.get('evaluation_rows', td.get('held_out_rows', 0))} kept for evaluation "
                   f"({len(td.get('labels', {}))} labels)")
        ev = card.get("evaluation")
        if ev:
            figures = _fmt_metrics(ev["metrics"]) if ev.get("metrics") else "no accuracy measured"
            yield f"  evaluation: {ev.get('split')}: {figures}"
            if (ev.get("calibration") or {}).get("ece") is not None:
                cal = ev["calibration"]
                scaled = f", temperature {cal['temperature']}" if cal.get("temperature") else ""
                yield (f"  calibration: expected calibration error {cal['ece']:.3f} (mean confidence "
                       f"{cal['mean_confidence']:.3f} against accuracy {cal['accuracy']:.3f}{scaled})")
        if (card.get("features") or {}).get("note"):
            yield f"  features: {card['features']['note']}"
        if card.get("out_of_scope"):
            oos = card["out_of_scope"]
            yield (f"  out of scope: '{oos['label']}' when the best in-scope confidence is below {oos['threshold']:.3f} "
                   f"({oos.get('trained_rows', 0)} out-of-scope training rows)")
        for lim in card.get("limitations", []):
            yield f"  limitation: {lim}"
        yield f"  labels: {', '.join(map(str, card['labels'][:20]))}{' ...' if len(card['labels']) > 20 else ''}"
    _out(card, args.json, lines)
    return 0


def cmd_import(args) -> int:
    from .registry import Registry

    reg = Registry()
    mv = reg.import_archive(args.file, args.name, True if args.activate else None)
    active = reg.active(mv.name) == mv.version
    _out({"name": mv.name, "version": mv.version, "active": active}, args.json,
         lambda: [f"imported {mv.ref}{' (active)' if active else ''}"])
    return 0


def cmd_export(args) -> int:
    from pathlib import Path

    from .registry import Registry

    name, version = _ref(args.model)
    path = Registry().export(name, version, Path(args.file))
    print(f"wrote {path}")
    return 0


def cmd_activate(args) -> int:
    from .registry import Registry

    Registry().activate(args.name, args.version)
    print(f"{args.name}: version {args.version} is active")
    return 0


def cmd_rollback(args) -> int:
    from .registry import Registry

    version = Registry().rollback(args.name)
    print(f"{args.name}: rolled back to version {version}")
    return 0


def cmd_correct(args) -> int:
    """A person's label from the command line, stored as the classify node's corrections are."""
    from .monitor import add_correction
    from .registry import ModelError, Registry

    Registry().folder(args.name)  # the name is checked
    if args.review:
        try:
            review_id = int(args.text)
        except ValueError:
            raise ModelError(f"'{args.text}' is not a review item's id", where="botloom models correct --review",
                             fix=f"list them with 'botloom models reviews {args.name}'") from None
        cid = add_correction(args.name, args.label, review_id=review_id, source=args.by)
    else:
        from .textclf import normalize

        cid = add_correction(args.name, args.label, text=args.text, key=f"cli:{args.name}:{normalize(args.text)}",
                             source=args.by)
    _out({"name": args.name, "correction": cid, "label": args.label}, args.json,
         lambda: [f"correction {cid} recorded for {args.name}: '{args.label}' "
                  f"(train with --corrections to use it)"])
    return 0


def cmd_train(args) -> int:
    from botloom.runner.sdk import BotloomError

    from .monitor import corrections
    from .texttrain import examples_from_rows, read_examples, train

    rows, sources = [], []
    if args.csv:
        t, lab = read_examples(args.csv, args.text_column, args.label_column)
        rows += zip(t, lab)
        sources.append(args.csv)
    if args.corrections:
        fixed = corrections(args.name)
        rows += fixed
        sources.append(f"{len(fixed)} corrections")
    if args.from_reviews:
        reviewed = _review_examples(args.name)
        rows += reviewed
        sources.append(f"{len(reviewed)} reviews")
    if not rows:
        raise BotloomError("no examples to train on", fix="give --csv FILE (and/or --corrections, --from-reviews: "
                                                          "review fields need source set to the model's name)")
    texts, labels = examples_from_rows(rows, " + ".join(sources))
    result = train(args.name, texts, labels, source=" + ".join(sources), holdout=args.holdout, seed=args.seed,
                   activate=args.activate, features=args.features, out_of_scope=args.out_of_scope)
    if args.held_out_csv:
        _write_held_out(args, texts, labels)
    per_label: dict[str, int] = {}
    for label in labels:
        per_label[label] = per_label.get(label, 0) + 1
    data = {"name": args.name, "version": result.version.version, "metrics": result.metrics,
            "activated": result.activated, "message": result.reason, "seconds": round(result.seconds, 2),
            "examples": dict(sorted(per_label.items())), "sources": sources}
    measured = (f"{_fmt_metrics(result.metrics)} (the model's evaluation rows)" if result.metrics
                else "no accuracy measured (no evaluation rows)")
    card = result.version.card
    data["features"] = (card.get("features") or {}).get("note", "")
    data["out_of_scope"] = card.get("out_of_scope")
    scope = (f"out of scope: '{card['out_of_scope']['label']}' below confidence {card['out_of_scope']['threshold']:.3f}"
             if card.get("out_of_scope") else "no out-of-scope outcome")
    _out(data, args.json, lambda: [f"trained {result.version.ref} in {result.seconds:.1f} s: {measured}", result.reason,
                                   f"features: {data['features']}; {scope}",
                                   "examples per label: " + ", ".join(f"{k} {v}" for k, v in data["examples"].items())])
    return 0


def _review_examples(name: str) -> list[tuple[str, str]]:
    """(text, label) rows from the completed reviews of fields whose source is model ``name``."""
    from botloom.runner.sdk import review_examples

    return review_examples(name)


def _write_held_out(args, texts, labels) -> None:
    """The model's evaluation rows (normalised, as the model sees them), for 'evaluate'."""
    import csv

    from .registry import Registry
    from .texttrain import EvaluationSet

    rows = EvaluationSet(Registry().folder(args.name))
    with open(args.held_out_csv, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([args.text_column, args.label_column])
        w.writerows(zip(rows.texts, rows.labels))


def cmd_evaluate(args) -> int:
    from .registry import Registry
    from .textclf import load_classifier
    from .texttrain import metrics_of, read_examples

    name, version = _ref(args.model)
    texts, labels = read_examples(args.csv, args.text_column, args.label_column)
    clf = load_classifier(Registry(), name, version)
    results = clf.predict(texts)
    metrics = metrics_of(labels, [p["label"] for p in results])
    if clf.out_of_scope_label:
        from .texttrain import scope_figures

        metrics.update(scope_figures(labels, results, clf.out_of_scope_label))
    data = {"model": clf.version.ref, "csv": args.csv, **metrics}
    _out(data, args.json, lambda: [f"{clf.version.ref} on {args.csv}: {_fmt_metrics(metrics)}"])
    return 0


def cmd_drift(args) -> int:
    from .monitor import drift
    from .registry import Registry

    name, version = _ref(args.model)
    mv = Registry().get(name, version)
    report = drift(mv.name, mv.version, mv.card.get("baseline") or {}, args.window)

    def lines():
        if report["score"] is None:
            yield f"{mv.ref}: {report.get('note')}"
            return
        yield (f"{mv.ref}: drift score {report['score']} over the last {report['n']} predictions "
               f"(PSI confidence {report['psi_confidence']}, input length {report['psi_length']})")
        if report["warning"]:
            yield (f"WARNING: above {report['threshold']}: recent inputs differ from the training data; "
                   f"review them ('botloom models reviews {mv.name}') and retrain")
    _out(report, args.json, lines)
    return 0


def cmd_reviews(args) -> int:
    from .monitor import reviews

    items = reviews(args.name, args.status, args.limit)
    _out(items, args.json, lambda: [f"{r['id']:>6}  {r['predicted'] or '-':<20} {r['confidence'] or 0:.2f}  "
                                    f"{r['label'] or '':<16} {r['text'][:60]}" for r in items]
         or [f"no {args.status} review items for '{args.name}'"])
    return 0
