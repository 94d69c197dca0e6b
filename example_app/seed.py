"""Demo data: two organizations with users, teams, sales, orders and activities.

``flask --app example_app seed [--reset] [--today YYYY-MM-DD]``. Data are deterministic for a
given "today" (``random.Random(42)``) and span from the first day of the month six months back
to the end of the current month. No goals are created: the Goals API is there for that.

Two organizations make tenancy visible: the same brand ids exist in both, and nothing of one
may ever show up in the other's goals.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import click
import sqlalchemy as sa
from dateutil.easter import easter
from dateutil.relativedelta import MO, TH, relativedelta
from flask import current_app
from flask.cli import with_appcontext

from .models import (
    Activity,
    Holiday,
    LegacyMemberTarget,
    LegacyTeamSetting,
    Notification,
    Order,
    Organization,
    SalesLine,
    Team,
    TeamMembership,
    TeamWarehouse,
    User,
    db,
)

CENT = Decimal("0.01")

#: Brand → brand family (None: a brand outside any family). Shared by both organizations.
BRANDS: dict[str, str | None] = {
    "brand-bosch": "family-oe",
    "brand-mahle": "family-oe",
    "brand-valeo": "family-oe",
    "brand-febi": "family-aftermarket",
    "brand-meyle": "family-aftermarket",
    "brand-ridex": "family-aftermarket",
    "brand-noname": None,
}
BRAND_WEIGHTS = (18, 12, 10, 14, 9, 6, 3)
ACTIVITY_WEIGHTS = {"visit": 45, "inbound_call": 15, "outbound_call": 20, "email": 12, "task": 8}
CHANNEL_WEIGHTS = {"phone": 35, "email": 20, "web": 25, "shop": 15, "social": 5}


@dataclass
class OrgPlan:
    """Everything the seed creates for one organization, as plain data."""

    id: str
    name: str
    timezone: str
    country: str
    features: list[str]
    users: list[tuple[str, str, str]]  # (id, name, role)
    teams: list[tuple[str, str, str]]  # (id, name, leader id)
    #: team id → [(user id, joined offset in months, left offset in months or None)]
    members: dict[str, list[tuple[str, int, int | None]]]
    warehouses: dict[str, list[str]]  # team id → wholesaler branch ids
    central_warehouse: str
    customers: dict[str, list[str]]  # customer id → branch ids (may be empty)
    legacy: dict[str, tuple[list[str], bool, dict[str, str]]] = field(default_factory=dict)


ACME = OrgPlan(
    id="acme",
    name="Acme Parts",
    timezone="Europe/Berlin",
    country="DE",
    features=["orders"],
    users=[
        ("acme-admin", "Alice Admin", "admin"),
        ("acme-manager-north", "Norbert Nord", "manager"),
        ("acme-manager-south", "Sabine Süd", "manager"),
        ("acme-rep-anna", "Anna Albers", "rep"),
        ("acme-rep-bernd", "Bernd Becker", "rep"),
        ("acme-rep-clara", "Clara Claussen", "rep"),
        ("acme-rep-david", "David Dorn", "rep"),
        ("acme-rep-eva", "Eva Eder", "rep"),
        ("acme-rep-felix", "Felix Fuchs", "rep"),
        ("acme-rep-greta", "Greta Gruber", "rep"),
        ("acme-rep-hans", "Hans Huber", "rep"),
        ("acme-rep-ida", "Ida Imhof", "rep"),
    ],
    teams=[
        ("acme-north", "North", "acme-manager-north"),
        ("acme-south", "South", "acme-manager-south"),
    ],
    # Offsets count months from the first seeded month (0 = first month, from its 1st day;
    # "left" n = the last day of month n). Hans leaves South, Ida replaces him; David is in
    # both teams.
    members={
        "acme-north": [
            ("acme-rep-anna", 0, None),
            ("acme-rep-bernd", 0, None),
            ("acme-rep-clara", 0, None),
            ("acme-rep-david", 0, None),
        ],
        "acme-south": [
            ("acme-rep-eva", 0, None),
            ("acme-rep-felix", 0, None),
            ("acme-rep-greta", 0, None),
            ("acme-rep-hans", 0, 2),
            ("acme-rep-ida", 3, None),
            ("acme-rep-david", 0, None),
        ],
    },
    warehouses={
        "acme-north": ["acme-wh-hamburg", "acme-wh-berlin"],
        "acme-south": ["acme-wh-munich", "acme-wh-stuttgart"],
    },
    central_warehouse="acme-wh-central",
    customers={
        "cust-autohaus-mueller": ["cust-autohaus-mueller-hh", "cust-autohaus-mueller-hb"],
        "cust-kfz-schmidt": [],
        "cust-werkstatt-weber": ["cust-werkstatt-weber-m"],
        "cust-reifen-wagner": [],
        "cust-autoteile-becker": ["cust-autoteile-becker-s", "cust-autoteile-becker-ul"],
        "cust-garage-hoffmann": [],
        "cust-fleet-schulz": ["cust-fleet-schulz-b"],
        "cust-kfz-koch": [],
    },
    legacy={
        "acme-north": (
            ["visit"],
            True,
            {
                "acme-rep-anna": "4",
                "acme-rep-bernd": "3.5",
                "acme-rep-clara": "4",
                "acme-rep-david": "2",
            },
        ),
        "acme-south": (
            ["visit", "outbound_call"],
            False,
            {
                "acme-rep-eva": "3",
                "acme-rep-felix": "3",
                "acme-rep-greta": "2.5",
                "acme-rep-ida": "3",
                "acme-rep-david": "1.5",
            },
        ),
    },
)

GLOBEX = OrgPlan(
    id="globex",
    name="Globex Supply",
    timezone="America/New_York",
    country="US",
    features=[],
    users=[
        ("globex-admin", "Grace Admin", "admin"),
        ("globex-manager", "Hank Manager", "manager"),
        ("globex-rep-1", "Ivy Rep", "rep"),
        ("globex-rep-2", "Jack Rep", "rep"),
        ("globex-rep-3", "Kim Rep", "rep"),
    ],
    teams=[("globex-east", "East", "globex-manager")],
    members={
        "globex-east": [
            ("globex-rep-1", 0, None),
            ("globex-rep-2", 0, None),
            ("globex-rep-3", 0, None),
        ]
    },
    warehouses={"globex-east": ["globex-wh-newark"]},
    central_warehouse="globex-wh-chicago",
    customers={
        "cust-speedy-garage": ["cust-speedy-garage-nyc"],
        "cust-main-st-auto": [],
        "cust-fleetco": ["cust-fleetco-bos", "cust-fleetco-phl"],
        "cust-jersey-tires": [],
    },
)

PLANS = (ACME, GLOBEX)


def seed_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """First day of the month six months back → last day of the current month."""
    start = today.replace(day=1) - relativedelta(months=6)
    end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    return start, end


def holidays_for(country: str, years: range) -> Iterator[tuple[dt.date, str]]:
    """A few public holidays, enough for business days to visibly skip them."""
    for year in years:
        if country == "DE":
            e = easter(year)
            yield dt.date(year, 1, 1), "Neujahr"
            yield e - dt.timedelta(days=2), "Karfreitag"
            yield e + dt.timedelta(days=1), "Ostermontag"
            yield dt.date(year, 5, 1), "Tag der Arbeit"
            yield e + dt.timedelta(days=39), "Christi Himmelfahrt"
            yield e + dt.timedelta(days=50), "Pfingstmontag"
            yield dt.date(year, 10, 3), "Tag der Deutschen Einheit"
            yield dt.date(year, 12, 25), "1. Weihnachtstag"
            yield dt.date(year, 12, 26), "2. Weihnachtstag"
        elif country == "US":
            yield dt.date(year, 1, 1), "New Year's Day"
            yield dt.date(year, 5, 31) + relativedelta(weekday=MO(-1)), "Memorial Day"
            yield dt.date(year, 7, 4), "Independence Day"
            yield dt.date(year, 9, 1) + relativedelta(weekday=MO(1)), "Labor Day"
            yield dt.date(year, 11, 1) + relativedelta(weekday=TH(4)), "Thanksgiving"
            yield dt.date(year, 12, 25), "Christmas Day"


def create_tables(reset: bool = False) -> None:
    """Host tables and goals tables (dropped first with ``reset``)."""
    goals_metadata = _goals_metadata()
    if reset:
        if goals_metadata is not None:
            goals_metadata.drop_all(db.engine)
        db.drop_all()
    db.create_all()
    goals = current_app.extensions.get("goals")
    if hasattr(goals, "create_all"):
        goals.create_all()
    elif goals_metadata is not None:
        goals_metadata.create_all(db.engine)


def _goals_metadata() -> sa.MetaData | None:
    try:
        from flask_wiseparts_goals.models import Base
    except ImportError:  # the extension's models are optional for the host's own tables
        return None
    return Base.metadata


def seed(today: dt.date | None = None, reset: bool = False) -> dict[str, int] | None:
    """Create the tables and fill them; ``None`` when the demo data are already there."""
    today = today or dt.date.today()
    create_tables(reset=reset)
    if db.session.get(Organization, ACME.id) is not None:
        return None
    start, end = seed_window(today)
    rng = random.Random(42)
    counts: dict[str, int] = {}
    for plan in PLANS:
        _seed_structure(plan, start, end)
        for model, rows in _facts(plan, rng, start, end).items():
            if rows:
                db.session.execute(sa.insert(model), rows)
            counts[model.__tablename__] = counts.get(model.__tablename__, 0) + len(rows)
    db.session.commit()
    return counts


def _seed_structure(plan: OrgPlan, start: dt.date, end: dt.date) -> None:
    db.session.add(
        Organization(
            id=plan.id,
            name=plan.name,
            timezone=plan.timezone,
            country=plan.country,
            features=list(plan.features),
        )
    )
    db.session.flush()
    db.session.add_all(
        User(
            id=user_id,
            organization_id=plan.id,
            name=name,
            email=f"{user_id}@{plan.id}.example",
            role=role,
        )
        for user_id, name, role in plan.users
    )
    db.session.flush()
    db.session.add_all(
        Team(id=team_id, organization_id=plan.id, name=name, leader_id=leader)
        for team_id, name, leader in plan.teams
    )
    db.session.flush()
    for team_id, members in plan.members.items():
        for position, (user_id, joined, left) in enumerate(members):
            db.session.add(
                TeamMembership(
                    team_id=team_id,
                    user_id=user_id,
                    position=position,
                    joined_on=_span(start, joined, left)[0],
                    left_on=_span(start, joined, left)[1],
                )
            )
    for team_id, branches in plan.warehouses.items():
        db.session.add_all(
            TeamWarehouse(team_id=team_id, wholesaler_branch_id=branch) for branch in branches
        )
    db.session.add_all(
        Holiday(organization_id=plan.id, date=day, name=name)
        for day, name in holidays_for(plan.country, range(start.year, end.year + 1))
    )
    for team_id, (types, verified_only, targets) in plan.legacy.items():
        db.session.add(
            LegacyTeamSetting(team_id=team_id, activity_types=types, verified_only=verified_only)
        )
        db.session.add_all(
            LegacyMemberTarget(team_id=team_id, user_id=user_id, daily_visit_target=Decimal(v))
            for user_id, v in targets.items()
        )
    db.session.flush()


def _working_spans(
    plan: OrgPlan, start: dt.date
) -> dict[str, list[tuple[dt.date, dt.date | None, str]]]:
    """Per rep: (from, to, team) spans during which they sell for a team."""
    spans: dict[str, list[tuple[dt.date, dt.date | None, str]]] = {}
    for team_id, members in plan.members.items():
        for user_id, joined, left in members:
            first, last = _span(start, joined, left)
            spans.setdefault(user_id, []).append((first, last, team_id))
    return spans


def _span(start: dt.date, joined: int, left: int | None) -> tuple[dt.date, dt.date | None]:
    """Month offsets of a plan → (joined_on, left_on), both inclusive."""
    first = start + relativedelta(months=joined)
    if left is None:
        return first, None
    return first, start + relativedelta(months=left + 1) - dt.timedelta(days=1)


def _facts(
    plan: OrgPlan, rng: random.Random, start: dt.date, end: dt.date
) -> dict[type[Any], list[dict[str, Any]]]:
    """Sales lines, orders and activities for every business day of the window."""
    holidays = {day for day, _ in holidays_for(plan.country, range(start.year, end.year + 1))}
    spans = _working_spans(plan, start)
    brands = list(BRANDS)
    customers = list(plan.customers)
    sales: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    activities: list[dict[str, Any]] = []

    def trade_row(day: dt.date, user_id: str | None, warehouse: str) -> dict[str, Any]:
        brand = rng.choices(brands, BRAND_WEIGHTS)[0]
        customer = rng.choice(customers)
        branches = plan.customers[customer]
        quantity = Decimal(rng.choice((1, 1, 2, 2, 4, 5, 10, 20)))
        price = Decimal(rng.randint(350, 48000)) / 100
        gross = (quantity * price).quantize(CENT)
        net = (gross * (1 - Decimal(rng.choice((0, 5, 10, 15, 20))) / 100)).quantize(
            CENT, ROUND_HALF_UP
        )
        margin = (net * Decimal(rng.randint(8, 35)) / 100).quantize(CENT, ROUND_HALF_UP)
        return {
            "organization_id": plan.id,
            "date": day,
            "user_id": user_id,
            "brand_id": brand,
            "brand_family_id": BRANDS[brand],
            "customer_id": customer,
            "customer_branch_id": rng.choice(branches) if branches and rng.random() < 0.8 else None,
            "wholesaler_branch_id": warehouse,
            "net": net,
            "gross": gross,
            "quantity": quantity,
            "margin": margin,
        }

    day = start
    while day <= end:
        if day.weekday() < 5 and day not in holidays:
            for user_id, user_spans in spans.items():
                teams = [
                    t
                    for first, last, t in user_spans
                    if first <= day and (last is None or day <= last)
                ]
                if not teams:
                    continue
                own = [w for t in teams for w in plan.warehouses.get(t, ())]

                def warehouse(own: list[str] = own) -> str:
                    return (
                        rng.choice(own) if own and rng.random() < 0.85 else plan.central_warehouse
                    )

                for _ in range(rng.randint(1, 4)):
                    sales.append(trade_row(day, user_id, warehouse()))
                if "orders" in plan.features:
                    for _ in range(rng.randint(0, 2)):
                        row = trade_row(day, user_id, warehouse())
                        row["channel"] = rng.choices(
                            list(CHANNEL_WEIGHTS), CHANNEL_WEIGHTS.values()
                        )[0]
                        row["status"] = "confirmed" if rng.random() < 0.75 else "quote"
                        orders.append(row)
                for _ in range(rng.randint(1, 5)):
                    kind = rng.choices(list(ACTIVITY_WEIGHTS), ACTIVITY_WEIGHTS.values())[0]
                    customer = (
                        None if kind == "task" and rng.random() < 0.5 else rng.choice(customers)
                    )
                    branches = plan.customers.get(customer or "", [])
                    activities.append(
                        {
                            "organization_id": plan.id,
                            "date": day,
                            "user_id": user_id,
                            "type": kind,
                            "verified": kind == "visit" and rng.random() < 0.8,
                            "customer_id": customer,
                            "customer_branch_id": rng.choice(branches) if branches else None,
                        }
                    )
            # The web shop sells without a salesperson: counted in organization totals only.
            for _ in range(rng.randint(0, 2)):
                sales.append(trade_row(day, None, plan.central_warehouse))
        day += dt.timedelta(days=1)
    return {SalesLine: sales, Order: orders, Activity: activities}


#: Demo goals, created through the REST API as a front end would: (user, goal, distribute).
DEMO_GOALS: list[tuple[str, dict[str, Any], bool]] = [
    (
        "acme-admin",
        {
            "category": "sales",
            "description": "North revenue this quarter",
            "period": "this_quarter",
            "metric": "net",
            "aim": "600000.00",
            "stretch_aim": "660000.00",
            "team_id": "acme-north",
            "split_into_subperiods": True,
            "split_by_team_members": True,
        },
        True,
    ),
    (
        "acme-admin",
        {
            "category": "sales",
            "description": "Company revenue this year",
            "period": "this_year",
            "metric": "net",
            "aim": "4150000.00",
            "split_into_subperiods": True,
        },
        False,
    ),
    (
        "acme-admin",
        {
            "category": "orders",
            "description": "Confirmed web and shop orders this month",
            "period": "this_month",
            "metric": "count",
            "aim": "48",
            "filters": {"ordered_only": True, "channels": ["web", "shop"]},
        },
        False,
    ),
    (
        "acme-admin",
        {
            "category": "activities",
            "description": "South daily visits",
            "goal_mode": "per_business_day",
            "daily_target": "1.25",
            "team_id": "acme-south",
            "split_by_team_members": True,
            "recurrence": "monthly",
            "filters": {"activity_types": ["visit"]},
        },
        False,
    ),
    (
        "globex-admin",
        {
            "category": "sales",
            "description": "Globex revenue this month",
            "period": "this_month",
            "metric": "gross",
            "aim": "260000.00",
        },
        False,
    ),
]


def seed_goals() -> int:
    """Create the demo goals through the plugin's REST API (and distribute the team goal's
    months equally), so the dashboards have something to show. Returns how many."""
    client = current_app.test_client()
    prefix = current_app.config["GOALS_URL_PREFIX"]
    for user_id, body, distribute in DEMO_GOALS:
        headers = {"X-User-Id": user_id}
        response = client.post(f"{prefix}/goals", json=body, headers=headers)
        if response.status_code != 201:
            raise click.ClickException(f"demo goal refused: {response.get_json()}")
        if distribute:
            goal_id = response.get_json()["id"]
            for interval in client.get(
                f"{prefix}/goals/{goal_id}/intervals", headers=headers
            ).get_json():
                path = f"{prefix}/goals/{goal_id}/intervals/{interval['id']}/allocations/distribute"
                client.post(path, json={"strategy": "equal"}, headers=headers)
    return len(DEMO_GOALS)


def seed_coaching(today: dt.date) -> int:
    """Make every kind of notification appear in the demo's inbox (docs/coaching.md), through
    the extension's own machinery:

    * ``review``: South's monthly visits goal from the month before Ida joined, its members'
      daily targets differing; the recurrence run catches up to this month and the first clone
      gives Ida 0 and tells acme-admin;
    * ``milestone``: North's brand focus of the year, with a modest aim, passes 100 %;
    * ``status``: Acme's record year, with an aim far ahead of the sales, is at risk;
    * ``digest``: the coaching job runs as of this week's Monday (every person gets the digest
      of their goals), then as of today.

    Returns how many notifications the host's inbox holds afterwards.
    """
    from flask_wiseparts_goals.jobs import run_job

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    client = app.test_client()
    prefix = app.config["GOALS_URL_PREFIX"]
    admin = {"X-User-Id": "acme-admin"}
    first, _ = seed_window(today)
    month = first + relativedelta(months=2)  # Ida joins South at plan offset 3
    year_start, year_end = today.replace(month=1, day=1), today.replace(month=12, day=31)
    bodies = [
        {
            "category": "activities",
            "description": "South visits (recurring)",
            "start_date": month.isoformat(),
            "end_date": (month + relativedelta(months=1, days=-1)).isoformat(),
            "goal_mode": "per_business_day",
            "daily_target": "1",
            "team_id": "acme-south",
            "split_by_team_members": True,
            "recurrence": "monthly",
            "filters": {"activity_types": ["visit"]},
        },
        {
            "category": "sales",
            "description": "North brand focus this year",
            "start_date": year_start.isoformat(),
            "end_date": year_end.isoformat(),
            "metric": "net",
            "aim": "5000.00",
            "team_id": "acme-north",
        },
        {
            "category": "sales",
            "description": "Acme record year",
            "start_date": year_start.isoformat(),
            "end_date": year_end.isoformat(),
            "metric": "net",
            "aim": "99000000.00",
        },
    ]
    goal_ids = []
    for body in bodies:
        response = client.post(f"{prefix}/goals", json=body, headers=admin)
        if response.status_code != 201:
            raise click.ClickException(f"demo goal refused: {response.get_json()}")
        goal_ids.append(response.get_json()["id"])
    daily = {"acme-rep-eva": "2", "acme-rep-felix": "1.5", "acme-rep-greta": "1"}
    for interval in client.get(f"{prefix}/goals/{goal_ids[0]}/intervals", headers=admin).json:
        path = f"{prefix}/goals/{goal_ids[0]}/intervals/{interval['id']}/allocations"
        current = client.get(path, headers=admin)
        allocations = [
            {"user_id": row["user_id"], "daily_target": daily.get(row["user_id"], "1")}
            for row in current.get_json()["allocations"]
        ]
        response = client.put(
            path,
            json={"allocations": allocations},
            headers={**admin, "If-Match": current.headers["ETag"]},
        )
        if response.status_code != 200:
            raise click.ClickException(f"demo targets refused: {response.get_json()}")
    run_job(app, "recurrence", as_of=today)
    monday = today - dt.timedelta(days=today.weekday())
    run_job(app, "coach", as_of=monday)
    if monday != today:
        run_job(app, "coach", as_of=today)
    db.session.remove()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) or 0


@click.command("seed")
@click.option("--reset", is_flag=True, help="Drop the host and goals tables first.")
@click.option(
    "--goals/--no-goals", default=True, help="Also create demo goals through the API (default)."
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Pretend today is this date (default: today). Data are deterministic per date.",
)
@with_appcontext
def seed_command(reset: bool, goals: bool, today: dt.datetime | None) -> None:
    """Create the tables and the demo organizations (acme, globex), and demo goals."""
    counts = seed(today=today.date() if today else None, reset=reset)
    if counts is None:
        click.echo("Demo data already present; use --reset to recreate them.")
        return
    if goals:
        seed_goals()
        notifications = seed_coaching(today.date() if today else dt.date.today())
        # Every goal the list shows: the demo goals, the coaching demo's and recurrence's clones.
        from flask_wiseparts_goals.models import Goal

        counts["goals (both organizations, clones included)"] = (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Goal).where(Goal.deleted_at.is_(None))
            )
            or 0
        )
        counts["notifications (recurrence and coaching)"] = notifications
    click.echo(
        "Seeded organizations acme (Acme Parts) and globex (Globex Supply): "
        + ", ".join(f"{n} {table}" for table, n in counts.items())
        + ". Users: acme-admin, acme-manager-north, acme-rep-anna, globex-admin, ...; "
        + "call the API with the header X-User-Id: <user id>."
    )
