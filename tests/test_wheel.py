"""The wheel is complete: built from this tree and installed into a fresh virtual environment,
it holds the sample bots and the resources, and `botloom start` without a display runs a
sample from there, importing nothing from the checkout.

The wheel is built once per test session (without build isolation: the project's setuptools
builds it, nothing is downloaded). The fresh environment gets Botloom's dependencies through a
``.pth`` file naming a folder of links to the project environment's packages, minus Botloom
itself; the wheel is installed with ``--no-deps``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _tracked(folder: str) -> list[str]:
    out = subprocess.run(["git", "ls-files", "--", folder], cwd=ROOT, capture_output=True, text=True, check=True)
    return [line for line in out.stdout.splitlines() if not line.endswith("__init__.py")]


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of what pyproject.toml names (the checkout stays untouched)."""
    config = _config()
    src = tmp_path_factory.mktemp("src")
    folders = set(config["tool"]["setuptools"]["package-dir"].values())
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "out")
    for folder in folders:
        shutil.copytree(ROOT / folder, src / folder, ignore=ignore)
    for name in ["pyproject.toml", config["project"]["readme"], *config["project"].get("license-files", [])]:
        shutil.copy(ROOT / name, src / name)
    dist = tmp_path_factory.mktemp("dist")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(dist), str(src)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    [found] = dist.glob("botloom-*.whl")
    return found


@pytest.fixture(scope="session")
def fresh_venv(wheel, tmp_path_factory) -> Path:
    """A new virtual environment with the wheel installed; returns its python."""
    return install_in_fresh_venv(wheel, tmp_path_factory.mktemp("venv"))


def install_in_fresh_venv(wheel: Path, venv: Path) -> Path:
    """Make a virtual environment in ``venv`` holding the wheel (and links to its dependencies)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    deps = venv / "deps"  # the project environment's packages, but not Botloom (nor its editable finder)
    deps.mkdir()
    for folder in _dependency_folders():
        for entry in folder.iterdir():
            if not entry.name.lower().startswith(("botloom", "__editable__")) and entry.suffix != ".pth" \
                    and not (deps / entry.name).exists():
                (deps / entry.name).symlink_to(entry)
    (site / "botloom-deps.pth").write_text(f"{deps}\n", encoding="utf-8")
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                                "--no-index", str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    return python


def _dependency_folders() -> list[Path]:
    """The folders this environment installed Botloom's dependencies in."""
    from importlib.metadata import PackageNotFoundError, distribution
    from packaging.requirements import Requirement

    folders = set()
    for requirement in _config()["project"]["dependencies"]:
        try:
            folders.add(Path(distribution(Requirement(requirement).name).locate_file("")).resolve())
        except PackageNotFoundError:  # not installed here yet (pyproject.toml is newer than .venv)
            pass
    return sorted(folders)


def _clean_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["BOTLOOM_HOME"] = str(home)
    return env


def test_the_wheel_holds_every_sample_and_resource(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    wanted = {f"botloom/bots/{p.removeprefix('bots/')}" for p in _tracked("bots")}
    wanted |= {f"botloom/resources/{p.removeprefix('resources/')}" for p in _tracked("resources")
               if not p.endswith(".md")}
    assert wanted and wanted - names == set()
    assert "botloom/bots/__init__.py" in names and "botloom/runner/store/schema.sql" in names
    assert not [n for n in names if "/out/" in n or "__pycache__" in n]


def test_botloom_start_without_a_display_runs_a_sample_from_the_installed_wheel(fresh_venv, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = _clean_env(tmp_path / "home")
    where = subprocess.run([fresh_venv, "-c", "import json, botloom.runner, botloom.bots, botloom.runner.start as s; "
                            "print(json.dumps([botloom.runner.__file__, str(s.bots_dir())]))"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60)
    assert where.returncode == 0, where.stderr
    runner_file, bots = json.loads(where.stdout)
    venv = fresh_venv.parent.parent
    assert Path(runner_file).is_relative_to(venv) and Path(bots).is_relative_to(venv)
    assert not Path(runner_file).is_relative_to(ROOT)

    started = subprocess.run([venv / "bin" / "botloom", "start"], cwd=elsewhere, env=env, capture_output=True,
                             text=True, timeout=300)
    assert started.returncode == 0, started.stderr
    assert "no display" in started.stderr and "succeeded" in started.stderr, started.stderr
    assert "Traceback" not in started.stderr
    summary = json.loads((tmp_path / "home" / "samples" / "csv-report" / "summary.json").read_text())
    assert summary, summary
