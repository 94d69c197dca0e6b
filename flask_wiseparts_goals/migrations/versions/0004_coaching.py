"""coaching: the record of notices sent and per-person notification settings

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from flask_wiseparts_goals.models import UTCDateTime

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "goals_coaching_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("value", sa.String(length=16), nullable=True),
        sa.Column("delivered_to", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["goals_goal.id"],
            name=op.f("fk_goals_coaching_notice_goal_id_goals_goal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goals_coaching_notice")),
        sa.UniqueConstraint(
            "organization_id", "kind", "scope", "key", name="uq_goals_coaching_notice_event"
        ),
    )
    op.create_index("ix_goals_coaching_notice_goal", "goals_coaching_notice", ["goal_id"])
    op.create_table(
        "goals_notification_setting",
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Boolean(), nullable=False),
        sa.Column("milestone", sa.Boolean(), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "user_id", name=op.f("pk_goals_notification_setting")
        ),
    )


def downgrade() -> None:
    op.drop_table("goals_notification_setting")
    op.drop_index("ix_goals_coaching_notice_goal", table_name="goals_coaching_notice")
    op.drop_table("goals_coaching_notice")
