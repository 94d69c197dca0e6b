"""Names of host ids (users, teams, brands...) for the UI, through ``goals_entities``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..types import Entity
from .context import Context


def entity_names(
    ctx: Context,
    kind: str,
    *,
    ids: Sequence[str] | None = None,
    search: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """``{kind, named, entities}``: the host's answer, cut to what was asked.

    Asked ``ids`` come back in the order asked, each once; an id the host does not name keeps
    itself as its name, so a label never disappears (and ``limit`` does not cut them). Without
    a plugin answering, ``named`` is false.
    """
    wanted = list(dict.fromkeys(ids)) if ids is not None else None
    answer = ctx.hooks.entities(ctx.organization_id, kind, ids=wanted, search=search, limit=limit)
    named = answer is not None
    found = answer or []
    if wanted is not None:
        by_id = {entity.id: entity for entity in found}
        entities = [by_id.get(entity_id, Entity(entity_id, entity_id)) for entity_id in wanted]
        if search:
            needle = search.casefold()
            entities = [
                e for e in entities if needle in e.name.casefold() or needle in e.id.casefold()
            ]
        return {"kind": kind, "named": named, "entities": entities}
    entities = list({e.id: e for e in found}.values())
    return {"kind": kind, "named": named, "entities": entities[:limit]}
