"""Installs that need no checkout: the sdist holds everything (sample bots, resources, icons, the
template code); a wheel built from that sdist alone, installed into a fresh virtual environment,
packs a sample that came with it, installs the package into a clean data folder and runs it.

The environment is made by ``tests/test_wheel.py``'s helper: no network, the
project environment's dependencies linked in, Botloom itself only from the wheel.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from test_wheel import ROOT, _clean_env, _config, _tracked, install_in_fresh_venv

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sdist(tmp_path_factory) -> Path:
    config = _config()
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "out")
    for folder in set(config["tool"]["setuptools"]["package-dir"].values()):
        shutil.copytree(ROOT / folder, src / folder, ignore=ignore)
    for name in ["pyproject.toml", config["project"]["readme"], *config["project"].get("license-files", [])]:
        shutil.copy(ROOT / name, src / name)
    dist = tmp_path_factory.mktemp("sdist")
    built = subprocess.run([sys.executable, "-c", f"from setuptools import build_meta; "
                            f"print(build_meta.build_sdist({str(dist)!r}))"], cwd=src, capture_output=True,
                           text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    return dist / built.stdout.strip().splitlines()[-1]


def test_the_sdist_holds_every_sample_resource_and_the_template_code(sdist):
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    wanted = set(_tracked("bots")) | {p for p in _tracked("resources") if not p.endswith(".md")}
    wanted |= {f"runner/templates/{p.name}" for p in (ROOT / "runner" / "templates").glob("*.py")}
    assert wanted and wanted - names == set()
    assert "app/gallery.py" in names and "runner/cli_templates.py" in names


def test_a_wheel_from_the_sdist_packs_installs_and_runs_a_sample_without_a_checkout(sdist, tmp_path):
    unpacked = tmp_path / "unpacked"
    with tarfile.open(sdist) as tf:
        tf.extractall(unpacked, filter="data")
    [src] = unpacked.iterdir()
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(wheels), str(src)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    [wheel] = wheels.glob("botloom-*.whl")

    venv = tmp_path / "venv"
    python = install_in_fresh_venv(wheel, venv)

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = _clean_env(tmp_path / "home")
    botloom = venv / "bin" / "botloom"

    def run(*args):
        proc = subprocess.run([botloom, *map(str, args)], cwd=work, env=env, capture_output=True, text=True,
                              timeout=300)
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc

    where = subprocess.run([python, "-c", "import botloom.runner.start as s; print(s.bots_dir())"], cwd=work,
                           env=env, capture_output=True, text=True, timeout=60)
    sample = Path(where.stdout.strip()) / "csv-report" / "csv-report.bot.json"
    assert sample.is_relative_to(venv) and not sample.is_relative_to(ROOT), where.stderr
    packed = run("template", "pack", sample, "-o", work)
    assert packed.returncode == 0, packed.stderr
    done = run("template", "install", packed.stdout.strip(), "--yes")
    assert done.returncode == 0 and "installed csv-report" in done.stdout, done.stderr
    [entry] = json.loads(run("template", "list", "--json").stdout)
    assert Path(entry["folder"]).is_relative_to(tmp_path / "home")
    ran = run("run", Path(entry["folder"]) / entry["bot"], "--json")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["state"] == "succeeded"
