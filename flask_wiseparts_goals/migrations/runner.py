"""Run the package's Alembic migrations on the host's engine.

``flask goals db upgrade`` calls :func:`upgrade`; hosts may call it from their own deploy code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, Table
from sqlalchemy.engine import Connection, Engine

VERSION_TABLE = "goals_alembic_version"
TABLE_PREFIX = "goals_"


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Only ``goals_*`` tables (and what belongs to them) are compared or migrated."""
    if type_ == "table":
        return name is not None and name.startswith(TABLE_PREFIX) and name != VERSION_TABLE
    return True


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    config.set_main_option("version_table", VERSION_TABLE)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade to ``revision``; at ``base`` the version table goes too (Alembic keeps an
    empty one), so the database is as it was before the first upgrade."""
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)
        if _current(connection) is None:
            Table(VERSION_TABLE, MetaData()).drop(connection, checkfirst=True)


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return _current(connection)


def _current(connection: Connection) -> str | None:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()
