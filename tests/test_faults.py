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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import conftest
import pytest
import sqlalchemy as sa
from conftest import FakeHost, created, dump_tables, make_app, sales_goal
from flask import Flask

from flask_wiseparts_goals.api.errors import RETRY_AFTER_SECONDS, is_database_unavailable

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


@pytest.mark.skipif(ON_POSTGRESQL, reason="SQLite's own lock")
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
