"""The recurrence job on Flask-APScheduler (see issue: recurrence)."""

from __future__ import annotations

from flask import Flask


def init_scheduler(app: Flask) -> None:
    """Register the daily recurrence job when ``GOALS_SCHEDULER_ENABLED`` says so."""
    return None
