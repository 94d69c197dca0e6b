"""The shipped Alembic migrations build exactly the models' schema and go back and forth."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from flask_wiseparts_goals.migrations import runner
from flask_wiseparts_goals.models import Base


def _drop_everything(engine: sa.Engine) -> None:
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP TABLE IF EXISTS {runner.VERSION_TABLE}"))


def _differences(engine: sa.Engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"include_name": runner.include_name, "compare_type": True},
        )
        return compare_metadata(context, Base.metadata)


def goals_tables(engine: sa.Engine) -> set[str]:
    return {name for name in sa.inspect(engine).get_table_names() if name.startswith("goals_")}


def test_upgrade_builds_the_models_schema_and_round_trips(app, db):
    engine = db.engine
    _drop_everything(engine)
    with engine.begin() as connection:  # a host table that must survive every step
        connection.execute(sa.text("CREATE TABLE host_things (id INTEGER PRIMARY KEY)"))
    try:
        runner.upgrade(engine)
        assert runner.current(engine) == "0003"
        assert _differences(engine) == []
        runner.downgrade(engine, "base")
        assert goals_tables(engine) == set()  # the version table too (SPEC §8)
        assert runner.current(engine) is None
        runner.upgrade(engine)
        assert _differences(engine) == []
        assert "host_things" in sa.inspect(engine).get_table_names()
        assert "alembic_version" not in sa.inspect(engine).get_table_names()
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE IF EXISTS host_things"))
        _drop_everything(engine)
        Base.metadata.create_all(engine)


def test_cli_upgrade_and_current(app, db):
    _drop_everything(db.engine)
    runner_cli = app.test_cli_runner()
    result = runner_cli.invoke(args=["goals", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "0003" in result.output
    assert runner_cli.invoke(args=["goals", "db", "current"]).output.strip() == "0003"
    assert _differences(db.engine) == []
    _drop_everything(db.engine)
    Base.metadata.create_all(db.engine)
