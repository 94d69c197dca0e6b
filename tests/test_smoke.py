from conftest import sales_goal


def test_create_and_read_back(api):
    response = api.post("/goals", json=sales_goal(split_into_subperiods=True))
    assert response.status_code == 201, response.json
    goal = response.json
    assert goal["aim"] == "1000.00"
    intervals = api.get(f"/goals/{goal['id']}/intervals").json
    assert [i["aim"] for i in intervals] == ["333.34", "333.33", "333.33"]
