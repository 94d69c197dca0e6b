"""The recurrence job on Flask-APScheduler.

Every process that starts a scheduler runs every job (APScheduler 3 cannot share a job store
between processes), so the job itself is safe to run anywhere, any number of times at once: see
:mod:`.services.recurrence`. Hosts with several workers turn ``GOALS_SCHEDULER_ENABLED`` off in
web workers and run ``flask goals recurrence run`` from cron instead, or leave it on: duplicates
are impossible either way, only work is wasted.

The job runs every hour by default (``GOALS_SCHEDULER_TIME = "*:05"``): "today" is each goal's
own today in its organization's timezone, so an hourly run clones every goal within the hour
after midnight where its organization is. A daily run (``"HH:MM"``) clones goals up to a day
late in timezones far from ``GOALS_SCHEDULER_TIMEZONE``.
"""

from __future__ import annotations

import logging
import re
import weakref
from datetime import date
from typing import Any

from flask import Flask, current_app, has_app_context

from .plugins import HostHooks
from .services.planning import PlanningSummary
from .services.recurrence import ProgressCallback, RecurrenceSummary, run_recurrence

JOB_ID = "goals-recurrence"
#: Run late rather than not at all when the process was busy or asleep at the planned time
#: (APScheduler's default is 1 second).
MISFIRE_GRACE_SECONDS = 6 * 3600

logger = logging.getLogger("flask_wiseparts_goals.scheduler")

#: Apps by import name: the job receives a name (picklable, so any job store can keep it) and
#: finds the app initialized in this process. Weak: an app that is gone is not kept alive.
_apps: weakref.WeakValueDictionary[str, Flask] = weakref.WeakValueDictionary()

_TIME = re.compile(r"^(?P<hour>\*|[01]?\d|2[0-3]):(?P<minute>[0-5]\d)$")


def parse_schedule(value: str) -> dict[str, str]:
    """``"*:05"`` → every hour at minute 5; ``"00:15"`` → every day at 00:15.

    :return: the cron fields (``hour``, ``minute``) of an APScheduler ``cron`` trigger.
    :raises ValueError: on anything else.
    """
    match = _TIME.match(str(value).strip())
    if match is None:
        raise ValueError(
            f"GOALS_SCHEDULER_TIME must be 'HH:MM' (daily) or '*:MM' (hourly), not {value!r}."
        )
    return {"hour": match["hour"], "minute": str(int(match["minute"]))}


def run_for_app(
    app: Flask,
    *,
    as_of: date | None = None,
    dry_run: bool = False,
    on_progress: ProgressCallback | None = None,
) -> RecurrenceSummary:
    """Run the recurrence on ``app``'s database with a fresh hooks façade (needs its app
    context). Shared by the job and the CLI."""
    state = app.extensions["goals"]
    return run_recurrence(
        state.session,
        HostHooks(state.plugin_manager),
        as_of=as_of,
        dry_run=dry_run,
        on_progress=on_progress,
        config=app.config,
    )


def _app_named(name: str | None) -> Flask:
    if has_app_context() and (name is None or current_app.import_name == name):
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        return app
    if name is not None and name in _apps:
        return _apps[name]
    if name is None and len(_apps) == 1:
        return next(iter(_apps.values()))
    raise RuntimeError(
        f"No Flask app {name!r} with flask-wiseparts-goals in this process for the recurrence job."
    )


def recurrence_job(app_name: str | None = None) -> RecurrenceSummary:
    """The scheduled job: a module-level function (job stores keep a reference to it) that
    opens an app context, since jobs run without one."""
    app = _app_named(app_name)
    with app.app_context():
        return run_for_app(app)


# -- the planning job (SPEC §11): original aims, shortfall carry-forward ---------------------

PLANNING_JOB_ID = "goals-planning"


def run_planning_for_app(app: Flask, *, as_of: date | None = None) -> PlanningSummary:
    """Run the planning job on ``app``'s database (needs its app context). Shared by the job
    and ``flask goals planning run``."""
    from .services.planning import run_planning

    state = app.extensions["goals"]
    return run_planning(
        state.session, HostHooks(state.plugin_manager), as_of=as_of, config=app.config
    )


def planning_job(app_name: str | None = None) -> PlanningSummary:
    """The scheduled planning job (module-level, opens its own app context)."""
    app = _app_named(app_name)
    with app.app_context():
        return run_planning_for_app(app)


def _register_planning_job(scheduler: Any, app: Flask) -> Any:
    """The planning job on the recurrence job's schedule; safe anywhere, any number of
    times at once (see :mod:`.services.planning`)."""
    if not scheduler.running and scheduler.get_job(PLANNING_JOB_ID) is not None:
        scheduler.remove_job(PLANNING_JOB_ID)
    return scheduler.add_job(
        id=PLANNING_JOB_ID,
        func=planning_job,
        args=[app.import_name],
        trigger="cron",
        timezone=app.config["GOALS_SCHEDULER_TIMEZONE"],
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
        coalesce=True,
        max_instances=1,
        replace_existing=True,
        **parse_schedule(app.config["GOALS_SCHEDULER_TIME"]),
    )


def register_jobs(scheduler: Any, app: Flask) -> Any:
    """Add (or replace) the ``goals-recurrence`` job (and the ``goals-planning`` job) on a
    Flask-APScheduler ``APScheduler``.

    :return: the APScheduler job.
    """
    _register_planning_job(scheduler, app)
    if not scheduler.running and scheduler.get_job(JOB_ID) is not None:
        # A stopped scheduler keeps every pending job and only replaces them when it starts.
        scheduler.remove_job(JOB_ID)
    return scheduler.add_job(
        id=JOB_ID,
        func=recurrence_job,
        args=[app.import_name],
        trigger="cron",
        timezone=app.config["GOALS_SCHEDULER_TIMEZONE"],
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
        coalesce=True,
        max_instances=1,
        replace_existing=True,
        **parse_schedule(app.config["GOALS_SCHEDULER_TIME"]),
    )


def scheduler_enabled(app: Flask) -> bool:
    enabled = app.config["GOALS_SCHEDULER_ENABLED"]
    return (not app.testing) if enabled is None else bool(enabled)


def init_scheduler(app: Flask) -> None:
    """Register the recurrence job when ``GOALS_SCHEDULER_ENABLED`` says so (``None``: on
    unless ``app.testing``).

    A host's Flask-APScheduler (``app.apscheduler``, initialized before ``Goals``) is reused
    and left for the host to start; otherwise the extension creates, initializes and starts
    its own.
    """
    _apps[app.import_name] = app
    schedule = parse_schedule(app.config["GOALS_SCHEDULER_TIME"])  # fail early on a typo
    if not scheduler_enabled(app):
        return
    from flask_apscheduler import APScheduler  # only when enabled

    scheduler = getattr(app, "apscheduler", None)
    own = scheduler is None
    if scheduler is None:
        scheduler = APScheduler()
        scheduler.init_app(app)
    register_jobs(scheduler, app)
    logger.info(
        "goals recurrence job registered (hour %s, minute %s, %s)",
        schedule["hour"],
        schedule["minute"],
        app.config["GOALS_SCHEDULER_TIMEZONE"],
    )
    if own:
        scheduler.start()
