"""Interval aims, members' allocations, distribution, interval copy and the exceed cascade
(SPEC §3 "Intervals", "Activity goals", "Distribution to team members", "Exceeding the goal").

Every write goes through :func:`tracked_write`, which checks the exceed rule, applies the cascade
when confirmed and records the history, so no operation can skip either.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from ..domain.distribution import (
    distribute_copy,
    distribute_equal,
    distribute_proportional,
)
from ..domain.memberships import counted_spans
from ..domain.periods import Period
from ..domain.rules import MAX_VALUE, Category, GoalMode, check_places, places, step
from ..exceptions import (
    Conflict,
    MetricSourceError,
    MetricSourceTimeout,
    NotFound,
    ValidationFailed,
)
from ..models import Allocation, Goal, Interval, freeze_originals
from ..types import ActualsQuery, ActualsResult, Filters
from . import bulk
from .actuals import FAILED, TIMEOUT, ask_sources, timeout_seconds
from .calendars import apply_member_calendars
from .context import Context
from .history import Snapshot, record_changes, snapshot
from .structure import members_on, recompute_totals

logger = logging.getLogger("flask_wiseparts_goals")

ZERO = Decimal(0)


def _fmt(value: Decimal, places_: int) -> str:
    return format(value.quantize(Decimal(1).scaleb(-places_)), "f")


def enforce_aims(
    ctx: Context,
    goal: Goal,
    intervals: Sequence[Interval] | None = None,
    *,
    before: Mapping[int, Decimal] | None = None,
    goal_before: tuple[Decimal, Decimal | None] | None = None,
) -> bool:
    """Refuse (409) or, with ``ctx.confirm``, cascade allocations that exceed their interval aim
    and interval aims that exceed the goal aim (SPEC §3 "Exceeding the goal").

    Cascade: interval aim := its allocation total, then goal aim := the sum of interval aims,
    and a stretch aim below the new aim rises with it (SPEC §6: the goal stays valid).
    Under-allocation is allowed. Activity goals derive their aims, so they never exceed.

    The 409 states, for every interval whose aim the write (or its cascade) would change, the
    current and the proposed aim, and the same for the goal (SPEC §6 "A 409 says what would
    change").

    :param intervals: the intervals whose allocations changed (default: all); the others held
        the rule before the write and keep their aims.
    :param before: each interval's aim before the write (by ``id(interval)``), so that aims the
        write set directly (an interval copy) are reported from their current value.
    :param goal_before: the goal's aim and stretch aim before the write (a PATCH may have set
        them already): the 409's "before" of the goal is what is stored, never the request's.
    :return: whether a (confirmed) cascade changed aims.

    The 409's ``changes`` lists every stored value that the confirmed write would change, each
    with its ``before`` (stored now) and ``after`` (once confirmed): interval aims, the goal
    aim, the stretch aim. ``intervals_total`` and ``unassigned`` (goal aim − Σ interval aims)
    are given before and after too. ``proposed_total`` is Σ interval aims after the cascade,
    not the goal aim: the goal aim only rises, to ``proposed_aim``, when that sum exceeds it
    (the cause of the page once showing "90,000 → 60,000" and then "becomes 90,000").
    """
    if goal.category == Category.ACTIVITIES:
        return False
    places_ = goal.places
    before = before or {}
    aim_before, stretch_before = goal_before or (goal.aim, goal.stretch_aim)
    interval_changes: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    proposed_aims = []
    scope = goal.intervals if intervals is None else intervals
    for interval in goal.intervals:
        allocated = None
        proposed = interval.aim
        if interval in scope and interval.allocations:
            allocated = sum((a.target for a in interval.allocations), ZERO)
            proposed = max(interval.aim, allocated)
        current = before.get(id(interval), interval.aim)
        if proposed != current:
            change = {
                "interval_id": interval.id,
                "start_date": interval.start_date.isoformat(),
                "end_date": interval.end_date.isoformat(),
                "current_aim": _fmt(current, places_),
                "proposed_aim": _fmt(proposed, places_),
            }
            if allocated is not None:
                change["allocated"] = _fmt(allocated, places_)
            interval_changes.append(change)
            changes.append(
                {
                    "field": "aim",
                    "interval_id": interval.id,
                    "start_date": change["start_date"],
                    "end_date": change["end_date"],
                    "before": change["current_aim"],
                    "after": change["proposed_aim"],
                }
            )
        proposed_aims.append(proposed)
    proposed_total = sum(proposed_aims, ZERO)
    goal_proposed = max(goal.aim, proposed_total)
    cascades = goal_proposed != goal.aim or any(
        proposed != interval.aim
        for interval, proposed in zip(goal.intervals, proposed_aims, strict=True)
    )
    if not cascades:
        return False
    stretch = goal.stretch_aim
    proposed_stretch = goal_proposed if stretch is not None and stretch < goal_proposed else stretch
    if not ctx.confirm:
        for name, old, new in (
            ("aim", aim_before, goal_proposed),
            ("stretch_aim", stretch_before, proposed_stretch),
        ):
            if old != new:
                changes.append(
                    {
                        "field": name,
                        "interval_id": None,
                        "start_date": goal.start_date.isoformat(),
                        "end_date": goal.end_date.isoformat(),
                        "before": None if old is None else _fmt(old, places_),
                        "after": None if new is None else _fmt(new, places_),
                    }
                )
        total_before = sum(
            (before.get(id(interval), interval.aim) for interval in goal.intervals), ZERO
        )
        extra: dict[str, Any] = {
            # The aim the request leaves before any cascade (documented so since SPEC §6);
            # ``changes`` has the stored one.
            "current_aim": _fmt(goal.aim, places_),
            "proposed_total": _fmt(proposed_total, places_),
            "proposed_aim": _fmt(goal_proposed, places_),
            "intervals": interval_changes,
            "changes": changes,
            "intervals_total": {
                "before": _fmt(total_before, places_),
                "after": _fmt(proposed_total, places_),
            },
            "unassigned": {
                "before": _fmt(aim_before - total_before, places_),
                "after": _fmt(goal_proposed - proposed_total, places_),
            },
        }
        if stretch is not None:
            extra["current_stretch_aim"] = _fmt(stretch, places_)
            extra["proposed_stretch_aim"] = _fmt(proposed_stretch or ZERO, places_)
        raise Conflict(
            "This would exceed the aim. Send the same request with confirm=true to raise the "
            "interval aims to their allocations and the goal aim to the sum of its intervals"
            + (" (and the stretch aim with it)." if proposed_stretch != stretch else "."),
            extra=extra,
        )
    for interval, proposed in zip(goal.intervals, proposed_aims, strict=True):
        interval.aim = proposed
    goal.aim = goal_proposed
    goal.stretch_aim = proposed_stretch
    return True


def check_bounds(
    goal: Goal,
    intervals: Sequence[Interval] | None = None,
    field_name: str | None = None,
    *,
    entries: Mapping[str, str] | None = None,
) -> None:
    """Every derived amount fits its column (SPEC §6 "Bounded numbers"): a daily target times
    business days, a sum of allocations or a cascade beyond :data:`MAX_VALUE` is a 422 naming
    the input at fault (default: ``daily_target`` on per-business-day goals, else ``aim``),
    before anything is flushed (PostgreSQL would refuse the row with a 500; SQLite would
    store it). Every value out of range is listed, not the first (SPEC §14).

    :param entries: a bulk set of members' values: user id → the exact input path of that
        member's entry (``allocations.0.daily_target``). A member's derived target is told at
        its own entry; a total (an interval's or the goal's aim) at every entry of the request.
    """
    field_name = field_name or ("daily_target" if _per_day(goal) else "aim")
    entries = entries or {}
    scope = goal.intervals if intervals is None else intervals
    totals: list[tuple[str, Decimal | None]] = [
        ("the goal's aim", goal.aim),
        ("the goal's stretch aim", goal.stretch_aim),
    ]
    members: list[tuple[str, Decimal | None, str | None]] = []
    for interval in scope:
        totals.append((f"the aim of {interval.start_date:%Y-%m}", interval.aim))
        totals.append((f"the daily target of {interval.start_date:%Y-%m}", interval.daily_target))
        for allocation in interval.allocations:
            members.append(
                (
                    f"the target of {allocation.user_id}",
                    allocation.target,
                    entries.get(allocation.user_id),
                )
            )
    errors: dict[str, Any] = {}
    culprits: set[str] = set()

    def tell(path: str, what: str, value: Decimal) -> None:
        node = errors
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node.setdefault(leaf, []).append(
            f"This would make {what} {_fmt(value, goal.places)}, above the maximum {MAX_VALUE}."
        )

    # A member's own value first: its entry is the culprit; a total is then told there (or,
    # when no single entry is at fault, at every entry of the request, else at field_name).
    for what, value, path in members:
        if value is not None and abs(value) > MAX_VALUE and path is not None:
            tell(path, what, value)
            culprits.add(path)
    everyone = sorted(culprits) or sorted(set(entries.values())) or [field_name]
    for what, value, path in members:
        if value is not None and abs(value) > MAX_VALUE and path is None:
            for target in everyone:
                tell(target, what, value)
    for what, value in totals:
        if value is not None and abs(value) > MAX_VALUE:
            for target in everyone:
                tell(target, what, value)
    if errors:
        raise ValidationFailed(errors)


@contextmanager
def tracked_write(
    ctx: Context,
    goal: Goal,
    operation: str,
    *,
    intervals: Sequence[Interval] | None = None,
    field_name: str | None = None,
    entries: Mapping[str, str] | None = None,
) -> Iterator[None]:
    """Around a change of aims or targets: derive totals, check (or cascade) the exceed rule,
    check every derived amount fits its column, then record history — the change under
    ``operation``, the cascade under ``"cascade"``.

    :param intervals: when the write touches only these intervals (and goal-level values),
        the other intervals' allocations are not read at all.
    :param field_name: the input a 422 names when a derived amount is out of range (default:
        ``daily_target`` on per-business-day goals, else ``aim``).
    :param entries: a bulk set's exact input paths per member (see :func:`check_bounds`).
    """
    scope = None if intervals is None else list(intervals)
    freeze_originals(goal.intervals if scope is None else scope, ctx.today)
    before = snapshot(goal, scope)
    aims_before = {id(interval): interval.aim for interval in goal.intervals}
    goal_before = (goal.aim, goal.stretch_aim)
    yield
    apply_member_calendars(ctx, goal, scope)
    recompute_totals(goal, scope)
    freeze_originals(goal.intervals if scope is None else scope, ctx.today)  # new intervals
    changed = snapshot(goal, scope)
    cascaded = enforce_aims(ctx, goal, scope, before=aims_before, goal_before=goal_before)
    check_bounds(goal, scope, field_name, entries=entries)
    update_allocations(ctx, goal.intervals if scope is None else scope, before)
    ctx.session.flush()
    record_changes(ctx, goal, before, operation, after=changed)
    if cascaded:  # a cascade changes aims only: nothing else to compare
        record_changes(ctx, goal, changed, "cascade", after=snapshot(goal, scope))


_ALLOCATION = cast(sa.Table, Allocation.__table__)


def update_allocations(ctx: Context, intervals: Sequence[Interval], before: Snapshot) -> int:
    """Write the targets of stored allocations that differ from the ``before`` snapshot with
    one UPDATE by primary key (:func:`.bulk.update_by_id`), and mark those values stored in the
    ORM, so that its flush writes only the rest (new allocations, interval and goal aims)
    instead of going through its unit of work object by object. Returns how many rows were
    updated."""
    rows = []
    for interval in intervals:
        start, end = interval.start_date, interval.end_date
        for allocation in interval.allocations:
            if allocation.id is None:  # new: the flush inserts it
                continue
            user_id = allocation.user_id
            target, daily = allocation.target, allocation.daily_target
            if (
                before.get(("target", start, end, user_id)) == target
                and before.get(("daily_target", start, end, user_id)) == daily
            ):
                continue
            rows.append({"id": allocation.id, "target": target, "daily_target": daily})
            pending = instance_state(allocation).committed_state
            if "target" in pending or "daily_target" in pending:  # else set by _set_value
                set_committed_value(allocation, "target", target)
                set_committed_value(allocation, "daily_target", daily)
    # The session's pending changes (new members' allocations) are flushed after this one.
    with ctx.session.no_autoflush:
        bulk.update_by_id(ctx.session, _ALLOCATION, rows, ("target", "daily_target"))
    return len(rows)


def find_interval(goal: Goal, interval_id: int) -> Interval:
    for interval in goal.intervals:
        if interval.id == interval_id:
            return interval
    raise NotFound(f"Interval {interval_id} not found in goal {goal.id}.")


def _per_day(goal: Goal) -> bool:
    return goal.goal_mode == GoalMode.PER_BUSINESS_DAY


def _value_places(goal: Goal) -> int:
    """Decimal places of a directly entered value: daily targets 2, others per metric."""
    return 2 if _per_day(goal) else places(goal.metric)


def _check_value(errors: dict[str, Any], path: str, value: Decimal, goal: Goal) -> None:
    if problem := check_places(value, _value_places(goal)):
        errors[path] = [problem]


# -- interval aims ---------------------------------------------------------------------------


def update_interval(ctx: Context, goal: Goal, interval: Interval, data: Mapping[str, Any]) -> None:
    """Set an interval's aim (sales, orders; activities in total mode without member split) or
    daily target (activities per business day without member split)."""
    errors: dict[str, Any] = {}
    aim, daily = data.get("aim"), data.get("daily_target")
    if goal.is_activity and goal.split_by_team_members:
        for name in ("aim", "daily_target"):
            if name in data:
                errors[name] = [
                    "This goal is split by team members: its interval total is the sum of the "
                    "members' targets; set them through the allocations."
                ]
    elif _per_day(goal):
        if aim is not None:
            errors["aim"] = ["Per business day: set daily_target; the aim is computed."]
        if daily is None:
            errors["daily_target"] = ["Missing data for required field."]
    else:
        if daily is not None:
            errors["daily_target"] = ["Daily targets apply to per-business-day activity goals."]
        if aim is None:
            errors["aim"] = ["Missing data for required field."]
    if aim is not None and "aim" not in errors:
        _check_value(errors, "aim", aim, goal)
    if daily is not None and "daily_target" not in errors:
        _check_value(errors, "daily_target", daily, goal)
    if errors:
        raise ValidationFailed(errors)
    with tracked_write(ctx, goal, "manual", intervals=[interval]):
        if _per_day(goal):
            interval.daily_target = daily
        else:
            assert aim is not None  # checked above
            interval.aim = aim


# -- allocations -----------------------------------------------------------------------------


def _require_split(goal: Goal) -> None:
    if not goal.split_by_team_members:
        raise ValidationFailed(
            {"allocations": ["This goal is not split by team members: it has no allocations."]}
        )


def current_allocations(
    ctx: Context, goal: Goal, interval: Interval, *, attach: bool = False
) -> list[Allocation]:
    """The interval's allocations in team order, with a zero allocation for anyone who joined
    the team since the interval was built (members on the interval's start).

    :param attach: add those zero allocations to the interval (writes); reads leave the
        session untouched.
    """
    _require_split(goal)
    assert goal.team_id is not None
    members = members_on(ctx, goal.team_id, interval.start_date)
    allocations = list(interval.allocations)
    known = {allocation.user_id for allocation in allocations}
    for user_id in members:
        if user_id not in known:
            allocation = Allocation(
                user_id=user_id,
                position=members.index(user_id),
                target=ZERO,
                daily_target=ZERO if _per_day(goal) else None,
                goal=goal,
            )
            if attach:
                interval.allocations.append(allocation)
            allocations.append(allocation)
    if [a.user_id for a in allocations] == list(members):  # already in team order
        return allocations
    order = {user_id: position for position, user_id in enumerate(members)}
    return sorted(allocations, key=lambda a: (order.get(a.user_id, len(order)), a.position))


def _members_or_422(
    ctx: Context, goal: Goal, interval: Interval, user_ids: Sequence[str], path: str
) -> tuple[str, ...]:
    assert goal.team_id is not None
    members = members_on(ctx, goal.team_id, interval.start_date)
    strangers = [user_id for user_id in user_ids if user_id not in members]
    if strangers:
        raise ValidationFailed(
            {
                path: [
                    f"Not a member of team {goal.team_id} on {interval.start_date}: "
                    f"{', '.join(strangers)}."
                ]
            }
        )
    return members


def set_allocations(
    ctx: Context, goal: Goal, interval: Interval, entries: Sequence[Mapping[str, Any]]
) -> None:
    """Bulk set of members' targets (or daily targets in per-day mode). Members not listed keep
    their values."""
    _require_split(goal)
    errors: dict[str, Any] = {}
    value_field = "daily_target" if _per_day(goal) else "target"
    other_field = "target" if _per_day(goal) else "daily_target"
    for index, entry in enumerate(entries):
        entry_errors: dict[str, list[str]] = {}
        if entry.get(other_field) is not None:
            entry_errors[other_field] = [
                "Per business day: set daily_target."
                if _per_day(goal)
                else "daily_target applies to per-business-day activity goals."
            ]
        value = entry.get(value_field)
        if value is None:
            entry_errors[value_field] = ["Missing data for required field."]
        elif problem := check_places(value, _value_places(goal)):
            entry_errors[value_field] = [problem]
        if entry_errors:
            errors[str(index)] = entry_errors
    if errors:
        raise ValidationFailed({"allocations": errors})
    _members_or_422(ctx, goal, interval, [e["user_id"] for e in entries], "allocations")
    by_user = {a.user_id: a for a in current_allocations(ctx, goal, interval, attach=True)}
    paths = {
        entry["user_id"]: f"allocations.{index}.{value_field}"
        for index, entry in enumerate(entries)
    }
    with tracked_write(ctx, goal, "manual", intervals=[interval], entries=paths):
        for entry in entries:
            allocation = by_user[entry["user_id"]]
            if _per_day(goal):
                allocation.daily_target = entry["daily_target"]
            else:
                allocation.target = entry["target"]


@dataclass
class DistributeOutcome:
    strategy: str
    fell_back_to_equal: bool = False
    notes: list[str] = field(default_factory=list)


def _value_of(goal: Goal, allocation: Allocation) -> Decimal:
    if _per_day(goal):
        return allocation.daily_target or ZERO
    return allocation.target


def distribute(
    ctx: Context, goal: Goal, interval: Interval, request: Mapping[str, Any]
) -> DistributeOutcome:
    """Equal, proportional or copy distribution of an interval over its members."""
    _require_split(goal)
    strategy = request["strategy"]
    locked_ids = list(request.get("locked_user_ids") or ())
    allocations = current_allocations(ctx, goal, interval, attach=True)
    members = tuple(a.user_id for a in allocations)
    by_user = {a.user_id: a for a in allocations}
    _members_or_422(ctx, goal, interval, locked_ids, "locked_user_ids")
    outcome = DistributeOutcome(strategy=strategy)

    if strategy == "copy":
        source = request.get("source_user_id")
        if source is None:
            raise ValidationFailed({"source_user_id": ["Missing data for required field."]})
        _members_or_422(ctx, goal, interval, [source], "source_user_id")
        result = distribute_copy(members, _value_of(goal, by_user[source]))
        operation = "copy"
    else:
        if goal.is_activity:
            raise ValidationFailed(
                {
                    "strategy": [
                        "Activity targets are set per member (or copied): an activity goal has "
                        "no fixed total to split."
                    ]
                }
            )
        if request.get("source_user_id") is not None:
            raise ValidationFailed({"source_user_id": ["Only the copy strategy takes a source."]})
        locked = {user_id: by_user[user_id].target for user_id in locked_ids}
        unit = step(goal.metric)
        if strategy == "equal":
            result = distribute_equal(interval.aim, members, unit, locked)
        else:
            weights = _weights(
                ctx, goal, interval, members, request.get("basis") or "targets", outcome
            )
            result = distribute_proportional(interval.aim, members, weights, unit, locked)
            outcome.fell_back_to_equal = result.fell_back_to_equal
        operation = "distribute"
    with tracked_write(ctx, goal, operation, intervals=[interval], field_name="strategy"):
        for user_id, value in result.values.items():
            _set_value(goal, by_user[user_id], value)
    return outcome


def _set_value(goal: Goal, allocation: Allocation, value: Decimal) -> None:
    """Inside :func:`tracked_write` only: a stored allocation's new value is set without the
    ORM's change tracking (a thousand members would cost the flush a thousand objects to
    inspect); :func:`update_allocations` writes it with the others in one statement."""
    name = "daily_target" if _per_day(goal) else "target"
    if allocation.id is None:
        setattr(allocation, name, value)
    else:
        set_committed_value(allocation, name, value)


def _weights(
    ctx: Context,
    goal: Goal,
    interval: Interval,
    members: Sequence[str],
    basis: str,
    outcome: DistributeOutcome,
) -> dict[str, Decimal]:
    """Each member's value in the preceding period: allocations (``targets``) or actuals."""
    if basis == "actuals":
        period = interval_period(interval).preceding()
        with ctx.session.no_autoflush:  # the host reads its tables in this session
            spans = _counted_spans(ctx, goal, period, members)
        queries = [
            ActualsQuery(
                key=f"weights:{index}",
                metric=goal.metric,
                start=span.start,
                end=span.end,
                user_ids=users,
                team_id=goal.team_id,
                goal_id=goal.id,
                interval_id=interval.id,
                filters=Filters.from_json(goal.filters),
            )
            for index, (span, users) in enumerate(spans)
        ]
        if not queries:
            outcome.notes.append("No member belonged to the team in the preceding period.")
            return {}
        answer = ask_metric_source(ctx, goal, queries, "distribute by targets, or try again later")
        if answer is None:
            outcome.notes.append(f"No metric source answers the {goal.category} category.")
            return {}
        weights: dict[str, Decimal] = {}
        for query in queries:
            result = answer.get(query.key)
            if result is None:
                continue
            if result.error is not None:
                outcome.notes.append(
                    f"The metric source could not measure the weights: {result.error}"
                )
                return {}
            for user_id in query.user_ids or ():
                weights[user_id] = weights.get(user_id, ZERO) + result.per_user.get(user_id, ZERO)
        return weights
    previous = preceding_interval(ctx, goal, interval)
    if previous is None:
        outcome.notes.append("No preceding interval: nothing to weigh by.")
        return {}
    # Read as rows: the preceding interval's thousand allocations are not changed by this
    # write, so building ORM objects for them (and expiring them at commit) would be waste.
    rows = ctx.session.execute(
        sa.select(_ALLOCATION.c.user_id, _ALLOCATION.c.target).where(
            _ALLOCATION.c.interval_id == previous.id
        )
    )
    return {user_id: target for user_id, target in rows}


def _counted_spans(
    ctx: Context, goal: Goal, period: Period, members: Sequence[str]
) -> list[tuple[Period, tuple[str, ...]]]:
    """Who of ``members`` counts when in ``period``, by the tracking rule (docs/tracking.md):
    their days of membership (``goals_team_memberships``), or without that hook the members on
    the period's last day, for the whole period."""
    memberships = None
    if goal.team_id is not None:
        memberships = ctx.hooks.team_memberships(
            ctx.organization_id, goal.team_id, period.start, period.end
        )
    if memberships is None:
        on_last_day = set(
            (ctx.hooks.team_members(ctx.organization_id, goal.team_id, period.end) or ())
            if goal.team_id is not None
            else members
        )
        users = tuple(user for user in members if user in on_last_day)
        return [(period, users)] if users else []
    wanted = set(members)
    return [
        (span, kept)
        for span, users in counted_spans(memberships, period)
        for kept in [tuple(user for user in users if user in wanted)]
        if kept
    ]


def ask_metric_source(
    ctx: Context, goal: Goal, queries: Sequence[ActualsQuery], advice: str
) -> dict[str, ActualsResult] | None:
    """One ``goals_collect_actuals`` call for a write that weighs by actuals; ``None`` when no
    source answers the category. A failing source is a 502 (logged), one that does not answer
    within ``GOALS_ACTUALS_TIMEOUT_SECONDS`` a 504; both end in ``advice``. Nothing is written
    then: the view's transaction rolls back."""
    asked = ask_sources(ctx, {goal.category: queries})[goal.category]
    if asked.reason == FAILED:
        raise MetricSourceError(
            f"The metric source of the {goal.category} category failed; {advice}."
        )
    if asked.reason == TIMEOUT:
        raise MetricSourceTimeout(
            f"The metric source of the {goal.category} category did not answer within "
            f"{timeout_seconds(ctx.config):g} s; {advice}."
        )
    return asked.results


def interval_period(interval: Interval) -> Period:
    return Period(interval.start_date, interval.end_date)


def preceding_interval(ctx: Context, goal: Goal, interval: Interval) -> Interval | None:
    """The interval before this one in the goal, or for a recurring clone's first interval the
    previous goal's last interval."""
    earlier = [i for i in goal.intervals if i.end_date < interval.start_date]
    if earlier:
        return earlier[-1]
    if goal.source_goal_id is not None:
        source = ctx.session.get(Goal, goal.source_goal_id)
        if source is not None and source.intervals:
            return source.intervals[-1]
    return None


def copy_interval(ctx: Context, goal: Goal, interval: Interval) -> None:
    """Copy this interval's values to every other interval: the members' targets (or daily
    targets), and the interval's own aim or daily target where people set it. Per-day effective
    totals follow each interval's business days; for sales and orders the exceed rule applies."""
    source = {a.user_id: _value_of(goal, a) for a in interval.allocations}
    others = [other for other in goal.intervals if other is not interval]
    with tracked_write(ctx, goal, "copy"):
        for other in others:
            if goal.split_by_team_members:
                for allocation in current_allocations(ctx, goal, other, attach=True):
                    _set_value(goal, allocation, source.get(allocation.user_id, ZERO))
            if goal.is_activity and goal.split_by_team_members:
                continue
            if _per_day(goal):
                other.daily_target = interval.daily_target
            else:
                other.aim = interval.aim
