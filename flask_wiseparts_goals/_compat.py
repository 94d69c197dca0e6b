"""Every use of a private API of a dependency, in one place (STYLE.md, part three).

Each was checked against the release named beside it; ``tests/test_compat.py`` fails when a
release changes what it relies on, so an upgrade breaks there, loudly, not somewhere in a view.
Where a public way exists, it is used instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import marshmallow as ma
from flask_smorest import Api, Blueprint
from flask_smorest import pagination as _pagination

#: The releases the private uses below were checked against.
CHECKED = {"flask-smorest": "0.47.0", "apispec": "6.10.1"}

PaginationFactory = Callable[[int, int, int], type[ma.Schema]]


def pagination_schema_factory() -> PaginationFactory:
    """flask-smorest 0.47: ``pagination._pagination_parameters_schema_factory(def_page,
    def_page_size, def_max_page_size)`` builds the ``page``/``page_size`` query schema of
    ``Blueprint.paginate``; there is no public hook to change it."""
    factory: PaginationFactory = _pagination._pagination_parameters_schema_factory
    return factory


@contextmanager
def pagination_schema_factory_swapped(factory: PaginationFactory) -> Iterator[None]:
    """Use ``factory`` while a ``paginate`` decorator is built (at import, one thread)."""
    original = _pagination._pagination_parameters_schema_factory
    _pagination._pagination_parameters_schema_factory = factory
    try:
        yield
    finally:
        _pagination._pagination_parameters_schema_factory = original


def generate_etag(blp: Blueprint, data: Any) -> str:
    """flask-smorest 0.47: ``Blueprint._generate_etag(data)``, the ETag ``@blp.etag`` answers
    for a dumped response (a POST that honours an optional ``If-Match`` compares with it)."""
    etag: str = blp._generate_etag(data)
    return etag


def spec_paths(api: Api) -> Mapping[str, dict[str, Any]]:
    """apispec 6.10: ``APISpec._paths``, the operations as built so far (apispec offers
    ``to_dict()``, a copy: the error responses are added to the operations themselves)."""
    paths: Mapping[str, dict[str, Any]] = api.spec._paths
    return paths
