"""`botloom doctor` checks for local AI: ONNX Runtime, its execution providers (each tried
with a one-node model), the training libraries, and the model registry."""

from __future__ import annotations

from botloom.runner.sdk import Check

from .runtime import INSTALL, PROVIDERS


def _tiny_model() -> bytes:
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "doctor", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8).SerializeToString()


def provider_usable(provider: str, model: bytes) -> tuple[bool, str]:
    """Whether a session on ``provider`` alone can be created and run."""
    import numpy as np
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(model, providers=[provider])
        used = session.get_providers()[0]
        out = session.run(None, {"x": np.array([[-1.0, 2.0]], dtype=np.float32)})[0]
    except Exception as exc:  # noqa: BLE001
        return False, f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    if used != provider:
        return False, f"fell back to {used}"
    return bool(out.tolist() == [[0.0, 2.0]]), "ran a test model"


def checks() -> list[Check]:
    found: list[Check] = []
    try:
        import onnxruntime as ort
    except ImportError:
        return [Check("ai", "onnxruntime", False, "not installed", f"run: {INSTALL}")]
    found.append(Check("ai", "onnxruntime", True, f"ONNX Runtime {ort.__version__}"))
    try:
        model = _tiny_model()
    except ImportError:
        model = None
        found.append(Check("ai", "onnx", False, "the 'onnx' package is missing: providers cannot be tested",
                           f"run: {INSTALL}"))
    offered = ort.get_available_providers()
    short = {v: k for k, v in PROVIDERS.items()}
    for provider in offered:
        if provider == "AzureExecutionProvider":
            continue  # a remote-call provider, not a local device
        name = f"provider {short.get(provider, provider)}"
        if model is None:
            found.append(Check("ai", name, None, f"{provider} offered, not tested"))
            continue
        ok, detail = provider_usable(provider, model)
        fix = "" if ok else ("install the GPU driver/runtime this provider needs; Botloom falls back to the CPU"
                             if provider != "CPUExecutionProvider" else f"reinstall: {INSTALL}")
        found.append(Check("ai", name, ok, f"{provider}: {detail}", fix))
    for missing in ("CUDAExecutionProvider", "DmlExecutionProvider", "CoreMLExecutionProvider"):
        if missing not in offered:
            found.append(Check("ai", f"provider {short[missing]}", None, f"{missing} not in this ONNX Runtime build",
                               {"CUDAExecutionProvider": "for NVIDIA GPUs: pip install onnxruntime-gpu (instead of onnxruntime)",
                                "DmlExecutionProvider": "on Windows: pip install onnxruntime-directml",
                                "CoreMLExecutionProvider": "on macOS the standard onnxruntime wheel has it"}[missing]))
    from .runtime import recorded_fallbacks

    for provider, seen in sorted(recorded_fallbacks().items()):
        found.append(Check("ai", f"provider {short.get(provider, provider)} at run time", False,
                           f"{seen.get('at', '?')}: {seen.get('reason', provider + ' failed while running')}; "
                           "the model moved to the CPU",
                           "update the GPU driver/runtime, or leave this provider out of the 'ai' providers setting "
                           "(delete ai/provider-fallbacks.json in the data folder to clear this line)"))
    try:
        import sklearn
        import skl2onnx

        found.append(Check("ai", "training", True, f"scikit-learn {sklearn.__version__}, skl2onnx {skl2onnx.__version__}"))
    except ImportError as exc:
        found.append(Check("ai", "training", False, f"{exc.name} is not installed: models cannot be trained here",
                           f"run: {INSTALL}"))
    try:
        from .encoder import INSTALL as ENCODER_INSTALL
        from .encoder import available

        found.append(Check("ai", "sentence encoder", True, available()))
    except Exception as exc:  # noqa: BLE001 - missing or damaged: classifiers then use n-grams only
        found.append(Check("ai", "sentence encoder", None,
                           f"{getattr(exc, 'message', exc)}: text classifiers are trained on n-grams only",
                           f"run: {ENCODER_INSTALL}"))
    try:
        from .registry import Registry

        reg = Registry()
        names = reg.names()
        found.append(Check("ai", "model registry", True, f"{len(names)} model(s) in {reg.root}"))
    except Exception as exc:  # noqa: BLE001
        found.append(Check("ai", "model registry", False, f"{type(exc).__name__}: {exc}",
                           "check that the data folder is writable (BOTLOOM_HOME)"))
    return found
