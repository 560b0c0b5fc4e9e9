"""Schedules managed from outside the service: the CLI's ``botloom schedule ...`` and the
designer's Schedules panel both go through :class:`ScheduleDesk`.

When a service runs on the data folder the desk talks to it through its control API (so its
scheduler knows of a change at once); when none runs it reads and writes the schedule table in
the run store directly, and the service takes the schedules up when it starts (``online`` says
which). Either way the answers have one shape: a schedule's ``to_dict()`` with ``next_fires``
(the next five fire times, ISO 8601; none for a paused schedule or one that does not fire on
time) and ``next_fire`` (the first of them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .schedules import Schedule, ScheduleStore, make_schedule, parse_duration

VERBS = ("pause", "resume", "remove")


def schedule_row(sched: Schedule, count: int = 5) -> dict[str, Any]:
    """A schedule as the list shows it (the API's ``GET /schedules`` shape, offline)."""
    data = sched.to_dict()
    data["next_fires"] = [t.isoformat() for t in sched.next_fire_times(count)] if not sched.paused else []
    data["next_fire"] = data["next_fires"][0] if data["next_fires"] else None
    return data


class ScheduleDesk:
    """The schedules of one data folder, through its running service or its store."""

    def __init__(self, runner, client=None):
        self.runner = runner
        self.client = client

    @classmethod
    def open(cls, runner) -> "ScheduleDesk":
        from .client import Client

        return cls(runner, Client.find(runner.home))

    @property
    def online(self) -> bool:
        """Whether a service runs on the data folder (and so changes take effect at once)."""
        return self.client is not None

    def _store(self) -> ScheduleStore:
        from ..store.db import connect

        return ScheduleStore(connect(self.runner.paths.store))

    def add(self, bot: str | Path, *, cron: str | None = None, timezone: str | None = None,
            every: str | None = None, at: str | None = None, watch: str | None = None, webhook: str | None = None,
            name: str | None = None, inputs: dict | None = None, misfire: str = "once", grace: str | None = None,
            overlap: bool = False, queue: str | None = None, mail: str | None = None,
            mail_secret: str | None = None, mail_move_to: str | None = None) -> dict[str, Any]:
        """Add a schedule; ``every`` and ``grace`` are durations as people write them (``15m``).
        Raises ScheduleError (or the bot's own error) with nothing changed when it cannot be made."""
        bot = str(Path(bot).expanduser().resolve())
        if self.client is not None:
            body = {"bot": bot, "name": name, "cron": cron, "timezone": timezone, "every": every, "at": at,
                    "watch": str(Path(watch).expanduser().resolve()) if watch else None, "webhook": webhook,
                    "inputs": dict(inputs or {}), "misfire": misfire, "grace": grace, "overlap": overlap,
                    "queue": queue, "mail": mail, "mail_secret": mail_secret, "mail_move_to": mail_move_to}
            return self.client.call("POST", "/schedules", {k: v for k, v in body.items() if v is not None})
        sched = make_schedule(bot, cron=cron, timezone_name=timezone, every=parse_duration(every) if every else None,
                              at=at, watch=watch, webhook=webhook, name=name, inputs=inputs, misfire=misfire,
                              grace=parse_duration(grace) if grace else None, overlap=overlap, queue=queue,
                              mail=mail, mail_options={k: v for k, v in (("secret", mail_secret),
                                                                         ("move_to", mail_move_to)) if v})
        self.runner.load_bot(sched.bot)  # refuse a bot that cannot run now, not at its first fire
        store = self._store()
        try:
            store.add(sched)
        finally:
            store.conn.close()
        return schedule_row(sched)

    def list(self) -> list[dict[str, Any]]:
        if self.client is not None:
            return self.client.call("GET", "/schedules")
        store = self._store()
        try:
            return [schedule_row(s) for s in store.all()]
        finally:
            store.conn.close()

    def change(self, ref: str, verb: str) -> dict[str, Any]:
        """``pause``, ``resume`` or ``remove`` the schedule named or numbered ``ref``."""
        if verb not in VERBS:
            raise ValueError(f"unknown schedule change '{verb}'")
        if self.client is not None:
            from urllib.parse import quote

            path = f"/schedules/{quote(ref, safe='')}"
            return self.client.call("DELETE", path) if verb == "remove" else self.client.call("POST", f"{path}/{verb}")
        store = self._store()
        try:
            sched = store.remove(ref) if verb == "remove" else store.set_paused(ref, verb == "pause")
        finally:
            store.conn.close()
        return sched.to_dict()


__all__ = ["ScheduleDesk", "VERBS", "schedule_row"]
