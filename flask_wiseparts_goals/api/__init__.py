"""The REST API: one flask-smorest blueprint per resource, mounted under ``GOALS_URL_PREFIX``."""

from __future__ import annotations

from flask_smorest import Blueprint

from . import coaching, goals, history, intervals, meta, targets, tracking


def blueprints() -> list[Blueprint]:
    return [
        meta.blp,
        goals.blp,
        intervals.blp,
        targets.blp,
        history.blp,
        tracking.blp,
        coaching.blp,
    ]
