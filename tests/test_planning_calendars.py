"""Members' own calendars (SPEC §11): ``goals_business_days`` answered per member."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from conftest import FakeHost, MemberCalendarHost

from flask_wiseparts_goals import ActualsResult, hookimpl

#: Five weekdays off for the rep in January 2026 (22 business days): 17 left.
ABSENCE = {date(2026, 1, d) for d in (12, 13, 14, 15, 16)}
AS_OF = "2026-01-20"  # 14 business days elapsed for the team (Jan 1–2, 5–9, 12–16, 19–20)


class ActualsMixin:
    actuals = {"rep": Decimal(9), "u2": Decimal(14), "u3": Decimal(0)}

    @hookimpl
    def goals_collect_actuals(self, organization_id, category, queries):
        return {
            q.key: ActualsResult(total=sum(self.actuals.values()), per_user=dict(self.actuals))
            for q in queries
        }


class CalendarHost(ActualsMixin, MemberCalendarHost):
    pass


class TeamCalendarHost(ActualsMixin, FakeHost):
    pass


@pytest.fixture(params=["member calendars", "team calendar"])
def host(request) -> FakeHost:
    host = CalendarHost() if request.param == "member calendars" else TeamCalendarHost()
    host.absences = {"rep": set(ABSENCE)}
    return host


def visits_goal(api):
    response = api.post(
        "/goals",
        json={
            "category": "activities",
            "description": "January visits",
            "start_date": "2026-01-01",
            "end_date": "2026-01-31",
            "goal_mode": "per_business_day",
            "team_id": "team-a",
            "split_by_team_members": True,
            "daily_target": "2",
        },
    )
    assert response.status_code == 201, response.json
    return response.json


def test_an_absent_member_has_5_days_fewer_in_target_expected_and_forecast(api, host):
    per_member = isinstance(host, MemberCalendarHost)
    goal = visits_goal(api)
    (interval,) = api.get(f"/goals/{goal['id']}/intervals").json
    allocations = api.get(f"/goals/{goal['id']}/intervals/{interval['id']}/allocations").json
    rows = {a["user_id"]: a for a in allocations["allocations"]}
    if per_member:
        assert rows["rep"]["business_days"] == 17
        assert rows["rep"]["effective_target"] == "34.00"  # 2 × 17
        assert rows["u2"]["business_days"] == 22
        assert rows["u2"]["effective_target"] == "44.00"  # 2 × 22
        assert allocations["interval"]["aim"] == "122.00"
    else:  # a host without member calendars: everybody on the team's 22 days
        assert rows["rep"]["business_days"] is None
        assert rows["rep"]["effective_target"] == "44.00"
        assert allocations["interval"]["aim"] == "132.00"

    progress = api.get(f"/goals/{goal['id']}/progress?as_of={AS_OF}").json
    members = {m["user_id"]: m for m in progress["intervals"][0]["members"]}
    rep, u2 = members["rep"], members["u2"]
    if per_member:
        # rep: 9 of its 17 days elapsed; 9 visits so far.
        assert rep["expected"] == "18.00"  # 34 × 9 / 17
        assert rep["forecast"] == "17.00"  # 9 × 17 / 9
        assert rep["status"] == "at_risk"  # 9 of 18 expected: 50 % < 80 %
    else:
        assert rep["expected"] == "28.00"  # 44 × 14 / 22
        assert rep["forecast"] == "14.14"  # 9 × 22 / 14
    assert u2["expected"] == "28.00"  # 44 × 14 / 22 either way
    assert u2["forecast"] == "22.00"  # 14 × 22 / 14

    mine = api.as_user("rep").get(f"/widgets/me?as_of={AS_OF}").json
    (entry,) = [e for c in mine["categories"] for e in c["goals"] if e["goal"]["id"] == goal["id"]]
    current = entry["current_interval"]
    if per_member:
        assert (current["business_days"], current["business_days_elapsed"]) == (17, 9)
        assert (current["target"], current["forecast"]) == ("34.00", "17.00")
    else:
        assert (current["business_days"], current["business_days_elapsed"]) == (22, 14)


@pytest.mark.parametrize("host", ["member calendars"], indirect=True)
def test_absences_entered_later_count_from_the_next_change(api, host):
    host.absences = {}
    goal = visits_goal(api)
    (interval,) = api.get(f"/goals/{goal['id']}/intervals").json
    path = f"/goals/{goal['id']}/intervals/{interval['id']}/allocations"
    assert {a["effective_target"] for a in api.get(path).json["allocations"]} == {"44.00"}
    host.absences = {"u3": {date(2026, 1, 2)}}
    response = api.write(
        "PUT", path, json={"allocations": [{"user_id": "u3", "daily_target": "3"}]}
    )
    assert response.status_code == 200, response.json
    rows = {a["user_id"]: a for a in response.json["allocations"]}
    assert rows["u3"]["effective_target"] == "63.00"  # 3 × 21
    assert rows["rep"]["effective_target"] == "44.00"
