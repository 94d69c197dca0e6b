"""The host's implementation of every Goals hook, read from the host's own tables.

This is what a WiseParts host writes to mount Goals: the extension knows nothing about users,
teams, sales or calendars; it asks through these hooks. All hooks run inside the app context
and use the host's ``db.session``, so writes (notifications) join the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from flask_wiseparts_goals import (
    AuthTarget,
    Identity,
    LegacyTeamTargets,
    Membership,
    hookimpl,
)
from flask_wiseparts_goals import Notification as GoalsNotification

from .auth import current_user
from .models import (
    ACTIVITY_TYPES,
    Activity,
    Holiday,
    LegacyMemberTarget,
    LegacyTeamSetting,
    Notification,
    Order,
    Organization,
    SalesLine,
    Team,
    TeamMembership,
    TeamWarehouse,
    User,
    db,
)

logger = logging.getLogger("example_app")

#: The demo organizations' money, by country (a real host stores it per organization).
CURRENCIES = {"DE": "EUR", "AT": "EUR", "US": "USD", "GB": "GBP", "CH": "CHF"}

WRITE_ACTIONS = frozenset({"create", "update", "delete", "allocate"})


def organization_today(organization: Organization) -> dt.date:
    """Today in the organization's timezone (memberships change at local midnight)."""
    return dt.datetime.now(ZoneInfo(organization.timezone or "UTC")).date()


def member_on(day: dt.date) -> sa.ColumnElement[bool]:
    """Membership spans are inclusive at both ends; ``left_on`` NULL means still a member."""
    return sa.and_(
        TeamMembership.joined_on <= day,
        sa.or_(TeamMembership.left_on.is_(None), TeamMembership.left_on >= day),
    )


class ExampleHostPlugin:
    """Every hook of ``flask_wiseparts_goals.hookspecs``, answered from the example's tables."""

    # -- who is calling, and what may they do ------------------------------------------------

    @hookimpl
    def goals_identity(self) -> Identity | None:
        """The caller chosen by :mod:`example_app.auth`."""
        user = current_user()
        return None if user is None else self._identity_of(user)

    @hookimpl
    def goals_user_identity(self, organization_id: str, user_id: str) -> Identity:
        """A notice's recipient, as :meth:`goals_identity` would describe them; an unknown
        user or one of another organization gets no roles and no teams (told nothing)."""
        user = db.session.get(User, user_id)
        identity = None if user is None else self._identity_of(user)
        if identity is None or identity.organization_id != organization_id:
            return Identity(user_id=user_id, organization_id=organization_id, team_ids=frozenset())
        return identity

    @staticmethod
    def _identity_of(user: User) -> Identity | None:
        """Teams = member today or leader; roles = the user's role."""
        organization = db.session.get(Organization, user.organization_id)
        if organization is None:
            return None
        today = organization_today(organization)
        member_of = (
            sa.select(TeamMembership.team_id)
            .join(Team, Team.id == TeamMembership.team_id)
            .where(
                TeamMembership.user_id == user.id,
                Team.organization_id == organization.id,
                member_on(today),
            )
        )
        leads = sa.select(Team.id).where(
            Team.leader_id == user.id, Team.organization_id == organization.id
        )
        team_ids = db.session.scalars(sa.union(member_of, leads)).all()
        return Identity(
            user_id=user.id,
            organization_id=organization.id,
            timezone=organization.timezone or "UTC",
            team_ids=frozenset(team_ids),
            roles=frozenset({user.role}),
            currency=CURRENCIES.get(organization.country or ""),
        )

    @hookimpl
    def goals_authorize(self, identity: Identity, action: str, target: AuthTarget) -> bool:
        """Admins: all of their organization. Managers: read all, write their teams' goals.

        Reps read organization-wide goals and those of their teams, and write nothing.
        Organization-wide goals (no team) are written by admins only.
        """
        if target.organization_id != identity.organization_id:
            return False
        if "admin" in identity.roles:
            return True
        if action == "read":
            if "manager" in identity.roles or target.team_id is None:
                return True
            return identity.team_ids is not None and target.team_id in identity.team_ids
        if action not in WRITE_ACTIONS or "manager" not in identity.roles:
            return False
        if target.team_id is None:
            return False
        return self._leads(identity, target.team_id)

    @staticmethod
    def _leads(identity: Identity, team_id: str) -> bool:
        leader_id = db.session.scalar(
            sa.select(Team.leader_id).where(
                Team.id == team_id, Team.organization_id == identity.organization_id
            )
        )
        return leader_id is not None and leader_id == identity.user_id

    @hookimpl
    def goals_feature_enabled(self, organization_id: str, feature: str) -> bool | None:
        """From the organization's feature list; unknown organizations defer to the config."""
        organization = db.session.get(Organization, organization_id)
        if organization is None:
            return None
        return feature in (organization.features or ())

    # -- teams and calendars -------------------------------------------------------------------

    @hookimpl
    def goals_team_members(
        self, organization_id: str, team_id: str, on: dt.date
    ) -> list[str] | None:
        """Members on ``on`` in display order; ``None`` for an unknown or foreign team."""
        team = db.session.get(Team, team_id)
        if team is None or team.organization_id != organization_id:
            return None
        return list(
            db.session.scalars(
                sa.select(TeamMembership.user_id)
                .where(TeamMembership.team_id == team_id, member_on(on))
                .order_by(TeamMembership.position, TeamMembership.user_id)
            ).unique()
        )

    @hookimpl
    def goals_team_memberships(
        self, organization_id: str, team_id: str, start: dt.date, end: dt.date
    ) -> list[Membership] | None:
        """Who belonged to the team from when to when: a member's sales count only for their
        own days (SPEC §7)."""
        team = db.session.get(Team, team_id)
        if team is None or team.organization_id != organization_id:
            return None
        rows = db.session.execute(
            sa.select(TeamMembership.user_id, TeamMembership.joined_on, TeamMembership.left_on)
            .where(
                TeamMembership.team_id == team_id,
                TeamMembership.joined_on <= end,
                sa.or_(TeamMembership.left_on.is_(None), TeamMembership.left_on >= start),
            )
            .order_by(TeamMembership.position, TeamMembership.user_id, TeamMembership.joined_on)
        )
        return [Membership(user_id, joined, left) for user_id, joined, left in rows]

    @hookimpl
    def goals_business_days(
        self, organization_id: str, team_id: str | None, start: dt.date, end: dt.date
    ) -> list[dt.date]:
        """Monday to Friday minus the organization's holidays (no team calendars here)."""
        holidays = set(
            db.session.scalars(
                sa.select(Holiday.date).where(
                    Holiday.organization_id == organization_id,
                    Holiday.date >= start,
                    Holiday.date <= end,
                )
            )
        )
        days = []
        day = start
        while day <= end:
            if day.weekday() < 5 and day not in holidays:
                days.append(day)
            day += dt.timedelta(days=1)
        return days

    # -- metrics: example_app.actuals.source, a SqlMetricSource registered beside this plugin --

    # -- names for the goal UI -----------------------------------------------------------------

    @hookimpl
    def goals_entities(
        self,
        organization_id: str,
        kind: str,
        ids: Sequence[str] | None,
        search: str | None,
        limit: int,
    ) -> list[dict[str, str]] | None:
        """Users and teams by their names; the other ids from the host's sales, orders and
        activities, named after the id (the demo has no brand or customer master data)."""
        names = _entity_names(organization_id, kind, ids)
        if names is None:
            return None
        entities = [{"id": i, "name": n} for i, n in names.items()]
        if search:
            needle = search.casefold()
            entities = [
                e
                for e in entities
                if needle in e["name"].casefold() or needle in e["id"].casefold()
            ]
        return sorted(entities, key=lambda e: e["name"].casefold())[:limit]

    # -- notifications and migration -----------------------------------------------------------

    @hookimpl
    def goals_notify(self, organization_id: str, notification: GoalsNotification) -> None:
        """Store in the host's inbox, in the caller's transaction (kept only if it commits)."""
        db.session.add(
            Notification(
                organization_id=organization_id,
                recipient_id=notification.recipient_id,
                kind=notification.kind,
                goal_id=notification.goal_id,
                message=notification.message,
                data=_json_safe(notification.data),
            )
        )
        db.session.flush()
        logger.info(
            "notification %s for %s in %s: %s",
            notification.kind,
            notification.recipient_id,
            organization_id,
            notification.message,
        )

    @hookimpl
    def goals_legacy_activity_targets(self, organization_id: str) -> list[LegacyTeamTargets]:
        """One entry per team of the organization with legacy settings or member targets."""
        teams = db.session.scalars(
            sa.select(Team.id).where(Team.organization_id == organization_id).order_by(Team.id)
        ).all()
        if not teams:
            return []
        settings = {
            s.team_id: s
            for s in db.session.scalars(
                sa.select(LegacyTeamSetting).where(LegacyTeamSetting.team_id.in_(teams))
            )
        }
        targets: dict[str, dict[str, Decimal]] = {}
        for row in db.session.scalars(
            sa.select(LegacyMemberTarget)
            .where(LegacyMemberTarget.team_id.in_(teams))
            .order_by(LegacyMemberTarget.team_id, LegacyMemberTarget.user_id)
        ):
            targets.setdefault(row.team_id, {})[row.user_id] = Decimal(row.daily_visit_target)
        result = []
        for team_id in teams:
            if team_id not in settings and team_id not in targets:
                continue
            setting = settings.get(team_id)
            result.append(
                LegacyTeamTargets(
                    team_id=team_id,
                    daily_targets=targets.get(team_id, {}),
                    activity_types=tuple(setting.activity_types or ("visit",))
                    if setting
                    else ("visit",),
                    verified_only=bool(setting.verified_only) if setting else False,
                )
            )
        return result


#: Which column of the host's tables holds the ids of each kind of filter.
_ID_COLUMNS = {
    "brand": "brand_id",
    "brand_family": "brand_family_id",
    "customer": "customer_id",
    "customer_branch": "customer_branch_id",
    "wholesaler_branch": "wholesaler_branch_id",
}


def _entity_names(
    organization_id: str, kind: str, ids: Sequence[str] | None
) -> dict[str, str] | None:
    if kind == "user":
        query = sa.select(User.id, User.name).where(User.organization_id == organization_id)
        if ids is not None:
            query = query.where(User.id.in_(ids))
        return {i: n for i, n in db.session.execute(query)}
    if kind == "team":
        query = sa.select(Team.id, Team.name).where(Team.organization_id == organization_id)
        if ids is not None:
            query = query.where(Team.id.in_(ids))
        return {i: n for i, n in db.session.execute(query)}
    if kind == "activity_type":
        return {t: t.replace("_", " ").capitalize() for t in ACTIVITY_TYPES}
    column = _ID_COLUMNS.get(kind)
    if column is None:
        return None
    selects = [
        sa.select(getattr(model, column)).where(model.organization_id == organization_id)
        for model in (SalesLine, Order)
    ]
    if kind in ("customer", "customer_branch"):
        selects.append(
            sa.select(getattr(Activity, column)).where(Activity.organization_id == organization_id)
        )
    if kind == "wholesaler_branch":
        selects.append(
            sa.select(TeamWarehouse.wholesaler_branch_id)
            .join(Team, Team.id == TeamWarehouse.team_id)
            .where(Team.organization_id == organization_id)
        )
    found = {v for v in db.session.scalars(sa.union(*selects)) if v}
    if ids is not None:
        found &= set(ids)
    return {i: _name_from_id(organization_id, i) for i in found}


def _name_from_id(organization_id: str, entity_id: str) -> str:
    """``cust-autohaus-mueller`` → "Autohaus Mueller", ``acme-wh-hamburg`` → "Hamburg"."""
    words = entity_id.split("-")
    org_prefix = organization_id.split("-")[0]
    while words and words[0] in {"brand", "family", "cust", "wh", org_prefix}:
        words = words[1:]
    return " ".join(w.upper() if len(w) <= 2 else w.capitalize() for w in words) or entity_id


def _json_safe(data: Any) -> dict[str, Any]:
    """Notification details as JSON (dates and decimals become strings)."""
    return json.loads(json.dumps(dict(data or {}), default=str))
