"""Out-of-scope detection on an HWU64 stand-in, for both kinds of text classifier.

HWU64 has no out-of-scope label, so whole scenarios play the out-of-scope texts: training gets
the other intents' rows and a sample of those scenarios' rows labelled ``oos`` (as CLINC-150
gives 100 out-of-scope rows among 15,100); the test file's rows of those scenarios are
relabelled ``oos``. Prints in-scope accuracy and out-of-scope recall on the test file.

    .venv/bin/python benchmarks/intents_oos.py [--scenarios cooking,news,weather,social,takeaway] [--oos-rows 100]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "hwu64"


def rows(name: str) -> list[dict]:
    with open(DATA / f"{name}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", default="cooking,news,weather,social,takeaway")
    parser.add_argument("--oos-rows", type=int, default=100)
    args = parser.parse_args()
    if not DATA.exists():
        print(f"HWU64 not found at {DATA}")
        return 0
    os.environ["BOTLOOM_HOME"] = tempfile.mkdtemp(prefix="botloom-oos-")
    from botloom.nodes.ai.registry import Registry
    from botloom.nodes.ai.textclf import load_classifier
    from botloom.nodes.ai.texttrain import scope_figures, train

    outside = set(args.scenarios.split(","))

    def scenario(row):
        return row["category"].split("_")[0]

    train_rows = rows("train")
    sample = [r for r in train_rows if scenario(r) in outside]
    random.Random(5).shuffle(sample)
    data = [(r["text"], r["category"]) for r in train_rows if scenario(r) not in outside]
    data += [(r["text"], "oos") for r in sample[:args.oos_rows]]
    test = [(r["text"], "oos" if scenario(r) in outside else r["category"]) for r in rows("test")]
    print(f"training rows {len(data)} ({args.oos_rows} out of scope); test rows {len(test)} "
          f"({sum(1 for _, lab in test if lab == 'oos')} out of scope: {', '.join(sorted(outside))})")
    for features in ("ngrams+sentence", "ngrams"):
        name = features.replace("+", "-")
        result = train(name, [t for t, _ in data], [lab for _, lab in data], source="hwu64 stand-in",
                       registry=Registry(), features=features)
        clf = load_classifier(Registry(), name)
        figures = scope_figures([lab for _, lab in test], clf.predict([t for t, _ in test]), "oos")
        print(f"{features:<16} threshold {result.version.card['out_of_scope']['threshold']:.3f}: in-scope accuracy "
              f"{figures['in_scope_accuracy']:.4f}, out-of-scope recall {figures['out_of_scope_recall']:.4f} "
              f"({result.seconds:.0f} s to train)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
