"""The hooks through which the host app and plugins feed the Goals extension.

Every hook receives the ``organization_id`` it concerns (plugins are multi-tenant) and is called
with keyword arguments only, so an implementation may accept fewer arguments than the spec names
and specs can gain arguments without breaking plugins. Single-answer hooks are ``firstresult``:
the first non-``None`` answer wins and the built-in defaults are registered ``trylast``, so a host
always overrides them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from .markers import hookspec
from .types import (
    ActualsQuery,
    ActualsResult,
    AuthTarget,
    Entity,
    Identity,
    LegacyTeamTargets,
    Membership,
    MetricCapabilities,
    Notification,
)


@hookspec(firstresult=True)
def goals_identity() -> Identity | Mapping[str, Any] | None:
    """Tell who is calling (firstresult).

    Called once per request, inside the request context, so it can read the host's session,
    token or headers.

    :return: an :class:`~flask_wiseparts_goals.types.Identity` (or a mapping with the keys
        ``user_id``, ``organization_id`` and optionally ``timezone``, ``team_ids``, ``roles``),
        or ``None`` for an anonymous caller.
    :default: no identity: every API call answers **401**.
    """


@hookspec(firstresult=True)
def goals_user_identity(organization_id: str, user_id: str) -> Identity | Mapping[str, Any] | None:
    """Describe a person outside their own request (firstresult, optional).

    Notifications go only to people who may read the goal now (``goals_authorize`` decides,
    SPEC §13): the coaching and recurrence jobs ask this hook for the recipient's identity
    (roles, teams) to ask ``goals_authorize`` about it.

    :return: an :class:`~flask_wiseparts_goals.types.Identity` (or a mapping with the keys of
        ``goals_identity``'s), or ``None`` to leave it to the default. A former user gets an
        identity your ``goals_authorize`` refuses (no roles, no teams).
    :default: the user id with no roles, whose ``team_ids`` hold the goal's team when
        ``goals_team_members`` lists the user on the day of the notice or when the user
        created the goal; nothing else (docs/host-guide.md, "Security").
    """


@hookspec(firstresult=True)
def goals_authorize(identity: Identity, action: str, target: AuthTarget) -> bool | None:
    """Decide whether ``identity`` may perform ``action`` on ``target`` (firstresult).

    :param identity: the caller.
    :param action: ``"read"``, ``"create"``, ``"update"``, ``"delete"`` or ``"allocate"``.
    :param target: what the action applies to (a goal, a team's dashboard, the organization).
    :return: ``True`` to allow, ``False`` to deny, ``None`` to let the next plugin decide.
    :default: reads are allowed within the caller's organization for organization-wide goals
        and goals of the caller's teams (``Identity.team_ids``); **every write is denied**.
        A denied read of a goal is a 404 (its existence is not revealed); a denied write is a 403.
    """


@hookspec(firstresult=True)
def goals_feature_enabled(organization_id: str, feature: str) -> bool | None:
    """Whether an optional feature is on for an organization (firstresult).

    :param feature: today only ``"orders"`` (the Orders goal category).
    :return: ``True``/``False``, or ``None`` to defer.
    :default: ``feature in app.config["GOALS_FEATURES"]``.
    """


@hookspec(firstresult=True)
def goals_team_members(organization_id: str, team_id: str, on: date) -> Sequence[str] | None:
    """The member user ids of a team on a date, in display order (firstresult).

    The order is the "team order" that distribution uses to hand out remainders.

    :return: a sequence of user ids, or ``None`` when the team is unknown.
    :default: none: creating or tracking a team goal answers **422** (``team_id``).
    """


@hookspec(firstresult=True)
def goals_business_days(
    organization_id: str, team_id: str | None, start: date, end: date, user_id: str | None
) -> Iterable[date] | None:
    """The business days in the closed range ``[start, end]`` (firstresult).

    Per-business-day activity targets and forecasts count these days, so holidays and team
    calendars belong here.

    :param user_id: ``None`` for the team's (or organization's) calendar; a member's id for
        that member's own days (absences, part-time). Members' effective per-day targets,
        expected-to-date and forecasts use them. Optional: an implementation that does not
        take ``user_id`` is never asked per member (its team answer is used for everyone).
    :return: the business days (any iterable of dates within the range), or ``None`` to defer.
    :default: Monday to Friday.
    """


@hookspec(firstresult=True)
def goals_collect_actuals(
    organization_id: str, category: str, queries: Sequence[ActualsQuery]
) -> Mapping[str, ActualsResult | Mapping[str, Any]] | None:
    """Measure actuals for many goals at once: one call per category per request (firstresult).

    A metric source owns categories: it returns ``None`` for a category it does not answer, so
    several sources (one for sales, one for orders...) can be installed side by side. Answer the
    whole batch with one grouped query; never query per goal or per user.

    The categories of a request are asked at the same time, each in a thread with a copy of
    the request context and a database session of its own (``db.session`` there sees what is
    committed); after ``GOALS_ACTUALS_TIMEOUT_SECONDS`` the category is ``timeout`` and the
    late answer is dropped (docs/plugin-guide.md, "Threads and the timeout").

    :param category: ``"sales"``, ``"orders"`` or ``"activities"``.
    :param queries: every question of the request; each has a ``key``, a ``metric``, an
        inclusive date range, the ``user_ids`` to count (``None``: the whole organization), the
        goal's ``team_id`` and typed ``filters``.
    :return: ``{query.key: ActualsResult(total=..., per_user={...})}`` (or mappings with the
        keys ``total`` and ``per_user``); missing keys count as zero.
    :default: no source: actuals are ``null`` and responses say that no metric source answers.
    """


@hookspec
def goals_notify(organization_id: str, notification: Notification) -> None:
    """Deliver a notification to a person (every plugin is called).

    ``notification.kind`` says what it is about: ``review`` (a recurring goal's clone has new
    members with a zero target), ``status``, ``milestone`` or ``digest`` (the coaching job,
    docs/coaching.md); ``notification.data`` holds the structured details of the kind.

    :default: the notification is logged on the ``flask_wiseparts_goals`` logger.
    """


@hookspec
def goals_legacy_activity_targets(organization_id: str) -> Iterable[LegacyTeamTargets] | None:
    """The legacy team-level daily visit targets to migrate (every plugin is called).

    :return: one :class:`~flask_wiseparts_goals.types.LegacyTeamTargets` per team (or mappings
        with the same keys).
    :default: nothing to migrate.
    """


# --- Time-correct tracking and the metric-source contract (SPEC §7) ---------------------------


@hookspec(firstresult=True)
def goals_metric_capabilities(
    organization_id: str, category: str
) -> MetricCapabilities | Mapping[str, Any] | None:
    """What the metric source of ``category`` can measure (firstresult, optional).

    When a source answers, ``GET /meta`` offers only these metrics, filters and breakdown
    dimensions, and creating a goal (or changing one) to use an unsupported metric or filter is
    a **422** naming the field (``metric``, ``filters.<name>``), instead of a goal whose
    progress can never be measured.

    :param category: ``"sales"``, ``"orders"`` or ``"activities"``.
    :return: a :class:`~flask_wiseparts_goals.types.MetricCapabilities` (or a mapping with the
        keys ``metrics``, ``filters``, ``group_by``), or ``None`` for a category the source
        does not own. ``SqlMetricSource`` answers it from its column mapping.
    :default: no answer: every metric, filter and dimension is assumed supported.
    """


@hookspec(firstresult=True)
def goals_team_memberships(
    organization_id: str, team_id: str, start: date, end: date
) -> Sequence[Membership | Mapping[str, Any]] | None:
    """The memberships of a team that overlap ``[start, end]``, in team order (firstresult,
    optional).

    With it, tracking counts each member's results only for the days they belonged to the
    goal's team: a member who joins on 1 December counts from 1 December, one who leaves on
    15 November counts until 15 November, in every figure (intervals, the whole period, member
    rows, both dashboards, proportional distribution by actuals). Called once per team per
    request, over the widest range the request needs.

    :param start: first day of the range (inclusive).
    :param end: last day of the range (inclusive).
    :return: :class:`~flask_wiseparts_goals.types.Membership` ``(user_id, start, end)`` items
        (or mappings with those keys; both dates inclusive, ``end`` ``None`` while still a
        member); a user may have several. ``None`` when the team is unknown.
    :default: none: each interval counts the members ``goals_team_members`` gives on its
        measured day (``as_of`` clipped into the interval), for that interval only. When
        ``goals_team_members`` has no answer either, the members on a day are derived from
        this hook.
    """


# -- names for the goal UI -------------------------------------------------------------------


@hookspec(firstresult=True)
def goals_entities(
    organization_id: str,
    kind: str,
    ids: Sequence[str] | None = None,
    search: str | None = None,
    limit: int = 50,
) -> Sequence[Entity | Mapping[str, Any]] | None:
    """Names of the host's ids, for pickers and labels (optional, firstresult).

    :param kind: ``user``, ``team``, ``brand``, ``brand_family``, ``customer``,
        ``customer_branch``, ``wholesaler_branch`` or ``activity_type``.
    :param ids: name exactly these ids (labels of a stored goal); ``None``: any.
    :param search: a case-insensitive part of the name or id a person typed; ``None``: any.
    :param limit: at most this many entities, best matches first.
    :return: :class:`~flask_wiseparts_goals.types.Entity` values (or mappings with ``id`` and
        ``name``) of the organization, or ``None`` to defer.
    :default: none: asked for ids, the UI shows the ids themselves; a search finds nothing.
    """
