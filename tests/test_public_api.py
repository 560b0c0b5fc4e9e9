"""The names node packs import are pinned, and every headless module imports cleanly on its own."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import botloom.nodes
import botloom.runner
import botloom.runner.sdk as sdk


def test_sdk_public_names_are_pinned():
    assert sorted(sdk.__all__) == sorted([
        "ERROR_PORT", "INPUT_PORT", "MISSING", "MissingDependencyError", "Next", "NodeError", "NodePack",
        "NodeTimeoutError", "NodeType", "Output", "Param", "PreflightInfo", "Requirement", "Secret", "TypeMismatch",
        "UserFailure",
        "node"])
    for name in sdk.__all__:
        assert getattr(sdk, name) is not None


def headless_modules() -> list[str]:
    names = []
    for package in (botloom.runner, botloom.nodes):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            names.append(info.name)
    return sorted(names)


def test_each_headless_module_imports_alone_without_qt_or_heavy_libraries():
    modules = headless_modules()
    assert "botloom.runner.engine.engine" in modules and "botloom.nodes.core.flow" in modules
    script = (
        "import importlib, json, sys\n"
        "bad = {}\n"
        "heavy = ('PySide6', 'PyQt5', 'PyQt6', 'playwright', 'onnxruntime', 'cv2', 'torch', 'easyocr', 'numpy', 'sklearn', 'skl2onnx', 'rapidocr', 'pyautogui', 'mss', 'pypdfium2', 'PIL')\n"
        "for name in json.loads(sys.argv[1]):\n"
        "    before = set(sys.modules)\n"
        "    importlib.import_module(name)\n"
        "    loaded = sorted(m for m in set(sys.modules) - before if m.split('.')[0] in heavy)\n"
        "    if loaded: bad[name] = loaded\n"
        "print(json.dumps(bad))\n")
    out = subprocess.run([sys.executable, "-c", script, json.dumps(modules)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {}


def test_runner_and_nodes_sources_never_import_qt():
    from pathlib import Path

    root = Path(botloom.runner.__file__).parent.parent
    offenders = [str(p) for folder in ("runner", "nodes") for p in (root / folder).rglob("*.py")
                 if any(line.lstrip().startswith(("import PySide6", "from PySide6"))
                        for line in p.read_text(encoding="utf-8").splitlines())]
    assert offenders == []


def test_node_reference_in_docs_is_current():
    """docs/nodes.md is generated from the declarations; regenerate with
    `botloom nodes docs > docs/nodes.md` when a node changes."""
    from pathlib import Path

    from botloom.runner.docs import node_reference
    from botloom.runner.sdk.registry import Registry

    root = Path(botloom.runner.__file__).parent.parent
    shipped = {p.parent.name for p in (root / "nodes").glob("*/__init__.py")}  # core, desktop, browser, ...
    reg = Registry()
    for name, pack in Registry.discover().packs.items():
        if name in shipped:  # the packs of this repository, not test packs on PYTHONPATH
            reg.add_pack(pack)
    docs = root / "docs" / "nodes.md"
    assert docs.read_text(encoding="utf-8") == node_reference(reg), \
        "docs/nodes.md is out of date: run `botloom nodes docs > docs/nodes.md` (with only this repository's packs)"
