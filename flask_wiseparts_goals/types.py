"""Value objects exchanged with the host through hooks.

They are plain frozen dataclasses: a host plugin may return them, or a mapping with the same keys
(``Identity.from_value`` accepts both), so hosts do not have to import anything to answer a hook.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

ZERO = Decimal(0)


@dataclass(frozen=True)
class Identity:
    """Who is calling.

    :param user_id: the host's opaque user id.
    :param organization_id: the tenant; every read and write is confined to it.
    :param timezone: IANA name used to resolve "today" (period shortcuts, ``as_of`` defaults);
        ``None``: ``GOALS_DEFAULT_TIMEZONE``.
    :param team_ids: the teams the user belongs to, used by the default ``goals_authorize``
        (a user reads the organization-wide goals and those of their teams). ``None`` means
        unknown: the default rule then lets the user read only organization-wide goals.
    :param roles: free-form role names for the host's own ``goals_authorize``.
    :param currency: ISO 4217 code of the organization's money (``"EUR"``), shown by the UI
        next to money figures; ``None``: ``GOALS_CURRENCY``.
    """

    user_id: str
    organization_id: str
    timezone: str | None = None
    team_ids: frozenset[str] | None = None
    roles: frozenset[str] = frozenset()
    currency: str | None = None

    @classmethod
    def from_value(cls, value: Identity | Mapping[str, Any]) -> Identity:
        if isinstance(value, Identity):
            return value
        data = dict(value)
        team_ids = data.get("team_ids")
        return cls(
            user_id=str(data["user_id"]),
            organization_id=str(data["organization_id"]),
            timezone=str(data["timezone"]) if data.get("timezone") else None,
            team_ids=None if team_ids is None else frozenset(str(t) for t in team_ids),
            roles=frozenset(str(r) for r in data.get("roles") or ()),
            currency=str(data["currency"]) if data.get("currency") else None,
        )


@dataclass(frozen=True)
class AuthTarget:
    """What an action applies to, passed to ``goals_authorize``.

    :param kind: ``"goal"``, ``"team"`` (a team dashboard) or ``"organization"`` (listing,
        creating, the caller's own dashboard).
    :param organization_id: the tenant of the target.
    :param team_id: the goal's or dashboard's team, ``None`` for organization-wide goals.
    :param goal_id: the goal's id (``None`` when creating or for non-goal targets).
    :param created_by: the goal's creator, when the target is a goal.
    :param category: the goal's category, when known.
    """

    kind: str
    organization_id: str
    team_id: str | None = None
    goal_id: int | None = None
    created_by: str | None = None
    category: str | None = None


#: The actions passed to ``goals_authorize``: reads, and the writes that hosts may tell apart.
ACTIONS = ("read", "create", "update", "delete", "allocate")


@dataclass(frozen=True)
class Filters:
    """A goal's filters, as a metric source receives them.

    Empty tuples mean "no restriction". Ids are the host's opaque strings.
    """

    brands_include: tuple[str, ...] = ()
    brands_exclude: tuple[str, ...] = ()
    brand_families_include: tuple[str, ...] = ()
    brand_families_exclude: tuple[str, ...] = ()
    customers_include: tuple[str, ...] = ()
    customers_exclude: tuple[str, ...] = ()
    customer_branches_include: tuple[str, ...] = ()
    customer_branches_exclude: tuple[str, ...] = ()
    wholesaler_branches: tuple[str, ...] = ()
    activity_types: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    verified_only: bool = False
    ordered_only: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Filters:
        """Build from the JSON shape stored on a goal (``{"brands": {"include": [...]}}``)."""
        data = data or {}
        values: dict[str, Any] = {}
        for name in ("brands", "brand_families", "customers", "customer_branches"):
            pair = data.get(name) or {}
            values[f"{name}_include"] = tuple(pair.get("include") or ())
            values[f"{name}_exclude"] = tuple(pair.get("exclude") or ())
        for name in ("wholesaler_branches", "activity_types", "channels"):
            values[name] = tuple(data.get(name) or ())
        values["verified_only"] = bool(data.get("verified_only", False))
        values["ordered_only"] = bool(data.get("ordered_only", False))
        return cls(**values)


@dataclass(frozen=True)
class ActualsQuery:
    """One question to a metric source: "how much <metric> in [start, end]?".

    :param key: opaque key; the source answers with a mapping keyed by it.
    :param goal_id: the goal asking, for logging and host-side scoping.
    :param interval_id: the interval asking, if any.
    :param team_id: the goal's team; a source may apply team-level scoping it knows about
        (in WiseParts, a team's warehouses).
    :param user_ids: the users to count; ``None`` means the whole organization.
    :param metric: ``net``, ``gross``, ``quantity``, ``margin`` or ``count``.
    :param start: first day counted, inclusive.
    :param end: last day counted, inclusive.
    :param filters: the goal's filters.
    :param group_by: a breakdown dimension (:data:`GROUP_BY_DIMENSIONS`: ``brand``,
        ``customer``...): answer ``ActualsResult.groups`` as well. ``None``: no breakdown.
    """

    key: str
    metric: str
    start: date
    end: date
    user_ids: tuple[str, ...] | None = None
    team_id: str | None = None
    goal_id: int | None = None
    interval_id: int | None = None
    filters: Filters = field(default_factory=Filters)
    group_by: str | None = None


@dataclass(frozen=True)
class ActualsResult:
    """A metric source's answer to one query.

    :param total: the value over every counted user (or the whole organization); ``None``
        only together with ``error``.
    :param per_user: the value of each counted user; users absent from it count 0.
    :param groups: when the query has a ``group_by``: the value per id of that dimension
        (``{"brand-1": Decimal("10.00"), ...}``); rows without a value of the dimension are
        under the key ``""``.
    :param error: this query could not be answered (e.g. ``"brand families are not
        recorded for orders"``): that goal's figures are ``null`` with this reason, every other
        query of the batch keeps its answer.
    """

    total: Decimal | None = ZERO
    per_user: Mapping[str, Decimal] = field(default_factory=dict)
    groups: Mapping[str, Decimal] | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        if self.error is not None and self.total is not None:
            object.__setattr__(self, "total", None)  # an error has no total

    @classmethod
    def from_value(cls, value: ActualsResult | Mapping[str, Any] | Decimal | int) -> ActualsResult:
        """Normalize a source's answer to one query: user ids (and group ids) become ``str``
        (:func:`host_id`), values ``Decimal``. An id that is neither ``str`` nor ``int`` is a
        :class:`HookAnswerError` naming ``goals_collect_actuals``."""
        hook = "goals_collect_actuals"
        if isinstance(value, (Decimal, int)):
            return cls(total=Decimal(value))
        if isinstance(value, ActualsResult):
            error, raw_total = value.error, value.total
            raw_per_user, raw_groups = value.per_user, value.groups
        else:
            error, raw_total = value.get("error"), value.get("total")
            raw_per_user, raw_groups = value.get("per_user") or {}, value.get("groups")
        if error is not None:
            return cls(total=None, error=str(error))
        per_user = _normalized(raw_per_user, hook)
        groups = None if raw_groups is None else _normalized(raw_groups, hook)
        total = _decimal(raw_total) if raw_total is not None else sum(per_user.values(), ZERO)
        return cls(total=total, per_user=per_user, groups=groups)


# -- Notifications (SPEC §10, docs/coaching.md) -------------------------------------------------


class NotificationKind(StrEnum):
    """What a :class:`Notification` is about; hosts pick a template by it."""

    #: A recurring goal's clone needs review (new members got a zero target).
    REVIEW = "review"
    #: A goal's or a member's status moved between on track, behind and at risk.
    STATUS = "status"
    #: A goal's or a member's achievement reached 50, 90 or 100 %.
    MILESTONE = "milestone"
    #: The weekly digest of a person's goals (Monday in their timezone).
    DIGEST = "digest"


@dataclass(frozen=True)
class Notification:
    """A message for a person, delivered by ``goals_notify``.

    :param kind: a :class:`NotificationKind` value: ``review``, ``status``, ``milestone`` or
        ``digest``.
    :param recipient_id: the user to notify.
    :param goal_id: the goal concerned; ``None`` for a digest (it covers several goals).
    :param message: a human-readable sentence (English), for hosts that render nothing else.
    :param data: the structured details of the kind, enough to render mail, push or in-app
        messages in the host's own words; keys per kind in docs/coaching.md. Values are JSON
        types, ``Decimal`` and ``date`` (:meth:`as_json` turns those into strings).
    """

    kind: str
    recipient_id: str
    goal_id: int | None
    message: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The notification as JSON-ready values: decimals as strings, dates ISO."""
        return {
            "kind": str(self.kind),
            "recipient_id": self.recipient_id,
            "goal_id": self.goal_id,
            "message": self.message,
            "data": _jsonable(self.data),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class LegacyTeamTargets:
    """A team's legacy activity settings, as ``goals_legacy_activity_targets`` yields them.

    :param team_id: the team.
    :param daily_targets: member user id → daily visit target.
    :param activity_types: activity types counted (default visits).
    :param verified_only: whether only GPS-verified visits counted.
    """

    team_id: str
    daily_targets: Mapping[str, Decimal]
    activity_types: Sequence[str] = ("visit",)
    verified_only: bool = False


# --- Ids at the hook boundary (SPEC §7) -------------------------------------------------------


class HookAnswerError(TypeError):
    """A hook answered something the extension cannot use (e.g. an id that is not an id)."""


def host_id(value: object, hook: str) -> str:
    """An id a hook returned, as the ``str`` the extension stores and compares.

    Hosts with integer keys naturally answer ``3`` where the extension knows ``"3"``: ints are
    converted. Anything else (``None``, floats, objects, ``True``) is a :class:`HookAnswerError`
    naming ``hook``: a silent ``str()`` would count that user as nobody (an actual of 0).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise HookAnswerError(
        f"{hook} returned the id {value!r} ({type(value).__name__}): ids must be str or int."
    )


def _normalized(values: Mapping[Any, Any], hook: str) -> dict[str, Decimal]:
    """``{host_id: Decimal}``; a mapping that is already so (the usual answer) is copied
    without converting each entry (a dashboard's answers hold tens of thousands)."""
    if set(map(type, values.keys())) <= {str} and set(map(type, values.values())) <= {Decimal}:
        return dict(values)
    return {host_id(k, hook): _decimal(v) for k, v in values.items()}


def _decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


# --- What a metric source can measure (SPEC §7) -----------------------------------------------

#: The dimensions a breakdown (``ActualsQuery.group_by``) can group by, each with the goal
#: filter (``filters`` JSON name) over the same ids.
GROUP_BY_DIMENSIONS: Mapping[str, str] = {
    "brand": "brands",
    "brand_family": "brand_families",
    "customer": "customers",
    "customer_branch": "customer_branches",
    "wholesaler_branch": "wholesaler_branches",
    "activity_type": "activity_types",
    "channel": "channels",
}


@dataclass(frozen=True)
class MetricCapabilities:
    """What a category's metric source can measure, as ``goals_metric_capabilities`` says.

    :param metrics: the metrics it measures (``net``, ``count``...); ``None``: every metric of
        the category.
    :param filters: the goal filters it applies, named as in a goal's ``filters`` JSON
        (``brands``, ``verified_only``...); ``None``: every filter of the category.
    :param group_by: the dimensions (:data:`GROUP_BY_DIMENSIONS`) it can group a query by, for
        ``GET /goals/{id}/breakdown``; ``None``: every dimension of the category's filters.
    """

    metrics: frozenset[str] | None = None
    filters: frozenset[str] | None = None
    group_by: frozenset[str] | None = None

    @classmethod
    def from_value(cls, value: MetricCapabilities | Mapping[str, Any]) -> MetricCapabilities:
        if isinstance(value, MetricCapabilities):
            data: Mapping[str, Any] = {
                "metrics": value.metrics,
                "filters": value.filters,
                "group_by": value.group_by,
            }
        else:
            data = value
        return cls(
            **{
                name: None if data.get(name) is None else frozenset(map(str, data[name]))
                for name in ("metrics", "filters", "group_by")
            }
        )


# --- Team membership over time (SPEC §7) ------------------------------------------------------


@dataclass(frozen=True)
class Membership:
    """A user's membership of a team, as ``goals_team_memberships`` returns it.

    :param user_id: the member.
    :param start: the first day as a member (inclusive).
    :param end: the last day as a member (inclusive); ``None`` while still a member.
    """

    user_id: str
    start: date
    end: date | None = None

    @classmethod
    def from_value(cls, value: Membership | Mapping[str, Any], hook: str) -> Membership:
        """Normalize one answer: the user id becomes ``str`` (:func:`host_id`)."""
        if isinstance(value, Membership):
            user_id, start, end = value.user_id, value.start, value.end
        else:
            user_id, start, end = value["user_id"], value["start"], value.get("end")
        if not isinstance(start, date) or not (end is None or isinstance(end, date)):
            raise HookAnswerError(f"{hook} returned a membership without dates: {value!r}.")
        return cls(user_id=host_id(user_id, hook), start=start, end=end)


# -- names for the UI (goals_entities) ------------------------------------------------------

#: The kinds of host ids that ``goals_entities`` names.
ENTITY_KINDS = (
    "user",
    "team",
    "brand",
    "brand_family",
    "customer",
    "customer_branch",
    "wholesaler_branch",
    "activity_type",
)


@dataclass(frozen=True)
class Entity:
    """A host id with the name people know it by, as ``goals_entities`` returns it.

    :param id: the host's opaque id (what goals store, e.g. in filters).
    :param name: what a person reads ("Bosch", "Autohaus Müller").
    """

    id: str
    name: str

    @classmethod
    def from_value(cls, value: Entity | Mapping[str, Any]) -> Entity:
        if isinstance(value, Entity):
            return value
        return cls(id=str(value["id"]), name=str(value.get("name") or value["id"]))
