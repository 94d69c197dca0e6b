"""``flask goals <job> run [--as-of YYYY-MM-DD] [--dry-run]``: one command per job of
:data:`..jobs.JOBS`, all alike (SPEC §19).

A run prints what its summary details (the clones of recurrence), the failures (on stderr)
and one summary line, and exits with status 1 when any organization, goal or notice failed,
for every job (SPEC §13b): cron and Kubernetes see the failure, the next run retries it. A
missing table or an unreachable database is one line and status 2 (:mod:`.base`).
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from ..jobs import JobSpec, run_job
from .base import progress_bar


def job_group(job: JobSpec) -> AppGroup:
    """``flask goals <job.name>`` with its ``run`` command."""
    group = AppGroup(job.name, help=job.help)
    run_help = (
        f"{job.run_help}\n\nSafe to run from cron on several hosts at once, and next to the "
        f"scheduler: {job.once}. Exits with status 1 when an organization, a goal or a notice "
        "failed (counted in the summary line; it is retried on the next run)."
    )

    @group.command("run", help=run_help)
    @click.option(
        "--as-of",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        help="Treat this day (YYYY-MM-DD) as today everywhere; default: today in each "
        "goal's (and person's) timezone.",
    )
    @click.option("--dry-run", is_flag=True, help="Report what would happen; write nothing.")
    def run(as_of: datetime | None, dry_run: bool) -> None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        with ExitStack() as stack:
            summary = run_job(
                app,
                job.name,
                as_of=as_of.date() if as_of else None,
                dry_run=dry_run,
                on_progress=progress_bar(stack, job.counts),
            )
        for line in summary.details():
            click.echo(line)
        for error in summary.errors:
            click.echo(f"  failed: {error}", err=True)
        click.echo(f"{job.title}: {summary.as_text()}")
        if not summary.ok:
            raise click.exceptions.Exit(1)

    return group
