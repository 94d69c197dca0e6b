"""Recurrence plans: when a recurring goal is cloned, and which values its clone starts with
(SPEC §3 "Recurrence").

Two questions, both answered from plain values:

* :func:`next_step` — given a goal's recurrence, period, ``recurring_until`` and today: clone it
  now, end its recurrence now, or wait.
* :func:`carry_values` — given the values of the goal's intervals (per member, in team order)
  and the members of the clone's intervals: the clone's values, the members dropped, and the new
  members who got a zero target and need the creator's review.

Values are copied position-wise: the clone's interval *k* starts from the source's interval *k*.
A recurring goal covers exactly one whole period and both goals share the split flag, so both
have the same number of intervals. Should they not (a goal edited by hand, or a future split
rule), a clone interval beyond the source's last copies the last one — the most recent values
are the best guess for the months that follow — and source intervals beyond the clone's last are
not copied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from .periods import Period, Recurrence, next_period

ZERO = Decimal(0)


class Step(StrEnum):
    """What the recurrence job does with a recurring goal today."""

    #: The next period has started: create the clone (the flag moves to it).
    CLONE = "clone"
    #: The next period starts after ``recurring_until``, which has passed: remove the flag.
    END = "end"
    #: Nothing yet: the goal's period (or its ``recurring_until``) has not ended.
    WAIT = "wait"


@dataclass(frozen=True)
class Decision:
    step: Step
    #: The period the clone covers (for ``END`` and ``WAIT`` too: the one that would follow).
    next_period: Period


def next_step(
    recurrence: Recurrence | str,
    period: Period,
    recurring_until: date | None,
    today: date,
) -> Decision:
    """Decide what happens to a recurring goal covering ``period`` on ``today``.

    * The next period starts after ``recurring_until``: no clone, ever. The flag is removed once
      ``recurring_until`` has passed ("when the end date passes"); until then the manager may
      still push the date back.
    * Otherwise the goal is cloned as soon as the next period has started (``today`` is in the
      goal's timezone). After downtime the caller clones the clone again: one period at a time.
    """
    following = next_period(recurrence, period)
    if recurring_until is not None and following.start > recurring_until:
        step = Step.END if today > recurring_until else Step.WAIT
    elif today >= following.start:
        step = Step.CLONE
    else:
        step = Step.WAIT
    return Decision(step, following)


def source_index(position: int, source_count: int) -> int | None:
    """Which source interval the clone's interval ``position`` copies (see the module docstring):
    the same position, else the source's last interval; ``None`` when the source has none."""
    if source_count == 0:
        return None
    return min(position, source_count - 1)


@dataclass(frozen=True)
class IntervalValues:
    """One interval's values: per member in team order, or the interval's own value.

    The value is the target in total mode and the daily target in per-business-day mode.

    :param members: member → value, in team order; empty when the goal is not split by members.
    :param value: the interval's own value (goals not split by members); ``None`` when split.
    """

    members: Mapping[str, Decimal]
    value: Decimal | None = None


@dataclass(frozen=True)
class IntervalPlan:
    """The clone's values for one interval.

    :param members: member → value for every member of the clone's interval, in team order.
    :param value: the interval's own value (not split by members), else ``None``.
    :param source_index: the source interval copied (``None``: the source had no intervals).
    :param dropped: members of the source interval no longer in the team.
    :param joined: members new to the interval, whatever value they got.
    :param zeroed: new members given 0 because the source's members had different values (or
        there was no value to copy): the creator reviews them.
    """

    members: Mapping[str, Decimal]
    value: Decimal | None
    source_index: int | None
    dropped: tuple[str, ...] = ()
    joined: tuple[str, ...] = ()
    zeroed: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClonePlan:
    intervals: tuple[IntervalPlan, ...]

    @property
    def zeroed(self) -> tuple[str, ...]:
        """Every new member who got a zero target, once, in order of first appearance."""
        return _unique(user for interval in self.intervals for user in interval.zeroed)

    @property
    def joined(self) -> tuple[str, ...]:
        return _unique(user for interval in self.intervals for user in interval.joined)

    @property
    def dropped(self) -> tuple[str, ...]:
        return _unique(user for interval in self.intervals for user in interval.dropped)

    @property
    def needs_review(self) -> bool:
        return bool(self.zeroed)


def _unique(users: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(users))


def common_value(values: Iterable[Decimal]) -> Decimal | None:
    """The value every member had, or ``None`` when they differ or there are none.

    Decimals compare by value: ``5`` and ``5.00`` are the same target.
    """
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


def carry_interval(source: IntervalValues | None, members: Sequence[str]) -> IntervalPlan:
    """The clone's values for one interval, from the source interval it copies.

    Members still in the team keep their value; departed members are dropped. New members get
    the value every member of the source interval had (departed ones included: they are the
    "existing members" whose targets the manager chose); if those values differ, or there is no
    value to copy, new members get 0 and are listed in ``zeroed``.
    """
    if source is None:
        source = IntervalValues(members={})
    old = source.members
    shared = common_value(old.values())
    values: dict[str, Decimal] = {}
    joined: list[str] = []
    zeroed: list[str] = []
    for user in members:
        if user in old:
            values[user] = old[user]
            continue
        joined.append(user)
        if shared is None:
            values[user] = ZERO
            zeroed.append(user)
        else:
            values[user] = shared
    dropped = tuple(user for user in old if user not in values)
    return IntervalPlan(
        members=values,
        value=source.value,
        source_index=None,
        dropped=dropped,
        joined=tuple(joined),
        zeroed=tuple(zeroed),
    )


def carry_values(
    source: Sequence[IntervalValues], clone_members: Sequence[Sequence[str]]
) -> ClonePlan:
    """The clone's values, interval by interval (``clone_members[k]``: the members of the
    clone's interval *k*, in team order; an empty sequence when not split by members)."""
    plans = []
    for position, members in enumerate(clone_members):
        index = source_index(position, len(source))
        plan = carry_interval(None if index is None else source[index], members)
        plans.append(replace(plan, source_index=index))
    return ClonePlan(tuple(plans))
