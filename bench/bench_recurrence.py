"""The recurrence job at scale, next to a plain bulk insert of the very same rows.

5,000 recurring quarterly activity goals in per-business-day mode, split into their 3 months and
by their team's 25 members (15,000 intervals, 375,000 allocations), all due on 2026-04-01.

Reported:

- the time of ``run_recurrence`` (as in production: chunks of 500 due goals, each one
  transaction: claim the sources with ``SKIP LOCKED``, read them, plan every clone, write the
  moved flags, the clones, their intervals, allocations and history in bulk, commit), and its
  SQL statements;
- the time of a plain SQLAlchemy Core ``executemany`` of exactly the rows the job wrote (goals,
  intervals, allocations, history), in one transaction, and the ratio of the two.

The ratio is the price of doing it right (reading the sources, planning each clone, locks, ids,
one transaction per chunk) over the cheapest possible write of the same data; it should stay
constant as the data grows (linear cost).

Run from the repository root: ``python -m bench.bench_recurrence`` (a few minutes; ``--small``
for a quick run, ``--database-url`` for another database than a temporary SQLite file), or as
part of every scenario with ``python -m bench`` (the same 5,000 goals; ``--small``: 50).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

from flask_wiseparts_goals import Goals, hookimpl
from flask_wiseparts_goals.domain.periods import Period, month_splits, weekdays
from flask_wiseparts_goals.jobs.recurrence import CHUNK_SIZE, run_recurrence
from flask_wiseparts_goals.models import Allocation, Base, Goal, HistoryEntry, Interval
from flask_wiseparts_goals.plugins import HostHooks

from .common import backend, counting, dispose

ORG = "org-1"
QUARTER = Period(date(2026, 1, 1), date(2026, 3, 31))
AS_OF = date(2026, 4, 1)


@dataclass(frozen=True)
class Size:
    goals: int
    team_size: int
    teams: int


FULL = Size(goals=5_000, team_size=25, teams=50)
SMALL = Size(goals=200, team_size=25, teams=10)


class HostBase(DeclarativeBase):
    pass


class BenchHost:
    def __init__(self, teams: dict[str, list[str]]) -> None:
        self.teams = teams

    @hookimpl
    def goals_team_members(self, organization_id: str, team_id: str, on: date) -> list[str] | None:
        return self.teams.get(team_id)


def build(size: Size, url: str) -> tuple[Flask, dict[str, list[str]]]:
    teams = {
        f"team-{t:02d}": [f"user-{t:02d}-{m:02d}" for m in range(size.team_size)]
        for t in range(size.teams)
    }
    app = Flask("bench_recurrence")
    app.config.update(SQLALCHEMY_DATABASE_URI=url, GOALS_SCHEDULER_ENABLED=False)
    db = SQLAlchemy(model_class=HostBase)
    db.init_app(app)
    Goals(app, plugins=[BenchHost(teams)], entry_points=False)
    with app.app_context():
        Base.metadata.drop_all(db.engine)
        Base.metadata.create_all(db.engine)
        with db.engine.begin() as connection:
            _insert_goals(connection, teams, size.goals)
    return app, teams


def _table(model: type[Base]) -> sa.Table:
    return cast(sa.Table, model.__table__)


def _insert_goals(connection: sa.Connection, teams: dict[str, list[str]], count: int) -> None:
    """The recurring goals, written directly (not timed): daily targets 1.00 to 5.00."""
    now = datetime.now(UTC)
    months = month_splits(QUARTER)
    days = [len(weekdays(month)) for month in months]
    team_ids = sorted(teams)
    goals, intervals, allocations = [], [], []
    interval_id = allocation_id = 0
    for goal_id in range(1, count + 1):
        team_id = team_ids[goal_id % len(team_ids)]
        members = teams[team_id]
        daily = [Decimal(1 + (goal_id + m) % 5) for m in range(len(members))]
        goal_aim = Decimal(0)
        for month, business_days in zip(months, days, strict=True):
            interval_id += 1
            aim = sum(daily, Decimal(0)) * business_days
            goal_aim += aim
            intervals.append(
                {
                    "id": interval_id,
                    "goal_id": goal_id,
                    "start_date": month.start,
                    "end_date": month.end,
                    "business_days": business_days,
                    "aim": aim,
                    "daily_target": sum(daily, Decimal(0)),
                }
            )
            for position, (user_id, value) in enumerate(zip(members, daily, strict=True)):
                allocation_id += 1
                allocations.append(
                    {
                        "id": allocation_id,
                        "goal_id": goal_id,
                        "interval_id": interval_id,
                        "user_id": user_id,
                        "position": position,
                        "target": value * business_days,
                        "daily_target": value,
                    }
                )
        goals.append(
            {
                "id": goal_id,
                "organization_id": ORG,
                "category": "activities",
                "description": f"Visits {goal_id}",
                "metric": "count",
                "start_date": QUARTER.start,
                "end_date": QUARTER.end,
                "aim": goal_aim,
                "team_id": team_id,
                "split_into_subperiods": True,
                "split_by_team_members": True,
                "goal_mode": "per_business_day",
                "filters": {"activity_types": ["visit"]},
                "recurrence": "quarterly",
                "timezone": "UTC",
                "created_by": "manager",
                "created_at": now,
                "updated_at": now,
            }
        )
    for model, rows in ((Goal, goals), (Interval, intervals), (Allocation, allocations)):
        connection.execute(_table(model).insert(), rows)
        if connection.dialect.name == "postgresql":  # explicit ids leave the sequence behind
            table = model.__tablename__
            connection.execute(
                sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {len(rows)})")
            )


def _written_rows(connection: sa.Connection) -> dict[sa.Table, list[dict[str, Any]]]:
    """Every row the job wrote: the clones, their intervals and allocations, the history."""
    goal, interval, allocation, history = (
        _table(Goal),
        _table(Interval),
        _table(Allocation),
        _table(HistoryEntry),
    )
    clones = sa.select(goal.c.id).where(goal.c.source_goal_id.is_not(None)).scalar_subquery()

    def rows(query: sa.Select[Any]) -> list[dict[str, Any]]:
        return [dict(row._mapping) for row in connection.execute(query)]

    return {
        goal: rows(sa.select(goal).where(goal.c.source_goal_id.is_not(None))),
        interval: rows(sa.select(interval).where(interval.c.goal_id.in_(clones))),
        allocation: rows(sa.select(allocation).where(allocation.c.goal_id.in_(clones))),
        history: rows(sa.select(history).where(history.c.operation == "recurrence")),
    }


def _delete(connection: sa.Connection, written: dict[sa.Table, list[dict[str, Any]]]) -> None:
    for table in reversed(list(written)):
        ids = [row["id"] for row in written[table]]
        for start in range(0, len(ids), 10_000):
            connection.execute(table.delete().where(table.c.id.in_(ids[start : start + 10_000])))


def run(size: Size, url: str) -> dict[str, Any]:
    """Build ``size``'s recurring goals on ``url`` (its goals tables are dropped first), run the
    job, then the floor: a Core bulk insert of the very rows it wrote."""
    app, _ = build(size, url)
    try:
        with app.app_context():
            return {"db": backend(url), **measure(app, size)}
    finally:
        dispose(app)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help=f"{SMALL.goals} goals, not 5,000")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    args = parser.parse_args(argv)
    size = SMALL if args.small else FULL
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'bench.db'}"
        result = run(size, url)
    rows, job_seconds, core_seconds = result["rows"], result["job_s"], result["floor_s"]
    print(
        f"{result['db']}: {size.goals:,} recurring goals x 3 intervals x {size.team_size} members"
    )
    print(
        "rows written: "
        + ", ".join(f"{table} {count:,}" for table, count in result["rows_per_table"].items())
        + f" (total {rows:,})"
    )
    print(
        f"run_recurrence:   {job_seconds:8.2f} s  ({result['summary']}; "
        f"{result['statements']} SQL statements, {result['statements_per_chunk']:.0f} per "
        f"chunk of {CHUNK_SIZE}, "
        f"{size.goals / job_seconds:,.0f} clones/s, {rows / job_seconds:,.0f} rows/s)"
    )
    print(f"Core bulk insert: {core_seconds:8.2f} s  ({rows / core_seconds:,.0f} rows/s)")
    print(f"ratio:            {job_seconds / core_seconds:8.1f}x")


def measure(app: Flask, size: Size) -> dict[str, Any]:
    state = app.extensions["goals"]
    engine = state.db.engine
    with counting(engine) as statements:
        started = time.perf_counter()
        summary = run_recurrence(
            state.session, HostHooks(state.plugin_manager), as_of=AS_OF, config=app.config
        )
        job_seconds = time.perf_counter() - started
    assert summary.created == size.goals and summary.failed == 0, summary.as_text()
    state.session.remove()

    with engine.begin() as connection:
        written = _written_rows(connection)
    with engine.begin() as connection:
        _delete(connection, written)
    started = time.perf_counter()
    with engine.begin() as connection:
        for table, table_rows in written.items():
            connection.execute(table.insert(), table_rows)
    core_seconds = time.perf_counter() - started
    return {
        "goals": size.goals,
        "summary": summary.as_text(),
        "rows_per_table": {table.name: len(table_rows) for table, table_rows in written.items()},
        "rows": sum(len(table_rows) for table_rows in written.values()),
        "job_s": job_seconds,
        "floor_s": core_seconds,
        "statements": len(statements),
        "statements_per_clone": len(statements) / size.goals,
        "statements_per_chunk": len(statements) / -(-size.goals // CHUNK_SIZE),
    }


if __name__ == "__main__":
    main()
