"""``SqlMetricSource`` against real tables (SPEC §7): a table of lines, a view over it and a daily
rollup table, on the suite's database (SQLite, or PostgreSQL with ``GOALS_TEST_DATABASE_URL``).

Every expectation is a plain Python sum over the rows inserted here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import ORG, OTHER_ORG, sales_goal

from flask_wiseparts_goals import Goals
from flask_wiseparts_goals.sources import SqlMapping, SqlMetricSource
from flask_wiseparts_goals.types import ActualsQuery, Filters, MetricCapabilities

META = sa.MetaData()
LINES = sa.Table(
    "host_sales_lines",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("seller", sa.String(64)),
    sa.Column("brand", sa.String(16)),
    sa.Column("family", sa.String(16)),
    sa.Column("customer", sa.String(16)),
    sa.Column("branch", sa.String(16)),
    sa.Column("wholesaler", sa.String(16)),
    sa.Column("channel", sa.String(16)),
    sa.Column("kind", sa.String(16)),
    sa.Column("verified", sa.Boolean, nullable=False),
    sa.Column("amount", sa.Numeric(18, 2), nullable=False),
    sa.Column("pieces", sa.Numeric(18, 2), nullable=False),
)
ROLLUP = sa.Table(
    "host_sales_daily",
    META,
    sa.Column("organization_id", sa.String(64), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("seller", sa.String(64), primary_key=True),
    sa.Column("brand", sa.String(16), primary_key=True),
    sa.Column("amount", sa.Numeric(18, 2), nullable=False),
    sa.Column("lines", sa.Integer, nullable=False),
)
#: The same rollup by calendar month (``day`` is the month's first day), built from ROLLUP.
MONTHLY = sa.Table(
    "host_sales_monthly",
    META,
    *(sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable) for c in ROLLUP.c),
)
VIEW = sa.table(
    "host_sales_view",
    *(sa.column(c.name, c.type) for c in LINES.c if c.name != "id"),
)

USERS = ("u1", "u2", "u3", "7")
START, END = dt.date(2026, 1, 1), dt.date(2026, 3, 31)
DIMENSIONS = {
    "brands": "brand",
    "brand_families": "family",
    "customers": "customer",
    "customer_branches": "branch",
    "wholesaler_branches": "wholesaler",
    "channels": "channel",
    "activity_types": "kind",
}
FULL = SqlMapping(
    "sales",
    LINES,
    metrics={"net": "amount", "quantity": "pieces"},
    count="*",
    filters={**DIMENSIONS, "verified_only": "verified"},
    date="day",
    user="seller",
)


def _rows() -> list[dict[str, Any]]:
    rng = random.Random(13)
    rows = []
    for i in range(400):
        rows.append(
            {
                "id": i + 1,
                "organization_id": ORG if i % 9 else OTHER_ORG,
                "day": START + dt.timedelta(days=rng.randrange(-10, 100)),
                "seller": rng.choice([*map(str, USERS), None]),
                "brand": rng.choice(["b1", "b2", "b3"]),
                "family": rng.choice(["f1", "f2", None]),
                "customer": rng.choice(["c1", "c2", "c3"]),
                "branch": rng.choice(["c1-a", "c2-a", None]),
                "wholesaler": rng.choice(["w1", "w2"]),
                "channel": rng.choice(["web", "shop", "email"]),
                "kind": rng.choice(["visit", "call"]),
                "verified": rng.random() < 0.5,
                "amount": Decimal(rng.randrange(-500, 100000)) / 100,
                "pieces": Decimal(rng.randrange(1, 2000)) / 100,
            }
        )
    return rows


ROWS = _rows()


@pytest.fixture
def tables(app, db) -> Iterator[None]:
    engine = db.engine
    with engine.begin() as conn:
        conn.execute(sa.text("DROP VIEW IF EXISTS host_sales_view"))
    META.drop_all(engine)
    META.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(LINES), ROWS)
        grouped = sa.select(
            LINES.c.organization_id,
            LINES.c.day,
            LINES.c.seller,
            LINES.c.brand,
            sa.func.sum(LINES.c.amount),
            sa.func.count(),
        ).where(LINES.c.seller.is_not(None))
        conn.execute(
            sa.insert(ROLLUP).from_select(
                ["organization_id", "day", "seller", "brand", "amount", "lines"],
                grouped.group_by(
                    LINES.c.organization_id, LINES.c.day, LINES.c.seller, LINES.c.brand
                ),
            )
        )
        month = (
            sa.cast(sa.func.date_trunc("month", ROLLUP.c.day), sa.Date)
            if engine.dialect.name == "postgresql"
            else sa.func.date(ROLLUP.c.day, "start of month")
        )
        conn.execute(
            sa.insert(MONTHLY).from_select(
                ["organization_id", "day", "seller", "brand", "amount", "lines"],
                sa.select(
                    ROLLUP.c.organization_id,
                    month,
                    ROLLUP.c.seller,
                    ROLLUP.c.brand,
                    sa.func.sum(ROLLUP.c.amount),
                    sa.func.sum(ROLLUP.c.lines),
                ).group_by(ROLLUP.c.organization_id, month, ROLLUP.c.seller, ROLLUP.c.brand),
            )
        )
        columns = ", ".join(c.name for c in LINES.c if c.name != "id")
        conn.execute(
            sa.text(f"CREATE VIEW host_sales_view AS SELECT {columns} FROM host_sales_lines")
        )
    yield
    db.session.remove()  # PostgreSQL: the read's transaction would block the DROPs
    with engine.begin() as conn:
        conn.execute(sa.text("DROP VIEW IF EXISTS host_sales_view"))
    META.drop_all(engine)


@contextmanager
def statements_on(db, table: str) -> Iterator[list[str]]:
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if table in statement:
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)


def query(key: str, metric: str = "net", users: Any = USERS, **filters: Any) -> ActualsQuery:
    group_by = filters.pop("group_by", None)
    return ActualsQuery(
        key=key,
        metric=metric,
        start=filters.pop("start", START),
        end=filters.pop("end", END),
        user_ids=None if users is None else tuple(users),
        filters=Filters(**filters),
        group_by=group_by,
    )


def _keeps(row: dict[str, Any], q: ActualsQuery, organization_id: str) -> bool:
    f = q.filters
    if row["organization_id"] != organization_id or not q.start <= row["day"] <= q.end:
        return False
    if q.user_ids is not None and row["seller"] not in {str(u) for u in q.user_ids}:
        return False
    for name, column in DIMENSIONS.items():
        if name in ("brands", "brand_families", "customers", "customer_branches"):
            include, exclude = getattr(f, f"{name}_include"), getattr(f, f"{name}_exclude")
            if include and row[column] not in include:
                return False
            if exclude and row[column] in exclude:
                return False
        elif getattr(f, name) and row[column] not in getattr(f, name):
            return False
    return not (f.verified_only and not row["verified"])


def expected(q: ActualsQuery, organization_id: str = ORG) -> dict[str, Any]:
    per_user: dict[str, Decimal] = {str(u): Decimal(0) for u in q.user_ids or ()}
    groups: dict[str, Decimal] = defaultdict(Decimal)
    total = Decimal(0)
    for row in ROWS:
        if not _keeps(row, q, organization_id):
            continue
        value = (
            Decimal(1) if q.metric == "count" else row["amount" if q.metric == "net" else "pieces"]
        )
        total += value
        if row["seller"] is not None:
            per_user[row["seller"]] = per_user.get(row["seller"], Decimal(0)) + value
        if q.group_by:
            column = DIMENSIONS[{"brand": "brands", "brand_family": "brand_families",
                                 "customer": "customers", "channel": "channels"}[q.group_by]]  # fmt: skip
            groups[row[column] or ""] += value
    return {"total": total, "per_user": per_user, "groups": dict(groups) if q.group_by else None}


def answer(source: SqlMetricSource, queries: list[ActualsQuery], organization_id: str = ORG):
    result = source.goals_collect_actuals(
        organization_id=organization_id, category="sales", queries=queries
    )
    assert result is not None
    return result


def as_dict(result) -> dict[str, Any]:
    return {
        "total": result.total,
        "per_user": dict(result.per_user),
        "groups": None if result.groups is None else dict(result.groups),
    }


CASES = [
    query("plain"),
    query("organization", users=None),
    query("count", "count"),
    query("quantity", "quantity"),
    query("range", start=dt.date(2026, 2, 1), end=dt.date(2026, 2, 28)),
    query("brands-in", brands_include=("b1", "b2")),
    query("brands-out", brands_exclude=("b1",)),
    query("families-in", brand_families_include=("f1",)),
    query("families-out", brand_families_exclude=("f1",)),  # NULL families are not excluded
    query("customers-in", customers_include=("c2",)),
    query("customers-out", customers_exclude=("c2", "c3")),
    query("branches-in", customer_branches_include=("c1-a",)),
    query("branches-out", customer_branches_exclude=("c1-a",)),
    query("wholesalers", wholesaler_branches=("w2",)),
    query("channels", channels=("web", "email")),
    query("kinds", "count", activity_types=("visit",)),
    query("verified", "count", verified_only=True),
    query("combined", brands_include=("b1", "b3"), customers_exclude=("c1",), channels=("web",)),
    query("nobody", users=()),
]


@pytest.mark.parametrize("on_view", [False, True], ids=["table", "view"])
def test_every_filter_matches_a_python_sum(app, db, tables, on_view):
    mapping = FULL if not on_view else SqlMapping(**{**vars(FULL), "table": VIEW})
    source = SqlMetricSource(mapping)
    with statements_on(db, "host_sales_") as seen:
        result = answer(source, CASES)
    assert len(seen) == 1  # the whole batch, one statement
    for q in CASES:
        assert as_dict(result[q.key]) == expected(q), q.key
        if q.key != "nobody":
            assert result[q.key].total != 0, f"{q.key}: the rows must exercise the case"
    assert result["brands-out"].total != result["plain"].total
    assert "7" in result["plain"].per_user


def test_other_organizations_rows_never_count(app, db, tables):
    source = SqlMetricSource(FULL)
    ours, theirs = answer(source, [query("q")]), answer(source, [query("q")], OTHER_ORG)
    assert as_dict(ours["q"]) == expected(query("q"))
    assert as_dict(theirs["q"]) == expected(query("q"), OTHER_ORG)
    assert theirs["q"].total != 0


@pytest.mark.parametrize("dimension", ["brand", "brand_family", "customer", "channel"])
def test_group_by_matches_a_python_sum(app, db, tables, dimension):
    source = SqlMetricSource(FULL)
    grouped = query("g", group_by=dimension, brands_exclude=("b3",))
    plain = query("p", brands_exclude=("b3",))
    with statements_on(db, "host_sales_") as seen:
        result = answer(source, [grouped, plain])
    assert len(seen) == 1
    assert as_dict(result["g"]) == expected(grouped)
    assert sum(result["g"].groups.values()) == result["g"].total == result["p"].total
    assert result["p"].groups is None


def test_a_rollup_table_answers_like_the_lines(app, db, tables):
    rollup = SqlMapping(
        "sales",
        ROLLUP,
        metrics={"net": "amount"},
        count="lines",
        filters={"brands": "brand"},
        date="day",
        user="seller",
    )
    source = SqlMetricSource(rollup)
    queries = [
        query("net"),
        query("count", "count"),
        query("brands", brands_include=("b2",)),
        query("grouped", group_by="brand", brands_exclude=("b1",)),
    ]
    result = answer(source, queries)
    for q in queries:
        assert as_dict(result[q.key]) == expected(q), q.key
    assert rollup.capabilities() == MetricCapabilities(
        metrics=frozenset({"net", "count"}),
        filters=frozenset({"brands"}),
        group_by=frozenset({"brand"}),
    )
    # What the rollup cannot answer is that query's error, not a wrong number.
    refused = answer(source, [query("c", customers_include=("c1",)), query("ok")])
    assert refused["c"].error == "The sales source cannot apply the filters customers."
    assert refused["c"].total is None
    assert refused["ok"].total == expected(query("ok"))["total"]
    assert answer(source, [query("m", "quantity")])["m"].error is not None
    assert answer(source, [query("g", group_by="customer")])["g"].error is not None


def test_capabilities_come_from_the_mapping(app):
    source = SqlMetricSource(FULL)
    declared = source.goals_metric_capabilities(organization_id=ORG, category="sales")
    assert declared.metrics == {"net", "quantity", "count"}
    assert declared.filters == {*DIMENSIONS, "verified_only"}
    assert declared.group_by == {
        "brand",
        "brand_family",
        "customer",
        "customer_branch",
        "wholesaler_branch",
        "channel",
        "activity_type",
    }
    assert source.goals_metric_capabilities(organization_id=ORG, category="orders") is None
    assert source.goals_collect_actuals(organization_id=ORG, category="orders", queries=[]) is None
    with pytest.raises(ValueError, match="mapped twice"):
        SqlMetricSource(FULL, FULL)


def test_one_statement_per_category_per_request(app, db, api, tables):
    """Through the API: a dashboard of many goals (and a goal's progress of many intervals and
    members) is one statement on the source's table; /meta follows the mapping."""
    rollup = SqlMapping(
        "sales", ROLLUP, metrics={"net": "amount"}, filters={"brands": "brand"},
        date="day", user="seller",
    )  # fmt: skip
    Goals.state(app).plugin_manager.register(SqlMetricSource(rollup))
    api.post("/goals", json=sales_goal(team_id="team-a", split_into_subperiods=True))
    for brand in ("b1", "b2", "b3"):
        api.post("/goals", json=sales_goal(filters={"brands": {"include": [brand]}}))
    refused = api.post("/goals", json=sales_goal(metric="gross"))
    assert refused.status_code == 422 and "metric" in refused.json["errors"]["json"]
    meta = next(c for c in api.get("/meta").json["categories"] if c["category"] == "sales")
    assert (meta["metrics"], meta["filters"], meta["group_by"]) == (["net"], ["brands"], ["brand"])

    with statements_on(db, "host_sales_daily") as seen:
        body = api.get("/widgets/team?as_of=2026-02-10").json
    assert len(seen) == 1
    sales = next(c for c in body["categories"] if c["category"] == "sales")
    brands = {
        e["goal"]["id"]: e["period"]["actual"]
        for e in sales["goals"]
        if e["goal"]["team_id"] is None
    }
    # The rollup holds assigned lines only: the organization's total is its sellers' total.
    want = [
        expected(query("b", end=dt.date(2026, 2, 10), brands_include=(b,)))["total"]
        for b in ("b1", "b2", "b3")
    ]
    assert [Decimal(v) for v in brands.values()] == want


def _months(key: str, metric: str = "net", **kwargs: Any) -> list[ActualsQuery]:
    """The same question over each month of the range (and a gap: February 10-19 not asked)."""
    spans = [
        (dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
        (dt.date(2026, 2, 1), dt.date(2026, 2, 9)),
        (dt.date(2026, 2, 20), dt.date(2026, 2, 28)),
        (dt.date(2026, 3, 1), dt.date(2026, 3, 15)),
    ]
    return [
        query(f"{key}-{i}", metric, start=start, end=end, **kwargs)
        for i, (start, end) in enumerate(spans)
    ]


@pytest.mark.parametrize("on_rollup", [False, True], ids=["lines", "rollup"])
def test_queries_on_disjoint_days_share_a_select_and_keep_their_own_sums(
    app, db, tables, on_rollup
):
    """A goal's intervals (the same question on days that do not overlap) are read with one
    SELECT and a CASE on the day: each still sums only its own days, a day in a gap counts in
    none, and an overlapping range (the whole quarter) keeps its own SELECT."""
    mapping = FULL
    if on_rollup:
        mapping = SqlMapping(
            "sales",
            ROLLUP,
            metrics={"net": "amount"},
            count="lines",
            filters={"brands": "brand"},
            date="day",
            user="seller",
        )
    source = SqlMetricSource(mapping)
    queries = [
        *_months("plain"),
        # (The rollup has no rows without a seller: organization-wide on the lines only.)
        *([] if on_rollup else _months("organization", users=None)),
        *_months("brand", brands_include=("b1",)),
        *_months("grouped", group_by="brand"),
        *_months("count", metric="count"),
        query("quarter"),
        query("quarter-brand", brands_include=("b1",), group_by="brand"),
    ]
    with statements_on(db, "host_sales_") as seen:
        result = answer(source, queries)
    assert len(seen) == 1
    # One SELECT per question over the months, one per whole quarter (2).
    assert seen[0].upper().count("SELECT") == (6 if on_rollup else 7)
    for q in queries:
        assert as_dict(result[q.key]) == expected(q), q.key
    months = [result[f"plain-{i}"].total for i in range(4)]
    assert all(months) and sum(months) < result["quarter"].total  # the gap is not counted


MONTHLY_MAPPING = SqlMapping(
    "sales",
    ROLLUP,
    metrics={"net": "amount"},
    count="lines",
    filters={"brands": "brand"},
    date="day",
    user="seller",
    monthly=MONTHLY,
)


def test_a_monthly_rollup_answers_whole_months_and_the_daily_one_the_edges(app, db, tables):
    """With ``monthly``, whole calendar months come from the month table and only the days
    around them from the daily one, in the same single statement; every sum is still the
    lines' (edges inside a month, ranges without a whole month, a range over a year end,
    filters, group by, count, overlapping and shared pieces)."""
    d = dt.date
    spans = [
        (START, END),  # three whole months
        (d(2026, 1, 15), d(2026, 3, 10)),  # days, February, days
        (d(2025, 12, 22), d(2026, 2, 28)),  # over the year end: days, then two months
        (d(2026, 2, 3), d(2026, 2, 20)),  # inside a month: days only
        (d(2026, 1, 31), d(2026, 2, 1)),  # two days across a month end
        (d(2026, 3, 1), d(2026, 3, 31)),  # one whole month
        (d(2026, 3, 1), d(2026, 3, 15)),  # its first half: the same days as the next piece
        (d(2026, 1, 1), d(2026, 3, 15)),  # two months, then March 1-15 (shared)
    ]
    queries = [
        query(f"{kind}-{i}", metric, start=start, end=end, **extra)
        for i, (start, end) in enumerate(spans)
        for kind, metric, extra in (
            ("net", "net", {}),
            ("count", "count", {}),
            ("brand", "net", {"brands_exclude": ("b2",)}),
            ("grouped", "net", {"group_by": "brand"}),
        )
    ]
    with statements_on(db, "host_sales_") as seen:
        result = answer(SqlMetricSource(MONTHLY_MAPPING), queries)
    assert len(seen) == 1
    assert "host_sales_monthly" in seen[0] and "host_sales_daily" in seen[0]
    for q in queries:
        assert as_dict(result[q.key]) == expected(q), q.key
    # Within a month only: the month table is not read at all.
    with statements_on(db, "host_sales_") as seen:
        inside = answer(SqlMetricSource(MONTHLY_MAPPING), [query("in", end=dt.date(2026, 1, 30))])
    assert "host_sales_monthly" not in seen[0]
    assert as_dict(inside["in"]) == expected(query("in", end=dt.date(2026, 1, 30)))


def test_a_monthly_rollup_is_not_used_where_host_code_sees_the_days(app, db, tables):
    """A ``scope`` (or a callable filter) gets each query with its own days: the mapping then
    reads the daily table only, so the host's condition sees the range it was asked for."""
    seen_ranges = []

    def scope(table, organization_id, q):
        seen_ranges.append((q.start, q.end))
        return None

    mapping = dataclasses.replace(MONTHLY_MAPPING, scope=scope)
    with statements_on(db, "host_sales_") as seen:
        result = answer(SqlMetricSource(mapping), [query("q", start=dt.date(2026, 1, 15))])
    assert "host_sales_monthly" not in seen[0]
    assert seen_ranges == [(dt.date(2026, 1, 15), END)]
    assert as_dict(result["q"]) == expected(query("q", start=dt.date(2026, 1, 15)))


def test_queries_for_different_users_share_a_select_and_keep_their_own_sums(app, db, tables):
    """Every team's goals over the same months (the team widget) are one SELECT per range
    layer whatever the number of teams: it reads the union of the teams' members, grouped by
    user, and each query sums only its own members (a member of two teams counts in both)."""
    teams = {"a": ("u1", "u2"), "b": ("u2", "u3"), "c": ("7",), "d": USERS}
    queries = [
        q
        for team, members in teams.items()
        for q in [*_months(team, users=members), query(f"{team}-quarter", users=members)]
    ]
    with statements_on(db, "host_sales_") as seen:
        result = answer(SqlMetricSource(FULL), queries)
    assert len(seen) == 1
    assert seen[0].upper().count("SELECT") == 2  # the months, and the quarter (overlapping)
    for q in queries:
        assert as_dict(result[q.key]) == expected(q), q.key
    assert result["a-quarter"].per_user["u2"] == result["b-quarter"].per_user["u2"] != 0
