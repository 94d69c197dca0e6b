"""One error hierarchy. HTTP errors carry flask-smorest's payload (``message``, ``errors``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug import exceptions as http


class GoalsError(Exception):
    """Base of every error this package raises on purpose."""


class GoalsHTTPError(GoalsError, http.HTTPException):
    """An error with an HTTP status, rendered in flask-smorest's JSON error shape."""

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(description=message)
        self.data: dict[str, Any] = {"message": message or self.description}
        if errors is not None:
            self.data["errors"] = dict(errors)
        self.extra = dict(extra or {})


class BadRequest(GoalsHTTPError, http.BadRequest):
    code = 400


class Unauthorized(GoalsHTTPError, http.Unauthorized):
    code = 401
    description = "No identity: the host did not say who is calling."


class Forbidden(GoalsHTTPError, http.Forbidden):
    code = 403


class NotFound(GoalsHTTPError, http.NotFound):
    code = 404


class PreconditionFailed(GoalsHTTPError, http.PreconditionFailed):
    code = 412


class PreconditionRequired(GoalsHTTPError, http.PreconditionRequired):
    code = 428


class Conflict(GoalsHTTPError, http.Conflict):
    """A write that needs ``confirm=true`` (exceeding an aim, dropping non-zero values)."""

    code = 409


class PayloadTooLarge(GoalsHTTPError, http.RequestEntityTooLarge):
    code = 413


class UnsupportedMediaType(GoalsHTTPError, http.UnsupportedMediaType):
    code = 415


class ValidationFailed(GoalsHTTPError, http.UnprocessableEntity):
    """422 with ``errors`` keyed by location then field path, like flask-smorest's own."""

    code = 422

    def __init__(
        self, errors: Mapping[str, Any], *, location: str = "json", message: str | None = None
    ) -> None:
        super().__init__(message or "The request is not valid.", errors={location: dict(errors)})


class MetricSourceError(GoalsHTTPError, http.BadGateway):
    """A metric source raised while answering ``goals_collect_actuals``."""

    code = 502


class MetricSourceTimeout(GoalsHTTPError, http.GatewayTimeout):
    """A metric source did not answer within ``GOALS_ACTUALS_TIMEOUT_SECONDS`` where the
    answer is needed to write (distribution by actuals)."""

    code = 504


def describe(error: BaseException) -> str:
    """One line about an error for a person reading a job's or a command's report: an HTTP
    error's description (and its errors), else the type and the first line of the message
    (SQL and parameters are in the log)."""
    if isinstance(error, GoalsHTTPError):
        errors = error.data.get("errors")
        return f"{error.description}" + (f" {errors}" if errors else "")
    lines = str(error).splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
