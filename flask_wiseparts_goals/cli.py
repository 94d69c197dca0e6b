"""The ``flask goals`` command group."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from .models import Base


class DatabaseUnavailable(click.ClickException):
    """The goal tables are missing or the database cannot be reached: one line, exit status 2."""

    exit_code = 2


def database_problem(error: sa.exc.DBAPIError) -> str | None:
    """What a person should read for an error that is not the command's fault, or None."""
    original = getattr(error, "orig", None)
    text = str(original or error).strip().splitlines()[0] if str(original or error) else ""
    missing_table = getattr(original, "sqlstate", None) == "42P01" or "no such table" in text
    if missing_table:
        return f"The goal tables are missing ({text}). Create them with `flask goals db upgrade`."
    if isinstance(error, sa.exc.OperationalError):
        return f"Cannot use the database: {text}"
    return None


class GoalsGroup(AppGroup):
    """``flask goals``: a missing table or an unreachable database is one clear line and exit
    status 2 for every subcommand (SPEC §6), never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except sa.exc.DBAPIError as error:
            problem = database_problem(error)
            if problem is None:
                raise
            raise DatabaseUnavailable(problem) from None


goals_cli = GoalsGroup("goals", help="WiseParts Goals: tables, recurrence, legacy migration.")


def progress_bar(stack: ExitStack, label: str) -> Callable[[int, int], None]:
    """An ``on_progress(done, total)`` callback drawing a click progress bar, opened on the
    first call (when the total is known) and closed with ``stack``."""
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = stack.enter_context(click.progressbar(length=total, label=label, show_pos=True))
        bar.update(done - bar.pos)

    return progress


@goals_cli.command("create-tables")
def create_tables() -> None:
    """Create the goals_* tables directly (demo and tests; use migrations in production)."""
    state = current_app.extensions["goals"]
    Base.metadata.create_all(state.db.engine)
    click.echo("goals tables created")


@goals_cli.command("plugins")
def plugins() -> None:
    """List every registered plugin: its name, where it came from (built in, plugins=, an
    entry point) and the hooks it implements."""
    pm = current_app.extensions["goals"].plugin_manager
    for name, origins, hooks in pm.describe():
        click.echo(f"{name} ({', '.join(origins) or 'registered directly'})")
        click.echo(f"  hooks: {', '.join(hooks) or 'none'}")


@goals_cli.group("recurrence")
def recurrence_cli() -> None:
    """Recurring activity goals."""


@recurrence_cli.command("run")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Treat this day (YYYY-MM-DD) as today for every goal; default: today in each goal's "
    "timezone.",
)
@click.option("--dry-run", is_flag=True, help="Report what would happen; write nothing.")
def recurrence_run(as_of: datetime | None, dry_run: bool) -> None:
    """Clone every recurring goal whose next period has started (missed periods included) and
    end those past their recurring-until date.

    Safe to run from cron on several hosts at once, and next to the scheduler: each clone is
    created exactly once. Exits with status 1 when a goal failed (it is retried on the next run).
    """
    from .scheduler import run_for_app  # imported late, like the services behind it

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with ExitStack() as stack:
        summary = run_for_app(
            app,
            as_of=as_of.date() if as_of else None,
            dry_run=dry_run,
            on_progress=progress_bar(stack, "Recurring goals"),
        )
    for clone in summary.clones:
        click.echo(
            f"  goal {clone.source_goal_id} → "
            f"{'new goal' if clone.goal_id is None else f'goal {clone.goal_id}'} "
            f"({clone.start_date.isoformat()} to {clone.end_date.isoformat()})"
        )
    for error in summary.errors:
        click.echo(f"  failed: {error}", err=True)
    click.echo(f"Recurring goals: {summary.as_text()}")
    if summary.failed:
        raise click.exceptions.Exit(1)


@goals_cli.group("planning")
def planning_cli() -> None:
    """Planning: original aims and shortfall carry-forward."""


@planning_cli.command("run")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Treat this day (YYYY-MM-DD) as today for every goal; default: today in each goal's "
    "timezone.",
)
def planning_run(as_of: datetime | None) -> None:
    """Keep the original aims of intervals that have started, and carry the shortfall of
    every ended interval forward by its goal's shortfall policy.

    Safe to run from cron on several hosts at once, and next to the scheduler: each
    shortfall is carried exactly once. Exits with status 1 when a goal failed (it is retried
    on the next run).
    """
    from .scheduler import run_planning_for_app

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    summary = run_planning_for_app(app, as_of=as_of.date() if as_of else None)
    for error in summary.errors:
        click.echo(f"  failed: {error}", err=True)
    click.echo(f"Planning: {summary.as_text()}")
    if summary.failed:
        raise click.exceptions.Exit(1)
