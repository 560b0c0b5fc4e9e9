"""Cost and return per bot: what the robot cost, what doing the work by hand would have cost.

Four settings (``botloom config roi.manual_minutes 6``), each overridable per bot in the bot
file's ``settings.roi`` block (``{"roi": {"manual_minutes": 12, "items_output": "rows"}}``)::

    roi.manual_minutes        minutes a person takes for one item by hand
    roi.hourly_cost           what an hour of that person's time costs
    roi.robot_cost_per_hour   what an hour of robot time costs (licence, machine share)
    roi.review_cost           what one human intervention costs (a review, an answered signal)

For a bot over a period, with ``items`` handled by its succeeded runs, ``robot_hours`` of robot
time (run spans less their waits) and ``interventions`` (items a person handled)::

    hours_saved       = items * manual_minutes / 60
    manual_cost       = hours_saved * hourly_cost
    robot_cost        = robot_hours * robot_cost_per_hour
    review_cost       = interventions * review_cost
    cost              = robot_cost + review_cost
    cost_per_item     = cost / items                      (None without items)
    net_saving        = manual_cost - cost

Hours saved count the manual time avoided; the time people spent on interventions is in their
cost (``review_cost``), not subtracted from the hours, so a figure never depends on a guess of
how long a review takes. Costs carry no currency: they are in whatever unit the settings use.
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError

KEYS = ("manual_minutes", "hourly_cost", "robot_cost_per_hour", "review_cost")


def rates(settings: dict[str, Any], bot_settings: dict[str, Any] | None = None, *, bot: str = "") -> dict[str, float]:
    """The four rates for a bot: the data folder's ``roi.*`` settings under the bot's ``settings.roi``."""
    out = {key: float(settings.get(f"roi.{key}") or 0.0) for key in KEYS}
    block = (bot_settings or {}).get("roi") or {}
    if not isinstance(block, dict):
        raise InputError(f"the settings.roi block of bot '{bot}' is not an object", where=bot,
                         fix='write e.g. "roi": {"manual_minutes": 6, "hourly_cost": 40}')
    for key in KEYS:
        if key in block:
            value = block[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise InputError(f"settings.roi.{key} of bot '{bot}' is {value!r}, not a number of 0 or more",
                                 where=bot, fix=f'write e.g. "roi": {{"{key}": 5}} in the bot\'s settings')
            out[key] = float(value)
    return out


def roi(items: int, robot_seconds: float, interventions: int, rate: dict[str, float]) -> dict[str, Any]:
    hours_saved = items * rate["manual_minutes"] / 60
    manual_cost = hours_saved * rate["hourly_cost"]
    robot_hours = robot_seconds / 3600
    robot_cost = robot_hours * rate["robot_cost_per_hour"]
    review_cost = interventions * rate["review_cost"]
    cost = robot_cost + review_cost
    return {"items": items, "robot_hours": robot_hours, "interventions": interventions, "rates": rate,
            "hours_saved": hours_saved, "manual_cost": manual_cost, "robot_cost": robot_cost,
            "review_cost": review_cost, "cost": cost, "cost_per_item": cost / items if items else None,
            "net_saving": manual_cost - cost}


def add_roi(figures, settings: dict[str, Any]) -> None:
    """Put ``roi`` into each bot of ``figures`` (a :class:`~.figures.Figures`) and into each
    bucket of its series (net saving per period)."""
    for bot, entry in figures.bots.items():
        rate = rates(settings, entry.get("settings"), bot=bot)
        people = entry.get("people") or {}
        entry["roi"] = roi(entry["items"], entry["robot_seconds"], people.get("interventions") or 0, rate)
        by_review = people.get("source") == "review"
        for row in figures.series:  # the same, bucket by bucket (the interventions as the totals count them)
            if row["bot"] == bot:
                row["roi"] = roi(row["items"], row["robot_seconds"], row["handled" if by_review else "helped"], rate)


__all__ = ["KEYS", "add_roi", "rates", "roi"]
