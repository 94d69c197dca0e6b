"""planning: shortfall policy, original aims and targets, members' business days

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from flask_wiseparts_goals.models import ExactDecimal, UTCDateTime

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("goals_goal") as batch:
        batch.add_column(
            sa.Column(
                "shortfall_policy", sa.String(length=16), server_default="none", nullable=False
            )
        )
    with op.batch_alter_table("goals_interval") as batch:
        batch.add_column(sa.Column("original_aim", ExactDecimal(), nullable=True))
        batch.add_column(sa.Column("shortfall_settled_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("goals_allocation") as batch:
        batch.add_column(sa.Column("original_target", ExactDecimal(), nullable=True))
        batch.add_column(sa.Column("business_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("goals_allocation") as batch:
        batch.drop_column("business_days")
        batch.drop_column("original_target")
    with op.batch_alter_table("goals_interval") as batch:
        batch.drop_column("shortfall_settled_at")
        batch.drop_column("original_aim")
    with op.batch_alter_table("goals_goal") as batch:
        batch.drop_column("shortfall_policy")
