"""Distribution at scale: equal and proportional over 1,000 members x 12 intervals.

For every interval of a yearly goal split by month and by members, ``POST .../distribute`` runs
through the real API (schema, service, exceed check, history). Reported per strategy: the median
time of one distribution, its SQL statements, and the same for a team of 100 members — the
statement count must not grow with the number of members. The floor is a plain SQLAlchemy Core
``executemany`` UPDATE of the same allocation rows in the same run; the ratio is the figure.

Run from the repository root: ``python -m bench.bench_distribute`` (``--small`` for a quick run,
``--database-url`` for another database than a temporary SQLite file), or as part of every
scenario with ``python -m bench``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

from flask_wiseparts_goals import Goals, Identity, hookimpl
from flask_wiseparts_goals.api.common import context, transaction
from flask_wiseparts_goals.models import Allocation, Base, HistoryEntry, Interval
from flask_wiseparts_goals.services.context import load_goal
from flask_wiseparts_goals.services.targets import distribute, find_interval

from .common import backend, counting


@dataclass(frozen=True)
class Size:
    #: Members of the goal's team: every interval's allocations are distributed among them.
    members: int
    #: The same goal on a team this size: its statement count must be the same.
    reference_members: int = 100


FULL = Size(members=1000)
SMALL = Size(members=200)


class Host:
    def __init__(self, members: int) -> None:
        self.members = [f"user-{i:04d}" for i in range(members)]

    @hookimpl
    def goals_identity(self) -> Identity:
        return Identity(user_id=request.headers.get("X-User", "admin"), organization_id="org")

    @hookimpl
    def goals_authorize(self, identity, action, target) -> bool:
        return target.organization_id == identity.organization_id

    @hookimpl
    def goals_team_members(self, organization_id, team_id, on):
        return self.members


_ALLOCATION = cast(sa.Table, Allocation.__table__)


class HostBase(DeclarativeBase):
    pass


def make_app(url: str, members: int) -> Flask:
    app = Flask("bench_distribute")
    app.config.update(SQLALCHEMY_DATABASE_URI=url, TESTING=True, GOALS_SCHEDULER_ENABLED=False)
    db = SQLAlchemy(model_class=HostBase)
    db.init_app(app)
    Goals(app, plugins=[Host(members)], entry_points=False)
    with app.app_context():
        Base.metadata.drop_all(db.engine)
        Base.metadata.create_all(db.engine)
    return app


def run(size: Size, url: str) -> dict[str, Any]:
    """Both strategies over ``size.members`` and over ``size.reference_members`` (statements
    only), on ``url`` (its goals tables are dropped first)."""
    result = measure(url, size.members)
    reference = measure(url, size.reference_members)
    result["db"] = backend(url)
    result["reference_members"] = size.reference_members
    for strategy in ("equal", "proportional"):
        result[strategy]["reference_statements"] = reference[strategy]["statements"]
    return result


def _scramble(engine: sa.Engine, goal_id: int) -> None:
    """Give every allocation of the goal a target of 1 to 7 (by position), so that the next
    distribution changes every row (an equal split over equal values would write nothing) and
    a proportional one has differing weights. Not timed."""
    table = _ALLOCATION
    with engine.begin() as connection:
        connection.execute(
            table.update().where(table.c.goal_id == goal_id).values(target=1 + table.c.position % 7)
        )


def _write(app: Flask, goal_id: int, interval_id: int, strategy: str) -> float:
    """The distribute write path alone (no HTTP, no response): claim the goal, distribute,
    check, record history, commit — what ``POST .../distribute`` does before rendering."""
    with app.test_request_context("/", headers={"X-User": "admin"}):
        started = time.perf_counter()
        ctx = context()
        with transaction(ctx):
            goal = load_goal(ctx, goal_id, "allocate")
            distribute(ctx, goal, find_interval(goal, interval_id), {"strategy": strategy})
        elapsed = time.perf_counter() - started
        app.extensions["sqlalchemy"].session.remove()
    return elapsed


def measure(url: str, members: int) -> dict[str, Any]:
    """A yearly goal split by month and ``members``; each interval distributed with each
    strategy by the API, then by the service alone; then the floors: a Core executemany UPDATE
    of the same rows per interval, and the same UPDATE plus the INSERT of their history rows."""
    app = make_app(url, members)
    client = app.test_client()
    goal = client.post(
        "/api/goals/goals",
        json={
            "category": "sales",
            "description": "Yearly revenue",
            "metric": "net",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
            "aim": "1200000.00",
            "team_id": "team",
            "split_into_subperiods": True,
            "split_by_team_members": True,
        },
    ).json
    intervals = client.get(f"/api/goals/goals/{goal['id']}/intervals").json
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
    result: dict[str, Any] = {"members": members, "intervals": len(intervals)}
    for strategy in ("equal", "proportional"):
        _scramble(engine, goal["id"])
        times, counts = [], []
        for interval in intervals:
            path = (
                f"/api/goals/goals/{goal['id']}/intervals/{interval['id']}/allocations/distribute"
            )
            with counting(engine) as statements:
                started = time.perf_counter()
                response = client.post(path, json={"strategy": strategy})
                times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.json
            counts.append(len(statements))
        _scramble(engine, goal["id"])
        writes = [_write(app, goal["id"], interval["id"], strategy) for interval in intervals]
        result[strategy] = {
            "median_s": statistics.median(times),
            "write_median_s": statistics.median(writes),
            "statements": max(counts),
            "runs": len(times),
        }
    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        rows = session.execute(
            sa.select(
                Allocation.id,
                Allocation.interval_id,
                Allocation.user_id,
                Allocation.target,
                Interval.start_date,
                Interval.end_date,
            )
            .join(Interval, Interval.id == Allocation.interval_id)
            .where(Allocation.goal_id == goal["id"])
            .order_by(Allocation.interval_id, Allocation.position)
        ).all()
        session.remove()
    table = _ALLOCATION
    update = (
        table.update()
        .where(table.c.id == sa.bindparam("row_id"))
        .values(target=sa.bindparam("new_target"))
    )
    history = cast(sa.Table, HistoryEntry.__table__)
    per_interval = len(rows) // len(intervals)
    floor_times, history_times = [], []
    for start in range(0, len(rows), per_interval):
        chunk = rows[start : start + per_interval]
        parameters = [{"row_id": row.id, "new_target": Decimal(row.target) + 1} for row in chunk]
        started = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(update, parameters)
        floor_times.append(time.perf_counter() - started)
        now = datetime.now(UTC)
        entries = [
            {
                "organization_id": "org",
                "goal_id": goal["id"],
                "interval_id": row.interval_id,
                "interval_start": row.start_date,
                "interval_end": row.end_date,
                "user_id": row.user_id,
                "field": "target",
                "old_value": format(Decimal(row.target) + 1, "f"),
                "new_value": format(Decimal(row.target) + 2, "f"),
                "operation": "distribute",
                "changed_by": "admin",
                "changed_at": now,
            }
            for row in chunk
        ]
        parameters = [{"row_id": row.id, "new_target": Decimal(row.target) + 2} for row in chunk]
        started = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(update, parameters)
            connection.execute(history.insert(), entries)
        history_times.append(time.perf_counter() - started)
    result["floor_median_s"] = statistics.median(floor_times)
    result["floor_with_history_median_s"] = statistics.median(history_times)
    engine.dispose()
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--small", action="store_true", help="200 members instead of 1,000")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    args = parser.parse_args(argv)
    size = SMALL if args.small else FULL
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        result = run(size, url)
    print(
        f"distribute over {size.members} members x {result['intervals']} intervals ({result['db']})"
    )
    floor, with_history = result["floor_median_s"], result["floor_with_history_median_s"]
    print(
        f"floors: Core UPDATE {floor * 1000:.1f} ms; Core UPDATE + history INSERT "
        f"{with_history * 1000:.1f} ms"
    )
    print(
        f"{'strategy':<14}{'request ms':>11}{'ratio':>7}{'write ms':>10}{'ratio':>7}"
        f"{'ratio+hist':>11}{'stmts':>7}{f'stmts@{size.reference_members}':>11}"
    )
    for strategy in ("equal", "proportional"):
        row = result[strategy]
        write = row["write_median_s"]
        print(
            f"{strategy:<14}{row['median_s'] * 1000:>11.1f}{row['median_s'] / floor:>7.1f}"
            f"{write * 1000:>10.1f}{write / floor:>7.1f}{write / with_history:>11.1f}"
            f"{row['statements']:>7}{row['reference_statements']:>11}"
        )
        if row["statements"] != row["reference_statements"]:
            print(
                f"  ! statements grow with members: {row['reference_statements']} -> "
                f"{row['statements']}"
            )


if __name__ == "__main__":
    main()
