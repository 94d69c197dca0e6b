"""The ``flask goals`` command group, one module per command family: :mod:`.db` (tables),
:mod:`.jobs` (``<job> run`` for every job of the table), :mod:`.legacy` (``migrate-legacy``).

:func:`register_cli` adds the group to an app's CLI; ``Goals.init_app`` calls it. Nothing
registers itself on import.
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..jobs import JOBS
from .base import GoalsGroup
from .db import create_tables, db_cli
from .jobs import job_group
from .legacy import migrate_legacy_command


@click.command("plugins")
@with_appcontext
def plugins() -> None:
    """List every registered plugin: its name, where it came from (built in, plugins=, an
    entry point) and the hooks it implements."""
    pm = current_app.extensions["goals"].plugin_manager
    for name, origins, hooks in pm.describe():
        click.echo(f"{name} ({', '.join(origins) or 'registered directly'})")
        click.echo(f"  hooks: {', '.join(hooks) or 'none'}")


def goals_group() -> GoalsGroup:
    """A new ``goals`` group with every command of the extension."""
    group = GoalsGroup(
        "goals", help="WiseParts Goals: tables, recurrence, planning, coaching, legacy migration."
    )
    for command in (create_tables, plugins, db_cli, migrate_legacy_command):
        group.add_command(command)
    for job in JOBS:
        group.add_command(job_group(job))
    return group


def register_cli(app: Flask) -> None:
    """Add ``flask goals ...`` to ``app``'s CLI."""
    app.cli.add_command(goals_group())
