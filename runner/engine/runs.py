"""What a run is given and what it leaves: its inputs checked against the bot's declarations
(``bind_inputs``), its id (``new_run_id``), the journal's record of a step (``StepRecord``),
how to resume it (``ResumeRequest``) and its result (``RunResult``). The engine (``engine.py``)
and the run store share these.

A run id is a ULID (26 letters and digits, Crockford's base 32, lower case): 48 bits of
milliseconds then 80 random bits, so ids made on different machines do not collide and sort
by start time. The CLI takes any unique prefix or suffix of one (``botloom show 7k2q``): the
last few characters are random, so four or five of them are usually enough."""

from __future__ import annotations

import copy
import os
import threading
import time
from dataclasses import dataclass, field

from ..botfile.model import VarDecl
from ..errors import InputError, did_you_mean
from ..sdk.params import MISSING
from ..sdk.types import TYPES, TypeMismatch, parse_text
from ..states import RunState


@dataclass
class StepRecord:
    """A step as the journal remembers it (its latest row: the last attempt, or the re-run of a
    step that waited or was in flight)."""

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
    by: str | None = None  # who answers a wait: a user name, "timer", a service; kept in the journal


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
        return self.state == RunState.SUCCEEDED


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


_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_RANDOM_BITS = 80
_last_id = [0, 0]  # [milliseconds, random part] of the last id made in this process
_id_lock = threading.Lock()


def new_run_id() -> str:
    """A ULID in lower case, e.g. ``01jdq3v7m2x8k4r9t6w0zc5b1e``: time-ordered (to the
    millisecond, and strictly increasing within one process), unique across machines."""
    ms = time.time_ns() // 1_000_000
    with _id_lock:
        last_ms, last_random = _last_id
        if ms <= last_ms:  # same millisecond (or the clock stepped back): count on from the last id
            ms, random = last_ms, last_random + 1
            if random >> _RANDOM_BITS:
                ms, random = ms + 1, int.from_bytes(os.urandom(10), "big")
        else:
            random = int.from_bytes(os.urandom(10), "big")
        _last_id[:] = [ms, random]
    value = (ms << _RANDOM_BITS) | random
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))
