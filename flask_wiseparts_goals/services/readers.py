"""Who may read a goal now: the rule every notification obeys (SPEC §13).

A notice (status, milestone, digest, review) tells its recipient a goal's figures, so it goes
only to a person ``goals_authorize`` lets read that goal on the day of the notice: a rep who
left the team is told nothing more about its goals. Jobs run without the recipient's request,
so the recipient's identity comes from ``goals_user_identity``, else from what the extension
knows (membership today, authorship).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa

from ..models import Goal
from ..plugins import HostHooks
from ..types import AuthTarget, Identity
from .context import MAX_ID, Context, goal_target


class Readers:
    """Answers "may this person read this goal on this day?" for one organization, asking the
    host once per person (and once per team and day)."""

    def __init__(self, hooks: HostHooks, organization_id: str) -> None:
        self.hooks = hooks
        self.organization_id = organization_id
        self._identities: dict[str, Identity | None] = {}

    def may_read(self, user_id: str, goal: AuthTarget, on: date) -> bool:
        """:param goal: the goal's :func:`~.context.goal_target`."""
        if goal.organization_id != self.organization_id:
            return False
        identity = self._identity(user_id, goal, on)
        return identity.organization_id == self.organization_id and self.hooks.authorize(
            identity, "read", goal
        )

    def _identity(self, user_id: str, goal: AuthTarget, on: date) -> Identity:
        if user_id not in self._identities:
            self._identities[user_id] = self.hooks.user_identity(self.organization_id, user_id)
        known = self._identities[user_id]
        if known is not None:
            return known
        teams: frozenset[str] = frozenset()
        if goal.team_id is not None and (
            user_id == goal.created_by
            or user_id in (self.hooks.team_members(self.organization_id, goal.team_id, on) or ())
        ):
            teams = frozenset({goal.team_id})
        return Identity(user_id=user_id, organization_id=self.organization_id, team_ids=teams)


def readable_goal_ids(ctx: Context, goal_ids: Iterable[int]) -> set[int]:
    """Of ``goal_ids``, those the caller may read now (one query): a host's inbox shows only
    the notices of these goals, so a notice delivered before the reader left a team stops
    showing that team's figures."""
    wanted = {goal_id for goal_id in goal_ids if 0 < goal_id <= MAX_ID}
    if not wanted:
        return set()
    goals = ctx.session.scalars(
        sa.select(Goal).where(
            Goal.id.in_(wanted),
            Goal.organization_id == ctx.organization_id,
            Goal.deleted_at.is_(None),
        )
    )
    return {goal.id for goal in goals if ctx.allowed("read", goal_target(goal))}
