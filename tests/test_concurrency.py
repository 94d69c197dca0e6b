"""Proof under load and faults, on PostgreSQL (the database whose locks and aborted
transactions these tests are about): racing writers holding the same ETag, a metric source
failing with a database error in the middle of a request, and a database error in the middle
of a recurrence clone.

Every test skips without ``GOALS_TEST_DATABASE_URL``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import conftest
import pytest
import sqlalchemy as sa
from conftest import ApiClient, FakeHost, created, dump_tables, first_interval, sales_goal
from flask import Flask, current_app
from flask_sqlalchemy import SQLAlchemy

from flask_wiseparts_goals import hookimpl
from flask_wiseparts_goals.jobs.recurrence import RecurrenceSummary, run_recurrence
from flask_wiseparts_goals.models import Allocation, Goal, HistoryEntry, Interval
from flask_wiseparts_goals.plugins import HostHooks

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(conftest.DATABASE_URL is None, reason="needs GOALS_TEST_DATABASE_URL"),
]

#: Enough to lose a barrier if a writer dies; never a timing assertion.
BARRIER_TIMEOUT = 120


# --------------------------------------------------------------------------------------------
# Fault-injecting host
# --------------------------------------------------------------------------------------------


@dataclass
class FaultyHost(FakeHost):
    """The fake host, plus metric sources that read through the host's own session (as the
    example app's source does), one of which can fail with a database error, and a team whose
    members cannot be read."""

    failing_category: str | None = None
    failing_member_teams: set[str] = field(default_factory=set)
    actuals_calls: list[str] = field(default_factory=list)

    @hookimpl
    def goals_collect_actuals(self, organization_id, category, queries):
        self.actuals_calls.append(category)
        session = current_app.extensions["sqlalchemy"].session
        if category == self.failing_category:
            # A source that writes on the way (a host-side log), then dies in SQL: PostgreSQL
            # aborts the whole transaction, not just this statement.
            session.execute(sa.insert(SOURCE_LOG).values(category=category))
            session.execute(sa.text("SELECT 1 / 0"))
        # Only works in a usable transaction.
        value = session.execute(sa.text("SELECT 7")).scalar_one()
        return {
            query.key: {
                "total": Decimal(value),
                "per_user": {user: Decimal(value) for user in query.user_ids or ()},
            }
            for query in queries
        }

    @hookimpl
    def goals_team_members(self, organization_id, team_id, on):
        if team_id in self.failing_member_teams:
            raise ConnectionError(f"the directory of {team_id} is unreachable")
        return FakeHost.goals_team_members(self, organization_id, team_id, on)


#: A host-side table the failing source writes to before it fails.
SOURCE_LOG = sa.Table(
    "host_source_log",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("category", sa.String(16)),
)


@pytest.fixture
def host() -> FaultyHost:
    return FaultyHost()


@pytest.fixture
def source_log(db: SQLAlchemy) -> Iterator[sa.Table]:
    SOURCE_LOG.metadata.create_all(db.engine)
    yield SOURCE_LOG
    db.session.rollback()
    SOURCE_LOG.metadata.drop_all(db.engine)


# --------------------------------------------------------------------------------------------
# (b) A metric source failing in the middle of a request
# --------------------------------------------------------------------------------------------

AS_OF = "2026-02-10"


def section(body: dict[str, Any], category: str) -> dict[str, Any]:
    return next(c for c in body["categories"] if c["category"] == category)


@pytest.mark.parametrize("failing", ["sales", "activities"])
def test_a_source_failing_in_sql_blanks_its_category_only_and_writes_nothing(
    api: ApiClient, db: SQLAlchemy, host: FaultyHost, source_log: sa.Table, failing: str
) -> None:
    """The source of one category dies with a database error after writing to the host's
    table. The dashboards still answer 200 with the other category complete (whether the
    failing one is asked first or last), its own progress is a 502, and nothing is written."""
    sales = created(api, sales_goal(team_id="team-a", split_into_subperiods=True))
    visits = created(
        api,
        {
            "category": "activities",
            "description": "Visits",
            "start_date": "2026-01-01",
            "end_date": "2026-03-31",
            "team_id": "team-a",
            "split_into_subperiods": True,
        },
    )
    goals = {"sales": sales, "activities": visits}
    working = "activities" if failing == "sales" else "sales"
    host.failing_category = failing
    before = dump_tables(db)

    for caller, path in (("admin", "/widgets/team"), ("rep", "/widgets/me")):
        host.actuals_calls.clear()
        response = api.as_user(caller).get(path, query_string={"as_of": AS_OF})
        assert response.status_code == 200, response.json
        assert host.actuals_calls == ["sales", "activities"]  # the failing one first, or last
        broken, fine = section(response.json, failing), section(response.json, working)
        assert broken["actuals_available"] is False
        assert failing in broken["actuals_error"]
        assert broken["goals"][0]["period"]["actual"] is None
        assert fine["actuals_available"] is True
        assert fine["actuals_error"] is None
        # 7 per query; the period is the sum of its started months (January and February).
        assert fine["goals"][0]["period"]["actual"] == ("14.00" if working == "sales" else "14")
        assert fine["goals"][0]["current_interval"]["actual"] is not None

    response = api.get(f"/goals/{goals[failing]['id']}/progress", query_string={"as_of": AS_OF})
    assert response.status_code == 502
    assert failing in response.json["message"]
    response = api.get(f"/goals/{goals[working]['id']}/progress", query_string={"as_of": AS_OF})
    assert response.status_code == 200
    assert response.json["actuals_available"] is True

    db.session.rollback()
    assert dump_tables(db) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(source_log)) == 0
    # The pool's connections came back usable: the next write works.
    assert (
        api.write("PATCH", f"/goals/{sales['id']}", json={"description": "after"}).status_code
        == 200
    )


def test_a_source_failing_during_distribution_by_actuals_is_a_502_and_writes_nothing(
    api: ApiClient, db: SQLAlchemy, host: FaultyHost, source_log: sa.Table
) -> None:
    goal = created(api, sales_goal(team_id="team-a", split_by_team_members=True))
    interval = first_interval(api, goal["id"])
    host.failing_category = "sales"
    before = dump_tables(db)
    path = f"/goals/{goal['id']}/intervals/{interval['id']}/allocations/distribute"
    response = api.post(path, json={"strategy": "proportional", "basis": "actuals"})
    assert response.status_code == 502, response.json
    assert "sales" in response.json["message"]
    db.session.rollback()
    assert dump_tables(db) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(source_log)) == 0
    host.failing_category = None
    response = api.post(path, json={"strategy": "proportional", "basis": "actuals"})
    assert response.status_code == 200, response.json


# --------------------------------------------------------------------------------------------
# (c) A failure in the middle of a recurrence clone
# --------------------------------------------------------------------------------------------

FAULT_FUNCTION = "goals_test_fail_clone"


@pytest.fixture
def clone_fault(db: SQLAlchemy) -> Iterator[Callable[[int], None]]:
    """Arm a database fault: the clone of a given goal fails with an IntegrityError when its
    members' history rows are inserted, the last writes of a clone (after the source's UPDATE
    and the clone's goal, interval, allocation and first history rows)."""

    def arm(source_goal_id: int) -> None:
        db.session.execute(
            sa.text(
                f"""
                CREATE OR REPLACE FUNCTION {FAULT_FUNCTION}() RETURNS trigger AS $$
                BEGIN
                    IF NEW.user_id IS NOT NULL AND EXISTS (
                        SELECT 1 FROM goals_goal
                        WHERE id = NEW.goal_id AND source_goal_id = {int(source_goal_id)}
                    ) THEN
                        RAISE EXCEPTION 'injected fault in the clone of goal {int(source_goal_id)}'
                            USING ERRCODE = 'unique_violation';
                    END IF;
                    RETURN NEW;
                END $$ LANGUAGE plpgsql
                """
            )
        )
        db.session.execute(
            sa.text(
                f"CREATE TRIGGER {FAULT_FUNCTION} BEFORE INSERT ON goals_history "
                f"FOR EACH ROW EXECUTE FUNCTION {FAULT_FUNCTION}()"
            )
        )
        db.session.commit()

    yield arm
    db.session.rollback()
    db.session.execute(sa.text(f"DROP FUNCTION IF EXISTS {FAULT_FUNCTION}() CASCADE"))
    db.session.commit()


def recurring_goal(team_id: str, description: str) -> dict[str, Any]:
    return {
        "category": "activities",
        "description": description,
        "start_date": "2026-01-01",
        "end_date": "2026-01-31",
        "team_id": team_id,
        "split_by_team_members": True,
        "goal_mode": "per_business_day",
        "daily_target": "2",
        "recurrence": "monthly",
    }


def run(app: Flask, as_of: str) -> RecurrenceSummary:
    state = app.extensions["goals"]
    return run_recurrence(
        state.session,
        HostHooks(state.plugin_manager),
        config=app.config,
        as_of=date.fromisoformat(as_of),
    )


def rows_of(db: SQLAlchemy, goal_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of one goal, in every goals_* table."""
    db.session.expire_all()
    return {
        "goal": [
            tuple(r)
            for r in db.session.execute(sa.select(Goal.__table__).where(Goal.id == goal_id))
        ],
        **{
            model.__tablename__: [
                tuple(r)
                for r in db.session.execute(
                    sa.select(model.__table__)
                    .where(model.__table__.c.goal_id == goal_id)
                    .order_by(model.__table__.c.id)
                )
            ]
            for model in (Interval, Allocation, HistoryEntry)
        },
    }


@pytest.mark.parametrize("fault", ["integrity error after the inserts", "plugin raising"])
def test_a_failure_mid_clone_leaves_nothing_half_written(
    app: Flask,
    api: ApiClient,
    db: SQLAlchemy,
    host: FaultyHost,
    clone_fault: Callable[[int], None],
    fault: str,
) -> None:
    ok_first = created(api, recurring_goal("team-a", "Visits A"))["id"]
    failing = created(api, recurring_goal("team-b", "Visits B"))["id"]
    ok_last = created(api, recurring_goal("team-a", "Calls A"))["id"]
    if fault == "plugin raising":
        host.failing_member_teams = {"team-b"}
    else:
        clone_fault(failing)
    db.session.commit()
    before = dump_tables(db)
    failing_before = rows_of(db, failing)

    summary = run(app, "2026-03-01")  # February and March are due (catch-up)

    assert (summary.created, summary.failed) == (4, 1), summary.errors
    expected_error = "injected fault" if fault.startswith("integrity") else "unreachable"
    assert summary.errors[0].startswith(f"goal {failing}:")
    assert expected_error in summary.errors[0]
    clone_ids = {clone.goal_id for clone in summary.clones}
    assert {clone.source_goal_id for clone in summary.clones} >= {ok_first, ok_last}
    assert failing not in {clone.source_goal_id for clone in summary.clones}

    # The failed goal is exactly as it was: flag, intervals, allocations, history.
    assert rows_of(db, failing) == failing_before
    after = dump_tables(db)
    known = {row[0] for row in before["goals_goal"]} | clone_ids
    # Nothing but the reported clones was added, and nothing points anywhere else.
    assert {row[0] for row in after["goals_goal"]} == known
    assert db.session.scalars(sa.select(Goal.id).where(Goal.source_goal_id == failing)).all() == []
    for table in ("goals_interval", "goals_allocation", "goals_history"):
        goal_ids = {
            goal_id
            for (goal_id,) in db.session.execute(
                sa.select(sa.table(table, sa.column("goal_id")).c.goal_id).distinct()
            )
        }
        assert goal_ids <= known, table
    mismatched = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Allocation)
        .join(Interval, Allocation.interval_id == Interval.id)
        .where(Allocation.goal_id != Interval.goal_id)
    )
    assert mismatched == 0
    # Each clone is whole: its intervals and every member's allocation.
    for clone_id in clone_ids:
        rows = rows_of(db, clone_id)
        assert len(rows["goals_interval"]) == 1
        assert len(rows["goals_allocation"]) == 3  # team-a: rep, u2, u3

    # Nothing half-written blocks the retry: the next run makes February and March.
    host.failing_member_teams = set()
    db.session.execute(sa.text(f"DROP TRIGGER IF EXISTS {FAULT_FUNCTION} ON goals_history"))
    db.session.commit()
    retry = run(app, "2026-03-01")
    assert (retry.created, retry.failed) == (2, 0), retry.errors
    assert next(c.source_goal_id for c in retry.clones) == failing
