"""``GET /meta``: what the goal form offers to this caller's organization today."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from ..domain.distribution import STRATEGIES
from ..domain.periods import Recurrence, Shortcut, resolve_shortcut
from ..domain.rules import Category, Channel, GoalMode, default_metric
from ..schemas.meta import EntitiesSchema, EntityArgsSchema, MetaSchema
from ..services.capabilities import category_offer
from ..services.goals import category_enabled
from ..services.names import entity_names
from .common import context, make_blueprint

blp = make_blueprint("meta", "What the goal form offers: categories, metrics, shortcuts.")


@blp.route("/meta")
class Meta(MethodView):
    @blp.response(200, MetaSchema)
    def get(self) -> dict[str, Any]:
        """Categories (orders only when enabled), metrics, channels, modes, recurrences, and
        the date shortcuts resolved for today in the organization's timezone.

        A category's metrics, filters and breakdown dimensions (``group_by``) are those its
        metric source declares (``goals_metric_capabilities``); without a declaration, all
        that the category allows."""
        ctx = context()
        categories = [
            {
                "category": category.value,
                "metrics": list(offer.metrics),
                "default_metric": default_metric(category),
                "aim_editable": category is not Category.ACTIVITIES,
                "filters": list(offer.filters),
                "group_by": list(offer.group_by),
                "goal_modes": [m.value for m in GoalMode]
                if category is Category.ACTIVITIES
                else [],
                "recurrences": (
                    [r.value for r in Recurrence] if category is Category.ACTIVITIES else []
                ),
            }
            for category in Category
            if category_enabled(ctx, category)
            for offer in [category_offer(ctx, category)]
        ]
        return {
            "today": ctx.today,
            "timezone": ctx.identity.timezone,
            "categories": categories,
            "channels": [c.value for c in Channel],
            "goal_modes": [m.value for m in GoalMode],
            "recurrences": [r.value for r in Recurrence],
            "periods": {
                s.value: {"start_date": p.start, "end_date": p.end}
                for s in Shortcut
                for p in [resolve_shortcut(s, ctx.today)]
            },
            "distribution_strategies": list(STRATEGIES),
        }


@blp.route("/meta/entities")
class Entities(MethodView):
    @blp.arguments(EntityArgsSchema, location="query")
    @blp.response(200, EntitiesSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Names of the host's ids for pickers and labels, from the ``goals_entities`` hook.

        ``ids`` names exactly those ids (an id the host does not know keeps its id as name);
        ``search`` finds entities whose name or id contains the text. Without a host plugin
        answering, ``named`` is false, each asked id is its own name and a search finds nothing.
        """
        return entity_names(context(), **args)
