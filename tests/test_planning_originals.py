"""Original and current aims (SPEC §11): an interval keeps the aim it had when it started."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from conftest import sales_goal


def test_an_interval_keeps_its_aim_from_its_start_and_a_later_one_follows_until_it_starts(
    api, freeze_now
):
    freeze_now(datetime(2025, 12, 20, 12, tzinfo=UTC))
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

    freeze_now(datetime(2026, 1, 5, 12, tzinfo=UTC))
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


def test_a_goal_created_after_its_start_keeps_what_stood_at_the_end_of_its_creation_day(
    api, freeze_now
):
    freeze_now(datetime(2026, 1, 5, 12, tzinfo=UTC))
    goal = api.post(
        "/goals", json=sales_goal(metric="quantity", aim="90", end_date="2026-01-31")
    ).json
    path = f"/goals/{goal['id']}"
    response = api.write("PATCH", path, json={"aim": "120"})  # the set-up, the same day
    assert response.status_code == 200, response.json
    (interval,) = api.get(f"{path}/intervals").json
    assert (interval["aim"], interval["original_aim"]) == ("120", "120")

    freeze_now(datetime(2026, 1, 6, 9, tzinfo=UTC))
    response = api.write("PATCH", path, json={"aim": "150"})
    assert response.status_code == 200, response.json
    (interval,) = api.get(f"{path}/intervals").json
    assert (interval["aim"], interval["original_aim"]) == ("150", "120")


def test_members_distributed_on_the_creation_day_keep_that_distribution_as_original(
    api, freeze_now
):
    """The usual set-up in the middle of a month: create, then distribute. The members'
    original is the distribution, not the zeros the goal was created with."""
    freeze_now(datetime(2026, 1, 5, 12, tzinfo=UTC))
    goal = api.post(
        "/goals",
        json=sales_goal(
            metric="quantity",
            aim="90",
            end_date="2026-01-31",
            team_id="team-a",
            split_by_team_members=True,
        ),
    ).json
    (interval,) = api.get(f"/goals/{goal['id']}/intervals").json
    path = f"/goals/{goal['id']}/intervals/{interval['id']}/allocations"
    assert api.post(path + "/distribute", json={"strategy": "equal"}).status_code == 200

    freeze_now(datetime(2026, 1, 7, 12, tzinfo=UTC))
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


def test_the_planning_job_keeps_originals_from_the_day_after_the_creation(app, api, db, freeze_now):
    from flask_wiseparts_goals.jobs import run_job
    from flask_wiseparts_goals.models import Interval

    freeze_now(datetime(2026, 1, 5, 12, tzinfo=UTC))
    goal = api.post(
        "/goals", json=sales_goal(metric="quantity", aim="90", end_date="2026-01-31")
    ).json

    def stored_original() -> object:
        db.session.remove()
        return db.session.scalars(
            sa.select(Interval.original_aim).where(Interval.goal_id == goal["id"])
        ).one()

    run_job(app, "planning", as_of=date(2026, 1, 5))
    assert stored_original() is None  # still the creation day: the set-up may go on
    api.write("PATCH", f"/goals/{goal['id']}", json={"aim": "120"})
    run_job(app, "planning", as_of=date(2026, 1, 6))
    assert stored_original() == Decimal("120")
