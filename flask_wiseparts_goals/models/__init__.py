"""The ``goals_*`` tables.

They live in their own ``MetaData`` (``Base.metadata``) but are queried through the host's
Flask-SQLAlchemy session and engine, so goal writes join the host's transaction. The host's
``db.create_all()`` does not see them: use ``flask goals db upgrade`` (Alembic) in production,
``Goals.create_all()`` in tests and demos.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ..domain.periods import local_date
from ..domain.rules import Category, GoalMode, places

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ExactDecimal(sa.TypeDecorator[Decimal]):
    """NUMERIC(18, 2) where the database has it; fixed-point text on SQLite.

    SQLite's NUMERIC affinity turns "9999999999999999.99" into a binary float and loses the
    cents, so on SQLite amounts are stored as zero-padded text (which also sorts correctly
    for the non-negative amounts stored here). Every value comes back as an exact ``Decimal``.
    """

    impl = sa.Numeric(18, 2, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(24))
        return dialect.type_descriptor(sa.Numeric(18, 2, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return format(Decimal(value).quantize(_CENT), "020f")

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).quantize(_CENT)


_CENT = Decimal("0.01")
#: Every stored amount: 16 integer digits, 2 decimals, exact.
Amount = ExactDecimal()
#: Opaque ids supplied by the host (users, teams, organizations).
HostId = sa.String(64)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite drops the offset)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class Goal(Base):
    __tablename__ = "goals_goal"
    __table_args__ = (
        sa.Index("ix_goals_goal_active", "organization_id", "team_id", "start_date", "end_date"),
        # The recurrence job's "which recurring goals are due" scan.
        sa.Index("ix_goals_goal_recurring", "recurrence", "end_date"),
        sa.CheckConstraint("start_date <= end_date", name="date_order"),
        # At most one clone per goal: recurrence is exactly-once by construction.
        sa.UniqueConstraint("source_goal_id", name="uq_goals_goal_source_goal_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[str] = mapped_column(HostId)
    category: Mapped[str] = mapped_column(sa.String(16))
    description: Mapped[str] = mapped_column(sa.String(200))
    metric: Mapped[str] = mapped_column(sa.String(16))
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date] = mapped_column(sa.Date)
    aim: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    stretch_aim: Mapped[Decimal | None] = mapped_column(Amount)
    team_id: Mapped[str | None] = mapped_column(HostId)
    split_into_subperiods: Mapped[bool] = mapped_column(default=False)
    split_by_team_members: Mapped[bool] = mapped_column(default=False)
    goal_mode: Mapped[str | None] = mapped_column(sa.String(24))
    filters: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    recurrence: Mapped[str | None] = mapped_column(sa.String(16))
    recurring_until: Mapped[date | None] = mapped_column(sa.Date)
    source_goal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("goals_goal.id"))
    #: The organization's timezone when the goal was created: recurrence resolves "today" in it.
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    created_by: Mapped[str] = mapped_column(HostId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_by: Mapped[str | None] = mapped_column(HostId)
    #: Bumped by every write to the goal, its intervals or allocations, in the UPDATE's WHERE
    #: clause (compare-and-set): two writers holding the same ETag cannot both win, on any
    #: database (SQLite has no ``SELECT ... FOR UPDATE``).
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    # -- planning (SPEC §11) -------------------------------------------------------------
    #: ``none``, ``next_interval`` or ``spread_remaining``: what happens to an ended
    #: interval's shortfall (the planning job, :mod:`.services.planning`).
    shortfall_policy: Mapped[str] = mapped_column(
        sa.String(16), default="none", server_default="none"
    )

    intervals: Mapped[list[Interval]] = relationship(
        back_populates="goal",
        order_by="Interval.start_date",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def places(self) -> int:
        """Decimal places shown for aims: per-day activity targets may carry cents."""
        if self.goal_mode == GoalMode.PER_BUSINESS_DAY:
            return 2
        return places(self.metric)

    @property
    def created_on(self) -> date:
        """The day the goal was created, in its timezone; ``date.max`` while it is being
        created (not stored yet)."""
        if self.created_at is None:
            return date.max
        return local_date(self.created_at, self.timezone or "UTC")

    @property
    def is_activity(self) -> bool:
        return self.category == Category.ACTIVITIES

    @property
    def intervals_total(self) -> Decimal:
        """Σ of the interval aims (SPEC §14 "Totals the manager can trust")."""
        return sum((interval.aim for interval in self.intervals), Decimal(0))

    @property
    def unassigned(self) -> Decimal:
        """The goal aim not given to any interval: aim − :attr:`intervals_total` (negative
        never after a confirmed write; 0 for activity goals, whose aim is that sum)."""
        return self.aim - self.intervals_total

    @property
    def daily_target(self) -> Decimal | None:
        """Per-day mode: the daily target shared by every member (split by members) or every
        interval, as entered at creation; ``None`` once they differ or in other modes."""
        if self.goal_mode != GoalMode.PER_BUSINESS_DAY:
            return None
        if self.split_by_team_members:
            values = {a.daily_target for i in self.intervals for a in i.allocations}
        else:
            values = {interval.daily_target for interval in self.intervals}
        return values.pop() if len(values) == 1 else None

    def __repr__(self) -> str:
        return f"<Goal {self.id} {self.category} {self.start_date}..{self.end_date}>"


class Interval(Base):
    __tablename__ = "goals_interval"
    __table_args__ = (
        sa.Index("ix_goals_interval_goal_dates", "goal_id", "start_date", "end_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(sa.ForeignKey("goals_goal.id", ondelete="CASCADE"))
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date] = mapped_column(sa.Date)
    #: Business days in the interval when it was built (``goals_business_days``).
    business_days: Mapped[int] = mapped_column(default=0)
    #: The interval's (effective) aim. For activities: sum of members' targets, or daily × days.
    aim: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    #: Per-business-day mode: the team's daily target (sum of members' daily targets when split).
    daily_target: Mapped[Decimal | None] = mapped_column(Amount)

    # -- planning (SPEC §11) -------------------------------------------------------------
    #: The aim the interval had when it started; ``None`` until then (see
    #: :func:`freeze_originals`).
    original_aim: Mapped[Decimal | None] = mapped_column(Amount)
    #: When the planning job settled this interval's shortfall (carried it forward, or found
    #: none); set at most once, by a compare-and-set UPDATE: the exactly-once guarantee.
    shortfall_settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    goal: Mapped[Goal] = relationship(back_populates="intervals")
    allocations: Mapped[list[Allocation]] = relationship(
        back_populates="interval",
        order_by="Allocation.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def places(self) -> int:
        return self.goal.places

    @property
    def original_or_current_aim(self) -> Decimal:
        """What responses show as ``original_aim``: the frozen aim, or (not started yet, or
        started without any change since) the current one."""
        return self.aim if self.original_aim is None else self.original_aim

    @property
    def allocated(self) -> Decimal | None:
        """The members' targets summed; ``None`` when the goal is not split by members."""
        if not self.goal.split_by_team_members:
            return None
        return sum((allocation.target for allocation in self.allocations), Decimal(0))

    @property
    def unallocated(self) -> Decimal | None:
        allocated = self.allocated
        return None if allocated is None else self.aim - allocated


class Allocation(Base):
    """A member's target within an interval."""

    __tablename__ = "goals_allocation"
    __table_args__ = (
        sa.UniqueConstraint("interval_id", "user_id", name="uq_goals_allocation_interval_user"),
        sa.Index("ix_goals_allocation_goal_user", "goal_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(sa.ForeignKey("goals_goal.id", ondelete="CASCADE"))
    interval_id: Mapped[int] = mapped_column(sa.ForeignKey("goals_interval.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(HostId)
    #: Team order when the allocation was made.
    position: Mapped[int] = mapped_column(default=0)
    #: The effective target (per-day mode: daily target × the interval's business days).
    target: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    daily_target: Mapped[Decimal | None] = mapped_column(Amount)

    # -- planning (SPEC §11) -------------------------------------------------------------
    #: The target the member had when the interval started; ``None`` until then.
    original_target: Mapped[Decimal | None] = mapped_column(Amount)
    #: Business days of this member in the interval when the host answers
    #: ``goals_business_days`` per member (absences, part-time); ``None``: the interval's.
    business_days: Mapped[int | None] = mapped_column()

    interval: Mapped[Interval] = relationship(back_populates="allocations")
    goal: Mapped[Goal] = relationship()

    @property
    def effective_target(self) -> Decimal:
        return self.target

    @property
    def original_or_current_target(self) -> Decimal:
        """What responses show as ``original_target`` (see ``Interval.original_or_current_aim``)."""
        return self.target if self.original_target is None else self.original_target

    @property
    def places(self) -> int:
        return self.goal.places


class HistoryEntry(Base):
    """One change of an aim, a target, a daily target or an allocation (or a goal's lifecycle)."""

    __tablename__ = "goals_history"
    __table_args__ = (sa.Index("ix_goals_history_goal", "goal_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[str] = mapped_column(HostId)
    goal_id: Mapped[int] = mapped_column(sa.ForeignKey("goals_goal.id", ondelete="CASCADE"))
    interval_id: Mapped[int | None] = mapped_column(sa.Integer)
    user_id: Mapped[str | None] = mapped_column(HostId)
    #: ``aim``, ``stretch_aim``, ``target``, ``daily_target``, ``recurrence``, ``goal``...
    field: Mapped[str] = mapped_column(sa.String(32))
    old_value: Mapped[str | None] = mapped_column(sa.String(64))
    new_value: Mapped[str | None] = mapped_column(sa.String(64))
    #: ``create``, ``manual``, ``distribute``, ``copy``, ``cascade``, ``rebuild``,
    #: ``recurrence``, ``delete``, ``migration``.
    operation: Mapped[str] = mapped_column(sa.String(16))
    changed_by: Mapped[str] = mapped_column(HostId)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Interval bounds at the time of the change, so entries stay readable after a rebuild.
    interval_start: Mapped[date | None] = mapped_column(sa.Date)
    interval_end: Mapped[date | None] = mapped_column(sa.Date)


# -- Coaching (SPEC §10, docs/coaching.md) ------------------------------------------------------


class CoachingNotice(Base):
    """A coaching notice that was sent (or decided on for someone who opted out): the record
    that makes the coaching job exactly once.

    One row per event, whatever the number of runners: ``(organization_id, kind, scope, key)``
    is UNIQUE, and a runner delivers a notice only after its INSERT of that row succeeded, in
    the same transaction. ``scope`` says whose figures the event is about (``goal:<id>``,
    ``goal:<id>:member:<user id>``, ``user:<user id>`` for a digest); ``key`` tells the events
    of a scope apart: the change number of a status (1, 2, ...), the milestone (``50``, ``90``,
    ``100``), the Monday of a digest's week.
    """

    __tablename__ = "goals_coaching_notice"
    __table_args__ = (
        sa.UniqueConstraint(
            "organization_id", "kind", "scope", "key", name="uq_goals_coaching_notice_event"
        ),
        sa.Index("ix_goals_coaching_notice_goal", "goal_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[str] = mapped_column(HostId)
    #: ``status``, ``milestone`` or ``digest``.
    kind: Mapped[str] = mapped_column(sa.String(16))
    scope: Mapped[str] = mapped_column(sa.String(100))
    key: Mapped[str] = mapped_column(sa.String(32))
    goal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("goals_goal.id", ondelete="CASCADE"))
    #: The member (member-level notices) or the person (digest).
    user_id: Mapped[str | None] = mapped_column(HostId)
    #: The status a status notice moved to.
    value: Mapped[str | None] = mapped_column(sa.String(16))
    #: Whom ``goals_notify`` was called for (empty when the recipient opted out).
    delivered_to: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NotificationSetting(Base):
    """A person's coaching preferences (``/me/notification-settings``); no row: everything on,
    timezone unknown."""

    __tablename__ = "goals_notification_setting"

    organization_id: Mapped[str] = mapped_column(HostId, primary_key=True)
    user_id: Mapped[str] = mapped_column(HostId, primary_key=True)
    status: Mapped[bool] = mapped_column(default=True)
    milestone: Mapped[bool] = mapped_column(default=True)
    digest: Mapped[bool] = mapped_column(default=True)
    #: IANA name the weekly digest's Monday is taken in; ``None``: the goal's organization's.
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def freeze_originals(intervals: Iterable[Interval], today: date) -> None:
    """Keep the aim (and members' targets) of every interval that has started on ``today``
    and has no original yet (SPEC §11 "Original and current aim").

    Called before and after every change of aims or targets (``tracked_write``), so an
    interval's first change on or after its start keeps what it had before; and by the
    planning job every day, so intervals nobody touches are frozen too. Until then the
    current value *is* the original (no change happened since the start).

    A goal created after its interval started had no aim at that start: its plan is what
    stands at the end of the day it was created (:attr:`Goal.created_on`), so the
    manager's set-up of that day (a distribution to the members, a corrected aim) is the
    original, not the zeros the goal was created with.
    """
    for interval in intervals:
        if interval.start_date > today or today <= interval.goal.created_on:
            continue
        if interval.original_aim is None:
            interval.original_aim = interval.aim
        for allocation in interval.allocations:
            if allocation.original_target is None:
                allocation.original_target = allocation.target


__all__ = [
    "Allocation",
    "Base",
    "CoachingNotice",
    "Goal",
    "HistoryEntry",
    "Interval",
    "NotificationSetting",
    "freeze_originals",
]
