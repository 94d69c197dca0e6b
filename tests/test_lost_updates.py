"""No lost update on any supported database (SPEC §6): ``If-Match`` is a compare-and-set.

WRITERS clients, each in its own thread with its own session and connection, read one
resource and then all write it with the ETag they read, round after round. Runs on a SQLite
*file* (a real second connection per thread; the in-memory database of the other tests shares
one connection) and, with ``GOALS_TEST_DATABASE_URL``, on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import conftest
import pytest
from conftest import ApiClient, FakeHost, created, first_interval, make_app, sales_goal
from flask import Flask

#: Enough to lose a barrier if a writer dies; never a timing assertion.
BARRIER_TIMEOUT = 120


@pytest.fixture
def app(host: FakeHost, tmp_path: Path) -> Iterator[Flask]:
    url = conftest.DATABASE_URL or f"sqlite:///{tmp_path / 'goals.db'}"
    app = make_app(host, SQLALCHEMY_DATABASE_URI=url)
    conftest._reset(app)
    with app.app_context():
        host.install(app)
        yield app
        app.extensions["sqlalchemy"].session.remove()
        app.extensions["sqlalchemy"].engine.dispose()


# --------------------------------------------------------------------------------------------
# (a) Writers racing with the same ETag
# --------------------------------------------------------------------------------------------

WRITERS = 8
ROUNDS = 25


@dataclass(frozen=True)
class Race:
    """One write endpoint raced by WRITERS clients, each with the ETag it read first."""

    method: str
    #: The written resource (its GET gives the ETag); ``{goal}`` and ``{interval}`` filled in.
    path: str
    #: The body setting the value.
    body: Callable[[str], dict[str, Any]]
    #: The distinct value writer ``index`` sends in ``round_``.
    value: Callable[[int, int], str]
    #: Which history rows record the value: (field, on the interval?, user_id).
    history: tuple[str, bool, str | None]
    #: The current value in the resource's GET.
    read: Callable[[dict[str, Any]], str]


RACES = {
    "allocations": Race(
        "PUT",
        "/goals/{goal}/intervals/{interval}/allocations",
        lambda value: {"allocations": [{"user_id": "rep", "target": value}]},
        lambda round_, index: f"{round_ * WRITERS + index + 1}.00",
        ("target", True, "rep"),
        lambda body: next(a["target"] for a in body["allocations"] if a["user_id"] == "rep"),
    ),
    "interval aim": Race(
        "PATCH",
        "/goals/{goal}/intervals/{interval}",
        lambda value: {"aim": value},
        lambda round_, index: f"{990 - round_ * WRITERS - index}.00",
        ("aim", True, None),
        lambda body: body["aim"],
    ),
    "goal aim": Race(
        "PATCH",
        "/goals/{goal}",
        lambda value: {"aim": value},
        lambda round_, index: f"{3000 + round_ * WRITERS + index + 1}.00",
        ("aim", False, None),
        lambda body: body["aim"],
    ),
    "goal stretch aim": Race(
        "PATCH",
        "/goals/{goal}",
        lambda value: {"stretch_aim": value},
        lambda round_, index: f"{4000 + round_ * WRITERS + index + 1}.00",
        ("stretch_aim", False, None),
        lambda body: body["stretch_aim"],
    ),
}


def run_writers(writer: Callable[[int], list[Any]]) -> list[Any]:
    """WRITERS threads running ``writer(index)`` at once; their outcomes, in writer order."""
    with ThreadPoolExecutor(WRITERS) as pool:
        futures = [pool.submit(writer, index) for index in range(WRITERS)]
        return [outcome for future in futures for outcome in future.result()]


@pytest.mark.parametrize("race", list(RACES.values()), ids=list(RACES))
def test_one_writer_per_etag_wins_and_no_update_is_lost(
    app: Flask, api: ApiClient, race: Race
) -> None:
    """WRITERS clients read the resource, then all write with the ETag they read, at once.
    Per round exactly one wins and the others get 412; every accepted write is in the history,
    each one starting from the value the previous one left; the final value is the last win."""
    goal = created(
        api,
        sales_goal(
            aim="3000.00", team_id="team-a", split_by_team_members=True, split_into_subperiods=True
        ),
    )
    interval = first_interval(api, goal["id"])
    path = race.path.format(goal=goal["id"], interval=interval["id"])
    initial = race.read(api.get(path).json)
    barrier = threading.Barrier(WRITERS)

    def writer(index: int) -> list[tuple[int, str, str, int]]:
        client = ApiClient(app)  # its own client; each request its own session and connection
        outcomes = []
        for round_ in range(ROUNDS):
            etag = client.get(path).headers["ETag"]
            barrier.wait(BARRIER_TIMEOUT)  # everyone has read the same state
            value = race.value(round_, index)
            response = client.open(
                race.method, path, json=race.body(value), headers={"If-Match": etag}
            )
            outcomes.append((round_, etag, value, response.status_code))
            barrier.wait(BARRIER_TIMEOUT)  # every write of the round is over
        return outcomes

    outcomes = run_writers(writer)

    accepted = []
    for round_ in range(ROUNDS):
        this_round = [o for o in outcomes if o[0] == round_]
        assert len({etag for _, etag, _, _ in this_round}) == 1, "the writers read different states"
        statuses = sorted(status for _, _, _, status in this_round)
        assert statuses == [200] + [412] * (WRITERS - 1), (round_, statuses)
        accepted += [value for _, _, value, status in this_round if status == 200]

    assert race.read(api.get(path).json) == accepted[-1]
    field_name, on_interval, user_id = race.history
    history = [
        (entry["old_value"], entry["new_value"])
        for entry in api.get(f"/goals/{goal['id']}/history?page_size=500").json
        if entry["operation"] == "manual"
        and entry["field"] == field_name
        and entry["user_id"] == user_id
        and entry["interval_id"] == (interval["id"] if on_interval else None)
    ]
    expected_old = [initial, *accepted[:-1]]
    assert history == list(zip(expected_old, accepted, strict=True))


def test_csv_imports_and_other_writes_lose_no_update(app: Flask, api: ApiClient) -> None:
    """SPEC §13: the CSV import is a compare-and-set like every PUT. Half the writers upload a
    spreadsheet (``PUT targets.csv`` with the ETag of their download), half set the same
    member's target through ``PUT .../allocations`` with theirs; per round one wins, the
    others get 412, and the history chains every accepted value from the one before."""
    goal = created(
        api,
        sales_goal(
            aim="3000.00", team_id="team-a", split_by_team_members=True, split_into_subperiods=True
        ),
    )
    interval = first_interval(api, goal["id"])
    csv_path = f"/goals/{goal['id']}/targets.csv"
    allocations = f"/goals/{goal['id']}/intervals/{interval['id']}/allocations"
    start = interval["start_date"]
    barrier = threading.Barrier(WRITERS)

    def writer(index: int) -> list[tuple[int, str, int]]:
        client = ApiClient(app)
        by_csv = index % 2 == 0
        outcomes = []
        for round_ in range(ROUNDS):
            etag = client.get(csv_path if by_csv else allocations).headers["ETag"]
            barrier.wait(BARRIER_TIMEOUT)
            value = f"{round_ * WRITERS + index + 1}.00"
            if by_csv:
                response = client.put(
                    csv_path,
                    data=f"interval_start,user_id,target\r\n{start},rep,{value}\r\n",
                    content_type="text/csv",
                    headers={"If-Match": etag},
                )
            else:
                body = {"allocations": [{"user_id": "rep", "target": value}]}
                response = client.put(allocations, json=body, headers={"If-Match": etag})
            outcomes.append((round_, value, response.status_code))
            barrier.wait(BARRIER_TIMEOUT)
        return outcomes

    outcomes = run_writers(writer)

    accepted = []
    for round_ in range(ROUNDS):
        statuses = sorted(status for r, _, status in outcomes if r == round_)
        assert statuses == [200] + [412] * (WRITERS - 1), (round_, statuses)
        accepted += [value for r, value, status in outcomes if r == round_ and status == 200]
    rep = next(a for a in api.get(allocations).json["allocations"] if a["user_id"] == "rep")
    assert rep["target"] == accepted[-1]
    history = [
        (entry["old_value"], entry["new_value"])
        for entry in api.get(f"/goals/{goal['id']}/history?page_size=500").json
        if entry["operation"] in ("manual", "import")
        and entry["field"] == "target"
        and entry["user_id"] == "rep"
    ]
    assert history == list(zip(["0.00", *accepted[:-1]], accepted, strict=True))
