"""The example host's metric source: a column mapping per category (SPEC §7).

:class:`~flask_wiseparts_goals.sources.SqlMetricSource` turns each request's batch of a category
into one grouped ``UNION ALL`` statement and declares what each mapping can measure; the only
rule of our own is WiseParts' team scoping (a team goal counts its team's warehouses).
"""

from __future__ import annotations

import sqlalchemy as sa

from flask_wiseparts_goals.sources import SqlMapping, SqlMetricSource
from flask_wiseparts_goals.types import ActualsQuery

from .models import Activity, Order, SalesLine, Team, TeamWarehouse

MONEY = {metric: metric for metric in ("net", "gross", "quantity", "margin")}
SALES_FILTERS = {
    "brands": "brand_id",
    "brand_families": "brand_family_id",
    "customers": "customer_id",
    "customer_branches": "customer_branch_id",
    "wholesaler_branches": "wholesaler_branch_id",
}


def team_warehouses(
    t: sa.FromClause, organization_id: str, query: ActualsQuery
) -> sa.ColumnElement[bool] | None:
    """A team goal counts sales from the team's warehouses, if it has any (unless the goal
    names its wholesaler branches itself)."""
    if query.team_id is None or query.filters.wholesaler_branches:
        return None
    linked = (
        sa.select(TeamWarehouse.wholesaler_branch_id)
        .join(Team, Team.id == TeamWarehouse.team_id)
        .where(TeamWarehouse.team_id == query.team_id, Team.organization_id == organization_id)
    )
    return sa.or_(t.c.wholesaler_branch_id.in_(linked), ~linked.exists())


def confirmed(
    t: sa.FromClause, organization_id: str, query: ActualsQuery
) -> sa.ColumnElement[bool]:
    return t.c.status == "confirmed"


source = SqlMetricSource(
    SqlMapping("sales", SalesLine.__table__, MONEY, filters=SALES_FILTERS, scope=team_warehouses),
    SqlMapping(
        "orders",
        Order.__table__,
        MONEY,
        count="*",
        filters={**SALES_FILTERS, "channels": "channel", "ordered_only": confirmed},
        scope=team_warehouses,
    ),
    SqlMapping(
        "activities",
        Activity.__table__,
        count="*",
        filters={
            "customers": "customer_id",
            "customer_branches": "customer_branch_id",
            "activity_types": "type",
            "verified_only": "verified",
        },
    ),
)
