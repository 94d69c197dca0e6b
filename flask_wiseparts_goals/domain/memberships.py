"""Who is counted when: team memberships over time clipped into a measured range (SPEC §7).

Pure functions over :class:`~flask_wiseparts_goals.types.Membership` values; tracking and
proportional distribution by actuals both count members by these rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Protocol

from .periods import Period

ONE_DAY = timedelta(days=1)


class Membership(Protocol):
    """A membership of a team, both dates inclusive (``end`` ``None``: still a member)."""

    @property
    def user_id(self) -> str: ...
    @property
    def start(self) -> date: ...
    @property
    def end(self) -> date | None: ...


def counted_spans(
    memberships: Iterable[Membership], measured: Period
) -> list[tuple[Period, tuple[str, ...]]]:
    """Who is counted when within ``measured``: each member's days of membership clipped into
    it (a member's overlapping or adjacent memberships merged), grouped by span, so members
    with the same span share one query. Spans and members keep team order."""
    ranges: dict[str, list[tuple[date, date]]] = {}
    for membership in memberships:
        start = max(membership.start, measured.start)
        end = measured.end if membership.end is None else min(membership.end, measured.end)
        if start <= end:
            ranges.setdefault(membership.user_id, []).append((start, end))
    spans: dict[Period, list[str]] = {}
    for user_id, user_ranges in ranges.items():
        merged: list[list[date]] = []
        for start, end in sorted(user_ranges):
            if merged and start <= merged[-1][1] + ONE_DAY:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        for start, end in merged:
            spans.setdefault(Period(start, end), []).append(user_id)
    return [(span, tuple(users)) for span, users in spans.items()]


def members_within(memberships: Iterable[Membership], window: Period) -> tuple[str, ...]:
    """The members with a membership overlapping ``window``, in team order."""
    return tuple(
        dict.fromkeys(
            m.user_id
            for m in memberships
            if m.start <= window.end and (m.end is None or m.end >= window.start)
        )
    )
