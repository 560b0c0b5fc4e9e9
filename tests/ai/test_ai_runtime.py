"""Provider fallback while running: a GPU session that fails at run time is replaced by a CPU
session once, the item is run again, and the model stays on the CPU. No GPU is needed: the
session-creation seam hands out a session that reports CUDA and fails to run."""

from __future__ import annotations

import pytest
from botloom.nodes.ai import runtime
from nodes_helpers import outputs_of, run_bot

CUDA = "CUDAExecutionProvider"


class FailingCudaSession:
    """Looks like an ONNX Runtime session on CUDA; runs ``ok_runs`` times, then every run fails."""

    def __init__(self, real, ok_runs: int):
        self.real, self.ok_runs, self.calls = real, ok_runs, 0

    def get_providers(self):
        return [CUDA, "CPUExecutionProvider"]

    def get_inputs(self):
        return self.real.get_inputs()

    def get_outputs(self):
        return self.real.get_outputs()

    def run(self, names, feeds):
        self.calls += 1
        if set(feeds) != {i.name for i in self.real.get_inputs()}:
            return self.real.run(names, feeds)  # a wrong feed is refused as ONNX Runtime does (InvalidArgument)
        if self.calls > self.ok_runs:
            raise RuntimeError("CUDA failure 700: an illegal memory access was encountered")
        return self.real.run(names, feeds)


@pytest.fixture
def fake_cuda(monkeypatch):
    """CUDA offered and preferred; every CUDA session is a FailingCudaSession (listed here)."""
    made: list[FailingCudaSession] = []
    real_new = runtime.new_inner_session
    state = {"ok_runs": 1}

    def new_inner_session(model, options, provider):
        real = real_new(model, options, "CPUExecutionProvider")
        if provider == CUDA:
            made.append(FailingCudaSession(real, state["ok_runs"]))
            return made[-1]
        return real

    monkeypatch.setattr(runtime, "new_inner_session", new_inner_session)
    monkeypatch.setattr(runtime, "available_providers", lambda: [CUDA, "CPUExecutionProvider"])
    monkeypatch.setenv(runtime.ENV_PROVIDERS, "cuda,cpu")
    runtime.clear_cache()
    yield made, state
    runtime.clear_cache()


@pytest.fixture
def ngram_model(examples):
    """A model whose graph takes the text alone (no sentence features)."""
    from botloom.nodes.ai.registry import Registry
    from botloom.nodes.ai.texttrain import train

    texts, labels = examples
    return train("plain", texts, labels, source="generated", holdout=0.25, seed=3, registry=Registry(),
                 features="ngrams")


def classify(text):
    return run_bot({"classify": {"type": "ai.classify_text",
                                 "params": {"model": "tickets", "text": text, "threshold": 0.0}}})


def test_a_provider_failing_at_run_time_moves_the_model_to_the_cpu(trained, fake_cuda):
    made, _ = fake_cuda
    from botloom.nodes.ai.doctor import checks
    from botloom.nodes.ai.textclf import load_classifier

    reg, _ = trained
    expected = load_classifier(reg, "tickets", settings=runtime.RuntimeSettings(providers=("cpu",)))
    want = expected.predict(["Où est mon colis ? livraison en retard"])[0]

    result, log = classify("Où est mon colis ? livraison en retard")
    assert result.state == "succeeded", result.error
    # two sessions, the classifier's and its sentence encoder's: each warmed up on "CUDA", then
    # failed on the item and moved to the CPU
    assert len(made) == 2 and [m.calls for m in made] == [2, 2]
    out = outputs_of(log, "classify")
    assert out["label"] == want["label"] == "delivery"
    assert out["scores"] == pytest.approx(want["scores"], abs=1e-6)
    warnings = [e.message for e in log.of("log") if e.node == "classify" and e.level == "warning"]
    assert len(warnings) == 2 and all("now runs on the CPU" in w and "illegal memory access" in w for w in warnings)
    assert any("sentence encoder" in w for w in warnings)

    sessions = [s for s in runtime._CACHE.values() if s.settings.providers is None]  # the node's sessions
    assert len(sessions) == 2
    for session in sessions:
        assert session.provider == "CPUExecutionProvider" and session.run_fallbacks == 1
        assert "CUDAExecutionProvider failed while running" in session.fallback and session.model is None

    # later runs keep the CPU session: the failing provider is not tried again, no new warning
    result, log = classify("j'ai été prélevé deux fois 20 € !")
    assert result.state == "succeeded", result.error
    assert outputs_of(log, "classify")["label"] == "billing"
    assert len(made) == 2 and [m.calls for m in made] == [2, 2]
    assert not [e for e in log.of("log") if e.level == "warning"]

    # the reason is kept for `botloom doctor`
    line = [c for c in checks() if c.name == "provider cuda at run time"]
    assert len(line) == 1 and line[0].ok is False and "illegal memory access" in line[0].detail


def test_a_failure_on_the_cpu_is_a_clear_model_error(ngram_model, fake_cuda, monkeypatch):
    import numpy as np
    from botloom.nodes.ai.registry import ModelError

    made, state = fake_cuda
    state["ok_runs"] = 0  # fails from the first run
    result = ngram_model
    model = result.version.verify()
    session = runtime.create_session(model, runtime.RuntimeSettings())
    assert session.provider == CUDA and session.model is not None
    # a wrong input name is the caller's mistake: an error, and the session stays where it is
    with pytest.raises(ModelError, match="are missing from input feed"):
        session.run({"nope": np.array([["x"]], dtype=object)}, None)
    assert session.provider == CUDA and session.run_fallbacks == 0 and runtime.recorded_fallbacks() == {}
    feed = {"text": np.array([["refund please"]], dtype=object)}
    probs = session.run(feed, ["probabilities"])[0]
    assert session.provider == "CPUExecutionProvider" and probs.shape == (1, 3)
    # a failure on the CPU session itself: a ModelError, not another fallback
    monkeypatch.setattr(session, "inner", FailingCudaSession(session.inner, ok_runs=0))
    with pytest.raises(ModelError, match="the model failed to run: RuntimeError"):
        session.run(feed, ["probabilities"])
    assert session.run_fallbacks == 1 and len(made) == 1 and session.provider == "CPUExecutionProvider"
    assert "illegal memory access" in runtime.recorded_fallbacks()[CUDA]["reason"]


def test_a_cpu_session_is_not_recreated_when_it_fails(ngram_model, monkeypatch):
    import numpy as np
    from botloom.nodes.ai.registry import ModelError

    created = []
    real_new = runtime.new_inner_session
    monkeypatch.setattr(runtime, "new_inner_session", lambda *a: created.append(a[2]) or real_new(*a))
    result = ngram_model
    session = runtime.create_session(result.version.verify(), runtime.RuntimeSettings(providers=("cpu",)))
    with pytest.raises(ModelError, match="the model failed to run"):
        session.run({"text": np.array([[1.0]], dtype=np.float32)}, None)
    assert created == ["CPUExecutionProvider"] and session.model is None and session.run_fallbacks == 0


def test_a_run_that_fails_while_another_thread_moves_the_session_is_retried_on_the_cpu(ngram_model, fake_cuda):
    import numpy as np

    made, state = fake_cuda
    state["ok_runs"] = 0
    result = ngram_model
    session = runtime.create_session(result.version.verify(), runtime.RuntimeSettings())
    failing = made[-1]
    real_run = failing.run

    def run_while_another_thread_moves_it(names, feeds):
        try:
            return real_run(names, feeds)
        except RuntimeError as exc:
            session._to_cpu(failing, exc)  # what a concurrent caller that failed first has done
            raise

    failing.run = run_while_another_thread_moves_it
    probs = session.run({"text": np.array([["refund please"]], dtype=object)}, ["probabilities"])[0]
    assert probs.shape == (1, 3) and session.provider == "CPUExecutionProvider" and session.run_fallbacks == 1
