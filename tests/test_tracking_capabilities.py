"""Metric sources declare what they can measure (SPEC §7, ``goals_metric_capabilities``)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from conftest import dump_tables, sales_goal
from test_tracking_api import SourceHost, create

from flask_wiseparts_goals import Goals, hookimpl
from flask_wiseparts_goals.types import MetricCapabilities


@dataclass
class DeclaringHost(SourceHost):
    """Its sales source measures net and quantity, filtered by brands and customers only."""

    @hookimpl
    def goals_metric_capabilities(self, organization_id, category):
        if category == "sales":
            return MetricCapabilities(
                metrics=frozenset({"net", "quantity"}),
                filters=frozenset({"brands", "customers"}),
                group_by=frozenset({"brand"}),
            )
        if category == "orders":  # a mapping works too; no group_by: every dimension
            return {"metrics": ["count"], "filters": None}
        return None


@pytest.fixture
def host() -> DeclaringHost:
    return DeclaringHost()


def _category(body: dict, name: str) -> dict:
    return next(c for c in body["categories"] if c["category"] == name)


def test_meta_offers_only_what_the_source_measures(api):
    body = api.get("/meta").json
    sales = _category(body, "sales")
    assert sales["metrics"] == ["net", "quantity"]
    assert sales["filters"] == ["brands", "customers"]
    assert sales["group_by"] == ["brand"]
    orders = _category(body, "orders")
    assert orders["metrics"] == ["count"]
    assert "channels" in orders["filters"] and "brand_families" in orders["filters"]
    assert "channel" in orders["group_by"]
    activities = _category(body, "activities")  # no declaration: everything the category has
    assert activities["metrics"] == ["count"]
    assert "verified_only" in activities["filters"]
    assert "activity_type" in activities["group_by"]


def test_create_with_unsupported_metric_or_filter_is_422_naming_the_field(api, db):
    before = dump_tables(db)
    response = api.post("/goals", json=sales_goal(metric="margin"))
    assert response.status_code == 422
    [message] = response.json["errors"]["json"]["metric"]
    assert "cannot measure 'margin'" in message and "net, quantity" in message

    response = api.post(
        "/goals",
        json=sales_goal(
            filters={"brand_families": {"include": ["f1"]}, "brands": {"include": ["b1"]}}
        ),
    )
    assert response.status_code == 422
    errors = response.json["errors"]["json"]
    assert set(errors) == {"filters"}
    assert set(errors["filters"]) == {"brand_families"}
    assert dump_tables(db) == before
    assert (
        api.post("/goals", json=sales_goal(filters={"brands": {"include": ["b1"]}})).status_code
        == 201
    )


def test_patch_to_unsupported_metric_or_filter_is_422(api, db):
    goal = create(api, **sales_goal())
    path = f"/goals/{goal['id']}"
    before = dump_tables(db)
    response = api.write("PATCH", path, json={"metric": "gross"})
    assert response.status_code == 422
    assert "metric" in response.json["errors"]["json"]
    response = api.write("PATCH", path, json={"filters": {"wholesaler_branches": ["w1"]}})
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]["filters"]) == {"wholesaler_branches"}
    assert dump_tables(db) == before
    assert api.write("PATCH", path, json={"metric": "quantity", "aim": "10"}).status_code == 200


def test_domain_and_source_filter_errors_are_reported_together(api):
    response = api.post(
        "/goals",
        json=sales_goal(
            filters={"activity_types": ["visit"], "brand_families": {"include": ["f"]}}
        ),
    )
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]["filters"]) == {"activity_types", "brand_families"}


def test_without_a_declaration_everything_is_supported(app, api, host):
    pm = Goals.state(app).plugin_manager
    pm.unregister(host)
    plain = SourceHost()
    plain.install(app)
    pm.register(plain)
    assert api.post("/goals", json=sales_goal(metric="margin")).status_code == 201
    sales = _category(api.get("/meta").json, "sales")
    assert "margin" in sales["metrics"] and "brand_families" in sales["filters"]
