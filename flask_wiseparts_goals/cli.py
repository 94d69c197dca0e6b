"""The ``flask goals`` command group."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from .models import Base

goals_cli = AppGroup("goals", help="WiseParts Goals: tables, recurrence, legacy migration.")


@goals_cli.command("create-tables")
def create_tables() -> None:
    """Create the goals_* tables directly (demo and tests; use migrations in production)."""
    state = current_app.extensions["goals"]
    Base.metadata.create_all(state.db.engine)
    click.echo("goals tables created")
