"""Assertions: one way to compare what a bot got with what it expected, and to wait for it.

The ``verify`` nodes of every pack (core values, browser pages, desktop elements) use these, so
their operators, their messages and their waiting behave alike:

- :func:`compare` checks one value against one expectation and says, when it fails, what was
  expected and what was got ("expected text to contain 'Paid', got 'Pending'");
- :func:`poll` asks a probe again and again until the expectation holds or the timeout passes,
  as Playwright's ``expect`` does, so a check right after a re-render does not race it;
- :class:`VerifyFailed` is the node error they raise (kind ``verify_failed``, which retry rules
  and error ports can name).

No pack imports another's checks: a pack builds its probe (an element's text, a window's title)
and hands it here, through ``botloom.runner.sdk``.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from .errors import NodeError, quote

# name -> (what the message says, whether it takes an expected value)
OPERATORS: dict[str, tuple[str, bool]] = {
    "equals": ("to equal", True),
    "not_equals": ("not to equal", True),
    "contains": ("to contain", True),
    "not_contains": ("not to contain", True),
    "starts_with": ("to start with", True),
    "ends_with": ("to end with", True),
    "matches": ("to match the pattern", True),
    "greater": ("to be greater than", True),
    "greater_or_equal": ("to be at least", True),
    "less": ("to be less than", True),
    "less_or_equal": ("to be at most", True),
    "length_equals": ("to have a length of", True),
    "is_empty": ("to be empty", False),
    "not_empty": ("not to be empty", False),
    "is_true": ("to be true", False),
    "is_false": ("to be false", False),
}


class VerifyFailed(NodeError):
    """A verify node's expectation did not hold (within its timeout)."""

    kind = "verify_failed"


@dataclass
class Outcome:
    ok: bool
    actual: Any
    message: str  # "expected ... , got ..." (also when ok, for the log)
    attempts: int = 1
    waited: float = 0.0


def _show(value: Any, limit: int = 200) -> str:
    text = quote(value) if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        return None if math.isnan(value) else Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip().replace(",", "")) if value.strip() else None
        except InvalidOperation:
            return None
    return None


def _equal(actual: Any, expected: Any) -> bool:
    if actual == expected:
        return True
    a, e = _number(actual), _number(expected)  # "42" equals 42, 1.50 equals "1.5"
    if a is not None and e is not None and (isinstance(actual, str) != isinstance(expected, str)):
        return a == e
    return False


def _holds(actual: Any, op: str, expected: Any, *, ignore_case: bool) -> bool:
    if ignore_case and isinstance(actual, str) and isinstance(expected, str):
        actual, expected = actual.casefold(), expected.casefold()
    if op == "equals":
        return _equal(actual, expected)
    if op == "not_equals":
        return not _equal(actual, expected)
    if op in ("contains", "not_contains"):
        if isinstance(actual, str):
            found = str(expected) in actual
        elif isinstance(actual, (list, tuple, set, frozenset, dict)):
            found = expected in actual
        else:
            raise TypeError(f"cannot look inside a {type(actual).__name__}")
        return found if op == "contains" else not found
    if op in ("starts_with", "ends_with"):
        if not isinstance(actual, str):
            raise TypeError(f"a {type(actual).__name__} has no text to {op.replace('_', ' ')}")
        return actual.startswith(str(expected)) if op == "starts_with" else actual.endswith(str(expected))
    if op == "matches":
        if not isinstance(actual, str):
            raise TypeError(f"a {type(actual).__name__} is not text to match")
        flags = re.IGNORECASE if ignore_case else 0
        return re.search(str(expected), actual, flags) is not None
    if op in ("greater", "greater_or_equal", "less", "less_or_equal"):
        a, e = _number(actual), _number(expected)
        if a is None or e is None:
            a, e = actual, expected  # dates, times, text: their own ordering
        try:
            return {"greater": a > e, "greater_or_equal": a >= e, "less": a < e, "less_or_equal": a <= e}[op]
        except TypeError:
            raise TypeError(f"cannot order {type(actual).__name__} against {type(expected).__name__}") from None
    if op == "length_equals":
        if not hasattr(actual, "__len__"):
            raise TypeError(f"a {type(actual).__name__} has no length")
        return len(actual) == int(expected)
    if op in ("is_empty", "not_empty"):
        empty = actual is None or (hasattr(actual, "__len__") and len(actual) == 0)
        return empty if op == "is_empty" else not empty
    if op == "is_true":
        return actual is True
    if op == "is_false":
        return actual is False
    raise ValueError(f"unknown comparison '{op}'")


def compare(actual: Any, op: str, expected: Any = None, *, what: str = "value", ignore_case: bool = False) -> Outcome:
    """Whether ``actual`` meets ``op`` / ``expected``, with the expected-versus-got message.
    ``what`` names the thing checked in the message ("the page title", "the element's text")."""
    if op not in OPERATORS:
        from .errors import did_you_mean

        raise ValueError(f"unknown comparison '{op}'{did_you_mean(op, list(OPERATORS))}")
    phrase, takes_value = OPERATORS[op]
    wanted = f"{what} {phrase}" + (f" {_show(expected)}" if takes_value else "")
    try:
        ok = _holds(actual, op, expected, ignore_case=ignore_case)
    except (TypeError, ValueError, re.error) as exc:
        return Outcome(False, actual, f"expected {wanted}, got {_show(actual)} ({exc})")
    return Outcome(ok, actual, f"expected {wanted}, got {_show(actual)}")


def poll(probe: Callable[[], Any], op: str, expected: Any = None, *, timeout: float = 5.0, interval: float = 0.1,
         what: str = "value", ignore_case: bool = False, cancelled: Callable[[], bool] | None = None) -> Outcome:
    """Ask ``probe()`` until its answer meets the expectation or ``timeout`` seconds pass; the
    outcome of the last answer. A probe that raises (the element is not there yet) counts as a
    miss; its message is the last answer's when the time runs out. The first probe always runs,
    also with a timeout of 0."""
    start = time.monotonic()
    attempts, delay = 0, max(0.01, interval)
    while True:
        attempts += 1
        try:
            outcome = compare(probe(), op, expected, what=what, ignore_case=ignore_case)
        except NodeError:
            raise
        except Exception as exc:  # not there yet: a miss, said in the message if it is the last
            outcome = Outcome(False, None, f"expected {what} {OPERATORS[op][0]}"
                              + (f" {_show(expected)}" if OPERATORS[op][1] else "") + f", but could not read it: {exc}")
        waited = time.monotonic() - start
        outcome.attempts, outcome.waited = attempts, waited
        if outcome.ok or waited >= timeout or (cancelled is not None and cancelled()):
            return outcome
        time.sleep(min(delay, max(0.0, timeout - waited)))
        delay = min(delay * 1.5, 1.0)


def failed(outcome: Outcome, *, timeout: float | None = None, where: str | None = None,
           fix: str | None = None) -> VerifyFailed:
    """The error a verify node raises for a failed outcome ("... after 5.0 s and 12 checks")."""
    tail = f" (checked {outcome.attempts} times over {outcome.waited:.1f} s)" if timeout and outcome.attempts > 1 else ""
    return VerifyFailed(outcome.message + tail, where=where, fix=fix)
