"""The executor seam: how one node's code is run, apart from deciding what runs.

The engine (``engine.py``) is the deterministic part of a run: it walks the graph, resolves
parameters, replays recorded steps, journals outcomes and retries. To *execute* a node it asks
a :class:`NodeExecutor`::

    executor.execute(node_type, params, ctx) -> the node's result

The result is what the node function returns (None, a dict of outputs or ``Next(port)``); the
node's exceptions pass through. :class:`InProcessExecutor`, the default, calls the node on the
calling thread. Another executor (a worker process, a Temporal activity) implements the same
call. Nodes that run other nodes (loops, try/catch, retry and call scopes) are control flow:
the engine always runs them itself.

A node's ``timeout`` is the engine's: it covers evaluating the node's parameters and executing
it (:func:`run_with_timeout`). Timeouts end: a timed-out node is told to stop (``ctx.cancelled`` turns true, ``ctx.sleep``
wakes) and given ``grace`` seconds to do so. If it stops, the step fails with a ``timeout``
error that retries and catch blocks handle. If it keeps running, it is *abandoned*: the run
stops at once as failed with an ``abandoned`` error (no catch block, error edge or retry may
carry on while the node's thread may still be acting), the thread is left a daemon so the
process can exit, and the process that ran it should be recycled (the CLI and the designer's
run process exit after the run; a long-lived service runs bots in worker processes).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, Protocol

from ..errors import NodeError, NodeTimeoutError

if TYPE_CHECKING:
    from ..sdk.node import NodeType
    from .context import Context

GRACE_SECONDS = 2.0


class NodeAbandoned(BaseException):
    """A timed-out node did not stop when told to. A BaseException so that nothing inside the run
    (catch blocks, error edges, retries) handles it: the run ends."""

    def __init__(self, error: NodeError):
        super().__init__(error.message)
        self.error = error


class NodeExecutor(Protocol):
    def execute(self, node_type: "NodeType", params: dict, ctx: "Context") -> Any:
        """Run ``node_type``'s code with ``params``; its result, or its exception."""


class InProcessExecutor:
    """Runs nodes in this process, on the calling thread (the default)."""

    def execute(self, node_type: "NodeType", params: dict, ctx: "Context") -> Any:
        return node_type.run(ctx, **params)


def run_with_timeout(work: Callable[[], Any], ctx: "Context", timeout: float, grace: float = GRACE_SECONDS) -> Any:
    """``work()`` on a helper thread with a time limit; see the module's docstring."""
    box: dict = {}
    done = threading.Event()
    cancel = threading.Event()
    engine = ctx._engine
    ctx._cancel = cancel
    engine._node_cancels.add(cancel)

    def target():
        try:
            box["value"] = work()
        except BaseException as exc:  # handed back to the engine's thread
            box["error"] = exc
        finally:
            done.set()

    where = ctx._node.where
    threading.Thread(target=target, name=f"botloom-node-{ctx.node_id}", daemon=True).start()
    try:
        finished = done.wait(timeout)
        if not finished:
            cancel.set()
            if not done.wait(grace):
                raise NodeAbandoned(NodeError(
                    f"did not finish within its timeout of {timeout:g} s and kept running {grace:g} s after it "
                    "was told to stop; the run was stopped so that nothing runs beside it", kind="abandoned",
                    where=where, fix="the process that ran it should be restarted (the command line and the designer "
                                     "do this by themselves); raise the node's timeout or find out why it hangs, "
                                     "then `botloom resume RUN --retry` or `--skip`"))
    finally:
        engine._node_cancels.discard(cancel)
    if not finished:
        if "error" in box and not isinstance(box["error"], Exception):
            raise box["error"]
        raise NodeTimeoutError(f"did not finish within its timeout of {timeout:g} s", where=where,
                               fix="raise the node's timeout setting, or find out why it hangs")
    if "error" in box:
        raise box["error"]
    return box.get("value")


__all__ = ["GRACE_SECONDS", "InProcessExecutor", "NodeAbandoned", "NodeExecutor", "run_with_timeout"]
