"""Local AI benchmarks: training time, single-item latency and batch throughput of a text
classifier through Botloom's runtime (ONNX Runtime): the default model (n-grams + sentence
embeddings) and the n-gram-only model, with scikit-learn's own n-gram pipeline measured as the
peer in the same run.

    .venv/bin/python benchmarks/ai.py            # Banking77 (../shared/data/banking77), ~2-3 minutes
    .venv/bin/python benchmarks/ai.py --quick    # a 1,500-row subset, fewer repeats (~20 s)
    .venv/bin/python benchmarks/ai.py --json results.json

Figures (``ngrams_`` prefix: the same for the n-gram-only model):
  train_s, _cpu_s    `botloom models train` work on every row given (Banking77: 10,003): encode,
                     fit on validation split and choose the temperature, refit on the 8,002
                     training rows, export to ONNX, measure on the held-back 20 %, store
  sklearn_fit_s      the peer: fitting the n-gram model's scikit-learn parts (TF-IDF, logistic
                     regression) once, alone; its predictions are scikit-learn's predict_proba
  single_p50/p95_ms  one text per call through TextClassifier.predict + drift recording (what the
                     classify node does per item), vs scikit-learn predict_proba on one text
  single_cpu_p50/p95_ms  the same calls in process CPU time (a loaded machine inflates the wall
                     time, not this)
  batch_items_s      items per second classifying the held-back rows in one call
Without the Banking77 data, generated tickets are used (and said so).
The exit code is 0 whether or not targets are met (it is a report).
"""

from __future__ import annotations

import csv
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import arguments, print_targets, write_json

ROOT = Path(__file__).resolve().parent.parent
BANKING = ROOT.parent / "shared" / "data" / "banking77" / "train.csv"
TARGETS = {"train_s": 120.0, "single_p95_ms": 10.0}


def load(quick: bool) -> tuple[list[str], list[str], str]:
    if BANKING.exists():
        with open(BANKING, newline="", encoding="utf-8") as f:
            rows = [(r["text"], r["category"]) for r in csv.DictReader(f)]
        source = f"Banking77 train.csv ({len(rows)} rows, 77 intents)"
    else:
        sys.path.insert(0, str(ROOT / "tests" / "ai"))
        from ai_examples import generate

        texts, labels = generate(1500)
        rows = list(zip(texts, labels))
        source = f"generated tickets ({len(rows)} rows; Banking77 not found at {BANKING})"
    if quick:
        rows = rows[::max(1, len(rows) // 1500)]
        source += f", quick subset of {len(rows)}"
    return [t for t, _ in rows], [lab for _, lab in rows], source


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def main() -> int:
    args = arguments(__doc__).parse_args()
    os.environ["BOTLOOM_HOME"] = tempfile.mkdtemp(prefix="botloom-bench-ai-")

    import onnxruntime
    import sklearn

    from botloom.nodes.ai.monitor import PREDICTIONS
    from botloom.nodes.ai.registry import Registry
    from botloom.nodes.ai.textclf import fit_model, load_classifier, normalize
    from botloom.nodes.ai.texttrain import split, train

    texts, labels, source = load(args.quick)
    single_n = 300 if args.quick else 3000
    fig: dict = {"data": source, "python": platform.python_version(), "cpus": os.cpu_count(),
                 "onnxruntime": onnxruntime.__version__, "sklearn": sklearn.__version__}

    for prefix, name, features in (("", "bench", "ngrams+sentence"), ("ngrams_", "bench_ngrams", "ngrams")):
        t0, c0 = time.perf_counter(), time.process_time()
        result = train(name, texts, labels, source=source, holdout=0.2, seed=13, registry=Registry(),
                       features=features)
        fig[prefix + "train_s"] = time.perf_counter() - t0
        fig[prefix + "train_cpu_s"] = time.process_time() - c0  # tells a busy machine from slow code
        fig[prefix + "accuracy_held_back"] = result.metrics["accuracy"]

    norm = [normalize(t) for t in texts]
    tr, te = split(norm, labels, 0.2, 13)
    t0, c0 = time.perf_counter(), time.process_time()
    peer = fit_model([norm[i] for i in tr], [labels[i] for i in tr])  # the n-gram model's scikit-learn objects
    fig["sklearn_fit_s"] = time.perf_counter() - t0
    fig["sklearn_fit_cpu_s"] = time.process_time() - c0

    clf = load_classifier(Registry(), "bench")
    ngrams = load_classifier(Registry(), "bench_ngrams")
    held = [texts[i] for i in te]
    probe = (held * (single_n // max(1, len(held)) + 1))[:single_n]

    def one(model):
        def call(t):
            p = model.predict([t])[0]
            PREDICTIONS.record(model.version.name, "1", p["confidence"], len(t), p["label"])
        return call

    def sklearn_one(t):
        peer.clf.predict_proba(peer.design([normalize(t)]))

    lat = {}
    kinds = (("botloom", one(clf)), ("ngrams", one(ngrams)), ("sklearn", sklearn_one))
    for name, fn in kinds:
        for t in probe[:50]:
            fn(t)  # warm-up
        times, cpu = [], []
        for t in probe:
            c, s = time.process_time(), time.perf_counter()
            fn(t)
            times.append((time.perf_counter() - s) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        lat[name], lat[name + "_cpu"] = times, cpu
    for name, _ in kinds:
        fig[f"{name}_single_p50_ms"] = statistics.median(lat[name])
        fig[f"{name}_single_p95_ms"] = percentile(lat[name], 95)
        # CPU time of the process per call: what the code costs, without the waits of a busy machine
        fig[f"{name}_single_cpu_p50_ms"] = statistics.median(lat[name + "_cpu"])
        fig[f"{name}_single_cpu_p95_ms"] = percentile(lat[name + "_cpu"], 95)

    batch = (held * (2000 // max(1, len(held)) + 1))[:2000]
    repeats = 1 if args.quick else 3
    best = {}
    for name, fn in (("botloom", lambda: clf.predict(batch)), ("ngrams", lambda: ngrams.predict(batch)),
                     ("sklearn", lambda: peer.clf.predict_proba(peer.design([normalize(t) for t in batch])))):
        runs = []
        for _ in range(repeats):
            s = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - s)
        best[name] = len(batch) / min(runs)
    fig["botloom_batch_items_s"] = best["botloom"]
    fig["sklearn_batch_items_s"] = best["sklearn"]
    fig["ngrams_batch_items_s"] = best["ngrams"]
    # the n-gram model's exported graph against scikit-learn's pipeline fitted on the same rows
    same = [p["label"] for p in ngrams.predict(held)] == [
        str(x) for x in peer.clf.predict(peer.design([normalize(t) for t in held]))]
    fig["labels_identical"] = same
    PREDICTIONS.flush()

    print(f"data: {source}; Python {fig['python']}, {fig['cpus']} CPUs, onnxruntime {fig['onnxruntime']}, "
          f"scikit-learn {fig['sklearn']}")
    print(f"{'figure':<28}{'botloom':>12}{'n-grams':>12}{'sklearn':>12}{'ratio':>9}")
    rows = [("train (s)", fig["train_s"], fig["ngrams_train_s"], fig["sklearn_fit_s"]),
            ("train CPU time (s)", fig["train_cpu_s"], fig["ngrams_train_cpu_s"], fig["sklearn_fit_cpu_s"]),
            ("held-back accuracy", fig["accuracy_held_back"], fig["ngrams_accuracy_held_back"], float("nan"))]
    rows += [(f"single item {what} (ms)", fig[f"botloom_single_{key}_ms"], fig[f"ngrams_single_{key}_ms"],
              fig[f"sklearn_single_{key}_ms"])
             for what, key in (("P50", "p50"), ("P95", "p95"), ("CPU P50", "cpu_p50"), ("CPU P95", "cpu_p95"))]
    rows.append(("batch (items/s)", fig["botloom_batch_items_s"], fig["ngrams_batch_items_s"], fig["sklearn_batch_items_s"]))
    for label, ours, ngram, peer in rows:
        print(f"{label:<28}{ours:>12.3f}{ngram:>12.3f}{peer:>12.3f}{ours / peer:>8.2f}x")
    print("(ratio: botloom's default model / scikit-learn's n-gram pipeline)")
    fig["ratios"] = {"train": fig["train_s"] / fig["sklearn_fit_s"],
                     "single_p95": fig["botloom_single_p95_ms"] / fig["sklearn_single_p95_ms"],
                     "batch": fig["botloom_batch_items_s"] / fig["sklearn_batch_items_s"]}
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    fig["load_average_1min"] = load_avg
    print(f"machine load average (1 min) at the end: {load_avg}")
    print(f"held-back accuracy {fig['accuracy_held_back']:.4f} (n-grams only: {fig['ngrams_accuracy_held_back']:.4f}); "
          f"the n-gram model's ONNX labels identical to scikit-learn's: {same}")
    print_targets([
        (f"train on {len(texts)} rows <= {TARGETS['train_s']:.0f} s: {fig['train_s']:.1f} s",
         fig["train_s"] <= TARGETS["train_s"]),
        (f"single item P95 <= {TARGETS['single_p95_ms']} ms: {fig['botloom_single_p95_ms']:.3f} ms",
         fig["botloom_single_p95_ms"] <= TARGETS["single_p95_ms"])])
    write_json(args.json, fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
