"""What a run is given and what it leaves: its inputs checked against the bot's declarations
(``bind_inputs``), its id (``new_run_id``), the journal's record of a step (``StepRecord``),
how to resume it (``ResumeRequest``) and its result (``RunResult``). The engine (``engine.py``)
and the run store share these."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field

from ..botfile.model import VarDecl
from ..errors import InputError, did_you_mean
from ..sdk.params import MISSING
from ..sdk.types import TYPES, TypeMismatch, parse_text


@dataclass
class StepRecord:
    """A step as the journal remembers it (the last attempt)."""

    node: str
    state: str
    port: str | None = None
    outputs: dict | None = None
    writes: dict | None = None
    error: dict | None = None
    wake: dict | None = None
    params: dict | None = None


@dataclass
class ResumeRequest:
    """How to resume: the decision for the step that needs attention, and signal data."""

    action: str | None = None  # "retry" or "skip" for the step at `seq`
    seq: int | None = None
    data: dict | None = None


@dataclass
class RunResult:
    run_id: str
    state: str
    outputs: dict = field(default_factory=dict)
    error: dict | None = None
    attention: dict | None = None
    wake: dict | None = None
    duration: float = 0.0
    steps: int = 0

    @property
    def ok(self) -> bool:
        return self.state == "succeeded"


def bind_inputs(decls: dict[str, VarDecl], given: dict | None, *, from_text: bool = False,
                where: str = "bot") -> dict:
    """Check run inputs against the declarations: unknown, missing and mistyped are errors."""
    given = dict(given or {})
    values = {}
    for name in given:
        if name not in decls:
            known = ", ".join(sorted(decls)) or "(none)"
            raise InputError(f"unknown input '{name}'{did_you_mean(name, decls)}", where=where,
                             fix=f"the inputs of this bot are: {known}")
    for name, decl in decls.items():
        if name in given:
            raw = given[name]
            try:
                values[name] = parse_text(decl.type, raw) if from_text and isinstance(raw, str) else TYPES[decl.type].coerce(raw)
            except TypeMismatch as exc:
                raise InputError(f"input '{name}': {exc}", where=where,
                                 fix=f"give a {TYPES[decl.type].title} for '{name}'") from None
        elif decl.default is not MISSING:
            values[name] = copy.deepcopy(decl.default)
        elif decl.required:
            raise InputError(f"the required input '{name}' is missing", where=where,
                             fix=f"pass it with --input {name}=VALUE")
        else:
            values[name] = None
    return values


def new_run_id() -> str:
    """Sortable by start time and readable: 20261123-201512-3fa9c1."""
    import time

    return time.strftime("%Y%m%d-%H%M%S", time.localtime()) + "-" + uuid.uuid4().hex[:6]
