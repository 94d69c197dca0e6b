"""Creating, listing, changing and deleting goals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from ..domain.distribution import equal_split
from ..domain.goals import DATES_MISSING, REQUIRED, GoalSettings, validate_settings
from ..domain.periods import Recurrence, period_containing, resolve_shortcut
from ..domain.rules import (
    CATEGORY_FEATURE,
    Category,
    GoalMode,
    check_places,
    default_metric,
    places,
    step,
)
from ..exceptions import Conflict, ValidationFailed
from ..models import Goal
from ..types import AuthTarget
from .capabilities import unsupported_by_source
from .context import Context, goal_target
from .history import record_event
from .shortfall import set_shortfall_policy
from .structure import Dropped, rebuild, recompute_totals
from .targets import check_bounds, tracked_write

#: Fields whose change rebuilds intervals and allocations.
STRUCTURE_FIELDS = (
    "start_date",
    "end_date",
    "split_into_subperiods",
    "split_by_team_members",
    "team_id",
    "goal_mode",
)


def category_enabled(ctx: Context, category: Category) -> bool:
    feature = CATEGORY_FEATURE.get(category)
    return feature is None or ctx.hooks.feature_enabled(ctx.organization_id, feature)


def _resolve_dates(
    data: Mapping[str, Any], today: date, current: tuple[date, date] | None = None
) -> tuple[date, date] | dict[str, list[str]]:
    """The goal's range from ``period`` or ``start_date``/``end_date`` (or the recurrence's
    current period, or the goal's current range)."""
    period, start, end = data.get("period"), data.get("start_date"), data.get("end_date")
    if period is not None:
        if start is not None or end is not None:
            return {"period": ["Give either period or start_date and end_date, not both."]}
        resolved = resolve_shortcut(period, today)
        return resolved.start, resolved.end
    if start is None and end is None:
        if current is not None:
            return current
        if data.get("recurrence"):
            resolved = period_containing(Recurrence(data["recurrence"]), today)
            return resolved.start, resolved.end
        return {"start_date": [DATES_MISSING], "end_date": [DATES_MISSING]}
    if current is not None:
        return start or current[0], end or current[1]
    missing = "start_date" if start is None else "end_date"
    if start is None or end is None:
        return {missing: [REQUIRED]}
    return start, end


def _dates_or_placeholder(
    data: Mapping[str, Any], today: date, current: tuple[date, date] | None = None
) -> tuple[tuple[date, date], dict[str, list[str]]]:
    """The goal's range and its problems. When the range cannot be resolved, the problems
    and a stand-in range (the current one, else today), so that every other field is still
    checked and one 422 lists everything (SPEC §14 "Every error at once")."""
    dates = _resolve_dates(data, today, current)
    if isinstance(dates, dict):
        return current or (today, today), dates
    return dates, {}


def _settings(data: Mapping[str, Any], dates: tuple[date, date]) -> GoalSettings:
    category = Category(data["category"])
    is_activity = category is Category.ACTIVITIES
    return GoalSettings(
        category=category,
        metric=data.get("metric") or default_metric(category),
        start_date=dates[0],
        end_date=dates[1],
        aim=data.get("aim"),
        stretch_aim=data.get("stretch_aim"),
        team_id=data.get("team_id"),
        split_into_subperiods=bool(data.get("split_into_subperiods")),
        split_by_team_members=bool(data.get("split_by_team_members")),
        goal_mode=(data.get("goal_mode") or GoalMode.TOTAL)
        if is_activity
        else data.get("goal_mode"),
        daily_target=data.get("daily_target"),
        filters=_clean_filters(data.get("filters") or {}),
        recurrence=data.get("recurrence"),
        recurring_until=data.get("recurring_until"),
    )


def _clean_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    """Drop empty filters so that "no restriction" has one representation."""
    clean: dict[str, Any] = {}
    for name, value in filters.items():
        if isinstance(value, dict):
            pair = {k: list(v) for k, v in value.items() if v}
            if pair:
                clean[name] = pair
        elif value:
            clean[name] = list(value) if isinstance(value, (list, tuple)) else value
    return clean


def _validate(
    ctx: Context,
    settings: GoalSettings,
    *,
    check_team: bool = True,
    creating: bool = True,
    current: GoalSettings | None = None,
    date_errors: Mapping[str, list[str]] | None = None,
) -> None:
    """422 with every problem: the domain rules, plus a team the host does not know
    (``goals_team_members`` answers ``None``), split by members or not.

    A category switched off later (orders) only refuses new goals: existing ones stay
    editable, so a manager can still correct or close them.

    :param date_errors: the range could not be resolved (the settings hold a stand-in): these
        replace whatever the stand-in range itself would be told, and the team is not asked.
    """
    enabled = category_enabled(ctx, settings.category) if creating else True
    errors = validate_settings(settings, category_enabled=enabled)
    if date_errors:
        for name in ("start_date", "end_date", "period"):
            errors.pop(name, None)
        errors.update(date_errors)
        check_team = False
    for name, problem in unsupported_by_source(ctx, settings, current).items():
        if isinstance(problem, dict):  # filters: merged with the domain's filter errors
            errors[name] = {**problem, **errors.get(name, {})}
        else:
            errors.setdefault(name, problem)
    if (
        check_team
        and settings.team_id is not None
        and "team_id" not in errors
        and ctx.hooks.team_members(ctx.organization_id, settings.team_id, settings.start_date)
        is None
    ):
        errors["team_id"] = [f"Unknown team {settings.team_id!r}."]
    if errors:
        raise ValidationFailed(errors)


def input_problems(ctx: Context, data: Mapping[str, Any], *, broken: set[str]) -> dict[str, Any]:
    """What :func:`create_goal` would refuse in a body whose ``broken`` fields already failed
    to load (``data``: the fields that did), for the create schema to list with its own field
    errors (SPEC §14). The rules are :func:`_resolve_dates` and the domain's
    ``validate_settings``; the host is not asked (the team check waits for a loadable body).
    A broken field is not reported again (it would read as missing)."""
    given = data.get("category")
    category = Category(given) if given in set(Category) else None
    dates, errors = _dates_or_placeholder(data, ctx.today)
    problems: dict[str, Any] = dict(errors)
    if category is not None:
        settings = _settings({**data, "category": category}, dates)
        found = validate_settings(
            settings, category_enabled=category_enabled(ctx, settings.category)
        )
        for name, problem in found.items():
            if not (errors and name in ("start_date", "end_date", "period")):
                problems.setdefault(name, problem)
    broken_dates = broken & {"start_date", "end_date", "period"}
    return {
        name: problem
        for name, problem in problems.items()
        if name not in broken
        and not (broken_dates and name in ("start_date", "end_date", "period"))
    }


def create_goal(ctx: Context, data: Mapping[str, Any]) -> Goal:
    category = Category(data["category"])
    ctx.require(
        "create",
        AuthTarget(
            kind="goal",
            organization_id=ctx.organization_id,
            team_id=data.get("team_id"),
            created_by=ctx.identity.user_id,
            category=category,
        ),
    )
    dates, date_errors = _dates_or_placeholder(data, ctx.today)
    settings = _settings(data, dates)
    _validate(ctx, settings, date_errors=date_errors)
    goal = Goal(
        organization_id=ctx.organization_id,
        category=settings.category.value,
        description=data["description"],
        metric=settings.metric,
        start_date=settings.start_date,
        end_date=settings.end_date,
        aim=settings.aim or 0,
        stretch_aim=settings.stretch_aim,
        team_id=settings.team_id,
        split_into_subperiods=settings.split_into_subperiods,
        split_by_team_members=settings.split_by_team_members,
        goal_mode=settings.goal_mode,
        filters=dict(settings.filters),
        recurrence=settings.recurrence,
        recurring_until=settings.recurring_until,
        timezone=ctx.identity.timezone or ctx.config["GOALS_DEFAULT_TIMEZONE"],
        created_by=ctx.identity.user_id,
    )
    set_shortfall_policy(ctx, goal, data)
    goal.intervals = []
    with tracked_write(ctx, goal, "create"):
        rebuild(ctx, goal, settings)
        recompute_totals(goal)  # the derived amounts are checked before the first flush
        check_bounds(goal)
        ctx.session.add(goal)
        ctx.session.flush()
        record_event(ctx, goal, "goal", None, "created", "create")
    return goal


def goal_settings(goal: Goal) -> GoalSettings:
    return GoalSettings(
        category=Category(goal.category),
        metric=goal.metric,
        start_date=goal.start_date,
        end_date=goal.end_date,
        aim=None if goal.is_activity else goal.aim,
        stretch_aim=goal.stretch_aim,
        team_id=goal.team_id,
        split_into_subperiods=goal.split_into_subperiods,
        split_by_team_members=goal.split_by_team_members,
        goal_mode=goal.goal_mode,
        daily_target=goal.daily_target,
        filters=goal.filters or {},
        recurrence=goal.recurrence,
        recurring_until=goal.recurring_until,
    )


def update_goal(ctx: Context, goal: Goal, data: Mapping[str, Any]) -> Goal:
    """Apply a partial change. Structure changes rebuild intervals; dropping non-zero values,
    or pushing members' allocations above a lowered aim, needs ``ctx.confirm`` (else 409)."""
    if "category" in data and data["category"] != goal.category:
        raise ValidationFailed({"category": ["The category cannot be changed after creation."]})
    current = goal_settings(goal)
    dates, date_errors = _dates_or_placeholder(
        data, ctx.today, current=(goal.start_date, goal.end_date)
    )
    merged: dict[str, Any] = {
        **{name: getattr(current, name) for name in GoalSettings.__dataclass_fields__},
        "category": goal.category,
        **{k: v for k, v in data.items() if k not in ("period", "start_date", "end_date")},
    }
    if goal.is_activity:
        merged["aim"] = data.get("aim")  # read-only: only an explicit value is an error
        merged.setdefault("daily_target", None)
        if "daily_target" not in data:
            merged["daily_target"] = None
    settings = _settings(merged, dates)
    if settings.team_id != current.team_id:
        # Authorized against the goal as it is (load_goal) and as it will be: a manager may not
        # move a goal to a team they cannot write, nor make it organization-wide.
        ctx.require("update", replace(goal_target(goal), team_id=settings.team_id))
    _validate(
        ctx,
        settings,
        check_team=settings.team_id != current.team_id,
        creating=False,
        current=current,
        date_errors=date_errors,
    )
    if settings.recurrence and not current.recurrence and _has_clone(ctx, goal):
        raise ValidationFailed(
            {
                "recurrence": [
                    "This goal was already cloned: only the latest goal of a series recurs; "
                    "set the recurrence on its latest clone."
                ]
            }
        )
    if "metric" in data and not goal.is_activity:
        _check_metric_change(goal, settings.metric or goal.metric)

    structure_changed = any(
        getattr(settings, name) != getattr(current, name) for name in STRUCTURE_FIELDS
    )
    set_shortfall_policy(ctx, goal, data)
    with tracked_write(ctx, goal, "rebuild" if structure_changed else "manual"):
        old_aim = goal.aim
        goal.description = data.get("description", goal.description)
        goal.metric = settings.metric or goal.metric
        goal.stretch_aim = settings.stretch_aim
        goal.filters = dict(settings.filters)
        goal.recurrence = settings.recurrence
        goal.recurring_until = settings.recurring_until
        dropped: list[Dropped] = []
        if structure_changed:
            goal.start_date, goal.end_date = settings.start_date, settings.end_date
            goal.team_id = settings.team_id
            goal.split_into_subperiods = settings.split_into_subperiods
            goal.split_by_team_members = settings.split_by_team_members
            mode_changed = settings.goal_mode != goal.goal_mode
            goal.goal_mode = settings.goal_mode
            if not goal.is_activity and settings.aim is not None:
                goal.aim = settings.aim
            dropped = rebuild(ctx, goal, settings, reset_values=mode_changed)
        if not goal.is_activity and settings.aim is not None and settings.aim != old_aim:
            goal.aim = settings.aim
            _spread_aim(goal)
        if goal.is_activity and settings.daily_target is not None:
            _apply_daily_target(goal, settings.daily_target)
        if dropped and not ctx.confirm:
            raise Conflict(
                "This change would remove non-zero aims or targets; "
                "send it again with confirm=true to apply it.",
                extra={"dropped": [d.as_json(goal.places) for d in dropped]},
            )
    return goal


def _has_clone(ctx: Context, goal: Goal) -> bool:
    clone = sa.select(Goal.id).where(Goal.source_goal_id == goal.id).limit(1)
    return ctx.session.scalar(clone) is not None


def _check_metric_change(goal: Goal, metric: str) -> None:
    allowed = places(metric)
    values = (
        [goal.aim, goal.stretch_aim]
        + [i.aim for i in goal.intervals]
        + [a.target for i in goal.intervals for a in i.allocations]
    )
    if any(v is not None and check_places(v, allowed) for v in values):
        raise ValidationFailed(
            {
                "metric": [
                    f"Existing aims or targets have more than {allowed} decimal places for {metric}."
                ]
            }
        )


def _spread_aim(goal: Goal) -> None:
    """A new goal aim is spread over the intervals by the equal-split rule (as at creation)."""
    parts = equal_split(goal.aim, len(goal.intervals), step(goal.metric))
    for interval, aim in zip(goal.intervals, parts, strict=True):
        interval.aim = aim


def _apply_daily_target(goal: Goal, daily_target: Decimal) -> None:
    """A goal-level daily target goes to every interval, or every member when split."""
    for interval in goal.intervals:
        if interval.allocations:
            for allocation in interval.allocations:
                allocation.daily_target = daily_target
        else:
            interval.daily_target = daily_target


def delete_goal(ctx: Context, goal: Goal) -> None:
    """Soft delete: the goal disappears from every read but stays, with its history."""
    goal.deleted_at = datetime.now(UTC)
    goal.deleted_by = ctx.identity.user_id
    record_event(ctx, goal, "goal", "active", "deleted", "delete")


def list_goals(
    ctx: Context,
    *,
    category: str | None = None,
    team_id: str | None = None,
    active_on: date | None = None,
) -> list[Goal]:
    """The caller's organization's goals that ``goals_authorize`` lets them read."""
    query = sa.select(Goal).where(
        Goal.organization_id == ctx.organization_id, Goal.deleted_at.is_(None)
    )
    if category is not None:
        query = query.where(Goal.category == category)
    if team_id is not None:
        query = query.where(Goal.team_id == team_id)
    if active_on is not None:
        query = query.where(Goal.start_date <= active_on, Goal.end_date >= active_on)
    # The intervals in one statement: every listed goal dumps its intervals_total.
    query = query.order_by(Goal.start_date.desc(), Goal.id.desc()).options(
        orm.selectinload(Goal.intervals)
    )
    goals = ctx.session.scalars(query).all()
    return [goal for goal in goals if ctx.allowed("read", goal_target(goal))]
