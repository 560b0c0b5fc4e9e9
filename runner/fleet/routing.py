"""Which task queue a run goes to, and which queues a runner polls.

A capability is a queue (Temporal routes by queue name). A bot needs the capabilities of the
node packs it uses (``desktop``, ``browser``, ``ocr``) plus those its settings name
(``"settings": {"fleet": {"needs": ["gpu"], "pin": "host-7"}}``). A run goes to the queue of
exactly its set of needs, ``botloom/run/browser+ocr`` (``botloom/run/any`` when it needs
nothing), or to the pinned machine's ``botloom/host/NAME``. A runner with labels L polls the
queue of every subset of L, so a bot lands only on a runner that has all it needs. Labels are
capped at :data:`MAX_LABELS` to keep the number of pollers small.

Once a runner has started a run, the run continues on that runner's own queue,
``botloom/worker/IDENTITY`` (its browser sessions and desktop apps live there) until the
runner is gone.
"""

from __future__ import annotations

import re
from itertools import combinations
from typing import Iterable

from . import FleetError

WORKFLOW_QUEUE = "botloom/workflows"
PACK_NEEDS = {"desktop": "desktop", "browser": "browser", "ocr": "ocr"}
MAX_LABELS = 5
_LABEL = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")


def check_labels(labels: Iterable[str], where: str = "--labels") -> list[str]:
    out = sorted({label.strip().lower() for label in labels if label.strip()})
    for label in out:
        if not _LABEL.match(label):
            raise FleetError(f"'{label}' is not a valid label", where=where,
                             fix="use lower-case letters, digits, '-', '_' or '.', e.g. desktop,browser,ocr")
    if len(out) > MAX_LABELS:
        raise FleetError(f"{len(out)} labels given, at most {MAX_LABELS} are supported", where=where,
                         fix="give a runner only the capabilities bots ask for")
    return out


def needs_of(doc) -> tuple[list[str], str | None]:
    """The capabilities a bot needs and the machine it is pinned to (or None)."""
    needs = set()
    for flow in doc.flows().values():
        for spec in flow.nodes.values():
            need = PACK_NEEDS.get(spec.type.split(".", 1)[0])
            if need:
                needs.add(need)
    conf = (doc.settings or {}).get("fleet") or {}
    if not isinstance(conf, dict):
        raise FleetError("settings.fleet must be an object such as {\"needs\": [\"gpu\"], \"pin\": \"host-7\"}",
                         where=doc.label, fix="correct the bot's settings")
    extra = conf.get("needs") or []
    if not isinstance(extra, list) or not all(isinstance(n, str) for n in extra):
        raise FleetError("settings.fleet.needs must be a list of labels", where=doc.label,
                         fix="e.g. \"needs\": [\"gpu\"]")
    needs.update(check_labels(extra, where=f"{doc.label}: settings.fleet.needs"))
    pin = conf.get("pin")
    if pin is not None and (not isinstance(pin, str) or not _LABEL.match(pin.lower())):
        raise FleetError(f"settings.fleet.pin {pin!r} is not a runner name", where=doc.label,
                         fix="give the name a runner was started with (--name)")
    return sorted(needs), (pin.lower() if pin else None)


def run_queue(needs: Iterable[str], pin: str | None = None) -> str:
    if pin:
        return f"botloom/host/{pin}"
    needs = sorted(needs)
    return "botloom/run/" + ("+".join(needs) if needs else "any")


def worker_queue(identity: str) -> str:
    return f"botloom/worker/{identity}"


def polled_queues(labels: Iterable[str], name: str) -> list[str]:
    """The capability queues a runner with these labels serves (its own queue not included)."""
    labels = sorted(labels)
    queues = [run_queue(())]
    for size in range(1, len(labels) + 1):
        queues += [run_queue(combo) for combo in combinations(labels, size)]
    return queues + [run_queue((), pin=name)]


__all__ = ["MAX_LABELS", "WORKFLOW_QUEUE", "check_labels", "needs_of", "polled_queues", "run_queue", "worker_queue"]
