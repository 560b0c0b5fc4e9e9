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

With sentence features (the default when the encoder is installed, see :mod:`.encoder`), the
graph has a second input, ``embedding`` (float [N, 384]: the sentence vector of each text),
whose block of the weight matrix is added to the n-gram scores. Scores are divided by a
temperature chosen on validation rows before the softmax, so that confidences are calibrated.
An out-of-scope outcome (a label and a confidence threshold, both in the card) is applied
after the graph, in :meth:`TextClassifier.predict`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from .registry import ModelError, ModelVersion, Registry
from .runtime import RuntimeSettings, cached_session

PREPROCESS = "nfkc-casefold-space-v1"
WORD_PATTERN_SKLEARN = r"[^\W]+"
WORD_PATTERN_ONNX = r"[\p{L}\p{N}_]+"
TRAIN_INSTALL = "pip install 'botloom[ai]'"
_SPACE = re.compile(r"\s+")
DEFAULTS = {"word_ngrams": (1, 2), "char_ngrams": (1, 4), "sublinear_tf": True, "C": 20.0, "max_iter": 1000,
            "sentence_scale": 2.0, "max_parameters": 2_000_000}
# L-BFGS (scikit-learn's solver) holds about 240 bytes per weight while fitting: 2 million
# weights keep a training of 15,000 texts under 1 GB. Beyond that the rarest n-grams are left
# out (Banking77, 77 labels: about 25,000 of 34,400 n-grams kept; 150 labels: 13,000) by raising
# the minimum document frequency, which keeps every n-gram's parts (the ONNX export needs them).


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


# ---------------------------------------------------------------- the model
def build_features(params: dict | None = None):
    """The n-gram features: word and character TF-IDF blocks, each L2-normalised."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    p = dict(DEFAULTS, **(params or {}))
    return FeatureUnion([
        ("word", TfidfVectorizer(lowercase=False, token_pattern=WORD_PATTERN_SKLEARN,
                                 ngram_range=tuple(p["word_ngrams"]), sublinear_tf=bool(p["sublinear_tf"]),
                                 dtype=_float32())),
        ("char", TfidfVectorizer(lowercase=False, analyzer="char", ngram_range=tuple(p["char_ngrams"]),
                                 sublinear_tf=bool(p["sublinear_tf"]), dtype=_float32())),
    ])


def build_pipeline(params: dict | None = None):
    """The n-gram model as one scikit-learn pipeline (the benchmark's peer, and the parity tests')."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    p = dict(DEFAULTS, **(params or {}))
    return Pipeline([("features", build_features(p)),
                     ("clf", LogisticRegression(C=float(p["C"]), max_iter=int(p["max_iter"])))])


@dataclass
class FittedModel:
    """The fitted parts: n-gram features, the linear classifier over [n-grams, scale x sentence
    vector] (``sentence_scale`` 0: n-grams only) and the softmax temperature."""

    features: Any
    clf: Any
    sentence_scale: float = 0.0
    temperature: float = 1.0

    @classmethod
    def of(cls, model) -> "FittedModel":
        if isinstance(model, cls):
            return model
        return cls(model.named_steps["features"], model.named_steps["clf"])  # an n-gram Pipeline

    def design(self, texts: list[str], vectors=None):
        """The classifier's input rows for normalised texts (and their sentence vectors)."""
        x = self.features.transform(texts)
        if not self.sentence_scale:
            return x
        from scipy import sparse

        return sparse.hstack([x, sparse.csr_matrix(vectors * self.sentence_scale)], format="csr")

    def logits(self, texts: list[str], vectors=None):
        """[N, classes] scores before the softmax (two classes: scikit-learn's one score s is
        [0, s], as the exported graph computes it)."""
        import numpy as np

        scores = self.clf.decision_function(self.design(texts, vectors))
        return np.stack([np.zeros_like(scores), scores], axis=1) if scores.ndim == 1 else scores


def fit_model(texts: list[str], labels: list[str], params: dict | None = None, vectors=None) -> FittedModel:
    """Fit on normalised texts; ``vectors`` (their sentence vectors) adds the sentence block."""
    from sklearn.linear_model import LogisticRegression

    p = dict(DEFAULTS, **(params or {}))
    features = build_features(p)
    model = FittedModel(features, LogisticRegression(C=float(p["C"]), max_iter=int(p["max_iter"])),
                        float(p["sentence_scale"]) if vectors is not None else 0.0)
    features.fit(texts)
    classes = len(set(labels))
    sentence_weights = 0 if vectors is None else vectors.shape[1] * classes
    _cap_features(features, texts, classes, int(p["max_parameters"]) - sentence_weights)
    model.clf.fit(model.design(texts, vectors), labels)
    return model


def _cap_features(features, texts: list[str], classes: int, budget: int) -> None:
    """Refit the n-gram vectorisers on n-grams found in more texts when the classifier would
    have more than ``budget`` weights (each block keeps its share of the vocabulary). A
    minimum document frequency, unlike a count of the most frequent n-grams, never keeps an
    n-gram without its parts (they are in at least as many texts)."""
    import numpy as np

    sizes = [len(v.vocabulary_) for _, v in features.transformer_list]
    allowed = max(1000, budget // max(2, classes))
    if sum(sizes) <= allowed:
        return
    for (_, vec), size in zip(features.transformer_list, sizes):
        share = max(100, int(allowed * size / sum(sizes)))
        df = np.sort(np.asarray((vec.transform(texts) > 0).sum(axis=0)).ravel())[::-1]
        vec.set_params(min_df=int(df[share]) + 1 if share < len(df) else 1)  # n-grams in more texts than the cut
        vec.fit(texts)


def _float32():
    import numpy as np

    return np.float32


def to_onnx(model) -> bytes:
    """The fitted model (a :class:`FittedModel`, or an n-gram Pipeline) as ONNX bytes: inputs
    ``text`` (string [N, 1], normalised text) and, with sentence features, ``embedding``
    (float [N, 384]); outputs ``label`` [N] and ``probabilities`` [N, classes]."""
    import warnings

    from skl2onnx import to_onnx as convert
    from skl2onnx.common.data_types import StringTensorType

    model = FittedModel.of(model)
    word = model.features.transformer_list[0][1]
    options = {id(word): {"tokenexp": WORD_PATTERN_ONNX}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "only tokenizer='word' is fully supported": char is checked by our tests
        onx = convert(model.features, initial_types=[("text", StringTensorType([None, 1]))], options=options,
                      target_opset={"": 17, "ai.onnx.ml": 3})
    onx = _sparse_linear_tail(onx, model)
    onx.doc_string = f"Botloom text classifier; input text is normalised with {PREPROCESS}"
    return onx.SerializeToString()


def _sparse_linear_tail(model, fitted: FittedModel):
    """Replace skl2onnx's dense tail (idf Mul, L2 Normalizer, Concat over every feature) with a
    sparse linear scorer: only the n-grams present in a text are looked up."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    union, clf = fitted.features, fitted.clf
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
    inputs = list(graph.input)
    if fitted.sentence_scale:
        from .encoder import DIMENSIONS

        inputs.append(helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [None, DIMENSIONS]))
        block = coef[:, offset:offset + DIMENSIONS].T * fitted.sentence_scale  # [384, classes]
        offset += DIMENSIONS
        logits.append(add("MatMul", ["embedding", const("sp_sentence_w", block.astype(np.float32))],
                          ["sp_sentence"]))
    if offset != coef.shape[1]:
        raise ModelError("feature count mismatch between the features and the classifier",
                         fix="report this as a bug")
    total = logits[0]
    for i, other in enumerate(logits[1:]):
        total = add("Add", [total, other], [f"sp_sum{i}"])
    scores = add("Add", [total, const("sp_intercept", intercept.astype(np.float32))], ["sp_scores"])
    calibrated = scores
    if fitted.temperature != 1.0:
        calibrated = add("Div", [scores, const("sp_temperature", np.array(fitted.temperature, dtype=np.float32))],
                         ["sp_calibrated"])
    add("Softmax", [calibrated], ["probabilities"], axis=-1)
    best = add("ArgMax", [scores], ["sp_best"], axis=1, keepdims=0)
    add("Gather", [const("sp_classes", np.array(classes, dtype=object)), best], ["label"], axis=0)
    outputs = [helper.make_tensor_value_info("label", TensorProto.STRING, [None]),
               helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, n_classes])]
    used = {i for n in nodes for i in n.input}
    new_graph = helper.make_graph(nodes, graph.name, inputs, outputs,
                                  inits + [c for c in consts if c.name in used])
    out = helper.make_model(new_graph, opset_imports=list(model.opset_import), ir_version=model.ir_version,
                            producer_name="botloom", doc_string=model.doc_string)
    return out


def run_probabilities(session, texts: list[str], vectors=None, batch_size: int = 256):
    """The exported graph's probabilities for normalised texts; ``vectors`` are their sentence
    vectors when the graph takes them (``embedding`` input)."""
    import numpy as np

    names = [i.name for i in session.inputs]
    out = []
    for start in range(0, len(texts), batch_size):
        feeds = {names[0]: np.array(texts[start:start + batch_size], dtype=object).reshape(-1, 1)}
        if "embedding" in names:
            feeds["embedding"] = np.asarray(vectors[start:start + batch_size], dtype=np.float32)
        out.append(session.run(feeds, ["probabilities"])[0])
    return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)


def sentence_features(card: dict) -> dict:
    """The card's sentence-feature block ({} for an n-gram model)."""
    return dict((card.get("features") or {}).get("sentence") or {})


def encoder_for(card: dict, settings: RuntimeSettings | None = None):
    """The sentence encoder a model was trained with, or None for an n-gram model."""
    wanted = sentence_features(card)
    if not wanted:
        return None
    from .encoder import NAME, get_encoder

    if wanted.get("encoder") != NAME:
        raise ModelError(f"the model was trained with the sentence encoder '{wanted.get('encoder')}', this "
                         f"installation has '{NAME}'", fix="retrain the model here, or install the encoder it names")
    return get_encoder(settings)


# ---------------------------------------------------------------- inference
class TextClassifier:
    """A loaded text-classifier version: ``predict(texts)`` gives label, confidence and scores
    (and ``out_of_scope`` when the model has that outcome)."""

    def __init__(self, version: ModelVersion, settings: RuntimeSettings | None = None):
        self.version = version
        self.card = version.card
        if self.card.get("task") != "text-classification":
            raise ModelError(f"model {version.ref} is not a text classifier (task: {self.card.get('task', 'unknown')})",
                             fix="use the 'Run ONNX model' node for other models")
        self.labels = version.labels
        self.settings = settings or RuntimeSettings()
        encoder_settings = self.settings
        if not self.settings.intra_threads:
            # the TF-IDF graph on one thread: it gains nothing from more, and idle spinning
            # threads cost latency on a busy machine; the encoder's matrix products on two (one
            # short text: P95 7.4 ms instead of 11.9 on this project's 2-core machine). Set
            # "threads" in the bot's ai settings to choose for both.
            import os
            from dataclasses import replace

            self.settings = replace(self.settings, intra_threads=1)
            encoder_settings = replace(encoder_settings, intra_threads=min(2, os.cpu_count() or 1))
        self.encoder = encoder_for(self.card, encoder_settings)
        self.session = cached_session(self.card["sha256"], version.verify, self.settings, self._warmup)
        self.normalizer = normalize if self.card.get("preprocess", PREPROCESS) == PREPROCESS else (lambda t: str(t))
        oos = self.card.get("out_of_scope") or {}
        self.out_of_scope_label = oos.get("label")
        self.out_of_scope_threshold = float(oos.get("threshold") or 0.0)

    def sessions(self) -> list:
        """(what, session) for the graph and, with sentence features, the encoder."""
        out = [(self.version.ref, self.session)]
        if self.encoder is not None:
            out.append((f"{self.version.ref}'s sentence encoder", self.encoder.session))
        return out

    def _warmup(self, session) -> None:
        import numpy as np

        from .encoder import DIMENSIONS

        vectors = np.zeros((1, DIMENSIONS), dtype=np.float32) if self.encoder else None  # the encoder warmed up itself
        run_probabilities(session, ["warm up"], vectors)

    def probabilities(self, texts: list[str], normalized: bool = False):
        import numpy as np

        xs = texts if normalized else [self.normalizer(t) for t in texts]
        if not xs:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        vectors = self.encoder.encode(xs) if self.encoder else None
        return run_probabilities(self.session, xs, vectors, self.settings.batch_size)

    def predict(self, texts: list[str], normalized: bool = False) -> list[dict]:
        probs = self.probabilities(texts, normalized)
        return decide(probs, self.labels, self.out_of_scope_label, self.out_of_scope_threshold)


def decide(probs, labels: list[str], oos_label: str | None = None, threshold: float = 0.0) -> list[dict]:
    """Label, confidence and scores per row of probabilities; with an out-of-scope outcome, a
    row whose best in-scope probability is below ``threshold`` (or whose best label is the
    out-of-scope one) is labelled ``oos_label`` with ``out_of_scope`` true."""
    results = []
    oos_index = labels.index(oos_label) if oos_label in labels else -1
    for row in probs.tolist():
        best = max(range(len(row)), key=row.__getitem__)
        result = {"label": labels[best], "confidence": row[best], "scores": dict(zip(labels, row))}
        if oos_label:
            scope = [p for i, p in enumerate(row) if i != oos_index]
            top = max(scope) if scope else 0.0
            out = best == oos_index or top < threshold
            result["out_of_scope"] = out
            if out:
                result["label"] = oos_label
                result["confidence"] = row[oos_index] if best == oos_index else 1.0 - top
        results.append(result)
    return results


def load_classifier(registry: Registry, name: str, version: str | None = None,
                    settings: RuntimeSettings | None = None) -> TextClassifier:
    return TextClassifier(registry.get(name, version), settings)
