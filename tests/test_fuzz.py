"""Schema-driven fuzzing: schemathesis generates requests from the plugin's own OpenAPI spec.

Every operation must answer without a 5xx and with a response that matches what the spec
documents. The app runs in-process on SQLite with demo goals so ids in paths often exist.
Bounded by ``GOALS_FUZZ_EXAMPLES`` (default 25 per operation) to keep CI fast.
"""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")

from conftest import ApiClient, FakeHost, make_app, sales_goal  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    missing_required_header,
    positive_data_acceptance,
)

from flask_wiseparts_goals.models import Base  # noqa: E402

EXAMPLES = int(os.environ.get("GOALS_FUZZ_EXAMPLES", "25"))


def _app():
    app = make_app(FakeHost(), SQLALCHEMY_DATABASE_URI="sqlite://")
    with app.app_context():
        Base.metadata.create_all(app.extensions["sqlalchemy"].engine)
    api = ApiClient(app)
    api.post(
        "/goals",
        json=sales_goal(team_id="team-a", split_by_team_members=True, split_into_subperiods=True),
    )
    api.post(
        "/goals",
        json={
            "category": "activities",
            "description": "Visits",
            "period": "this_month",
            "goal_mode": "per_business_day",
            "daily_target": "2",
        },
    )
    return app


APP = _app()
schema = schemathesis.openapi.from_wsgi("/api/goals/openapi.json", APP)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    # Reproducible in CI; set GOALS_FUZZ_RANDOM=1 to explore new inputs locally.
    derandomize=not os.environ.get("GOALS_FUZZ_RANDOM"),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_spec(case):
    case.call_and_validate(
        headers={"X-User": "admin", **(case.headers or {})},
        # Excluded with reasons (docs/decisions.md):
        # - missing_required_header: a write without If-Match answers 428 Precondition Required
        #   (RFC 6585 §3), the status made for exactly that; the check expects 4xx like 400/422.
        # - positive_data_acceptance: the domain's rules span fields (the metric decides the
        #   decimals, the category the filters, period excludes start/end dates), which JSON
        #   Schema cannot express; those 422s are asserted one by one in test_goals_api.py.
        excluded_checks=[missing_required_header, positive_data_acceptance],
    )
