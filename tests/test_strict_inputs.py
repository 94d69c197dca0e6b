"""Strict inputs (SPEC §6): canonical ids in URLs."""

from __future__ import annotations

from conftest import ApiClient, sales_goal


def test_id_with_leading_zero_is_404(api: ApiClient) -> None:
    response = api.post("/goals", json=sales_goal())
    assert response.status_code == 201, response.get_json()
    goal_id = response.get_json()["id"]
    assert api.get(f"/goals/{goal_id}").status_code == 200
    response = api.get(f"/goals/0{goal_id}")
    assert response.status_code == 404
    assert response.get_json()["code"] == 404
