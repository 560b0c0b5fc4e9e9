"""Installing the service as an operating-system service.

Linux: a systemd unit that runs ``botloom runner serve`` with this installation's Python, the
data folder it was installed for, restarts on failure, and stops with SIGTERM (the service then
shuts down gracefully within its ``service.shutdown_grace``). The service starts its own virtual
display for desktop bots when there is no desktop session, so the unit needs none.

``installer/systemd/botloom-runner.service`` is this template written for ``/srv/botloom``; a
test keeps the two the same. Windows needs an interactive session for desktop bots: see
docs/it-guide.md (a Task Scheduler task "at log on", or a service for headless bots).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

UNIT = """\
# Botloom runner service: schedules, triggers and the local control API for one data folder.
# Written by `botloom runner install-service`; edit BOTLOOM_HOME or the command if you move things.
[Unit]
Description=Botloom runner service ({home})
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
Environment=BOTLOOM_HOME={home}
Environment=PYTHONUNBUFFERED=1
ExecStart={python} -m botloom.runner.cli runner serve
KillSignal=SIGTERM
# the service lets running bots finish for service.shutdown_grace (30 s), then saves them
TimeoutStopSec=90
Restart=on-failure
RestartSec=5
UMask=0077
{user}
[Install]
WantedBy={wanted}
"""


def systemd_unit(home: Path, *, system: bool = False, python: str | None = None, user: str | None = None) -> str:
    user_line = ""
    if system:
        user_line = f"User={user or os.environ.get('SUDO_USER') or os.environ.get('USER') or 'botloom'}\n"
    return UNIT.format(home=home, python=python or sys.executable, user=user_line,
                       wanted="multi-user.target" if system else "default.target")


def write_unit(text: str, *, system: bool = False) -> Path:
    folder = Path("/etc/systemd/system") if system else Path.home() / ".config" / "systemd" / "user"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "botloom-runner.service"
    path.write_text(text, encoding="utf-8")
    return path


__all__ = ["UNIT", "systemd_unit", "write_unit"]
