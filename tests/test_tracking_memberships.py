"""Team membership over time (SPEC §7): a member's sales count only for the days they belonged
to the goal's team; a period is the sum of its intervals, per member and in total.

Team "north", Q4 2026 in monthly intervals, as of Tuesday 15 December:

- ann is a member all quarter;
- leo leaves: his last day is 15 November;
- zoe joins on 1 December (her 7,777.77 of 10 November was made before she joined).

With ``goals_team_memberships`` each member counts for their own days:
October = ann 100 + leo 10 = 110; November = ann 200 + leo 20 (10 Nov; his 20 Nov sale is
after he left) = 220; December to date = ann 300 + zoe 50 = 350; Q4 = 680 = ann 600 + leo 30 +
zoe 50.

Without it (part one): each interval counts the members on its measured day (31 October:
ann, leo; 30 November: ann; 15 December: ann, zoe): 110 + 200 + 350 = 660 = ann 600 + leo 10 +
zoe 50. Either way pre-join and post-leave sales never count, and the period is the sum of its
months.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from test_tracking_api import Line, SourceHost, count_statements, create, section, widget

from flask_wiseparts_goals import Goals, hookimpl
from flask_wiseparts_goals.models import Allocation, Interval

AS_OF = "2026-12-15"


@pytest.fixture
def host() -> SourceHost:
    host = SourceHost()
    host.memberships["north"] = [
        ("ann", date(2026, 1, 1), None),
        ("leo", date(2026, 1, 1), date(2026, 11, 15)),
        ("zoe", date(2026, 12, 1), None),
    ]
    for user in ("ann", "leo", "zoe"):
        host.users[user] = {"organization_id": "org-1", "role": "rep", "teams": ["north"]}
    host.users["admin"]["teams"].append("north")
    host.lines += [
        Line("ann", date(2026, 10, 10), Decimal("100.00")),
        Line("ann", date(2026, 11, 10), Decimal("200.00")),
        Line("ann", date(2026, 12, 10), Decimal("300.00")),
        Line("zoe", date(2026, 11, 10), Decimal("7777.77")),  # before she joined
        Line("zoe", date(2026, 12, 5), Decimal("50.00")),
        Line("leo", date(2026, 10, 20), Decimal("10.00")),
        Line("leo", date(2026, 11, 10), Decimal("20.00")),
        Line("leo", date(2026, 11, 20), Decimal("40.00")),  # after he left
        Line("leo", date(2026, 12, 2), Decimal("80.00")),  # after he left
    ]
    return host


def q4_goal(api, **overrides) -> dict:
    return create(
        api,
        category="sales",
        description="Q4 North",
        start_date="2026-10-01",
        end_date="2026-12-31",
        metric="net",
        aim="3000.00",
        team_id="north",
        split_into_subperiods=True,
        **overrides,
    )


EXPECTED = {
    # with the hook, without it
    True: {"months": ["110.00", "220.00", "350.00"], "period": "680.00", "leo": "30.00"},
    False: {"months": ["110.00", "200.00", "350.00"], "period": "660.00", "leo": "10.00"},
}


@pytest.mark.parametrize("hook", [True, False], ids=["memberships", "per-interval"])
def test_period_is_the_sum_of_its_intervals_per_member_and_in_total(api, host, hook):
    host.answers_memberships = hook
    expected = EXPECTED[hook]
    goal = q4_goal(api)
    body = api.get(f"/goals/{goal['id']}/progress?as_of={AS_OF}").json
    months = [interval["actual"] for interval in body["intervals"]]
    assert months == expected["months"]
    assert body["period"]["actual"] == expected["period"]
    assert sum(map(Decimal, months)) == Decimal(body["period"]["actual"])

    members = {m["user_id"]: m for m in body["period"]["members"]}
    assert list(members) == ["ann", "leo", "zoe"]
    assert members["ann"]["actual"] == "600.00"
    assert members["leo"]["actual"] == expected["leo"]
    assert members["zoe"]["actual"] == "50.00"  # never her 7,777.77 of November
    assert sum(Decimal(m["actual"]) for m in members.values()) == Decimal(expected["period"])
    for interval in body["intervals"]:
        rows = [Decimal(m["actual"]) for m in interval["members"] if m["counted"]]
        assert sum(rows, Decimal(0)) == Decimal(interval["actual"])
    december = {m["user_id"]: m for m in body["intervals"][2]["members"]}
    assert "leo" not in december  # not counted, no allocation: not listed
    assert december["zoe"]["actual"] == "50.00"

    team = section(widget(api, as_of=AS_OF, team_id="north"), "sales")["goals"][0]
    assert team["period"]["actual"] == expected["period"]
    assert team["current_interval"]["actual"] == "350.00"


def test_members_with_the_same_span_share_one_query(api, host, db):
    goal = q4_goal(api)
    host.actuals_calls.clear()
    with count_statements(db) as statements:
        response = api.get(f"/goals/{goal['id']}/progress?as_of={AS_OF}")
    assert response.status_code == 200
    assert len(statements) <= 3  # goal, intervals, allocations
    [(_, _, queries)] = host.actuals_calls
    spans = sorted((q.start.isoformat(), q.end.isoformat(), q.user_ids) for q in queries)
    assert spans == [
        ("2026-10-01", "2026-10-31", ("ann", "leo")),
        ("2026-11-01", "2026-11-15", ("leo",)),
        ("2026-11-01", "2026-11-30", ("ann",)),
        ("2026-12-01", "2026-12-15", ("ann", "zoe")),
    ]
    assert [c for c in host.calls if c[0] == "team_memberships"] == [
        ("team_memberships", ("north", date(2026, 10, 1), date(2026, 12, 31)))
    ]


@pytest.mark.parametrize("hook", [True, False], ids=["memberships", "per-interval"])
def test_individual_dashboard_counts_own_days_only(api, host, hook):
    host.answers_memberships = hook
    q4_goal(api)
    zoe = section(widget(api.as_user("zoe"), "/widgets/me", as_of=AS_OF), "sales")["goals"][0]
    assert zoe["period"]["actual"] == "50.00" and zoe["period"]["counted"] is True
    assert zoe["current_interval"]["actual"] == "50.00"
    leo = section(widget(api.as_user("leo"), "/widgets/me", as_of=AS_OF), "sales")["goals"][0]
    assert leo["period"]["counted"] is True  # counted in October and November
    assert leo["period"]["actual"] == EXPECTED[hook]["leo"]
    assert leo["current_interval"]["counted"] is False
    assert leo["current_interval"]["actual"] is None


@pytest.mark.parametrize("hook", [True, False], ids=["memberships", "per-interval"])
def test_proportional_by_actuals_weighs_by_the_same_rule(api, host, db, hook):
    """December by November's actuals (31 October to 30 November): ann sold 200.00 as a
    member, zoe's 7,777.77 was made before she joined: all of it goes to ann."""
    host.answers_memberships = hook
    goal = q4_goal(api, split_by_team_members=True)
    december = db.session.scalars(
        sa.select(Interval).where(
            Interval.goal_id == goal["id"], Interval.start_date == date(2026, 12, 1)
        )
    ).one()
    path = f"/goals/{goal['id']}/intervals/{december.id}/allocations/distribute"
    response = api.post(path, json={"strategy": "proportional", "basis": "actuals"})
    assert response.status_code == 200, response.json
    targets = dict(
        db.session.execute(
            sa.select(Allocation.user_id, Allocation.target).where(
                Allocation.interval_id == december.id
            )
        ).all()
    )
    assert targets == {"ann": Decimal("1000.00"), "zoe": Decimal("0.00")}
    [(_, _, queries)] = host.actuals_calls[-1:]
    assert all("zoe" not in (q.user_ids or ()) for q in queries)


@dataclass
class MembershipsOnlyHost(SourceHost):
    """A host that answers ``goals_team_memberships`` but not ``goals_team_members`` for its
    dated teams: the members on a day (creation, allocations, recurrence) follow from it."""

    @hookimpl
    def goals_team_members(self, organization_id, team_id, on):
        if team_id in self.memberships:
            return None
        return super().goals_team_members(organization_id, team_id, on)


def test_members_on_a_day_follow_from_memberships_alone(app, api, host, db):
    plain = MembershipsOnlyHost(
        users=copy.deepcopy(host.users),
        memberships=copy.deepcopy(host.memberships),
        lines=host.lines,
    )
    pm = Goals.state(app).plugin_manager
    pm.unregister(host)
    plain.install(app)
    pm.register(plain)
    goal = create(
        api,
        category="sales",
        description="December North",
        start_date="2026-12-01",
        end_date="2026-12-31",
        metric="net",
        aim="1000.00",
        team_id="north",
        split_by_team_members=True,
    )
    holders = db.session.scalars(
        sa.select(Allocation.user_id)
        .where(Allocation.goal_id == goal["id"])
        .order_by(Allocation.position)
    ).all()
    assert holders == ["ann", "zoe"]  # leo left on 15 November
    body = api.get(f"/goals/{goal['id']}/progress?as_of={AS_OF}").json
    assert body["period"]["actual"] == "350.00"
