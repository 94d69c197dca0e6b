"""Schema-driven fuzzing: schemathesis generates requests from the plugin's own OpenAPI spec.

Every operation must answer without a 5xx and with a response that matches what the spec
documents, as each role (admin, manager, rep: SPEC §6), on the suite's database (SQLite, or
PostgreSQL with ``GOALS_TEST_DATABASE_URL``), with the test host reading its tables. Demo
goals exist so that ids in paths often do; the stateful phase chains operations through the
links schemathesis infers (a created goal's id feeds the operations on that goal).

``GOALS_FUZZ_EXAMPLES`` (default 25 per operation and role) and ``GOALS_FUZZ_STEPS`` (default
20 stateful scenarios per role) bound the run for CI.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from conftest import ApiClient, once_per_module, sales_goal, shared_app  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
)

EXAMPLES = int(os.environ.get("GOALS_FUZZ_EXAMPLES", "25"))
SCENARIOS = int(os.environ.get("GOALS_FUZZ_STEPS", "20"))
ROLES = ("admin", "manager", "rep")

# Excluded with reasons (docs/decisions.md):
# - missing_required_header: a write without If-Match answers 428 Precondition Required
#   (RFC 6585 §3), the status made for exactly that; the check expects 4xx like 400/422.
# - positive_data_acceptance: the domain's rules span fields (the metric decides the decimals,
#   the category the filters, period excludes start/end dates) and roles (a rep may not write),
#   which JSON Schema cannot express; those 422s and 403s are asserted one by one elsewhere.
EXCLUDED = [missing_required_header, positive_data_acceptance]
# In the stateful phase only, also negative_data_rejection: schemathesis flags a valid body it
# took from a link as "random bytes" that the API should have refused (schemathesis issue
# #2983, open in 4.32): seen on PATCH /goals/{id} with {"team_id": "team-a"}. The stateless
# phase keeps the check for every operation.
STATEFUL_EXCLUDED = [*EXCLUDED, negative_data_rejection]

# The suite's shared app (no database work at import: the spec needs none); each test gets it
# with its own fake host and fresh tables from the ``app`` fixture.
schema = schemathesis.openapi.from_wsgi("/api/goals/openapi.json", shared_app())
FUZZ_SETTINGS = settings(
    # Reproducible in CI; set GOALS_FUZZ_RANDOM=1 to explore new inputs locally.
    derandomize=not os.environ.get("GOALS_FUZZ_RANDOM"),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
@once_per_module
def demo_data(api: ApiClient) -> None:
    """Fresh tables, the host's tables, and a few goals every role can see (built once,
    restored for each test)."""
    for body in (
        sales_goal(team_id="team-a", split_by_team_members=True, split_into_subperiods=True),
        sales_goal(description="Organization-wide"),
        {
            "category": "activities",
            "description": "Visits",
            "period": "this_month",
            "team_id": "team-a",
            "goal_mode": "per_business_day",
            "daily_target": "2",
        },
    ):
        assert api.post("/goals", json=body).status_code == 201


def _headers(user: str, case: Any) -> dict[str, str]:
    """Speak as ``user``; writes carry ``If-Match: *`` so that they reach the domain rules
    (without it each would stop at 428). Schemathesis' own headers win."""
    headers = {"X-User": user}
    if case.method.upper() in ("PUT", "PATCH", "DELETE"):
        headers["If-Match"] = "*"
    return {**headers, **(case.headers or {})}


def _stateless(user: str) -> Any:
    @schema.parametrize()
    @settings(FUZZ_SETTINGS, max_examples=EXAMPLES)
    def fuzz(case: Any) -> None:
        case.call_and_validate(headers=_headers(user, case), excluded_checks=EXCLUDED)

    return fuzz


test_api_conforms_as_admin = _stateless("admin")
test_api_conforms_as_manager = _stateless("manager")
test_api_conforms_as_rep = _stateless("rep")


@pytest.mark.parametrize("user", ROLES)
def test_stateful_sequences_conform(user: str) -> None:
    base = schema.as_state_machine()

    class AsUser(base):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": _headers(user, case)}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, excluded_checks=STATEFUL_EXCLUDED)

    AsUser.run(
        settings=settings(
            FUZZ_SETTINGS, max_examples=SCENARIOS, stateful_step_count=6, deadline=None
        )
    )
