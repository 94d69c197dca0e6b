"""One goal's failure is one goal's (SPEC §7): a source may answer a single query with
``ActualsResult(error=...)``; a source that raises still nulls its category."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest
from test_tracking_api import (
    AS_OF,
    Line,
    SourceHost,
    orders_goal,
    section,
    team_sales_goal,
    widget,
)

from flask_wiseparts_goals import hookimpl
from flask_wiseparts_goals.types import ActualsResult


@dataclass
class PickyHost(SourceHost):
    """Answers every query but those of the goals in :attr:`refused` with an error."""

    refused: set[int] = field(default_factory=set)

    @hookimpl
    def goals_collect_actuals(self, organization_id, category, queries):
        answer = super().goals_collect_actuals(organization_id, category, queries)
        if answer is None:
            return None
        for query in queries:
            if query.goal_id in self.refused:
                answer[query.key] = ActualsResult(error="brand families are not recorded")
        return answer


@pytest.fixture
def host() -> PickyHost:
    return PickyHost()


def test_one_failing_query_nulls_only_its_goal(api, host):
    healthy = team_sales_goal(api)
    refused = team_sales_goal(api, description="Families")
    other = team_sales_goal(api, description="Also healthy")
    orders_goal(api)
    host.refused = {refused["id"]}
    host.lines.append(Line("rep", date(2026, 1, 5), Decimal("10.00")))

    sales = section(widget(api), "sales")
    assert sales["actuals_available"] is True and sales["actuals_error"] is None
    entries = {e["goal"]["id"]: e for e in sales["goals"]}
    for goal in (healthy, other):
        assert entries[goal["id"]]["period"]["actual"] == "10.00"
        assert entries[goal["id"]]["period"]["actuals_error"] is None
    failed = entries[refused["id"]]
    for figures in (failed["period"], failed["current_interval"]):
        assert figures["actual"] is None and figures["forecast"] is None
        assert figures["status"] is None
        assert figures["actuals_error"] == "brand families are not recorded"
        assert figures["target"] is not None  # known without the source
    assert host.calls_per_category() == {"sales": 1, "orders": 1}

    progress = api.get(f"/goals/{refused['id']}/progress?as_of={AS_OF}")
    assert progress.status_code == 200
    body = progress.json
    assert body["actuals_available"] is False
    assert body["actuals_error"] == "brand families are not recorded"
    assert body["period"]["actual"] is None
    assert all(m["actual"] is None for m in body["period"]["members"])
    fine = api.get(f"/goals/{healthy['id']}/progress?as_of={AS_OF}").json
    assert fine["actuals_available"] is True and fine["period"]["actual"] == "10.00"


def test_a_raising_source_still_nulls_the_category(api, host):
    team_sales_goal(api)
    host.failing = {"sales"}
    sales = section(widget(api), "sales")
    assert sales["actuals_available"] is False
    assert "failed" in sales["actuals_error"]
    assert sales["goals"][0]["period"]["actual"] is None
