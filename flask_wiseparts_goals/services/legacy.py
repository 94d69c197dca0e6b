"""Migrating legacy team-level activity goals (SPEC §3 "Legacy migration").

Each team that ``goals_legacy_activity_targets`` lists becomes a recurring **monthly** activity
goal in **per-business-day** mode, split by team members, each member's daily target copied
exactly. The goal is created by :func:`~.goals.create_goal`, like one made through the API (same
validation, intervals and business days); the daily targets are then set under
:func:`~.targets.tracked_write`, so the history shows every target with operation
``"migration"``.

**Already migrated.** A migrated goal carries a history row ``field="goal"``,
``new_value="migrated"``, ``operation="migration"`` (no schema change; renaming the goal does not
lose it). A team counts as migrated while that goal, or any recurrence clone descending from it,
is not deleted; so a second run creates nothing, and deleting a migration's whole chain lets the
team be migrated again.

**Transactions.** Each team is written inside its own SAVEPOINT: a team that fails is rolled back
alone, and the other teams of its organization are committed at the end of the organization. A
dry run does the whole work and rolls every team's savepoint back, never releasing one (with
pysqlite, releasing an outermost savepoint commits).

**Authorization.** This is an administrator's job run from the command line, not a user's
request: it acts as ``GOALS_MIGRATION_CREATED_BY`` with :class:`MigrationHooks`, whose
``authorize`` allows any action within the organization being migrated (and nothing outside it),
without asking the host's ``goals_authorize``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..domain.periods import Period, Recurrence, period_containing
from ..domain.rules import MAX_VALUE, Category, GoalMode
from ..exceptions import GoalsError, describe
from ..models import Goal, HistoryEntry
from ..plugins import HostHooks
from ..types import AuthTarget, Identity, LegacyTeamTargets
from .context import Context, ensure_no_pending, today_in
from .goals import create_goal
from .history import record_event
from .targets import tracked_write

#: ``HistoryEntry.operation`` of every row the migration writes (besides create_goal's own).
OPERATION = "migration"
#: The history row that marks a goal as made by the migration: ``field`` and ``new_value``.
MARKER_FIELD = "goal"
MARKER_VALUE = "migrated"
#: Legacy targets were daily *visit* targets: the activity types when the host gives none.
DEFAULT_ACTIVITY_TYPES = ("visit",)
#: The longest month: a daily target must keep its monthly total storable.
_MAX_BUSINESS_DAYS = 31
ZERO = Decimal(0)
CENT = Decimal("0.01")

logger = logging.getLogger("flask_wiseparts_goals.legacy")

#: ``on_progress(done, total)``: ``(0, total)`` once every organization's legacy teams are
#: known, then after each team.
ProgressCallback = Callable[[int, int], None]


class TeamStatus(StrEnum):
    MIGRATED = "migrated"
    ALREADY_MIGRATED = "already migrated"
    #: Bad legacy data (or a goal the rules refuse): nothing written, fix the data and rerun.
    SKIPPED = "skipped"
    #: An unexpected error (database, plugin): the team was rolled back; rerun to retry.
    FAILED = "failed"


@dataclass(frozen=True)
class MemberTarget:
    """One member of a migrated team: the legacy daily target and the month's effective one."""

    user_id: str
    daily_target: Decimal
    target: Decimal


@dataclass(frozen=True)
class TeamResult:
    """What happened to one legacy team (in a dry run: what would happen).

    :param goal_id: the goal created, or the live goal of an earlier migration; ``None`` in a
        dry run or when skipped.
    :param business_days: of the goal's month (``goals_business_days``), when migrated.
    :param members: every member of the goal, in team order (members without a legacy target
        get 0).
    :param reason: why the team was skipped or failed.
    :param notes: what an administrator should know about a migrated team.
    """

    organization_id: str
    team_id: str
    status: TeamStatus
    start_date: date
    end_date: date
    goal_id: int | None = None
    business_days: int | None = None
    members: tuple[MemberTarget, ...] = ()
    reason: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def daily_total(self) -> Decimal:
        return sum((m.daily_target for m in self.members), ZERO)

    @property
    def monthly_total(self) -> Decimal:
        return sum((m.target for m in self.members), ZERO)


@dataclass(frozen=True)
class OrganizationRun:
    """The month and timezone used for one organization.

    :param timezone_source: ``"option"``, ``"goals"`` (the timezone of the organization's
        latest goal) or ``"default"`` (``GOALS_DEFAULT_TIMEZONE``).
    :param error: the organization could not be read (the hook raised); none of it migrated.
    """

    organization_id: str
    timezone: str
    timezone_source: str
    start_date: date
    end_date: date
    teams: int = 0
    error: str | None = None


@dataclass
class MigrationSummary:
    """What one run did, team by team, in the order the hook listed them."""

    dry_run: bool = False
    organizations: list[OrganizationRun] = field(default_factory=list)
    teams: list[TeamResult] = field(default_factory=list)

    def _with(self, status: TeamStatus) -> list[TeamResult]:
        return [team for team in self.teams if team.status is status]

    @property
    def migrated(self) -> list[TeamResult]:
        return self._with(TeamStatus.MIGRATED)

    @property
    def already_migrated(self) -> list[TeamResult]:
        return self._with(TeamStatus.ALREADY_MIGRATED)

    @property
    def skipped(self) -> list[TeamResult]:
        return self._with(TeamStatus.SKIPPED)

    @property
    def failed(self) -> list[TeamResult]:
        return self._with(TeamStatus.FAILED)

    @property
    def members(self) -> int:
        """Members given a goal (would be, in a dry run)."""
        return sum(len(team.members) for team in self.migrated)

    @property
    def ok(self) -> bool:
        """Nothing skipped, nothing failed, every organization read."""
        return not (self.skipped or self.failed or any(o.error for o in self.organizations))

    def as_text(self) -> str:
        verb = "would migrate" if self.dry_run else "migrated"
        text = (
            f"{verb} {len(self.migrated)} team(s) with {self.members} member(s); "
            f"already migrated {len(self.already_migrated)}; skipped {len(self.skipped)}; "
            f"failed {len(self.failed)}"
        )
        if self.teams and not (self.migrated or self.skipped or self.failed):
            text += " — nothing to migrate: every team is already migrated"
        elif not self.teams:
            text += " — no legacy targets found"
        return f"{text} (dry run: nothing written)" if self.dry_run else text


class MigrationHooks(HostHooks):
    """The host's hooks for the migration job: every answer comes from the host, except
    authorization, which the job does not ask for. It allows any action within the caller's
    organization and nothing outside it, so tenancy still holds."""

    def authorize(self, identity: Identity, action: str, target: AuthTarget) -> bool:
        return target.organization_id == identity.organization_id


def migrate_legacy(
    session: Session,
    hooks: HostHooks,
    config: Mapping[str, Any],
    *,
    organization_ids: Iterable[str],
    start_month: date | None,
    dry_run: bool,
    on_progress: ProgressCallback | None = None,
    timezone: str | None = None,
) -> MigrationSummary:
    """Migrate the legacy team-level daily visit targets of these organizations.

    The run owns the session's transactions (a savepoint per team, a commit per organization,
    or rollbacks only in a dry run), so call it with no pending changes.

    :param hooks: the host's hooks; the run uses their plugin manager through
        :class:`MigrationHooks`.
    :param config: the app's config: ``GOALS_MIGRATION_CREATED_BY`` (creator and history
        author), ``GOALS_DEFAULT_TIMEZONE``.
    :param start_month: any day of the goals' month; default: the current month in each
        organization's timezone.
    :param timezone: the organizations' IANA timezone (resolves "the current month" and is
        stored on the goals, so that recurrence clones them at midnight there); default: the
        timezone of the organization's latest goal, else ``GOALS_DEFAULT_TIMEZONE``.
    :raises zoneinfo.ZoneInfoNotFoundError: ``timezone`` is not a known IANA name.
    """
    ensure_no_pending(session, "migrate_legacy (one transaction per organization)")
    if timezone is not None:
        ZoneInfo(timezone)  # an unknown name raises here, before anything is written
    created_by = str(config.get("GOALS_MIGRATION_CREATED_BY") or "system")
    fallback = str(config.get("GOALS_DEFAULT_TIMEZONE") or "UTC")
    system_hooks = MigrationHooks(hooks.pm)
    summary = MigrationSummary(dry_run=dry_run)

    plans: list[tuple[OrganizationRun, list[LegacyTeamTargets]]] = []
    for organization_id in dict.fromkeys(str(o) for o in organization_ids):
        zone, source = _timezone(session, organization_id, timezone, fallback)
        month = period_containing(Recurrence.MONTHLY, start_month or today_in(zone, fallback))
        run = OrganizationRun(organization_id, zone, source, month.start, month.end)
        try:
            teams = [
                replace(team, team_id=str(team.team_id))
                for team in system_hooks.legacy_activity_targets(organization_id)
            ]
        except Exception as error:  # a plugin raising, or returning malformed entries
            session.rollback()
            logger.error(
                "legacy migration: cannot read %s: %s", organization_id, error, exc_info=error
            )
            summary.organizations.append(
                replace(run, error=f"goals_legacy_activity_targets failed: {describe(error)}")
            )
            continue
        run = replace(run, teams=len(teams))
        summary.organizations.append(run)
        plans.append((run, teams))

    total = sum(len(teams) for _, teams in plans)
    done = 0
    if on_progress is not None:
        on_progress(0, total)
    for run, teams in plans:
        ctx = Context(
            session=session,
            hooks=system_hooks,
            identity=Identity(
                user_id=created_by, organization_id=run.organization_id, timezone=run.timezone
            ),
            config=config,
            today=today_in(run.timezone, fallback),
        )
        organization = _OrganizationMigration(
            ctx, Period(run.start_date, run.end_date), teams, dry_run
        )
        for legacy in teams:
            summary.teams.append(organization.migrate(legacy))
            done += 1
            if on_progress is not None:
                on_progress(done, total)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    logger.info("legacy migration: %s", summary.as_text())
    return summary


def _timezone(
    session: Session, organization_id: str, explicit: str | None, fallback: str
) -> tuple[str, str]:
    """The organization's timezone and where it came from. No hook tells it outside a request
    (``goals_identity`` answers for a caller), so the goals the organization made through the
    API, which record it, are the best witness."""
    if explicit:
        return explicit, "option"
    latest = session.scalar(
        sa.select(Goal.timezone)
        .where(Goal.organization_id == organization_id, Goal.deleted_at.is_(None))
        .order_by(Goal.created_at.desc(), Goal.id.desc())
        .limit(1)
    )
    if latest:
        return latest, "goals"
    return fallback, "default"


def migrated_goals(
    session: Session, organization_id: str, team_ids: Sequence[str]
) -> dict[str, int]:
    """Team id → the live goal of its migration: the latest goal not deleted among the goals
    the migration created for the team and their recurrence clones. Teams absent are not
    migrated (or every goal of their migration was deleted). Two queries whatever the number of
    teams."""
    if not team_ids:
        return {}
    roots = session.execute(
        sa.select(Goal.team_id, Goal.id)
        .join(HistoryEntry, HistoryEntry.goal_id == Goal.id)
        .where(
            HistoryEntry.organization_id == organization_id,
            HistoryEntry.operation == OPERATION,
            HistoryEntry.field == MARKER_FIELD,
            HistoryEntry.new_value == MARKER_VALUE,
            Goal.organization_id == organization_id,
            Goal.team_id.in_(list(team_ids)),
        )
        .order_by(Goal.id)
    ).all()
    if not roots:
        return {}
    # Clones keep their team, but a manager may change it: follow the chain over every
    # activity goal of the organization (three narrow columns).
    goals = session.execute(
        sa.select(Goal.id, Goal.source_goal_id, Goal.deleted_at).where(
            Goal.organization_id == organization_id,
            Goal.category == Category.ACTIVITIES.value,
        )
    ).all()
    clone_of = {row.source_goal_id: row.id for row in goals if row.source_goal_id is not None}
    deleted = {row.id for row in goals if row.deleted_at is not None}
    live: dict[str, int] = {}
    for team_id, goal_id in roots:
        current: int | None = goal_id
        while current is not None:
            if current not in deleted:
                live[str(team_id)] = current  # later clones overwrite: the latest wins
            current = clone_of.get(current)
    return live


class _OrganizationMigration:
    """The teams of one organization, one savepoint each."""

    def __init__(
        self, ctx: Context, period: Period, teams: Sequence[LegacyTeamTargets], dry_run: bool
    ) -> None:
        self.ctx = ctx
        self.period = period
        self.dry_run = dry_run
        team_ids = [team.team_id for team in teams]
        self.duplicates = {t for t, n in Counter(team_ids).items() if n > 1}
        self.already = migrated_goals(
            ctx.session, ctx.organization_id, list(dict.fromkeys(team_ids))
        )

    def _result(self, legacy: LegacyTeamTargets, status: TeamStatus, **values: Any) -> TeamResult:
        return TeamResult(
            organization_id=self.ctx.organization_id,
            team_id=legacy.team_id,
            status=status,
            start_date=self.period.start,
            end_date=self.period.end,
            **values,
        )

    def migrate(self, legacy: LegacyTeamTargets) -> TeamResult:
        ctx = self.ctx
        if legacy.team_id in self.duplicates:
            return self._result(
                legacy,
                TeamStatus.SKIPPED,
                reason="listed more than once by goals_legacy_activity_targets",
            )
        if legacy.team_id in self.already:
            return self._result(
                legacy, TeamStatus.ALREADY_MIGRATED, goal_id=self.already[legacy.team_id]
            )
        members = ctx.hooks.team_members(ctx.organization_id, legacy.team_id, self.period.start)
        targets, problems = check_legacy_team(legacy, members, self.period.start)
        if problems:
            return self._result(legacy, TeamStatus.SKIPPED, reason="; ".join(problems))
        assert members is not None
        notes = []
        if without := [user for user in members if user not in targets]:
            notes.append(f"no legacy target, start at 0: {', '.join(without)}")

        savepoint = ctx.session.begin_nested()
        try:
            goal = create_migrated_goal(ctx, legacy, self.period, targets)
            interval = goal.intervals[0]
            result = self._result(
                legacy,
                TeamStatus.MIGRATED,
                goal_id=None if self.dry_run else goal.id,
                business_days=interval.business_days,
                members=tuple(
                    MemberTarget(a.user_id, a.daily_target or ZERO, a.target)
                    for a in interval.allocations
                ),
                notes=tuple(notes),
            )
        except GoalsError as error:  # the goal rules refuse it (e.g. a filter): bad data
            savepoint.rollback()
            return self._result(legacy, TeamStatus.SKIPPED, reason=describe(error))
        except Exception as error:  # the database, a plugin, a bug: this team only
            savepoint.rollback()
            logger.error(
                "legacy migration: team %s of %s failed and was rolled back: %s",
                legacy.team_id,
                ctx.organization_id,
                describe(error),
                exc_info=error,
            )
            return self._result(legacy, TeamStatus.FAILED, reason=describe(error))
        if self.dry_run:
            savepoint.rollback()
        else:
            savepoint.commit()
        return result


def check_legacy_team(
    legacy: LegacyTeamTargets, members: Sequence[str] | None, on: date
) -> tuple[dict[str, Decimal], list[str]]:
    """The team's daily targets as exact decimals, and every reason not to migrate it.

    Refused: an unknown team, a team without members on ``on``, no daily targets, targets
    that are not numbers, negative, with more than 2 decimals or too large to store, and
    targets of users who are not members of the team on ``on``.
    """
    problems: list[str] = []
    if members is None:
        return {}, [f"unknown team (goals_team_members does not know it on {on.isoformat()})"]
    if not members:
        problems.append(f"the team has no members on {on.isoformat()}")
    targets: dict[str, Decimal] = {}
    not_numbers, negative, too_precise, too_large = [], [], [], []
    for user_id, value in legacy.daily_targets.items():
        user_id = str(user_id)
        number = _decimal(value)
        if number is None:
            not_numbers.append(f"{user_id} ({value!r})")
        elif number < 0:
            negative.append(f"{user_id} ({number})")
        elif number * _MAX_BUSINESS_DAYS > MAX_VALUE:
            too_large.append(f"{user_id} ({number})")
        elif number != number.quantize(CENT):
            too_precise.append(f"{user_id} ({number})")
        else:
            targets[user_id] = number
    if not legacy.daily_targets:
        problems.append("no daily targets")
    for label, users in (
        ("daily targets that are not numbers", not_numbers),
        ("negative daily targets", negative),
        ("daily targets with more than 2 decimals", too_precise),
        ("daily targets too large", too_large),
    ):
        if users:
            problems.append(f"{label}: {', '.join(users)}")
    if members:
        strangers = [str(u) for u in legacy.daily_targets if str(u) not in members]
        if strangers:
            problems.append(f"not members of the team on {on.isoformat()}: {', '.join(strangers)}")
    return targets, problems


def _decimal(value: object) -> Decimal | None:
    """An exact decimal, or ``None``. Floats go through their shortest repr (2.3 → 2.3)."""
    if isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def migrated_description(activity_types: Sequence[str]) -> str:
    if tuple(activity_types) == DEFAULT_ACTIVITY_TYPES:
        return "Daily visits (migrated)"
    return "Daily activities (migrated)"


def create_migrated_goal(
    ctx: Context, legacy: LegacyTeamTargets, period: Period, targets: Mapping[str, Decimal]
) -> Goal:
    """The team's goal for ``period``, its marker row, and each member's daily target."""
    types = legacy.activity_types or ()
    if isinstance(types, str):  # one type given as a plain string
        types = (types,)
    activity_types = [str(t) for t in types] or list(DEFAULT_ACTIVITY_TYPES)
    goal = create_goal(
        ctx,
        {
            "category": Category.ACTIVITIES.value,
            "description": migrated_description(activity_types),
            "start_date": period.start,
            "end_date": period.end,
            "split_into_subperiods": False,
            "goal_mode": GoalMode.PER_BUSINESS_DAY.value,
            "team_id": legacy.team_id,
            "split_by_team_members": True,
            "recurrence": Recurrence.MONTHLY.value,
            "filters": {
                "activity_types": activity_types,
                "verified_only": bool(legacy.verified_only),
            },
        },
    )
    record_event(ctx, goal, MARKER_FIELD, None, MARKER_VALUE, OPERATION)
    set_daily_targets(ctx, goal, targets)
    return goal


def set_daily_targets(ctx: Context, goal: Goal, targets: Mapping[str, Decimal]) -> None:
    """Each member's daily target (0 for members without one), recorded as ``"migration"``;
    the effective targets and aims follow from the interval's business days."""
    with tracked_write(ctx, goal, OPERATION):
        for interval in goal.intervals:
            for allocation in interval.allocations:
                allocation.daily_target = targets.get(allocation.user_id, ZERO)
