"""Where Botloom keeps its data: the run store, logs, artifacts, caches and settings.

The folder is the platform's user data folder (platformdirs) unless ``BOTLOOM_HOME`` names
another one. Tests always set ``BOTLOOM_HOME`` so they never touch a user's real data.
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


def store_path() -> Path:
    return home() / "runs.sqlite"


def logs_dir() -> Path:
    path = home() / "logs"
    path.mkdir(exist_ok=True)
    return path


def artifacts_dir(run_id: str) -> Path:
    path = home() / "artifacts" / run_id
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir(name: str) -> Path:
    path = home() / "cache" / name
    path.mkdir(parents=True, exist_ok=True)
    return path
