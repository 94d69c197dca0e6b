"""``flask goals db ...`` (the package's migrations) and ``flask goals create-tables``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.engine import Engine

from ..migrations import runner
from ..models import Base

db_cli = AppGroup(
    "db",
    help="The goals_* tables: Alembic migrations shipped with the package (own version table "
    "goals_alembic_version; the host's alembic_version is never touched).",
)


def _engine() -> Engine:
    engine: Engine = current_app.extensions["goals"].db.engine
    return engine


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Create or upgrade the goals_* tables (default: to the latest revision)."""
    runner.upgrade(_engine(), revision)
    click.echo(f"goals tables at revision {runner.current(_engine())}")


@db_cli.command("downgrade")
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Downgrade the goals_* tables to REVISION ("base" drops them)."""
    runner.downgrade(_engine(), revision)
    click.echo(f"goals tables at revision {runner.current(_engine())}")


@db_cli.command("current")
def current() -> None:
    """Print the revision the goals_* tables are at."""
    click.echo(runner.current(_engine()) or "none")


@click.command("create-tables")
@with_appcontext
def create_tables() -> None:
    """Create the goals_* tables directly (demo and tests; use migrations in production)."""
    Base.metadata.create_all(_engine())
    click.echo("goals tables created")
