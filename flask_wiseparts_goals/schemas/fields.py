"""Field types shared by every schema."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from typing import Any

import marshmallow as ma

from ..domain.rules import MAX_VALUE, check_places

#: What a decimal string looks like on the wire: ASCII digits, an optional sign and fraction.
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")

#: The one date format of the API (ISO 8601's extended calendar date).
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

#: The most ids one include/exclude or id list of a filter may name.
MAX_FILTER_IDS = 1000


class IsoDate(ma.fields.Date):
    """A date as ``YYYY-MM-DD`` only. Python's ``date.fromisoformat`` (marshmallow's parser)
    also takes ``20260101`` and ``2026-W01-1``; the API names one format so every client and
    every log line reads the same."""

    default_error_messages = {"invalid": "Not a valid date: use YYYY-MM-DD."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(ma.fields.Boolean):
    """``true``/``false`` (JSON booleans, or ``true``/``false``/``1``/``0`` in a query string).
    marshmallow's own Boolean also takes ``yes``, ``on``, ``t``...: a typo like ``confirm=ye``
    would then be an error but ``confirm=y`` a confirmation."""

    truthy = {True, "true", "1"}
    falsy = {False, "false", "0"}
    default_error_messages = {"invalid": "Must be true or false."}


class DecimalString(ma.fields.Decimal):
    """An exact decimal that travels as a JSON string (``"1234.50"``).

    Loading accepts a string or a JSON integer (a JSON number with a fraction has already been
    through a binary float, which may have changed it), refuses NaN/Infinity, negative values
    (unless ``signed``), more than ``max_places`` decimals (never rounds silently) and values
    beyond the columns' precision. Dumping formats with the owning object's ``places`` when it
    has one (2 for money, 0 for counts), so ``"100"`` and ``"100.00"`` mean what the metric means.
    Registered with apispec as ``type: string, format: decimal``.
    """

    default_error_messages = {
        "too_large": f"Must be at most {MAX_VALUE}.",
        "negative": "Must be greater than or equal to 0.",
        "float": 'Send decimals as JSON strings (e.g. "12.50"), not as fractional JSON numbers.',
    }

    def __init__(self, *, max_places: int = 2, signed: bool = False, **kwargs: Any) -> None:
        super().__init__(as_string=True, **kwargs)
        self.max_places = max_places
        self.signed = signed

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, float):
            raise self.make_error("float")
        if isinstance(value, str) and not PLAIN_DECIMAL.fullmatch(value):
            raise self.make_error("invalid")  # "1_000", " 1", "1e3", non-ASCII digits
        number: Decimal = super()._deserialize(value, attr, data, **kwargs)
        if abs(number) > MAX_VALUE:
            raise self.make_error("too_large")
        if number < 0 and not self.signed:
            raise self.make_error("negative")
        problem = check_places(number, self.max_places)
        if problem:
            raise ma.ValidationError(problem)
        return number + 0  # normalizes -0 to 0

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        places = getattr(obj, "places", None)
        if places is None and isinstance(obj, dict):
            places = obj.get("places")
        number = Decimal(value)
        if places is not None:
            number = number.quantize(Decimal(1).scaleb(-int(places)))
        return format(number, "f")


def storable_text(value: str) -> None:
    """Validator: text every supported database stores as sent. PostgreSQL refuses NUL
    characters, and UTF-8 cannot encode the lone surrogates a JSON ``"\\ud800"`` escape gives."""
    if "\x00" in value:
        raise ma.ValidationError("Must not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ma.ValidationError("Must be valid Unicode text (no lone surrogates).") from None


class TextField(ma.fields.String):
    """A string that every supported database can store (:func:`storable_text`)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        storable_text(text)
        return text


class DescriptionField(TextField):
    """Free text a person reads (a goal's description): not empty, not only whitespace."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text.strip():
            raise ma.ValidationError("Must not be empty or only whitespace.")
        return text


class HostIdField(TextField):
    """An opaque id of the host (user, team, customer...): 1 to 64 characters."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Length(min=1, max=64))
        super().__init__(**kwargs)


def unique_list(values: list[Any]) -> None:
    """Validator: a list may not name the same id twice."""
    duplicates = sorted(str(value) for value, count in Counter(values).items() if count > 1)
    if duplicates:
        raise ma.ValidationError(f"Duplicated values: {', '.join(duplicates)}.")


def id_list(item: ma.fields.Field[Any], **kwargs: Any) -> ma.fields.List[Any]:
    """A list of distinct ids, at most :data:`MAX_FILTER_IDS` (``maxItems`` in the OpenAPI)."""
    return ma.fields.List(
        item, validate=[ma.validate.Length(max=MAX_FILTER_IDS), unique_list], **kwargs
    )
