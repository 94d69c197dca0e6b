"""Progress and dashboards over HTTP, with an in-memory metric source.

Dates: the Q1 2026 goals have 64 business days (January 22, February 20, March 22); on
2026-02-10 (a Tuesday) 29 of them have passed (January 22, February 7).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from conftest import ORG, OTHER_ORG, FakeHost, sales_goal

from flask_wiseparts_goals import hookimpl
from flask_wiseparts_goals.models import Allocation, Interval

AS_OF = "2026-02-10"


@dataclass(frozen=True)
class Line:
    """A sales line, order or activity of the fake host."""

    user_id: str
    day: date
    value: Decimal = Decimal(1)
    category: str = "sales"
    organization_id: str = ORG
    brand: str | None = None


@dataclass
class SourceHost(FakeHost):
    """FakeHost plus a metric source answering from :attr:`lines`, counting its calls."""

    lines: list[Line] = field(default_factory=list)
    business_days_calls: list[tuple[str | None, date, date]] = field(default_factory=list)
    owned: set[str] = field(default_factory=lambda: {"sales", "orders", "activities"})
    failing: set[str] = field(default_factory=set)
    actuals_calls: list[tuple[str, str, list]] = field(default_factory=list)

    @hookimpl
    def goals_collect_actuals(self, organization_id, category, queries):
        self.actuals_calls.append((organization_id, category, list(queries)))
        if category in self.failing:
            raise RuntimeError("the warehouse database is unreachable")
        if category not in self.owned:
            return None
        answer = {}
        for query in queries:
            per_user: dict[str, Decimal] = defaultdict(Decimal)
            for line in self.lines:
                if (
                    line.organization_id != organization_id
                    or line.category != category
                    or not query.start <= line.day <= query.end
                    or (query.user_ids is not None and line.user_id not in query.user_ids)
                    or (
                        query.filters.brands_include
                        and line.brand not in query.filters.brands_include
                    )
                ):
                    continue
                per_user[line.user_id] += Decimal(1) if query.metric == "count" else line.value
            answer[query.key] = {"total": sum(per_user.values(), Decimal(0)), "per_user": per_user}
        return answer

    @hookimpl
    def goals_business_days(self, organization_id, team_id, start, end):
        self.business_days_calls.append((team_id, start, end))
        return super().goals_business_days(organization_id, team_id, start, end)

    def calls_per_category(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for _, category, _ in self.actuals_calls:
            counts[category] += 1
        return dict(counts)


@pytest.fixture
def host() -> SourceHost:
    return SourceHost()


@contextmanager
def count_statements(db) -> Iterator[list[str]]:
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        # The extension's own statements; the test host's queries of its tables are the host's.
        if "host_" not in statement:
            statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)


def create(api, **body) -> dict:
    response = api.post("/goals", json=body)
    assert response.status_code == 201, response.json
    return response.json


def team_sales_goal(api, **overrides) -> dict:
    return create(
        api, **sales_goal(**{"team_id": "team-a", "split_into_subperiods": True, **overrides})
    )


def orders_goal(api, **overrides) -> dict:
    body = sales_goal(category="orders", metric="count", aim="100", description="Orders")
    body.update(overrides)
    return create(api, **body)


def activities_goal(api, **overrides) -> dict:
    body = {
        "category": "activities",
        "description": "Visits",
        "start_date": "2026-01-01",
        "end_date": "2026-03-31",
        "team_id": "team-a",
        "goal_mode": "per_business_day",
        "daily_target": "2",
        "split_into_subperiods": True,
        **overrides,
    }
    return create(api, **body)


def set_targets(db, goal_id: int, targets: dict[tuple[str, str], str]) -> None:
    """Allocation targets by (interval start, user), straight through the ORM."""
    rows = db.session.execute(
        sa.select(Allocation, Interval.start_date)
        .join(Interval, Allocation.interval_id == Interval.id)
        .where(Allocation.goal_id == goal_id)
    ).all()
    for allocation, start in rows:
        value = targets.get((start.isoformat(), allocation.user_id))
        if value is not None:
            allocation.target = Decimal(value)
    db.session.commit()


def widget(api, path="/widgets/team", **params) -> dict:
    params.setdefault("as_of", AS_OF)
    response = api.get(path, query_string=params)
    assert response.status_code == 200, response.json
    return response.json


def section(body: dict, category: str) -> dict:
    return next(c for c in body["categories"] if c["category"] == category)


# --------------------------------------------------------------------------------------------
# Figures end to end
# --------------------------------------------------------------------------------------------


def test_team_widget_figures(api, host):
    goal = team_sales_goal(api, stretch_aim="1500.00")
    host.lines += [
        Line("rep", date(2026, 1, 15), Decimal("200.00")),
        Line("u2", date(2026, 2, 3), Decimal("100.00")),
        Line("u4", date(2026, 2, 3), Decimal("500.00")),  # team-b: not counted
        Line("rep", date(2026, 2, 11), Decimal("50.00")),  # after as_of
        Line("x1", date(2026, 1, 20), Decimal("999.00"), organization_id=OTHER_ORG),
    ]
    body = widget(api)
    assert [c["category"] for c in body["categories"]] == ["sales", "orders", "activities"]
    sales = section(body, "sales")
    assert sales["actuals_available"] is True
    assert sales["actuals_note"] is None and sales["actuals_error"] is None
    [entry] = sales["goals"]
    assert entry["goal"]["id"] == goal["id"]
    period = entry["period"]
    assert period["interval_id"] is None
    assert (period["business_days"], period["business_days_elapsed"]) == (64, 29)
    assert period["business_days_remaining"] == 35
    assert period["target"] == "1000.00"
    assert period["actual"] == "300.00"
    assert period["expected"] == "453.13"  # 1000 * 29 / 64 = 453.125, half-up
    assert period["forecast"] == "662.07"  # 300 * 64 / 29
    assert period["achievement_percent"] == "30.0"
    assert period["forecast_percent"] == "66.2"
    assert period["remaining"] == "700.00"
    assert period["needed_per_business_day"] == "20.00"
    assert period["status"] == "at_risk"  # 66 % of expected
    assert period["stretch_aim"] == "1500.00"
    assert period["stretch_achievement_percent"] == "20.0"

    current = entry["current_interval"]
    assert (current["start_date"], current["end_date"]) == ("2026-02-01", "2026-02-28")
    assert current["target"] == "333.33"
    assert current["actual"] == "100.00"
    assert (current["business_days"], current["business_days_elapsed"]) == (20, 7)
    assert current["forecast"] == "285.71"  # 100 * 20 / 7
    assert current["expected"] == "116.67"
    assert current["status"] == "behind"  # 86 % of expected
    assert current["stretch_aim"] is None


def test_queries_carry_members_dates_team_and_filters(api, host):
    team_sales_goal(api, filters={"brands": {"include": ["b1"]}})
    host.lines += [
        Line("rep", date(2026, 1, 5), Decimal("10.00"), brand="b1"),
        Line("rep", date(2026, 1, 6), Decimal("99.00"), brand="b2"),
    ]
    body = widget(api)
    assert section(body, "sales")["goals"][0]["period"]["actual"] == "10.00"
    [(organization_id, category, queries)] = host.actuals_calls
    assert (organization_id, category) == (ORG, "sales")
    # The whole range is the sum of its started intervals (SPEC §7): January and February
    # up to as_of are asked, the whole range is not asked on its own.
    by_range = {(q.start.isoformat(), q.end.isoformat()): q for q in queries}
    assert set(by_range) == {("2026-01-01", "2026-01-31"), ("2026-02-01", AS_OF)}
    january = by_range[("2026-01-01", "2026-01-31")]
    assert january.user_ids == ("rep", "u2", "u3")
    assert january.team_id == "team-a" and january.metric == "net"
    assert january.interval_id is not None
    assert january.filters.brands_include == ("b1",)
    assert by_range[("2026-02-01", AS_OF)].interval_id not in (None, january.interval_id)


def test_goal_without_team_counts_the_organization(api, host):
    goal = create(api, **sales_goal())
    host.lines += [Line("u4", date(2026, 1, 5), Decimal("10.00")), Line("rep", date(2026, 2, 1))]
    body = widget(api)
    assert section(body, "sales")["goals"][0]["period"]["actual"] == "11.00"
    [(_, _, [query])] = host.actuals_calls  # one interval = the whole range: asked once
    assert query.user_ids is None
    progress = api.get(f"/goals/{goal['id']}/progress?as_of={AS_OF}").json
    # Members of an organization-wide goal: whoever the source reported, largest first.
    assert [(m["user_id"], m["actual"], m["target"]) for m in progress["period"]["members"]] == [
        ("u4", "10.00", None),
        ("rep", "1.00", None),
    ]


def test_business_days_asked_once_per_team_over_its_goals_range(api, host):
    team_sales_goal(api)
    team_sales_goal(api, start_date="2026-02-01", end_date="2026-06-30")
    team_sales_goal(api, team_id="team-b")
    create(api, **sales_goal())
    host.business_days_calls.clear()
    widget(api)
    assert sorted(host.business_days_calls, key=str) == sorted(
        [
            ("team-a", date(2026, 1, 1), date(2026, 6, 30)),
            ("team-b", date(2026, 1, 1), date(2026, 3, 31)),
            (None, date(2026, 1, 1), date(2026, 3, 31)),
        ],
        key=str,
    )


def test_as_of_defaults_to_today(api, host):
    team_sales_goal(api)
    response = api.get("/widgets/team")
    assert response.status_code == 200, response.json
    assert response.json["team_id"] is None
    assert response.json["as_of"] == date.today().isoformat()


def test_progress_per_interval_and_member(api, host, db):
    goal = team_sales_goal(api, split_by_team_members=True)
    set_targets(
        db,
        goal["id"],
        {
            ("2026-01-01", "rep"): "200.00",
            ("2026-01-01", "u2"): "100.00",
            ("2026-02-01", "rep"): "150.00",
        },
    )
    host.lines += [
        Line("rep", date(2026, 1, 15), Decimal("220.00")),
        Line("u3", date(2026, 2, 2), Decimal("30.00")),
    ]
    response = api.get(f"/goals/{goal['id']}/progress", query_string={"as_of": AS_OF})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["goal"]["id"] == goal["id"]
    assert body["actuals_available"] is True
    assert body["period"]["actual"] == "250.00"
    members = {m["user_id"]: m for m in body["period"]["members"]}
    assert list(members) == ["rep", "u2", "u3"]
    assert members["rep"]["target"] == "350.00"  # 200 + 150
    assert members["rep"]["actual"] == "220.00"
    assert members["u3"]["actual"] == "30.00"
    assert members["u3"]["target"] == "0.00"

    january, february, march = body["intervals"]
    assert january["actual"] == "220.00"
    assert january["forecast"] == "220.00"  # over
    assert january["status"] == "missed"  # SPEC §14: ended with 220 of 333.34
    jan_members = {m["user_id"]: m for m in january["members"]}
    assert jan_members["rep"]["status"] == "achieved"
    assert jan_members["rep"]["achievement_percent"] == "110.0"
    assert jan_members["u2"]["actual"] == "0.00"
    assert february["actual"] == "30.00"
    assert march["actual"] == "0.00"  # not started: measured without asking
    assert march["business_days_elapsed"] == 0
    assert march["status"] == "not_started"  # SPEC §14 (was on_track)
    # Only the started intervals were asked, January and February: the whole range is their
    # sum (SPEC §7), not a query of its own.
    [(_, _, queries)] = host.actuals_calls
    assert len(queries) == 2


def test_progress_of_team_goal_without_split_lists_actuals_only(api, host):
    goal = team_sales_goal(api)
    host.lines.append(Line("u2", date(2026, 1, 7), Decimal("5.00")))
    body = api.get(f"/goals/{goal['id']}/progress?as_of={AS_OF}").json
    members = body["period"]["members"]
    assert [m["user_id"] for m in members] == ["rep", "u2", "u3"]
    # SPEC §14: a member without a target is "no_target" (was null).
    assert all(m["target"] is None and m["status"] == "no_target" for m in members)
    assert members[1]["actual"] == "5.00"
    assert members[1]["forecast"] is not None


def test_progress_as_of_defaults_to_today(api, host):
    body = sales_goal(period="this_month")
    del body["start_date"], body["end_date"]
    goal = create(api, **body)
    body = api.get(f"/goals/{goal['id']}/progress").json
    assert body["as_of"] == date.today().isoformat()  # the fake host's timezone is UTC


def test_progress_of_an_unknown_or_foreign_goal_is_404(api):
    foreign = create(api.as_user("other-admin"), **sales_goal(category="sales"))
    assert api.get(f"/goals/{foreign['id']}/progress").status_code == 404
    assert api.get("/goals/999999/progress").status_code == 404


def test_bad_as_of_is_422(api):
    response = api.get("/widgets/team?as_of=yesterday")
    assert response.status_code == 422
    assert "as_of" in response.json["errors"]["query"]


# --------------------------------------------------------------------------------------------
# Constant cost
# --------------------------------------------------------------------------------------------


def _mixed_goals(api, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        kind = i % 3
        if kind == 0:
            team_sales_goal(api, description=f"Sales {i}", split_by_team_members=True)
        elif kind == 1:
            orders_goal(api, description=f"Orders {i}", team_id="team-b")
        else:
            activities_goal(api, description=f"Visits {i}", split_by_team_members=True)


def _measure(api, db, host, path: str) -> tuple[int, dict[str, int], dict]:
    host.actuals_calls.clear()
    with count_statements(db) as statements:
        body = widget(api, path)
    return len(statements), host.calls_per_category(), body


@pytest.mark.parametrize(("path", "user"), [("/widgets/team", "admin"), ("/widgets/me", "rep")])
def test_widgets_cost_the_same_for_5_and_200_goals(api, db, host, path, user):
    caller = api.as_user(user)
    _mixed_goals(api, 5)
    small_count, small_calls, small = _measure(caller, db, host, path)
    _mixed_goals(api, 195, start=5)
    large_count, large_calls, large = _measure(caller, db, host, path)

    goals = sum(len(c["goals"]) for c in large["categories"])
    assert goals == (200 if user == "admin" else 67 + 66)  # rep: team-a's sales and visits
    assert sum(len(c["goals"]) for c in small["categories"]) < goals
    assert small_count == large_count <= 3
    assert large_calls == small_calls
    assert all(calls == 1 for calls in large_calls.values())
    expected = {"sales", "orders", "activities"} if user == "admin" else {"sales", "activities"}
    assert set(large_calls) == expected


def test_progress_costs_the_same_for_any_number_of_intervals_and_members(api, db, host):
    host.teams["big"] = [f"m{i}" for i in range(25)]
    host.users["admin"]["teams"].append("big")
    small = create(api, **sales_goal(start_date="2026-01-01", end_date="2026-01-31"))
    large = create(
        api,
        **sales_goal(
            start_date="2026-01-01",
            end_date="2026-12-31",
            team_id="big",
            split_into_subperiods=True,
            split_by_team_members=True,
        ),
    )
    counts = []
    for goal in (small, large):
        host.actuals_calls.clear()
        with count_statements(db) as statements:
            response = api.get(f"/goals/{goal['id']}/progress?as_of=2026-06-15")
        assert response.status_code == 200
        assert len(host.actuals_calls) == 1
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 3
    assert len(response.json["intervals"]) == 12
    assert len(response.json["intervals"][0]["members"]) == 25


# --------------------------------------------------------------------------------------------
# Absent, failing and hidden sources
# --------------------------------------------------------------------------------------------


def test_no_source_for_a_category(api, host):
    host.owned = {"sales"}
    team_sales_goal(api)
    orders = orders_goal(api)
    host.lines.append(Line("rep", date(2026, 1, 5), Decimal("10.00")))
    body = widget(api)
    assert section(body, "sales")["actuals_available"] is True
    section_ = section(body, "orders")
    assert section_["actuals_available"] is False
    assert section_["actuals_note"] == "No metric source answers the orders category."
    period = section_["goals"][0]["period"]
    assert period["target"] == "100"
    assert period["expected"] == "45.31"  # known without a source
    for name in ("actual", "forecast", "achievement_percent", "remaining", "status"):
        assert period[name] is None, name

    progress = api.get(f"/goals/{orders['id']}/progress?as_of={AS_OF}")
    assert progress.status_code == 200
    assert progress.json["actuals_available"] is False
    assert progress.json["actuals_note"] == "No metric source answers the orders category."
    assert progress.json["period"]["actual"] is None


def test_failing_source_blanks_its_category_only(api, host, caplog):
    host.failing = {"orders"}
    sales = team_sales_goal(api)
    orders = orders_goal(api)
    host.lines.append(Line("rep", date(2026, 1, 5), Decimal("10.00")))
    body = widget(api)
    assert section(body, "sales")["goals"][0]["period"]["actual"] == "10.00"
    failed = section(body, "orders")
    assert failed["actuals_available"] is False
    assert failed["actuals_error"] == (
        "The metric source of the orders category failed; its actuals are not available."
    )
    assert failed["goals"][0]["period"]["actual"] is None
    assert "the warehouse database is unreachable" in caplog.text  # logged with its traceback

    response = api.get(f"/goals/{orders['id']}/progress?as_of={AS_OF}")
    assert response.status_code == 502
    assert response.json["code"] == 502
    assert "orders" in response.json["message"]
    assert api.get(f"/goals/{sales['id']}/progress?as_of={AS_OF}").status_code == 200


def test_orders_hidden_when_the_feature_is_off(api, host):
    team_sales_goal(api)
    orders_goal(api)
    host.features[ORG] = set()
    body = widget(api)
    assert [c["category"] for c in body["categories"]] == ["sales", "activities"]
    assert "orders" not in host.calls_per_category()
    me = widget(api.as_user("rep"), "/widgets/me")
    assert [c["category"] for c in me["categories"]] == ["sales", "activities"]


def test_other_organizations_goals_never_appear(api, host):
    mine = team_sales_goal(api)
    other = api.as_user("other-admin")
    create(other, **sales_goal(team_id="team-x"))
    create(other, **sales_goal())
    host.lines.append(Line("x1", date(2026, 1, 5), Decimal("10.00"), organization_id=OTHER_ORG))
    body = widget(api)
    ids = [entry["goal"]["id"] for c in body["categories"] for entry in c["goals"]]
    assert ids == [mine["id"]]
    assert {organization for organization, _, _ in host.actuals_calls} == {ORG}
    # Even a team id of the other organization shows nothing of it.
    host.users["admin"]["teams"].append("team-x")
    body = widget(api, team_id="team-x")
    assert all(c["goals"] == [] for c in body["categories"])


def test_team_filter_and_team_authorization(api, host):
    a = team_sales_goal(api)
    team_sales_goal(api, team_id="team-b")
    create(api, **sales_goal())  # organization-wide
    body = widget(api, team_id="team-a")
    assert body["team_id"] == "team-a"
    assert [e["goal"]["id"] for e in section(body, "sales")["goals"]] == [a["id"]]
    response = api.as_user("rep").get("/widgets/team", query_string={"team_id": "team-b"})
    assert response.status_code == 403
    # Without a team the rep sees what the default rule lets them read: team-a and org-wide.
    body = widget(api.as_user("rep"))
    assert len(section(body, "sales")["goals"]) == 2


def test_goals_not_active_on_as_of_are_not_shown(api, host):
    team_sales_goal(api)
    team_sales_goal(api, start_date="2026-04-01", end_date="2026-06-30")
    body = widget(api)
    assert len(section(body, "sales")["goals"]) == 1
    assert widget(api, as_of="2026-07-01")["categories"][0]["goals"] == []


def test_holidays_from_a_plugin_change_the_forecast(api, host):
    team_sales_goal(api)
    host.lines.append(Line("rep", date(2026, 1, 5), Decimal("290.00")))
    before = section(widget(api), "sales")["goals"][0]["period"]
    assert before["forecast"] == "640.00"  # 290 * 64 / 29
    host.holidays = {date(2026, 1, 1), date(2026, 1, 2), date(2026, 3, 30)}
    after = section(widget(api), "sales")["goals"][0]["period"]
    assert (after["business_days"], after["business_days_elapsed"]) == (61, 27)
    assert after["forecast"] == "655.19"  # 290 * 61 / 27


# --------------------------------------------------------------------------------------------
# The individual dashboard
# --------------------------------------------------------------------------------------------


def test_rep_sees_own_target_actual_and_forecast(api, host, db):
    split = team_sales_goal(api, split_by_team_members=True)
    set_targets(
        db,
        split["id"],
        {
            ("2026-01-01", "rep"): "100.00",
            ("2026-02-01", "rep"): "120.00",
            ("2026-03-01", "rep"): "130.00",
            ("2026-02-01", "u2"): "999.00",
        },
    )
    plain = team_sales_goal(api, description="Team revenue")
    org_wide = create(api, **sales_goal(description="Company revenue"))
    team_sales_goal(api, team_id="team-b", description="Not mine")
    host.lines += [
        Line("rep", date(2026, 1, 12), Decimal("87.00")),
        Line("rep", date(2026, 2, 4), Decimal("35.00")),
        Line("u2", date(2026, 2, 4), Decimal("500.00")),
    ]
    body = widget(api.as_user("rep"), "/widgets/me")
    assert body["user_id"] == "rep"
    entries = {e["goal"]["id"]: e for e in section(body, "sales")["goals"]}
    assert set(entries) == {split["id"], plain["id"], org_wide["id"]}

    own = entries[split["id"]]
    assert own["period"]["target"] == "350.00"  # 100 + 120 + 130
    assert own["period"]["actual"] == "122.00"  # not u2's
    assert own["period"]["forecast"] == "269.24"  # 122 * 64 / 29
    assert own["period"]["achievement_percent"] == "34.9"
    assert own["period"]["counted"] is True
    assert own["current_interval"]["target"] == "120.00"
    assert own["current_interval"]["actual"] == "35.00"
    assert own["current_interval"]["forecast"] == "100.00"  # 35 * 20 / 7

    team_only = entries[plain["id"]]
    assert team_only["period"]["target"] is None
    assert team_only["period"]["actual"] == "122.00"
    assert team_only["period"]["status"] == "no_target"  # SPEC §14 (was null)
    assert entries[org_wide["id"]]["period"]["actual"] == "122.00"


def test_allocation_holder_who_left_the_team_is_not_counted(api, host, db):
    goal = team_sales_goal(api, split_by_team_members=True)
    set_targets(db, goal["id"], {("2026-02-01", "rep"): "50.00"})
    host.teams["team-a"] = ["u2", "u3"]
    host.lines.append(Line("rep", date(2026, 2, 3), Decimal("40.00")))
    body = widget(api.as_user("rep"), "/widgets/me")
    [entry] = section(body, "sales")["goals"]
    assert entry["current_interval"]["target"] == "50.00"
    assert entry["current_interval"]["counted"] is False
    assert entry["current_interval"]["actual"] is None
    progress = api.get(f"/goals/{goal['id']}/progress?as_of={AS_OF}").json
    february = progress["intervals"][1]
    # Allocation holders in team order (rep's allocation stays), each with its target.
    assert [(m["user_id"], m["counted"], m["actual"]) for m in february["members"]] == [
        ("rep", False, None),
        ("u2", True, "0.00"),
        ("u3", True, "0.00"),
    ]
    assert february["actual"] == "0.00"  # rep's sale is not the team's any more


def test_activity_goal_per_business_day(api, host):
    activities_goal(api, split_by_team_members=True)
    host.lines += [Line("rep", date(2026, 2, d), category="activities") for d in (2, 3, 4)]
    entry = section(widget(api), "activities")["goals"][0]
    current = entry["current_interval"]
    assert current["target"] == "120.00"  # 2 a day x 20 days x 3 members
    assert current["actual"] == "3"
    assert current["expected"] == "42.00"
    assert current["forecast"] == "8.57"  # 3 * 20 / 7


# --------------------------------------------------------------------------------------------
# The OpenAPI document
# --------------------------------------------------------------------------------------------


def test_openapi_documents_figures_as_decimal_strings(app):
    spec = app.test_client().get("/api/goals/openapi.json").json
    figures = spec["components"]["schemas"]["PeriodFigures"]["properties"]
    for name in ("target", "actual", "forecast", "achievement_percent", "expected"):
        assert figures[name]["type"] == "string" and figures[name]["format"] == "decimal"
    assert "/api/goals/widgets/team" in spec["paths"]
    assert "/api/goals/widgets/me" in spec["paths"]
    progress = spec["paths"]["/api/goals/goals/{goal_id}/progress"]["get"]
    assert "502" in progress["responses"]
