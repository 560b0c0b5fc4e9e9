"""The one retry mechanism: a node's ``retry`` setting and the Retry scope node share it.

A :class:`RetryPolicy` says how many attempts, how long to wait between them (``delay``, growing
by ``backoff`` up to ``max_delay``) and which error kinds are retried (``on``; empty means every
kind except those no retry can mend: a bad input or output, a broken expression, a missing
package, a node that had to be abandoned). Both kinds of retry emit the same ``node_retrying`` event before each wait,
and both skip the wait while a resumed run replays attempts that already happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import NodeError

NOT_RETRIED = frozenset({"bad_input", "bad_output", "expression", "missing_dependency", "abandoned"})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 1
    delay: float = 1.0
    backoff: float = 2.0
    max_delay: float = 60.0
    on: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, settings: dict[str, Any] | None) -> "RetryPolicy | None":
        """The policy of a node's ``retry`` setting; None when it asks for one attempt only."""
        settings = settings or {}
        attempts = int(settings.get("attempts", 1))
        if attempts <= 1:
            return None
        return cls(attempts, float(settings.get("delay", 1.0)), float(settings.get("backoff", 2.0)),
                   float(settings.get("max_delay", 60.0)), tuple(settings.get("on") or ()))

    def retryable(self, error: NodeError) -> bool:
        if not self.on:
            return error.kind not in NOT_RETRIED
        return "*" in self.on or error.kind in self.on

    def should_retry(self, error: NodeError, attempt: int) -> bool:
        """True if the attempt numbered ``attempt`` failed with ``error`` and another may follow."""
        return attempt < self.attempts and self.retryable(error)

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        return min(self.delay * self.backoff ** (attempt - 1), self.max_delay)


__all__ = ["NOT_RETRIED", "RetryPolicy"]
