"""Ready metric sources a host configures instead of writing SQL (SPEC §7).

:class:`SqlMetricSource` answers ``goals_collect_actuals`` and ``goals_metric_capabilities``
for the categories it maps, from the host's own tables (a table of lines, a view, or a rollup
table with one row per day and dimension)::

    from flask_wiseparts_goals.sources import SqlMapping, SqlMetricSource

    sales = SqlMetricSource(
        SqlMapping(
            "sales",
            SalesLine.__table__,
            metrics={"net": "net", "gross": "gross"},
            filters={"brands": "brand_id", "customers": "customer_id"},
        )
    )
    goals.init_app(app, plugins=[host_plugin, sales])

A request's whole batch of a category becomes **one** statement: grouped ``SELECT`` s glued with
``UNION ALL`` (nested past :data:`MAX_UNION_TERMS`, SQLite's limit is 500 terms), each filtered
by the ``(organization, date)`` range so indexes serve it. Queries that differ only by their
days, on ranges that do not overlap (a goal's intervals, the same months of a team's goals),
share one ``SELECT`` over their whole range that tells their rows apart with a ``CASE`` on the
day: one index range scan instead of one per interval. A query the
mapping cannot answer (a metric or filter it does not map) gets ``ActualsResult(error=...)``:
that goal shows why, every other goal keeps its figures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from .domain.rules import FLAG_FILTERS, LIST_PAIR_FILTERS
from .markers import hookimpl
from .types import GROUP_BY_DIMENSIONS, ActualsQuery, ActualsResult, Filters, MetricCapabilities

#: SELECTs per ``UNION ALL`` level (SQLite refuses compound SELECTs of more than 500 terms).
MAX_UNION_TERMS = 200

#: A custom condition: ``(table, organization_id, query) -> condition or None``.
Condition = Callable[[sa.FromClause, str, ActualsQuery], "sa.ColumnElement[bool] | None"]

_FILTER_OF_DIMENSION = {filter_: dimension for dimension, filter_ in GROUP_BY_DIMENSIONS.items()}


@dataclass(frozen=True)
class SqlMapping:
    """How one category's actuals are read from one table, view or rollup table.

    :param category: ``"sales"``, ``"orders"`` or ``"activities"``.
    :param table: a ``sa.Table`` (``Model.__table__``), a view reflected or declared with
        ``sa.table(...)``, or any selectable with named columns.
    :param metrics: metric name → the column summed for it (``{"net": "net_amount"}``).
    :param count: how ``count`` is measured: ``"*"`` counts rows (a table of lines or
        activities), a column name sums it (a rollup table's row counter); ``None``: ``count``
        is not offered.
    :param filters: goal filter name (as in a goal's ``filters`` JSON) → column. Include/exclude
        filters (``brands``...) and list filters (``activity_types``...) match the column's
        values; a flag (``verified_only``, ``ordered_only``) names a boolean column that must be
        true, or is a :data:`Condition`. Each mapped list filter is also a breakdown dimension
        (``brands`` → ``brand``).
    :param date: the day column (inclusive ranges are compared on it).
    :param user: the user column; rows with ``NULL`` count in organization-wide totals only.
    :param organization: the tenant column; ``None`` only for a single-tenant table.
    :param scope: an extra :data:`Condition` per query, for host rules such as "a team goal counts
        the team's warehouses" (``None`` from it: no extra condition).
    :param monthly: a second rollup of the same columns with one row per calendar **month**
        (its ``date`` column holds the month's first day), refreshed with ``table``. The whole
        months of a query's range are read from it and only the days at the range's edges
        from ``table``: a half-year is 6 rows per user and dimension instead of about 130.
        Not used with a ``scope`` or a callable filter (host code that may look at the days).
    """

    category: str
    table: sa.FromClause
    metrics: Mapping[str, str] = field(default_factory=dict)
    count: str | None = None
    filters: Mapping[str, str | Condition] = field(default_factory=dict)
    date: str = "date"
    user: str = "user_id"
    organization: str | None = "organization_id"
    scope: Condition | None = None
    monthly: sa.FromClause | None = None

    def capabilities(self) -> MetricCapabilities:
        """What this mapping can answer: ``goals_metric_capabilities`` says exactly this."""
        metrics = set(self.metrics) | ({"count"} if self.count is not None else set())
        group_by = {
            _FILTER_OF_DIMENSION[name]
            for name, column in self.filters.items()
            if name in _FILTER_OF_DIMENSION and isinstance(column, str)
        }
        return MetricCapabilities(
            metrics=frozenset(metrics),
            filters=frozenset(self.filters),
            group_by=frozenset(group_by),
        )


class SqlMetricSource:
    """A metric source plugin answering the categories of its :class:`SqlMapping` s.

    :param mappings: one per category (a category mapped twice is an error).
    :param session: returns the session to read with; default: the host's Flask-SQLAlchemy
        ``db.session``, so reads join the request's transaction.
    """

    def __init__(self, *mappings: SqlMapping, session: Callable[[], Session] | None = None) -> None:
        self.mappings: dict[str, SqlMapping] = {}
        for mapping in mappings:
            if mapping.category in self.mappings:
                raise ValueError(f"category {mapping.category!r} is mapped twice")
            self.mappings[mapping.category] = mapping
        self._session = session

    def session(self) -> Session:
        if self._session is not None:
            return self._session()
        session: Session = current_app.extensions["sqlalchemy"].session
        return session

    @hookimpl
    def goals_metric_capabilities(
        self, organization_id: str, category: str
    ) -> MetricCapabilities | None:
        mapping = self.mappings.get(category)
        return None if mapping is None else mapping.capabilities()

    @hookimpl
    def goals_collect_actuals(
        self, organization_id: str, category: str, queries: Sequence[ActualsQuery]
    ) -> dict[str, ActualsResult] | None:
        mapping = self.mappings.get(category)
        if mapping is None:
            return None
        return collect(self.session(), mapping, organization_id, queries)


def collect(
    session: Session, mapping: SqlMapping, organization_id: str, queries: Sequence[ActualsQuery]
) -> dict[str, ActualsResult]:
    """Answer a batch with one statement (none when nothing needs the database).

    Identical questions under different keys are asked once; a query counting nobody
    (``user_ids == ()``) is zero without asking.
    """
    answers: dict[str, ActualsResult] = {}
    distinct: dict[tuple[Any, ...], list[ActualsQuery]] = {}
    for query in queries:
        problem = _unsupported(mapping, query)
        if problem is not None:
            answers[query.key] = ActualsResult(error=problem)
        elif query.user_ids == ():
            answers[query.key] = ActualsResult(groups={} if query.group_by else None)
        else:
            distinct.setdefault(_signature(query), []).append(query)
    asked = [same[0] for same in distinct.values()]
    per_user: list[dict[str, Decimal]] = [{} for _ in asked]
    totals = [Decimal(0) for _ in asked]
    groups: list[dict[str, Decimal]] = [{} for _ in asked]
    if asked:
        selects, owners = _plan(mapping, organization_id, asked)
        for piece, user_id, group, value in session.execute(_union(selects)):
            if piece is None:  # a day between the ranges of a shared SELECT
                continue
            for index in owners[int(piece)]:
                amount = _to_decimal(value, 0 if asked[index].metric == "count" else 2)
                totals[index] += amount
                if user_id is not None:
                    user = str(user_id)
                    per_user[index][user] = per_user[index].get(user, Decimal(0)) + amount
                if asked[index].group_by is not None:
                    key = "" if group is None else str(group)
                    groups[index][key] = groups[index].get(key, Decimal(0)) + amount
    for index, query in enumerate(asked):
        for user_id in query.user_ids or ():
            per_user[index].setdefault(user_id, Decimal(0))
        result = ActualsResult(
            total=totals[index],
            per_user=per_user[index],
            groups=groups[index] if query.group_by is not None else None,
        )
        for same in distinct[_signature(query)]:
            answers[same.key] = result
    return answers


def _plan(
    mapping: SqlMapping, organization_id: str, asked: Sequence[ActualsQuery]
) -> tuple[list[sa.Select[Any]], list[list[int]]]:
    """The SELECTs answering ``asked``, and for each piece number their rows carry, the
    queries (indexes into ``asked``) the rows count for.

    Without a ``monthly`` table a piece is a query. With one, a query's whole calendar months
    are a piece read from it, the days before and after them pieces read from ``table``; the
    same piece of several queries (a goal's current month and the last days of its period)
    is read once."""
    if mapping.monthly is None or not _shareable(mapping):
        return [_select(mapping, organization_id, layer) for layer in _layers(mapping, asked)], [
            [index] for index in range(len(asked))
        ]
    months = replace(mapping, table=mapping.monthly, monthly=None)
    pieces: dict[tuple[bool, tuple[Any, ...]], int] = {}
    owners: list[list[int]] = []
    by_table: tuple[list[tuple[int, ActualsQuery]], list[tuple[int, ActualsQuery]]] = ([], [])
    for index, query in enumerate(asked):
        for on_months, start, end in _split_months(query.start, query.end):
            piece = replace(query, start=start, end=end)
            key = (on_months, _signature(piece))
            if key not in pieces:
                pieces[key] = len(owners)
                owners.append([])
                by_table[on_months].append((pieces[key], piece))
            owners[pieces[key]].append(index)
    selects = []
    for source, numbered in ((mapping, by_table[False]), (months, by_table[True])):
        queries = [piece for _, piece in numbered]
        for layer in _layers(source, queries):
            renumbered = [(numbered[position][0], piece) for position, piece in layer]
            selects.append(_select(source, organization_id, renumbered))
    return selects, owners


def _split_months(start: date, end: date) -> list[tuple[bool, date, date]]:
    """``[start, end]`` as ``(on_months, start, end)`` pieces: the whole calendar months in it
    (one piece; its rows are dated on the months' first days, which the same inclusive range
    compares), and the days before and after them."""
    first = start if start.day == 1 else _next_month(start)
    after = _next_month(end) if _next_month(end) - timedelta(days=1) == end else end.replace(day=1)
    if first >= after:  # no whole month
        return [(False, start, end)]
    pieces = [(True, first, after - timedelta(days=1))]
    if start < first:
        pieces.insert(0, (False, start, first - timedelta(days=1)))
    if after <= end:
        pieces.append((False, after, end))
    return pieces


def _next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _shareable(mapping: SqlMapping) -> bool:
    """Whether queries may be answered by days other than their own range's (shared SELECTs,
    the monthly table): not when host code sees each query (a scope, a callable filter)."""
    return mapping.scope is None and not any(callable(f) for f in mapping.filters.values())


def _unsupported(mapping: SqlMapping, query: ActualsQuery) -> str | None:
    """Why this mapping cannot answer ``query`` (a silently wrong number is worse)."""
    capabilities = mapping.capabilities()
    if query.metric not in (capabilities.metrics or ()):
        return f"The {mapping.category} source does not measure {query.metric!r}."
    used = sorted(name for name in _used_filters(query.filters) if name not in mapping.filters)
    if used:
        return f"The {mapping.category} source cannot apply the filters {', '.join(used)}."
    if query.group_by is not None and query.group_by not in (capabilities.group_by or ()):
        return f"The {mapping.category} source cannot group by {query.group_by!r}."
    return None


def _used_filters(filters: Filters) -> Iterable[str]:
    """The goal filter names (``brands``, ``verified_only``...) a query restricts by."""
    for name, value in vars(filters).items():
        if value:
            yield name.removesuffix("_include").removesuffix("_exclude")


def _signature(query: ActualsQuery) -> tuple[Any, ...]:
    users = None if query.user_ids is None else frozenset(query.user_ids)
    return (query.metric, query.start, query.end, users, query.team_id, query.filters,
            query.group_by)  # fmt: skip


def _layers(
    mapping: SqlMapping, queries: Sequence[ActualsQuery]
) -> list[list[tuple[int, ActualsQuery]]]:
    """The queries (by index) in groups that one SELECT answers: the same question but for
    the days, on ranges that do not overlap, in order of their start. A mapping with a
    ``scope`` or a callable filter (host code that sees the whole query, dates included)
    asks each query alone."""
    if not _shareable(mapping):
        return [[(index, query)] for index, query in enumerate(queries)]
    by_question: dict[tuple[Any, ...], list[tuple[int, ActualsQuery]]] = {}
    for index, query in enumerate(queries):
        metric, _start, _end, *rest = _signature(query)
        by_question.setdefault((metric, *rest), []).append((index, query))
    layers: list[list[tuple[int, ActualsQuery]]] = []
    for same in by_question.values():
        open_layers: list[list[tuple[int, ActualsQuery]]] = []
        for item in sorted(same, key=lambda item: (item[1].start, item[1].end, item[0])):
            layer = next((lay for lay in open_layers if lay[-1][1].end < item[1].start), None)
            if layer is None:
                open_layers.append([item])
            else:
                layer.append(item)
        layers.extend(open_layers)
    return layers


def _select(
    mapping: SqlMapping, organization_id: str, layer: Sequence[tuple[int, ActualsQuery]]
) -> sa.Select[Any]:
    """One grouped SELECT answering the layer's queries (the same question on days that do not
    overlap): ``(index, user, group, value)`` rows; ``index`` is ``NULL`` for a day between
    their ranges."""
    index, query = layer[0]
    start, end = query.start, max(q.end for _, q in layer)
    t = mapping.table
    c = t.c
    if query.metric == "count":
        value: sa.ColumnElement[Any] = (
            sa.func.count() if mapping.count == "*" else sa.func.sum(c[mapping.count or ""])
        )
    else:
        value = sa.func.sum(c[mapping.metrics[query.metric]])
    conditions: list[sa.ColumnElement[bool]] = [
        c[mapping.date] >= start,
        c[mapping.date] <= end,
    ]
    which: sa.ColumnElement[Any] = sa.literal_column(str(index), sa.Integer)
    if len(layer) > 1:
        which = sa.case(
            *(
                (c[mapping.date].between(q.start, q.end), sa.literal_column(str(i), sa.Integer))
                for i, q in layer
            )
        )
    if mapping.organization is not None:
        conditions.append(c[mapping.organization] == organization_id)
    if query.user_ids is not None:
        conditions.append(c[mapping.user].in_(sorted(set(query.user_ids))))
    conditions.extend(_filter_conditions(mapping, organization_id, query))
    if mapping.scope is not None:
        extra = mapping.scope(t, organization_id, query)
        if extra is not None:
            conditions.append(extra)
    group: sa.ColumnElement[Any] = sa.null()
    keys: list[Any] = [c[mapping.user]]
    if len(layer) > 1:
        keys.append("q")  # the CASE, by its label: its bound days are not repeated
    if query.group_by is not None:
        column = mapping.filters[GROUP_BY_DIMENSIONS[query.group_by]]
        assert isinstance(column, str)  # _unsupported admits only column-mapped dimensions
        keys.append(c[column])
        group = c[column]
    return (
        sa.select(
            which.label("q"),
            c[mapping.user].label("user_id"),
            sa.cast(group, sa.String).label("g"),
            # Raw DBAPI values: the union mixes metrics, and _to_decimal rounds per metric.
            sa.type_coerce(value, sa.types.NullType()).label("v"),
        )
        .where(*conditions)
        .group_by(*keys)
    )


def _filter_conditions(
    mapping: SqlMapping, organization_id: str, query: ActualsQuery
) -> list[sa.ColumnElement[bool]]:
    t, filters = mapping.table, query.filters
    conditions: list[sa.ColumnElement[bool]] = []
    for name, target in mapping.filters.items():
        if callable(target):
            if _flag(filters, name) or name not in FLAG_FILTERS:
                condition = target(t, organization_id, query)
                if condition is not None:
                    conditions.append(condition)
            continue
        column = t.c[target]
        if name in FLAG_FILTERS:
            if _flag(filters, name):
                conditions.append(column.is_(True))
        elif name in LIST_PAIR_FILTERS:
            include, exclude = (
                getattr(filters, f"{name}_include"),
                getattr(filters, f"{name}_exclude"),
            )
            if include:
                conditions.append(column.in_(include))
            if exclude:
                # NOT IN is unknown for NULL: a row without a value is not an excluded one.
                conditions.append(sa.or_(column.is_(None), column.not_in(exclude)))
        elif getattr(filters, name):
            conditions.append(column.in_(getattr(filters, name)))
    return conditions


def _flag(filters: Filters, name: str) -> bool:
    return bool(getattr(filters, name))


def _union(selects: Sequence[sa.Select[Any]]) -> sa.Select[Any] | sa.CompoundSelect[Any]:
    """``UNION ALL`` of the SELECTs, nested so that no level exceeds :data:`MAX_UNION_TERMS`."""
    if len(selects) == 1:
        return selects[0]
    if len(selects) <= MAX_UNION_TERMS:
        return sa.union_all(*selects)
    return _union(
        [
            sa.select(sa.union_all(*selects[i : i + MAX_UNION_TERMS]).subquery())
            for i in range(0, len(selects), MAX_UNION_TERMS)
        ]
    )


def _to_decimal(value: object, decimals: int) -> Decimal:
    """Exact decimal from what the driver returned (``Decimal``, ``int``, or ``float`` on SQLite):
    counts are whole, amounts have 2 places (the columns' scale)."""
    if value is None:
        return Decimal(0)
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(Decimal(1).scaleb(-decimals))  # type: ignore[arg-type]
