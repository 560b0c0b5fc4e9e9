"""Errors for the files a node reads and writes, worded the same in every pack.

A node that opens a user's file turns the ``OSError`` it meets into a :class:`NodeError` that
says what failed (the path and the action), why (missing, a folder, no permission...) and
what to do::

    from botloom.runner.sdk import os_failure

    try:
        rows = ctx.path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise os_failure(ctx, exc, ctx.path(path), "read") from None

``ctx`` may be None outside a run (a CLI command, a helper called with an absolute path):
the message then does not name the bot's folder.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import NodeError

__all__ = ["make_parent", "not_found", "os_failure"]


def not_found(ctx, path: Path, what: str = "file") -> NodeError:
    """A ``not_found`` NodeError for ``path`` (``what``: "file", "folder", "image"...)."""
    folder = f" ({ctx.base_dir})" if ctx is not None else ""
    return NodeError(f"{what} not found: {path}", kind="not_found", details={"path": str(path)},
                     fix=f"check the path; relative paths are resolved against the bot's folder{folder}")


def os_failure(ctx, exc: OSError, path: Path, action: str) -> NodeError:
    """A NodeError for an OSError met while doing ``action`` ("read", "write", ...) on ``path``."""
    if isinstance(exc, FileNotFoundError):
        missing = Path(exc.filename) if exc.filename else path
        return not_found(ctx, missing, "folder" if missing != path else "file")
    if isinstance(exc, IsADirectoryError):
        return NodeError(f"cannot {action} {path}: it is a folder, not a file", kind="bad_input",
                         details={"path": str(path)}, fix="give the path of a file inside that folder")
    if isinstance(exc, NotADirectoryError):
        return NodeError(f"cannot {action} {path}: a part of the path is a file, not a folder", kind="bad_input",
                         details={"path": str(path)}, fix="check each folder name in the path")
    if isinstance(exc, PermissionError):
        return NodeError(f"cannot {action} {path}: permission denied", kind="io", details={"path": str(path)},
                         fix="check that the account running the bot may use this file, and that no other "
                             "program (Excel, an editor, a virus scanner) holds it open")
    return NodeError(f"cannot {action} {path}: {exc.strerror or exc}", kind="io", details={"path": str(path)},
                     fix="check the disk, the network share and the path")


def make_parent(ctx, path: Path) -> None:
    """Create the folder ``path`` goes in (and its parents); a failure is a NodeError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_failure(ctx, exc, path.parent, "create the folder") from None
