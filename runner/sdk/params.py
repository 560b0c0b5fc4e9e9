"""Typed parameters and data outputs of a node type.

A :class:`Param` is declared once and drives everything: validation of bot files, the value
the node function receives at run time, the designer's form (through ``ui_schema()``), the
CLI help (``botloom nodes show``) and the generated node reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import quote
from .types import TYPES, TypeMismatch, coerce

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING", "__bool__": lambda self: False})()

PATH_MODES = ("open", "save", "folder")


@dataclass(frozen=True)
class Param:
    """One parameter of a node type.

    ``type`` is a value type name (see ``botloom.runner.sdk.types.TYPES``). UI hints:
    ``multiline`` (a text box), ``path`` ("open", "save" or "folder": a file picker),
    ``choices`` (a drop-down; values outside it are refused), ``expression`` (the value is
    an expression even without ``{{ }}``, as in conditions), ``show_if`` (only shown, and
    only required, when another parameter has one of the given values), ``advanced``
    (folded away in the form), ``placeholder``, ``widget`` (a named editor the designer offers
    for this value: "screen-target", the point and image pickers of desktop targets;
    "web-target", picking an element in a browser for browser targets).
    A ``secret`` parameter holds a secret's name.
    """

    name: str
    type: str = "string"
    title: str = ""
    description: str = ""
    default: Any = MISSING
    required: bool = False
    choices: tuple = ()
    multiline: bool = False
    path: str | None = None
    expression: bool = False
    show_if: dict | None = None
    minimum: float | None = None
    maximum: float | None = None
    placeholder: str = ""
    advanced: bool = False
    widget: str | None = None

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"parameter '{self.name}': unknown type '{self.type}'")
        if self.path is not None and self.path not in PATH_MODES:
            raise ValueError(f"parameter '{self.name}': path must be one of {PATH_MODES}")
        if not self.title:
            object.__setattr__(self, "title", self.name.replace("_", " ").capitalize())
        object.__setattr__(self, "choices", tuple(self.choices))

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING

    def shown(self, values: dict) -> bool:
        """Whether this parameter applies, given the node's other parameter values."""
        if not self.show_if:
            return True
        for other, wanted in self.show_if.items():
            wanted = wanted if isinstance(wanted, (list, tuple, set)) else (wanted,)
            if values.get(other) not in wanted:
                return False
        return True

    def check(self, value: Any) -> Any:
        """Convert ``value`` to this parameter's type, or raise TypeMismatch saying why."""
        if value is None and not self.required:
            return None
        value = coerce(self.type, value)
        if self.choices and value not in self.choices:
            shown = quote(value) if isinstance(value, str) else quote(repr(value))  # short, however long it is
            raise TypeMismatch(f"{shown} is not one of: {', '.join(map(str, self.choices))}")
        if self.minimum is not None and value < self.minimum:
            raise TypeMismatch(f"{value} is below the minimum {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise TypeMismatch(f"{value} is above the maximum {self.maximum}")
        return value

    def ui_schema(self) -> dict:
        """JSON Schema of this parameter with ``x-botloom`` UI hints for the designer's form."""
        schema = dict(TYPES[self.type].schema)
        schema["title"] = self.title
        if self.description:
            schema["description"] = self.description
        if self.has_default:
            schema["default"] = self.default
        if self.choices:
            schema["enum"] = list(self.choices)
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        hints = {"type": self.type}
        for key in ("multiline", "path", "expression", "show_if", "placeholder", "advanced", "widget"):
            value = getattr(self, key)
            if value:
                hints[key] = value
        if self.type == "secret":
            hints["secret"] = True
        schema["x-botloom"] = hints
        return schema


@dataclass(frozen=True)
class Output:
    """A data output port: a value the node produces, readable as ``nodes.ID.NAME``."""

    name: str
    type: str = "any"
    description: str = ""

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"output '{self.name}': unknown type '{self.type}'")


@dataclass(frozen=True)
class Requirement:
    """An optional Python package a node needs, and the command that installs it."""

    module: str
    install: str

    def available(self) -> bool:
        import importlib.util

        try:
            return importlib.util.find_spec(self.module) is not None
        except (ImportError, ValueError):
            return False


__all__ = ["MISSING", "Output", "Param", "Requirement"]
