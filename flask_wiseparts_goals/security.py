"""What keeps a victim's browser from being used against the API (SPEC §13, docs/host-guide.md, "Security").

Two pieces, both scoped to the extension's own blueprints so a host's pages keep the host's
rules:

- :func:`refuse_cross_site_write`, before every write (POST, PUT, PATCH, DELETE) under
  ``GOALS_URL_PREFIX`` and ``GOALS_UI_URL_PREFIX``. A browser page on another origin can send
  only "simple" requests without the server's consent (CORS): no custom header, and a body of
  ``text/plain``, ``application/x-www-form-urlencoded`` or ``multipart/form-data``. So a write
  must carry a proof no simple request can: ``Content-Type: application/json`` (``text/csv``
  where the view reads CSV) **also when the body is empty**, or the CSRF header
  (``GOALS_CSRF_HEADER``). ``Sec-Fetch-Site`` and ``Origin``, when the browser sends them, must
  say the request comes from the API's own origin (or one of ``GOALS_TRUSTED_ORIGINS``). A
  request that authenticates with ``Authorization`` and sends no cookie is not a browser acting
  on a victim's session: it needs no proof.
- :func:`secure_response`, after every response: pages are never framed by another origin nor
  sniffed, and per-user API answers are never stored by a shared cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app, request

from .exceptions import Forbidden, UnsupportedMediaType

#: Methods that change something: each one needs the proof.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: ``Sec-Fetch-Site`` values of a request the user or the API's own pages made.
SAME_SITE_FETCHES = frozenset({"same-origin", "none"})

#: The default ``GOALS_UI_CSP`` of the goal pages: their scripts and styles are files of the
#: package (no inline script), they call only their own origin, and only their own origin may
#: frame them. Styles allow inline ``style`` attributes (the charts set widths).
DEFAULT_UI_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'self'"
)
#: API answers and the API docs page (Swagger UI has an inline script): framed only by their
#: own origin.
API_CSP = "frame-ancestors 'self'"


def refuse_cross_site_write(*, body_types: tuple[str, ...] = ("application/json",)) -> None:
    """Refuse a write a page on another origin could have made the victim's browser send.

    :param body_types: the media types the view reads (``text/csv`` for the CSV import).
    :raises Forbidden: the browser says the request comes from another site or origin.
    :raises UnsupportedMediaType: no JSON (or CSV) ``Content-Type`` and no CSRF header.
    """
    if request.method not in WRITE_METHODS:
        return
    if "Authorization" in request.headers and "Cookie" not in request.headers:
        return  # a token client: a browser cannot add this header cross-site on its own
    config = current_app.config
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in SAME_SITE_FETCHES:
        raise Forbidden(
            "Refused: the request comes from another site (a page may only change goals "
            "from this application).",
            errors={"headers": {"Sec-Fetch-Site": [f"Cross-site request ({fetch_site})."]}},
        )
    origin = request.headers.get("Origin")
    if origin is not None and not _trusted_origin(origin, config):
        raise Forbidden(
            "Refused: the request comes from another origin (a page may only change goals "
            "from this application).",
            errors={"headers": {"Origin": [f"Origin not allowed: {origin[:200]}."]}},
        )
    if request.mimetype in body_types:
        return
    if request.headers.get(config["GOALS_CSRF_HEADER"]) and not _simple_form():
        return
    wanted = " or ".join(body_types)
    location = "csv" if "text/csv" in body_types else "json"  # the body the view reads
    raise UnsupportedMediaType(
        f"Send the request as {wanted} (also when it has no body), or with the "
        f"{config['GOALS_CSRF_HEADER']} header.",
        errors={location: [f"Expected Content-Type {wanted}."]},
    )


def _simple_form() -> bool:
    """A body a form could have sent: with the CSRF header it is still not what we read."""
    return bool(request.content_length) or request.mimetype in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    )


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def _trusted_origin(origin: str, config: Mapping[str, Any]) -> bool:
    """The request's own origin (scheme, host and port, as Werkzeug sees them behind the
    host's ``ProxyFix``), or one listed in ``GOALS_TRUSTED_ORIGINS``. ``null`` never is."""
    if origin == "null":
        return False
    candidate = _origin_of(origin)
    if candidate == _origin_of(request.host_url):
        return True
    return candidate in {_origin_of(o) for o in config["GOALS_TRUSTED_ORIGINS"] or ()}


def secure_response(response: Response, *, page: bool) -> Response:
    """Headers of every response of the extension.

    :param page: a goal page (HTML of ``GOALS_UI_URL_PREFIX``): ``GOALS_UI_CSP`` and
        ``Referrer-Policy``. Otherwise an API answer: never stored by a shared cache
        (``private``), revalidated every time (``no-cache``; an ``ETag`` still saves the body).
    """
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if page:
        policy = current_app.config["GOALS_UI_CSP"]
        if policy and response.mimetype == "text/html":
            headers.setdefault("Content-Security-Policy", policy)
            headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        return response
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("Content-Security-Policy", API_CSP)
    if "Cache-Control" not in headers:
        headers["Cache-Control"] = "private, no-cache"
    response.vary.update({"Cookie", "Authorization"})
    return response
