"""The pluggy markers of the project ``flask_wiseparts_goals``.

Kept apart so that ``hookspecs`` and plugins can import them without importing each other.
"""

from __future__ import annotations

import pluggy

PROJECT_NAME = "flask_wiseparts_goals"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
