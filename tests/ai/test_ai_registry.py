"""The model registry: versions, activation, rollback, archives, checksums, two processes."""

from __future__ import annotations

import json
import multiprocessing
import zipfile

import pytest

from botloom.nodes.ai.registry import ChecksumError, ModelError, Registry


def _add(reg, name="m", n=1):
    from botloom.nodes.ai.doctor import _tiny_model

    return [reg.add_version(name, _tiny_model(), ["a", "b"], {"task": "test", "note": i}) for i in range(n)]


def test_versions_activation_and_rollback():
    reg = Registry()
    v1, v2, v3 = _add(reg, n=3)
    assert reg.versions("m") == ["1", "2", "3"] and reg.active("m") is None
    with pytest.raises(ModelError, match="no active version"):
        reg.get("m")
    reg.activate("m", "1")
    reg.activate("m", "3")
    reg.activate("m", "2")
    assert reg.get("m").version == "2"
    assert reg.rollback("m") == "3"
    assert reg.rollback("m") == "1"
    with pytest.raises(ModelError, match="no earlier active version"):
        reg.rollback("m")
    with pytest.raises(ModelError, match="has no version 9"):
        reg.activate("m", "9")
    with pytest.raises(ModelError, match="no model named 'n'"):
        reg.get("n")
    with pytest.raises(ModelError, match="not a valid model name"):
        reg.get("../etc")


def test_tampered_model_is_refused_with_a_clear_error(trained):
    from botloom.nodes.ai.runtime import clear_cache
    from botloom.nodes.ai.textclf import load_classifier

    reg, result = trained
    path = result.version.onnx_path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit
    path.write_bytes(bytes(data))
    clear_cache()
    with pytest.raises(ChecksumError) as info:
        load_classifier(reg, "tickets")
    assert "failed its checksum" in info.value.message and "rollback" in info.value.fix
    with pytest.raises(ChecksumError):
        reg.activate("tickets", "1")
    with pytest.raises(ChecksumError):
        reg.export("tickets", "1", path.parent.parent / "x.botmodel")


def test_export_import_roundtrip_and_tampered_archive(trained, tmp_path):
    reg, result = trained
    archive = reg.export("tickets", None, tmp_path)
    assert archive.name == "tickets-1.botmodel"
    other = Registry(tmp_path / "other-registry")
    mv = other.import_archive(archive)
    assert (mv.name, mv.version, other.active("tickets")) == ("tickets", "1", "1")
    assert mv.card["sha256"] == result.version.card["sha256"] and mv.labels == result.version.labels
    assert mv.card["imported_from"]["version"] == "1"
    second = other.import_archive(archive, name="copy")
    assert second.name == "copy"
    # a changed model inside the archive
    bad = tmp_path / "bad.botmodel"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.namelist():
            content = src.read(item)
            dst.writestr(item, content + b"\0" if item == "model.onnx" else content)
    with pytest.raises(ChecksumError, match="failed its checksum"):
        other.import_archive(bad)
    junk = tmp_path / "junk.botmodel"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="not a readable model archive"):
        other.import_archive(junk)


def _activate_many(root, version, n):
    reg = Registry(root)
    for _ in range(n):
        reg.activate("m", version)
        reg.activate("m", "1")


def test_two_processes_activating_at_once_leave_a_valid_state(tmp_path):
    root = tmp_path / "models"
    reg = Registry(root)
    _add(reg, n=3)
    reg.activate("m", "1")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_activate_many, args=(root, v, 40)) for v in ("2", "3")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    state = json.loads((root / "m" / "state.json").read_text())
    assert state["active"] == "1" and set(state["history"]) <= {"1", "2", "3"}
    assert not [p for p in (root / "m").iterdir() if p.name.endswith(".tmp")]


def _add_versions(root, n):
    from botloom.nodes.ai.doctor import _tiny_model

    reg = Registry(root)
    for i in range(n):
        reg.add_version("m", _tiny_model(), [], {"task": "test"})


def test_two_processes_adding_versions_get_distinct_numbers(tmp_path):
    root = tmp_path / "models"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_add_versions, args=(root, 10)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    reg = Registry(root)
    assert reg.versions("m") == [str(i) for i in range(1, 21)]
    for v in reg.versions("m"):
        reg.get("m", v).verify()


def test_a_provider_that_cannot_run_falls_back_to_the_cpu(monkeypatch):
    from botloom.nodes.ai import runtime
    from botloom.nodes.ai.doctor import _tiny_model

    # a build that lists CUDA although this machine has no CUDA: ONNX Runtime cannot use it
    monkeypatch.setattr(runtime, "available_providers",
                        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert runtime.resolve_providers(["cuda", "cpu"]) == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    session = runtime.create_session(_tiny_model(), runtime.RuntimeSettings(providers=("cuda",)))
    assert session.provider == "CPUExecutionProvider" and "CUDAExecutionProvider" in session.fallback
    import numpy as np

    assert session.run({"x": np.array([[-1.0, 1.0]], dtype=np.float32)})[0].tolist() == [[0.0, 1.0]]
    with pytest.raises(ModelError, match="unknown execution provider 'gpu'"):
        runtime.resolve_providers(["gpu"])
