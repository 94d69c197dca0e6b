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


def is_goals_table(name: str | None) -> bool:
    """A table of the extension: ``goals_*`` or its version table."""
    return name is not None and (name.startswith(TABLE_PREFIX) or name == VERSION_TABLE)


def host_include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """For a host's own Alembic ``env.py`` (``context.configure(include_name=...)``): leave
    the goals tables out of the host's autogenerate, which would otherwise see them in the
    database but not in the host's ``MetaData`` and propose ``op.drop_table`` for each.
    (Flask-Migrate hosts need nothing: ``Goals`` installs this filter for them.)"""
    return not (type_ == "table" and is_goals_table(name))


def host_include_object(obj: Any, name: str | None, type_: str, reflected: bool, to: Any) -> bool:
    """``include_object`` counterpart of :func:`host_include_name` (indexes, constraints and
    columns of goals tables as well, for Alembic versions that ask per object)."""
    if type_ == "table":
        return not is_goals_table(name)
    table = getattr(obj, "table", None)
    return not is_goals_table(getattr(table, "name", None))


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
