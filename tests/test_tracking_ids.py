"""Ids are strings at the hook boundary (SPEC §7): ints are normalized, anything else is an
error naming the hook, never a silent zero."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from test_tracking_api import AS_OF, Line, SourceHost, create, section, widget

from flask_wiseparts_goals import Goals, hookimpl
from flask_wiseparts_goals.plugins import HostHooks, make_plugin_manager
from flask_wiseparts_goals.types import ActualsResult, HookAnswerError, host_id


@dataclass
class IntegerHost(SourceHost):
    """A host with integer keys: members and ``per_user`` come back as ints."""

    as_objects: bool = False

    @hookimpl
    def goals_team_members(self, organization_id, team_id, on):
        members = super().goals_team_members(organization_id, team_id, on)
        if members is None or team_id != "team-n":
            return members
        return [float(m) if self.as_objects else int(m) for m in members]

    @hookimpl
    def goals_collect_actuals(self, organization_id, category, queries):
        answer = super().goals_collect_actuals(organization_id, category, queries)
        return {
            key: ActualsResult(
                total=value["total"], per_user={int(u): v for u, v in value["per_user"].items()}
            )
            for key, value in (answer or {}).items()
        }


@pytest.fixture
def host() -> IntegerHost:
    host = IntegerHost()
    host.teams["team-n"] = ["3", "4"]
    host.users["admin"]["teams"].append("team-n")
    return host


def test_integer_ids_from_members_and_per_user_count(api, host):
    goal = create(
        api,
        category="sales",
        description="Integer keys",
        start_date="2026-01-01",
        end_date="2026-03-31",
        metric="net",
        aim="1000.00",
        team_id="team-n",
        split_by_team_members=True,
    )
    host.lines += [Line("3", date(2026, 1, 5), Decimal("10.00")), Line("4", date(2026, 2, 2))]
    body = api.get(f"/goals/{goal['id']}/progress?as_of={AS_OF}").json
    members = {m["user_id"]: m["actual"] for m in body["period"]["members"]}
    assert members == {"3": "10.00", "4": "1.00"}
    assert body["period"]["actual"] == "11.00"
    assert section(widget(api), "sales")["goals"][0]["period"]["actual"] == "11.00"


def test_an_id_that_is_neither_str_nor_int_names_the_hook(api, host):
    host.as_objects = True
    with pytest.raises(HookAnswerError, match=r"goals_team_members returned the id 3\.0"):
        api.post(
            "/goals",
            json={
                "category": "sales",
                "description": "Float keys",
                "start_date": "2026-01-01",
                "end_date": "2026-03-31",
                "metric": "net",
                "aim": "1000.00",
                "team_id": "team-n",
                "split_by_team_members": True,
            },
        )


def test_host_id_rules():
    assert host_id("a", "goals_x") == "a"
    assert host_id(7, "goals_x") == "7"
    for bad in (None, 1.0, True, object()):
        with pytest.raises(HookAnswerError, match="goals_x"):
            host_id(bad, "goals_x")
    result = ActualsResult.from_value({"per_user": {3: "1.50", "u": 2}})
    assert result.per_user == {"3": Decimal("1.50"), "u": Decimal(2)}
    assert result.total == Decimal("3.50")
    with pytest.raises(HookAnswerError, match="goals_collect_actuals"):
        ActualsResult.from_value(ActualsResult(total=Decimal(1), per_user={None: Decimal(1)}))


@dataclass
class IntegerMembershipsHost(IntegerHost):
    """Dated memberships whose user ids come back as ints."""

    @hookimpl
    def goals_team_memberships(self, organization_id, team_id, start, end):
        answer = super().goals_team_memberships(organization_id, team_id, start, end)
        if answer is None:
            return None
        return [{"user_id": int(m.user_id), "start": m.start, "end": m.end} for m in answer]


def test_integer_ids_from_memberships(app, api, host, db):
    # Copies: the replaced host still syncs its own fields before each request.
    dated = IntegerMembershipsHost(users=copy.deepcopy(host.users), teams=copy.deepcopy(host.teams))
    dated.memberships["team-m"] = [("5", date(2026, 1, 1), None), ("6", date(2026, 2, 1), None)]
    dated.users["admin"]["teams"].append("team-m")
    pm = Goals.state(app).plugin_manager
    pm.unregister(host)
    dated.install(app)
    pm.register(dated)
    goal = create(
        api,
        category="sales",
        description="Dated integer keys",
        start_date="2026-01-01",
        end_date="2026-03-31",
        metric="net",
        aim="1000.00",
        team_id="team-m",
    )
    dated.lines += [
        Line("5", date(2026, 1, 5), Decimal("10.00")),
        Line("6", date(2026, 1, 6), Decimal("99.00")),  # before 6 joined
        Line("6", date(2026, 2, 2), Decimal("1.00")),
    ]
    body = api.get(f"/goals/{goal['id']}/progress?as_of={AS_OF}").json
    assert {m["user_id"]: m["actual"] for m in body["period"]["members"]} == {
        "5": "10.00",
        "6": "1.00",
    }


def test_integer_ids_from_legacy_targets_and_a_bad_membership_names_the_hook():
    class Legacy:
        @hookimpl
        def goals_legacy_activity_targets(self, organization_id):
            return [{"team_id": 12, "daily_targets": {3: Decimal(2)}}]

        @hookimpl
        def goals_team_memberships(self, organization_id, team_id, start, end):
            return [{"user_id": 2.5, "start": start, "end": None}]

    hooks = HostHooks(make_plugin_manager([Legacy()], entry_points=False))
    [legacy] = hooks.legacy_activity_targets("org-1")
    assert (legacy.team_id, dict(legacy.daily_targets)) == ("12", {"3": Decimal(2)})
    with pytest.raises(HookAnswerError, match="goals_team_memberships"):
        hooks.team_memberships("org-1", "t", date(2026, 1, 1), date(2026, 1, 31))
