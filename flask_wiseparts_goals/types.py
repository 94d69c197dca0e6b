"""Value objects exchanged with the host through hooks.

They are plain frozen dataclasses: a host plugin may return them, or a mapping with the same keys
(``Identity.from_value`` accepts both), so hosts do not have to import anything to answer a hook.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any


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


@dataclass(frozen=True)
class ActualsResult:
    """A metric source's answer to one query.

    :param total: the value over every counted user (or the whole organization).
    :param per_user: the value of each counted user; users absent from it count 0.
    """

    total: Decimal
    per_user: Mapping[str, Decimal] = field(default_factory=dict)

    @classmethod
    def from_value(cls, value: ActualsResult | Mapping[str, Any] | Decimal | int) -> ActualsResult:
        if isinstance(value, ActualsResult):
            return value
        if isinstance(value, (Decimal, int)):
            return cls(total=Decimal(value))
        per_user = {str(k): Decimal(str(v)) for k, v in (value.get("per_user") or {}).items()}
        total = value.get("total")
        return cls(
            total=Decimal(str(total)) if total is not None else sum(per_user.values(), Decimal(0)),
            per_user=per_user,
        )


@dataclass(frozen=True)
class Notification:
    """A message for a person, delivered by ``goals_notify``.

    :param kind: e.g. ``"recurrence_review"``.
    :param recipient_id: the user to notify (a goal's creator).
    :param goal_id: the goal concerned.
    :param message: a human-readable sentence.
    :param data: structured details (e.g. ``{"new_member_ids": [...]}``).
    """

    kind: str
    recipient_id: str
    goal_id: int | None
    message: str
    data: Mapping[str, Any] = field(default_factory=dict)


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
