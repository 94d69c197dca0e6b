"""The plugin manager of one ``Goals`` instance, its built-in defaults, and a typed façade.

Services never touch ``pm.hook`` directly: they go through :class:`HostHooks`, which calls each
hook with keyword arguments, normalizes answers (mappings → dataclasses) and memoizes what is
asked repeatedly within one request (team members, business days).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from functools import cached_property
from typing import Any

import pluggy

from . import hookspecs
from .domain.periods import Period, weekdays
from .markers import PROJECT_NAME, hookimpl
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
    host_id,
)

logger = logging.getLogger("flask_wiseparts_goals")


class DefaultPlugin:
    """The behaviour when no host plugin answers (SPEC §2). Registered ``trylast``."""

    def __init__(self, features: Iterable[str]) -> None:
        self.features = frozenset(features)

    @hookimpl(trylast=True)
    def goals_authorize(self, identity: Identity, action: str, target: AuthTarget) -> bool:
        if target.organization_id != identity.organization_id or action != "read":
            return False
        if target.team_id is None:
            return True
        return identity.team_ids is not None and target.team_id in identity.team_ids

    @hookimpl(trylast=True)
    def goals_feature_enabled(self, organization_id: str, feature: str) -> bool:
        return feature in self.features

    @hookimpl(trylast=True)
    def goals_business_days(
        self, organization_id: str, team_id: str | None, start: date, end: date
    ) -> list[date]:
        return weekdays(Period(start, end))

    @hookimpl(trylast=True)
    def goals_notify(self, organization_id: str, notification: Notification) -> None:
        logger.info(
            "goals notification for %s in %s: %s",
            notification.recipient_id,
            organization_id,
            notification.message,
        )


class GoalsPluginManager(pluggy.PluginManager):
    """pluggy's manager, registering each plugin object once and remembering where each came
    from (``flask goals plugins`` prints it).

    A plugin reachable both through ``plugins=`` and an entry point (a host that passes the
    module an installed package also advertises) is the same object twice: pluggy would raise
    ``ValueError``; here the second registration is a no-op.
    """

    def __init__(self, project_name: str) -> None:
        super().__init__(project_name)
        self.given: list[object] = []  # through plugins=, in order

    def register(self, plugin: Any, name: str | None = None) -> str | None:
        if self.is_registered(plugin):
            logger.info(
                "goals plugin %s is reachable more than once (plugins= and/or an entry point): "
                "registered once",
                self.get_name(plugin),
            )
            return None
        return super().register(plugin, name)

    def origins(self, plugin: object) -> list[str]:
        """Where ``plugin`` came from: ``"built in"``, ``"plugins="``, ``"entry point of DIST
        VERSION"``, possibly several."""
        found = []
        if isinstance(plugin, DefaultPlugin):
            found.append("built in")
        if any(given is plugin for given in self.given):
            found.append("plugins=")
        for loaded, dist in self.list_plugin_distributions():
            if loaded is plugin:
                version = getattr(dist, "version", None) or ""
                found.append(f"entry point of {dist.metadata['name']} {version}".rstrip())
        return found

    def describe(self) -> list[tuple[str, list[str], list[str]]]:
        """``(name, origins, implemented hooks)`` for every registered plugin, in the order
        pluggy calls them last to first (defaults first)."""
        rows = []
        for name, plugin in self.list_name_plugin():
            if plugin is None:  # blocked
                continue
            hooks = sorted(caller.name for caller in self.get_hookcallers(plugin) or ())
            rows.append((name, self.origins(plugin), hooks))
        return rows


def _plugin_name(pm: pluggy.PluginManager, plugin: object) -> str:
    """A readable, unique registration name: the module's name, or the class path of an
    object (``#2``, ``#3`` for further instances)."""
    base = getattr(plugin, "__name__", None)
    if not isinstance(base, str):
        kind = type(plugin)
        base = f"{kind.__module__}.{kind.__qualname__}"
    name, number = base, 1
    while pm.has_plugin(name):
        number += 1
        name = f"{base}#{number}"
    return name


def make_plugin_manager(
    plugins: Sequence[object] = (), *, features: Iterable[str] = (), entry_points: bool = True
) -> GoalsPluginManager:
    """A fresh manager: specs, defaults, the given plugins, then entry-point plugins (each
    object once)."""
    pm = GoalsPluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    pm.register(DefaultPlugin(features), name="goals-defaults")
    for plugin in plugins:
        if not pm.is_registered(plugin):
            pm.register(plugin, name=_plugin_name(pm, plugin))
            pm.given.append(plugin)
    if entry_points:
        pm.load_setuptools_entrypoints(PROJECT_NAME)
    pm.check_pending()
    return pm


class HostHooks:
    """Typed calls into the plugin manager, memoized for the lifetime of this object.

    Create one per request or job run (``Goals.hooks()``), never share one across requests.
    """

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self._members: dict[tuple[str, str, date], tuple[str, ...] | None] = {}
        self._business_days: dict[
            tuple[str, str | None, date, date, str | None], frozenset[date]
        ] = {}
        self._capabilities: dict[tuple[str, str], MetricCapabilities | None] = {}
        self._memberships: dict[tuple[str, str, date, date], tuple[Membership, ...] | None] = {}

    def identity(self) -> Identity | None:
        value = self.pm.hook.goals_identity()
        return None if value is None else Identity.from_value(value)

    def user_identity(self, organization_id: str, user_id: str) -> Identity | None:
        value = self.pm.hook.goals_user_identity(organization_id=organization_id, user_id=user_id)
        return None if value is None else Identity.from_value(value)

    def authorize(self, identity: Identity, action: str, target: AuthTarget) -> bool:
        return bool(self.pm.hook.goals_authorize(identity=identity, action=action, target=target))

    def feature_enabled(self, organization_id: str, feature: str) -> bool:
        return bool(
            self.pm.hook.goals_feature_enabled(organization_id=organization_id, feature=feature)
        )

    def team_members(self, organization_id: str, team_id: str, on: date) -> tuple[str, ...] | None:
        key = (organization_id, team_id, on)
        if key not in self._members:
            value = self.pm.hook.goals_team_members(
                organization_id=organization_id, team_id=team_id, on=on
            )
            members: tuple[str, ...] | None
            if value is not None:
                members = tuple(dict.fromkeys(host_id(v, "goals_team_members") for v in value))
            else:
                # A host that answers only memberships: the members on a day follow from them.
                spans = self.team_memberships(organization_id, team_id, on, on)
                members = None if spans is None else tuple(dict.fromkeys(m.user_id for m in spans))
            self._members[key] = members
        return self._members[key]

    def team_memberships(
        self, organization_id: str, team_id: str, start: date, end: date
    ) -> tuple[Membership, ...] | None:
        """The memberships overlapping ``[start, end]`` in team order (the ones outside it are
        dropped); ``None`` when no plugin answers (tracking then counts per interval)."""
        key = (organization_id, team_id, start, end)
        if key not in self._memberships:
            hook = "goals_team_memberships"
            value = self.pm.hook.goals_team_memberships(
                organization_id=organization_id, team_id=team_id, start=start, end=end
            )
            memberships = None
            if value is not None:
                memberships = tuple(
                    membership
                    for membership in (Membership.from_value(v, hook) for v in value)
                    if membership.start <= end
                    and (membership.end is None or membership.end >= start)
                )
            self._memberships[key] = memberships
        return self._memberships[key]

    @cached_property
    def member_calendars(self) -> bool:
        """Whether a plugin answers ``goals_business_days`` per member (takes ``user_id``)."""
        return any(
            "user_id" in impl.argnames for impl in self.pm.hook.goals_business_days.get_hookimpls()
        )

    def business_days(
        self,
        organization_id: str,
        team_id: str | None,
        start: date,
        end: date,
        user_id: str | None = None,
    ) -> frozenset[date]:
        """The business days of the team (``user_id`` None) or of one member; a member's are
        the team's when no plugin answers per member."""
        if user_id is not None and not self.member_calendars:
            user_id = None
        key = (organization_id, team_id, start, end, user_id)
        if key not in self._business_days:
            value = self.pm.hook.goals_business_days(
                organization_id=organization_id,
                team_id=team_id,
                start=start,
                end=end,
                user_id=user_id,
            )
            # ``day in Period(start, end)``, inlined: a year of days per team and request.
            self._business_days[key] = frozenset(
                day for day in value or () if isinstance(day, date) and start <= day <= end
            )
        return self._business_days[key]

    def collect_actuals(
        self, organization_id: str, category: str, queries: Sequence[ActualsQuery]
    ) -> dict[str, ActualsResult] | None:
        """``None`` when no metric source answers the category."""
        if not queries:
            return {}
        answer: Mapping[str, Any] | None = self.pm.hook.goals_collect_actuals(
            organization_id=organization_id, category=category, queries=list(queries)
        )
        if answer is None:
            return None
        return {str(key): ActualsResult.from_value(value) for key, value in answer.items()}

    def metric_capabilities(self, organization_id: str, category: str) -> MetricCapabilities | None:
        """``None`` when no source declares what it measures (everything is assumed)."""
        key = (organization_id, category)
        if key not in self._capabilities:
            value = self.pm.hook.goals_metric_capabilities(
                organization_id=organization_id, category=category
            )
            self._capabilities[key] = (
                None if value is None else MetricCapabilities.from_value(value)
            )
        return self._capabilities[key]

    def entities(
        self,
        organization_id: str,
        kind: str,
        *,
        ids: Sequence[str] | None = None,
        search: str | None = None,
        limit: int = 50,
    ) -> list[Entity] | None:
        """The host's names for ``kind`` (``None`` when no plugin names this kind)."""
        answer = self.pm.hook.goals_entities(
            organization_id=organization_id,
            kind=kind,
            ids=None if ids is None else list(ids),
            search=search,
            limit=limit,
        )
        if answer is None:
            return None
        return [Entity.from_value(value) for value in answer]

    def notify(self, organization_id: str, notification: Notification) -> None:
        self.pm.hook.goals_notify(organization_id=organization_id, notification=notification)

    def legacy_activity_targets(self, organization_id: str) -> list[LegacyTeamTargets]:
        teams: list[LegacyTeamTargets] = []
        for answer in self.pm.hook.goals_legacy_activity_targets(organization_id=organization_id):
            for item in answer or ():
                legacy = item if isinstance(item, LegacyTeamTargets) else LegacyTeamTargets(**item)
                hook = "goals_legacy_activity_targets"
                teams.append(
                    replace(
                        legacy,
                        team_id=host_id(legacy.team_id, hook),
                        daily_targets={
                            host_id(user, hook): value
                            for user, value in legacy.daily_targets.items()
                        },
                    )
                )
        return teams
