"""Text classifiers: trained from examples with scikit-learn, run with ONNX Runtime.

The model is word n-grams (1-2) and character n-grams (1-4), TF-IDF weighted with sublinear
term frequency (1 + log tf), feeding a multinomial logistic regression (C=20). It is exported
to ONNX with skl2onnx, and the exported graph gives the same labels and probabilities (within
1e-5) as scikit-learn's own pipeline, for any Unicode text, because of three choices (each
works around a converter limitation):

* Text is normalised in Python before either library sees it (:func:`normalize`: Unicode
  NFKC, case folding, runs of white space to one space, trimmed), and the vectorisers keep
  ``lowercase=False``. So ONNX's locale-dependent lower-casing is never used, and
  white space cannot differ between the two char n-gram implementations.
* Words are runs of letters, digits and ``_`` in both: scikit-learn's ``[^\\W]+`` (Unicode
  ``\\w``) and ONNX's RE2 pattern ``[\\p{L}\\p{N}_]+`` (RE2's ``\\w`` is ASCII only).
* ``char`` n-grams, not ``char_wb`` (unsupported by the converter).

skl2onnx's graph ends in a dense ``LinearClassifier`` over every feature (about 37,000 x 77
weights for Banking77: 11 MB read per text, most of a single prediction's time). Botloom keeps
its tokenizer and n-gram counting and replaces the rest by a sparse scorer
(:func:`_sparse_linear_tail`): only the n-grams present in a text are weighted (TF-IDF,
``sublinear_tf`` included, which the converter ignores), L2-normalised per block and looked up in
the weight matrix, then softmax. Same labels and probabilities as scikit-learn (within 1e-5).

Heavy libraries (numpy, scikit-learn, skl2onnx, onnxruntime) are imported inside functions.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .registry import ModelError, ModelVersion, Registry
from .runtime import RuntimeSettings, batches, cached_session

PREPROCESS = "nfkc-casefold-space-v1"
WORD_PATTERN_SKLEARN = r"[^\W]+"
WORD_PATTERN_ONNX = r"[\p{L}\p{N}_]+"
TRAIN_INSTALL = "pip install 'botloom[ai]'"
_SPACE = re.compile(r"\s+")
DEFAULTS = {"word_ngrams": (1, 2), "char_ngrams": (1, 4), "sublinear_tf": True, "C": 20.0, "max_iter": 1000}


def normalize(text: Any) -> str:
    """The one text normalisation used for training and for every prediction."""
    if text is None:
        return ""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", str(text)).casefold()).strip()


def require_training():
    try:
        import numpy  # noqa: F401
        import skl2onnx  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as exc:
        from botloom.runner.sdk import MissingDependencyError

        raise MissingDependencyError(f"training needs scikit-learn, skl2onnx and numpy ({exc.name} is missing)",
                                     fix=f"run: {TRAIN_INSTALL}") from None


# ---------------------------------------------------------------- training
def build_pipeline(params: dict | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    p = dict(DEFAULTS, **(params or {}))
    return Pipeline([
        ("features", FeatureUnion([
            ("word", TfidfVectorizer(lowercase=False, token_pattern=WORD_PATTERN_SKLEARN,
                                     ngram_range=tuple(p["word_ngrams"]), sublinear_tf=bool(p["sublinear_tf"]),
                                     dtype=_float32())),
            ("char", TfidfVectorizer(lowercase=False, analyzer="char", ngram_range=tuple(p["char_ngrams"]),
                                     sublinear_tf=bool(p["sublinear_tf"]), dtype=_float32())),
        ])),
        ("clf", LogisticRegression(C=float(p["C"]), max_iter=int(p["max_iter"]))),
    ])


def _float32():
    import numpy as np

    return np.float32


def to_onnx(pipeline) -> bytes:
    """The fitted pipeline as ONNX bytes: input ``text`` (string [N, 1], normalised text),
    outputs ``label`` [N] and ``probabilities`` [N, classes]."""
    import warnings

    from skl2onnx import to_onnx as convert
    from skl2onnx.common.data_types import StringTensorType

    word = pipeline.named_steps["features"].transformer_list[0][1]
    clf = pipeline.named_steps["clf"]
    options = {id(word): {"tokenexp": WORD_PATTERN_ONNX}, id(clf): {"zipmap": False}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "only tokenizer='word' is fully supported": char is checked by our tests
        onx = convert(pipeline, initial_types=[("text", StringTensorType([None, 1]))], options=options,
                      target_opset={"": 17, "ai.onnx.ml": 3})
    onx = _sparse_linear_tail(onx, pipeline)
    onx.doc_string = f"Botloom text classifier; input text is normalised with {PREPROCESS}"
    return onx.SerializeToString()


def _sparse_linear_tail(model, pipeline):
    """Replace skl2onnx's dense tail (idf Mul, L2 Normalizer, Concat, LinearClassifier over every
    feature) with a sparse one: only the n-grams present in a text are looked up."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    union = pipeline.named_steps["features"]
    clf = pipeline.named_steps["clf"]
    vectorizers = [t for _, t in union.transformer_list]
    tfidf_nodes = [n for n in graph.node if n.op_type == "TfIdfVectorizer"]
    if len(tfidf_nodes) != len(vectorizers):
        raise ModelError("unexpected ONNX graph from skl2onnx (TfIdfVectorizer count)",
                         fix="install the skl2onnx version the 'ai' extra names")
    classes = [str(c) for c in clf.classes_]
    coef = np.asarray(clf.coef_, dtype=np.float64)
    intercept = np.asarray(clf.intercept_, dtype=np.float64).reshape(-1)
    if coef.shape[0] == 1:  # two classes: a single score s; softmax([0, s]) is sklearn's [1-sig(s), sig(s)]
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.array([0.0, intercept[0]])
    n_classes = coef.shape[0]
    keep_outputs = {n.output[0] for n in tfidf_nodes}
    # keep the tokenizer part: every node the TfIdfVectorizer outputs depend on
    needed, producers = set(keep_outputs), {o: n for n in graph.node for o in n.output}
    stack = list(keep_outputs)
    while stack:
        node = producers.get(stack.pop())
        if node is None:
            continue
        for i in node.input:
            if i and i not in needed:
                needed.add(i)
                stack.append(i)
    kept = [n for n in graph.node if any(o in needed for o in n.output)]
    used_inputs = {i for n in kept for i in n.input}
    inits = [t for t in graph.initializer if t.name in used_inputs]
    nodes, consts = list(kept), []

    def const(name, array):
        consts.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def add(op, inputs, outputs, **attrs):
        nodes.append(helper.make_node(op, inputs, outputs, name=outputs[0] + "_node", **attrs))
        return outputs[0]

    const("sp_zero_i", np.array([0], dtype=np.int64))
    const("sp_one_i", np.array([1], dtype=np.int64))
    const("sp_classes_n", np.array([n_classes], dtype=np.int64))
    const("sp_one_f", np.array(1.0, dtype=np.float32))
    const("sp_tiny", np.array(1e-30, dtype=np.float32))  # a zero norm (empty text) divides zeros
    offset, logits = 0, []
    for b, (node, vec) in enumerate(zip(tfidf_nodes, vectorizers)):
        width = len(vec.vocabulary_)
        indexes = next(a for a in node.attribute if a.name == "ngram_indexes").ints
        if len(indexes) != width:
            raise ModelError("unexpected ONNX graph from skl2onnx (vocabulary size)",
                             fix="install the skl2onnx version the 'ai' extra names")
        p = f"sp{b}_"
        counts = node.output[0]  # [N, width] term counts, columns in scikit-learn's vocabulary order
        if b == 0:
            shape = add("Shape", [counts], ["sp_shape"])
            n_rows = add("Slice", [shape, "sp_zero_i", "sp_one_i"], ["sp_n"])
            zeros_nc = add("ConstantOfShape", [add("Concat", [n_rows, "sp_classes_n"], ["sp_shape_nc"], axis=0)],
                           ["sp_zeros_nc"], value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.0]))
            zeros_n = add("ConstantOfShape", [n_rows], ["sp_zeros_n"],
                          value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.0]))
        nz = add("Transpose", [add("NonZero", [counts], [p + "nz"])], [p + "nzt"], perm=[1, 0])  # [nnz, 2]
        rows = add("Gather", [nz, "sp_zero_i"], [p + "rows"], axis=1)  # [nnz, 1]
        cols = add("Gather", [nz, "sp_one_i"], [p + "cols"], axis=1)  # [nnz, 1]
        tf = add("GatherND", [counts, nz], [p + "tf"])  # [nnz]
        if vec.binary:
            tf = add("Min", [tf, "sp_one_f"], [p + "tfb"])
        if vec.sublinear_tf:
            tf = add("Add", [add("Log", [tf], [p + "logtf"]), "sp_one_f"], [p + "subtf"])
        tf = add("Unsqueeze", [tf, "sp_one_i"], [p + "tf2"])  # [nnz, 1]
        if vec.use_idf:
            idf = const(p + "idf", np.asarray(vec.idf_, dtype=np.float32).reshape(-1, 1))
            tf = add("Mul", [tf, add("GatherND", [idf, cols], [p + "idfs"])], [p + "v"])  # [nnz, 1]
        weights = const(p + "w", coef[:, offset:offset + width].T.astype(np.float32))  # [width, classes]
        offset += width
        contrib = add("Mul", [add("GatherND", [weights, cols], [p + "wrows"]), tf], [p + "contrib"])  # [nnz, C]
        raw = add("ScatterND", [zeros_nc, rows, contrib], [p + "raw"], reduction="add")  # row sums
        if vec.norm == "l2":
            sq = add("Squeeze", [add("Mul", [tf, tf], [p + "sq2"]), "sp_one_i"], [p + "sq"])
            norm = add("Sqrt", [add("ScatterND", [zeros_n, rows, sq], [p + "normsq"], reduction="add")],
                       [p + "norm"])
            norm = add("Unsqueeze", [add("Max", [norm, "sp_tiny"], [p + "normx"]), "sp_one_i"], [p + "norm2"])
            raw = add("Div", [raw, norm], [p + "scaled"])
        elif vec.norm is not None:
            raise ModelError(f"norm='{vec.norm}' is not supported by the ONNX export", fix="use norm='l2'")
        logits.append(raw)
    if offset != coef.shape[1]:
        raise ModelError("feature count mismatch between the vectorisers and the classifier",
                         fix="report this as a bug")
    total = logits[0]
    for i, other in enumerate(logits[1:]):
        total = add("Add", [total, other], [f"sp_sum{i}"])
    scores = add("Add", [total, const("sp_intercept", intercept.astype(np.float32))], ["sp_scores"])
    add("Softmax", [scores], ["probabilities"], axis=-1)
    best = add("ArgMax", [scores], ["sp_best"], axis=1, keepdims=0)
    add("Gather", [const("sp_classes", np.array(classes, dtype=object)), best], ["label"], axis=0)
    outputs = [helper.make_tensor_value_info("label", TensorProto.STRING, [None]),
               helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, n_classes])]
    used = {i for n in nodes for i in n.input}
    new_graph = helper.make_graph(nodes, graph.name, list(graph.input), outputs,
                                  inits + [c for c in consts if c.name in used])
    out = helper.make_model(new_graph, opset_imports=list(model.opset_import), ir_version=model.ir_version,
                            producer_name="botloom", doc_string=model.doc_string)
    return out


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


def train(name: str, texts: list[str], labels: list[str], *, source: str, holdout: float = 0.2, seed: int = 13,
          activate: str = "if_better", params: dict | None = None, registry: Registry | None = None,
          intended_use: str = "", extra_card: dict | None = None) -> TrainResult:
    """Fit, export, measure on a held-back split, store as a new version; activate it when
    ``activate`` is "always", or "if_better" and it beats the active version on the same split
    (or there is none)."""
    require_training()
    import hashlib

    import sklearn

    from .monitor import baseline_of

    registry = registry or Registry()
    texts, labels = examples_from_rows(zip(texts, labels), source or "the examples")
    t0 = time.perf_counter()
    norm = [normalize(t) for t in texts]
    evaluation = EvaluationSet(registry.folder(name))
    tr, te, how = evaluation.split(norm, labels, holdout, seed)
    x_tr, y_tr = [norm[i] for i in tr], [labels[i] for i in tr]
    x_te, y_te = evaluation.texts, evaluation.labels
    if not x_tr:
        raise ModelError("every example given is one of the model's evaluation rows: nothing is left to train on",
                         where=f"model '{name}'", fix="give more examples (the evaluation rows are never trained on)")
    pipeline = build_pipeline(params).fit(x_tr, y_tr)
    onnx_bytes = to_onnx(pipeline)
    fit_seconds = time.perf_counter() - t0
    # metrics come from the exported ONNX model: what bots will run
    classes = [str(c) for c in pipeline.named_steps["clf"].classes_]
    metrics, baseline, calibration = {}, {}, {}
    session = cached_session(hashlib.sha256(onnx_bytes).hexdigest(), lambda: onnx_bytes)
    if x_te:
        probs = _run_probabilities(session, x_te, 512)
        pred = [classes[i] for i in probs.argmax(axis=1)]
        metrics = metrics_of(y_te, pred)
        calibration = calibration_error(probs.max(axis=1).tolist(), [p == t for p, t in zip(pred, y_te)])
        baseline = baseline_of(probs.max(axis=1).tolist(), [len(t) for t in x_te])
    else:  # no evaluation rows: the drift baseline comes from training rows (their confidences run high)
        sample = x_tr[:: max(1, len(x_tr) // 2000)]
        probs = _run_probabilities(session, sample, 512)
        baseline = dict(baseline_of(probs.max(axis=1).tolist(), [len(t) for t in sample]), from_training_rows=True)
    counts = _counts(labels)
    card = {
        "task": "text-classification",
        "kind": "botloom-text-classifier",
        "preprocess": PREPROCESS,
        "inputs": {"text": "string [N, 1], normalised text"},
        "outputs": {"label": "string [N]", "probabilities": f"float [N, {len(classes)}]"},
        "intended_use": intended_use or (
            f"Sort short texts (tickets, messages, document titles) into {len(classes)} categories learnt from "
            "examples; route low-confidence items to a person."),
        "training_data": {"source": source, "rows": len(texts), "train_rows": len(x_tr), "fitted_rows": len(x_tr),
                          "evaluation_rows": len(x_te), "held_out_rows": len(x_te),
                          "labels": counts, "sha256": hashlib.sha256("\n".join(
                              f"{t}\t{lab}" for t, lab in zip(texts, labels)).encode("utf-8")).hexdigest()},
        "evaluation": {"split": how, "rows": len(x_te), "metrics": metrics, "calibration": calibration},
        "metrics": metrics,
        "limitations": [
            "Bag of words and character n-grams: word order and meaning beyond shared words are not modelled; "
            "paraphrases with new vocabulary are often misread.",
            "Only the labels seen in training can be predicted; anything else gets the closest known label, "
            "usually with low confidence (use a review threshold).",
            "Confidence is a logistic-regression probability: useful for ranking and thresholds, not a "
            "calibrated guarantee.",
            f"Languages and wording unlike the training data ({len(texts)} rows) will score lower.",
        ],
        "baseline": baseline,
        "created_from": {"trainer": "tfidf-word-char+logistic-regression", "params": _jsonable(
            dict(DEFAULTS, **(params or {}))), "sklearn": sklearn.__version__, "botloom": _botloom_version(),
            "training_seconds": round(fit_seconds, 2)},
        **(extra_card or {}),
    }
    version = registry.add_version(name, onnx_bytes, classes, card)
    evaluation.save()
    activated, reason = _maybe_activate(registry, name, version, activate, x_te, y_te, metrics)
    return TrainResult(version, metrics, activated, reason, time.perf_counter() - t0)


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


def _run_probabilities(session, texts: list[str], batch_size: int):
    import numpy as np

    out = []
    for chunk in batches(texts, batch_size):
        feed = np.array(chunk, dtype=object).reshape(-1, 1)
        out.append(session.run({session.inputs[0].name: feed}, ["probabilities"])[0])
    return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)


# ---------------------------------------------------------------- inference
class TextClassifier:
    """A loaded text-classifier version: ``predict(texts)`` gives label, confidence and scores."""

    def __init__(self, version: ModelVersion, settings: RuntimeSettings | None = None):
        self.version = version
        self.card = version.card
        if self.card.get("task") != "text-classification":
            raise ModelError(f"model {version.ref} is not a text classifier (task: {self.card.get('task', 'unknown')})",
                             fix="use the 'Run ONNX model' node for other models")
        self.labels = version.labels
        self.settings = settings or RuntimeSettings()
        if not self.settings.intra_threads:
            # one thread: a TF-IDF graph gains nothing from more, and idle spinning threads
            # cost latency on a busy machine; set "threads" in the bot's ai settings to change it
            from dataclasses import replace

            self.settings = replace(self.settings, intra_threads=1)
        self.session = cached_session(self.card["sha256"], version.verify, self.settings, self._warmup)
        self.input_name = self.session.inputs[0].name
        self.normalizer = normalize if self.card.get("preprocess", PREPROCESS) == PREPROCESS else (lambda t: str(t))

    def _warmup(self, session) -> None:
        import numpy as np

        session.run({session.inputs[0].name: np.array([["warm up"]], dtype=object)}, None)

    def probabilities(self, texts: list[str], normalized: bool = False):
        import numpy as np

        xs = texts if normalized else [self.normalizer(t) for t in texts]
        if 0 < len(xs) <= self.settings.batch_size:  # one run (a single item: the common case)
            return self.session.run({self.input_name: np.array(xs, dtype=object).reshape(-1, 1)},
                                    ["probabilities"])[0]
        out = []
        for chunk in batches(xs, self.settings.batch_size):
            feed = np.array(chunk, dtype=object).reshape(-1, 1)
            out.append(self.session.run({self.input_name: feed}, ["probabilities"])[0])
        return np.concatenate(out) if out else np.zeros((0, len(self.labels)), dtype=np.float32)

    def predict(self, texts: list[str], normalized: bool = False) -> list[dict]:
        probs = self.probabilities(texts, normalized)
        labels = self.labels
        results = []
        for row in probs.tolist():
            best = max(range(len(row)), key=row.__getitem__)
            results.append({"label": labels[best], "confidence": row[best],
                            "scores": dict(zip(labels, row))})
        return results


def load_classifier(registry: Registry, name: str, version: str | None = None,
                    settings: RuntimeSettings | None = None) -> TextClassifier:
    return TextClassifier(registry.get(name, version), settings)
