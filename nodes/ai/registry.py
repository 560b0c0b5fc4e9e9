"""The model registry: named models with numbered versions in the data folder.

Layout (``<data folder>/models``)::

    <name>/
        state.json          {"format": 1, "active": "3", "history": ["1", "2"]}
        .lock               held while a process changes this model
        versions/<n>/
            model.onnx      the ONNX graph
            labels.json     the class labels, in the model's output order
            card.json       the model card (intended use, data, metrics, limitations,
                            created when and from what) and the ONNX file's sha256

A version folder is written complete under a temporary name, then renamed into place, so a
reader never sees half a version. ``state.json`` is replaced atomically (write a temporary
file, ``os.replace``), under an exclusive file lock, so two processes activating at once leave
one of the two states, never a mixture. A model file whose sha256 does not match its card is
refused when it is loaded.

No heavy import here: the CLI's ``list`` and ``show`` and the node packs import this module.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from botloom.runner.sdk import BotloomError, audit
from botloom.runner.sdk import file_lock as locked

STATE_FORMAT = 1
CARD_FORMAT = 1
ARCHIVE_SUFFIX = ".botmodel"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ARCHIVE_FILES = ("model.onnx", "labels.json", "card.json")


class ModelError(BotloomError):
    """A model cannot be found, read, verified or changed."""

    exit_code = 2


class ChecksumError(ModelError):
    """A model file does not match the sha256 its card records: corrupt or tampered with."""


def models_dir() -> Path:
    from botloom.runner.sdk import data_dir

    return data_dir("models", create=False)  # created by the first write


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise ModelError(f"'{name}' is not a valid model name",
                         fix="use letters, digits, '_', '-' and '.', starting with a letter or digit (at most 64)")
    return name


def atomic_write_json(path: Path, data) -> None:
    """Write JSON so that readers see the old or the new file, never a part of one."""
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True))


def atomic_write_text(path: Path, text: str) -> None:
    """Write a text file so that readers see the old or the new file, never a part of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _read_json(path: Path, what: str):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{what} is missing: {path}", fix="re-import the model, or delete the broken version") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"{what} cannot be read ({path}): {exc}",
                         fix="re-import the model, or delete the broken version") from None


# ---------------------------------------------------------------- locking
@contextlib.contextmanager
def file_lock(path: Path, timeout: float = 30.0) -> Iterator[None]:
    """An exclusive lock between processes (and threads: each call opens its own handle)."""
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(locked(path, timeout))
        except TimeoutError as exc:
            raise ModelError(str(exc), fix="wait for the other 'botloom models' command or training to finish") from None
        yield


# ---------------------------------------------------------------- versions
@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: str
    folder: Path

    @property
    def onnx_path(self) -> Path:
        return self.folder / "model.onnx"

    @property
    def card(self) -> dict:
        return _read_json(self.folder / "card.json", f"the model card of {self.ref}")

    @property
    def labels(self) -> list[str]:
        path = self.folder / "labels.json"
        return _read_json(path, f"the labels of {self.ref}") if path.exists() else []

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def verify(self) -> bytes:
        """The ONNX file's bytes, after checking them against the card's sha256."""
        expected = self.card.get("sha256")
        try:
            data = self.onnx_path.read_bytes()
        except FileNotFoundError:
            raise ModelError(f"model {self.ref} has no model.onnx ({self.onnx_path})",
                             fix="re-import the model, or roll back to another version") from None
        actual = hashlib.sha256(data).hexdigest()
        if not expected or actual != expected:
            raise ChecksumError(
                f"model {self.ref} failed its checksum: model.onnx has sha256 {actual[:12]}..., "
                f"its card says {str(expected)[:12]}... (the file is corrupt or was changed)",
                where=str(self.onnx_path),
                fix=f"re-import the model from its archive, or roll back: botloom models rollback {self.name}")
        return data


class Registry:
    """Models in one folder (the data folder's ``models`` unless given)."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else models_dir()

    # -- reading
    def names(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and (p / "versions").is_dir())

    def folder(self, name: str) -> Path:
        return self.root / check_name(name)

    def versions(self, name: str) -> list[str]:
        vdir = self.folder(name) / "versions"
        if not vdir.is_dir():
            return []
        found = [p.name for p in vdir.iterdir() if p.is_dir() and p.name.isdigit()]
        return sorted(found, key=int)

    def state(self, name: str) -> dict:
        path = self.folder(name) / "state.json"
        if not path.exists():
            return {"format": STATE_FORMAT, "active": None, "history": []}
        data = _read_json(path, f"the state of model '{name}'")
        if data.get("format", 1) > STATE_FORMAT:
            raise ModelError(f"model '{name}' was written by a newer Botloom (state format {data['format']})",
                             fix="upgrade Botloom: pip install -U 'botloom[ai]'")
        return data

    def active(self, name: str) -> str | None:
        return self.state(name).get("active")

    def get(self, name: str, version: str | int | None = None) -> ModelVersion:
        """A version of a model: the given one, else the active one."""
        versions = self.versions(name)
        if not versions:
            from botloom.runner.sdk import did_you_mean

            raise ModelError(f"no model named '{name}'{did_you_mean(name, self.names())}",
                             fix="list the models with 'botloom models list'; train one with 'botloom models "
                                 "train' or import one with 'botloom models import'")
        if version in (None, "", "active"):
            version = self.active(name)
            if version is None:
                raise ModelError(f"model '{name}' has no active version (versions: {', '.join(versions)})",
                                 fix=f"activate one: botloom models activate {name} VERSION")
        version = str(version)
        if version not in versions:
            raise ModelError(f"model '{name}' has no version {version} (versions: {', '.join(versions)})",
                             fix=f"see them with: botloom models show {name}")
        return ModelVersion(name, version, self.folder(name) / "versions" / version)

    # -- writing
    def lock(self, name: str):
        return file_lock(self.folder(name) / ".lock")

    def add_version(self, name: str, onnx_bytes: bytes, labels: list[str], card: dict) -> ModelVersion:
        """Store a new version (numbered after the highest one); does not activate it."""
        check_name(name)
        vdir = self.folder(name) / "versions"
        vdir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".new-", dir=vdir))
        try:
            (staging / "model.onnx").write_bytes(onnx_bytes)
            (staging / "labels.json").write_text(json.dumps(list(labels), ensure_ascii=False), encoding="utf-8")
            with self.lock(name):
                existing = self.versions(name)
                version = str(int(existing[-1]) + 1 if existing else 1)
                full = dict(card, format=CARD_FORMAT, name=name, version=version,
                            sha256=hashlib.sha256(onnx_bytes).hexdigest())
                full.setdefault("created_at", _now())
                (staging / "card.json").write_text(json.dumps(full, indent=2, ensure_ascii=False), encoding="utf-8")
                target = vdir / version
                os.replace(staging, target)
            return ModelVersion(name, version, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def activate(self, name: str, version: str | int) -> str:
        """Make ``version`` the one bots use; the previously active one can be rolled back to."""
        version = str(version)
        with self.lock(name):
            mv = self.get(name, version)
            mv.verify()  # never activate a file that fails its checksum
            state = self.state(name)
            previous = state.get("active")
            if previous == version:
                return version
            history = [v for v in state.get("history", []) if v != version]
            if previous is not None:
                history.append(previous)
            atomic_write_json(self.folder(name) / "state.json",
                              {"format": STATE_FORMAT, "active": version, "history": history[-50:],
                               "changed_at": _now()})
            audit("model_activated", model=name, version=version, previous=previous)
        return version

    def rollback(self, name: str) -> str:
        """Activate the version that was active before the current one."""
        with self.lock(name):
            state = self.state(name)
            history = [v for v in state.get("history", []) if v in self.versions(name)]
            if not history:
                raise ModelError(f"model '{name}' has no earlier active version to roll back to",
                                 fix=f"activate a version by number: botloom models activate {name} VERSION")
            target = history.pop()
            self.get(name, target).verify()
            atomic_write_json(self.folder(name) / "state.json",
                              {"format": STATE_FORMAT, "active": target, "history": history, "changed_at": _now()})
            audit("model_activated", model=name, version=target, previous=state.get("active"), rollback=True)
        return target

    # -- archives
    def export(self, name: str, version: str | None, target: Path) -> Path:
        """One archive file (zip) with the ONNX file, labels and card of a version."""
        mv = self.get(name, version)
        mv.verify()
        target = Path(target)
        if target.is_dir():
            target = target / f"{name}-{mv.version}{ARCHIVE_SUFFIX}"
        tmp = target.with_name(target.name + ".tmp")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for fname in ARCHIVE_FILES:
                if (mv.folder / fname).exists():
                    zf.write(mv.folder / fname, fname)
        os.replace(tmp, target)
        return target

    def import_archive(self, path: Path, name: str | None = None, activate: bool | None = None) -> ModelVersion:
        """Add the archive's model as a new version (of ``name``, else of the name in its card).
        It is activated when asked, or when the model has no active version yet."""
        path = Path(path)
        try:
            with zipfile.ZipFile(path) as zf:
                members = set(zf.namelist())
                missing = {"model.onnx", "card.json"} - members
                if missing:
                    raise ModelError(f"{path} is not a Botloom model archive (missing {', '.join(sorted(missing))})",
                                     fix="export models with 'botloom models export NAME FILE'")
                onnx_bytes = zf.read("model.onnx")
                card = json.loads(zf.read("card.json").decode("utf-8"))
                labels = json.loads(zf.read("labels.json").decode("utf-8")) if "labels.json" in members else []
        except FileNotFoundError:
            raise ModelError(f"archive not found: {path}", fix="check the path") from None
        except (zipfile.BadZipFile, ValueError, KeyError) as exc:
            raise ModelError(f"{path} is not a readable model archive: {exc}",
                             fix="export it again; the file may be truncated") from None
        actual = hashlib.sha256(onnx_bytes).hexdigest()
        if card.get("sha256") != actual:
            raise ChecksumError(f"the model in {path} failed its checksum (sha256 {actual[:12]}..., card says "
                                f"{str(card.get('sha256'))[:12]}...): the archive is corrupt or was changed",
                                fix="get a fresh copy of the archive from where it was exported")
        if card.get("format", 1) > CARD_FORMAT:
            raise ModelError(f"{path} was written by a newer Botloom (card format {card['format']})",
                             fix="upgrade Botloom: pip install -U 'botloom[ai]'")
        target_name = check_name(name or card.get("name") or path.stem.split("-")[0])
        imported = dict(card, imported_from={"file": str(path), "name": card.get("name"),
                                             "version": card.get("version"), "at": _now()})
        mv = self.add_version(target_name, onnx_bytes, labels, imported)
        if activate or (activate is None and self.active(target_name) is None):
            self.activate(target_name, mv.version)
        return mv


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")
