"""`botloom doctor`: what this machine can run.

Each node pack contributes checks through the ``botloom.doctor`` entry-point group (a
``checks()`` function returning a list of :class:`Check`): a display for desktop nodes, a
browser for web nodes, OCR engines, ONNX Runtime providers. A pack whose checks cannot load
shows as one failed check, with the reason.
"""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import asdict, dataclass


@dataclass
class Check:
    """One line of the report. ``ok`` None means "not applicable / optional and absent"."""

    area: str
    name: str
    ok: bool | None
    detail: str = ""
    fix: str = ""


def gather() -> list[Check]:
    from importlib.metadata import entry_points

    from . import __version__

    found = [Check("botloom", "version", True, f"botloom {__version__}, Python {platform.python_version()} "
                                               f"on {platform.system()} {platform.machine()}")]
    from .secrets import doctor_checks

    found += doctor_checks()  # the secret backend in use, the audit trail's integrity
    for ep in sorted(entry_points(group="botloom.doctor"), key=lambda e: e.name):
        try:
            found += list(ep.load()())
        except Exception as exc:  # noqa: BLE001 - one broken pack must not hide the others
            found.append(Check(ep.name, "checks", False, f"could not run ({ep.value}): {type(exc).__name__}: {exc}",
                               f"reinstall the extra: pip install 'botloom[{ep.name}]'"))
    return found


def register(sub) -> None:
    d = sub.add_parser("doctor", help="report what this machine can run: display, browsers, OCR engines, "
                                      "ONNX Runtime providers")
    d.add_argument("--json", action="store_true", help="print the checks as JSON")
    d.set_defaults(func=cmd_doctor)


def cmd_doctor(args) -> int:
    checks = gather()
    if args.json:
        print(json.dumps([asdict(c) for c in checks], indent=2))
    else:
        mark = {True: "ok  ", False: "FAIL", None: "--  "}
        for c in checks:
            print(f"{mark[c.ok]} {c.area:<8} {c.name:<22} {c.detail}")
            if c.fix and c.ok is not True:
                print(f"{'':14}{'':22} fix: {c.fix}")
    sys.stdout.flush()
    return 1 if any(c.ok is False for c in checks) else 0
