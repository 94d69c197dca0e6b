"""What every view needs: the request's Context, one transaction per write, the error shape."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import current_app, request
from flask_smorest import Blueprint, Page
from marshmallow import missing
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from .._compat import pagination_schema_factory, pagination_schema_factory_swapped
from ..exceptions import (
    BadRequest,
    PayloadTooLarge,
    Unauthorized,
    ValidationFailed,
)
from ..security import refuse_cross_site_write, secure_response
from ..services.context import MAX_ID, REQUEST_STORE, Context, today_in
from .errors import DATABASE_ERRORS, handle_database_unavailable, handle_http_exception
from .fallback import fix_allow_header

_smorest_pagination_schema = pagination_schema_factory()


#: A vendor key of an operation's manual doc (``@blp.doc``) whose value describes the
#: ``If-Match`` header the operation requires without ``@blp.etag`` (the CSV import):
#: ``extension._document_errors`` turns it into the header parameter, 412 and 428.
REQUIRES_IF_MATCH = "x-goals-requires-if-match"


def goals_state() -> Any:
    return current_app.extensions["goals"]


def context(*, confirm: bool = False) -> Context:
    """The caller's Context, built once per request (401 when the host names nobody).

    Cached in the request's environ rather than ``g``, which may outlive the request (an app
    context kept open over several requests must not carry one caller's identity to the next).
    """
    store = request.environ.setdefault(REQUEST_STORE, {})
    ctx: Context | None = store.get("context")
    if ctx is None:
        state = goals_state()
        hooks = state.hooks()
        identity = hooks.identity()
        if identity is None:
            raise Unauthorized("No identity: sign in through the host application.")
        default_timezone = current_app.config["GOALS_DEFAULT_TIMEZONE"]
        if identity.timezone is None:
            identity = dataclasses.replace(identity, timezone=default_timezone)
        ctx = Context(
            session=state.session,
            hooks=hooks,
            identity=identity,
            config=current_app.config,
            today=today_in(identity.timezone or default_timezone, default_timezone),
        )
        store["context"] = ctx
    ctx.confirm = confirm
    return ctx


@contextmanager
def transaction(ctx: Context) -> Iterator[Context]:
    """Commit what the block did, or roll all of it back: every write is one transaction."""
    try:
        yield ctx
        ctx.session.commit()
    except BaseException:
        ctx.session.rollback()
        raise


class DuplicateKeyError(ValueError):
    """A JSON object names the same key twice (JSON leaves the meaning open; we refuse it)."""


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKeyError(key)
        result[key] = value
    return result


class JSONParser(FlaskParser):
    """flask-smorest's parser, stricter: a body naming a key twice is a 400 naming the key
    (Python's decoder silently keeps the last one), and every body the decoder refuses is a 400
    "Invalid JSON body": also an integer of more digits than Python converts (a ``ValueError``
    that is not a ``JSONDecodeError``) and nesting deeper than the recursion limit, which would
    otherwise escape as 500s."""

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return missing
        data = req.get_data(cache=True)
        limit = req.max_content_length
        if req.content_length is None and limit is not None and len(data) >= limit:
            # A chunked body Werkzeug cut off at the limit (it raises only on a further read).
            raise _too_large(limit)
        try:
            return json.loads(data, object_pairs_hook=_refuse_duplicate_keys)
        except DuplicateKeyError as error:
            raise BadRequest(
                f"The JSON body names the key {error.args[0]!r} more than once.",
                errors={"json": [f"Duplicated key: {error.args[0]}."]},
            ) from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise  # webargs' own handling (an empty body is no body)
        except (ValueError, RecursionError) as error:
            return self._handle_invalid_json_error(error, req)  # type: ignore[arg-type]


#: The largest ``page`` a paginated endpoint takes (documented as ``maximum`` in the OpenAPI):
#: beyond it a 422, not an OFFSET the database refuses.
MAX_PAGE = 1_000_000


def _bounded_pagination_schema(
    def_page: int, def_page_size: int, def_max_page_size: int
) -> type[ma.Schema]:
    base = _smorest_pagination_schema(def_page, def_page_size, def_max_page_size)
    return type(
        base.__name__,
        (base,),
        {
            "page": ma.fields.Integer(
                load_default=def_page, validate=ma.validate.Range(min=1, max=MAX_PAGE)
            )
        },
    )


class GoalsBlueprint(Blueprint):
    ARGUMENTS_PARSER = JSONParser()

    def arguments(self, schema: Any, *, location: str = "json", **kwargs: Any) -> Any:
        """flask-smorest's arguments; a JSON body documented as required (the default) is
        required: a request without one is a 422 naming the body, not a call with ``{}``
        (webargs reads a missing body as empty)."""
        decorator = super().arguments(schema, location=location, **kwargs)
        if location != "json" or not kwargs.get("required", True):
            return decorator

        def with_body(func: Any) -> Any:
            parsed = decorator(func)

            @functools.wraps(parsed)
            def view(*args: Any, **view_kwargs: Any) -> Any:
                require_body()
                return parsed(*args, **view_kwargs)

            return view

        return with_body

    def paginate(self, *args: Any, **kwargs: Any) -> Any:
        """flask-smorest's pagination with ``page`` bounded by :data:`MAX_PAGE`. flask-smorest
        builds the query schema with a module-level factory and offers no hook for it; the
        factory is swapped only while the decorator is built (at import, one thread)."""
        with pagination_schema_factory_swapped(_bounded_pagination_schema):
            return super().paginate(*args, **kwargs)


def make_blueprint(name: str, description: str) -> Blueprint:
    blp = GoalsBlueprint(name, __name__, description=description)
    blp.register_error_handler(HTTPException, handle_http_exception)
    for error in DATABASE_ERRORS:
        blp.register_error_handler(error, handle_database_unavailable)
    # Who is calling is settled first: an anonymous request is a 401 before anything else.
    blp.before_request(_identify)
    blp.after_request(fix_allow_header)
    blp.after_request(_secure_api_response)
    return blp


def _secure_api_response(response: Any) -> Any:
    return secure_response(response, page=False)


def _takes_csv() -> bool:
    """Whether the request's view reads a CSV body (a ``MethodView`` with ``csv_body``)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(getattr(view, "view_class", None), "csv_body", False))


def _identify() -> None:
    context()  # an anonymous request is a 401 before anything else
    refuse_cross_site_write(body_types=("text/csv",) if _takes_csv() else ("application/json",))
    _limit_body()


def _limit_body() -> None:
    """``GOALS_MAX_BODY_BYTES``: a larger body is a 413 before anything reads it. A declared
    ``Content-Length`` is checked here; a chunked body is cut off by Werkzeug while it is read
    (``Request.max_content_length`` applies to this request only, not to the host's).
    A CSV import bounds its body itself, by the size of its goal (:func:`body_limit`)."""
    if _takes_csv():
        return
    limit = body_limit()
    if limit is None:
        return
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)


def body_limit(at_least: int | None = None) -> int | None:
    """The largest body this request may send: ``GOALS_MAX_BODY_BYTES``, or ``at_least``
    when that is more (a CSV file of a large goal), never more than the host's
    ``MAX_CONTENT_LENGTH``. ``None``: no limit."""
    limit: int | None = current_app.config["GOALS_MAX_BODY_BYTES"]
    if limit is not None and at_least is not None:
        limit = max(limit, at_least)
    host_limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if host_limit is not None:
        limit = host_limit if limit is None else min(limit, host_limit)
    return limit


def require_body() -> None:
    """422 when the request has no body (none sent, or an empty one)."""
    if not request.get_data(cache=True):
        raise ValidationFailed(
            {"_schema": ["A JSON body is required."]}, message="The request has no body."
        )


def read_body(limit: int | None) -> bytes:
    """The request body, at most ``limit`` bytes: a larger one is a 413 whether its length is
    declared or it comes chunked (Werkzeug stops reading a chunked body at the limit without
    an error: a body that fills it is taken as too large, never as a cut-off file)."""
    if limit is not None:
        request.max_content_length = limit
        if request.content_length is not None and request.content_length > limit:
            raise _too_large(limit)
    data = request.get_data(cache=True)
    if limit is not None and request.content_length is None and len(data) >= limit:
        raise _too_large(limit)
    return data


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body is larger than {limit} bytes.",
        errors={"json": [f"At most {limit} bytes."]},
    )


class SelectPage(Page):
    """flask-smorest pagination over a SQLAlchemy ``select``: LIMIT/OFFSET and a COUNT query."""

    @property
    def items(self) -> list[Any]:
        session = goals_state().session
        return list(
            session.scalars(
                self.collection.offset(self.page_params.first_item).limit(
                    self.page_params.page_size
                )
            ).all()
        )

    @property
    def item_count(self) -> int:
        session = goals_state().session
        count = sa.select(sa.func.count()).select_from(self.collection.order_by(None).subquery())
        return int(session.scalar(count) or 0)


class IdConverter(IntegerConverter):
    """Goal and interval ids in URLs: 1 to 10 digits (documented as 1 to 2**31 - 1).

    A longer number matches no route, so the catch-all answers a JSON 404 (werkzeug's ``int``
    would try to convert a 5,000-digit number and answer an HTML page). Out-of-range values
    that do match (0, 9999999999) reach the views, which answer a JSON 404 too.
    """

    regex = r"[1-9]\d{0,9}"


def id_parameter_schema(converter: IdConverter) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}
