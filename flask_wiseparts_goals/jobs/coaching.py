"""The coaching job (SPEC §10, docs/coaching.md): status changes, milestones and weekly
digests, each sent exactly once through ``goals_notify``.

What is due: every organization with goals active yesterday somewhere; for each one the job
reads its goals' figures and what was sent already, and decides the notices (a follow-up item
each). What to do with a notice, in a transaction of its own: claim its event, whose key is
UNIQUE in ``goals_coaching_notice`` (the change number of a status, the milestone, the Monday of
a digest's week), with :func:`~.runtime.insert_once`, then deliver it. A second runner's insert
of the same event inserts nothing (PostgreSQL makes it wait for the first one's commit), so it
sends nothing; a failed delivery rolls the record back and is retried by the next run. The rest
(chunks, retrying one alone, counting failures) is :mod:`.runtime`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..domain.figures import Status
from ..models import CoachingNotice, Goal, NotificationSetting
from ..services.coaching import Shortfall, ShortfallSource, breakdown_shortfalls, largest_shortfalls
from ..services.context import Context, goal_target
from ..services.goals import category_enabled
from ..services.readers import Readers
from ..services.tracking import CATEGORY_ORDER, goal_summary, goals_period_progress
from ..types import AuthTarget, Notification, NotificationKind
from .runtime import Job, Summary, earliest_today, insert_once, latest_today

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


_NOTICE = cast(sa.Table, CoachingNotice.__table__)


@dataclass
class CoachingSummary(Summary):
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

    goals: int = 0
    status: int = 0
    milestones: int = 0
    digests: int = 0
    opted_out: int = 0

    COUNTS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("goals", "goals"),
        ("status", "status changes"),
        ("milestones", "milestones"),
        ("digests", "digests"),
        ("opted_out", "not delivered"),
        ("skipped", "skipped"),
        ("failed", "failed"),
    )
    DRY_RUN_NOTE: ClassVar[str] = "dry run: nothing sent or recorded"


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


@dataclass(frozen=True)
class _Organization:
    """An organization with goals active yesterday, and the timezones of those goals."""

    id: str
    timezones: tuple[str, ...]


class CoachingJob(Job["_Organization | PlannedNotice", CoachingSummary]):
    """Send every coaching notice that is due, exactly once. Items: the organizations, then
    (follow-ups) each one's notices, one per transaction.

    "Today" is each goal's today in its ``timezone`` (the organization's), or ``as_of`` for
    every goal and person. Figures are measured through the day before today (the last
    complete day), on the goals active on that day. A weekly digest goes to a person whose
    today is a Monday in their timezone (notification settings, else the organization's).

    :param shortfalls: where a digest's drivers come from (default: the breakdown).
    """

    name = "coaching"
    chunk_size = 1

    def __init__(self, *args: Any, shortfalls: ShortfallSource | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.planner = _Planner(self, shortfalls)

    def new_summary(self) -> CoachingSummary:
        return CoachingSummary(dry_run=self.dry_run)

    def label(self, item: _Organization | PlannedNotice) -> str:
        if isinstance(item, PlannedNotice):
            return f"{item.notification.kind} notice {item.scope}/{item.key}"
        return f"organization {item.id}"

    def due(self) -> list[_Organization]:
        """Organizations with goals active on the day before today somewhere (figures are
        measured through the last complete day)."""
        latest = latest_today(self.as_of) - timedelta(days=1)
        earliest = earliest_today(self.as_of) - timedelta(days=1)
        rows = self.session.execute(
            sa.select(Goal.organization_id, Goal.timezone)
            .where(Goal.deleted_at.is_(None), Goal.start_date <= latest, Goal.end_date >= earliest)
            .distinct()
            .order_by(Goal.organization_id, Goal.timezone)
        ).all()
        organizations: dict[str, list[str]] = {}
        for organization_id, timezone in rows:
            organizations.setdefault(organization_id, []).append(timezone)
        return [_Organization(key, tuple(zones)) for key, zones in organizations.items()]

    def step(
        self, batch: Sequence[_Organization | PlannedNotice], done: CoachingSummary
    ) -> list[_Organization | PlannedNotice]:
        (item,) = batch
        if isinstance(item, _Organization):
            notices = self.planner.plan(item.id, item.timezones, done)
            self.session.rollback()  # end the reads: every notice is its own transaction
            return list(notices)
        self._send(item, done)
        return []

    def _send(self, notice: PlannedNotice, done: CoachingSummary) -> None:
        """Record the event, then deliver it, in one transaction: delivered at most once, and,
        as a failed delivery rolls the record back, retried until it is delivered."""
        if not self.dry_run:
            note = notice.notification
            insert_once(
                self.session,
                _NOTICE,
                {
                    "organization_id": notice.organization_id,
                    "kind": note.kind,
                    "scope": notice.scope,
                    "key": notice.key,
                    "goal_id": note.goal_id if notice.scope.startswith("goal:") else None,
                    "user_id": notice.user_id,
                    "value": notice.value,
                    "delivered_to": [note.recipient_id] if notice.deliver else [],
                    "data": note.as_json()["data"],
                },
            )
            if notice.deliver:
                self.hooks.notify(notice.organization_id, note)
        if not notice.deliver:
            done.opted_out += 1
        elif notice.notification.kind == STATUS:
            done.status += 1
        elif notice.notification.kind == MILESTONE:
            done.milestones += 1
        else:
            done.digests += 1


#: ``run_coaching(session, hooks, *, as_of=None, dry_run=False, on_progress=None,
#: config=None, shortfalls=None)``: one run of :class:`CoachingJob`.
run_coaching = CoachingJob.run_on


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

    def __init__(self, job: CoachingJob, shortfalls: ShortfallSource | None) -> None:
        self.job = job
        self.session = job.session
        self.hooks = job.hooks
        self.config = job.config
        self.as_of = job.as_of
        self.today = job.today
        self.shortfalls = shortfalls or breakdown_shortfalls
        self._drivers: dict[int, list[Shortfall]] = {}

    def mondays(self) -> list[str]:
        """The Mondays that are today somewhere (a digest's key), ISO."""
        if self.as_of is not None:
            days = [self.as_of]
        else:
            earliest, latest = earliest_today(None), latest_today(None)
            days = [earliest + timedelta(days=n) for n in range((latest - earliest).days + 1)]
        return [day.isoformat() for day in days if day.weekday() == 0]

    def plan(
        self, organization_id: str, timezones: Sequence[str], summary: CoachingSummary
    ) -> list[PlannedNotice]:
        ctx = self.job.context(organization_id, self.today(timezones[0]), kind=_JobContext)
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
