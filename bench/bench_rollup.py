"""``SqlMetricSource`` over 10,000,000 sales lines: the team widget's metric-source share on a
daily and monthly rollup, on the daily rollup alone, and on the raw lines (SPEC §12).

The host keeps its sales lines (``bench_rollup_line``: one row per line, with a brand) and, as
docs/performance.md and docs/plugin-guide.md recommend, a **daily rollup table**
(``bench_rollup_day``: one row per organization, user, day and brand, the summed net amount
and a ``lines`` counter) and a **monthly rollup table** (``bench_rollup_month``: the same by
calendar month, dated on the month's first day), refreshed by the host with one
``INSERT ... SELECT ... GROUP BY`` each (the days from the lines, the months from the days).
The extension is configured with the ready
:class:`~flask_wiseparts_goals.sources.SqlMetricSource` mapped on the daily table with
``monthly=`` the monthly one (goals may filter by brand: both keep that dimension): whole
months come from the monthly table, the days of the current month from the daily one. The same
team widget is then asked with the source mapped on the daily table alone, and on the raw lines
(indexed on organization, user, date), on a sample of the lines (``raw_lines``, 1,000,000 by
default) since scanning 10,000,000 lines per request is what the rollup is for: its time is
extrapolated linearly to the full size and the report says so.

Fixture: the team widget's (500 users in 20 teams of 25, 300 sales goals x 12 months x 25
members). The lines are generated in the database (``generate_series`` on PostgreSQL, a
recursive CTE on SQLite), spread over the weekdays of 2026, 3 brands.

    python -m bench.bench_rollup [--small] [--database-url URL] [--lines N] [--raw-lines N]

PostgreSQL is the database of this scenario in ``python -m bench`` (10,000,000 lines there
take a minute to write; SQLite takes several, so its row uses ``--small``'s sizes).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_wiseparts_goals import ActualsQuery, ActualsResult, Goals, hookimpl
from flask_wiseparts_goals.sources import SqlMapping, SqlMetricSource

from . import bench_team_widget as team
from .common import backend, counting, dispose, floor_seconds, request_medians

metadata = sa.MetaData()
line = sa.Table(
    "bench_rollup_line",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("brand_id", sa.String(64), nullable=False),
    sa.Column("net", sa.Numeric(14, 2), nullable=False),
)
#: The sample of lines measured without the rollup (indexed as a host would).
raw = sa.Table(
    "bench_rollup_raw",
    metadata,
    *(sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable) for c in line.c),
    sa.Index("ix_bench_rollup_raw", "organization_id", "user_id", "date", "brand_id", "net"),
)
day = sa.Table(
    "bench_rollup_day",
    metadata,
    sa.Column("organization_id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("date", sa.Date, primary_key=True),
    sa.Column("brand_id", sa.String(64), primary_key=True),
    sa.Column("net", sa.Numeric(16, 2), nullable=False),
    sa.Column("lines", sa.Integer, nullable=False),
    # Covering what SqlMetricSource reads: organization, users, dates, then the summed column.
    sa.Index("ix_bench_rollup_day_cover", "organization_id", "user_id", "date", "brand_id", "net"),
)

month = sa.Table(
    "bench_rollup_month",
    metadata,
    *(sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable) for c in day.c),
    sa.Index(
        "ix_bench_rollup_month_cover", "organization_id", "user_id", "date", "brand_id", "net"
    ),
)

#: The host's refresh of the rollup (docs/performance.md): one statement from the lines. A
#: host refreshes the days that changed (``WHERE date >= :since`` after a delete of those
#: days); the bench builds it whole.
REFRESH = sa.insert(day).from_select(
    ["organization_id", "user_id", "date", "brand_id", "net", "lines"],
    sa.select(
        line.c.organization_id,
        line.c.user_id,
        line.c.date,
        line.c.brand_id,
        sa.func.sum(line.c.net),
        sa.func.count(),
    ).group_by(line.c.organization_id, line.c.user_id, line.c.date, line.c.brand_id),
)


def refresh_months(dialect: str) -> sa.Insert:
    """The monthly rollup from the daily one (one statement; a host refreshes the months from
    the first changed day's month on, after a delete of those months)."""
    first_day = (
        sa.cast(sa.func.date_trunc("month", day.c.date), sa.Date)
        if dialect == "postgresql"
        else sa.func.date(day.c.date, "start of month")
    )
    keys = [day.c.organization_id, day.c.user_id, first_day, day.c.brand_id]
    return sa.insert(month).from_select(
        ["organization_id", "user_id", "date", "brand_id", "net", "lines"],
        sa.select(*keys, sa.func.sum(day.c.net), sa.func.sum(day.c.lines)).group_by(*keys),
    )


@dataclass(frozen=True)
class Size:
    lines: int
    raw_lines: int
    runs: int


FULL = Size(lines=10_000_000, raw_lines=1_000_000, runs=9)
SMALL = Size(lines=1_000_000, raw_lines=100_000, runs=5)


def mapping(table: sa.Table, monthly: sa.Table | None = None) -> SqlMapping:
    return SqlMapping(
        "sales",
        table,
        metrics={"net": "net"},
        count="lines" if table is day else "*",
        filters={"brands": "brand_id"},
        monthly=monthly,
    )


class TimedSource(SqlMetricSource):
    """The ready source, timed: what the team widget spends in ``goals_collect_actuals``."""

    def __init__(self, table: sa.Table, monthly: sa.Table | None = None) -> None:
        super().__init__(mapping(table, monthly))
        self.seconds: list[float] = []

    def use(self, table: sa.Table, monthly: sa.Table | None = None) -> None:
        self.mappings["sales"] = mapping(table, monthly)

    @hookimpl
    def goals_collect_actuals(
        self, organization_id: str, category: str, queries: Sequence[ActualsQuery]
    ) -> dict[str, ActualsResult] | None:
        started = time.perf_counter()
        try:
            return super().goals_collect_actuals(organization_id, category, queries)
        finally:
            self.seconds.append(time.perf_counter() - started)


class Host(team.BenchHost):
    """The bench host's identity, authorization and teams; no metric source of its own."""

    def goals_collect_actuals(self, *args: Any, **kwargs: Any) -> None:  # not a hook here
        return None


def _generate(connection: sa.Connection, table: sa.Table, count: int, users: int) -> None:
    """``count`` lines over the weekdays of 2026 in one INSERT ... SELECT in the database."""
    if connection.dialect.name == "postgresql":
        source = f"""
            SELECT 'org-1', 'user-' || lpad((g % {users})::text, 3, '0'),
                   DATE '2026-01-05' + (((g / {users}) % 52) * 7
                                        + (g / {users * 52}) % 5)::int,
                   'brand-' || ((g / {users * 260}) % 3), ((g * 7919) % 49900 + 100) / 100.0
            FROM generate_series(1::bigint, {count}) AS g
        """
        connection.execute(
            sa.text(
                f"INSERT INTO {table.name} (organization_id, user_id, date, brand_id, net) "
                + source
            )
        )
        return
    connection.execute(
        sa.text(
            f"""
            INSERT INTO {table.name} (organization_id, user_id, date, brand_id, net)
            WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {count})
            SELECT 'org-1', 'user-' || substr('00' || (n % {users}), -3),
                   date('2026-01-05', '+' || (((n / {users}) % 52) * 7
                        + (n / {users * 52}) % 5) || ' days'),
                   'brand-' || ((n / {users * 260}) % 3), ((n * 7919) % 49900 + 100) / 100.0
            FROM g
            """
        )
    )


def build(size: Size, url: str) -> tuple[Flask, Host, TimedSource, dict[str, float]]:
    app = Flask("bench_rollup")
    app.config.update(SQLALCHEMY_DATABASE_URI=url, GOALS_SCHEDULER_ENABLED=False)
    db = SQLAlchemy(model_class=team.HostBase)
    db.init_app(app)
    host = Host(db, {})
    source = TimedSource(day, month)
    Goals(app, plugins=[host, source], entry_points=False)
    timings: dict[str, float] = {}
    fixture = team.FULL
    with app.app_context():
        engine = db.engine
        metadata.drop_all(engine)
        metadata.create_all(engine)
        started = time.perf_counter()
        with engine.begin() as connection:
            _generate(connection, line, size.lines, fixture.users)
        timings["lines_s"] = time.perf_counter() - started
        started = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(REFRESH)
        timings["refresh_s"] = time.perf_counter() - started
        started = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(refresh_months(engine.dialect.name))
        timings["refresh_months_s"] = time.perf_counter() - started
        started = time.perf_counter()
        with engine.begin() as connection:
            _generate(connection, raw, size.raw_lines, fixture.users)
        timings["raw_lines_s"] = time.perf_counter() - started
        with engine.connect() as connection:
            for key, table in (("rollup_rows", day), ("month_rows", month)):
                timings[key] = connection.scalar(sa.select(sa.func.count()).select_from(table)) or 0
    team.load_goals(app, host, replace(fixture, lines=0))
    return app, host, source, timings


def measure(app: Flask, source: TimedSource, size: Size) -> dict[str, Any]:
    client = app.test_client()
    engine = app.extensions["sqlalchemy"].engine
    path = f"/api/goals/widgets/team?as_of={team.AS_OF}"

    def get() -> Any:
        response = client.get(path)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response

    results: dict[str, Any] = {}
    for name, table, monthly, scale in (
        ("rollup", day, month, 1.0),
        ("daily", day, None, 1.0),
        ("raw", raw, None, size.lines / size.raw_lines),
    ):
        source.use(table, monthly)
        payload = get().get_json()  # warm-up
        with counting(engine) as statements:
            get()
        figures = request_medians(get, size.runs, source.seconds)
        results[name] = {
            **figures,
            "statements": len(statements),
            "scale": scale,
            "source_at_full_s": figures["source_median_s"] * scale,
            "floor_median_s": floor_seconds(payload, size.runs),
            "goals": sum(len(c["goals"]) for c in payload["categories"]),
        }
    return results


def run(size: Size, url: str) -> dict[str, Any]:
    app, _host, source, timings = build(size, url)
    try:
        with app.app_context():
            return {"db": backend(url), **timings, **measure(app, source, size), "size": size}
    finally:
        with app.app_context():
            engine = app.extensions["sqlalchemy"].engine
            metadata.drop_all(engine)  # 10,000,000 lines are not left behind
        dispose(app)


def report(result: dict[str, Any]) -> list[str]:
    size: Size = result["size"]
    rollup, daily, raw_ = result["rollup"], result["daily"], result["raw"]
    return [
        f"{result['db']}: {size.lines:,} sales lines written in {result['lines_s']:.1f} s "
        f"(INSERT ... SELECT in the database); rollup refresh (INSERT ... SELECT ... GROUP BY) "
        f"{result['refresh_s']:.1f} s -> {result['rollup_rows']:,} day rows, months from the "
        f"days {result['refresh_months_s']:.1f} s -> {result['month_rows']:,} month rows",
        f"  team widget ({rollup['goals']} goals) on the daily + monthly rollup: median "
        f"{rollup['median_s'] * 1000:.1f} ms, metric source {rollup['source_median_s'] * 1000:.1f}"
        f" ms (target < 50 ms), own {rollup['own_median_s'] * 1000:.1f} ms, "
        f"{rollup['statements']} statements",
        f"  on the daily rollup alone: metric source {daily['source_median_s'] * 1000:.1f} ms, "
        f"median {daily['median_s'] * 1000:.1f} ms",
        f"  on {size.raw_lines:,} raw lines (indexed): metric source "
        f"{raw_['source_median_s'] * 1000:.1f} ms -> x{raw_['scale']:.0f} = "
        f"~{raw_['source_at_full_s'] * 1000:.0f} ms at {size.lines:,} lines (extrapolated "
        f"linearly)",
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="1,000,000 lines, 100,000 raw")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--lines", type=int)
    parser.add_argument("--raw-lines", type=int)
    args = parser.parse_args(argv)
    size = SMALL if args.small else FULL
    if args.lines:
        size = replace(size, lines=args.lines)
    if args.raw_lines:
        size = replace(size, raw_lines=args.raw_lines)
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'bench.db'}"
        print("\n".join(report(run(size, url))))


if __name__ == "__main__":
    main()
