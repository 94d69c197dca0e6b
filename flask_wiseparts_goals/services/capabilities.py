"""What the metric sources can measure (``goals_metric_capabilities``, SPEC §7).

One place decides what a category offers: ``/meta`` lists it, and creating or changing a goal
to use anything else is a 422 naming the field. Without an answer from a source everything the
category allows is offered (part one's behaviour).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..domain.goals import GoalSettings
from ..domain.rules import METRICS, Category, filters_for
from ..types import GROUP_BY_DIMENSIONS
from .context import Context


@dataclass(frozen=True)
class Offer:
    """The metrics, filters and breakdown dimensions one category offers to an organization."""

    metrics: tuple[str, ...]
    filters: tuple[str, ...]
    group_by: tuple[str, ...]
    declared: bool


def category_offer(ctx: Context, category: Category) -> Offer:
    """The category's own metrics, filters and dimensions, narrowed by what its source says."""
    metrics = tuple(metric.value for metric in METRICS[category])
    filters = filters_for(category)
    group_by = tuple(name for name, filter_ in GROUP_BY_DIMENSIONS.items() if filter_ in filters)
    declared = ctx.hooks.metric_capabilities(ctx.organization_id, category.value)
    if declared is None:
        return Offer(metrics, filters, group_by, declared=False)
    return Offer(
        metrics=_narrow(metrics, declared.metrics),
        filters=_narrow(filters, declared.filters),
        group_by=_narrow(group_by, declared.group_by),
        declared=True,
    )


def _narrow(names: tuple[str, ...], supported: frozenset[str] | None) -> tuple[str, ...]:
    return names if supported is None else tuple(name for name in names if name in supported)


def unsupported_by_source(
    ctx: Context, settings: GoalSettings, current: GoalSettings | None = None
) -> dict[str, Any]:
    """422 errors for a metric or filter the category's source says it cannot measure.

    :param current: the goal before a change: only what the change brings in is checked, so a
        goal created before its source declared capabilities stays editable.
    """
    offer = category_offer(ctx, settings.category)
    errors: dict[str, Any] = {}
    if not offer.declared:
        return errors
    source = f"The {settings.category.value} metric source"
    metric = settings.metric
    if metric and metric not in offer.metrics and (current is None or current.metric != metric):
        supported = ", ".join(offer.metrics) or "nothing"
        errors["metric"] = [f"{source} cannot measure {metric!r} (it measures: {supported})."]
    before: Mapping[str, Any] = current.filters if current is not None else {}
    for name, value in settings.filters.items():
        if name in offer.filters or name not in filters_for(settings.category):
            continue  # unknown or inapplicable filters are the domain rules' errors
        if before.get(name) == value:
            continue
        errors.setdefault("filters", {})[name] = [f"{source} cannot apply this filter."]
    return errors
