"""The dashboards under load: the example host app behind gunicorn, driven over loopback.

The example app (:mod:`example_app`: its own tables, hooks and reference metric source) is
seeded into a temporary SQLite file, a few goals are created through the API (sales for the
year split by month and member, sales for the quarter, orders and visits for the month, an
organization-wide gross sales goal), then ``gunicorn -w 2`` serves it on 127.0.0.1 and a free
port. A bounded load generator (threads, ``http.client``, a fixed number of requests, one new
connection per request as gunicorn's sync workers close them) calls:

- ``GET /api/goals/widgets/team`` as ``acme-manager-north`` (every goal a manager may read);
- ``GET /api/goals/widgets/me`` as ``acme-rep-anna``.

Reported per endpoint: requests/s, p50 and p99 latency, errors; and, measured in-process before
the load, the SQL statements and actuals calls of one request. The load generator shares the
machine with gunicorn: on 2 cores, the figures are what 2 workers give while the clients also
use CPU. gunicorn is always terminated, whatever happens.

Run from the repository root: ``python -m bench.bench_load`` (``--small`` for fewer requests),
or as part of every scenario with ``python -m bench`` (``--no-load`` skips it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import counting, dispose
from .load_floor import PAYLOADS_ENV

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
ADMIN = "acme-admin"

#: (name, path, X-User-Id) of each endpoint under load.
ENDPOINTS = (
    ("widgets/team", "/api/goals/widgets/team", "acme-manager-north"),
    ("widgets/me", "/api/goals/widgets/me", "acme-rep-anna"),
)

#: Created through the API as the admin; every one is active today.
GOALS: tuple[dict[str, Any], ...] = (
    {
        "category": "sales",
        "description": "Net sales north, this year",
        "metric": "net",
        "period": "this_year",
        "aim": "1200000.00",
        "team_id": "acme-north",
        "split_into_subperiods": True,
        "split_by_team_members": True,
    },
    {
        "category": "sales",
        "description": "Net sales south, this quarter",
        "metric": "net",
        "period": "this_quarter",
        "aim": "300000.00",
        "team_id": "acme-south",
        "split_by_team_members": True,
    },
    {
        "category": "orders",
        "description": "Orders this month",
        "metric": "count",
        "period": "this_month",
        "aim": 400,
    },
    {
        "category": "activities",
        "description": "Visits north, this month",
        "metric": "count",
        "period": "this_month",
        "team_id": "acme-north",
        "split_by_team_members": True,
        "goal_mode": "per_business_day",
        "daily_target": "3",
        "filters": {"activity_types": ["visit"]},
    },
    {
        "category": "sales",
        "description": "Gross sales, organization, this year",
        "metric": "gross",
        "period": "this_year",
        "aim": "5000000.00",
        "split_into_subperiods": True,
    },
)


@dataclass(frozen=True)
class Size:
    #: Requests per endpoint (after a warm-up of ``2 * threads``).
    requests: int
    #: Concurrent clients.
    threads: int = 4
    #: gunicorn workers (the machine has 2 cores).
    workers: int = 2


FULL = Size(requests=2000)
SMALL = Size(requests=300)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def prepare(url: str) -> dict[str, Any]:
    """Seed the example app on ``url``, create :data:`GOALS` through the API, and measure one
    request of each endpoint in-process (SQL statements, actuals calls)."""
    from example_app import create_app
    from example_app.seed import seed

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    try:
        with app.app_context():
            counts = seed(today=dt.date.today(), reset=True) or {}
        client = app.test_client()
        for goal in GOALS:
            response = client.post("/api/goals/goals", json=goal, headers={"X-User-Id": ADMIN})
            assert response.status_code == 201, response.get_data(as_text=True)
        manager = app.extensions["goals"].plugin_manager
        calls: list[str] = []

        def before(hook_name: str, *args: Any) -> None:
            if hook_name == "goals_collect_actuals":
                calls.append(hook_name)

        undo = manager.add_hookcall_monitoring(before, lambda *args: None)
        per_request = {}
        try:
            with app.app_context():
                engine = app.extensions["sqlalchemy"].engine
            for name, path, user in ENDPOINTS:
                headers = {"X-User-Id": user}
                response = client.get(path, headers=headers)  # warm-up
                assert response.status_code == 200, response.get_data(as_text=True)
                calls.clear()
                with counting(engine) as statements:
                    client.get(path, headers=headers)
                goals = sum(len(c["goals"]) for c in response.get_json()["categories"])
                per_request[name] = {
                    "statements": len(statements),
                    "actuals_calls": len(calls),
                    "goals": goals,
                    "payload": response.get_json(),
                }
        finally:
            undo()
        return {"seeded": counts, "goals_created": len(GOALS), "per_request": per_request}
    finally:
        dispose(app)


def drive(port: int, path: str, user: str, requests: int, threads: int) -> dict[str, Any]:
    """``requests`` GETs of ``path`` from ``threads`` clients; stops by itself."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    remaining = [requests]

    def take() -> bool:
        with lock:
            if remaining[0] <= 0:
                return False
            remaining[0] -= 1
            return True

    def client() -> None:
        while take():
            started = time.perf_counter()
            try:
                connection = http.client.HTTPConnection(HOST, port, timeout=60)
                try:
                    connection.request("GET", path, headers={"X-User-Id": user})
                    response = connection.getresponse()
                    response.read()
                    status = response.status
                finally:
                    connection.close()
            except OSError as error:
                with lock:
                    errors.append(repr(error))
                continue
            elapsed = time.perf_counter() - started
            with lock:
                if status == 200:
                    latencies.append(elapsed)
                else:
                    errors.append(f"HTTP {status}")

    workers = [threading.Thread(target=client, daemon=True) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    ordered = sorted(latencies)

    def percentile(p: float) -> float | None:
        if not ordered:
            return None
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    return {
        "requests": requests,
        "ok": len(latencies),
        "errors": len(errors),
        "first_errors": sorted(set(errors))[:3],
        "wall_s": wall,
        "requests_per_s": len(latencies) / wall if wall else 0.0,
        "p50_s": percentile(50),
        "p99_s": percentile(99),
        "mean_s": statistics.fmean(latencies) if latencies else None,
    }


def _wait_ready(process: subprocess.Popen[bytes], port: int, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{_tail(log)}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=5)
            try:
                connection.request("GET", "/api/goals/meta", headers={"X-User-Id": ADMIN})
                if connection.getresponse().status == 200:
                    return
            finally:
                connection.close()
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def gunicorn_available() -> bool:
    probe = subprocess.run(
        [sys.executable, "-c", "import gunicorn"], capture_output=True, check=False
    )
    return probe.returncode == 0


@contextmanager
def serve(app_spec: str, directory: Path, size: Size, environment: dict[str, str]) -> Iterator[int]:
    """``gunicorn -w N`` serving ``app_spec`` on a free port of 127.0.0.1, always stopped."""
    port = free_port()
    log = directory / f"gunicorn-{port}.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(size.workers),
        "--bind",
        f"{HOST}:{port}",
        "--log-level",
        "warning",
        app_spec,
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env={**os.environ, **environment},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(process, port, log, timeout=60)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _floor_path(name: str) -> str:
    return "/" + name.replace("/", "-")


def run(size: Size) -> dict[str, Any]:
    """Seed, start gunicorn, drive every endpoint, always stop gunicorn; then the floor: bare
    Flask serving each endpoint's JSON (as captured) under the same gunicorn config."""
    with tempfile.TemporaryDirectory(prefix="goals-bench-load-") as tmp:
        directory = Path(tmp)
        url = f"sqlite:///{directory / 'example.db'}"
        started = time.perf_counter()
        prepared = prepare(url)
        setup = time.perf_counter() - started
        endpoints: dict[str, Any] = {}
        with serve(
            "example_app:create_app()", directory, size, {"EXAMPLE_DATABASE_URL": url}
        ) as port:
            for name, path, user in ENDPOINTS:
                # Warm-up: every worker imports, connects and compiles its queries.
                drive(port, path, user, size.threads * 2, size.threads)
                per_request = {
                    k: v for k, v in prepared["per_request"][name].items() if k != "payload"
                }
                endpoints[name] = {
                    "path": path,
                    "user": user,
                    **per_request,
                    **drive(port, path, user, size.requests, size.threads),
                }
        payloads = directory / "floor.json"
        payloads.write_text(
            json.dumps(
                {
                    _floor_path(name)[1:]: prepared["per_request"][name]["payload"]
                    for name, _, _ in ENDPOINTS
                }
            )
        )
        with serve(
            "bench.load_floor:create_app()", directory, size, {PAYLOADS_ENV: str(payloads)}
        ) as port:
            for name, _, user in ENDPOINTS:
                drive(port, _floor_path(name), user, size.threads * 2, size.threads)
                floor = drive(port, _floor_path(name), user, size.requests, size.threads)
                row = endpoints[name]
                row["floor_requests_per_s"] = floor["requests_per_s"]
                row["floor_p50_s"] = floor["p50_s"]
                row["floor_errors"] = floor["errors"]
                row["ratio"] = (
                    floor["requests_per_s"] / row["requests_per_s"]
                    if row["requests_per_s"]
                    else None
                )
        return {
            "server": f"gunicorn -w {size.workers} (sync) on {HOST}, example_app, SQLite",
            "threads": size.threads,
            "workers": size.workers,
            "requests_per_endpoint": size.requests,
            "setup_s": setup,
            "seeded": prepared["seeded"],
            "goals_created": prepared["goals_created"],
            "endpoints": endpoints,
        }


def format_load(result: dict[str, Any]) -> list[str]:
    lines = [
        "ratio = floor req/s / req/s: bare Flask serving the same JSON under the same gunicorn "
        "config, in the same run",
        f"{result['server']}; {result['requests_per_endpoint']:,} requests per endpoint from "
        f"{result['threads']} client threads; {result['goals_created']} goals",
        f"{'endpoint':<14}{'goals':>6}{'ok':>7}{'errors':>7}{'req/s':>8}{'p50 ms':>9}"
        f"{'p99 ms':>9}{'stmts':>7}{'actuals':>8}{'floor req/s':>12}{'ratio':>7}",
    ]
    for name, row in result["endpoints"].items():
        p50 = "-" if row["p50_s"] is None else f"{row['p50_s'] * 1000:.1f}"
        p99 = "-" if row["p99_s"] is None else f"{row['p99_s'] * 1000:.1f}"
        lines.append(
            f"{name:<14}{row['goals']:>6}{row['ok']:>7}{row['errors']:>7}"
            f"{row['requests_per_s']:>8.1f}{p50:>9}{p99:>9}{row['statements']:>7}"
            f"{row['actuals_calls']:>8}{row.get('floor_requests_per_s', 0):>12.1f}"
            f"{row.get('ratio') or 0:>7.1f}"
        )
        if row["first_errors"]:
            lines.append(f"  ! errors: {', '.join(row['first_errors'])}")
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help=f"{SMALL.requests} requests")
    args = parser.parse_args(argv)
    print("\n".join(format_load(run(SMALL if args.small else FULL))))


if __name__ == "__main__":
    main()
