"""Fleet mode: runners on several machines share the work through Temporal.

A bot run is a Temporal workflow (:mod:`.workflow`) that decides and records; the steps run on
a runner that polls the task queue of the capabilities the bot needs (:mod:`.routing`), in an
activity that heartbeats (:mod:`.activities`). Each step's outcome reaches the workflow's
history before the run goes on, so a runner that dies loses nothing: the workflow moves the
run to another runner, which rebuilds the run in its own store from that history and resumes
it (completed steps are replayed, not repeated). See docs/fleet.md.

Temporal is an optional extra: ``pip install 'botloom[fleet]'``; :func:`require` says so
politely when it is missing.
"""

from __future__ import annotations

from ..errors import BotloomError


class FleetError(BotloomError):
    """Fleet mode cannot do what was asked (no Temporal SDK, no server, an unknown run)."""


def require() -> None:
    """Refuse politely when the Temporal SDK is not installed."""
    try:
        import temporalio  # noqa: F401
    except ImportError:
        raise FleetError("fleet mode needs the Temporal SDK, which is not installed",
                         fix="pip install 'botloom[fleet]'") from None


__all__ = ["FleetError", "require"]
