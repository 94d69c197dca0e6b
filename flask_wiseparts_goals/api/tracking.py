"""Placeholder: routes are added by the tracking work."""

from __future__ import annotations

from .common import make_blueprint

blp = make_blueprint("tracking", "tracking")
