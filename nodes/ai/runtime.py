"""Inference over ONNX Runtime: execution providers, a per-model session cache, threads,
batching and warm-up.

Providers are tried in the order asked (bot settings ``"ai": {"providers": [...]}`` or the
``BOTLOOM_AI_PROVIDERS`` environment variable, e.g. ``cuda,cpu``); by default the best one this
build of ONNX Runtime offers: DirectML on Windows, CUDA, CoreML on macOS, then CPU. When a
session cannot be created on a provider (a missing driver, an unsupported operator), the
session is created on the CPU instead and the reason is kept in ``Session.fallback``. When a
session on another provider fails while running (a driver error, out of GPU memory, an operator
the provider accepted but cannot run), it is recreated on the CPU once, the input is run again,
and that model keeps the CPU session from then on (the cached session switches in place); the
reason is kept in ``Session.fallback`` and in the data folder (``ai/provider-fallbacks.json``,
shown by ``botloom doctor``). A failure on the CPU itself is a :class:`ModelError`.

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
        from botloom.runner.sdk import MissingDependencyError

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


CPU = "CPUExecutionProvider"


@dataclass
class Session:
    """An ONNX Runtime session and what it runs on."""

    inner: Any
    provider: str
    fallback: str = ""  # why the preferred provider was not used (at creation or at run time)
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    settings: RuntimeSettings | None = None
    model: bytes | None = field(default=None, repr=False)  # kept for a non-CPU session, to recreate it on the CPU
    run_fallbacks: int = 0  # how many times this session moved to the CPU while running (0 or 1)

    def run(self, feeds: dict, output_names: list[str] | None = None) -> list:
        inner = self.inner
        try:
            return inner.run(output_names, feeds)
        except Exception as exc:  # noqa: BLE001 - ONNX Runtime raises its own exception types
            error = exc
        moved = self.inner is not inner  # another thread moved this session to the CPU meanwhile
        if not _input_error(error) and (moved or (self.provider != CPU and self.model is not None)):
            self._to_cpu(inner, error)  # does nothing when already moved
            try:
                return self.inner.run(output_names, feeds)
            except Exception as exc:  # noqa: BLE001
                error = exc
        raise ModelError(f"the model failed to run: {type(error).__name__}: {_first_line(error)}",
                         fix="check the input names, shapes and types against 'botloom models show'") from None

    def _to_cpu(self, failed_inner, error: BaseException) -> None:
        """Replace the failed provider's session by a CPU one (once, whichever thread gets here first)."""
        with self.lock:
            if self.inner is not failed_inner:  # another thread already switched
                return
            failed = self.provider
            try:
                inner = new_inner_session(self.model, _options(self.settings or RuntimeSettings(), CPU), CPU)
            except Exception as exc:  # noqa: BLE001
                raise ModelError(f"the model failed on {failed} ({type(error).__name__}: {_first_line(error)}) "
                                 f"and cannot be loaded on the CPU: {type(exc).__name__}: {_first_line(exc)}",
                                 fix="check that the file is an ONNX model this ONNX Runtime version supports") from None
            reason = f"{failed} failed while running: {type(error).__name__}: {_first_line(error)}"
            self.fallback = "; ".join(r for r in (self.fallback, reason) if r)
            self.inner, self.provider, self.model = inner, CPU, None
            self.run_fallbacks += 1
        _remember_fallback(failed, reason)


def _input_error(exc: BaseException) -> bool:
    """A wrong feed (name, type, shape): the caller's mistake on every provider, not the provider's."""
    return type(exc).__name__ == "InvalidArgument" or isinstance(exc, (ValueError, TypeError, KeyError))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else "")[:300]


FALLBACKS_FILE = "provider-fallbacks.json"


def _remember_fallback(provider: str, reason: str) -> None:
    """Keep the last run-time failure per provider in the data folder, for ``botloom doctor``."""
    import json
    import time

    try:
        from botloom.runner.sdk import data_dir

        path = data_dir("ai") / FALLBACKS_FILE
        try:
            seen = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            seen = {}
        seen[provider] = {"at": time.strftime("%Y-%m-%d %H:%M:%S"), "reason": reason}
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(seen, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only data folder must not stop the run; the reason is still in Session.fallback


def recorded_fallbacks() -> dict:
    """The last run-time failure of each provider on this machine (see ``Session.run``)."""
    import json

    from botloom.runner.sdk import data_dir

    try:
        return json.loads((data_dir("ai", create=False) / FALLBACKS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def new_inner_session(model: bytes, options, provider: str):
    """An ONNX Runtime session on one provider (the seam tests replace to simulate a GPU)."""
    return ort().InferenceSession(model, sess_options=options, providers=[provider])


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
                inner = new_inner_session(model, _options(settings, provider), provider)
        except Exception as exc:  # noqa: BLE001
            reasons.append(f"{provider}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            continue
        used = inner.get_providers()[0]
        if used != provider:  # ONNX Runtime itself fell back (e.g. a CUDA build without a driver)
            reasons.append(f"{provider}: not usable, ONNX Runtime chose {used}")
        return Session(inner, used, "; ".join(reasons), inner.get_inputs(), inner.get_outputs(), settings=settings,
                       model=None if used == CPU else model)
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


def drop_session(key: str) -> None:
    """Forget the sessions of ``key`` (every settings), so their memory can be freed."""
    with _CACHE_LOCK:
        for full_key in [k for k in _CACHE if k[0] == key]:
            del _CACHE[full_key]


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


def batches(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]
