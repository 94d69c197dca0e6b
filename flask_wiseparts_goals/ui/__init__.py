"""The goal pages a host mounts: an optional blueprint (``GOALS_UI_ENABLED``).

The pages are server-rendered Jinja shells inside the host's layout template
(``GOALS_UI_BASE_TEMPLATE``); small vanilla JavaScript modules (``static/goals/*.js``) read and
write everything through the Goals REST API, as any front end would, so the UI is never a second
path to the rules. What the server renders is what the API cannot say on its own: who is
calling, the names of the teams they may write (``goals_entities``), the currency.

Templates live under ``goals/`` and are overridable the Flask way: a template of the same path in
the host's ``templates/`` folder wins. Assets are served from the blueprint's static folder.
"""

from __future__ import annotations

from .views import create_ui_blueprint

__all__ = ["create_ui_blueprint"]
