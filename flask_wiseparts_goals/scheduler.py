"""The jobs of :data:`.jobs.JOBS` on Flask-APScheduler.

By default only processes that serve requests start a scheduler, on their first request (see
:func:`init_scheduler`): CLI commands and scripts never do. Every process that starts one runs
every job (APScheduler 3 cannot share a job store between processes), so every job is safe
to run anywhere, any number of times at once: see :mod:`.jobs.runtime`. Hosts with several
workers turn ``GOALS_SCHEDULER_ENABLED`` off and run ``flask goals <job> run`` from cron
instead, or leave it on: duplicates are impossible either way, only work is wasted.

The jobs run every hour by default (``GOALS_SCHEDULER_TIME = "*:05"``): "today" is each goal's
own today in its organization's timezone, so an hourly run clones every goal within the hour
after midnight where its organization is. A daily run (``"HH:MM"``) clones goals up to a day
late in timezones far from ``GOALS_SCHEDULER_TIMEZONE``.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import weakref
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context

from .jobs import COACHING, JOBS, PLANNING, RECURRENCE, run_job
from .jobs.runtime import Summary

#: The scheduler's job ids (of :data:`.jobs.JOBS`).
JOB_ID = RECURRENCE.scheduler_id
PLANNING_JOB_ID = PLANNING.scheduler_id
COACHING_JOB_ID = COACHING.scheduler_id
#: ``app.extensions`` key of the scheduler this process started (absent: none started).
SCHEDULER_KEY = "goals_scheduler"
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


def _app_named(name: str | None) -> Flask:
    if has_app_context() and (name is None or current_app.import_name == name):
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        return app
    if name is not None and name in _apps:
        return _apps[name]
    if name is None and len(_apps) == 1:
        return next(iter(_apps.values()))
    raise RuntimeError(
        f"No Flask app {name!r} with flask-wiseparts-goals in this process for the goals jobs."
    )


def _run_scheduled(name: str, app_name: str | None) -> Summary:
    """A scheduled run: jobs run without an app context, so open one."""
    app = _app_named(app_name)
    with app.app_context():
        return run_job(app, name)


# Module-level functions, one per job of the table: job stores keep a reference to them.


def recurrence_job(app_name: str | None = None) -> Summary:
    """The scheduled recurrence job (:mod:`.jobs.recurrence`)."""
    return _run_scheduled(RECURRENCE.name, app_name)


def planning_job(app_name: str | None = None) -> Summary:
    """The scheduled planning job (:mod:`.jobs.planning`)."""
    return _run_scheduled(PLANNING.name, app_name)


def coaching_job(app_name: str | None = None) -> Summary:
    """The scheduled coaching job (:mod:`.jobs.coaching`): hourly, for each person's Monday."""
    return _run_scheduled(COACHING.name, app_name)


#: The function the scheduler runs for each job of :data:`.jobs.JOBS`, by CLI name.
SCHEDULED: dict[str, Callable[[str | None], Summary]] = {
    RECURRENCE.name: recurrence_job,
    PLANNING.name: planning_job,
    COACHING.name: coaching_job,
}


def _add_job(scheduler: Any, app: Flask, job_id: str, func: Callable[..., Any]) -> Any:
    """Add (or replace) one of the extension's jobs on ``GOALS_SCHEDULER_TIME``. Every job is
    safe in any number of processes at once (exactly once is kept in the database)."""
    if not scheduler.running and scheduler.get_job(job_id) is not None:
        # A stopped scheduler keeps every pending job and only replaces them when it starts.
        scheduler.remove_job(job_id)
    return scheduler.add_job(
        id=job_id,
        func=func,
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
    """Add (or replace) every job of :data:`.jobs.JOBS` (``goals-recurrence``,
    ``goals-planning``, ``goals-coaching``) on a Flask-APScheduler ``APScheduler``, all on
    ``GOALS_SCHEDULER_TIME``.

    :return: the recurrence job.
    """
    added = {
        job.name: _add_job(scheduler, app, job.scheduler_id, SCHEDULED[job.name]) for job in JOBS
    }
    return added[RECURRENCE.name]


def scheduler_mode(app: Flask) -> str:
    """``"off"``, ``"now"`` (``GOALS_SCHEDULER_ENABLED=True``: start in this process at
    ``init_app``) or ``"serving"`` (``None``, not ``app.testing``: start on the first request
    this process serves)."""
    enabled = app.config["GOALS_SCHEDULER_ENABLED"]
    if enabled is None:
        return "off" if app.testing else "serving"
    return "now" if enabled else "off"


def init_scheduler(app: Flask) -> None:
    """Wire the jobs as ``GOALS_SCHEDULER_ENABLED`` says.

    - ``None`` (default): only processes that **serve requests** run it. Nothing starts at
      ``init_app``, so ``flask db ...``, ``flask shell``, ``flask goals ...``, scripts and the
      reloader's watcher process never get a scheduler thread; the first request a process
      serves (``flask run``, each gunicorn/uWSGI worker, after the fork, so ``--preload`` is
      fine) starts it. ``app.testing`` turns it off.
    - ``True``: start now, in whatever process this is (a dedicated scheduler process).
    - ``False``: never (cron runs ``flask goals <job> run`` for each job).

    A host's Flask-APScheduler (``app.apscheduler``, initialized before ``Goals``) gets the jobs
    added at once (unless ``False``) and is left for the host to start, wherever it does.
    """
    _apps[app.import_name] = app
    parse_schedule(app.config["GOALS_SCHEDULER_TIME"])  # fail early on a typo
    mode = scheduler_mode(app)
    if mode == "off":
        return
    host_scheduler = getattr(app, "apscheduler", None)
    if host_scheduler is not None:
        register_jobs(host_scheduler, app)
        _log_registered(app, "the host's scheduler")
    elif mode == "now":
        start_scheduler(app)
    else:
        app.before_request(_start_on_first_request)


_start_lock = threading.Lock()


def _start_on_first_request() -> None:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if SCHEDULER_KEY not in app.extensions:
        start_scheduler(app)


def start_scheduler(app: Flask) -> Any:
    """Start the extension's own scheduler with every job in this process, now
    (once per process and app; later calls return the same scheduler).

    Called on the first request when ``GOALS_SCHEDULER_ENABLED`` is ``None``; a host may call
    it itself to start before the first request, e.g. from gunicorn's ``post_worker_init``.

    :return: the started Flask-APScheduler ``APScheduler``.
    """
    from flask_apscheduler import APScheduler  # only where a scheduler runs

    with _start_lock:
        scheduler = app.extensions.get(SCHEDULER_KEY)
        if scheduler is not None:
            return scheduler
        scheduler = getattr(app, "apscheduler", None)
        own = scheduler is None
        if scheduler is None:
            scheduler = APScheduler()
            scheduler.init_app(app)
        register_jobs(scheduler, app)
        if own:
            scheduler.start()
        app.extensions[SCHEDULER_KEY] = scheduler
        _log_registered(app, f"process {os.getpid()}")
        return scheduler


def _log_registered(app: Flask, where: str) -> None:
    schedule = parse_schedule(app.config["GOALS_SCHEDULER_TIME"])
    logger.info(
        "goals jobs (%s) scheduled in %s (hour %s, minute %s, %s)",
        ", ".join(job.name for job in JOBS),
        where,
        schedule["hour"],
        schedule["minute"],
        app.config["GOALS_SCHEDULER_TIMEZONE"],
    )
