"""The job runtime and the job table (SPEC §13b, §17, §19): one table drives the scheduler and
``flask goals <job> run [--as-of] [--dry-run]``; a run in which any organization or goal failed
exits 1 and counts it, for every job; the runtime retries an item at fault alone."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

import conftest
import pytest
import sqlalchemy as sa
from conftest import OTHER_ORG, ApiClient, FakeHost, dump_tables, make_app, sales_goal
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from test_coaching_job import CoachHost
from test_planning_carry import quarter_goal
from test_planning_distribute import SalesHost
from test_recurrence import RecurrenceHost
from test_recurrence import create as recurring_goal
from test_tracking_api import Line

from flask_wiseparts_goals import hookimpl
from flask_wiseparts_goals.jobs import JOBS, run_job
from flask_wiseparts_goals.jobs.runtime import Job, LostRace, Summary, blame
from flask_wiseparts_goals.plugins import HostHooks


class FailingSalesHost(SalesHost):
    """Sales by day, and a metric source that raises for some goals."""

    def __init__(self) -> None:
        super().__init__()
        self.daily = {date(2026, 1, 15): Decimal(79), date(2026, 2, 15): Decimal(100)}
        self.failing_goals: set[int] = set()

    @hookimpl(tryfirst=True)
    def goals_collect_actuals(self, organization_id, category, queries):
        if any(query.goal_id in self.failing_goals for query in queries):
            raise RuntimeError("the warehouse is unavailable")
        return super().goals_collect_actuals(organization_id, category, queries)


@pytest.fixture
def host(request: pytest.FixtureRequest) -> FakeHost:
    """The host a test names (``indirect`` parametrization), else the plain fake host."""
    host_class: type[FakeHost] = getattr(request, "param", FakeHost)
    return host_class()


# -- one failing item per job: (as_of, the error line, what the others did) ---------------------

Case = Callable[[ApiClient, Any], tuple[str, str, str]]


def _recurrence(api: ApiClient, host: RecurrenceHost) -> tuple[str, str, str]:
    failing = recurring_goal(api, team_id="team-b")
    recurring_goal(api)
    host.failing_teams = {"team-b"}
    return (
        "2026-02-01",
        f"goal {failing}: RuntimeError: the calendar of team-b is unavailable",
        "created 1",
    )


def _planning(api: ApiClient, host: FailingSalesHost) -> tuple[str, str, str]:
    failing = quarter_goal(api, "next_interval")["id"]
    quarter_goal(api, "next_interval")
    host.failing_goals = {failing}
    return "2026-02-01", f"goal {failing}: RuntimeError: the warehouse is unavailable", "carried 1"


def _coach(api: ApiClient, host: CoachHost) -> tuple[str, str, str]:
    assert api.post("/goals", json=sales_goal(aim="1000.00")).status_code == 201
    other = api.as_user("other-admin")
    assert other.post("/goals", json=sales_goal(aim="1000.00", team_id="team-x")).status_code == 201
    host.lines += [
        Line("rep", date(2026, 1, 5), Decimal("600.00")),
        Line("x1", date(2026, 1, 5), Decimal("700.00"), organization_id=OTHER_ORG),
    ]
    host.failing_calendars = {OTHER_ORG}
    error = f"organization {OTHER_ORG}: RuntimeError: the calendar of {OTHER_ORG} is unavailable"
    return "2026-01-13", error, "milestones 1"


CASES: dict[str, tuple[type[FakeHost], Case]] = {
    "recurrence": (RecurrenceHost, _recurrence),
    "planning": (FailingSalesHost, _planning),
    "coach": (CoachHost, _coach),
}


#: Each job with the host of its case (the ``host`` fixture builds it).
every_job = pytest.mark.parametrize(
    ("host", "name"),
    [(host_class, name) for name, (host_class, _) in CASES.items()],
    indirect=["host"],
    ids=list(CASES),
)


def test_every_job_of_the_table_has_a_failure_case_here() -> None:
    assert set(CASES) == {job.name for job in JOBS}


@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry-run"])
@every_job
def test_a_run_in_which_anything_failed_exits_1_and_counts_it(
    app: Flask, api: ApiClient, host: Any, name: str, dry_run: bool
) -> None:
    as_of, error, others = CASES[name][1](api, host)
    args = ["goals", name, "run", "--as-of", as_of, *(["--dry-run"] if dry_run else [])]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1, result.output
    assert f"  failed: {error}" in result.output.splitlines()
    summary = result.output.splitlines()[-1]
    assert "failed 1" in summary and others in summary, summary
    assert ("dry run" in summary) is dry_run


@every_job
def test_a_run_without_failures_exits_0(app: Flask, api: ApiClient, host: Any, name: str) -> None:
    as_of, _, _ = CASES[name][1](api, host)
    for attribute in ("failing_teams", "failing_goals", "failing_calendars"):
        if hasattr(host, attribute):
            setattr(host, attribute, set())
    result = app.test_cli_runner().invoke(args=["goals", name, "run", "--as-of", as_of])
    assert result.exit_code == 0, result.output
    assert "failed 0" in result.output.splitlines()[-1]


@pytest.mark.parametrize("host", [FailingSalesHost], indirect=True)
def test_planning_dry_run_writes_nothing(
    app: Flask, api: ApiClient, db: SQLAlchemy, host: FailingSalesHost
) -> None:
    quarter_goal(api, "next_interval")
    before = dump_tables(db)
    result = app.test_cli_runner().invoke(
        args=["goals", "planning", "run", "--as-of", "2026-02-01", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "carried 1" in result.output and "dry run: nothing written" in result.output
    assert dump_tables(db) == before
    result = app.test_cli_runner().invoke(
        args=["goals", "planning", "run", "--as-of", "2026-02-01"]
    )
    assert "carried 1" in result.output and "dry run" not in result.output


# -- the table drives the scheduler and the CLI -----------------------------------------------


def test_the_job_table_drives_the_cli(app: Flask) -> None:
    for job in JOBS:
        result = app.test_cli_runner().invoke(args=["goals", job.name, "run", "--help"])
        assert result.exit_code == 0, result.output
        assert "--as-of" in result.output and "--dry-run" in result.output


def test_the_job_table_drives_the_scheduler(app: Flask) -> None:
    from flask_apscheduler import APScheduler

    from flask_wiseparts_goals.scheduler import SCHEDULED, register_jobs

    scheduler = APScheduler()
    scheduler.init_app(app)
    register_jobs(scheduler, app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {job.scheduler_id for job in JOBS}
    for job in JOBS:
        assert jobs[job.scheduler_id].func is SCHEDULED[job.name]


def test_the_cli_is_registered_per_app_not_on_import(app: Flask) -> None:
    from flask_wiseparts_goals.cli import goals_group

    assert goals_group() is not goals_group()
    group = app.cli.get_command(None, "goals")  # type: ignore[arg-type]
    assert group is not None and {job.name for job in JOBS} <= set(group.commands)


def test_run_job_names_an_unknown_job(app: Flask) -> None:
    with pytest.raises(KeyError, match="recurrence"):
        run_job(app, "close")


# -- the runtime ---------------------------------------------------------------------------------


@dataclass
class ToySummary(Summary):
    done: int = 0
    names: list[int] = field(default_factory=list)

    COUNTS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("done", "done"),
        ("skipped", "skipped"),
        ("failed", "failed"),
    )


class ToyJob(Job[int, ToySummary]):
    """Items 1..n; those in ``failing`` raise (blamed or not), those in ``taken`` lost a race;
    an item above 100 is a follow-up."""

    name = "toy"

    def __init__(self, *args: Any, items: int, blamed: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        self.blamed = blamed
        self.failing: set[int] = set()
        self.taken: set[int] = set()
        self.follow: set[int] = set()
        self.batches: list[list[int]] = []

    def new_summary(self) -> ToySummary:
        return ToySummary(dry_run=self.dry_run)

    def label(self, item: int) -> str:
        return f"item {item}"

    def due(self) -> list[int]:
        return list(range(1, self.items + 1))

    def step(self, batch: Sequence[int], done: ToySummary) -> list[int]:
        self.batches.append(list(batch))
        for item in batch:
            if item in self.taken:
                raise LostRace
            if item in self.failing:
                if not self.blamed:
                    raise RuntimeError("something in the batch")
                with blame(item):
                    raise RuntimeError(f"item {item} is broken")
        done.done += len(batch)
        done.names += batch
        return [item + 100 for item in batch if item in self.follow]


def toy(app: Flask, **kwargs: Any) -> ToyJob:
    state = app.extensions["goals"]
    return ToyJob(state.session, HostHooks(state.plugin_manager), **kwargs)


def test_an_item_at_fault_is_retried_alone_and_the_rest_commits(app: Flask) -> None:
    job = toy(app, items=6)
    job.chunk_size = 3
    job.failing = {2}
    summary = job.run()
    assert (summary.done, summary.failed, summary.skipped) == (5, 1, 0)
    assert summary.errors == ["item 2: RuntimeError: item 2 is broken"]
    assert job.batches == [[1, 2, 3], [1, 3], [2], [4, 5, 6]]
    assert summary.as_text() == "done 5, skipped 0, failed 1" and not summary.ok


def test_a_failure_no_item_is_blamed_for_runs_in_halves(app: Flask) -> None:
    job = toy(app, items=4, blamed=False)
    job.chunk_size = 4
    job.failing = {4}
    summary = job.run()
    assert (summary.done, summary.failed) == (3, 1)
    assert job.batches == [[1, 2, 3, 4], [1, 2], [3, 4], [3], [4]]


def test_a_lost_race_is_skipped_not_failed(app: Flask) -> None:
    job = toy(app, items=2)
    job.taken = {2}
    summary = job.run()
    assert (summary.done, summary.skipped, summary.failed) == (1, 1, 0) and summary.ok


def test_follow_ups_run_in_the_next_transaction_and_progress_counts_due_items(app: Flask) -> None:
    job = toy(app, items=3)
    job.chunk_size = 2
    job.follow = {1, 3}
    progress: list[tuple[int, int]] = []
    summary = job.run(lambda done, total: progress.append((done, total)))
    assert job.batches == [[1, 2], [101], [3], [103]]
    assert summary.names == [1, 2, 101, 3, 103]
    assert progress == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_a_missing_table_is_raised_not_counted(app: Flask) -> None:
    job = toy(app, items=2)
    missing = sa.exc.ProgrammingError("SELECT 1", {}, Exception("no such table: goals_goal"))

    def step(batch: Sequence[int], done: ToySummary) -> list[int]:
        raise missing

    job.step = step  # type: ignore[method-assign]
    with pytest.raises(sa.exc.ProgrammingError):
        job.run()
    assert job.summary.failed == 0


def test_a_job_refuses_pending_changes(app: Flask, db: SQLAlchemy) -> None:
    from flask_wiseparts_goals.models import Goal

    db.session.add(Goal())
    with pytest.raises(RuntimeError, match="pending changes"):
        toy(app, items=1).run()
    db.session.rollback()


# -- every job from four processes at once, with a failing item (PostgreSQL) ------------------


def _host_for(name: str, failing: int | None) -> FakeHost:
    """What each runner's host is: the same data, and the same item failing."""
    if name == "recurrence":
        return RecurrenceHost(failing_teams={"team-b"})
    if name == "planning":
        host = FailingSalesHost()
        host.failing_goals = {failing} if failing is not None else set()
        return host
    return CoachHost(
        lines=[Line("rep", date(2026, 1, 5), Decimal("700.00"))],
        failing_calendars={OTHER_ORG},
    )


def _job_in_process(
    name: str, as_of: date, failing: int | None, barrier: Any, results: Any
) -> None:
    """One runner: its own app, engine and connections, like a worker on another host."""
    host = _host_for(name, failing)
    app = make_app(host)
    with app.app_context():
        barrier.wait(60)
        summary = run_job(app, name, as_of=as_of)
        told = [(n.kind, n.goal_id) for _, n in getattr(host, "notifications", [])]
        results.put((summary.failed, summary.errors, told))
        app.extensions["sqlalchemy"].engine.dispose()


def _setup(name: str, api: ApiClient) -> tuple[date, int, list[int]]:
    """The due items of ``name``: :data:`RUNS` goals that work and one that fails (its id)."""
    if name == "recurrence":
        return (
            date(2026, 3, 15),
            recurring_goal(api, team_id="team-b"),
            [recurring_goal(api) for _ in range(RUNS)],
        )
    if name == "planning":
        return (
            date(2026, 3, 5),
            quarter_goal(api, "spread_remaining")["id"],
            [quarter_goal(api, "spread_remaining")["id"] for _ in range(RUNS)],
        )
    other = api.as_user("other-admin")
    response = other.post("/goals", json=sales_goal(aim="1000.00", team_id="team-x"))
    assert response.status_code == 201, response.json
    goals = [api.post("/goals", json=sales_goal(aim="1000.00")).json["id"] for _ in range(RUNS)]
    return date(2026, 1, 13), response.json["id"], goals  # a Tuesday: no digest


def _effects(name: str, db: SQLAlchemy) -> dict[int, Any]:
    """Per goal, what the job left: clones, carried history rows, recorded notices."""
    from flask_wiseparts_goals.models import CoachingNotice, Goal, HistoryEntry

    db.session.rollback()
    if name == "recurrence":
        rows = db.session.execute(
            sa.select(Goal.source_goal_id, sa.func.count())
            .where(Goal.source_goal_id.is_not(None))
            .group_by(Goal.source_goal_id)
        )
    elif name == "planning":
        rows = db.session.execute(
            sa.select(HistoryEntry.goal_id, sa.func.count())
            .where(HistoryEntry.operation == "carry_forward")
            .group_by(HistoryEntry.goal_id)
        )
    else:
        rows = db.session.execute(
            sa.select(CoachingNotice.goal_id, sa.func.count())
            .where(CoachingNotice.goal_id.is_not(None))
            .group_by(CoachingNotice.goal_id)
        )
    return {goal_id: count for goal_id, count in rows}


#: Goals that work, per job.
RUNS = 6
#: Per job: the rows each working goal must have once the runners are done.
PER_GOAL = {"recurrence": 1, "planning": 5, "coach": 1}


@pytest.mark.postgres
@pytest.mark.skipif(conftest.DATABASE_URL is None, reason="needs GOALS_TEST_DATABASE_URL")
@every_job
def test_four_runners_with_a_failing_item_do_everything_else_exactly_once(
    app: Flask, api: ApiClient, db: SQLAlchemy, host: Any, name: str
) -> None:
    """Recurrence: a clone per period (Feb, Mar) of each goal; planning: Jan → Feb, Mar and
    Feb → Mar of each goal; coaching: each goal's 50 % milestone. The failing
    goal (organization) is left as it was and counted as failed by the runners that met it."""
    as_of, failing, goals = _setup(name, api)
    db.session.remove()

    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(4)
    results = spawn.Queue()
    workers = [
        spawn.Process(target=_job_in_process, args=(name, as_of, failing, barrier, results))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0

    assert sum(failed for failed, _, _ in outcomes) >= 1
    assert all(
        str(failing) in error or OTHER_ORG in error for _, errors, _ in outcomes for error in errors
    )
    effects = _effects(name, db)
    if name == "recurrence":
        # Each source goal has one clone; the clones (Feb) have theirs (Mar).
        assert set(effects.values()) == {1} and failing not in effects
        assert len(effects) == 2 * len(goals)
    else:
        assert effects == {goal_id: PER_GOAL[name] for goal_id in goals}
    if name == "coach":
        told = [note for _, _, notes in outcomes for note in notes]
        assert sorted(told, key=str) == sorted(
            [("milestone", goal_id) for goal_id in goals], key=str
        )
