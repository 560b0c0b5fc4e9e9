"""Training text classifiers: examples in, a measured model version out.

1. The model's evaluation rows are set aside (:class:`EvaluationSet`: kept across versions,
   never trained on).
2. The remaining training rows are scored by models that did not fit them (a 15 % validation
   split, or 5-fold cross-validation for small sets: :func:`held_back_logits`); those scores
   choose the softmax temperature (calibration) and, when the model has an out-of-scope
   label, the confidence below which a text is out of scope.
3. The model is refitted on every training row with those choices, exported to ONNX, and
   measured on the evaluation rows through the exported graph (what bots run).

Sentence features (``features``: ``auto``, ``ngrams+sentence`` or ``ngrams``) need the
sentence encoder (:mod:`.encoder`); ``auto`` uses it when it is installed and says so.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .registry import ModelError, ModelVersion, Registry
from .textclf import (DEFAULTS, PREPROCESS, decide, fit_model, load_classifier, normalize,
                      require_training, run_probabilities, to_onnx)

OUT_OF_SCOPE_NAMES = ("oos", "out_of_scope", "out-of-scope", "outofscope")
FEATURES = ("auto", "ngrams+sentence", "ngrams")
VALIDATION_SHARE = 0.15
MIN_CALIBRATION_ROWS = 30  # held-back scores needed to choose a temperature
SPLIT_ROWS = 100  # validation rows a 15 % split must give; with fewer, cross-validation
IN_SCOPE_COST = 0.01  # in-scope accuracy the out-of-scope threshold may cost on validation rows
# Temperatures tried: 1 (as fitted) to 5 (much softer). Never below 1: a sharper model would
# send more wrong answers straight through, and a few held-back rows that are all right (a
# small CSV of examples) would always ask for certainty.
TEMPERATURES = [round(math.exp(i * math.log(5.0) / 40), 4) for i in range(41)]


def read_examples(path: Path, text_column: str = "text", label_column: str = "label") -> tuple[list[str], list[str]]:
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            fields = reader.fieldnames or []
            for col in (text_column, label_column):
                if col not in fields:
                    raise ModelError(f"{path} has no column '{col}' (columns: {', '.join(fields) or 'none'})",
                                     fix="name the text and label columns (--text-column / --label-column)")
            rows = [(r[text_column], r[label_column]) for r in reader]
    except FileNotFoundError:
        raise ModelError(f"file not found: {path}", fix="check the path of the examples CSV") from None
    except UnicodeDecodeError as exc:
        raise ModelError(f"{path} is not UTF-8 text: {exc.reason}", fix="save the CSV as UTF-8") from None
    return examples_from_rows(rows, str(path))


def examples_from_rows(rows: Iterable[tuple[Any, Any]], where: str = "the examples") -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for text, label in rows:
        if label is None or str(label).strip() == "" or text is None:
            continue
        texts.append(str(text))
        labels.append(str(label).strip())
    counts = _counts(labels)
    if len(counts) < 2:
        raise ModelError(f"{where} need at least two different labels (found {len(counts)} in {len(labels)} rows)",
                         fix="give examples of every category the model should tell apart")
    return texts, labels


def _counts(labels: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for lab in labels:
        out[lab] = out.get(lab, 0) + 1
    return dict(sorted(out.items()))


def split(texts: list[str], labels: list[str], holdout: float, seed: int):
    """A stratified split (every label with at least two examples is represented in both parts)."""
    from sklearn.model_selection import train_test_split

    counts = _counts(labels)
    rare = {lab for lab, n in counts.items() if n < 2}
    keep = [i for i, lab in enumerate(labels) if lab not in rare]
    extra = [i for i, lab in enumerate(labels) if lab in rare]
    n_test = max(int(round(holdout * len(keep))), len(counts) - len(rare))
    if holdout <= 0 or n_test >= len(keep):
        return list(range(len(texts))), []
    tr, te = train_test_split(keep, test_size=n_test, stratify=[labels[i] for i in keep], random_state=seed)
    return sorted(tr + extra), sorted(te)


class EvaluationSet:
    """The rows a model is measured on, kept with the model (``evaluation.jsonl`` in its folder)
    across versions and never trained on, so "activate only if better" compares two versions on
    rows neither has seen.

    The first training holds back a stratified share (``holdout``); later trainings leave every
    evaluation row out of their training rows, and hold back a share of the rows of labels the
    set has not got yet (a label added later is measured too). ``--holdout 0`` with no set yet
    trains on everything and claims no accuracy."""

    FILE = "evaluation.jsonl"

    def __init__(self, folder: Path):
        self.path = Path(folder) / self.FILE
        self.texts: list[str] = []
        self.labels: list[str] = []
        self._dirty = False
        if self.path.exists():
            try:
                for line in self.path.read_text(encoding="utf-8").splitlines():
                    if line.strip():
                        row = json.loads(line)
                        self.texts.append(str(row["text"]))
                        self.labels.append(str(row["label"]))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise ModelError(f"the model's evaluation rows cannot be read: {exc}", where=str(self.path),
                                 fix="restore the file from a backup, or delete it to hold back new rows at the "
                                     "next training (the versions so far were measured on the old ones)") from None

    def split(self, norm: list[str], labels: list[str], holdout: float, seed: int) -> tuple[list, list, str]:
        """(training indexes, indexes added to the set, how the set was made)."""
        held = set(self.texts)
        free = [i for i, t in enumerate(norm) if t not in held]
        known = set(self.labels)
        if not self.texts:
            if holdout <= 0:
                return free, [], "none: trained with --holdout 0 (no rows held back, so no accuracy is claimed)"
            sub_tr, sub_te = split([norm[i] for i in free], [labels[i] for i in free], holdout, seed)
            how = f"stratified hold-out {holdout:.0%} (seed {seed}), kept for later versions"
        else:
            new = [i for i in free if labels[i] not in known]
            sub_tr, sub_te = (split([norm[i] for i in new], [labels[i] for i in new], holdout, seed)
                              if new and holdout > 0 else (list(range(len(new))), []))
            added = {new[j] for j in sub_te}
            how = (f"the model's evaluation rows, kept since its first version ({len(self.texts)} rows"
                   + (f", {len(added)} added for new labels" if added else "") + "); never trained on")
            train = [i for i in free if i not in added]
            self._add(norm, labels, sorted(added))
            return train, sorted(added), how
        test = [free[j] for j in sub_te]
        self._add(norm, labels, test)
        return [free[j] for j in sub_tr], test, how

    def _add(self, norm, labels, indexes) -> None:
        for i in indexes:
            self.texts.append(norm[i])
            self.labels.append(labels[i])
        self._dirty = self._dirty or bool(indexes)

    def save(self) -> None:
        if not self._dirty:
            return
        from .registry import atomic_write_text

        atomic_write_text(self.path, "".join(json.dumps({"text": t, "label": lab}, ensure_ascii=False) + "\n"
                                             for t, lab in zip(self.texts, self.labels)))
        self._dirty = False


def calibration_error(confidences: list[float], correct: list[bool], bins: int = 15) -> dict:
    """Expected calibration error (15 equal-width bins of the top probability): how far the
    confidence a model states is from how often it is right, on the evaluation rows. 0.05 means
    a prediction said with 0.9 is right about 85 or 95 % of the time."""
    if not confidences:
        return {}
    total, ece = len(confidences), 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        idx = [i for i, c in enumerate(confidences) if (low < c <= high) or (b == 0 and c == 0)]
        if not idx:
            continue
        conf = sum(confidences[i] for i in idx) / len(idx)
        acc = sum(bool(correct[i]) for i in idx) / len(idx)
        ece += len(idx) / total * abs(conf - acc)
    stated = sum(confidences) / total
    right = sum(map(bool, correct)) / total
    return {"ece": round(ece, 4), "mean_confidence": round(stated, 4), "accuracy": round(right, 4), "bins": bins}


@dataclass
class TrainResult:
    version: ModelVersion
    metrics: dict
    activated: bool
    reason: str
    seconds: float


def metrics_of(y_true: list[str], y_pred: list[str]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    if not y_true:
        return {}
    return {"accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
            "macro_f1": round(float(f1_score(y_true, y_pred, average="macro", zero_division=0)), 4),
            "n": len(y_true)}


def resolve_features(features: str | None) -> tuple[bool, str]:
    """(use sentence features, why) for the ``features`` setting."""
    wanted = (features or "auto").strip().lower()
    if wanted not in FEATURES:
        raise ModelError(f"unknown features '{features}'", fix=f"choose one of: {', '.join(FEATURES)}")
    if wanted == "ngrams":
        return False, "word and character n-grams (asked for)"
    from .encoder import INSTALL as ENCODER_INSTALL
    from .encoder import encoder_files

    try:
        encoder_files()
    except Exception as exc:  # noqa: BLE001 - a missing or broken encoder
        if wanted == "ngrams+sentence":
            raise
        return False, (f"word and character n-grams only: the sentence encoder is not available "
                       f"({getattr(exc, 'message', exc)}); install it for better accuracy: "
                       f"{getattr(exc, 'fix', '') or ENCODER_INSTALL}")
    return True, "word and character n-grams + sentence embeddings"


def out_of_scope_label(labels: list[str], wanted: str | None) -> str | None:
    """The label that means "none of the known intents": ``wanted`` ("none" for no such
    outcome), else a label named like oos / out_of_scope."""
    if wanted is not None and str(wanted).strip().lower() in ("none", "no", "off", ""):
        return None
    if wanted and str(wanted).strip().lower() != "auto":
        return str(wanted).strip()
    present = set(labels)
    return next((name for name in sorted(present) if name.lower() in OUT_OF_SCOPE_NAMES), None)


def softmax(logits, temperature: float = 1.0):
    import numpy as np

    z = np.asarray(logits, dtype=np.float64) / temperature  # [N, classes] (FittedModel.logits)
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def choose_temperature(logits, truth_index) -> float:
    """The temperature (1 to 5) that minimises the negative log-likelihood of held-back rows."""
    import numpy as np

    idx = np.asarray(truth_index)
    best, best_nll = 1.0, float("inf")
    for t in TEMPERATURES:
        p = softmax(logits, t)[np.arange(len(idx)), idx]
        nll = float(-np.log(np.maximum(p, 1e-12)).mean())
        if nll < best_nll:
            best, best_nll = t, nll
    return best


def scope_figures(truth: list[str], results: list[dict], oos: str) -> dict:
    """In-scope accuracy (a rejected in-scope text counts as wrong) and out-of-scope recall."""
    inside = [(t, r) for t, r in zip(truth, results) if t != oos]
    outside = [r for t, r in zip(truth, results) if t == oos]
    figures = {"in_scope_rows": len(inside), "out_of_scope_rows": len(outside)}
    if inside:
        figures["in_scope_accuracy"] = round(sum(r["label"] == t for t, r in inside) / len(inside), 4)
    if outside:
        figures["out_of_scope_recall"] = round(sum(r["label"] == oos for r in outside) / len(outside), 4)
    return figures


def choose_threshold(probs, labels: list[str], truth: list[str], oos: str) -> tuple[float, dict]:
    """The confidence below which a validation text is called out of scope: with out-of-scope
    rows, the one catching the most of them while costing at most one point of in-scope
    accuracy (against the best threshold for in-scope rows alone); without them, the one that
    rejects 2 % of the in-scope rows."""
    import numpy as np

    oos_index = labels.index(oos) if oos in labels else -1
    scope = probs.copy()
    if oos_index >= 0:
        scope[:, oos_index] = -1.0
    top = scope.max(axis=1)
    if not any(t == oos for t in truth):
        inside = np.sort(top[[t != oos for t in truth]])
        threshold = float(inside[int(0.02 * len(inside))]) if len(inside) else 0.0
        return threshold, {"rule": "rejects 2 % of the validation rows (no out-of-scope examples)"}
    candidates = sorted({0.0, *np.round(top, 4).tolist()})
    tried = [(t, scope_figures(truth, decide(probs, labels, oos, t), oos))
             for t in candidates[:: max(1, len(candidates) // 400)]]
    best_inside = max(f.get("in_scope_accuracy", 0.0) for _, f in tried)
    allowed = [(t, f) for t, f in tried if f.get("in_scope_accuracy", 0.0) >= best_inside - IN_SCOPE_COST]
    threshold, figures = max(allowed, key=lambda tf: (tf[1].get("out_of_scope_recall", 0.0), -tf[0]))
    return float(threshold), dict(figures, rule=f"most out-of-scope recall for at most {IN_SCOPE_COST:.0%} of "
                                                "in-scope accuracy, on validation rows")


class Vectors:
    """Sentence vectors of the normalised texts of one training, each computed once."""

    def __init__(self, texts: list[str]):
        from .encoder import get_encoder, release_encoders
        from .runtime import RuntimeSettings

        unique = sorted(set(texts))
        self.index = {t: i for i, t in enumerate(unique)}
        self.matrix = get_encoder(RuntimeSettings()).encode(unique)
        release_encoders()  # the fit needs the memory more; a classifier loads it again when used

    def of(self, texts: list[str]):
        return self.matrix[[self.index[t] for t in texts]]


def train(name: str, texts: list[str], labels: list[str], *, source: str, holdout: float = 0.2, seed: int = 13,
          activate: str = "if_better", params: dict | None = None, registry: Registry | None = None,
          intended_use: str = "", extra_card: dict | None = None, features: str = "auto",
          out_of_scope: str | None = "auto") -> TrainResult:
    """Fit, export, measure on the model's evaluation rows, store as a new version; activate it
    when ``activate`` is "always", or "if_better" and it beats the active version on the same
    rows (or there is none). ``out_of_scope``: the label meaning none of the known ones
    ("auto": a label named oos / out_of_scope if there is one; "none": no such outcome)."""
    require_training()
    import hashlib

    import sklearn

    from .monitor import baseline_of
    from .runtime import cached_session

    registry = registry or Registry()
    texts, labels = examples_from_rows(zip(texts, labels), source or "the examples")
    t0 = time.perf_counter()
    sentence, features_note = resolve_features(features)
    oos = out_of_scope_label(labels, out_of_scope)
    norm = [normalize(t) for t in texts]
    evaluation = EvaluationSet(registry.folder(name))
    tr, te, how = evaluation.split(norm, labels, holdout, seed)
    x_tr, y_tr = [norm[i] for i in tr], [labels[i] for i in tr]
    x_te, y_te = evaluation.texts, evaluation.labels
    if not x_tr:
        raise ModelError("every example given is one of the model's evaluation rows: nothing is left to train on",
                         where=f"model '{name}'", fix="give more examples (the evaluation rows are never trained on)")
    vectors = Vectors(x_tr + x_te) if sentence else None
    vec = (lambda xs: vectors.of(xs)) if vectors else (lambda xs: None)
    # rows not fitted on choose the temperature and the out-of-scope threshold
    temperature, threshold = 1.0, 0.0
    logits, truth, classes, validation = held_back_logits(x_tr, y_tr, params, vec, seed)
    if logits is not None:
        if len(truth) >= MIN_CALIBRATION_ROWS:
            temperature = choose_temperature(logits, [classes.index(t) for t in truth])
            validation["temperature"] = temperature
        else:  # a handful of rows, often all right, would ask for certainty (temperature near 0)
            validation["temperature_note"] = (f"not calibrated: {len(truth)} validation rows, "
                                              f"{MIN_CALIBRATION_ROWS} needed")
        if oos:
            threshold, chosen = choose_threshold(softmax(logits, temperature), classes, truth, oos)
            validation["out_of_scope"] = chosen
    model = fit_model(x_tr, y_tr, params, vec(x_tr))
    model.temperature = temperature
    onnx_bytes = to_onnx(model)
    fit_seconds = time.perf_counter() - t0
    # metrics come from the exported ONNX model: what bots will run
    classes = [str(c) for c in model.clf.classes_]
    metrics, baseline, calibration = {}, {}, {}
    session = cached_session(hashlib.sha256(onnx_bytes).hexdigest(), lambda: onnx_bytes)
    if x_te:
        probs = run_probabilities(session, x_te, vec(x_te), 512)
        results = decide(probs, classes, oos, threshold)
        pred = [r["label"] for r in results]
        metrics = metrics_of(y_te, pred)
        if oos:
            metrics.update(scope_figures(y_te, results, oos))
        calibration = calibration_error(probs.max(axis=1).tolist(),
                                        [classes[i] == t for i, t in zip(probs.argmax(axis=1), y_te)])
        baseline = baseline_of(probs.max(axis=1).tolist(), [len(t) for t in x_te])
    else:  # no evaluation rows: the drift baseline comes from training rows (their confidences run high)
        sample = x_tr[:: max(1, len(x_tr) // 2000)]
        probs = run_probabilities(session, sample, vec(sample), 512)
        baseline = dict(baseline_of(probs.max(axis=1).tolist(), [len(t) for t in sample]), from_training_rows=True)
    if calibration:
        calibration["temperature"] = temperature
    counts = _counts(labels)
    card = {
        "task": "text-classification",
        "kind": "botloom-text-classifier",
        "preprocess": PREPROCESS,
        "inputs": {"text": "string [N, 1], normalised text"} | (
            {"embedding": "float [N, 384], the text's sentence vector"} if sentence else {}),
        "outputs": {"label": "string [N]", "probabilities": f"float [N, {len(classes)}]"},
        "features": {"ngrams": {"word": list(dict(DEFAULTS, **(params or {}))["word_ngrams"]),
                                "char": list(dict(DEFAULTS, **(params or {}))["char_ngrams"])},
                     "note": features_note}
        | ({"sentence": _sentence_block(model)} if sentence else {}),
        "intended_use": intended_use or (
            f"Sort short texts (tickets, messages, document titles) into {len(classes)} categories learnt from "
            "examples; route low-confidence items to a person."),
        "training_data": {"source": source, "rows": len(texts), "train_rows": len(x_tr), "fitted_rows": len(x_tr),
                          "evaluation_rows": len(x_te), "held_out_rows": len(x_te),
                          "labels": counts, "sha256": hashlib.sha256("\n".join(
                              f"{t}\t{lab}" for t, lab in zip(texts, labels)).encode("utf-8")).hexdigest()},
        "evaluation": {"split": how, "rows": len(x_te), "metrics": metrics, "calibration": calibration},
        "validation": validation,
        "metrics": metrics,
        "limitations": _limitations(sentence, oos, len(texts)),
        "baseline": baseline,
        "created_from": {"trainer": "tfidf-word-char" + ("+minilm" if sentence else "") + "+logistic-regression",
                         "params": _jsonable(dict(DEFAULTS, **(params or {}))), "sklearn": sklearn.__version__,
                         "botloom": _botloom_version(), "training_seconds": round(fit_seconds, 2)},
        **(extra_card or {}),
    }
    if oos:
        card["out_of_scope"] = {"label": oos, "threshold": round(threshold, 4),
                                "trained_rows": sum(1 for y in y_tr if y == oos),
                                "rule": "out of scope when the best in-scope probability is below the threshold, "
                                        "or when the out-of-scope label itself is the most probable"}
    version = registry.add_version(name, onnx_bytes, classes, card)
    evaluation.save()
    activated, reason = _maybe_activate(registry, name, version, activate, x_te, y_te, metrics)
    return TrainResult(version, metrics, activated, reason, time.perf_counter() - t0)


def held_back_logits(x: list[str], y: list[str], params, vec, seed: int):
    """Scores of training rows by models that did not fit them: (logits, truth, classes, how).
    With enough rows, one validation split (15 %); with fewer (a small CSV of examples), every
    row once, by 5-fold cross-validation, so that even 40 examples give an honest picture of
    how sure the model should be. (None, [], [], info) when the rows cannot be split."""
    import numpy as np

    labels = sorted(set(y))
    if len(labels) < 2:
        return None, [], [], {"rows": 0}
    if len(x) * VALIDATION_SHARE >= SPLIT_ROWS:
        fit_idx, val_idx = split(x, y, VALIDATION_SHARE, seed + 1)
        folds = [(fit_idx, val_idx)]
        how = {"rows": len(val_idx), "fitted_rows": len(fit_idx), "method": "validation split (15 %)"}
    else:
        from sklearn.model_selection import KFold, StratifiedKFold

        rarest = min(_counts(y).values())
        if rarest >= 2:  # every label in as many folds as it can be (at most 5)
            k = min(5, rarest)
            folds = list(StratifiedKFold(k, shuffle=True, random_state=seed).split(x, y))
        else:  # a label with one example: it is scored by a model that never saw it, like new texts
            k = min(5, len(x))
            folds = list(KFold(k, shuffle=True, random_state=seed).split(x))
        how = {"rows": len(x), "method": f"{k}-fold cross-validation over the training rows"}
    rows, blocks = [], []
    for fit_idx, val_idx in folds:
        y_fit = [y[i] for i in fit_idx]
        if len(set(y_fit)) < 2 or not len(val_idx):
            continue
        x_fit, x_val = [x[i] for i in fit_idx], [x[i] for i in val_idx]
        probe = fit_model(x_fit, y_fit, params, vec(x_fit))
        raw = probe.logits(x_val, vec(x_val))
        seen = [str(c) for c in probe.clf.classes_]
        full = np.full((len(x_val), len(labels)), -30.0)  # a label the fold never saw: hardly possible
        for j, label in enumerate(seen):
            full[:, labels.index(label)] = raw[:, j]
        rows += list(val_idx)
        blocks.append(full)
    if not rows:
        return None, [], [], {"rows": 0}
    return np.vstack(blocks), [y[i] for i in rows], labels, how


def _sentence_block(model) -> dict:
    from .encoder import DIMENSIONS, MODEL_SHA256, NAME

    return {"encoder": NAME, "dimensions": DIMENSIONS, "sha256": MODEL_SHA256, "scale": model.sentence_scale}


def _limitations(sentence: bool, oos: str | None, rows: int) -> list[str]:
    return [
        ("Word and character n-grams with a small sentence encoder (all-MiniLM-L6-v2, English): paraphrases are "
         "understood far better than by n-grams alone, but texts in other languages lean on the n-grams."
         if sentence else
         "Bag of words and character n-grams: word order and meaning beyond shared words are not modelled; "
         "paraphrases with new vocabulary are often misread."),
        (f"Texts about none of the known labels are called '{oos}' below the threshold in the card; the "
         "threshold was chosen on validation rows, and new kinds of out-of-scope texts may pass it."
         if oos else
         "Only the labels seen in training can be predicted; anything else gets the closest known label, "
         "usually with low confidence (use a review threshold, or train with an out-of-scope label)."),
        "Confidence is a logistic-regression probability scaled by a temperature chosen on validation rows; the "
        "card's expected calibration error says how far it is from the rate of right answers.",
        f"Languages and wording unlike the training data ({rows} rows) will score lower.",
    ]


def _maybe_activate(registry, name, version, activate, x_te, y_te, metrics) -> tuple[bool, str]:
    if activate == "never":
        return False, "not activated (asked not to)"
    current = registry.active(name)
    if activate == "always" or current is None:
        registry.activate(name, version.version)
        return True, "activated" + ("" if activate == "always" else " (first version)")
    if not x_te:
        return False, (f"not activated: there are no evaluation rows to compare it with version {current} on "
                       f"(trained with --holdout 0); activate it yourself: botloom models activate {name} "
                       f"{version.version}")
    try:
        old = load_classifier(registry, name, current)
        old_acc = metrics_of(y_te, [p["label"] for p in old.predict(x_te, normalized=True)]).get("accuracy", 0.0)
    except ModelError as exc:
        registry.activate(name, version.version)
        return True, f"activated (the active version {current} cannot be evaluated: {exc.message})"
    new_acc = metrics.get("accuracy", 0.0)
    if new_acc > old_acc:
        registry.activate(name, version.version)
        return True, (f"activated: accuracy {new_acc:.4f} beats version {current}'s {old_acc:.4f} on the model's "
                      f"{len(x_te)} evaluation rows")
    return False, (f"not activated: accuracy {new_acc:.4f} does not beat version {current}'s {old_acc:.4f} "
                   f"on the model's {len(x_te)} evaluation rows (activate it yourself: botloom models activate "
                   f"{name} {version.version})")


def _jsonable(d: dict) -> dict:
    return json.loads(json.dumps(d, default=list))


def _botloom_version() -> str:
    from botloom.runner.sdk import VERSION

    return VERSION


