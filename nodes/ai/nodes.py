"""Local AI nodes: classify text, record a correction, train a classifier, run any ONNX model.

Models come from the registry in the data folder (``botloom models list``), by name and
optionally version (else the active version). A run loads each model once (a run resource) and
keeps using that version until it ends, even if another one is activated meanwhile.

Bot settings, all optional::

    "settings": {"ai": {"providers": ["cuda", "cpu"], "threads": 2, "batch_size": 256,
                        "warmup": true, "record_sample": 1.0, "drift_check_every": 500}}
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from botloom.runner.sdk import Next, NodeError, Output, Param, Requirement, node

CATEGORY = "AI"
INSTALL = "pip install 'botloom[ai]'"
ORT = Requirement("onnxruntime", INSTALL)
SKLEARN = Requirement("sklearn", INSTALL)


def _node_error(exc) -> NodeError:
    """A registry/runtime ModelError as a NodeError (same message and fix)."""
    kind = "checksum" if type(exc).__name__ == "ChecksumError" else "model"
    return NodeError(exc.message, kind=kind, fix=exc.fix)


def _settings(ctx):
    from .runtime import RuntimeSettings

    return RuntimeSettings.from_dict(ctx.settings("ai"))


def _classifier(ctx, model: str, version: str | None):
    """The run's instance of a text classifier (loaded once per run)."""
    from .monitor import PREDICTIONS
    from .registry import ModelError, Registry
    from .textclf import TextClassifier

    def opener():
        try:
            return TextClassifier(Registry().get(model, version or None), _settings(ctx))
        except ModelError as exc:
            raise _node_error(exc) from None

    clf = ctx.resource(f"ai.model:{model}@{version or 'active'}", opener,
                       lambda value, state: PREDICTIONS.flush())
    for what, session in clf.sessions():
        if session.fallback:
            ctx.log(f"model {what} runs on {session.provider}: {session.fallback}", "debug")
    return clf


def _log_run_fallback(ctx, what: str, session, moves_before: int) -> None:
    """Tell the run's log when the session just moved to the CPU because its provider failed."""
    if session.run_fallbacks != moves_before:
        ctx.log(f"model {what} now runs on the CPU: {session.fallback}", "warning")


def _preflight(info) -> None:
    """Fail before the first step when a model named literally in the bot does not exist."""
    from .registry import ModelError, Registry

    reg = Registry()
    for flow, node_id, params in info.nodes:
        name = params.get("model")
        if not isinstance(name, str) or not name or "{{" in name:
            continue
        version = params.get("version")
        version = version if isinstance(version, (str, int)) and "{{" not in str(version) else None
        try:
            reg.get(name, version or None)
        except ModelError as exc:
            raise NodeError(exc.message, kind="model", where=f"{info.bot}: {flow}/{node_id}", fix=exc.fix) from None


# ---------------------------------------------------------------- classify
@node("ai.classify_text", title="Classify text", category=CATEGORY, icon="tag", preflight=_preflight,
      params=[Param("model", "string", required=True, description="Name of a text classifier in the model registry."),
              Param("text", "any", required=True,
                    description="A text, or a list of texts (classified in batches)."),
              Param("threshold", "number", default=0.5, minimum=0, maximum=1,
                    description="Below this confidence the item needs a person's review."),
              Param("version", "string", default="", advanced=True,
                    description="A version number; empty means the active version."),
              Param("top", "integer", default=0, minimum=0, advanced=True,
                    description="Keep only the best N scores (0 keeps every label's score)."),
              Param("record_review", "boolean", default=True, advanced=True,
                    description="Record items below the threshold in the review list, so a person's "
                                "correction can be fed back into training.")],
      outputs=[Output("label", "string", "The predicted label (of the first text for a list)."),
               Output("confidence", "number", "The probability of that label, 0 to 1."),
               Output("scores", "object", "Every label's probability."),
               Output("needs_review", "boolean", "Confidence is below the threshold, or the text is out of scope."),
               Output("out_of_scope", "boolean", "The text is about none of the model's labels (models trained "
                                                 "with an out-of-scope label; false otherwise)."),
               Output("review_id", "integer", "The recorded review item (for 'Record correction'), or null."),
               Output("results", "list", "For every text: text, label, confidence, out_of_scope, needs_review, "
                                         "review_id."),
               Output("review_count", "integer", "How many items need review.")],
      ports=("out", "review"), requires=[ORT],
      aliases=("categorize", "intent", "route ticket", "sentiment", "predict label", "text classification"))
def classify_text(ctx, model, text, threshold, version, top, record_review):
    """Classifies text with a local model: the label, its confidence and every label's score.

    An item below the threshold, or out of scope (models trained with an out-of-scope label),
    is marked `needs_review` and recorded in the review list; a single text leaves through the `review` port when that port is connected. Predictions are
    recorded (confidence, length) to watch for drift."""
    from .monitor import DRIFT_WARNING, PREDICTIONS, add_review, drift
    from .registry import ModelError

    single = not isinstance(text, (list, tuple))
    texts = [text] if single else list(text)
    if any(not isinstance(t, (str, int, float)) for t in texts if t is not None):
        raise NodeError("'text' must be a text or a list of texts", kind="bad_input",
                        fix="map a table column to a list first, e.g. {{ rows | map(attribute='message') | list }}")
    texts = ["" if t is None else str(t) for t in texts]
    clf = _classifier(ctx, model, version)
    moves = [session.run_fallbacks for _, session in clf.sessions()]
    try:
        predictions = clf.predict(texts)
    except ModelError as exc:
        raise _node_error(exc) from None
    for (what, session), before in zip(clf.sessions(), moves):
        _log_run_fallback(ctx, what, session, before)
    settings = ctx.settings("ai")
    sample = float(settings.get("record_sample", 1.0))
    ref = clf.version
    results, reviews = [], 0
    for i, (t, p) in enumerate(zip(texts, predictions)):
        PREDICTIONS.record(ref.name, ref.version, p["confidence"], len(t), p["label"], sample)
        outside = bool(p.get("out_of_scope"))
        needs = outside or p["confidence"] < threshold
        review_id = None
        if needs:
            reviews += 1
            if record_review:
                review_id = add_review(ref.name, ref.version, t, p["label"], p["confidence"], p["scores"],
                                       key=f"{ctx.run_id}:{ctx.seq}:{i}", run_id=ctx.run_id, node=ctx.node_id)
        scores = p["scores"]
        if top:
            scores = dict(sorted(scores.items(), key=lambda kv: -kv[1])[:top])
        results.append({"text": t, "label": p["label"], "confidence": p["confidence"], "scores": scores,
                        "out_of_scope": outside, "needs_review": needs, "review_id": review_id})
    every = int(settings.get("drift_check_every", 500) or 0)
    counter = ctx.resource(f"ai.count:{ref.ref}", lambda: [0])
    before, counter[0] = counter[0], counter[0] + len(texts)
    if every and counter[0] // every > before // every:
        report = drift(ref.name, ref.version, clf.card.get("baseline") or {})
        if report["warning"]:
            ctx.log(f"model {ref.ref}: drift score {report['score']} is above {DRIFT_WARNING} (PSI of confidence "
                    f"{report['psi_confidence']}, of input length {report['psi_length']}): recent inputs differ "
                    "from the training data; check the review list and retrain", "warning")
    first = results[0] if results else {"label": None, "confidence": None, "scores": {}, "needs_review": False,
                                        "out_of_scope": False, "review_id": None}
    outputs = {"label": first["label"], "confidence": first["confidence"], "scores": first["scores"],
               "needs_review": first["needs_review"], "out_of_scope": first["out_of_scope"],
               "review_id": first["review_id"], "results": results,
               "review_count": reviews}
    if single and first["needs_review"] and ctx.has_branch("review"):
        return Next("review", outputs)
    return outputs


# ---------------------------------------------------------------- corrections
@node("ai.record_correction", title="Record correction", category=CATEGORY, icon="check",
      side_effects=True, idempotent=True,
      params=[Param("model", "string", required=True, description="The model the correction is for."),
              Param("label", "string", required=True, description="The right label, as a person chose it."),
              Param("review_id", "integer", default=None,
                    description="The review item (the 'review_id' output of 'Classify text')."),
              Param("text", "string", default="", multiline=True,
                    description="The text, when there is no review item.")],
      outputs=[Output("feedback_id", "integer", "The stored correction."),
               Output("corrections", "integer", "How many corrections the model has now.")],
      aliases=("feedback", "human correction", "relabel", "teach"))
def record_correction(ctx, model, label, review_id, text):
    """Stores a person's label for an item, to be used by the next training with corrections."""
    from .monitor import add_correction, corrections
    from .registry import ModelError

    try:
        fid = add_correction(model, label, review_id=review_id, text=text or None,
                             key=None if review_id is not None else f"{ctx.run_id}:{ctx.seq}",
                             source=f"run {ctx.run_id}")
    except ModelError as exc:
        raise NodeError(exc.message, kind="bad_input", fix=exc.fix) from None
    return {"feedback_id": fid, "corrections": len(corrections(model))}


# ---------------------------------------------------------------- training
@node("ai.train_text_classifier", title="Train text classifier", category=CATEGORY, icon="school",
      side_effects=True, idempotent=True, requires=[SKLEARN, ORT],
      params=[Param("name", "string", required=True, description="The model's name in the registry."),
              Param("file", "path", default="", path="open",
                    description="A CSV file of examples (UTF-8, with a header)."),
              Param("data", "table", default=None, description="Or a table of examples (rows with text and label)."),
              Param("text_column", "string", default="text"),
              Param("label_column", "string", default="label"),
              Param("include_corrections", "boolean", default=True,
                    description="Add the corrections people recorded for this model."),
              Param("activate", "string", default="if_better", choices=("if_better", "always", "never"),
                    description="if_better: only when it beats the active version on the held-back rows."),
              Param("holdout", "number", default=0.2, minimum=0, maximum=0.5, advanced=True,
                    description="Share of examples held back to measure the model (stratified)."),
              Param("seed", "integer", default=13, advanced=True)],
      outputs=[Output("version", "string"), Output("metrics", "object", "accuracy, macro_f1 on the held-back rows."),
               Output("activated", "boolean"), Output("message", "string")],
      aliases=("learn", "fit", "retrain", "machine learning"))
def train_text_classifier(ctx, name, file, data, text_column, label_column, include_corrections, activate,
                          holdout, seed):
    """Trains a text classifier (word and character n-grams, logistic regression) from
    examples and corrections, writes it as a new model version with its card and metrics,
    and activates it only if it is better than the active one (unless told otherwise)."""
    from .monitor import corrections
    from .registry import ModelError
    from .texttrain import examples_from_rows, read_examples, train

    try:
        rows: list[tuple] = []
        sources = []
        if file:
            t, lab = read_examples(ctx.path(file), text_column, label_column)
            rows += zip(t, lab)
            sources.append(str(ctx.path(file)))
        if data:
            for i, row in enumerate(data):
                if not isinstance(row, dict) or text_column not in row or label_column not in row:
                    raise NodeError(f"row {i} of 'data' has no '{text_column}' and '{label_column}'", kind="bad_input",
                                    fix="set text_column and label_column to the table's column names")
                rows.append((row[text_column], row[label_column]))
            sources.append(f"table of {len(data)} rows")
        if include_corrections:
            fixed = corrections(name)
            rows += fixed
            if fixed:
                sources.append(f"{len(fixed)} corrections")
        if not rows:
            raise NodeError("no examples to train on", kind="bad_input",
                            fix="give a CSV file or a table of examples (or record corrections first)")
        texts, labels = examples_from_rows(rows, "the examples")
        result = train(name, texts, labels, source=" + ".join(sources), holdout=holdout, seed=seed, activate=activate)
    except ModelError as exc:
        raise NodeError(exc.message, kind="bad_input", fix=exc.fix) from None
    ctx.log(f"model {result.version.ref}: {result.metrics} in {result.seconds:.1f} s; {result.reason}")
    return {"version": result.version.version, "metrics": result.metrics, "activated": result.activated,
            "message": result.reason}


# ---------------------------------------------------------------- any ONNX model
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


@node("ai.run_onnx", title="Run ONNX model", category=CATEGORY, icon="memory", requires=[ORT],
      params=[Param("model", "string", default="", description="A model name in the registry ..."),
              Param("file", "path", default="", path="open", description="... or an .onnx file."),
              Param("version", "string", default="", advanced=True),
              Param("sha256", "string", default="", advanced=True,
                    description="For a file: refuse it unless its sha256 is this."),
              Param("preset", "string", default="none", choices=("none", "text-classification", "image-classification"),
                    description="Pre- and post-processing: none (give named inputs), text or image classification."),
              Param("inputs", "object", default=None,
                    description="preset none: input name -> value (nested lists of numbers, or texts)."),
              Param("text", "any", default=None, show_if={"preset": "text-classification"},
                    description="A text or a list of texts."),
              Param("image", "path", default="", path="open", show_if={"preset": "image-classification"},
                    description="An image file (PNG, JPEG...)."),
              Param("labels", "list", default=None, advanced=True,
                    description="Class names in output order (default: the registry's labels)."),
              Param("mean", "list", default=None, advanced=True, description="Image preset: per-channel mean (0-1 scale)."),
              Param("std", "list", default=None, advanced=True, description="Image preset: per-channel std."),
              Param("output_names", "list", default=None, advanced=True,
                    description="Outputs to compute (default: all).")],
      outputs=[Output("outputs", "object", "Output name -> value (lists)."),
               Output("label", "string", "Classification presets: the best label."),
               Output("confidence", "number"), Output("scores", "object")],
      aliases=("onnx", "inference", "neural network", "image classification", "predict"))
def run_onnx(ctx, model, file, version, sha256, preset, inputs, text, image, labels, mean, std, output_names):
    """Runs any ONNX model with ONNX Runtime: named inputs in, named outputs out, with presets
    for text and image classification."""
    np = ctx.require("numpy", INSTALL)
    from .registry import ModelError, Registry
    from .runtime import cached_session

    settings = _settings(ctx)
    try:
        if model:
            mv = Registry().get(model, version or None)
            card = mv.card
            session = cached_session(card["sha256"], mv.verify, settings)
            labels = labels or mv.labels
        elif file:
            path = ctx.path(file)
            try:
                data = path.read_bytes()
            except OSError as exc:
                from botloom.runner.sdk import os_failure

                raise os_failure(ctx, exc, path, "read the model file") from None
            digest = hashlib.sha256(data).hexdigest()
            if sha256 and digest != sha256.lower().strip():
                raise NodeError(f"{path} failed its checksum: sha256 {digest[:12]}..., expected {sha256[:12]}...",
                                kind="checksum", fix="use the original model file, or update the sha256 parameter")
            session = cached_session(digest, lambda: data, settings)
        else:
            raise NodeError("no model given", kind="bad_input", fix="set 'model' (a registry name) or 'file' (an .onnx file)")
        first = session.inputs[0]
        if preset == "text-classification":
            from .textclf import encoder_for, normalize

            texts = [normalize(t) for t in (text if isinstance(text, (list, tuple)) else [text])]
            feeds = {first.name: np.array(texts, dtype=object).reshape(-1, 1)}
            encoder = encoder_for(card, settings) if model else None
            if encoder is not None:  # a Botloom classifier with sentence features
                feeds["embedding"] = encoder.encode(texts)
        elif preset == "image-classification":
            feeds = {first.name: _image_tensor(ctx, np, ctx.path(image) if image else None, first, mean, std)}
        else:
            feeds = _feeds(np, session, inputs or {})
        names = list(output_names) if output_names else [o.name for o in session.outputs]
        moves = session.run_fallbacks
        values = session.run(feeds, names)
        _log_run_fallback(ctx, model or str(file), session, moves)
    except ModelError as exc:
        raise _node_error(exc) from None
    out = {n: (v.tolist() if hasattr(v, "tolist") else v) for n, v in zip(names, values)}
    result = {"outputs": out, "label": None, "confidence": None, "scores": {}}
    if preset != "none":
        scores = _class_scores(np, names, values)
        if scores is not None:
            row = scores[0]
            names_ = list(labels) if labels else [str(i) for i in range(len(row))]
            if len(names_) != len(row):
                raise NodeError(f"the model gives {len(row)} scores but {len(names_)} labels are known", kind="bad_input",
                                fix="give one label per model output class in 'labels'")
            best = int(np.argmax(row))
            result.update(label=names_[best], confidence=float(row[best]),
                          scores={n: float(s) for n, s in zip(names_, row)})
    return result


_NP_TYPES = {"tensor(float)": "float32", "tensor(double)": "float64", "tensor(int64)": "int64",
             "tensor(int32)": "int32", "tensor(string)": "object", "tensor(bool)": "bool", "tensor(uint8)": "uint8"}


def _feeds(np, session, inputs: dict) -> dict:
    feeds = {}
    wanted = {i.name: i for i in session.inputs}
    unknown = set(inputs) - set(wanted)
    if unknown:
        raise NodeError(f"the model has no input {', '.join(sorted(unknown))} (its inputs: {', '.join(wanted)})",
                        kind="bad_input", fix="name the inputs as the model does ('botloom models show')")
    for name, meta in wanted.items():
        if name not in inputs:
            raise NodeError(f"input '{name}' is missing ({meta.type}, shape {meta.shape})", kind="bad_input",
                            fix="give every model input in 'inputs'")
        try:
            feeds[name] = np.array(inputs[name], dtype=_NP_TYPES.get(meta.type, "float32"))
        except (TypeError, ValueError) as exc:
            raise NodeError(f"input '{name}' cannot be made a {meta.type} array: {exc}", kind="bad_input",
                            fix="give nested lists of numbers of the model's shape") from None
    return feeds


def _image_tensor(ctx, np, path: Path | None, meta, mean, std):
    if path is None or not path.exists():
        raise NodeError(f"image not found: {path}", kind="not_found", fix="give the path of an image file")
    Image = ctx.require("PIL.Image", INSTALL)
    shape = list(meta.shape)
    if len(shape) != 4:
        raise NodeError(f"the image preset needs a 4-D image input (N, C, H, W), the model's is {shape}",
                        kind="bad_input", fix="use preset 'none' and give the input yourself")
    channels_first = shape[1] in (1, 3)
    c, h, w = (shape[1], shape[2], shape[3]) if channels_first else (shape[3], shape[1], shape[2])
    h = h if isinstance(h, int) else 224
    w = w if isinstance(w, int) else 224
    c = c if isinstance(c, int) else 3
    try:
        img = Image.open(path).convert("L" if c == 1 else "RGB").resize((w, h))
    except OSError as exc:
        raise NodeError(f"cannot read the image {path}: {exc}", kind="bad_input", fix="give a PNG or JPEG file") from None
    arr = np.asarray(img, dtype="float32").reshape(h, w, c) / 255.0
    m = np.array(mean or (IMAGENET_MEAN if c == 3 else [0.5]), dtype="float32")
    s = np.array(std or (IMAGENET_STD if c == 3 else [0.5]), dtype="float32")
    arr = (arr - m) / s
    if channels_first:
        arr = arr.transpose(2, 0, 1)
    return arr[None, ...].astype("float32")


def _class_scores(np, names, values):
    """The [N, classes] probabilities among the outputs (softmax applied to raw scores)."""
    for name, v in zip(names, values):
        if isinstance(v, np.ndarray) and v.ndim == 2 and v.dtype.kind == "f":
            if v.min() < 0 or not np.allclose(v.sum(axis=1), 1.0, atol=1e-3):
                e = np.exp(v - v.max(axis=1, keepdims=True))
                v = e / e.sum(axis=1, keepdims=True)
            return v
    return None
