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
days and users (a goal's intervals, the same months of every team's goals) share one ``SELECT``
over the union of their users, grouped by user and by a ``CASE`` on the day for each range
that does not overlap the others: one index scan instead of one per interval and team, and
each query sums its own users' rows (with a ``scope``: the queries of one team and users, on
other days). With ``SqlMapping(monthly=...)`` whole calendar months are
read from a monthly rollup, the days around them from the daily one. A query the
mapping cannot answer (a metric or filter it does not map) gets ``ActualsResult(error=...)``:
that goal shows why, every other goal keeps its figures.
"""

from __future__ import annotations

import math
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
        Not used with a ``scope`` or a callable filter (host code may look at the team).
        A ``scope`` (and a callable filter) is called once for the queries of one team, users
        and filters on days that do not overlap: it may look at those, not at the days.
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
        ``db.session`` (in the thread the extension asks the source in, a session of that
        thread's own: docs/plugin-guide.md).
    :param statement_timeout: on PostgreSQL, how long the database may work on the statement
        before it cancels it (``statement_timeout``, for this statement only): ``True`` (the
        default) ``GOALS_ACTUALS_TIMEOUT_SECONDS``, so that the database stops when the
        request stops waiting; a number of seconds; ``False`` no bound. A cancelled statement
        is a failed source: its category's figures are null.
    """

    def __init__(
        self,
        *mappings: SqlMapping,
        session: Callable[[], Session] | None = None,
        statement_timeout: bool | float = True,
    ) -> None:
        self.mappings: dict[str, SqlMapping] = {}
        for mapping in mappings:
            if mapping.category in self.mappings:
                raise ValueError(f"category {mapping.category!r} is mapped twice")
            self.mappings[mapping.category] = mapping
        self._session = session
        self.statement_timeout = statement_timeout

    def statement_timeout_seconds(self) -> float | None:
        """The bound of this call's statement in seconds (``None``: no bound)."""
        if self.statement_timeout is False:
            return None
        if self.statement_timeout is True:
            value = current_app.config.get("GOALS_ACTUALS_TIMEOUT_SECONDS")
            return None if value is None else float(value)
        return float(self.statement_timeout)

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
        return collect(
            self.session(),
            mapping,
            organization_id,
            queries,
            statement_timeout=self.statement_timeout_seconds(),
        )


def collect(
    session: Session,
    mapping: SqlMapping,
    organization_id: str,
    queries: Sequence[ActualsQuery],
    *,
    statement_timeout: float | None = None,
) -> dict[str, ActualsResult]:
    """Answer a batch with one statement (none when nothing needs the database).

    Identical questions under different keys are asked once; a query counting nobody
    (``user_ids == ()``) is zero without asking.

    :param statement_timeout: seconds PostgreSQL may work on the statement (see
        :func:`bounded_rows`); ignored by other databases.
    """
    answers: dict[str, ActualsResult] = {}
    distinct: dict[tuple[Any, ...], list[ActualsQuery]] = {}
    capabilities = mapping.capabilities()
    for query in queries:
        problem = _unsupported(mapping, query, capabilities)
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
        selects, pieces = _plan(mapping, organization_id, asked)
        rows = bounded_rows(session, _union(selects), statement_timeout)
        for piece, user_id, group, value in rows:
            if piece is None:  # a day between the ranges of a shared SELECT
                continue
            owners = pieces[int(piece)]
            user = None if user_id is None else str(user_id)
            counted = owners.everyone
            if user is not None and user in owners.by_user:
                counted = counted + owners.by_user[user]
            if not counted:
                continue
            amount = _to_decimal(value, 0 if owners.metric == "count" else 2)
            for index in counted:
                totals[index] += amount
                if user is not None:
                    per_user[index][user] = per_user[index].get(user, Decimal(0)) + amount
                if owners.group_by:
                    key = "" if group is None else str(group)
                    groups[index][key] = groups[index].get(key, Decimal(0)) + amount
    for same, query_per_user, total, query_groups in zip(
        distinct.values(), per_user, totals, groups, strict=True
    ):
        query = same[0]
        for user_id in query.user_ids or ():
            query_per_user.setdefault(user_id, Decimal(0))
        result = ActualsResult(
            total=total,
            per_user=query_per_user,
            groups=query_groups if query.group_by is not None else None,
        )
        for each in same:
            answers[each.key] = result
    return answers


def bounded_rows(
    session: Session, statement: sa.Executable, timeout: float | None
) -> Sequence[Any]:
    """The statement's rows; on PostgreSQL with a ``timeout``, under ``statement_timeout``
    for this statement only: set with ``set_config(..., is_local => true)`` (what
    ``SET LOCAL`` does, with a bound parameter), and the transaction's previous value set
    back afterwards, so the bound never outlives the statement even in a session the
    statement shares with other work. A cancelled statement raises (``QueryCanceled``)."""
    bind = session.get_bind(clause=statement)  # type: ignore[arg-type]
    if timeout is None or bind.dialect.name != "postgresql":
        return session.execute(statement).all()
    milliseconds = str(max(1, math.ceil(timeout * 1000)))
    previous = session.execute(
        sa.select(
            sa.func.current_setting("statement_timeout"),
            sa.func.set_config("statement_timeout", milliseconds, True),
        )
    ).scalar_one()
    rows = session.execute(statement).all()
    session.execute(sa.select(sa.func.set_config("statement_timeout", previous, True)))
    return rows


@dataclass
class _Piece:
    """The queries (indexes into the batch) a SELECT's rows of one range count for: those of
    ``everyone`` for every row, those of ``by_user[user]`` for that user's rows only (a shared
    SELECT reads the users of several queries, e.g. every team's members)."""

    metric: str
    group_by: bool
    everyone: list[int] = field(default_factory=list)
    by_user: dict[str, list[int]] = field(default_factory=dict)


def _plan(
    mapping: SqlMapping, organization_id: str, asked: Sequence[ActualsQuery]
) -> tuple[list[sa.Select[Any]], list[_Piece]]:
    """The SELECTs answering ``asked``, and for each piece number their rows carry, which
    queries they count for.

    A piece is a range of days of one *question* (metric, filters, grouping; whether users are
    restricted at all): the queries asking it for different users (every team's goals over the
    same months) share it, and their SELECT reads the union of their users, grouped by user,
    so each query sums only its own users' rows. With a ``monthly`` table, a query's whole
    calendar months are one piece read from it, the days before and after them pieces read
    from ``table``. A mapping with host code that sees the queries (:func:`_shareable`: a
    ``scope``, a callable filter) shares a SELECT only between queries that differ by their
    days, and reads no monthly table: the host code is called with one of them, so it may
    look at the team, the users and the filters, not at the days.
    """
    shareable = _shareable(mapping)
    numbers: dict[tuple[Any, ...], int] = {}
    pieces: list[_Piece] = []
    users: list[set[str] | None] = []
    # (on the monthly table, question) -> [(piece number, start, end, a query asking it)]
    questions: dict[tuple[Any, ...], list[tuple[int, date, date, ActualsQuery]]] = {}
    for index, query in enumerate(asked):
        question = _question(query) if shareable else _scoped_question(query)
        if mapping.monthly is None or not shareable:
            ranges = [(False, query.start, query.end)]
        else:
            ranges = _split_months(query.start, query.end)
        for on_months, start, end in ranges:
            key = (on_months, question, start, end)
            if key not in numbers:
                numbers[key] = len(pieces)
                pieces.append(_Piece(query.metric, query.group_by is not None))
                users.append(None if query.user_ids is None else set())
                questions.setdefault((on_months, question), []).append(
                    (numbers[key], start, end, query)
                )
            number = numbers[key]
            piece_users = users[number]
            if piece_users is None or query.user_ids is None:
                pieces[number].everyone.append(index)
                continue
            for user_id in dict.fromkeys(query.user_ids):
                pieces[number].by_user.setdefault(str(user_id), []).append(index)
                piece_users.add(str(user_id))
    months = None if mapping.monthly is None else replace(mapping, table=mapping.monthly)
    selects = []
    for (on_months, _), asking in questions.items():
        source = months if on_months else mapping
        assert source is not None
        for layer in _disjoint(asking):
            readers = [users[number] or set() for number, *_ in layer]
            wanted = None if users[layer[0][0]] is None else tuple(sorted(set().union(*readers)))
            selects.append(
                _select(
                    source,
                    organization_id,
                    [
                        (number, replace(query, start=start, end=end, user_ids=wanted))
                        for number, start, end, query in layer
                    ],
                )
            )
    return selects, pieces


def _question(query: ActualsQuery) -> tuple[Any, ...]:
    """What one SELECT answers for any users and days: the metric, whether users are
    restricted, the filters and the grouping (the team only matters to a ``scope``)."""
    return (query.metric, query.user_ids is None, query.filters, query.group_by)


def _scoped_question(query: ActualsQuery) -> tuple[Any, ...]:
    """What one SELECT answers for a mapping with host code: the same as :func:`_signature`,
    but for any days."""
    users = None if query.user_ids is None else frozenset(query.user_ids)
    return (query.metric, users, query.team_id, query.filters, query.group_by)


def _disjoint(
    ranges: Sequence[tuple[int, date, date, ActualsQuery]],
) -> list[list[tuple[int, date, date, ActualsQuery]]]:
    """The ranges in groups whose days do not overlap, in order of their start: one SELECT
    tells a group's rows apart with a ``CASE`` on the day."""
    layers: list[list[tuple[int, date, date, ActualsQuery]]] = []
    for item in sorted(ranges, key=lambda item: (item[1], item[2], item[0])):
        layer = next((lay for lay in layers if lay[-1][2] < item[1]), None)
        if layer is None:
            layers.append([item])
        else:
            layer.append(item)
    return layers


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
    """Whether queries may be answered by SELECTs over other days and users than their own
    (shared SELECTs, the monthly table): not when host code sees each query (a scope, a
    callable filter)."""
    return mapping.scope is None and not any(callable(f) for f in mapping.filters.values())


def _unsupported(
    mapping: SqlMapping, query: ActualsQuery, capabilities: MetricCapabilities
) -> str | None:
    """Why this mapping cannot answer ``query`` (a silently wrong number is worse)."""
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
