"""The private APIs of dependencies that ``flask_wiseparts_goals._compat`` relies on still
behave as they did in the releases it names: an upgrade that changes one fails here."""

from __future__ import annotations

from importlib.metadata import version

import marshmallow as ma
import pytest
from conftest import created, make_app, sales_goal
from flask_smorest import Blueprint

from flask_wiseparts_goals import _compat


def test_the_checked_releases_are_the_installed_ones_or_newer() -> None:
    for package, checked in _compat.CHECKED.items():
        installed = tuple(int(p) for p in version(package).split(".")[:3] if p.isdigit())
        assert installed >= tuple(int(p) for p in checked.split(".")), package


def test_the_pagination_factory_builds_the_page_schema_and_can_be_swapped() -> None:
    factory = _compat.pagination_schema_factory()
    schema = factory(1, 10, 100)
    assert issubclass(schema, ma.Schema)
    loaded = schema().load({"page": "2", "page_size": "5"})
    assert (loaded.page, loaded.page_size) == (2, 5)

    def bounded(page: int, size: int, maximum: int) -> type[ma.Schema]:
        return factory(page, size, 7)

    with _compat.pagination_schema_factory_swapped(bounded):
        assert _compat.pagination_schema_factory() is bounded
        blp = Blueprint("compat", __name__)

        @blp.paginate()
        def view(pagination_parameters):  # type: ignore[no-untyped-def]
            return []

    assert _compat.pagination_schema_factory() is factory  # restored
    used = view._apidoc["pagination"]["parameters"]["schema"]  # type: ignore[attr-defined]
    assert used().load({"page_size": "7"}).page_size == 7
    with pytest.raises(ma.ValidationError):  # the swapped factory's maximum, not 100
        used().load({"page_size": "8"})


def test_generate_etag_is_the_etag_of_blp_etag(api) -> None:  # type: ignore[no-untyped-def]
    from flask_wiseparts_goals.api.intervals import blp

    goal = created(api, sales_goal(aim="900.00", split_into_subperiods=True))
    response = api.get(f"/goals/{goal['id']}/intervals")  # @blp.etag of the dumped intervals
    assert response.headers["ETag"] == f'"{_compat.generate_etag(blp, response.json)}"'


def test_spec_paths_are_the_operations_being_built() -> None:
    app = make_app(None)
    api = app.extensions["goals"].api
    paths = _compat.spec_paths(api)
    operation = paths["/api/goals/goals/{goal_id}"]["get"]
    assert "404" in operation["responses"]  # what _document_errors added in place
    assert api.spec.to_dict()["paths"]["/api/goals/goals/{goal_id}"]["get"] == operation
