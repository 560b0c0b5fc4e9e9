"""The runtime seams: the Runner object, thread-safe lazy packs, compare-and-set resume,
called bots snapshotted with their run, and one validation path."""

from __future__ import annotations

import threading
import time

from botloom.runner.sdk import NodePack, Output, node
from botloom.runner.sdk.registry import Registry, UnknownNodeType


# ---------------------------------------------------------------- lazy packs and threads

@node("slow.echo", outputs=[Output("text", "string")])
def _slow_echo(ctx):
    return {"text": "echo"}


class _SlowEntryPoint:
    """An entry point whose pack takes a while to import (as a heavy pack does)."""

    def __init__(self, name: str, nodes: list):
        self.name, self.value, self.nodes, self.loads = name, f"tests:{name}", nodes, 0

    def load(self):
        self.loads += 1
        time.sleep(0.2)  # widens the window in which other threads ask for its types
        return NodePack(self.name, "1.0", self.nodes)


def test_threads_asking_for_a_pack_that_is_still_loading_never_see_an_unknown_type():
    reg = Registry()
    slow, other = _SlowEntryPoint("slow", [_slow_echo]), _SlowEntryPoint("other", [])
    reg._pending = {"other": other, "slow": slow}  # what discover(lazy=True) leaves: nothing imported yet
    barrier = threading.Barrier(16)
    found, failures = [], []

    def ask():
        barrier.wait()
        try:
            found.append(reg.get("slow.echo"))
        except UnknownNodeType as exc:
            failures.append(exc.message)

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert found == [_slow_echo] * 16
    assert slow.loads == 1 and other.loads == 0  # the pack was imported once; the other not at all
