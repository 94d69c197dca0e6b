"""The team dashboard at scale: latency and SQL statements, next to serving the same JSON.

An organization of 500 users in 20 teams of 25, 300 sales goals over 2026 split into 12 monthly
intervals and by their team's 25 members (3,600 intervals, 90,000 allocations), and 1,000,000
sales lines. The metric source answers every query of a request with ONE grouped statement
(``GROUP BY user_id, date`` over the widest range of the batch, then per-user running totals in
memory), as a host would for big batches.

Reported, as medians over ``--runs`` requests:

- ``GET /widgets/team`` (every goal) and ``GET /widgets/team?team_id=...`` (one team's goals);
- the SQL statements of one request (the extension's and the source's);
- the time of the source's hook itself;
- the time bare Flask takes to serve the very same JSON from memory (the floor), and the ratio.

Run from the repository root: ``python -m bench.bench_team_widget`` (about a minute; ``--small``
for a quick run, ``--database-url`` for another database than a temporary SQLite file), or as
part of every scenario with ``python -m bench`` (docs/performance.md). :func:`build` and
:func:`load_goals` also make the fixture of :mod:`bench.bench_tracking`.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

from flask_wiseparts_goals import ActualsQuery, ActualsResult, Goals, Identity, hookimpl
from flask_wiseparts_goals.domain.periods import Period, month_splits, weekdays
from flask_wiseparts_goals.models import Allocation, Base, Goal, Interval

from .common import backend, counting, dispose, floor_seconds, median_seconds, request_medians

ORG = "org-1"
AS_OF = date(2026, 6, 15)
YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Size:
    users: int
    team_size: int
    goals: int
    lines: int
    runs: int
    #: Teams of ``team_size`` holding the goals (0: as many as the users fill).
    teams: int = 0
    #: When > 0, one more goal, on a team of the first ``wide_team`` users (progress at scale).
    wide_team: int = 0
    #: When > 0, goals ``1..caller_goals`` are on the first team and the others on the other
    #: teams: ``/widgets/me`` of a member of the first team keeps the same goals as the
    #: organization's grow.
    caller_goals: int = 0
    #: The wide team is ``users[wide_offset : wide_offset + wide_team]``.
    wide_offset: int = 0

    @property
    def team_count(self) -> int:
        return self.teams or self.users // self.team_size


FULL = Size(users=500, team_size=25, goals=300, lines=1_000_000, runs=15)
SMALL = Size(users=100, team_size=25, goals=30, lines=100_000, runs=7)


class HostBase(DeclarativeBase):
    pass


metadata = sa.MetaData()
sales_line = sa.Table(
    "bench_sales_line",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    # Exact money as integer cents: sums stay exact on every database.
    sa.Column("net_cents", sa.BigInteger, nullable=False),
    # Covering the source's GROUP BY: the table itself is never read.
    sa.Index(
        "ix_bench_sales_line_org_user_date_net", "organization_id", "user_id", "date", "net_cents"
    ),
)


#: The team holding the extra goal of ``Size.wide_team`` members.
WIDE_TEAM = "team-wide"


@dataclass
class BenchHost:
    """The host's hooks: an admin of a 500-user organization (or the user named by the
    ``X-User`` header, for ``/widgets/me``), and a sales metric source."""

    db: SQLAlchemy
    teams: dict[str, list[str]]
    source_seconds: list[float] = field(default_factory=list)
    #: Calls of ``goals_collect_actuals``, for every category (the source answers sales only).
    actuals_calls: int = 0

    @hookimpl
    def goals_identity(self) -> Identity:
        return Identity(
            user_id=request.headers.get("X-User", "admin"),
            organization_id=ORG,
            team_ids=frozenset(self.teams),
            roles={"admin"},
        )

    @hookimpl
    def goals_authorize(self, identity: Identity, action: str, target: Any) -> bool:
        return target.organization_id == identity.organization_id and action == "read"

    @hookimpl
    def goals_team_members(self, organization_id: str, team_id: str, on: date) -> list[str] | None:
        return self.teams.get(team_id)

    @hookimpl
    def goals_collect_actuals(
        self, organization_id: str, category: str, queries: Sequence[ActualsQuery]
    ) -> dict[str, ActualsResult] | None:
        self.actuals_calls += 1
        if category != "sales":
            return None
        started = time.perf_counter()
        try:
            return self._sales(organization_id, queries)
        finally:
            self.source_seconds.append(time.perf_counter() - started)

    def _sales(
        self, organization_id: str, queries: Sequence[ActualsQuery]
    ) -> dict[str, ActualsResult]:
        """ONE statement: per user and day over the batch's widest range, then each query is
        two lookups per user in running totals. (Bench goals have no filters: refused here.)"""
        for query in queries:
            if query.metric != "net" or any(vars(query.filters).values()):
                raise ValueError("the bench source measures unfiltered net sales only")
        t = sales_line
        conditions = [
            t.c.organization_id == organization_id,
            t.c.date >= min(q.start for q in queries),
            t.c.date <= max(q.end for q in queries),
        ]
        if all(q.user_ids is not None for q in queries):
            users = sorted({user for q in queries for user in q.user_ids or ()})
            conditions.append(t.c.user_id.in_(users))
        statement = (
            sa.select(
                t.c.user_id,
                # ISO text: no date parsing per row, and it sorts like the dates.
                sa.cast(t.c.date, sa.String).label("day"),
                sa.func.sum(t.c.net_cents),
            )
            .where(*conditions)
            .group_by(t.c.user_id, t.c.date)
            .order_by(t.c.user_id, t.c.date)
        )
        days: dict[str, list[str]] = defaultdict(list)
        running: dict[str, list[int]] = defaultdict(list)
        for user_id, day, cents in self.db.session.execute(statement):
            totals = running[user_id]
            days[user_id].append(day)
            totals.append((totals[-1] if totals else 0) + int(cents))

        def between(user_id: str, start: str, end: str) -> int:
            user_days, totals = days.get(user_id), running.get(user_id)
            if not user_days or not totals:
                return 0
            hi, lo = bisect_right(user_days, end), bisect_left(user_days, start)
            if hi == 0 or lo >= hi:
                return 0
            return totals[hi - 1] - (totals[lo - 1] if lo else 0)

        answer = {}
        for query in queries:
            start, end = query.start.isoformat(), query.end.isoformat()
            users = query.user_ids if query.user_ids is not None else tuple(days)
            per_user = {user: Decimal(between(user, start, end)) * CENT for user in users}
            answer[query.key] = ActualsResult(
                total=sum(per_user.values(), Decimal(0)), per_user=per_user
            )
        return answer


def build(size: Size, url: str) -> tuple[Flask, BenchHost]:
    """The bench host app on ``url``, its sales lines and goals. Drops the bench's and the
    goals' tables first: use a scratch database."""
    app = Flask("bench_team_widget")
    app.config.update(SQLALCHEMY_DATABASE_URI=url, GOALS_SCHEDULER_ENABLED=False)
    db = SQLAlchemy(model_class=HostBase)
    db.init_app(app)
    host = BenchHost(db, {})
    Goals(app, plugins=[host], entry_points=False)
    with app.app_context():
        engine = db.engine
        metadata.drop_all(engine)
        metadata.create_all(engine)
        with engine.begin() as connection:
            _insert_lines(connection, users_of(size), size.lines)
    load_goals(app, host, size)
    return app, host


def users_of(size: Size) -> list[str]:
    return [f"user-{i:03d}" for i in range(size.users)]


def load_goals(app: Flask, host: BenchHost, size: Size) -> None:
    """(Re)create the goals tables with ``size``'s goals and teams; the sales lines stay.

    Goals ``1..size.goals`` go round-robin to the teams; with ``size.wide_team``, goal
    ``size.goals + 1`` is on :data:`WIDE_TEAM`."""
    users = users_of(size)
    teams = {
        f"team-{i:02d}": users[i * size.team_size : (i + 1) * size.team_size]
        for i in range(size.team_count)
    }
    names = sorted(teams)
    if size.caller_goals and len(names) > 1:
        goal_teams = [
            names[0] if goal_id <= size.caller_goals else names[1 + goal_id % (len(names) - 1)]
            for goal_id in range(1, size.goals + 1)
        ]
    else:
        goal_teams = [names[goal_id % len(names)] for goal_id in range(1, size.goals + 1)]
    if size.wide_team:
        teams[WIDE_TEAM] = users[size.wide_offset : size.wide_offset + size.wide_team]
        goal_teams.append(WIDE_TEAM)
    host.teams.clear()
    host.teams.update(teams)
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        with engine.begin() as connection:
            _insert_goals(connection, teams, goal_teams)
        if engine.dialect.name == "postgresql":
            # Statistics and a visibility map, so the source's GROUP BY is an index-only scan.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(sa.text("VACUUM ANALYZE"))


def _insert_lines(connection: sa.Connection, users: list[str], count: int) -> None:
    """``count`` sales lines spread over 2026, on weekdays, bulk-inserted in chunks."""
    rng = random.Random(2026)
    days = weekdays(YEAR)
    chunk = 50_000
    for offset in range(0, count, chunk):
        connection.execute(
            sales_line.insert(),
            [
                {
                    "organization_id": ORG,
                    "user_id": rng.choice(users),
                    "date": rng.choice(days),
                    "net_cents": rng.randrange(100, 50_000),
                }
                for _ in range(min(chunk, count - offset))
            ],
        )


def _insert_goals(
    connection: sa.Connection, teams: dict[str, list[str]], goal_teams: list[str]
) -> None:
    """Yearly sales goals (goal ``i + 1`` on ``goal_teams[i]``) split by month and by their
    team's members, bulk-inserted."""
    now = datetime.now(UTC)
    months = month_splits(YEAR)
    goals, intervals, allocations = [], [], []
    interval_id = allocation_id = 0
    for goal_id, team_id in enumerate(goal_teams, start=1):
        aim = Decimal(120_000) + goal_id
        goals.append(
            {
                "id": goal_id,
                "organization_id": ORG,
                "category": "sales",
                "description": f"Sales {goal_id}",
                "metric": "net",
                "start_date": YEAR.start,
                "end_date": YEAR.end,
                "aim": aim,
                "team_id": team_id,
                "split_into_subperiods": True,
                "split_by_team_members": True,
                "filters": {},
                "timezone": "UTC",
                "created_by": "admin",
                "created_at": now,
                "updated_at": now,
            }
        )
        for month in months:
            interval_id += 1
            intervals.append(
                {
                    "id": interval_id,
                    "goal_id": goal_id,
                    "start_date": month.start,
                    "end_date": month.end,
                    "business_days": len(weekdays(month)),
                    "aim": Decimal(10_000),
                }
            )
            for position, user_id in enumerate(teams[team_id]):
                allocation_id += 1
                allocations.append(
                    {
                        "id": allocation_id,
                        "goal_id": goal_id,
                        "interval_id": interval_id,
                        "user_id": user_id,
                        "position": position,
                        "target": Decimal(400),
                    }
                )
    connection.execute(sa.insert(Goal), goals)
    connection.execute(sa.insert(Interval), intervals)
    for offset in range(0, len(allocations), 20_000):
        connection.execute(sa.insert(Allocation), allocations[offset : offset + 20_000])


def measure(app: Flask, host: BenchHost, runs: int) -> dict[str, Any]:
    """``GET /widgets/team`` for every goal and for one team, its statements and actuals calls,
    the metric source's share, and the floor: the same JSON from memory with bare Flask."""
    client = app.test_client()
    engine = app.extensions["sqlalchemy"].engine
    every = f"/api/goals/widgets/team?as_of={AS_OF}"
    one_team = f"/api/goals/widgets/team?as_of={AS_OF}&team_id=team-00"

    def get(path: str) -> Any:
        response = client.get(path)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response

    payload = get(every).get_json()  # warm-up: caches, query compilation
    calls_before = host.actuals_calls
    with counting(engine) as statements:
        get(every)
    calls = host.actuals_calls - calls_before
    shown = sum(len(category["goals"]) for category in payload["categories"])

    widget = request_medians(lambda: get(every), runs, host.source_seconds)
    get(one_team)
    team = median_seconds(lambda: get(one_team), runs)
    return {
        "goals": shown,
        "actuals_queries": shown * 2,
        "payload_kib": len(get(every).get_data()) / 1024,
        "runs": runs,
        **widget,
        "one_team_median_s": team,
        "floor_median_s": floor_seconds(payload, runs),
        "statements": len(statements),
        "actuals_calls": calls,
    }


def run(size: Size, url: str) -> dict[str, Any]:
    """Build the fixture on ``url`` (dropping what is there) and measure the team widget."""
    started = time.perf_counter()
    app, host = build(size, url)
    setup = time.perf_counter() - started
    try:
        with app.app_context():
            return {"db": backend(url), "setup_s": setup, **measure(app, host, size.runs)}
    finally:
        dispose(app)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="a tenth of the data, fewer runs")
    parser.add_argument("--runs", type=int, help="requests per measure (median)")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    args = parser.parse_args(argv)
    size = SMALL if args.small else FULL

    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'bench.db'}"
        result = run(size if args.runs is None else replace(size, runs=args.runs), url)
    print(
        f"setup: {size.users} users, {size.goals} goals x 12 intervals x {size.team_size} "
        f"members, {size.lines:,} sales lines on {result['db']} in {result['setup_s']:.1f} s"
    )
    widget, source, floor = result["median_s"], result["source_median_s"], result["floor_median_s"]
    own = result["own_median_s"]
    statements = result["statements"]
    print(
        f"team widget, every goal ({result['goals']} goals, {result['actuals_queries']} actuals "
        f"queries, {result['payload_kib']:.0f} KiB):"
    )
    print(f"  median latency          {widget * 1000:8.1f} ms  over {result['runs']} requests")
    print(f"  of which metric source  {source * 1000:8.1f} ms  (its one GROUP BY and lookups)")
    print(
        f"  SQL statements          {statements:8d}     "
        f"({statements - 1} extension + 1 source), {result['actuals_calls']} actuals call(s)"
    )
    print(f"team widget, one team     {result['one_team_median_s'] * 1000:8.1f} ms")
    print(f"same JSON from memory     {floor * 1000:8.1f} ms  (bare Flask + jsonify)")
    print(f"ratio widget / memory     {widget / floor:8.1f} x")
    print(f"extension's own time      {own * 1000:8.1f} ms  (per request: latency - source)")
    print(f"ratio own time / memory   {own / floor:8.1f} x")


if __name__ == "__main__":
    main()
