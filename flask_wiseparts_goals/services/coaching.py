"""Coaching (SPEC §10): the leaderboard of a goal.

The figures come from :func:`.tracking.goal_progress` (the same numbers as
``/goals/{id}/progress``); this module only ranks them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from ..exceptions import ValidationFailed
from .context import Context
from .tracking import goal_progress


def _rank_key(member: dict[str, Any]) -> tuple[bool, Decimal, bool, Decimal]:
    """Achievement % first, then actual, both descending; a missing figure ranks below any."""
    percent, actual = member["achievement_percent"], member["actual"]
    return (
        percent is None,
        -(percent or Decimal(0)),
        actual is None,
        -(actual or Decimal(0)),
    )


def rank_members(members: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Members ranked by achievement % (then actual), competition style: equal figures share
    a rank and the next rank skips (1, 1, 3). Members who are not counted (they left the team)
    are listed last with ``rank: null``; their earlier order is kept among equals."""
    counted = sorted((m for m in members if m["counted"]), key=_rank_key)
    ranked: list[dict[str, Any]] = []
    previous: tuple[bool, Decimal, bool, Decimal] | None = None
    rank = 0
    for position, member in enumerate(counted, start=1):
        key = _rank_key(member)
        if key != previous:
            rank, previous = position, key
        ranked.append({**member, "rank": rank})
    ranked += [{**member, "rank": None} for member in members if not member["counted"]]
    return ranked


def leaderboard(
    ctx: Context, goal_id: int, *, as_of: date, interval_id: int | None = None
) -> dict[str, Any]:
    """The members of a goal ranked by achievement % (then actual) over the goal's whole range
    or one of its intervals, with target, actual, forecast and status (SPEC §10).

    Same members and figures as the goal's progress: allocation holders (targets when split
    by members) and the counted members; without a team, the users the metric source
    reported. An ``interval_id`` of another goal is a 422 naming ``interval_id``.
    """
    progress = goal_progress(ctx, goal_id, as_of=as_of)
    period = progress["period"]
    if interval_id is not None:
        matching = [row for row in progress["intervals"] if row["interval_id"] == interval_id]
        if not matching:
            raise ValidationFailed(
                {"interval_id": [f"Goal {goal_id} has no interval {interval_id}."]},
                location="query",
            )
        period = matching[0]
    return {
        "as_of": progress["as_of"],
        "goal": progress["goal"],
        "actuals_available": progress["actuals_available"],
        "actuals_note": progress["actuals_note"],
        "actuals_error": progress["actuals_error"],
        "interval_id": period["interval_id"],
        "start_date": period["start_date"],
        "end_date": period["end_date"],
        "members": rank_members(period["members"]),
    }
