"""What runs on a schedule: one module per job, one runtime (:mod:`.runtime`), one table.

:data:`JOBS` is the one list of the extension's jobs: the scheduler registers each of them
(:func:`..scheduler.register_jobs`) and the CLI gives each one ``flask goals <name> run
[--as-of YYYY-MM-DD] [--dry-run]`` (:mod:`..cli.jobs`). Both run a job the same way, with
:func:`run_job`. A new job is a module with a :class:`~.runtime.Job` subclass (what is due, what
to do with it), an entry below and a module-level function in :mod:`..scheduler` (job stores
keep a reference to it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Flask

from ..plugins import HostHooks
from .coaching import CoachingJob
from .planning import PlanningJob
from .recurrence import RecurrenceJob
from .runtime import Job, ProgressCallback, Summary


@dataclass(frozen=True)
class JobSpec:
    """One job of the table.

    :param name: the CLI's word: ``flask goals <name> run``.
    :param scheduler_id: the APScheduler job id.
    :param job: the :class:`~.runtime.Job` subclass: what is due and what to do.
    :param title: what the CLI's summary line starts with.
    :param counts: what the CLI's progress bar counts.
    :param help: the CLI group's help (one line).
    :param run_help: what the ``run`` command does.
    :param once: what happens exactly once, however many runners there are.
    """

    name: str
    scheduler_id: str
    job: type[Job[Any, Any]]
    title: str
    counts: str
    help: str
    run_help: str
    once: str


RECURRENCE = JobSpec(
    name="recurrence",
    scheduler_id="goals-recurrence",
    job=RecurrenceJob,
    title="Recurring goals",
    counts="Recurring goals",
    help="Recurring activity goals.",
    run_help="Clone every recurring goal whose next period has started (missed periods "
    "included) and end those past their recurring-until date.",
    once="each clone is created exactly once",
)

PLANNING = JobSpec(
    name="planning",
    scheduler_id="goals-planning",
    job=PlanningJob,
    title="Planning",
    counts="Goals",
    help="Planning: original aims and shortfall carry-forward.",
    run_help="Keep the original aims of intervals that have started, and carry the shortfall "
    "of every ended interval forward by its goal's shortfall policy.",
    once="each shortfall is carried exactly once",
)

COACHING = JobSpec(
    name="coach",
    scheduler_id="goals-coaching",
    job=CoachingJob,
    title="Coaching",
    counts="Organizations",
    help="Coaching notifications: status changes, milestones, weekly digests.",
    run_help="Send the coaching notices that are due: status changes (on track, behind, at "
    "risk), milestones (50, 90, 100 %) and, on Mondays, each person's weekly digest (figures "
    "through the day before today).",
    once="each notice is sent once",
)

#: Every job, in the order a scheduler registers them. The closing of intervals (SPEC §19,
#: ``GOALS_CLOSE_AFTER_DAYS``, ``flask goals close run``) will be the fourth entry.
JOBS: tuple[JobSpec, ...] = (RECURRENCE, PLANNING, COACHING)


def job_named(name: str) -> JobSpec:
    """The job whose CLI word is ``name``."""
    for job in JOBS:
        if job.name == name:
            return job
    raise KeyError(f"No goals job {name!r}; the jobs are {', '.join(j.name for j in JOBS)}.")


def run_job(
    app: Flask,
    name: str,
    *,
    as_of: date | None = None,
    dry_run: bool = False,
    on_progress: ProgressCallback | None = None,
    **options: Any,
) -> Summary:
    """Run job ``name`` on ``app``'s database with a fresh hooks façade (needs its app
    context): what the scheduler and the CLI call."""
    state = app.extensions["goals"]
    summary: Summary = job_named(name).job.run_on(
        state.session,
        HostHooks(state.plugin_manager),
        as_of=as_of,
        dry_run=dry_run,
        on_progress=on_progress,
        config=app.config,
        **options,
    )
    return summary
