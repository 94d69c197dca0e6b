"""What every ``flask goals`` command shares: one clear line (exit status 2) when the database
is not usable, and a progress bar."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from ..jobs.runtime import is_missing_table


class DatabaseUnavailable(click.ClickException):
    """The goal tables are missing or the database cannot be reached: one line, exit status 2."""

    exit_code = 2


def database_problem(error: sa.exc.DBAPIError) -> str | None:
    """What a person should read for an error that is not the command's fault, or None."""
    original = getattr(error, "orig", None)
    text = str(original or error).strip().splitlines()[0] if str(original or error) else ""
    if is_missing_table(error):
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
