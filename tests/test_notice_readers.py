"""Nobody is told what they may not read (SPEC §13): every notification (status, milestone,
digest, review) goes only to a recipient ``goals_authorize`` lets read the goal on the day of
the notice, and a host's inbox shows only such notices (``Goals.readable_goal_ids``).

u3 sells for team-a until 2026-01-31, then leaves it. In January he is told about the team's
goal like every member (the control: the filter is what stops him later); from February on
he is told nothing, while the rep who stays still is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from conftest import ApiClient, created, sales_goal
from flask import Flask
from test_coaching_job import CoachHost, coach
from test_recurrence import RecurrenceHost, clone_of, create, run, set_members
from test_tracking_api import Line, set_targets

from flask_wiseparts_goals import Goals, Identity, hookimpl

D = Decimal
LEFT = date(2026, 1, 31)


@dataclass
class LeaverHost(CoachHost):
    """u3 left team-a on 2026-01-31; rep, u2 stay."""

    def __post_init__(self) -> None:
        self.memberships["team-a"] = [
            ("rep", date(2025, 1, 1), None),
            ("u2", date(2025, 1, 1), None),
            ("u3", date(2025, 1, 1), LEFT),
        ]


@pytest.fixture
def host() -> LeaverHost:
    return LeaverHost()


def _goal(api: ApiClient, db: Any) -> dict[str, Any]:
    goal = created(api, sales_goal(aim="6400.00", team_id="team-a", split_by_team_members=True))
    set_targets(db, goal["id"], {("2026-01-01", "rep"): "3000.00", ("2026-01-01", "u3"): "200.00"})
    return goal


def _told(host: LeaverHost, kind: str) -> set[str]:
    return {n.recipient_id for n in host.told(kind)}


def test_a_former_member_gets_no_status_notice(app, api, host, db) -> None:
    _goal(api, db)
    coach(app, as_of="2026-01-09")  # through Jan 8: both far behind their targets
    assert {"rep", "u3"} <= _told(host, "status")
    host.notifications.clear()
    host.lines += [Line("rep", date(2026, 2, 2), D("2000.00")), Line("u3", LEFT, D("120.00"))]
    coach(app, as_of="2026-02-04")  # both moved (u3 by a sale of his own last day)
    assert "rep" in _told(host, "status")
    assert "u3" not in _told(host, "status")


def test_a_former_member_gets_no_milestone(app, api, host, db) -> None:
    _goal(api, db)
    host.lines.append(Line("u3", date(2026, 1, 5), D("100.00")))  # 50 % of his 200.00
    coach(app, as_of="2026-01-07")
    assert "u3" in _told(host, "milestone")
    host.notifications.clear()
    host.lines += [Line("u3", LEFT, D("100.00")), Line("rep", date(2026, 2, 2), D("1500.00"))]
    coach(app, as_of="2026-02-04")  # u3 reached 100 %, the rep 50 %
    assert _told(host, "milestone") == {"rep"}


def test_a_former_member_gets_no_digest(app, api, host, db) -> None:
    goal = _goal(api, db)
    coach(app, as_of="2026-01-26")  # a Monday
    assert {"rep", "u3"} <= _told(host, "digest")
    host.notifications.clear()
    coach(app, as_of="2026-02-09")  # the next Monday after he left
    assert "u3" not in _told(host, "digest")
    [digest] = [n for n in host.told("digest") if n.recipient_id == "rep"]
    assert [e["goal"]["id"] for e in digest.data["goals"]] == [goal["id"]]


@dataclass
class MovedCreatorHost(RecurrenceHost):
    """The host says who a recipient is now: ``moved`` users have no team and no role."""

    moved: set[str] = field(default_factory=set)

    @hookimpl
    def goals_user_identity(self, organization_id: str, user_id: str) -> Identity | None:
        if user_id in self.moved:
            return Identity(user_id=user_id, organization_id=organization_id, team_ids=frozenset())
        return None  # the default: member today or the goal's creator


def test_hook_goals_user_identity_stops_a_review_notice(app: Flask, api, db) -> None:
    reviewer = MovedCreatorHost()
    app.extensions["goals"].plugin_manager.register(reviewer, name="reviewer")
    reviewer.moved.add("admin")
    goal_id = create(api, recurrence="quarterly", start_date="2026-01-01", end_date="2026-03-31")
    set_members(db, goal_id, {"rep": "10", "u2": "20", "u3": "10"}, "daily_target")
    reviewer.teams["team-a"] = ["rep", "u3", "u6"]

    summary = run(app, as_of=date(2026, 4, 1))
    assert (summary.created, summary.notified) == (1, 0)  # cloned, but the creator is not told
    assert reviewer.notifications == []
    assert clone_of(db, goal_id) is not None


def test_an_inbox_shows_only_readable_goals(app: Flask, api, host, db) -> None:
    team_goal = _goal(api, db)["id"]
    other_team = created(api, sales_goal(aim="10.00", team_id="team-b"))["id"]
    org_wide = created(api, sales_goal(aim="10.00"))["id"]
    ids = {team_goal, other_team, org_wide, 999_999}
    with app.test_request_context(headers={"X-User": "rep"}):
        assert Goals.readable_goal_ids(ids) == {team_goal, org_wide}
    with app.test_request_context(headers={"X-User": "admin"}):
        assert Goals.readable_goal_ids(ids) == {team_goal, other_team, org_wide}
    with app.test_request_context(headers={"X-User": "other-admin"}):
        assert Goals.readable_goal_ids(ids) == set()
