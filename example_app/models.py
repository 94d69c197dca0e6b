"""The host's own tables: what a WiseParts app already has before it mounts Goals.

None of them is prefixed ``goals_``: the extension never touches them; it learns about users,
teams and sales only through the hooks in :mod:`example_app.plugin`.

Amounts are ``Numeric`` (exact decimals on PostgreSQL). SQLite has no decimal type and keeps
them as floating point; the metric source rounds its sums back to the column's 2 decimals, which
is exact for any realistic total.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("admin", "manager", "rep")
ACTIVITY_TYPES = ("visit", "inbound_call", "outbound_call", "email", "task")
CHANNELS = ("phone", "email", "web", "shop", "social")
ORDER_STATUSES = ("quote", "confirmed")

#: Money and quantities: exact, 2 decimals.
Amount = sa.Numeric(14, 2)
#: Opaque string ids (users, teams, brands, customers...), as WiseParts uses them.
Id = sa.String(64)


class Base(DeclarativeBase):
    """Plain declarative base: Flask-SQLAlchemy 3.1 breaks with ``MappedAsDataclass``."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


class Organization(db.Model):  # type: ignore[name-defined,misc]
    """A tenant: one wholesaler using WiseParts."""

    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    #: IANA name; "today" for this organization (identity, memberships).
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    #: Optional features switched on, e.g. ``["orders"]``.
    features: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: ISO country code, informational; the ``holidays`` table is the calendar.
    country: Mapped[str | None] = mapped_column(sa.String(2))


class User(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint(f"role IN ({_in(ROLES)})", name="role"),)

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    organization_id: Mapped[str] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(254))
    role: Mapped[str] = mapped_column(sa.String(16))


class Team(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    organization_id: Mapped[str] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    leader_id: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id"), index=True)


class TeamMembership(db.Model):  # type: ignore[name-defined,misc]
    """A user's membership of a team over a date range, so "members on a date" is answerable.

    ``joined_on`` and ``left_on`` are both inclusive: ``left_on`` is the last day as a member
    (``NULL``: still a member). ``position`` is the display ("team") order.
    """

    __tablename__ = "team_memberships"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "user_id", "joined_on", name="uq_team_memberships_span"),
        sa.CheckConstraint("left_on IS NULL OR left_on >= joined_on", name="date_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(sa.ForeignKey("teams.id"), index=True)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    joined_on: Mapped[dt.date] = mapped_column(sa.Date)
    left_on: Mapped[dt.date | None] = mapped_column(sa.Date)


class TeamWarehouse(db.Model):  # type: ignore[name-defined,misc]
    """A wholesaler branch (warehouse) linked to a team: team goals count its sales."""

    __tablename__ = "team_warehouses"

    team_id: Mapped[str] = mapped_column(sa.ForeignKey("teams.id"), primary_key=True)
    wholesaler_branch_id: Mapped[str] = mapped_column(Id, primary_key=True)


class Holiday(db.Model):  # type: ignore[name-defined,misc]
    """A non-working day of an organization (business days skip it)."""

    __tablename__ = "holidays"
    __table_args__ = (sa.UniqueConstraint("organization_id", "date", name="uq_holidays_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[str] = mapped_column(sa.ForeignKey("organizations.id"))
    date: Mapped[dt.date] = mapped_column(sa.Date)
    name: Mapped[str] = mapped_column(sa.String(200))


class _SalesColumns:
    """Columns shared by sales lines and orders (what sales/orders filters apply to)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[str] = mapped_column(sa.ForeignKey("organizations.id"))
    date: Mapped[dt.date] = mapped_column(sa.Date)
    #: The salesperson; ``NULL`` for unassigned sales (web shop), counted in organization totals.
    user_id: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id"))
    brand_id: Mapped[str] = mapped_column(Id)
    brand_family_id: Mapped[str | None] = mapped_column(Id)
    customer_id: Mapped[str] = mapped_column(Id)
    customer_branch_id: Mapped[str | None] = mapped_column(Id)
    wholesaler_branch_id: Mapped[str] = mapped_column(Id)
    net: Mapped[Decimal] = mapped_column(Amount)
    gross: Mapped[Decimal] = mapped_column(Amount)
    quantity: Mapped[Decimal] = mapped_column(Amount)
    margin: Mapped[Decimal] = mapped_column(Amount)


class SalesLine(_SalesColumns, db.Model):  # type: ignore[name-defined,misc]
    """An invoiced line: the source of the ``sales`` category."""

    __tablename__ = "sales_lines"
    __table_args__ = (
        sa.Index("ix_sales_lines_org_date", "organization_id", "date"),
        sa.Index("ix_sales_lines_org_user_date", "organization_id", "user_id", "date"),
    )


class Order(_SalesColumns, db.Model):  # type: ignore[name-defined,misc]
    """An order (single-line in this demo), the source of the ``orders`` category.

    ``status`` ``quote`` is an offer not yet ordered; ``ordered_only`` goals count ``confirmed``.
    """

    __tablename__ = "orders"
    __table_args__ = (
        sa.Index("ix_orders_org_date", "organization_id", "date"),
        sa.Index("ix_orders_org_user_date", "organization_id", "user_id", "date"),
        sa.CheckConstraint(f"channel IN ({_in(CHANNELS)})", name="channel"),
        sa.CheckConstraint(f"status IN ({_in(ORDER_STATUSES)})", name="status"),
    )

    channel: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16))


class Activity(db.Model):  # type: ignore[name-defined,misc]
    """A visit, call, e-mail or task: the source of the ``activities`` category."""

    __tablename__ = "activities"
    __table_args__ = (
        sa.Index("ix_activities_org_date", "organization_id", "date"),
        sa.Index("ix_activities_org_user_date", "organization_id", "user_id", "date"),
        sa.CheckConstraint(f"type IN ({_in(ACTIVITY_TYPES)})", name="type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[str] = mapped_column(sa.ForeignKey("organizations.id"))
    date: Mapped[dt.date] = mapped_column(sa.Date)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id"))
    type: Mapped[str] = mapped_column(sa.String(32))
    #: GPS check-in confirmed the visit.
    verified: Mapped[bool] = mapped_column(default=False)
    customer_id: Mapped[str | None] = mapped_column(Id)
    customer_branch_id: Mapped[str | None] = mapped_column(Id)


class LegacyTeamSetting(db.Model):  # type: ignore[name-defined,misc]
    """The old team-level activity settings that the legacy migration turns into goals."""

    __tablename__ = "legacy_team_settings"

    team_id: Mapped[str] = mapped_column(sa.ForeignKey("teams.id"), primary_key=True)
    activity_types: Mapped[list[str]] = mapped_column(sa.JSON, default=lambda: ["visit"])
    verified_only: Mapped[bool] = mapped_column(default=False)


class LegacyMemberTarget(db.Model):  # type: ignore[name-defined,misc]
    """The old per-member daily visit target within a team."""

    __tablename__ = "legacy_member_targets"

    team_id: Mapped[str] = mapped_column(sa.ForeignKey("teams.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    daily_visit_target: Mapped[Decimal] = mapped_column(sa.Numeric(8, 2))


class Notification(db.Model):  # type: ignore[name-defined,misc]
    """A message for a user, written by ``goals_notify`` (the host's inbox)."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_recipient", "organization_id", "recipient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[str] = mapped_column(sa.ForeignKey("organizations.id"))
    recipient_id: Mapped[str] = mapped_column(Id)
    kind: Mapped[str] = mapped_column(sa.String(64))
    goal_id: Mapped[int | None] = mapped_column()
    message: Mapped[str] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), default=lambda: dt.datetime.now(dt.UTC)
    )
