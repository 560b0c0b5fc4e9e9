"""The names node packs import are pinned, and every headless module imports cleanly on its own."""

from __future__ import annotations

import json
import pkgutil
import re
import subprocess
import sys

import pytest

import botloom.nodes
import botloom.runner
import botloom.runner.sdk as sdk


PUBLISHED = [
    # declaring node types
    "ERROR_PORT", "INPUT_PORT", "Lint", "LintInfo", "MISSING", "Next", "NodePack", "NodeType", "Output", "Param", "PreflightInfo",
    "Requirement", "Secret", "TypeMismatch", "node",
    # the run
    "BreakLoop", "Context", "ContinueLoop", "EndFlow", "FlowSignal",
    # errors
    "BotloomError", "MissingDependencyError", "NodeError", "NodeTimeoutError", "RunCancelled", "UserFailure",
    "did_you_mean",
    # files
    "make_parent", "not_found", "os_failure",
    # the host
    "Check", "VERSION", "audit", "cache_dir", "data_dir", "file_lock", "read_setting", "sha256_file",
    # work queues and the examples of reviews, in the data folder's run store
    "review_examples", "verify", "work_queue",
    # recorders
    "recording",
    # other packs
    "capability",
]


def test_sdk_public_names_are_pinned():
    assert sorted(sdk.__all__) == sorted(PUBLISHED)
    for name in sdk.__all__:
        assert getattr(sdk, name) is not None
    assert sdk.VERSION == botloom.runner.__version__


def test_every_published_name_is_documented_for_pack_authors():
    from pathlib import Path

    guide = (Path(botloom.runner.__file__).parent.parent / "docs" / "node-authoring.md").read_text(encoding="utf-8")
    assert [name for name in sdk.__all__ if f"`{name}" not in guide] == []


def test_importing_the_sdk_leaves_the_engine_alone_until_context_or_a_signal_is_asked_for():
    script = ("import sys\n"
              "from botloom.runner.sdk import *\n"  # star import: every name of __all__ resolves
              "import botloom.runner.sdk as sdk\n"
              "assert sdk.EndFlow.port == '@end' and sdk.Context.__name__ == 'Context'\n"
              "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
    lean = subprocess.run([sys.executable, "-c", "import sys, botloom.runner.sdk\n"
                           "print(sorted(m for m in sys.modules if m.startswith('botloom.runner.engine')))"],
                          capture_output=True, text=True, timeout=60)
    assert lean.returncode == 0 and lean.stdout.strip() == "[]", lean.stdout + lean.stderr


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


# ---------------------------------------------------------------- packs use the SDK and nothing else

NAMESPACES = ("botloom", "botloom.nodes", "botloom.runner")  # packages that only hold other packages


def forbidden_imports(module: str, source: str, published: set[str]) -> list[str]:
    """What the pack module ``module`` (e.g. ``botloom.nodes.ocr.nodes``) imports of Botloom
    beyond the SDK's published names and its own pack, as ``"line: what"``."""
    import ast

    parts = module.split(".")
    own = ".".join(parts[:3])  # botloom.nodes.<pack>
    is_package = False  # modules are checked by path below; __init__ modules pass their package name
    if parts[-1] == "__init__":
        parts, is_package = parts[:-1], True
    found = []

    def check(line: int, target: str, names: tuple[str, ...] = ()) -> None:
        if target in NAMESPACES:
            for name in names:
                check(line, f"{target}.{name}")
        elif target == "botloom.runner.sdk":
            found.extend(f"{line}: {target}.{n} (not published)" for n in names if n not in published)
        elif (target == "botloom" or target.startswith("botloom.")) and not (
                target == own or target.startswith(own + ".")):
            found.append(f"{line}: {target}")

    for n in ast.walk(ast.parse(source)):
        if isinstance(n, ast.Import):
            for alias in n.names:
                check(n.lineno, alias.name)
        elif isinstance(n, ast.ImportFrom):
            if n.level:
                base = parts[:len(parts) - n.level + (1 if is_package else 0)]
                target = ".".join(base + ([n.module] if n.module else []))
            else:
                target = n.module or ""
            check(n.lineno, target, tuple(a.name for a in n.names))
        elif isinstance(n, ast.Call) and getattr(n.func, "attr", getattr(n.func, "id", "")) in (
                "import_module", "__import__") and n.args and isinstance(n.args[0], ast.Constant):
            check(n.lineno, str(n.args[0].value))
    return found


def pack_sources() -> dict[str, str]:
    """Every module of the built-in packs by its installed name, read from the sources."""
    from pathlib import Path

    root = Path(botloom.nodes.__file__).parent
    return {"botloom.nodes." + ".".join(p.relative_to(root).with_suffix("").parts): p.read_text(encoding="utf-8")
            for p in sorted(root.rglob("*.py"))}


def test_packs_import_only_the_sdk_and_their_own_modules():
    sources = pack_sources()
    assert "botloom.nodes.core.flow" in sources and "botloom.nodes.desktop.targets" in sources
    published = set(sdk.__all__)
    offenders = {name: bad for name, text in sources.items() if (bad := forbidden_imports(name, text, published))}
    assert offenders == {}, "packs may import botloom.runner.sdk's published names and their own modules only"


@pytest.mark.parametrize("module, source, says", [
    ("botloom.nodes.desktop.targets", "from botloom.nodes.ocr.api import TextSearch", "botloom.nodes.ocr.api"),
    ("botloom.nodes.desktop.targets", "from .. import ocr", "botloom.nodes.ocr"),
    ("botloom.nodes.desktop.targets", "from ..ocr.api import find_text", "botloom.nodes.ocr.api"),
    ("botloom.nodes.desktop.__init__", "from ..ocr import api", "botloom.nodes.ocr"),
    ("botloom.nodes.core.files", "from botloom.runner.errors import NodeError", "botloom.runner.errors"),
    ("botloom.nodes.core.files", "from botloom.runner import __version__", "botloom.runner.__version__"),
    ("botloom.nodes.core.files", "import botloom.runner.paths", "botloom.runner.paths"),
    ("botloom.nodes.core.files", "from botloom.runner.sdk.registry import Registry", "botloom.runner.sdk.registry"),
    ("botloom.nodes.core.files", "from botloom.runner.sdk import Registry", "Registry (not published)"),
    ("botloom.nodes.core.files", "def f():\n    import botloom.app.main", "botloom.app.main"),
    ("botloom.nodes.core.files", "import importlib\nimportlib.import_module('botloom.nodes.ocr')", "botloom.nodes.ocr"),
])
def test_the_import_check_catches_each_way_of_reaching_past_the_sdk(module, source, says):
    bad = forbidden_imports(module, source, set(sdk.__all__))
    assert len(bad) == 1 and bad[0].endswith(says), bad


def test_the_import_check_lets_a_pack_use_the_sdk_and_itself():
    ok = ("from botloom.runner.sdk import NodeError, capability\nfrom botloom.runner import sdk\n"
          "from . import screen\nfrom .session import INSTALL\nfrom botloom.nodes.desktop import input\n")
    assert forbidden_imports("botloom.nodes.desktop.targets", ok, set(sdk.__all__)) == []
    assert forbidden_imports("botloom.nodes.desktop.__init__", "from . import windows", set(sdk.__all__)) == []


# ---------------------------------------------------------------- capabilities between packs

CAP_PACK = '''
from botloom.runner.sdk import NodePack, Param, node

GREETING = {"hello": "world"}

@node("capdemo.noop")
def noop(ctx):
    pass

def pack():
    return NodePack("capdemo", "1.0", [noop], provides={
        "capdemo.greeting": "botloom_cap_pack:GREETING",
        "capdemo.broken": "botloom_cap_missing_module:THING",
        "capdemo.typo": "botloom_cap_pack:GREETNG"})
'''

CAP_SCRIPT = '''
import json, sys
from botloom.runner.sdk import MissingDependencyError, capability
out = {}
for name in sys.argv[1:]:
    try:
        out[name] = capability(name, purpose="the demo", install="pip install capdemo")
    except MissingDependencyError as exc:
        out[name] = {"error": str(exc), "kind": exc.kind, "details": exc.details}
print(json.dumps(out, default=lambda v: f"{v.__module__}.{v.__qualname__}"))
'''


def test_a_pack_finds_what_another_installed_pack_provides_and_a_missing_one_is_a_clear_error(tmp_path):
    import os

    (tmp_path / "botloom_cap_pack.py").write_text(CAP_PACK, encoding="utf-8")
    info = tmp_path / "botloom_cap_pack-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: botloom-cap-pack\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[botloom.nodes]\ncapdemo = botloom_cap_pack:pack\n", encoding="utf-8")
    names = ["capdemo.greeting", "capdemo.broken", "capdemo.typo", "capdemo.absent", "nopack.thing",
             "ocr.text_search"]
    out = subprocess.run([sys.executable, "-c", CAP_SCRIPT, *names], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["capdemo.greeting"] == {"hello": "world"}
    broken = got["capdemo.broken"]
    assert broken["kind"] == "missing_dependency" and broken["details"]["provider"].startswith("botloom_cap_missing")
    assert "cannot use the demo" in broken["error"] and "ModuleNotFoundError" in broken["error"]
    assert "fix: reinstall the pack that provides it: pip install capdemo" in broken["error"]
    assert "AttributeError" in got["capdemo.typo"]["error"]
    assert got["capdemo.absent"]["error"].startswith(
        "cannot use the demo: no installed node pack provides the capability 'capdemo.absent'\n")
    assert "(the 'nopack' node pack is not installed)" in got["nopack.thing"]["error"]
    assert "fix: run: pip install capdemo" in got["nopack.thing"]["error"]
    assert got["ocr.text_search"] == "botloom.nodes.ocr.api.TextSearch"  # found through the OCR pack's entry point


def test_the_built_in_packs_provide_what_the_others_ask_for():
    from botloom.nodes.desktop import screen
    from botloom.nodes.ocr import api

    assert sdk.capability("ocr.text_search", purpose="text targets", install="-") is api.TextSearch
    assert sdk.capability("ocr.read_image", purpose="the desktop recorder", install="-") is api.read_image
    assert sdk.capability("desktop.screen_grab", purpose="reading text on the screen", install="-") is screen.grab


@pytest.mark.parametrize("provides, says", [
    ({"Greeting": "m:x"}, "capability name 'Greeting' must look like 'pack.name'"),
    ({"demo.greeting": "m.x"}, "must name its provider as 'module:attribute', got 'm.x'"),
])
def test_a_pack_declaring_a_malformed_capability_is_refused(provides, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        sdk.NodePack("demo", "1", [], provides=provides)


# ---------------------------------------------------------------- folders in the data folder

def test_a_pack_gets_its_own_data_and_cache_folders_and_not_botloom_s(botloom_home):
    assert sdk.data_dir("crm") == botloom_home / "crm" and (botloom_home / "crm").is_dir()
    if sys.platform != "win32":  # private like the rest of the data folder
        assert (botloom_home / "crm").stat().st_mode & 0o777 == 0o700
    assert sdk.data_dir("models", create=False) == botloom_home / "models"
    assert not (botloom_home / "models").exists()
    assert sdk.cache_dir("crm-models") == botloom_home / "cache" / "crm-models" and sdk.cache_dir("crm-models").is_dir()
    for name in ("logs", "artifacts", "cache", "locks"):
        with pytest.raises(sdk.BotloomError, match=f"the data folder '{name}' belongs to Botloom itself"):
            sdk.data_dir(name)
    for bad in ("../etc", "a/b", "", "Runs"):
        with pytest.raises(sdk.BotloomError, match="is not a valid folder name"):
            sdk.data_dir(bad)
        with pytest.raises(sdk.BotloomError, match="is not a valid folder name"):
            sdk.cache_dir(bad)


def test_read_setting_reads_the_user_settings(botloom_home):
    assert sdk.read_setting("ocr.engine") == "auto"
    (botloom_home / "settings.json").write_text('{"ocr.engine": "easyocr"}', encoding="utf-8")
    assert sdk.read_setting("ocr.engine") == "easyocr"
    (botloom_home / "settings.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(sdk.BotloomError, match="cannot read the settings"):
        sdk.read_setting("ocr.engine")
