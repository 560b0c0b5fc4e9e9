"""The states of a run and of a step: one enum each, used everywhere instead of string literals.

Both are ``StrEnum``: a member *is* its text (``RunState.FAILED == "failed"``), so the run
store's columns, JSON and the CLI's filters keep plain strings, and old stores read as before.

A run::

    created ─► running ─┬─► succeeded                      (final)
                        ├─► failed        ─► (resume --retry/--skip) ─► running
                        ├─► cancelled     ─► (resume) ─► running
                        ├─► suspended     ─► (signal, timer, resume) ─► running
                        ├─► needs_attention ─► (resume --retry/--skip) ─► running
                        └─► crashed       ─► (resume) ─► running       (its process died)

A step (one attempt of one node): running ─► succeeded | failed | skipped | suspended |
cancelled. ``running`` is only ever journalled for a durable step (side effects, or one that uses
the run's session, e.g. a browser node), before it acts.
"""

from __future__ import annotations

from enum import StrEnum


class RunState(StrEnum):
    CREATED = "created"  # only in the state history: the run was recorded, nothing ran yet
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SUSPENDED = "suspended"
    NEEDS_ATTENTION = "needs_attention"
    CRASHED = "crashed"

    @property
    def final(self) -> bool:
        """True for the states a run ends in for good (it is not waiting for anything)."""
        return self in FINAL_STATES

    @property
    def resumable(self) -> bool:
        return self in RESUMABLE


class StepState(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


FINAL_STATES = frozenset({RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED})
RESUMABLE = (RunState.CRASHED, RunState.NEEDS_ATTENTION, RunState.SUSPENDED, RunState.FAILED, RunState.CANCELLED)

__all__ = ["FINAL_STATES", "RESUMABLE", "RunState", "StepState"]
