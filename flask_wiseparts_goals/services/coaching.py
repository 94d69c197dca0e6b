"""Coaching (SPEC §10, docs/coaching.md): a goal's leaderboard, the coaching job (status
changes, milestones, weekly digests) and each person's notification settings.

The figures are tracking's (:mod:`.tracking`); this module ranks them and decides what to tell
whom. The job is exactly once across workers and hosts the way recurrence is: correctness comes
from the database. Every notice is an event with a key that is UNIQUE in
``goals_coaching_notice`` (the change number of a status, the milestone, the Monday of a
digest's week); a runner calls ``goals_notify`` only after its INSERT of that row succeeded, in
the same transaction, and commits each notice alone. A second runner's INSERT of the same event
fails (PostgreSQL makes it wait for the first one's commit), so it sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.figures import Status
from ..domain.rules import Category
from ..exceptions import GoalsHTTPError, ValidationFailed
from ..models import CoachingNotice, Goal, NotificationSetting
from ..plugins import HostHooks
from ..types import AuthTarget, Identity, Notification, NotificationKind
from .context import Context, goal_target, today_in
from .goals import category_enabled
from .readers import Readers
from .tracking import CATEGORY_ORDER, goal_progress, goal_summary, goals_period_progress

logger = logging.getLogger("flask_wiseparts_goals.coaching")


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
        "actuals_reason": progress["actuals_reason"],
        "actuals_note": progress["actuals_note"],
        "actuals_error": progress["actuals_error"],
        "interval_id": period["interval_id"],
        "start_date": period["start_date"],
        "end_date": period["end_date"],
        "members": rank_members(period["members"]),
    }


# --------------------------------------------------------------------------------------------
# Notification settings (``/me/notification-settings``)
# --------------------------------------------------------------------------------------------

#: The kinds a person can turn off, with their default.
SETTING_KINDS = ("status", "milestone", "digest")


def notification_settings(ctx: Context) -> dict[str, Any]:
    """The caller's settings; without a row every kind is on and the timezone unknown."""
    row = ctx.session.get(NotificationSetting, (ctx.organization_id, ctx.identity.user_id))
    if row is None:
        return {**dict.fromkeys(SETTING_KINDS, True), "timezone": None}
    return {**{kind: getattr(row, kind) for kind in SETTING_KINDS}, "timezone": row.timezone}


def update_notification_settings(ctx: Context, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change the given settings of the caller (the others keep their value).

    The timezone the weekly digest's Monday is taken in is the one given; when none was ever
    given it is the caller's own (``Identity.timezone``, which the host supplies), stored now
    so that the job, which has no caller, knows it.
    """
    key = (ctx.organization_id, ctx.identity.user_id)
    row = ctx.session.get(NotificationSetting, key, with_for_update=True)
    if row is None:
        row = NotificationSetting(
            organization_id=key[0],
            user_id=key[1],
            **dict.fromkeys(SETTING_KINDS, True),
            timezone=ctx.identity.timezone,
        )
        ctx.session.add(row)
    for name in (*SETTING_KINDS, "timezone"):
        if name in changes:
            setattr(row, name, changes[name])
    if row.timezone is None:
        row.timezone = ctx.identity.timezone
    ctx.session.flush()
    return notification_settings(ctx)


# --------------------------------------------------------------------------------------------
# Shortfall drivers of the weekly digest
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shortfall:
    """One value of a breakdown dimension whose actual is below the same days of the
    preceding year (§7's breakdown, ``compare=previous_year``)."""

    #: ``brand``, ``customer`` or ``customer_branch``.
    dimension: str
    id: str
    actual: Decimal
    previous: Decimal

    @property
    def difference(self) -> Decimal:
        return self.actual - self.previous

    def as_data(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "id": self.id,
            "actual": self.actual,
            "previous_year": self.previous,
            "difference": self.difference,
        }


#: ``shortfalls(ctx, goal, as_of)``: a goal's shortfalls against the preceding year, in any
#: order; the digest keeps the three largest. The small interface between the digest and the
#: breakdown (tests pass their own).
ShortfallSource = Callable[[Context, Goal, date], Sequence[Shortfall]]

#: The breakdown dimensions the digest looks for drivers in.
DRIVER_DIMENSIONS = ("brand", "customer", "customer_branch")
#: How many drivers a digest entry names.
DRIVER_COUNT = 3


def breakdown_shortfalls(ctx: Context, goal: Goal, as_of: date) -> list[Shortfall]:
    """The goal's values below the same days of the preceding year, from its breakdown over
    the whole range (:func:`.breakdown.goal_breakdown`, ``compare=previous_year``) by brand,
    customer and customer branch: the dimensions the category's source can group by
    (``/meta``'s ``group_by``); a breakdown that fails names no driver (logged)."""
    from .breakdown import goal_breakdown  # the breakdown reads tracking; imported late
    from .capabilities import category_offer

    offered = category_offer(ctx, Category(goal.category)).group_by
    shortfalls: list[Shortfall] = []
    for dimension in DRIVER_DIMENSIONS:
        if dimension not in offered:
            continue
        try:
            body = goal_breakdown(ctx, goal.id, by=dimension, as_of=as_of)
        except GoalsHTTPError as error:
            logger.warning(
                "coaching: no %s breakdown of goal %s: %s", dimension, goal.id, error.description
            )
            continue
        section = body["period"]
        if not section or section["actuals_error"]:
            continue
        shortfalls += [
            Shortfall(dimension, str(row["id"]), row["actual"], row["compare_actual"])
            for row in section["rows"]
            if row["actual"] is not None and row["compare_actual"] is not None
        ]
    return shortfalls


def largest_shortfalls(
    shortfalls: Iterable[Shortfall], count: int = DRIVER_COUNT
) -> list[Shortfall]:
    """The ``count`` largest shortfalls (most negative difference first; ties by dimension
    and id), ignoring values at or above last year's."""
    below = [item for item in shortfalls if item.difference < 0]
    return sorted(below, key=lambda item: (item.difference, item.dimension, item.id))[:count]


# --------------------------------------------------------------------------------------------
# The coaching job
# --------------------------------------------------------------------------------------------

#: ``Notification.kind`` values the job sends.
STATUS, MILESTONE, DIGEST = (
    NotificationKind.STATUS.value,
    NotificationKind.MILESTONE.value,
    NotificationKind.DIGEST.value,
)
#: Achievement percentages that are told once each.
MILESTONES = (50, 90, 100)
#: The statuses a status notice is about; a goal starts on track (nothing is expected yet).
TRACKED_STATUSES = (Status.ON_TRACK.value, Status.BEHIND.value, Status.AT_RISK.value)
INITIAL_STATUS = Status.ON_TRACK.value
SYSTEM_USER_ID = "system"
#: UTC+14 and UTC-12 (POSIX signs are inverted): the latest and earliest "today" anywhere.
_FURTHEST_AHEAD, _FURTHEST_BEHIND = "Etc/GMT-14", "Etc/GMT+12"

#: ``on_progress(done, total)``: ``(0, organizations)`` first, then after each organization.
ProgressCallback = Callable[[int, int], None]

_FIGURES = (
    "target",
    "actual",
    "expected",
    "forecast",
    "achievement_percent",
    "remaining",
    "needed_per_business_day",
    "status",
)


@dataclass
class CoachingSummary:
    """What one run sent (in a dry run: would send; nothing is sent or recorded).

    :param goals: goals looked at.
    :param status: status-change notices delivered.
    :param milestones: milestone notices delivered.
    :param digests: weekly digests delivered.
    :param opted_out: notices recorded but not delivered (the recipient turned the kind off,
        or a higher milestone was reached at the same time).
    :param skipped: notices another runner had recorded meanwhile.
    :param failed: notices (or organizations) that raised: rolled back, retried next run.
    """

    dry_run: bool = False
    goals: int = 0
    status: int = 0
    milestones: int = 0
    digests: int = 0
    opted_out: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def as_text(self) -> str:
        text = (
            f"goals {self.goals}, status changes {self.status}, milestones {self.milestones}, "
            f"digests {self.digests}, not delivered {self.opted_out}, skipped {self.skipped}, "
            f"failed {self.failed}"
        )
        return f"{text} (dry run: nothing sent or recorded)" if self.dry_run else text


@dataclass(frozen=True)
class PlannedNotice:
    """A notice the job decided on: its event key and what to deliver."""

    notification: Notification
    organization_id: str
    scope: str
    key: str
    user_id: str | None = None
    value: str | None = None
    #: ``False``: record the event without delivering it (opted out, superseded milestone).
    deliver: bool = True


class _JobContext(Context):
    """The job reads every goal of an organization on its own behalf: no caller to
    authorize (hosts' ``goals_authorize`` knows no such user)."""

    def allowed(self, action: str, target: AuthTarget) -> bool:
        return action == "read" and target.organization_id == self.organization_id


def run_coaching(
    session: Session,
    hooks: HostHooks,
    *,
    as_of: date | None = None,
    dry_run: bool = False,
    on_progress: ProgressCallback | None = None,
    config: Mapping[str, Any] | None = None,
    shortfalls: ShortfallSource | None = None,
) -> CoachingSummary:
    """Send every coaching notice that is due, exactly once.

    "Today" is each goal's today in its ``timezone`` (the organization's), or ``as_of`` for
    every goal and person. Figures are measured through the day before today (the last
    complete day), on the goals active on that day. A weekly digest goes to a person whose
    today is a Monday in their timezone (notification settings, else the organization's).

    The run owns the session's transactions (each notice commits alone; a dry run rolls
    back), so call it with no pending changes.
    """
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("run_coaching commits per notice: commit or discard pending changes.")
    config = config or {}
    fallback = str(config.get("GOALS_DEFAULT_TIMEZONE") or "UTC")
    latest = (as_of or today_in(_FURTHEST_AHEAD)) - timedelta(days=1)
    earliest = (as_of or today_in(_FURTHEST_BEHIND)) - timedelta(days=1)
    rows = session.execute(
        sa.select(Goal.organization_id, Goal.timezone)
        .where(Goal.deleted_at.is_(None), Goal.start_date <= latest, Goal.end_date >= earliest)
        .distinct()
        .order_by(Goal.organization_id, Goal.timezone)
    ).all()
    session.rollback()
    organizations: dict[str, list[str]] = {}
    for organization_id, timezone in rows:
        organizations.setdefault(organization_id, []).append(timezone)

    summary = CoachingSummary(dry_run=dry_run)
    planner = _Planner(
        session, hooks, config, as_of=as_of, fallback=fallback, shortfalls=shortfalls
    )
    if on_progress is not None:
        on_progress(0, len(organizations))
    for done, (organization_id, timezones) in enumerate(organizations.items(), start=1):
        try:
            notices = planner.plan(organization_id, timezones, summary)
        except Exception as error:  # a plugin, the database, a bug: this organization only
            session.rollback()
            if _missing_table(error):
                raise  # not this organization's: the CLI says "flask goals db upgrade"
            _failed(summary, f"organization {organization_id}", error)
            notices = []
        session.rollback()  # end the reads; every notice is its own transaction
        for notice in notices:
            _send(session, hooks, notice, summary, dry_run=dry_run)
        if on_progress is not None:
            on_progress(done, len(organizations))
    log = logger.warning if summary.failed else logger.info
    log("coaching run: %s", summary.as_text())
    return summary


def _missing_table(error: Exception) -> bool:
    """A goals table is missing (migration 0004 not applied): every organization would fail."""
    original = getattr(error, "orig", None)
    return isinstance(error, sa.exc.DBAPIError) and (
        getattr(original, "sqlstate", None) == "42P01" or "no such table" in str(original)
    )


def _failed(summary: CoachingSummary, what: str, error: Exception) -> None:
    summary.failed += 1
    summary.errors.append(f"{what}: {type(error).__name__}: {error}".splitlines()[0])
    logger.error("coaching: %s failed and is retried on the next run", what, exc_info=error)


def _count(summary: CoachingSummary, notice: PlannedNotice) -> None:
    if not notice.deliver:
        summary.opted_out += 1
    elif notice.notification.kind == STATUS:
        summary.status += 1
    elif notice.notification.kind == MILESTONE:
        summary.milestones += 1
    else:
        summary.digests += 1


def _send(
    session: Session,
    hooks: HostHooks,
    notice: PlannedNotice,
    summary: CoachingSummary,
    *,
    dry_run: bool,
) -> None:
    """Record the event, then deliver it, in one transaction: delivered at most once, and,
    as a failed delivery rolls the record back, retried until it is delivered."""
    if dry_run:
        _count(summary, notice)
        return
    note = notice.notification
    try:
        session.add(
            CoachingNotice(
                organization_id=notice.organization_id,
                kind=note.kind,
                scope=notice.scope,
                key=notice.key,
                goal_id=note.goal_id if notice.scope.startswith("goal:") else None,
                user_id=notice.user_id,
                value=notice.value,
                delivered_to=[note.recipient_id] if notice.deliver else [],
                data=note.as_json()["data"],
            )
        )
        session.flush()  # the UNIQUE event key speaks here, before anything is delivered
        if notice.deliver:
            hooks.notify(notice.organization_id, note)
        session.commit()
    except IntegrityError as error:
        session.rollback()
        if "uq_goals_coaching_notice_event" in str(
            error.orig
        ) or "UNIQUE constraint failed: goals_coaching_notice" in str(error.orig):
            summary.skipped += 1
        else:
            _failed(summary, f"{note.kind} notice {notice.scope}/{notice.key}", error)
        return
    except Exception as error:
        session.rollback()
        _failed(summary, f"{note.kind} notice {notice.scope}/{notice.key}", error)
        return
    _count(summary, notice)


def _figures(figures: Mapping[str, Any]) -> dict[str, Any]:
    return {name: figures.get(name) for name in _FIGURES}


def _goal_data(goal: Goal) -> dict[str, Any]:
    summary = goal_summary(goal)
    return {
        name: summary[name]
        for name in ("id", "category", "description", "metric", "team_id", "start_date", "end_date")
    }


def _words(status: str | None) -> str:
    return (status or "unknown").replace("_", " ")


def _reached(figures: Mapping[str, Any], milestone: int) -> bool:
    target, actual = figures.get("target"), figures.get("actual")
    if target is None or actual is None or target <= 0:
        return False
    return bool(actual * 100 >= target * milestone)


class _Planner:
    """Decides an organization's notices from its goals' figures and what was recorded."""

    def __init__(
        self,
        session: Session,
        hooks: HostHooks,
        config: Mapping[str, Any],
        *,
        as_of: date | None,
        fallback: str,
        shortfalls: ShortfallSource | None,
    ) -> None:
        self.session = session
        self.hooks = hooks
        self.config = config
        self.as_of = as_of
        self.fallback = fallback
        self.shortfalls = shortfalls or breakdown_shortfalls
        self._drivers: dict[int, list[Shortfall]] = {}

    def mondays(self) -> list[str]:
        """The Mondays that are today somewhere (a digest's key), ISO."""
        if self.as_of is not None:
            days = [self.as_of]
        else:
            earliest, latest = today_in(_FURTHEST_BEHIND), today_in(_FURTHEST_AHEAD)
            days = [earliest + timedelta(days=n) for n in range((latest - earliest).days + 1)]
        return [day.isoformat() for day in days if day.weekday() == 0]

    def today(self, timezone: str | None) -> date:
        return self.as_of or today_in(timezone or self.fallback, self.fallback)

    def plan(
        self, organization_id: str, timezones: Sequence[str], summary: CoachingSummary
    ) -> list[PlannedNotice]:
        ctx = _JobContext(
            session=self.session,
            hooks=self.hooks,
            identity=Identity(user_id=SYSTEM_USER_ID, organization_id=organization_id),
            config=self.config,
            today=self.today(timezones[0]),
        )
        categories = [c.value for c in CATEGORY_ORDER if category_enabled(ctx, c)]
        goals: list[Goal] = []
        measured: dict[int, date] = {}
        by_day: dict[date, list[Goal]] = {}
        for timezone in timezones:
            day = self.today(timezone) - timedelta(days=1)
            found = self.session.scalars(
                sa.select(Goal)
                .where(
                    Goal.organization_id == organization_id,
                    Goal.timezone == timezone,
                    Goal.deleted_at.is_(None),
                    Goal.category.in_(categories),
                    Goal.start_date <= day,
                    Goal.end_date >= day,
                )
                .order_by(Goal.id)
            ).all()
            for goal in found:
                measured[goal.id] = day
                by_day.setdefault(day, []).append(goal)
                goals.append(goal)
        summary.goals += len(goals)
        if not goals:
            return []
        progress: dict[int, dict[str, Any]] = {}
        for day, day_goals in by_day.items():
            progress.update(goals_period_progress(ctx, day_goals, as_of=day))

        settings = {
            row.user_id: row
            for row in self.session.scalars(
                sa.select(NotificationSetting).where(
                    NotificationSetting.organization_id == organization_id
                )
            )
        }
        recorded = _Recorded.load(
            self.session, organization_id, [g.id for g in goals], self.mondays()
        )
        plan = _OrganizationPlan(organization_id, settings, recorded)
        readers = Readers(self.hooks, organization_id)
        digests: dict[str, list[tuple[Goal, dict[str, Any]]]] = {}
        for goal in goals:
            figures = progress[goal.id]
            day = measured[goal.id]
            if not figures["actuals_available"] or figures["actual"] is None:
                continue
            target, today = goal_target(goal), self.today(goal.timezone)
            # Only people who may read the goal today are told about it (SPEC §13).
            told = [goal.created_by] if readers.may_read(goal.created_by, target, today) else []
            if told:
                plan.status(goal, day, figures, goal.created_by, None)
                plan.milestones(goal, day, figures, goal.created_by, None)
            members = [
                m
                for m in (figures["members"] if goal.team_id else ())
                if m["counted"] and readers.may_read(m["user_id"], target, today)
            ]
            for member in members:
                if goal.split_by_team_members and member["target"]:
                    plan.status(goal, day, member, member["user_id"], member["user_id"])
                    plan.milestones(goal, day, member, member["user_id"], member["user_id"])
            told += [m["user_id"] for m in members if m["user_id"] != goal.created_by]
            for user_id in told:
                digests.setdefault(user_id, []).append((goal, figures))

        for user_id, entries in digests.items():
            setting = settings.get(user_id)
            timezone = (setting.timezone if setting else None) or entries[0][0].timezone
            today = self.today(timezone)
            if today.weekday() != 0:
                continue
            plan.digest(
                user_id,
                today,
                timezone,
                [
                    self._digest_entry(ctx, goal, measured[goal.id], figures, user_id)
                    for goal, figures in entries
                ],
            )
        return plan.notices

    def _digest_entry(
        self, ctx: Context, goal: Goal, day: date, figures: Mapping[str, Any], user_id: str
    ) -> dict[str, Any]:
        own = next(
            (m for m in figures["members"] if m["user_id"] == user_id and m["counted"]), None
        )
        if goal.id not in self._drivers:  # once per goal, however many people are told
            self._drivers[goal.id] = largest_shortfalls(self.shortfalls(ctx, goal, day))
        drivers = self._drivers[goal.id]
        return {
            "goal": _goal_data(goal),
            "role": "owner" if goal.created_by == user_id else "member",
            "as_of": day,
            **_figures(figures),
            "business_days_remaining": figures["business_days_remaining"],
            "own": None if own is None or not goal.split_by_team_members else _figures(own),
            "shortfalls": [item.as_data() for item in drivers],
        }


@dataclass
class _Recorded:
    """What ``goals_coaching_notice`` already holds for an organization's goals."""

    keys: set[tuple[str, str, str]]
    #: scope → (change number, status) of its latest status notice.
    statuses: dict[str, tuple[int, str]]

    @classmethod
    def load(
        cls,
        session: Session,
        organization_id: str,
        goal_ids: Sequence[int],
        mondays: Sequence[str],
    ) -> _Recorded:
        """The notices of these goals, and the digests of these weeks: one statement."""
        rows = session.execute(
            sa.select(
                CoachingNotice.kind, CoachingNotice.scope, CoachingNotice.key, CoachingNotice.value
            ).where(
                CoachingNotice.organization_id == organization_id,
                sa.or_(
                    CoachingNotice.goal_id.in_(goal_ids),
                    sa.and_(CoachingNotice.kind == DIGEST, CoachingNotice.key.in_(mondays)),
                ),
            )
        ).all()
        keys = {(kind, scope, key) for kind, scope, key, _ in rows}
        statuses: dict[str, tuple[int, str]] = {}
        for kind, scope, key, value in rows:
            if kind == STATUS and int(key) > statuses.get(scope, (0, ""))[0]:
                statuses[scope] = (int(key), value or "")
        return cls(keys, statuses)


class _OrganizationPlan:
    def __init__(
        self,
        organization_id: str,
        settings: Mapping[str, NotificationSetting],
        recorded: _Recorded,
    ) -> None:
        self.organization_id = organization_id
        self.settings = settings
        self.recorded = recorded
        self.notices: list[PlannedNotice] = []

    def wants(self, user_id: str, kind: str) -> bool:
        setting = self.settings.get(user_id)
        return setting is None or bool(getattr(setting, kind))

    def add(self, notification: Notification, scope: str, key: str, **kwargs: Any) -> None:
        deliver = kwargs.pop("deliver", True) and self.wants(
            notification.recipient_id, notification.kind
        )
        self.notices.append(
            PlannedNotice(
                notification=notification,
                organization_id=self.organization_id,
                scope=scope,
                key=key,
                deliver=deliver,
                **kwargs,
            )
        )

    def status(
        self,
        goal: Goal,
        day: date,
        figures: Mapping[str, Any],
        recipient: str,
        member: str | None,
    ) -> None:
        """A notice when the status moved between on track, behind and at risk since the last
        one (a goal starts on track); achieved and unknown statuses change nothing."""
        current = figures.get("status")
        if current not in TRACKED_STATUSES:
            return
        scope = _scope(goal, member)
        number, previous = self.recorded.statuses.get(scope, (0, INITIAL_STATUS))
        if current == previous:
            return
        whose = f'Your progress on "{goal.description}"' if member else f'"{goal.description}"'
        message = (
            f"{whose} is now {_words(current)} (was {_words(previous)}): "
            f"{figures['actual']} against {figures['expected']} expected by {day.isoformat()}."
        )
        note = Notification(
            kind=STATUS,
            recipient_id=recipient,
            goal_id=goal.id,
            message=message,
            data={
                "level": "member" if member else "goal",
                "goal": _goal_data(goal),
                "user_id": member,
                "as_of": day,
                "previous_status": previous,
                "change": number + 1,
                **_figures(figures),
            },
        )
        self.add(note, scope, str(number + 1), user_id=member, value=current)

    def milestones(
        self,
        goal: Goal,
        day: date,
        figures: Mapping[str, Any],
        recipient: str,
        member: str | None,
    ) -> None:
        """One notice per milestone reached, once; when several are reached at once only the
        highest is delivered (the others are recorded)."""
        scope = _scope(goal, member)
        reached = [
            milestone
            for milestone in MILESTONES
            if _reached(figures, milestone)
            and (MILESTONE, scope, str(milestone)) not in self.recorded.keys
        ]
        for milestone in reached:
            whose = f'Your results on "{goal.description}"' if member else f'"{goal.description}"'
            note = Notification(
                kind=MILESTONE,
                recipient_id=recipient,
                goal_id=goal.id,
                message=(
                    f"{whose} reached {milestone} % of the target: "
                    f"{figures['actual']} of {figures['target']} by {day.isoformat()}."
                ),
                data={
                    "level": "member" if member else "goal",
                    "goal": _goal_data(goal),
                    "user_id": member,
                    "as_of": day,
                    "milestone": milestone,
                    **_figures(figures),
                },
            )
            self.add(
                note,
                scope,
                str(milestone),
                user_id=member,
                value=str(milestone),
                deliver=milestone == reached[-1],
            )

    def digest(
        self, user_id: str, monday: date, timezone: str, entries: list[dict[str, Any]]
    ) -> None:
        scope, key = f"user:{user_id}", monday.isoformat()
        if (DIGEST, scope, key) in self.recorded.keys:
            return
        counts: dict[str, int] = {}
        for entry in entries:
            counts[_words(entry["status"])] = counts.get(_words(entry["status"]), 0) + 1
        told = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
        note = Notification(
            kind=DIGEST,
            recipient_id=user_id,
            goal_id=None,
            message=f"Your goals for the week of {key}: {len(entries)} ({told}).",
            data={"week_of": monday, "timezone": timezone, "goals": entries},
        )
        self.add(note, scope, key, user_id=user_id)


def _scope(goal: Goal, member: str | None) -> str:
    return f"goal:{goal.id}" if member is None else f"goal:{goal.id}:member:{member}"
