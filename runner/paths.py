"""Where Botloom keeps its data: the run store, logs, artifacts, caches and settings.

The folder is the platform's user data folder (platformdirs) unless ``BOTLOOM_HOME`` names
another one. Tests always set ``BOTLOOM_HOME`` so they never touch a user's real data.

Every function below takes an optional ``base``: the data folder a runtime object
(``botloom.runner.runtime.Runner``) carries explicitly; without it, :func:`home`.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "BOTLOOM_HOME"


def home() -> Path:
    """The data folder, created on first use."""
    override = os.environ.get(ENV_HOME)
    if override:
        path = Path(override).expanduser()
    else:
        import platformdirs  # only when no override: keeps `botloom run` start-up lean

        path = platformdirs.user_data_path("botloom", appauthor=False)
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_path(base: Path | None = None) -> Path:
    return (base or home()) / "runs.sqlite"


def logs_dir(base: Path | None = None) -> Path:
    path = (base or home()) / "logs"
    path.mkdir(exist_ok=True)
    return path


def artifacts_dir(run_id: str, base: Path | None = None) -> Path:
    path = (base or home()) / "artifacts" / run_id
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir(name: str, base: Path | None = None) -> Path:
    path = (base or home()) / "cache" / name
    path.mkdir(parents=True, exist_ok=True)
    return path
