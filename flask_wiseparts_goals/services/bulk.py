"""Many rows in one statement: the bulk UPDATE by primary key and the bulk INSERT that the
target writes (:func:`.targets.update_allocations`) and the history (:func:`.history.record_changes`)
send, whatever the number of members.

PostgreSQL: one statement over ``unnest`` of one array parameter per column, so a thousand rows
are one round trip and one plan instead of a thousand pipelined executions (psycopg's
``executemany``)::

    UPDATE goals_allocation SET target = v.target, ...
    FROM unnest(CAST(:id AS INTEGER[]), CAST(:target AS NUMERIC(18, 2)[]), ...) AS v (id, target, ...)
    WHERE goals_allocation.id = v.id

    INSERT INTO goals_history (goal_id, ...) SELECT * FROM unnest(CAST(:goal_id AS INTEGER[]), ...)

Other databases (SQLite): SQLAlchemy Core's ``executemany`` of one statement, which is what the
benchmarks' floor runs too (the driver loops over one prepared statement). Both are one
statement for the statement counts (SPEC §5), and the compiled statement is cached (its shape
depends on the columns, not on the number of rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session


def _uses_arrays(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _arrays(
    table: sa.Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]], dialect: Any
) -> tuple[list[sa.ColumnElement[Any]], dict[str, list[Any]]]:
    """One ``CAST(:name AS <type>[])`` per column, and its values in row order."""
    elements: list[sa.ColumnElement[Any]] = []
    values: dict[str, list[Any]] = {}
    for name in columns:
        column_type = table.c[name].type
        if isinstance(column_type, sa.TypeDecorator):  # ExactDecimal, UTCDateTime: their impl
            column_type = column_type.load_dialect_impl(dialect)
        array = postgresql.ARRAY(column_type)
        elements.append(sa.cast(sa.bindparam(f"a_{name}", type_=array), array))
        values[f"a_{name}"] = [row[name] for row in rows]
    return elements, values


def update_by_id(
    session: Session,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
) -> None:
    """``UPDATE table SET <columns> WHERE id = ...`` for every row (``{"id": ..., column: ...}``),
    as one statement."""
    if not rows:
        return
    if not _uses_arrays(session):
        statement = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("b_id"))
            .values({name: sa.bindparam(f"b_{name}") for name in columns})
        )
        session.execute(
            statement, [{f"b_{key}": value for key, value in row.items()} for row in rows]
        )
        return
    dialect = session.get_bind().dialect
    names = ["id", *columns]
    elements, values = _arrays(table, names, rows, dialect)
    given = sa.func.unnest(*elements).table_valued(*names).render_derived(name="v")
    session.execute(
        sa.update(table)
        .where(table.c.id == given.c.id)
        .values({name: given.c[name] for name in columns}),
        values,
    )


def insert(session: Session, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """``INSERT`` of every row (all with the same keys), as one statement; no ids come back."""
    if not rows:
        return
    names = list(rows[0])
    if not _uses_arrays(session):
        session.execute(sa.insert(table), list(rows))
        return
    dialect = session.get_bind().dialect
    elements, values = _arrays(table, names, rows, dialect)
    given = sa.func.unnest(*elements).table_valued(*names).render_derived(name="v")
    session.execute(
        sa.insert(table).from_select(names, sa.select(*(given.c[name] for name in names))),
        values,
    )
