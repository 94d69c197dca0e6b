"""Interval aims, allocations, distribution, interval copy, the exceed cascade and history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from conftest import ApiClient, FakeHost, dump_tables, sales_goal
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_wiseparts_goals import ActualsResult, hookimpl
from flask_wiseparts_goals.domain.distribution import distribute_equal, distribute_proportional
from flask_wiseparts_goals.models import Goal, HistoryEntry


def team_goal(api: ApiClient, **overrides) -> dict:
    body = sales_goal(team_id="team-a", split_by_team_members=True, **overrides)
    response = api.post("/goals", json=body)
    assert response.status_code == 201, response.json
    return response.json


def intervals_of(api: ApiClient, goal_id: int) -> list[dict]:
    return api.get(f"/goals/{goal_id}/intervals").json


def alloc_path(goal_id: int, interval_id: int) -> str:
    return f"/goals/{goal_id}/intervals/{interval_id}/allocations"


def targets(api: ApiClient, goal_id: int, interval_id: int, key: str = "target") -> list[str]:
    return [a[key] for a in api.get(alloc_path(goal_id, interval_id)).json["allocations"]]


def set_interval_aim(api: ApiClient, goal_id: int, interval_id: int, aim: str, confirm=False):
    path = f"/goals/{goal_id}/intervals/{interval_id}"
    return api.write(
        "PATCH", path + ("?confirm=true" if confirm else ""), json={"aim": aim}, etag_of=path
    )


def put_allocations(api: ApiClient, goal_id: int, interval_id: int, entries, confirm=False):
    path = alloc_path(goal_id, interval_id)
    return api.write(
        "PUT",
        path + ("?confirm=true" if confirm else ""),
        json={"allocations": entries},
        etag_of=path,
    )


def distribute(api: ApiClient, goal_id: int, interval_id: int, confirm=False, **body):
    path = alloc_path(goal_id, interval_id) + "/distribute" + ("?confirm=true" if confirm else "")
    return api.post(path, json=body)


@pytest.mark.parametrize(
    ("metric", "aim", "members", "expected"),
    [
        ("quantity", "100", ["rep", "u2", "u3"], ["34", "33", "33"]),
        ("net", "100.00", ["rep", "u2", "u3"], ["33.34", "33.33", "33.33"]),
        ("quantity", "7", [f"m{i}" for i in range(10)], ["1"] * 7 + ["0"] * 3),
        ("quantity", "0", ["rep", "u2", "u3"], ["0", "0", "0"]),
    ],
)
def test_equal_split_remainders_go_to_the_first_members(api, host, metric, aim, members, expected):
    host.teams["team-a"] = members
    goal = team_goal(api, metric=metric, aim=aim)
    interval = intervals_of(api, goal["id"])[0]
    response = distribute(api, goal["id"], interval["id"], strategy="equal")
    assert response.status_code == 200, response.json
    assert [a["target"] for a in response.json["allocations"]] == expected
    assert [a["user_id"] for a in response.json["allocations"]] == members
    assert response.json["interval"]["unallocated"] == ("0.00" if metric == "net" else "0")


def test_proportional_by_preceding_interval_targets(api):
    goal = team_goal(api, aim="300.00", split_into_subperiods=True)
    january, february, _ = intervals_of(api, goal["id"])
    assert (
        put_allocations(
            api,
            goal["id"],
            january["id"],
            [
                {"user_id": "rep", "target": "50.00"},
                {"user_id": "u2", "target": "25.00"},
                {"user_id": "u3", "target": "25.00"},
            ],
        ).status_code
        == 200
    )
    response = distribute(api, goal["id"], february["id"], strategy="proportional")
    assert response.status_code == 200, response.json
    assert response.json["fell_back_to_equal"] is False
    assert [a["target"] for a in response.json["allocations"]] == ["50.00", "25.00", "25.00"]


def test_proportional_without_preceding_data_falls_back_to_equal_and_says_so(api):
    goal = team_goal(api, aim="100.00", split_into_subperiods=True)
    january = intervals_of(api, goal["id"])[0]
    response = distribute(api, goal["id"], january["id"], strategy="proportional")
    assert response.json["fell_back_to_equal"] is True
    assert response.json["notes"]
    assert [a["target"] for a in response.json["allocations"]] == ["11.12", "11.11", "11.11"]


def test_proportional_all_zero_weights_falls_back(api):
    goal = team_goal(api, aim="90.00", split_into_subperiods=True)
    _, february, _ = intervals_of(api, goal["id"])
    response = distribute(api, goal["id"], february["id"], strategy="proportional")
    assert response.json["fell_back_to_equal"] is True
    assert [a["target"] for a in response.json["allocations"]] == ["10.00", "10.00", "10.00"]


class ActualsHost(FakeHost):
    def __init__(self) -> None:
        super().__init__()
        self.actuals: dict[str, Decimal] = {}
        self.queries: list = []

    @hookimpl
    def goals_collect_actuals(self, organization_id, category, queries):
        self.queries.extend(queries)
        return {
            q.key: ActualsResult(
                total=sum(self.actuals.values(), Decimal(0)), per_user=dict(self.actuals)
            )
            for q in queries
        }


@pytest.fixture
def host() -> ActualsHost:
    """Every test of this module runs with a host that also answers actuals."""
    return ActualsHost()


def test_proportional_by_actuals_of_the_preceding_period_negative_counts_zero(api, host):
    host.actuals = {"rep": Decimal("300"), "u2": Decimal("100"), "u3": Decimal("-50")}
    goal = team_goal(api, aim="100.00", start_date="2026-02-01", end_date="2026-02-28")
    interval = intervals_of(api, goal["id"])[0]
    response = distribute(api, goal["id"], interval["id"], strategy="proportional", basis="actuals")
    assert response.status_code == 200, response.json
    assert [a["target"] for a in response.json["allocations"]] == ["75.00", "25.00", "0.00"]
    (query,) = host.queries
    assert (query.start, query.end) == (date(2026, 1, 4), date(2026, 1, 31))
    assert set(query.user_ids) == {"rep", "u2", "u3"}


def test_proportional_for_a_recurring_clone_uses_the_previous_goals_last_interval(api, db):
    first = team_goal(api, aim="100.00", start_date="2026-01-01", end_date="2026-01-31")
    january = intervals_of(api, first["id"])[0]
    put_allocations(
        api,
        first["id"],
        january["id"],
        [{"user_id": "rep", "target": "60.00"}, {"user_id": "u2", "target": "40.00"}],
    )
    second = team_goal(api, aim="10.00", start_date="2026-02-01", end_date="2026-02-28")
    db.session.get(Goal, second["id"]).source_goal_id = first["id"]
    db.session.commit()
    february = intervals_of(api, second["id"])[0]
    response = distribute(api, second["id"], february["id"], strategy="proportional")
    assert response.json["fell_back_to_equal"] is False
    assert [a["target"] for a in response.json["allocations"]] == ["6.00", "4.00", "0.00"]


def test_locked_members_keep_their_value_and_the_rest_is_spread(api):
    goal = team_goal(api, aim="100.00")
    interval = intervals_of(api, goal["id"])[0]
    put_allocations(api, goal["id"], interval["id"], [{"user_id": "u2", "target": "40.00"}])
    response = distribute(api, goal["id"], interval["id"], strategy="equal", locked_user_ids=["u2"])
    assert [a["target"] for a in response.json["allocations"]] == ["30.00", "40.00", "30.00"]


def test_copy_to_others(api):
    goal = team_goal(api, aim="100.00")
    interval = intervals_of(api, goal["id"])[0]
    put_allocations(api, goal["id"], interval["id"], [{"user_id": "u2", "target": "20.00"}])
    response = distribute(api, goal["id"], interval["id"], strategy="copy", source_user_id="u2")
    assert response.status_code == 200
    assert [a["target"] for a in response.json["allocations"]] == ["20.00", "20.00", "20.00"]
    assert response.json["interval"]["unallocated"] == "40.00"


def test_allocating_a_non_member_is_422_and_writes_nothing(api, db):
    goal = team_goal(api, aim="100.00")
    interval = intervals_of(api, goal["id"])[0]
    before = dump_tables(db)
    response = put_allocations(
        api, goal["id"], interval["id"], [{"user_id": "x1", "target": "1.00"}]
    )
    assert response.status_code == 422
    assert "x1" in response.json["errors"]["json"]["allocations"][0]
    response = distribute(api, goal["id"], interval["id"], strategy="copy", source_user_id="x1")
    assert response.status_code == 422
    assert "source_user_id" in response.json["errors"]["json"]
    assert dump_tables(db) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"allocations": [{"user_id": "rep", "target": "1.001"}]}, "allocations"),
        ({"allocations": [{"user_id": "rep", "target": "-1"}]}, "allocations"),
        ({"allocations": [{"user_id": "rep", "daily_target": "1"}]}, "allocations"),
        ({"allocations": [{"user_id": "rep"}]}, "allocations"),
        ({"allocations": []}, "allocations"),
        (
            {"allocations": [{"user_id": "rep", "target": "1"}, {"user_id": "rep", "target": "2"}]},
            "allocations",
        ),
        ({"allocations": [{"user_id": "rep", "target": "1", "extra": 1}]}, "allocations"),
        ({"nope": []}, "nope"),
    ],
)
def test_bad_allocations_are_422_with_the_field_and_write_nothing(api, db, body, field):
    goal = team_goal(api, aim="100.00")
    interval = intervals_of(api, goal["id"])[0]
    before = dump_tables(db)
    path = alloc_path(goal["id"], interval["id"])
    response = api.write("PUT", path, json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]
    assert dump_tables(db) == before


def test_allocations_exceeding_the_interval_aim_need_confirmation_then_cascade(api, db):
    goal = team_goal(api, aim="300.00", split_into_subperiods=True)
    january = intervals_of(api, goal["id"])[0]
    before = dump_tables(db)
    entries = [{"user_id": "rep", "target": "150.00"}]
    refused = put_allocations(api, goal["id"], january["id"], entries)
    assert refused.status_code == 409
    assert refused.json["current_aim"] == "300.00"
    assert refused.json["proposed_total"] == "350.00"
    assert refused.json["intervals"] == [
        {
            "interval_id": january["id"],
            "start_date": "2026-01-01",
            "end_date": "2026-01-31",
            "current_aim": "100.00",
            "allocated": "150.00",
            "proposed_aim": "150.00",
        }
    ]
    assert dump_tables(db) == before  # byte for byte

    applied = put_allocations(api, goal["id"], january["id"], entries, confirm=True)
    assert applied.status_code == 200
    assert applied.json["interval"]["aim"] == "150.00"
    assert api.get(f"/goals/{goal['id']}").json["aim"] == "350.00"
    history = api.get(f"/goals/{goal['id']}/history").json
    cascades = {
        (h["field"], h["interval_id"], h["old_value"], h["new_value"])
        for h in history
        if h["operation"] == "cascade"
    }
    assert cascades == {
        ("aim", january["id"], "100.00", "150.00"),
        ("aim", None, "300.00", "350.00"),
    }
    manual = [h for h in history if h["operation"] == "manual"]
    assert [(h["user_id"], h["old_value"], h["new_value"]) for h in manual] == [
        ("rep", "0.00", "150.00")
    ]


def test_interval_aims_exceeding_the_goal_aim_need_confirmation(api, db):
    goal = team_goal(api, aim="300.00", split_into_subperiods=True)
    january = intervals_of(api, goal["id"])[0]
    before = dump_tables(db)
    refused = set_interval_aim(api, goal["id"], january["id"], "200.00")
    assert refused.status_code == 409
    assert (refused.json["current_aim"], refused.json["proposed_total"]) == ("300.00", "400.00")
    # the interval the write changes is listed with its current and proposed aim (SPEC §6)
    assert [
        (i["interval_id"], i["current_aim"], i["proposed_aim"]) for i in refused.json["intervals"]
    ] == [(january["id"], "100.00", "200.00")]
    assert dump_tables(db) == before
    assert (
        set_interval_aim(api, goal["id"], january["id"], "200.00", confirm=True).status_code == 200
    )
    assert api.get(f"/goals/{goal['id']}").json["aim"] == "400.00"


def test_under_allocation_is_allowed_and_shows_the_rest(api):
    goal = team_goal(api, aim="100.00")
    interval = intervals_of(api, goal["id"])[0]
    response = put_allocations(
        api, goal["id"], interval["id"], [{"user_id": "rep", "target": "10.00"}]
    )
    assert response.status_code == 200
    assert response.json["interval"]["unallocated"] == "90.00"


def test_stale_or_missing_if_match(api):
    goal = team_goal(api, aim="100.00")
    interval = intervals_of(api, goal["id"])[0]
    path = alloc_path(goal["id"], interval["id"])
    body = {"allocations": [{"user_id": "rep", "target": "1.00"}]}
    assert api.put(path, json=body).status_code == 428
    etag = api.get(path).headers["ETag"]
    assert api.put(path, json=body, headers={"If-Match": etag}).status_code == 200
    assert api.put(path, json=body, headers={"If-Match": etag}).status_code == 412
    interval_path = f"/goals/{goal['id']}/intervals/{interval['id']}"
    assert api.patch(interval_path, json={"aim": "1.00"}).status_code == 428
    assert (
        api.patch(interval_path, json={"aim": "1.00"}, headers={"If-Match": '"stale"'}).status_code
        == 412
    )
    stale = distribute(api, goal["id"], interval["id"], strategy="equal")
    assert stale.status_code == 200
    response = api.post(
        path + "/distribute", json={"strategy": "equal"}, headers={"If-Match": etag}
    )
    assert response.status_code == 412


def activity_goal(api: ApiClient, **overrides) -> dict:
    body = {
        "category": "activities",
        "description": "Visits",
        "start_date": "2026-01-01",
        "end_date": "2026-03-31",
        "split_into_subperiods": True,
    }
    body.update(overrides)
    response = api.post("/goals", json=body)
    assert response.status_code == 201, response.json
    return response.json


def test_per_day_member_targets_copy_across_months_with_a_holiday(api, host):
    host.holidays = {date(2026, 2, 16)}  # a Monday: February has 19 business days
    goal = activity_goal(
        api, goal_mode="per_business_day", team_id="team-a", split_by_team_members=True
    )
    january, february, march = intervals_of(api, goal["id"])
    assert [i["business_days"] for i in (january, february, march)] == [22, 19, 22]
    put_allocations(
        api,
        goal["id"],
        january["id"],
        [{"user_id": "rep", "daily_target": "3"}, {"user_id": "u2", "daily_target": "2.5"}],
    )
    response = api.post(f"/goals/{goal['id']}/intervals/{january['id']}/copy")
    assert response.status_code == 200, response.json
    assert [i["aim"] for i in response.json] == ["121.00", "104.50", "121.00"]
    assert targets(api, goal["id"], february["id"], "daily_target") == ["3.00", "2.50", "0.00"]
    assert targets(api, goal["id"], february["id"], "effective_target") == [
        "57.00",
        "47.50",
        "0.00",
    ]
    assert api.get(f"/goals/{goal['id']}").json["aim"] == "346.50"
    ops = {h["operation"] for h in api.get(f"/goals/{goal['id']}/history?page_size=500").json}
    assert {"create", "manual", "copy"} <= ops


def test_total_mode_interval_targets_copy_and_sum_into_the_goal(api):
    goal = activity_goal(api)
    january, _february, _march = intervals_of(api, goal["id"])
    response = set_interval_aim(api, goal["id"], january["id"], "40")
    assert response.status_code == 200, response.json
    assert api.get(f"/goals/{goal['id']}").json["aim"] == "40"
    api.post(f"/goals/{goal['id']}/intervals/{january['id']}/copy")
    assert [i["aim"] for i in intervals_of(api, goal["id"])] == ["40", "40", "40"]
    assert api.get(f"/goals/{goal['id']}").json["aim"] == "120"


def test_per_day_interval_without_members_takes_a_daily_target(api):
    goal = activity_goal(api, goal_mode="per_business_day", daily_target="2")
    january, february, _ = intervals_of(api, goal["id"])
    assert (january["aim"], february["aim"]) == ("44.00", "40.00")
    path = f"/goals/{goal['id']}/intervals/{february['id']}"
    response = api.write("PATCH", path, json={"daily_target": "1.5"})
    assert response.status_code == 200, response.json
    assert response.json["aim"] == "30.00"
    assert api.write("PATCH", path, json={"aim": "3"}).status_code == 422


def test_activity_goals_cannot_be_split_equally(api):
    goal = activity_goal(api, team_id="team-a", split_by_team_members=True)
    january = intervals_of(api, goal["id"])[0]
    response = distribute(api, goal["id"], january["id"], strategy="equal")
    assert response.status_code == 422
    assert "strategy" in response.json["errors"]["json"]


def test_history_records_who_and_which_operation(api):
    goal = team_goal(api, aim="90.00")
    interval = intervals_of(api, goal["id"])[0]
    distribute(api, goal["id"], interval["id"], strategy="equal")
    history = api.get(f"/goals/{goal['id']}/history").json
    rows = [
        (h["user_id"], h["new_value"], h["changed_by"])
        for h in history
        if h["operation"] == "distribute"
    ]
    assert rows == [("rep", "30.00", "admin"), ("u2", "30.00", "admin"), ("u3", "30.00", "admin")]
    page = api.get(f"/goals/{goal['id']}/history?page_size=2")
    assert len(page.json) == 2
    assert '"total"' in page.headers["X-Pagination"]


def test_reps_cannot_allocate(api):
    goal = team_goal(api, aim="90.00")
    interval = intervals_of(api, goal["id"])[0]
    rep = api.as_user("rep")
    assert rep.get(alloc_path(goal["id"], interval["id"])).status_code == 200
    response = rep.post(
        alloc_path(goal["id"], interval["id"]) + "/distribute", json={"strategy": "equal"}
    )
    assert response.status_code == 403


def test_other_organization_sees_404(api):
    goal = team_goal(api, aim="90.00")
    interval = intervals_of(api, goal["id"])[0]
    other = api.as_user("other-admin")
    assert other.get(alloc_path(goal["id"], interval["id"])).status_code == 404
    assert (
        other.post(
            alloc_path(goal["id"], interval["id"]) + "/distribute", json={"strategy": "equal"}
        ).status_code
        == 404
    )
    assert other.get(f"/goals/{goal['id']}/history").status_code == 404


weights = st.lists(
    st.decimals(min_value=-5, max_value=10**6, places=3, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=1000,
)


@settings(max_examples=60, deadline=None)
@given(
    aim=st.integers(min_value=0, max_value=10**9),
    weights=weights,
    locked=st.integers(min_value=0, max_value=3),
)
def test_proportional_with_locks_always_sums_exactly(aim, weights, locked):
    members = [f"m{i}" for i in range(len(weights))]
    unit = Decimal("0.01")
    total = Decimal(aim) * unit
    locks = {m: Decimal("1.00") for m in members[:locked] if len(members) > locked}
    result = distribute_proportional(
        total, members, dict(zip(members, weights, strict=False)), unit, locks
    )
    values = result.values
    assert all(values[m] == v for m, v in locks.items())
    expected = max(total, sum(locks.values(), Decimal(0)))
    assert sum(values.values()) == expected
    assert all(v >= 0 and v == v.quantize(unit) for v in values.values())


@given(aim=st.integers(min_value=0, max_value=10**6), n=st.integers(min_value=1, max_value=1000))
def test_equal_distribution_sums_exactly(aim, n):
    members = [f"m{i}" for i in range(n)]
    values = distribute_equal(Decimal(aim), members, Decimal(1)).values
    assert sum(values.values()) == aim
    assert max(values.values()) - min(values.values()) <= 1


def test_put_allocations_accepts_a_bare_list(api):
    goal = team_goal(api, aim="100.00")
    interval = intervals_of(api, goal["id"])[0]
    path = alloc_path(goal["id"], interval["id"])
    response = api.write("PUT", path, json=[{"user_id": "u2", "target": "12.00"}])
    assert response.status_code == 200, response.json
    assert targets(api, goal["id"], interval["id"]) == ["0.00", "12.00", "0.00"]


# -- bulk writes -----------------------------------------------------------------------------


def test_distribute_updates_every_member_with_one_statement(api, host, db):
    """The distribute write path: the same statements for 3 and 40 members; the stored
    allocations' new targets go in one UPDATE (an executemany by primary key), history rows in
    one INSERT; distributing again to the same values writes no allocation at all."""

    def run(goal_id: int, interval_id: int) -> list[str]:
        statements: list[str] = []

        def listener(conn, cursor, statement, parameters, context, executemany):
            if "host_" not in statement:  # the extension's own statements
                statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            response = distribute(api, goal_id, interval_id, strategy="equal")
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        assert response.status_code == 200, response.json
        assert sum(Decimal(a["target"]) for a in response.json["allocations"]) == Decimal(1000)
        return statements

    counts = {}
    for team, size in (("team-a", 3), ("team-b", 40)):
        host.teams[team] = [f"m{team[-1]}{n:02d}" for n in range(size)]
        response = api.post("/goals", json=sales_goal(team_id=team, split_by_team_members=True))
        assert response.status_code == 201, response.json
        goal = response.json
        (interval,) = intervals_of(api, goal["id"])
        statements = run(goal["id"], interval["id"])
        updates = [
            s for s in statements if s.lstrip().upper().startswith("UPDATE GOALS_ALLOCATION")
        ]
        assert len(updates) == 1
        counts[size] = len(statements)
        history = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(HistoryEntry)
            .where(HistoryEntry.goal_id == goal["id"], HistoryEntry.operation == "distribute")
        )
        assert history == size  # every member's target went from 0
        again = run(goal["id"], interval["id"])
        assert not [s for s in again if "UPDATE goals_allocation" in s]
    assert counts[3] == counts[40]
