"""Inference over ONNX Runtime: execution providers, a per-model session cache, threads,
batching and warm-up.

Providers are tried in the order asked (bot settings ``"ai": {"providers": [...]}`` or the
``BOTLOOM_AI_PROVIDERS`` environment variable, e.g. ``cuda,cpu``); by default the best one this
build of ONNX Runtime offers: DirectML on Windows, CUDA, CoreML on macOS, then CPU. When a
session cannot be created on a provider (a missing driver, an unsupported operator), the
session is created on the CPU instead and the reason is kept in ``Session.fallback``.

Sessions are cached per model file content (sha256) and settings, so a bot that classifies
10,000 rows loads its model once per process.
"""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

from .registry import ModelError

PROVIDERS = {  # short name -> ONNX Runtime provider
    "directml": "DmlExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
DEFAULT_ORDER = ("directml", "cuda", "coreml", "cpu")
ENV_PROVIDERS = "BOTLOOM_AI_PROVIDERS"
ENV_THREADS = "BOTLOOM_AI_THREADS"
INSTALL = "pip install 'botloom[ai]'"


def ort():
    try:
        import onnxruntime
    except ImportError:
        from botloom.runner.errors import MissingDependencyError

        raise MissingDependencyError("ONNX Runtime (the Python package 'onnxruntime') is not installed",
                                     kind="missing_dependency", fix=f"run: {INSTALL}") from None
    return onnxruntime


def available_providers() -> list[str]:
    return list(ort().get_available_providers())


def resolve_providers(wanted: list[str] | str | None = None) -> list[str]:
    """ONNX Runtime provider names to try, in order; always ends with the CPU."""
    if wanted is None:
        wanted = os.environ.get(ENV_PROVIDERS) or list(DEFAULT_ORDER)
    if isinstance(wanted, str):
        wanted = [w.strip() for w in wanted.split(",") if w.strip()]
    offered = available_providers()
    chosen: list[str] = []
    for w in wanted:
        full = PROVIDERS.get(str(w).lower(), str(w))
        if full not in PROVIDERS.values() and full not in offered:
            raise ModelError(f"unknown execution provider '{w}'",
                             fix=f"use one of: {', '.join(PROVIDERS)} (this machine offers {', '.join(offered)})")
        if full in offered and full not in chosen:
            chosen.append(full)
    if "CPUExecutionProvider" not in chosen:
        chosen.append("CPUExecutionProvider")
    return chosen


@dataclass
class RuntimeSettings:
    providers: tuple[str, ...] | None = None  # short or full names; None = default order
    intra_threads: int = 0  # 0 = ONNX Runtime decides
    inter_threads: int = 1
    batch_size: int = 256
    warmup: bool = True

    @classmethod
    def from_dict(cls, data: dict | None) -> "RuntimeSettings":
        data = dict(data or {})
        providers = data.get("providers")
        if isinstance(providers, str):
            providers = [p.strip() for p in providers.split(",") if p.strip()]
        threads = data.get("threads", os.environ.get(ENV_THREADS, 0))
        try:
            return cls(providers=tuple(providers) if providers else None, intra_threads=int(threads or 0),
                       inter_threads=int(data.get("inter_threads", 1)), batch_size=max(1, int(data.get("batch_size", 256))),
                       warmup=bool(data.get("warmup", True)))
        except (TypeError, ValueError) as exc:
            raise ModelError(f"invalid 'ai' settings: {exc}",
                             fix="threads, inter_threads and batch_size are whole numbers; providers a list") from None

    def key(self) -> tuple:
        return (self.providers, self.intra_threads, self.inter_threads)


@dataclass
class Session:
    """An ONNX Runtime session and what it runs on."""

    inner: Any
    provider: str
    fallback: str = ""  # why the preferred provider was not used
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, feeds: dict, output_names: list[str] | None = None) -> list:
        try:
            return self.inner.run(output_names, feeds)
        except Exception as exc:  # noqa: BLE001 - ONNX Runtime raises its own exception types
            raise ModelError(f"the model failed to run: {type(exc).__name__}: {exc}",
                             fix="check the input names, shapes and types against 'botloom models show'") from None


def _options(settings: RuntimeSettings, provider: str):
    rt = ort()
    so = rt.SessionOptions()
    if settings.intra_threads:
        so.intra_op_num_threads = settings.intra_threads
    if settings.inter_threads:
        so.inter_op_num_threads = settings.inter_threads
    so.graph_optimization_level = rt.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    if settings.intra_threads == 1:
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if provider == "DmlExecutionProvider":  # DirectML needs these (ONNX Runtime's documentation)
        so.enable_mem_pattern = False
        so.execution_mode = rt.ExecutionMode.ORT_SEQUENTIAL
    return so


def create_session(model: bytes, settings: RuntimeSettings | None = None) -> Session:
    """A session on the first provider that accepts the model, else on the CPU."""
    settings = settings or RuntimeSettings()
    rt = ort()
    order = resolve_providers(list(settings.providers) if settings.providers else None)
    reasons = []
    for provider in order:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "provider not available": detected below
                inner = rt.InferenceSession(model, sess_options=_options(settings, provider), providers=[provider])
        except Exception as exc:  # noqa: BLE001
            reasons.append(f"{provider}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            continue
        used = inner.get_providers()[0]
        if used != provider:  # ONNX Runtime itself fell back (e.g. a CUDA build without a driver)
            reasons.append(f"{provider}: not usable, ONNX Runtime chose {used}")
        return Session(inner, used, "; ".join(reasons), inner.get_inputs(), inner.get_outputs())
    raise ModelError("the model cannot be loaded by ONNX Runtime on any provider: " + "; ".join(reasons),
                     fix="check that the file is an ONNX model this ONNX Runtime version supports "
                         f"({rt.__version__}); re-export it with a lower opset if needed")


_CACHE: dict[tuple, Session] = {}
_CACHE_LOCK = threading.Lock()
CACHE_SIZE = 16


def cached_session(key: str, load_bytes, settings: RuntimeSettings | None = None, warmup=None) -> Session:
    """The session for ``key`` (e.g. the model's sha256), created once per process.
    ``load_bytes()`` gives the model; ``warmup(session)`` runs once after creation."""
    settings = settings or RuntimeSettings()
    full_key = (key, settings.key())
    with _CACHE_LOCK:
        hit = _CACHE.get(full_key)
    if hit is not None:
        return hit
    session = create_session(load_bytes(), settings)
    if warmup is not None and settings.warmup:
        warmup(session)
    with _CACHE_LOCK:
        if len(_CACHE) >= CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        return _CACHE.setdefault(full_key, session)


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


def batches(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]
