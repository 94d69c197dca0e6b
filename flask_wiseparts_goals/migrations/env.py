"""Alembic environment of the goals_* tables.

It runs on the connection the host hands over (``config.attributes["connection"]``), keeps its
own version table (``goals_alembic_version``) and only ever looks at ``goals_*`` tables, so the
host's own Alembic history and tables are never touched.
"""

from __future__ import annotations

from typing import Any

from alembic import context

from flask_wiseparts_goals.migrations.runner import VERSION_TABLE, include_name
from flask_wiseparts_goals.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        include_name=include_name,
        render_as_batch=True,  # SQLite needs batch mode to alter tables
        compare_type=True,
        **kwargs,
    )


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run the goals migrations through `flask goals db upgrade`.")
_configure(connection=connection)
with context.begin_transaction():
    context.run_migrations()
