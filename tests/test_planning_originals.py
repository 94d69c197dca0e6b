"""Original and current aims (SPEC §11): an interval keeps the aim it had when it started."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import sales_goal


def test_an_interval_keeps_its_aim_from_its_start_and_a_later_one_follows_until_it_starts(
    api, freeze_now
):
    freeze_now(datetime(2026, 1, 5, 12, tzinfo=UTC))
    goal = api.post(
        "/goals",
        json=sales_goal(metric="quantity", aim="300", split_into_subperiods=True),
    ).json
    january, february, march = api.get(f"/goals/{goal['id']}/intervals").json
    assert [i["original_aim"] for i in (january, february, march)] == ["100", "100", "100"]

    def patch(interval, aim):
        path = f"/goals/{goal['id']}/intervals/{interval['id']}"
        response = api.write("PATCH", path + "?confirm=true", json={"aim": aim}, etag_of=path)
        assert response.status_code == 200, response.json
        return response.json

    patch(january, "150")
    row = api.get(f"/goals/{goal['id']}/intervals/{january['id']}").json
    assert (row["aim"], row["original_aim"]) == ("150", "100")  # started on Jan 1: kept
    row = patch(february, "80")
    assert (row["aim"], row["original_aim"]) == ("80", "80")  # not started: follows

    freeze_now(datetime(2026, 2, 10, 12, tzinfo=UTC))
    row = patch(february, "60")
    assert (row["aim"], row["original_aim"]) == ("60", "80")  # its aim on its first day
    row = patch(february, "70")
    assert (row["aim"], row["original_aim"]) == ("70", "80")
    row = api.get(f"/goals/{goal['id']}/intervals/{march['id']}").json
    assert (row["aim"], row["original_aim"]) == ("100", "100")


def test_members_keep_their_target_from_the_intervals_start(api, freeze_now):
    freeze_now(datetime(2025, 12, 20, 12, tzinfo=UTC))
    goal = api.post(
        "/goals",
        json=sales_goal(
            metric="quantity",
            aim="90",
            start_date="2026-01-01",
            end_date="2026-01-31",
            team_id="team-a",
            split_by_team_members=True,
        ),
    ).json
    (interval,) = api.get(f"/goals/{goal['id']}/intervals").json
    path = f"/goals/{goal['id']}/intervals/{interval['id']}/allocations"
    api.post(path + "/distribute", json={"strategy": "equal"})  # 30 each, before the start
    freeze_now(datetime(2026, 1, 5, 12, tzinfo=UTC))
    response = api.write(
        "PUT",
        path + "?confirm=true",
        json={"allocations": [{"user_id": "u2", "target": "40"}]},
        etag_of=path,
    )
    assert response.status_code == 200, response.json
    rows = {a["user_id"]: a for a in response.json["allocations"]}
    assert (rows["u2"]["target"], rows["u2"]["original_target"]) == ("40", "30")
    assert (rows["rep"]["target"], rows["rep"]["original_target"]) == ("30", "30")
    assert response.json["interval"]["original_aim"] == "90"
    assert response.json["interval"]["aim"] == "100"  # the confirmed cascade


def test_a_goal_created_after_its_start_keeps_what_it_was_created_with(api, freeze_now):
    freeze_now(datetime(2026, 1, 5, 12, tzinfo=UTC))
    goal = api.post(
        "/goals", json=sales_goal(metric="quantity", aim="90", end_date="2026-01-31")
    ).json
    (interval,) = api.get(f"/goals/{goal['id']}/intervals").json
    path = f"/goals/{goal['id']}"
    response = api.write("PATCH", path, json={"aim": "120"})
    assert response.status_code == 200, response.json
    (interval,) = api.get(f"/goals/{goal['id']}/intervals").json
    assert (interval["aim"], interval["original_aim"]) == ("120", "90")
