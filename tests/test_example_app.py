"""The example host app: its factory, seed, and every hook implementation of its plugin.

These tests call ``ExampleHostPlugin``'s hook methods directly (not the Goals API): they check
that the reference host answers the hooks correctly from its own tables. The actuals are
checked against expectations computed in plain Python over rows inserted here, not the seed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, session

from example_app import create_app
from example_app.actuals import source
from example_app.models import (
    Activity,
    Holiday,
    Order,
    Organization,
    SalesLine,
    Team,
    TeamMembership,
    TeamWarehouse,
    User,
    db,
)
from example_app.models import Notification as NotificationRow
from example_app.plugin import ExampleHostPlugin
from flask_wiseparts_goals.models import Base as GoalsBase
from flask_wiseparts_goals.types import (
    ActualsQuery,
    ActualsResult,
    AuthTarget,
    Filters,
    Identity,
    LegacyTeamTargets,
    Notification,
)

DATABASE_URL = os.environ.get("GOALS_TEST_DATABASE_URL") or "sqlite://"

# The hand-made organization whose rows the actuals tests sum in Python.
ORG = "t-org"
OTHER = "t-other"
USERS = ("t-u1", "t-u2", "t-u3")
D0 = dt.date(2026, 1, 1)
#: Warehouses linked to teams of ORG (t-open has none; t-foreign belongs to OTHER).
TEAM_WAREHOUSES = {"t-team": ("wh-a", "wh-c"), "t-open": ()}

plugin = ExampleHostPlugin()


def _drop_everything() -> None:
    db.session.remove()
    GoalsBase.metadata.drop_all(db.engine)
    db.drop_all()


@pytest.fixture(scope="module")
def host_app() -> Iterator[Flask]:
    """The example app on the test database, seeded, plus the hand-made rows of ORG/OTHER."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": DATABASE_URL})
    with app.app_context():
        _drop_everything()
    result = app.test_cli_runner().invoke(args=["seed", "--reset"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        _insert_fixture_rows()
        db.session.commit()
    yield app
    with app.app_context():
        _drop_everything()
        db.engine.dispose()


@pytest.fixture
def ctx(host_app: Flask) -> Iterator[Flask]:
    """An app context per test; whatever a test flushed is rolled back."""
    with host_app.app_context():
        yield host_app
        db.session.rollback()


# -- hand-made rows --------------------------------------------------------------------------


def _money(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(1, 99_999)) / 100


def _trade_rows(rng: random.Random, n: int, orders: bool) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        organization = OTHER if i % 5 == 0 else ORG
        row = {
            "organization_id": organization,
            "date": D0 + dt.timedelta(days=rng.randint(0, 59)),
            # Rows of OTHER reuse ORG's user ids and every filter id: they must never leak.
            "user_id": rng.choice((*USERS, "t-x1", None)),
            "brand_id": rng.choice(("b1", "b2", "b3")),
            "brand_family_id": rng.choice(("f1", "f2", None)),
            "customer_id": rng.choice(("c1", "c2", "c3")),
            "customer_branch_id": rng.choice(("c1-x", "c2-x", None)),
            "wholesaler_branch_id": rng.choice(("wh-a", "wh-b", "wh-c")),
            "net": _money(rng),
            "gross": _money(rng),
            "quantity": Decimal(rng.randint(1, 30)),
            "margin": _money(rng) - Decimal(100),
        }
        if orders:
            row["channel"] = rng.choice(("phone", "email", "web", "shop", "social"))
            row["status"] = rng.choice(("quote", "confirmed"))
        rows.append(row)
    return rows


def _activity_rows(rng: random.Random, n: int) -> list[dict[str, Any]]:
    return [
        {
            "organization_id": OTHER if i % 5 == 0 else ORG,
            "date": D0 + dt.timedelta(days=rng.randint(0, 59)),
            "user_id": rng.choice((*USERS, "t-x1")),
            "type": rng.choice(("visit", "inbound_call", "outbound_call", "email", "task")),
            "verified": rng.random() < 0.5,
            "customer_id": rng.choice(("c1", "c2", None)),
            "customer_branch_id": rng.choice(("c1-x", "c2-x", None)),
        }
        for i in range(n)
    ]


ROWS: dict[str, list[dict[str, Any]]] = {}


def _insert_fixture_rows() -> None:
    rng = random.Random(7)
    ROWS["sales"] = _trade_rows(rng, 300, orders=False)
    ROWS["orders"] = _trade_rows(rng, 300, orders=True)
    ROWS["activities"] = _activity_rows(rng, 300)
    db.session.add_all(
        [
            Organization(id=ORG, name="Test Org", timezone="UTC", features=["orders"]),
            Organization(id=OTHER, name="Other Org", timezone="UTC", features=[]),
        ]
    )
    db.session.flush()
    db.session.add_all(
        [User(id=u, organization_id=ORG, name=u, email=f"{u}@t", role="rep") for u in USERS]
        + [User(id="t-x1", organization_id=OTHER, name="x1", email="x1@t", role="rep")]
    )
    db.session.flush()
    db.session.add_all(
        [
            Team(id="t-team", organization_id=ORG, name="Team", leader_id=None),
            Team(id="t-open", organization_id=ORG, name="Open", leader_id=None),
            Team(id="t-foreign", organization_id=OTHER, name="Foreign", leader_id=None),
        ]
    )
    db.session.flush()
    db.session.add_all(
        [
            TeamMembership(team_id="t-team", user_id="t-u2", position=0, joined_on=D0),
            TeamMembership(team_id="t-team", user_id="t-u1", position=1, joined_on=D0),
            TeamMembership(
                team_id="t-team",
                user_id="t-u3",
                position=2,
                joined_on=dt.date(2026, 2, 15),
                left_on=dt.date(2026, 3, 10),
            ),
            TeamMembership(team_id="t-open", user_id="t-u3", position=0, joined_on=D0),
            TeamWarehouse(team_id="t-team", wholesaler_branch_id="wh-a"),
            TeamWarehouse(team_id="t-team", wholesaler_branch_id="wh-c"),
            TeamWarehouse(team_id="t-foreign", wholesaler_branch_id="wh-b"),
            Holiday(organization_id=ORG, date=dt.date(2026, 2, 16), name="Test day"),
            Holiday(organization_id=OTHER, date=dt.date(2026, 2, 17), name="Not ours"),
        ]
    )
    db.session.execute(sa.insert(SalesLine), ROWS["sales"])
    db.session.execute(sa.insert(Order), ROWS["orders"])
    db.session.execute(sa.insert(Activity), ROWS["activities"])


# -- the expectation, in plain Python ---------------------------------------------------------


def _passes(row: dict[str, Any], q: ActualsQuery, category: str, organization: str) -> bool:
    f = q.filters
    if row["organization_id"] != organization or not q.start <= row["date"] <= q.end:
        return False
    if q.user_ids is not None and row["user_id"] not in q.user_ids:
        return False
    for column, include, exclude in (
        ("brand_id", f.brands_include, f.brands_exclude),
        ("brand_family_id", f.brand_families_include, f.brand_families_exclude),
        ("customer_id", f.customers_include, f.customers_exclude),
        ("customer_branch_id", f.customer_branches_include, f.customer_branches_exclude),
    ):
        if include and row.get(column) not in include:
            return False
        if exclude and row.get(column) in exclude:
            return False
    if category != "activities":
        if f.wholesaler_branches:
            if row["wholesaler_branch_id"] not in f.wholesaler_branches:
                return False
        elif TEAM_WAREHOUSES.get(q.team_id or "") and (
            row["wholesaler_branch_id"] not in TEAM_WAREHOUSES[q.team_id or ""]
        ):
            return False
    if f.activity_types and row["type"] not in f.activity_types:
        return False
    if f.verified_only and not row["verified"]:
        return False
    if f.ordered_only and row["status"] != "confirmed":
        return False
    return not (f.channels and row["channel"] not in f.channels)


def expected(category: str, q: ActualsQuery, organization: str = ORG) -> ActualsResult:
    sums: dict[str | None, Decimal] = defaultdict(Decimal)
    for row in ROWS[category]:
        if _passes(row, q, category, organization):
            sums[row["user_id"]] += 1 if q.metric == "count" else row[q.metric]
    per_user = {user: value for user, value in sums.items() if user is not None}
    for user in q.user_ids or ():
        per_user.setdefault(user, Decimal(0))
    return ActualsResult(total=sum(sums.values(), Decimal(0)), per_user=per_user)


@contextmanager
def statements() -> Iterator[list[str]]:
    """Collect the SQL statements sent to the database."""
    seen: list[str] = []

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)


def one_data_statement(seen: list[str]) -> bool:
    """One statement reads the data. On PostgreSQL ``SqlMetricSource`` also bounds it with its
    ``statement_timeout`` (SPEC §13b): one statement sets it, one restores it, around the read."""
    data = [statement for statement in seen if "set_config" not in statement]
    bounds = 2 if db.engine.dialect.name == "postgresql" else 0
    return len(data) == 1 and len(seen) == 1 + bounds


def query(key: str, metric: str, users: tuple[str, ...] | None = USERS, **kwargs: Any) -> Any:
    team_id = kwargs.pop("team_id", None)
    start = kwargs.pop("start", dt.date(2026, 1, 5))
    end = kwargs.pop("end", dt.date(2026, 2, 20))
    return ActualsQuery(
        key=key,
        metric=metric,
        start=start,
        end=end,
        user_ids=users,
        team_id=team_id,
        filters=Filters(**kwargs),
    )


CASES: list[tuple[str, ActualsQuery]] = [
    ("sales", query("sales-net", "net")),
    ("sales", query("sales-gross", "gross")),
    ("sales", query("sales-quantity", "quantity")),
    ("sales", query("sales-margin", "margin")),
    ("sales", query("brands-include", "net", brands_include=("b1", "b2"))),
    ("sales", query("brands-exclude", "net", brands_exclude=("b1",))),
    ("sales", query("families-include", "margin", brand_families_include=("f1",))),
    ("sales", query("families-exclude", "net", brand_families_exclude=("f1",))),
    ("sales", query("customers-include", "quantity", customers_include=("c2",))),
    ("sales", query("customers-exclude", "net", customers_exclude=("c1", "c3"))),
    ("sales", query("branches-include", "net", customer_branches_include=("c1-x",))),
    ("sales", query("branches-exclude", "gross", customer_branches_exclude=("c1-x",))),
    ("sales", query("wholesaler-branches", "net", wholesaler_branches=("wh-b",))),
    ("sales", query("team-warehouses", "net", ("t-u1", "t-u2"), team_id="t-team")),
    (
        "sales",
        query("team-explicit-branches", "net", team_id="t-team", wholesaler_branches=("wh-b",)),
    ),
    ("sales", query("team-without-warehouses", "net", ("t-u3",), team_id="t-open")),
    ("sales", query("whole-organization", "net", None)),
    ("sales", query("one-user", "gross", ("t-u1",))),
    (
        "sales",
        query(
            "combined",
            "net",
            brands_include=("b1", "b2"),
            customers_exclude=("c3",),
            customer_branches_exclude=("c2-x",),
            brand_families_exclude=("f2",),
        ),
    ),
    ("orders", query("orders-count", "count")),
    ("orders", query("orders-net", "net", None)),
    ("orders", query("ordered-only", "count", ordered_only=True)),
    ("orders", query("ordered-only-net", "net", ordered_only=True)),
    ("orders", query("channels", "count", channels=("web", "shop"))),
    ("orders", query("orders-brands-exclude", "gross", brands_exclude=("b3",))),
    ("orders", query("orders-team", "count", ("t-u1", "t-u2"), team_id="t-team")),
    (
        "orders",
        query(
            "orders-combined",
            "margin",
            channels=("phone", "email"),
            ordered_only=True,
            customer_branches_include=("c1-x", "c2-x"),
            wholesaler_branches=("wh-a",),
        ),
    ),
    ("activities", query("activities-count", "count")),
    ("activities", query("activity-types", "count", activity_types=("visit",))),
    ("activities", query("verified-only", "count", verified_only=True)),
    (
        "activities",
        query(
            "verified-visits-of-c1",
            "count",
            activity_types=("visit",),
            verified_only=True,
            customers_include=("c1",),
        ),
    ),
    ("activities", query("activity-customers-exclude", "count", customers_exclude=("c1",))),
    (
        "activities",
        query("activity-branches-include", "count", customer_branches_include=("c2-x",)),
    ),
    (
        "activities",
        query("activity-branches-exclude", "count", customer_branches_exclude=("c2-x",)),
    ),
    # Team warehouses scope sales and orders, not activities.
    ("activities", query("activity-team", "count", ("t-u1", "t-u2"), team_id="t-team")),
    ("activities", query("activity-organization", "count", None)),
]


# -- actuals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("category", "q"), CASES, ids=[q.key for _, q in CASES])
def test_each_filter_matches_a_plain_python_sum(ctx: Flask, category: str, q: ActualsQuery) -> None:
    result = source.goals_collect_actuals(organization_id=ORG, category=category, queries=[q])
    assert result is not None
    want = expected(category, q)
    assert want.total != 0, "the fixture rows must exercise the case"
    assert result[q.key] == want
    assert all(isinstance(v, Decimal) for v in (result[q.key].total, *want.per_user.values()))


def test_filters_really_filter(ctx: Flask) -> None:
    """Guard against a vacuous expectation: each filter changes the result."""
    base = expected("sales", query("x", "net")).total
    assert expected("sales", query("x", "net", brands_exclude=("b1",))).total < base
    team = query("x", "net", ("t-u1", "t-u2"), team_id="t-team")
    no_team = query("x", "net", ("t-u1", "t-u2"))
    assert expected("sales", team).total < expected("sales", no_team).total
    visits = query("x", "count", activity_types=("visit",), verified_only=True)
    assert expected("activities", visits).total < expected("activities", query("x", "count")).total


@pytest.mark.parametrize("category", ["sales", "orders", "activities"])
def test_a_whole_batch_is_one_sql_statement(ctx: Flask, category: str) -> None:
    batch = [q for c, q in CASES if c == category]
    with statements() as seen:
        result = source.goals_collect_actuals(organization_id=ORG, category=category, queries=batch)
    assert one_data_statement(seen), seen
    assert result == {q.key: expected(category, q) for q in batch}


def test_more_queries_than_sqlite_compound_limit_is_still_one_statement(ctx: Flask) -> None:
    batch = [
        query(
            f"q{i}",
            ("net", "gross", "quantity", "margin")[i % 4],
            USERS[: 1 + i % 3],
            start=D0 + dt.timedelta(days=i % 40),
            end=D0 + dt.timedelta(days=i % 40 + i % 17),
            brands_exclude=("b2",) if i % 2 else (),
            team_id="t-team" if i % 3 == 0 else None,
        )
        for i in range(650)
    ]
    with statements() as seen:
        result = source.goals_collect_actuals(organization_id=ORG, category="sales", queries=batch)
    assert one_data_statement(seen), seen
    assert result == {q.key: expected("sales", q) for q in batch}


def test_identical_queries_under_different_keys(ctx: Flask) -> None:
    a = query("a", "net", ("t-u1", "t-u2"))
    b = query("b", "net", ("t-u2", "t-u1"))
    result = source.goals_collect_actuals(organization_id=ORG, category="sales", queries=[a, b])
    assert result is not None
    assert result["a"] == result["b"] == expected("sales", a)


def test_whole_organization_total_includes_unassigned_sales(ctx: Flask) -> None:
    q = query("all", "net", None)
    result = source.goals_collect_actuals(organization_id=ORG, category="sales", queries=[q])
    assert result is not None
    unassigned = sum(
        (
            r["net"]
            for r in ROWS["sales"]
            if r["organization_id"] == ORG
            and r["user_id"] is None
            and q.start <= r["date"] <= q.end
        ),
        Decimal(0),
    )
    assert unassigned > 0
    assert result["all"].total == sum(result["all"].per_user.values()) + unassigned
    assert set(result["all"].per_user) <= {*USERS, "t-x1"}


def test_other_organizations_rows_are_never_counted(ctx: Flask) -> None:
    # OTHER's rows carry ORG's user ids and filter ids: only the organization tells them apart.
    q = query("q", "net", USERS)
    ours = source.goals_collect_actuals(organization_id=ORG, category="sales", queries=[q])
    theirs = source.goals_collect_actuals(organization_id=OTHER, category="sales", queries=[q])
    assert ours is not None and theirs is not None
    assert ours["q"] == expected("sales", q, ORG)
    assert theirs["q"] == expected("sales", q, OTHER)
    assert theirs["q"].total > 0
    all_rows = [r for r in ROWS["sales"] if q.start <= r["date"] <= q.end and r["user_id"] in USERS]
    assert ours["q"].total + theirs["q"].total == sum((r["net"] for r in all_rows), Decimal(0))


def test_a_foreign_team_lends_no_warehouses(ctx: Flask) -> None:
    """t-foreign (of OTHER) links wh-b; as the team of an ORG query it scopes nothing."""
    scoped = query("q", "net", team_id="t-foreign")
    result = source.goals_collect_actuals(organization_id=ORG, category="sales", queries=[scoped])
    assert result is not None
    assert result["q"] == expected("sales", query("q", "net"))


def test_empty_user_list_is_zero_without_sql(ctx: Flask) -> None:
    with statements() as seen:
        result = source.goals_collect_actuals(
            organization_id=ORG, category="sales", queries=[query("q", "net", ())]
        )
    assert seen == []
    assert result == {"q": ActualsResult(total=Decimal(0), per_user={})}


def test_unknown_category_is_left_to_other_sources(ctx: Flask) -> None:
    assert source.goals_collect_actuals(organization_id=ORG, category="visits", queries=[]) is None


@pytest.mark.parametrize(
    ("category", "q"),
    [
        ("sales", query("q", "count")),
        ("activities", query("q", "net")),
        ("sales", query("q", "net", channels=("web",))),
        ("activities", query("q", "count", brands_include=("b1",))),
        ("orders", query("q", "count", verified_only=True)),
    ],
)
def test_what_cannot_be_measured_is_refused(ctx: Flask, category: str, q: ActualsQuery) -> None:
    """A query the mapping cannot answer gets its own error (that goal's figures are null
    with the reason), never a silently wrong number."""
    result = source.goals_collect_actuals(organization_id=ORG, category=category, queries=[q])
    assert result is not None
    assert result["q"].error is not None and result["q"].total is None


# -- identity and authorization ---------------------------------------------------------------


def identity_of(app: Flask, user_id: str) -> Identity:
    with app.test_request_context(headers={"X-User-Id": user_id}):
        identity = plugin.goals_identity()
    assert identity is not None
    return identity


def test_identity_from_header(ctx: Flask) -> None:
    assert identity_of(ctx, "acme-rep-anna") == Identity(
        user_id="acme-rep-anna",
        organization_id="acme",
        timezone="Europe/Berlin",
        team_ids=frozenset({"acme-north"}),
        roles=frozenset({"rep"}),
        currency="EUR",
    )


def test_identity_from_session_and_header_precedence(ctx: Flask) -> None:
    with ctx.test_request_context():
        session["user_id"] = "globex-rep-1"
        identity = plugin.goals_identity()
        assert identity is not None
        assert (identity.user_id, identity.organization_id) == ("globex-rep-1", "globex")
        assert identity.timezone == "America/New_York"
    with ctx.test_request_context(headers={"X-User-Id": "acme-admin"}):
        session["user_id"] = "globex-rep-1"
        assert plugin.goals_identity().user_id == "acme-admin"  # type: ignore[union-attr]


def test_header_can_be_switched_off(ctx: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ctx.config, "EXAMPLE_ALLOW_USER_HEADER", False)
    with ctx.test_request_context(headers={"X-User-Id": "acme-admin"}):
        assert plugin.goals_identity() is None


@pytest.mark.parametrize("headers", [{}, {"X-User-Id": "nobody"}, {"X-User-Id": " "}])
def test_no_or_unknown_user_has_no_identity(ctx: Flask, headers: dict[str, str]) -> None:
    with ctx.test_request_context(headers=headers):
        assert plugin.goals_identity() is None


def test_no_identity_outside_a_request(ctx: Flask) -> None:
    assert plugin.goals_identity() is None


@pytest.mark.parametrize(
    ("user_id", "teams"),
    [
        ("acme-admin", set()),
        ("acme-manager-north", {"acme-north"}),  # leads it
        ("acme-rep-david", {"acme-north", "acme-south"}),  # member of both
        ("acme-rep-hans", set()),  # left South
        ("acme-rep-ida", {"acme-south"}),  # joined South later
        ("globex-rep-2", {"globex-east"}),
    ],
)
def test_identity_teams_are_current_memberships_and_led_teams(
    ctx: Flask, user_id: str, teams: set[str]
) -> None:
    assert identity_of(ctx, user_id).team_ids == frozenset(teams)


def goal(team_id: str | None = None, organization_id: str = "acme") -> AuthTarget:
    return AuthTarget(kind="goal", organization_id=organization_id, team_id=team_id, goal_id=1)


def new(team_id: str | None = None) -> AuthTarget:
    return AuthTarget(kind="organization", organization_id="acme", team_id=team_id)


ALL = ("read", "create", "update", "delete", "allocate")
MATRIX = [
    # admin: everything in the own organization, nothing elsewhere
    *[("acme-admin", action, goal(), True) for action in ALL],
    *[("acme-admin", action, goal("acme-south"), True) for action in ALL],
    ("acme-admin", "create", new(), True),
    ("acme-admin", "read", goal(None, "globex"), False),
    ("acme-admin", "update", goal("globex-east", "globex"), False),
    # manager: reads all of the organization, writes goals of the teams it leads
    ("acme-manager-north", "read", goal(), True),
    ("acme-manager-north", "read", goal("acme-south"), True),
    (
        "acme-manager-north",
        "read",
        AuthTarget(kind="team", organization_id="acme", team_id="acme-south"),
        True,
    ),
    ("acme-manager-north", "create", new(), False),
    ("acme-manager-north", "create", new("acme-north"), True),
    ("acme-manager-north", "create", new("acme-south"), False),
    *[("acme-manager-north", a, goal("acme-north"), True) for a in ALL],
    *[("acme-manager-north", a, goal("acme-south"), False) for a in ALL if a != "read"],
    *[("acme-manager-north", a, goal(), False) for a in ALL if a != "read"],
    ("acme-manager-north", "read", goal(None, "globex"), False),
    ("acme-manager-north", "frobnicate", goal("acme-north"), False),
    # rep: reads organization-wide goals and those of own teams, writes nothing
    ("acme-rep-anna", "read", goal(), True),
    ("acme-rep-anna", "read", goal("acme-north"), True),
    ("acme-rep-anna", "read", goal("acme-south"), False),
    (
        "acme-rep-anna",
        "read",
        AuthTarget(kind="team", organization_id="acme", team_id="acme-south"),
        False,
    ),
    ("acme-rep-anna", "read", new(), True),
    *[("acme-rep-anna", a, goal("acme-north"), False) for a in ALL if a != "read"],
    ("acme-rep-anna", "create", new(), False),
    ("acme-rep-david", "read", goal("acme-south"), True),
    ("globex-rep-1", "read", goal(), False),
]


@pytest.mark.parametrize(("user_id", "action", "target", "allowed"), MATRIX)
def test_authorize_matrix(
    ctx: Flask, user_id: str, action: str, target: AuthTarget, allowed: bool
) -> None:
    identity = identity_of(ctx, user_id)
    assert plugin.goals_authorize(identity=identity, action=action, target=target) is allowed


# -- features, teams, calendars ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("organization_id", "feature", "enabled"),
    [
        ("acme", "orders", True),
        ("globex", "orders", False),
        ("acme", "x", False),
        ("nope", "orders", None),
    ],
)
def test_feature_enabled(
    ctx: Flask, organization_id: str, feature: str, enabled: bool | None
) -> None:
    assert plugin.goals_feature_enabled(organization_id=organization_id, feature=feature) is enabled


@pytest.mark.parametrize(
    ("on", "members"),
    [
        (dt.date(2025, 12, 31), []),
        (dt.date(2026, 2, 14), ["t-u2", "t-u1"]),
        (dt.date(2026, 2, 15), ["t-u2", "t-u1", "t-u3"]),  # joined_on is inclusive
        (dt.date(2026, 3, 10), ["t-u2", "t-u1", "t-u3"]),  # left_on is the last day
        (dt.date(2026, 3, 11), ["t-u2", "t-u1"]),
    ],
)
def test_team_members_on_a_date_in_display_order(
    ctx: Flask, on: dt.date, members: list[str]
) -> None:
    assert plugin.goals_team_members(organization_id=ORG, team_id="t-team", on=on) == members


@pytest.mark.parametrize(
    ("organization_id", "team_id"), [(ORG, "nope"), (OTHER, "t-team"), (ORG, "t-foreign")]
)
def test_team_members_of_unknown_or_foreign_team(
    ctx: Flask, organization_id: str, team_id: str
) -> None:
    assert (
        plugin.goals_team_members(organization_id=organization_id, team_id=team_id, on=D0) is None
    )


def test_seeded_team_replaced_a_member(ctx: Flask) -> None:
    members = plugin.goals_team_members(
        organization_id="acme", team_id="acme-south", on=dt.date.today()
    )
    assert members == [
        "acme-rep-eva",
        "acme-rep-felix",
        "acme-rep-greta",
        "acme-rep-ida",
        "acme-rep-david",
    ]
    hans = db.session.scalars(sa.select(TeamMembership).filter_by(user_id="acme-rep-hans")).one()
    assert hans.left_on is not None
    then = plugin.goals_team_members(organization_id="acme", team_id="acme-south", on=hans.left_on)
    assert then is not None and "acme-rep-hans" in then and "acme-rep-ida" not in then


def test_business_days_skip_weekends_and_own_holidays(ctx: Flask) -> None:
    days = plugin.goals_business_days(
        organization_id=ORG, team_id=None, start=dt.date(2026, 2, 12), end=dt.date(2026, 2, 23)
    )
    # Mon 16 is ORG's holiday; Tue 17 is OTHER's and stays a business day here.
    assert days == [dt.date(2026, 2, d) for d in (12, 13, 17, 18, 19, 20, 23)]


def test_business_days_skip_seeded_holidays(ctx: Flask) -> None:
    holiday = db.session.scalars(
        sa.select(Holiday).where(Holiday.organization_id == "acme").order_by(Holiday.date)
    ).all()
    weekday_holiday = next(h for h in holiday if h.date.weekday() < 5)
    monday = weekday_holiday.date - dt.timedelta(days=weekday_holiday.date.weekday())
    days = plugin.goals_business_days(
        organization_id="acme", team_id="acme-north", start=monday, end=monday + dt.timedelta(6)
    )
    assert weekday_holiday.date not in days
    assert len(days) == 4


# -- notifications and legacy targets ---------------------------------------------------------


def test_notify_stores_and_logs(ctx: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="example_app")
    note = Notification(
        kind="recurrence_review",
        recipient_id="acme-manager-north",
        goal_id=7,
        message="New members got a zero target.",
        data={"new_member_ids": ["acme-rep-ida"], "period_start": dt.date(2026, 4, 1)},
    )
    plugin.goals_notify(organization_id="acme", notification=note)
    # The seed's own notifications (docs/coaching.md) are of the extension's kinds.
    row = db.session.scalars(
        sa.select(NotificationRow).where(NotificationRow.kind == "recurrence_review")
    ).one()
    assert (row.organization_id, row.recipient_id, row.kind, row.goal_id) == (
        "acme",
        "acme-manager-north",
        "recurrence_review",
        7,
    )
    assert row.data == {"new_member_ids": ["acme-rep-ida"], "period_start": "2026-04-01"}
    assert "New members got a zero target." in caplog.text


def test_legacy_activity_targets(ctx: Flask) -> None:
    legacy = plugin.goals_legacy_activity_targets(organization_id="acme")
    assert legacy == [
        LegacyTeamTargets(
            team_id="acme-north",
            daily_targets={
                "acme-rep-anna": Decimal("4.00"),
                "acme-rep-bernd": Decimal("3.50"),
                "acme-rep-clara": Decimal("4.00"),
                "acme-rep-david": Decimal("2.00"),
            },
            activity_types=("visit",),
            verified_only=True,
        ),
        LegacyTeamTargets(
            team_id="acme-south",
            daily_targets={
                "acme-rep-david": Decimal("1.50"),
                "acme-rep-eva": Decimal("3.00"),
                "acme-rep-felix": Decimal("3.00"),
                "acme-rep-greta": Decimal("2.50"),
                "acme-rep-ida": Decimal("3.00"),
            },
            activity_types=("visit", "outbound_call"),
            verified_only=False,
        ),
    ]
    assert plugin.goals_legacy_activity_targets(organization_id="globex") == []


# -- the app factory and the seed -------------------------------------------------------------


def test_seed_creates_both_organizations(ctx: Flask) -> None:
    def count(model: Any, org: str) -> int:
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(model).where(model.organization_id == org)
        )

    assert count(User, "acme") == 12 and count(User, "globex") == 5
    assert count(Team, "acme") == 2 and count(Team, "globex") == 1
    assert count(SalesLine, "acme") > 1000 and count(Activity, "acme") > 1000
    assert count(Order, "acme") > 500 and count(Order, "globex") == 0  # orders are off there
    assert count(Order, "acme") + count(SalesLine, "acme") + count(Activity, "acme") < 20_000
    tables = set(sa.inspect(db.engine).get_table_names())
    assert {t.name for t in GoalsBase.metadata.sorted_tables} <= tables


def test_seed_is_deterministic_and_idempotent() -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    runner = app.test_cli_runner()

    def digest() -> tuple[Any, ...]:
        with app.app_context():
            trade = [
                tuple(
                    db.session.execute(
                        sa.select(sa.func.count(), sa.func.sum(model.net)).select_from(model)
                    ).one()
                )
                for model in (SalesLine, Order)
            ]
            return (*trade, db.session.scalar(sa.select(sa.func.count()).select_from(Activity)))

    assert runner.invoke(args=["seed", "--today", "2026-03-18"]).exit_code == 0
    first = digest()
    again = runner.invoke(args=["seed", "--today", "2026-03-18"])
    assert "already present" in again.output
    assert digest() == first
    assert runner.invoke(args=["seed", "--reset", "--today", "2026-03-18"]).exit_code == 0
    assert digest() == first
    with app.app_context():
        first_day = db.session.scalar(sa.select(sa.func.min(SalesLine.date)))
        last_day = db.session.scalar(sa.select(sa.func.max(SalesLine.date)))
        db.session.remove()
        db.engine.dispose()
    assert first_day >= dt.date(2025, 9, 1) and last_day <= dt.date(2026, 3, 31)


def test_database_url_from_config_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMPLE_DATABASE_URL", "sqlite:///from-env.db")
    assert (
        create_app({"TESTING": True}).config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///from-env.db"
    )
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://"
    assert app.config["GOALS_SCHEDULER_ENABLED"] is False
    monkeypatch.delenv("EXAMPLE_DATABASE_URL")
    default = create_app({"TESTING": True}).config["SQLALCHEMY_DATABASE_URI"]
    assert default.startswith("sqlite:///") and default.endswith("example.db")


def test_seed_creates_demo_goals_through_the_api(ctx: Flask) -> None:
    from example_app.seed import DEMO_GOALS
    from flask_wiseparts_goals.models import Goal

    # The demo goals first; then those of the coaching demo (test_coaching_inbox.py).
    goals = db.session.scalars(sa.select(Goal).order_by(Goal.id)).all()[: len(DEMO_GOALS)]
    assert [g.description for g in goals] == [body["description"] for _, body, _ in DEMO_GOALS]
    assert {g.organization_id for g in goals} == {"acme", "globex"}
    north = goals[0]
    assert all(
        sum(a.target for a in interval.allocations) == interval.aim for interval in north.intervals
    )  # distributed equally, month by month
    widget = (
        ctx.test_client()
        .get("/api/goals/widgets/team", headers={"X-User-Id": "acme-admin"})
        .get_json()
    )
    assert [c["category"] for c in widget["categories"]] == ["sales", "orders", "activities"]
    assert all(c["actuals_available"] for c in widget["categories"])


def test_names_for_the_goal_ui(ctx: Flask) -> None:
    """goals_entities: users and teams by name, filter ids named after the id, per tenant."""
    with ctx.test_request_context():
        brands = plugin.goals_entities(
            organization_id="acme", kind="brand", ids=None, search="bos", limit=50
        )
        assert brands == [{"id": "brand-bosch", "name": "Bosch"}]
        customers = plugin.goals_entities(
            organization_id="acme",
            kind="customer",
            ids=["cust-autohaus-mueller", "cust-unknown"],
            search=None,
            limit=50,
        )
        assert customers == [{"id": "cust-autohaus-mueller", "name": "Autohaus Mueller"}]
        teams = plugin.goals_entities(
            organization_id="globex", kind="team", ids=["acme-north"], search=None, limit=50
        )
        assert teams == []
        users = plugin.goals_entities(
            organization_id="acme", kind="user", ids=None, search="anna", limit=5
        )
        assert users == [{"id": "acme-rep-anna", "name": "Anna Albers"}]
