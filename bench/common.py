"""What every benchmark shares: medians, statement counting, the in-memory floor, databases."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import Flask, jsonify


def median_seconds(call: Callable[[], Any], runs: int) -> float:
    """The median wall time of ``runs`` calls (the machine is shared: medians, not means)."""
    return medians(call, runs)[0]


def medians(call: Callable[[], Any], runs: int) -> tuple[float, float]:
    """The median wall time and the median CPU time of this process over ``runs`` calls.

    On a shared machine wall time includes waiting for a CPU; this process's CPU time does not
    (nor does it include a database server's work), which makes it the steadier measure of how
    work grows with the data."""
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(wall), statistics.median(cpu)


def request_medians(
    call: Callable[[], Any], runs: int, source_seconds: list[float]
) -> dict[str, float]:
    """Medians over ``runs`` requests of the wall time, this process's CPU time, the metric
    source's time (what the bench host's ``goals_collect_actuals`` appended to
    ``source_seconds`` during the request) and the extension's own time: wall minus source,
    per request. The floor is compared with the own time for the tracking targets (SPEC §12:
    "the extension's own time, metric source excluded")."""
    wall, cpu, source, own = [], [], [], []
    for _ in range(runs):
        before = len(source_seconds)
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        elapsed = time.perf_counter() - started
        cpu.append(time.process_time() - started_cpu)
        spent = sum(source_seconds[before:])
        wall.append(elapsed)
        source.append(spent)
        own.append(elapsed - spent)
    return {
        "median_s": statistics.median(wall),
        "cpu_median_s": statistics.median(cpu),
        "source_median_s": statistics.median(source),
        "own_median_s": statistics.median(own),
    }


@contextmanager
def counting(engine: sa.Engine) -> Iterator[list[str]]:
    """Every SQL statement sent to ``engine`` inside the block (an executemany counts once)."""
    statements: list[str] = []

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)


def floor_app(payloads: Mapping[str, Any]) -> Flask:
    """Bare Flask serving each payload at ``/<name>`` with ``jsonify``: no extension, no
    database. A read endpoint can never be faster than this; it is the floor of the ratio."""
    app = Flask("bench_floor")

    def serve(name: str) -> Any:
        return jsonify(payloads[name])

    app.add_url_rule("/<name>", "serve", serve)
    return app


def floor_seconds(payload: Any, runs: int) -> float:
    """The median time to serve ``payload`` (parsed JSON) from memory with bare Flask."""
    client = floor_app({"payload": payload}).test_client()
    client.get("/payload")  # warm-up
    return median_seconds(lambda: client.get("/payload"), runs)


def backend(url: str) -> str:
    """``sqlite`` or ``postgresql`` (the dialect name, as the results table shows it)."""
    return sa.make_url(url).get_backend_name()


def dispose(app: Flask) -> None:
    """Close the app's sessions and pooled connections, so the next scenario may drop tables
    (PostgreSQL waits on a table lock held by an idle pooled connection otherwise)."""
    state = app.extensions["sqlalchemy"]
    with app.app_context():
        state.session.remove()
        state.engine.dispose()
