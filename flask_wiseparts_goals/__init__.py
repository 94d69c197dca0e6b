"""flask-wiseparts-goals: sales, activity and order goals for WiseParts, as a Flask extension.

Public API::

    from flask_wiseparts_goals import Goals, hookimpl

    goals = Goals()
    goals.init_app(app, plugins=[MyHostPlugin()])
"""

from __future__ import annotations

from .extension import Goals
from .markers import hookimpl
from .types import (
    ActualsQuery,
    ActualsResult,
    AuthTarget,
    Entity,
    Filters,
    Identity,
    LegacyTeamTargets,
    Membership,
    MetricCapabilities,
    Notification,
    NotificationKind,
)

__version__ = "0.1.0"

__all__ = [
    "ActualsQuery",
    "ActualsResult",
    "AuthTarget",
    "Entity",
    "Filters",
    "Goals",
    "Identity",
    "LegacyTeamTargets",
    "Membership",
    "MetricCapabilities",
    "Notification",
    "NotificationKind",
    "__version__",
    "hookimpl",
]
