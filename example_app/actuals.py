"""The reference metric source: every actuals query of a request in ONE SQL statement.

Each distinct query becomes one grouped ``SELECT <query index>, user_id, <metric>`` over the
category's table with that query's date range, users and filters; the SELECTs are glued with
``UNION ALL`` into a single statement, so the cost is one round trip whatever the number of
goals, intervals and members, and each branch can use the ``(organization_id, date)`` indexes.

SQLite refuses compound SELECTs of more than 500 terms, so large batches are nested: groups of
:data:`MAX_UNION_TERMS` SELECTs become subqueries of an outer ``UNION ALL``. It is still one
statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from flask_wiseparts_goals.types import ActualsQuery, ActualsResult, Filters

from .models import Activity, Order, SalesLine, Team, TeamWarehouse

#: SELECTs per ``UNION ALL`` level (SQLite's limit is 500 terms per compound SELECT).
MAX_UNION_TERMS = 200

_MONEY = ("net", "gross", "quantity", "margin")
_TWO_PLACES = Decimal("0.01")
_ONE = Decimal(1)


@dataclass(frozen=True)
class _Source:
    """What a category reads: its table, metrics and the filters that apply to it."""

    table: sa.Table
    metrics: tuple[str, ...]
    filters: frozenset[str]


_SALES_FILTERS = frozenset(
    {
        "brands_include",
        "brands_exclude",
        "brand_families_include",
        "brand_families_exclude",
        "customers_include",
        "customers_exclude",
        "customer_branches_include",
        "customer_branches_exclude",
        "wholesaler_branches",
    }
)

SOURCES: dict[str, _Source] = {
    "sales": _Source(SalesLine.__table__, _MONEY, _SALES_FILTERS),
    "orders": _Source(
        Order.__table__, ("count", *_MONEY), _SALES_FILTERS | {"channels", "ordered_only"}
    ),
    "activities": _Source(
        Activity.__table__,
        ("count",),
        frozenset(
            {
                "customers_include",
                "customers_exclude",
                "customer_branches_include",
                "customer_branches_exclude",
                "activity_types",
                "verified_only",
            }
        ),
    ),
}


def collect_actuals(
    session: Session, organization_id: str, category: str, queries: Sequence[ActualsQuery]
) -> dict[str, ActualsResult] | None:
    """Answer every query of ``category``; ``None`` for a category this source does not own.

    Identical questions (same metric, range, users, team and filters under different keys)
    are asked once. Queries with an empty user list are zero without asking the database.
    """
    source = SOURCES.get(category)
    if source is None:
        return None
    signatures: dict[tuple[Any, ...], int] = {}
    distinct: list[ActualsQuery] = []
    index_of_key: dict[str, int] = {}
    for query in queries:
        _validate(category, source, query)
        signature = _signature(query)
        if signature not in signatures:
            signatures[signature] = len(distinct)
            distinct.append(query)
        index_of_key[query.key] = signatures[signature]

    asked = [i for i, query in enumerate(distinct) if query.user_ids != ()]
    rows: Iterable[Any] = ()
    if asked:
        selects = [_select(source, organization_id, i, distinct[i]) for i in asked]
        rows = session.execute(_union(selects)).all()

    per_query: dict[int, dict[str | None, Decimal]] = {i: {} for i in range(len(distinct))}
    for index, user_id, value in rows:
        step = _ONE if distinct[index].metric == "count" else _TWO_PLACES
        per_query[index][user_id] = _to_decimal(value, step)

    results: dict[int, ActualsResult] = {}
    for i, query in enumerate(distinct):
        values = per_query[i]
        per_user = {user: amount for user, amount in values.items() if user is not None}
        for user_id in query.user_ids or ():
            per_user.setdefault(user_id, Decimal(0))
        results[i] = ActualsResult(total=sum(values.values(), Decimal(0)), per_user=per_user)
    return {key: results[index] for key, index in index_of_key.items()}


def _validate(category: str, source: _Source, query: ActualsQuery) -> None:
    """Refuse what this source cannot measure rather than answer a silently wrong number."""
    if query.metric not in source.metrics:
        raise ValueError(f"metric {query.metric!r} is not measured for {category}")
    unsupported = sorted(
        name for name, value in vars(query.filters).items() if value and name not in source.filters
    )
    if unsupported:
        raise ValueError(f"filters {', '.join(unsupported)} do not apply to {category}")


def _signature(query: ActualsQuery) -> tuple[Any, ...]:
    users = None if query.user_ids is None else frozenset(query.user_ids)
    return (query.metric, query.start, query.end, users, query.team_id, query.filters)


def _select(source: _Source, organization_id: str, index: int, query: ActualsQuery) -> sa.Select:
    """One grouped SELECT answering ``query``, labelled with its index."""
    t = source.table
    value = sa.func.count() if query.metric == "count" else sa.func.sum(t.c[query.metric])
    conditions: list[sa.ColumnElement[bool]] = [
        t.c.organization_id == organization_id,
        t.c.date >= query.start,
        t.c.date <= query.end,
    ]
    if query.user_ids is not None:
        conditions.append(t.c.user_id.in_(sorted(set(query.user_ids))))
    conditions.extend(_filter_conditions(t, organization_id, query.team_id, query.filters))
    return (
        sa.select(
            sa.literal_column(str(index), sa.Integer).label("q"),
            t.c.user_id.label("user_id"),
            # Raw DBAPI values: the union mixes metrics, and _to_decimal rounds per metric.
            sa.type_coerce(value, sa.types.NullType()).label("v"),
        )
        .where(*conditions)
        .group_by(t.c.user_id)
    )


def _filter_conditions(
    t: sa.Table, organization_id: str, team_id: str | None, filters: Filters
) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    for column, include, exclude in (
        ("brand_id", filters.brands_include, filters.brands_exclude),
        ("brand_family_id", filters.brand_families_include, filters.brand_families_exclude),
        ("customer_id", filters.customers_include, filters.customers_exclude),
        (
            "customer_branch_id",
            filters.customer_branches_include,
            filters.customer_branches_exclude,
        ),
    ):
        if include:
            conditions.append(t.c[column].in_(include))
        if exclude:
            # NOT IN is unknown for NULL: a row without a branch/family is not an excluded one.
            excluded = t.c[column].not_in(exclude)
            conditions.append(
                sa.or_(t.c[column].is_(None), excluded) if t.c[column].nullable else excluded
            )
    if filters.wholesaler_branches:
        conditions.append(t.c.wholesaler_branch_id.in_(filters.wholesaler_branches))
    elif team_id is not None and "wholesaler_branch_id" in t.c:
        conditions.append(_team_warehouses(t, organization_id, team_id))
    if filters.activity_types:
        conditions.append(t.c.type.in_(filters.activity_types))
    if filters.verified_only:
        conditions.append(t.c.verified.is_(True))
    if filters.ordered_only:
        conditions.append(t.c.status == "confirmed")
    if filters.channels:
        conditions.append(t.c.channel.in_(filters.channels))
    return conditions


def _team_warehouses(t: sa.Table, organization_id: str, team_id: str) -> sa.ColumnElement[bool]:
    """WiseParts rule: a team goal counts sales from the team's warehouses, if it has any."""
    tw = TeamWarehouse.__table__
    teams = Team.__table__
    linked = (
        sa.select(tw.c.wholesaler_branch_id)
        .join(teams, teams.c.id == tw.c.team_id)
        .where(tw.c.team_id == team_id, teams.c.organization_id == organization_id)
    )
    return sa.or_(t.c.wholesaler_branch_id.in_(linked), ~linked.exists())


def _union(selects: Sequence[sa.Select]) -> sa.Select | sa.CompoundSelect:
    """``UNION ALL`` of the SELECTs, nested so that no level exceeds MAX_UNION_TERMS."""
    if len(selects) == 1:
        return selects[0]
    if len(selects) <= MAX_UNION_TERMS:
        return sa.union_all(*selects)
    groups = [
        sa.select(sa.union_all(*selects[i : i + MAX_UNION_TERMS]).subquery())
        for i in range(0, len(selects), MAX_UNION_TERMS)
    ]
    return _union(groups)


def _to_decimal(value: object, step: Decimal) -> Decimal:
    """Exact decimal from what the driver returned (Decimal, int, or float on SQLite)."""
    if value is None:
        return Decimal(0)
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(step)  # type: ignore[arg-type]
