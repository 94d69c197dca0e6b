"""Steady under faults (SPEC §13b): a busy or restarting database is a 503 with
``Retry-After`` and nothing half-written; a slow metric source never holds a request longer
than ``GOALS_ACTUALS_TIMEOUT_SECONDS``.

These tests need a database with real second connections: a SQLite *file* (the in-memory
database of the other tests shares one connection), and PostgreSQL when
``GOALS_TEST_DATABASE_URL`` is set.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import conftest
import pytest
import sqlalchemy as sa
from conftest import ApiClient, FakeHost, created, dump_tables, make_app, sales_goal
from flask import Flask, current_app, has_request_context, request
from test_tracking_api import AS_OF, Line, SourceHost, orders_goal, section, team_sales_goal, widget

from flask_wiseparts_goals import Goals, hookimpl
from flask_wiseparts_goals.api.errors import RETRY_AFTER_SECONDS, is_database_unavailable
from flask_wiseparts_goals.sources import SqlMapping, SqlMetricSource, bounded_rows

ON_POSTGRESQL = bool(conftest.DATABASE_URL and conftest.DATABASE_URL.startswith("postgresql"))
APPLICATION_NAME = f"goals-test-faults-{os.getpid()}"


def file_app(host: FakeHost, tmp_path: Path, **config: Any) -> Flask:
    url = conftest.DATABASE_URL or f"sqlite:///{tmp_path / 'goals.db'}"
    if not conftest.DATABASE_URL:
        # SQLite waits this long for a lock before "database is locked" (the driver's 5 s).
        config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 0.2}})
    elif ON_POSTGRESQL:
        # Named, so that a test terminates this app's connections and nobody else's.
        config.setdefault(
            "SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"application_name": APPLICATION_NAME}}
        )
    app = make_app(host, SQLALCHEMY_DATABASE_URI=url, **config)
    conftest._reset(app)
    return app


@pytest.fixture
def app(host: FakeHost, tmp_path: Path) -> Iterator[Flask]:
    app = file_app(host, tmp_path)
    with app.app_context():
        host.install(app)
        yield app
        app.extensions["sqlalchemy"].session.remove()
        app.extensions["sqlalchemy"].engine.dispose()


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    body = response.json
    assert body["code"] == 503 and body["status"] == "Service Unavailable"
    assert "Try again" in body["message"]


# --------------------------------------------------------------------------------------------
# A busy or restarting database
# --------------------------------------------------------------------------------------------


@pytest.mark.sqlite  # SQLite's own lock: the PostgreSQL pass deselects it
def test_a_locked_sqlite_database_is_a_503_then_recovers(api, db, tmp_path):
    goal = created(api, sales_goal())
    before = dump_tables(db)
    db.session.remove()  # the test's own session holds no lock

    other = sqlite3.connect(tmp_path / "goals.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process writing for a long while
    try:
        assert_unavailable(api.post("/goals", json=sales_goal(description="Blocked")))
        assert_unavailable(
            api.patch(
                f"/goals/{goal['id']}",
                json={"description": "Blocked"},
                headers={"If-Match": '"any"'},
            )
        )
        assert_unavailable(api.get(f"/goals/{goal['id']}"))  # readers wait on EXCLUSIVE too
    finally:
        other.rollback()
        other.close()

    assert dump_tables(db) == before  # nothing half-written
    assert api.get(f"/goals/{goal['id']}").status_code == 200
    assert api.post("/goals", json=sales_goal(description="Later")).status_code == 201


@pytest.mark.skipif(not ON_POSTGRESQL, reason="needs GOALS_TEST_DATABASE_URL (PostgreSQL)")
def test_terminated_postgresql_connections_are_a_503_then_recover(api, db):
    goal = created(api, sales_goal())
    db.session.execute(sa.select(1))  # the session holds a pooled connection, as a worker does
    before_count = db.session.execute(sa.text("SELECT count(*) FROM goals_goal")).scalar_one()

    def terminate() -> None:
        killer = sa.create_engine(conftest.DATABASE_URL)
        try:
            with killer.connect() as connection:
                connection.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = :name"
                    ),
                    {"name": APPLICATION_NAME},
                )
        finally:
            killer.dispose()

    terminate()
    assert_unavailable(api.post("/goals", json=sales_goal(description="Lost")))
    # The pool dropped the dead connections: the next requests work again.
    assert api.get(f"/goals/{goal['id']}").status_code == 200
    assert api.post("/goals", json=sales_goal(description="Later")).status_code == 201

    terminate()
    assert_unavailable(api.get(f"/goals/{goal['id']}"))
    after_count = db.session.execute(sa.text("SELECT count(*) FROM goals_goal")).scalar_one()
    assert after_count == before_count + 1  # "Lost" was never written, "Later" was


def test_only_busy_or_lost_databases_count_as_unavailable():
    def operational(message: str, module_error: type[Exception]) -> sa.exc.OperationalError:
        return sa.exc.OperationalError("SELECT 1", {}, module_error(message))

    assert is_database_unavailable(operational("database is locked", sqlite3.OperationalError))
    # SQLite's programming errors are OperationalError too: they stay 500s.
    assert not is_database_unavailable(
        operational("no such table: goals_goal", sqlite3.OperationalError)
    )
    assert is_database_unavailable(sa.exc.DisconnectionError("gone"))
    assert not is_database_unavailable(
        sa.exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE"))
    )
    assert not is_database_unavailable(ValueError("not a database error"))


# --------------------------------------------------------------------------------------------
# A slow metric source
# --------------------------------------------------------------------------------------------

#: What the tests give ``GOALS_ACTUALS_TIMEOUT_SECONDS``.
TIMEOUT = 0.5
#: How long a stuck source waits to be released (it is released at the end of each test).
STUCK = 60


@dataclass
class SlowHost(SourceHost):
    """A metric source whose categories in :attr:`stuck` hang until the test ends, and which
    records what it saw of Flask and the session in the thread it was asked in."""

    stuck: set[str] = field(default_factory=set)
    release: threading.Event = field(default_factory=threading.Event)
    #: Categories that must all be asked at the same moment (a barrier of that many).
    together: threading.Barrier | None = None
    seen: list[dict[str, Any]] = field(default_factory=list)

    @hookimpl
    def goals_collect_actuals(self, organization_id, category, queries):
        session = current_app.extensions["sqlalchemy"].session
        self.seen.append(
            {
                "category": category,
                "thread": threading.current_thread(),
                "session": session(),
                "user": request.headers.get("X-User") if has_request_context() else None,
                # The host's own table, read in the source's session.
                "host_users": session.execute(sa.text("SELECT count(*) FROM host_users")).scalar(),
            }
        )
        if self.together is not None:
            self.together.wait(timeout=STUCK)  # BrokenBarrierError unless asked together
        if category in self.stuck:
            self.release.wait(STUCK)
        return super().goals_collect_actuals(organization_id, category, queries)


@pytest.fixture
def host() -> Iterator[SlowHost]:
    host = SlowHost()
    yield host
    host.release.set()


@pytest.fixture
def slow_app(host: SlowHost, tmp_path: Path) -> Iterator[Flask]:
    app = file_app(host, tmp_path, GOALS_ACTUALS_TIMEOUT_SECONDS=TIMEOUT)
    with app.app_context():
        host.install(app)
        yield app
        host.release.set()
        _wait_for_actuals_threads()
        app.extensions["sqlalchemy"].session.remove()
        app.extensions["sqlalchemy"].engine.dispose()


@pytest.fixture
def slow_api(slow_app: Flask) -> ApiClient:
    return ApiClient(slow_app)


def _actuals_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("goals-actuals-")]


def _wait_for_actuals_threads() -> None:
    for thread in _actuals_threads():
        thread.join(STUCK)


def test_a_stuck_category_times_out_and_the_rest_is_served(slow_api, slow_app, host, caplog):
    team_sales_goal(slow_api)
    orders_goal(slow_api)
    host.lines += [
        Line("rep", date(2026, 1, 5), Decimal("10.00")),
        Line("rep", date(2026, 1, 6), category="orders"),
    ]
    host.stuck = {"sales"}

    started = time.monotonic()
    body = widget(slow_api)
    waited = time.monotonic() - started
    # Not a speed test: the stuck source would hold the request for a minute.
    assert waited < STUCK / 4

    sales = section(body, "sales")
    assert sales["actuals_available"] is False
    assert sales["actuals_reason"] == "timeout"
    assert "did not answer within 0.5 s" in sales["actuals_error"]
    entry = sales["goals"][0]
    assert entry["period"]["actual"] is None and entry["period"]["target"] == "1000.00"
    orders = section(body, "orders")
    assert orders["actuals_available"] is True and orders["actuals_reason"] is None
    assert orders["goals"][0]["period"]["actual"] == "1"
    assert "did not answer within" in caplog.text

    # Other endpoints answer meanwhile (the stuck thread holds no lock and no worker).
    assert slow_api.get("/meta").status_code == 200
    assert slow_api.get("/goals").status_code == 200

    # Released, the source answers again, and its late thread ends and gives its connection
    # back.
    host.release.set()
    host.stuck = set()
    _wait_for_actuals_threads()
    again = section(widget(slow_api), "sales")
    assert again["actuals_available"] is True and again["goals"][0]["period"]["actual"] == "10.00"
    _wait_for_actuals_threads()
    assert slow_app.extensions["sqlalchemy"].engine.pool.checkedout() <= 1  # the test's own


def test_categories_are_asked_at_the_same_time(slow_api, host):
    team_sales_goal(slow_api)
    orders_goal(slow_api)
    # Each source waits for the other: asked one after the other, both would time out.
    host.together = threading.Barrier(2)
    body = widget(slow_api)
    assert section(body, "sales")["actuals_available"] is True
    assert section(body, "orders")["actuals_available"] is True


def test_each_source_call_has_its_own_app_context_and_session(slow_api, slow_app, host):
    team_sales_goal(slow_api)
    orders_goal(slow_api)
    widget(slow_api)
    _wait_for_actuals_threads()
    request_session = slow_app.extensions["sqlalchemy"].session()
    calls = {seen["category"]: seen for seen in host.seen}
    assert set(calls) == {"sales", "orders"}
    sessions = {id(seen["session"]) for seen in calls.values()}
    assert len(sessions) == 2 and id(request_session) not in sessions
    for seen in calls.values():
        assert seen["thread"] is not threading.current_thread()
        assert seen["user"] == "admin"  # the request is readable in the copy of its context
        assert seen["host_users"] == len(host.users)  # committed host data is visible


def test_a_single_goal_progress_serves_its_targets_on_timeout(slow_api, host):
    goal = team_sales_goal(slow_api, split_by_team_members=True)
    host.stuck = {"sales"}
    response = slow_api.get(f"/goals/{goal['id']}/progress", query_string={"as_of": AS_OF})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["actuals_available"] is False and body["actuals_reason"] == "timeout"
    assert body["period"]["target"] == "1000.00" and body["period"]["actual"] is None
    assert [m["user_id"] for m in body["period"]["members"]] == ["rep", "u2", "u3"]


def test_a_raising_source_in_its_thread_fails_only_its_category(slow_api, host, caplog):
    team_sales_goal(slow_api)
    orders_goal(slow_api)
    host.failing = {"orders"}
    body = widget(slow_api)
    assert section(body, "orders")["actuals_reason"] == "failed"
    assert section(body, "sales")["actuals_available"] is True
    assert "the warehouse database is unreachable" in caplog.text  # the traceback is logged
    goal = section(body, "orders")["goals"][0]["goal"]
    assert slow_api.get(f"/goals/{goal['id']}/progress").status_code == 502


def test_distribute_by_actuals_times_out_with_504_and_writes_nothing(slow_api, db, host):
    goal = team_sales_goal(slow_api, split_by_team_members=True, split_into_subperiods=True)
    intervals = slow_api.get(f"/goals/{goal['id']}/intervals").json
    before = dump_tables(db)
    host.stuck = {"sales"}
    response = slow_api.post(
        f"/goals/{goal['id']}/intervals/{intervals[1]['id']}/allocations/distribute",
        json={"strategy": "proportional", "basis": "actuals"},
    )
    assert response.status_code == 504, response.json
    assert "did not answer within 0.5 s" in response.json["message"]
    db.session.rollback()
    assert dump_tables(db) == before


def test_without_a_timeout_sources_are_asked_in_the_request(host, tmp_path):
    app = file_app(host, tmp_path, GOALS_ACTUALS_TIMEOUT_SECONDS=None)
    with app.app_context():
        host.install(app)
        api = ApiClient(app)
        team_sales_goal(api)
        orders_goal(api)
        widget(api)
        assert {seen["thread"] for seen in host.seen} == {threading.current_thread()}
        app.extensions["sqlalchemy"].session.remove()
        app.extensions["sqlalchemy"].engine.dispose()


@pytest.mark.parametrize("value", [0, -1, "5", True])
def test_the_timeout_must_be_a_positive_number(value):
    with pytest.raises(ValueError, match="GOALS_ACTUALS_TIMEOUT_SECONDS"):
        make_app(None, GOALS_ACTUALS_TIMEOUT_SECONDS=value)


# --------------------------------------------------------------------------------------------
# SqlMetricSource bounds its statement (PostgreSQL statement_timeout)
# --------------------------------------------------------------------------------------------

SLOW_META = sa.MetaData()
SLOW_LINES = sa.Table(
    "host_slow_lines",
    SLOW_META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("user_id", sa.String(64)),
    sa.Column("amount", sa.Numeric(18, 2), nullable=False),
)


def _sleeping(table: Any, organization_id: str, query: Any) -> Any:
    """A host scope that takes a minute: the database's own work, not Python's."""
    return sa.func.pg_sleep(STUCK).is_not(None)


SLOW_MAPPING = SqlMapping("sales", SLOW_LINES, metrics={"net": "amount"}, scope=_sleeping)


@pytest.mark.skipif(not ON_POSTGRESQL, reason="needs GOALS_TEST_DATABASE_URL (PostgreSQL)")
def test_sql_metric_source_statements_stop_with_the_request(slow_api, slow_app, db, caplog):
    SLOW_META.create_all(db.engine)
    try:
        db.session.execute(
            sa.insert(SLOW_LINES),
            [{"organization_id": conftest.ORG, "date": date(2026, 1, 5), "amount": 1}],
        )
        db.session.commit()
        Goals.state(slow_app).plugin_manager.register(SqlMetricSource(SLOW_MAPPING))
        team_sales_goal(slow_api)

        sales = section(widget(slow_api), "sales")
        assert sales["actuals_reason"] == "timeout"
        # PostgreSQL cancels the statement at the same bound: the late thread ends long
        # before the minute its statement asked for.
        for thread in _actuals_threads():
            thread.join(STUCK / 4)
            assert not thread.is_alive()
        assert "canceling statement due to statement timeout" in caplog.text
        sleeping = db.session.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = :name AND query LIKE '%pg_sleep%'"
                " AND pid <> pg_backend_pid()"
            ),
            {"name": APPLICATION_NAME},
        ).scalar_one()
        assert sleeping == 0
    finally:
        db.session.rollback()
        SLOW_META.drop_all(db.engine)


@pytest.mark.skipif(not ON_POSTGRESQL, reason="needs GOALS_TEST_DATABASE_URL (PostgreSQL)")
def test_the_statement_bound_is_for_that_statement_only(db):
    db.session.execute(sa.text("SET statement_timeout = '7s'"))
    assert bounded_rows(db.session, sa.select(sa.literal(1)), 0.25) == [(1,)]
    assert db.session.execute(sa.text("SHOW statement_timeout")).scalar_one() == "7s"
    with pytest.raises(sa.exc.OperationalError, match="statement timeout"):
        bounded_rows(db.session, sa.select(sa.func.pg_sleep(STUCK)), 0.25)
    db.session.rollback()
    db.session.execute(sa.text("RESET statement_timeout"))


def test_the_statement_bound_follows_the_configured_timeout(app):
    source = SqlMetricSource(SLOW_MAPPING)
    app.config["GOALS_ACTUALS_TIMEOUT_SECONDS"] = 2.5
    assert source.statement_timeout_seconds() == 2.5
    app.config["GOALS_ACTUALS_TIMEOUT_SECONDS"] = None
    assert source.statement_timeout_seconds() is None
    assert SqlMetricSource(SLOW_MAPPING, statement_timeout=1).statement_timeout_seconds() == 1
    assert (
        SqlMetricSource(SLOW_MAPPING, statement_timeout=False).statement_timeout_seconds() is None
    )
    # Other databases run the statement as it is.
    if not ON_POSTGRESQL:
        assert bounded_rows(
            app.extensions["sqlalchemy"].session, sa.select(sa.literal(1)), 0.1
        ) == [(1,)]
