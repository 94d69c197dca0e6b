"""Distribution at scale: equal and proportional over 1,000 members × 12 intervals.

For every interval of a yearly goal split by month and by members, ``POST .../distribute`` runs
through the real API (schema, service, exceed check, history). Reported per strategy: the median
time of one distribution, its SQL statements, and the same for a team of 100 members — the
statement count must not grow with the number of members. The floor is a plain SQLAlchemy Core
``executemany`` UPDATE of the same allocation rows in the same run; the ratio is the figure.

Run from the repository root: ``python -m bench.bench_distribute`` (``--small`` for a quick run,
``--database-url`` for another database than a temporary SQLite file).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

from flask_wiseparts_goals import Goals, Identity, hookimpl
from flask_wiseparts_goals.models import Allocation, Base


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


class HostBase(DeclarativeBase):
    pass


@contextmanager
def counting(engine: sa.Engine):
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)


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


def run(url: str, members: int) -> dict[str, Any]:
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
        result[strategy] = {"median_s": statistics.median(times), "statements": max(counts)}
    with app.app_context():
        rows = (
            app.extensions["sqlalchemy"]
            .session.execute(
                sa.select(Allocation.id, Allocation.target).where(Allocation.goal_id == goal["id"])
            )
            .all()
        )
        table = Allocation.__table__
        update = (
            table.update()
            .where(table.c.id == sa.bindparam("row_id"))
            .values(target=sa.bindparam("new_target"))
        )
        per_interval = len(rows) // len(intervals)
        started = time.perf_counter()
        for start in range(0, len(rows), per_interval):
            with engine.begin() as connection:
                connection.execute(
                    update,
                    [
                        {"row_id": row.id, "new_target": Decimal(row.target) + 1}
                        for row in rows[start : start + per_interval]
                    ],
                )
        result["floor_median_s"] = (time.perf_counter() - started) / len(intervals)
    engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="200 members instead of 1,000")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    args = parser.parse_args()
    members = 200 if args.small else 1000
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        big, small = run(url, members), run(url, 100)
    print(f"distribute over {members} members x {big['intervals']} intervals ({url.split(':')[0]})")
    print(
        f"{'strategy':<14}{'median ms':>11}{'floor ms':>10}{'ratio':>8}"
        f"{'stmts':>7}{'stmts@100':>11}"
    )
    for strategy in ("equal", "proportional"):
        row, ref = big[strategy], small[strategy]
        ratio = row["median_s"] / big["floor_median_s"]
        print(
            f"{strategy:<14}{row['median_s'] * 1000:>11.1f}{big['floor_median_s'] * 1000:>10.1f}"
            f"{ratio:>8.1f}{row['statements']:>7}{ref['statements']:>11}"
        )
        if row["statements"] != ref["statements"]:
            print(f"  ! statements grow with members: {ref['statements']} -> {row['statements']}")


if __name__ == "__main__":
    main()
