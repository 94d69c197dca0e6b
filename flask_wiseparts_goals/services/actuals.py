"""Asking the metric sources: every category at once, none for longer than the timeout
(SPEC §13b "A slow source never holds a worker hostage").

``goals_collect_actuals`` is called once per category. With ``GOALS_ACTUALS_TIMEOUT_SECONDS``
set (default 5), each call runs in a thread of its own, all of them at the same time, and the
request waits at most that long in total: a category whose source has not answered by then is
``timeout`` (its figures are ``null``), the others are served. The late thread is left to
finish on its own (Python cannot stop a thread): it ends, and its answer is dropped, when the
source returns; ``SqlMetricSource`` bounds its statement so that the database stops too.

**Why each call gets its own app context.** A SQLAlchemy ``Session`` is not thread-safe, and
one left running past the timeout must not share the request's connection while the request
goes on. So each thread pushes a *copy* of the request context (Flask's
``copy_current_request_context``; in a job, which serves no request, a new app context): the
source can read ``request`` as usual, and Flask-SQLAlchemy's ``db.session`` — scoped to the
app context — is a session of the thread's own, on a connection of its own, closed when the
thread ends. It sees what is committed, not the request's uncommitted writes (a source reads
the host's sales, never the goal tables). docs/plugin-guide.md states this contract.

Where the database has one connection for everybody (in-memory SQLite: a ``StaticPool``), or
``GOALS_ACTUALS_TIMEOUT_SECONDS`` is ``None``, the sources are asked one after another in the
request's own context, without a bound, as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import copy_current_request_context, current_app, has_request_context

from ..types import ActualsQuery, ActualsResult
from .context import Context

logger = logging.getLogger("flask_wiseparts_goals")

#: Why a category has no actuals (``actuals_reason``).
NO_SOURCE = "no_source"
FAILED = "failed"
TIMEOUT = "timeout"
REASONS = (NO_SOURCE, FAILED, TIMEOUT)

Results = dict[str, ActualsResult]


@dataclass
class Asked:
    """One category's answer: the results, or why there are none."""

    #: ``None`` when there are no results (see :attr:`reason`).
    results: Results | None
    #: ``None`` with results; else :data:`NO_SOURCE`, :data:`FAILED` or :data:`TIMEOUT`.
    reason: str | None = None


def timeout_seconds(config: Mapping[str, Any]) -> float | None:
    """``GOALS_ACTUALS_TIMEOUT_SECONDS`` as seconds (``None``: no bound)."""
    value = config.get("GOALS_ACTUALS_TIMEOUT_SECONDS")
    return None if value is None else float(Decimal(str(value)))


def ask_sources(
    ctx: Context,
    questions: Mapping[str, Sequence[ActualsQuery]],
    *,
    recover: Callable[[], None] | None = None,
) -> dict[str, Asked]:
    """Call ``goals_collect_actuals`` once per category of ``questions``.

    A source that raises is logged with its traceback and answers :data:`FAILED`; one that
    returns ``None`` :data:`NO_SOURCE`; one still working when the timeout has passed
    :data:`TIMEOUT` (logged as a warning).

    :param recover: called after a source failed in the request's own session (asked
        inline): a failed statement may have left the transaction unusable.
    """
    timeout = timeout_seconds(ctx.config)
    if timeout is None or not _threads_may_connect():
        return {
            category: _ask_inline(ctx, category, queries, recover)
            for category, queries in questions.items()
        }
    calls = [_Call(ctx, category, queries) for category, queries in questions.items()]
    for call in calls:
        call.start()
    deadline = time.monotonic() + timeout
    answers: dict[str, Asked] = {}
    for call in calls:
        call.join(max(0.0, deadline - time.monotonic()))
        answers[call.category] = call.outcome(timeout)
    return answers


def _threads_may_connect() -> bool:
    """Whether another thread gets a connection of its own (not the in-memory SQLite one that
    everybody shares, nor a different, empty, in-memory database)."""
    engine = current_app.extensions["sqlalchemy"].engine
    return not isinstance(engine.pool, (sa.pool.StaticPool, sa.pool.SingletonThreadPool))


def _ask_inline(
    ctx: Context,
    category: str,
    queries: Sequence[ActualsQuery],
    recover: Callable[[], None] | None,
) -> Asked:
    try:
        with ctx.session.no_autoflush:  # the source queries the host's tables in this session
            results = ctx.hooks.collect_actuals(ctx.organization_id, category, queries)
    except Exception:
        _log_failure(ctx.organization_id, category)
        if recover is not None:
            recover()
        return Asked(None, FAILED)
    return Asked(results, None if results is not None else NO_SOURCE)


def _log_failure(organization_id: str, category: str) -> None:
    logger.exception(
        "goals: the metric source failed for %s in organization %s", category, organization_id
    )


class _Call(threading.Thread):
    """One category's ``goals_collect_actuals`` in a daemon thread (a source stuck forever
    must not keep the process from exiting), in its own copy of the request context."""

    def __init__(self, ctx: Context, category: str, queries: Sequence[ActualsQuery]) -> None:
        super().__init__(name=f"goals-actuals-{category}", daemon=True)
        self.category = category
        self.organization_id = ctx.organization_id
        self.results: Results | None = None
        self.failed = False
        hooks, organization_id, queries = ctx.hooks, ctx.organization_id, list(queries)

        def ask() -> Results | None:
            return hooks.collect_actuals(organization_id, category, queries)

        if has_request_context():
            self._ask = copy_current_request_context(ask)
        else:  # a job: no request to copy
            app = current_app._get_current_object()  # type: ignore[attr-defined]

            def in_app_context() -> Results | None:
                with app.app_context():
                    return ask()

            self._ask = in_app_context

    def run(self) -> None:
        try:
            self.results = self._ask()
        except Exception:
            self.failed = True
            _log_failure(self.organization_id, self.category)

    def outcome(self, timeout: float) -> Asked:
        if self.is_alive():
            logger.warning(
                "goals: the metric source of %s in organization %s did not answer within %s s",
                self.category,
                self.organization_id,
                f"{timeout:g}",
            )
            return Asked(None, TIMEOUT)
        if self.failed:
            return Asked(None, FAILED)
        return Asked(self.results, None if self.results is not None else NO_SOURCE)
