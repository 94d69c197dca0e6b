"""Placeholder: routes are added by the history work."""

from __future__ import annotations

from .common import make_blueprint

blp = make_blueprint("history", "history")
