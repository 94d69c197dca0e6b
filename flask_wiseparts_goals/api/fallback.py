"""JSON answers for URLs under the prefix that match no route (404) or not this method (405).

Routing errors happen before any blueprint is chosen, so Flask would hand them to the host's
app-wide handler (an HTML page). A catch-all rule under the prefix keeps the plugin's own URL
space speaking JSON, with ``Allow`` on 405, without installing an app-wide handler that would
change the host's pages. It is a plain Flask blueprint, so it is not in the OpenAPI document.
"""

from __future__ import annotations

from typing import NoReturn

from flask import Blueprint, Response, current_app, request
from flask.sansio.blueprints import BlueprintSetupState
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import PathConverter

from .errors import handle_http_exception

ENDPOINT = "goals_fallback.unmatched"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


class AnyPathConverter(PathConverter):
    """Like ``path`` but also matches control characters such as a newline."""

    regex = "[^/](?s:.)*?"


def create_fallback_blueprint() -> Blueprint:
    blp = Blueprint("goals_fallback", __name__)
    blp.register_error_handler(HTTPException, handle_http_exception)
    blp.record_once(_register_converter)
    blp.add_url_rule("/", "unmatched", unmatched, methods=METHODS, defaults={"path": ""})
    blp.add_url_rule("/<goals_any_path:path>", "unmatched", unmatched, methods=METHODS)
    return blp


def allowed_methods() -> list[str]:
    """The methods the plugin's real routes accept for this URL (the catch-all excluded)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = set()
    for method in METHODS:
        try:
            endpoint, _ = adapter.match(method=method)
        except HTTPException:
            continue
        if endpoint != ENDPOINT:
            allowed.add(method)
    if allowed:
        allowed.add("OPTIONS")
        if "GET" in allowed:
            allowed.add("HEAD")
    return sorted(allowed)


def _register_converter(state: BlueprintSetupState) -> None:
    state.app.url_map.converters.setdefault("goals_any_path", AnyPathConverter)


def unmatched(path: str) -> NoReturn:
    allowed = allowed_methods()
    if allowed:
        raise MethodNotAllowed(valid_methods=allowed)
    raise NotFound(f"No such resource: {request.path}")


def fix_allow_header(response: Response) -> Response:
    """Flask answers OPTIONS itself from every rule of the URL, the catch-all included."""
    if request.method == "OPTIONS" and "Allow" in response.headers:
        response.headers["Allow"] = ", ".join(allowed_methods())
    return response
