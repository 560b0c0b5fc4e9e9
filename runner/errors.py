"""Errors a user can cause or meet, each able to say what failed, where, why and what to do.

    BotloomError                 anything Botloom reports to a user (never a bare traceback)
    ├── BotFileError             a bot file cannot be read: file, JSON pointer, problem, fix
    │   └── FormatTooNewError    written by a newer Botloom
    ├── InvalidBotError          the bot loaded but validation found errors (carries problems)
    ├── InputError               a run input is missing, unknown or of the wrong type
    ├── ExpressionError          a {{ ... }} expression has a syntax error, failed, or was refused
    ├── NodeError                a node failed while running (has a `kind` that retry rules match)
    │   ├── NodeTimeoutError     kind "timeout"
    │   ├── MissingDependencyError kind "missing_dependency": names the install command
    │   └── UserFailure          kind "failed": raised on purpose by the Fail node
    ├── RunCancelled             the run was stopped by the user
    ├── ResumeError              a run cannot be resumed (state, divergence)
    └── StoreError               the run store cannot be read or written
"""

from __future__ import annotations

import difflib
from typing import Iterable


class BotloomError(Exception):
    """Base of every error shown to a user. ``exit_code`` is what the CLI exits with."""

    exit_code = 1

    def __init__(self, message: str, *, where: str | None = None, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.fix = fix

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text

    def to_dict(self) -> dict:
        data = {"type": type(self).__name__, "message": self.message}
        if self.where:
            data["where"] = self.where
        if self.fix:
            data["fix"] = self.fix
        return data


class BotFileError(BotloomError):
    """A bot file could not be read. ``where`` is ``file`` or ``file#/json/pointer``."""

    exit_code = 2

    def __init__(self, message: str, *, file: str, pointer: str = "", fix: str | None = None):
        where = f"{file}#{pointer}" if pointer else file
        super().__init__(message, where=where, fix=fix)
        self.file = file
        self.pointer = pointer


class FormatTooNewError(BotFileError):
    pass


class InvalidBotError(BotloomError):
    """Validation found errors; ``problems`` lists every one of them."""

    exit_code = 2

    def __init__(self, file: str, problems: list):
        errors = [p for p in problems if p.severity == "error"]
        noun = "problem" if len(errors) == 1 else "problems"
        super().__init__(f"the bot has {len(errors)} {noun}", where=file)
        self.problems = problems

    def __str__(self) -> str:
        lines = [super().__str__()]
        lines += ["  " + str(p) for p in self.problems]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        data = super().to_dict()
        data["problems"] = [p.to_dict() for p in self.problems]
        return data


class InputError(BotloomError):
    exit_code = 2


class ExpressionError(BotloomError):
    exit_code = 1


class NodeError(BotloomError):
    """A node failed. ``kind`` names the class of failure for retry rules and catch blocks."""

    exit_code = 1
    kind = "error"

    def __init__(self, message: str, *, kind: str | None = None, where: str | None = None,
                 fix: str | None = None, details: dict | None = None):
        super().__init__(message, where=where, fix=fix)
        if kind:
            self.kind = kind
        self.details = details or {}

    def to_dict(self) -> dict:
        data = super().to_dict()
        data["kind"] = self.kind
        if self.details:
            data["details"] = self.details
        return data


class NodeTimeoutError(NodeError):
    kind = "timeout"


class MissingDependencyError(NodeError):
    kind = "missing_dependency"


class UserFailure(NodeError):
    kind = "failed"


class RunCancelled(BotloomError):
    exit_code = 130


class ResumeError(BotloomError):
    exit_code = 2


class StoreError(BotloomError):
    exit_code = 2


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string. A word longer
    than 100 characters is no typing mistake (and difflib's cost grows with its square)."""
    if len(word) > 100:
        return ""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def quote(text: str, limit: int = 60) -> str:
    """``'text'`` for a message, or only its first ``limit`` characters and its length: an
    error about a 50 MB value stays one line long."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"
