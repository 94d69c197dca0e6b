"""Import and export of targets as CSV (SPEC §11): round trip, dry run, exceed rule, errors."""

from __future__ import annotations

from conftest import dump_tables, sales_goal


def csv_path(goal_id, **query):
    args = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/goals/{goal_id}/targets.csv" + (f"?{args}" if args else "")


def put_csv(api, goal_id, text, **query):
    """An upload as a client makes it: with the ETag of the targets as they stand (If-Match;
    tests/test_security.py tries it without and stale)."""
    headers = {"Content-Type": "text/csv"}
    etag = api.get(csv_path(goal_id)).headers.get("ETag")
    if etag:
        headers["If-Match"] = etag
    return api.put(csv_path(goal_id, **query), data=text.encode(), headers=headers)


def team_goal(api):
    body = sales_goal(
        aim="900.00", split_into_subperiods=True, team_id="team-a", split_by_team_members=True
    )
    response = api.post("/goals", json=body)
    assert response.status_code == 201, response.json
    return response.json


EXPORTED = (
    "interval_start,user_id,target\r\n"
    "2026-01-01,,300.00\r\n"
    "2026-01-01,rep,0.00\r\n"
    "2026-01-01,u2,0.00\r\n"
    "2026-01-01,u3,0.00\r\n"
    "2026-02-01,,300.00\r\n"
    "2026-02-01,rep,0.00\r\n"
    "2026-02-01,u2,0.00\r\n"
    "2026-02-01,u3,0.00\r\n"
    "2026-03-01,,300.00\r\n"
    "2026-03-01,rep,0.00\r\n"
    "2026-03-01,u2,0.00\r\n"
    "2026-03-01,u3,0.00\r\n"
)


def test_round_trip_export_edit_dry_run_import(api, db):
    goal = team_goal(api)
    response = api.get(csv_path(goal["id"]))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True) == EXPORTED

    edited = (
        EXPORTED.replace("2026-01-01,rep,0.00", "2026-01-01,rep,100.00")
        .replace("2026-01-01,u2,0.00", "2026-01-01,u2,120.50")
        .replace("2026-02-01,,300.00", "2026-02-01,,350.00")
    )
    before = dump_tables(db)
    response = put_csv(api, goal["id"], edited, dry_run="true")
    assert response.status_code == 409  # February's 350 takes the intervals to 950 > 900
    assert response.json["proposed_aim"] == "950.00"
    response = put_csv(api, goal["id"], edited, dry_run="true", confirm="true")
    assert response.status_code == 200, response.json
    assert response.json["dry_run"] is True
    assert response.json["rows"] == 12
    changes = {
        (c["interval_start"], c["user_id"], c["field"]): (c["old_value"], c["new_value"])
        for c in response.json["changes"]
    }
    assert changes == {
        (None, None, "aim"): ("900.00", "950.00"),
        ("2026-01-01", "rep", "target"): ("0.00", "100.00"),
        ("2026-01-01", "u2", "target"): ("0.00", "120.50"),
        ("2026-02-01", None, "aim"): ("300.00", "350.00"),
    }
    assert dump_tables(db) == before  # a dry run writes nothing

    response = put_csv(api, goal["id"], edited, confirm="true")
    assert response.status_code == 200, response.json
    assert response.json["dry_run"] is False
    assert len(response.json["changes"]) == 4
    assert api.get(csv_path(goal["id"])).get_data(as_text=True) == edited
    assert api.get(f"/goals/{goal['id']}").json["aim"] == "950.00"
    history = api.get(f"/goals/{goal['id']}/history").json
    assert {(row["operation"], row["user_id"]) for row in history} >= {
        ("import", "rep"),
        ("import", "u2"),
    }
    response = put_csv(api, goal["id"], edited)  # the same file again: nothing changes
    assert response.status_code == 200
    assert response.json["changes"] == []


def test_a_partial_file_keeps_the_other_values_and_a_bom_is_fine(api):
    goal = team_goal(api)
    text = "\ufeffuser_id,target,interval_start\n u3 ,7.5,2026-03-01\n\n"
    response = put_csv(api, goal["id"], text)
    assert response.status_code == 200, response.json
    assert response.json["rows"] == 1
    exported = api.get(csv_path(goal["id"])).get_data(as_text=True)
    assert "2026-03-01,u3,7.50\r\n" in exported
    assert "2026-03-01,rep,0.00\r\n" in exported


def test_a_malformed_file_names_every_row_and_column_and_writes_nothing(api, db):
    goal = team_goal(api)
    before = dump_tables(db)
    text = (
        "interval_start,user_id,target\n"
        "2026-01-01,rep,10.00\n"  # row 2: fine
        "2026-01-15,rep,10.00\n"  # row 3: no interval starts then
        "01/02/2026,u2,10.00\n"  # row 4: not ISO
        "2026-02-01,x1,10.00\n"  # row 5: not a member
        "2026-02-01,u2,10.001\n"  # row 6: too many decimals
        "2026-02-01,u3,-1\n"  # row 7: negative
        "2026-03-01,u3,ten\n"  # row 8: not a number
        "2026-03-01,u3\n"  # row 9: a value short
        "2026-01-01,rep,11.00\n"  # row 10: same as row 2
        "2026-03-01,u2,\n"  # row 11: missing value
    )
    response = put_csv(api, goal["id"], text)
    assert response.status_code == 422, response.json
    errors = response.json["errors"]["csv"]
    assert set(errors) == {"3", "4", "5", "6", "7", "8", "9", "10", "11"}
    assert "interval_start" in errors["3"] and "2026-01-15" in errors["3"]["interval_start"][0]
    assert "YYYY-MM-DD" in errors["4"]["interval_start"][0]
    assert "Not a member" in errors["5"]["user_id"][0]
    assert errors["6"] == {"target": ["At most 2 decimal places."]}
    assert errors["7"] == {"target": ["Must be greater than or equal to 0."]}
    assert "Not a number" in errors["8"]["target"][0]
    assert errors["9"] == {"_row": ["Expected 3 values, found 2."]}
    assert errors["10"] == {"user_id": ["Same interval and member as row 2."]}
    assert errors["11"] == {"target": ["Missing value."]}
    assert "nothing was written" in response.json["message"]
    assert dump_tables(db) == before


def test_header_errors_are_row_1(api, db):
    goal = team_goal(api)
    before = dump_tables(db)
    response = put_csv(api, goal["id"], "interval_start,user_id,daily_target\n2026-01-01,rep,1\n")
    assert response.status_code == 422
    assert response.json["errors"]["csv"]["1"] == {
        "daily_target": ["This goal takes target, not daily_target."],
        "target": ["Missing column."],
    }
    response = put_csv(api, goal["id"], "")
    assert response.status_code == 422
    assert "1" in response.json["errors"]["csv"]
    response = put_csv(api, goal["id"], 'interval_start,user_id,target\n"2026-01-01,rep,1\n')
    assert response.status_code == 422  # an unclosed quote
    assert dump_tables(db) == before


def test_only_csv_is_accepted(api):
    goal = team_goal(api)
    response = api.put(csv_path(goal["id"]), json={"interval_start": "2026-01-01"})
    assert response.status_code == 415
    response = api.put(csv_path(goal["id"]), data=b"\xff\xfe", headers={"Content-Type": "text/csv"})
    assert response.status_code == 422


def test_who_may_read_and_write(api):
    goal = team_goal(api)
    assert api.as_user("other-admin").get(csv_path(goal["id"])).status_code == 404
    response = put_csv(api.as_user("other-admin"), goal["id"], EXPORTED)
    assert response.status_code == 404
    assert api.as_user("rep").get(csv_path(goal["id"])).status_code == 200
    assert put_csv(api.as_user("rep"), goal["id"], EXPORTED).status_code == 403


def test_per_business_day_goals_use_daily_target(api):
    response = api.post(
        "/goals",
        json={
            "category": "activities",
            "description": "Visits",
            "start_date": "2026-01-01",
            "end_date": "2026-01-31",
            "goal_mode": "per_business_day",
            "team_id": "team-a",
            "split_by_team_members": True,
            "daily_target": "2",
        },
    )
    goal = response.json
    exported = api.get(csv_path(goal["id"])).get_data(as_text=True)
    assert exported.splitlines() == [
        "interval_start,user_id,daily_target",
        "2026-01-01,rep,2.00",
        "2026-01-01,u2,2.00",
        "2026-01-01,u3,2.00",
    ]
    response = put_csv(api, goal["id"], "interval_start,user_id,daily_target\n2026-01-01,u2,3\n")
    assert response.status_code == 200, response.json
    (interval,) = api.get(f"/goals/{goal['id']}/intervals").json
    assert interval["daily_target"] == "7.00"  # 2 + 3 + 2
    assert interval["aim"] == "154.00"  # × 22 business days in January 2026
    response = put_csv(api, goal["id"], "interval_start,user_id,daily_target\n2026-01-01,,3\n")
    assert response.status_code == 422
    assert "user_id" in response.json["errors"]["csv"]["2"]


def test_values_adding_up_beyond_an_amount_are_422_and_write_nothing(api, db):
    goal = team_goal(api)
    before = dump_tables(db)
    big = "9999999999999999.99"
    text = f"interval_start,user_id,target\n2026-01-01,,{big}\n2026-02-01,,{big}\n"
    response = put_csv(api, goal["id"], text, confirm="true")
    assert response.status_code == 422, response.json
    # The row and column at fault (SPEC §13b), not the whole file.
    assert response.json["errors"]["csv"] == {
        "2": {"target": [f"The aims would add up to more than {big}."]}
    }
    assert dump_tables(db) == before


def test_ids_a_spreadsheet_would_run_as_formulas_are_quoted_and_round_trip(api, host):
    host.teams["team-a"] = ["=HYPERLINK(1)", "u2"]
    goal = team_goal(api)
    exported = api.get(csv_path(goal["id"])).get_data(as_text=True)
    assert "2026-01-01,'=HYPERLINK(1),0.00\r\n" in exported
    edited = exported.replace("2026-01-01,'=HYPERLINK(1),0.00", "2026-01-01,'=HYPERLINK(1),5.00")
    response = put_csv(api, goal["id"], edited)
    assert response.status_code == 200, response.json
    assert [(c["user_id"], c["new_value"]) for c in response.json["changes"]] == [
        ("=HYPERLINK(1)", "5.00")
    ]
