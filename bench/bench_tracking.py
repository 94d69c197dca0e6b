"""The individual dashboard and a goal's progress at scale, and how the three tracking endpoints
grow with the data.

Same organization and metric source as :mod:`bench.bench_team_widget` (one grouped statement per
actuals call). Reported:

- ``GET /widgets/me`` for ``user-000`` (a member of ``team-00``): median latency, SQL statements
  and actuals calls of one request, next to bare Flask serving the same JSON from memory;
- ``GET /goals/{id}/progress`` of one goal (12 intervals, every member of its team), the same;
- the growth table: at 1x, 4x and 16x goals (10, 40, 160 sales goals x 12 intervals x 25
  members over 4 teams, plus one goal on a team of 25, 100, 400 members whose progress is
  measured), the statements of one request of the team widget, ``/widgets/me`` and progress
  (SPEC section 5: constant) and the median time against 1x, next to the size ratio (it should
  grow at most linearly).

Run from the repository root: ``python -m bench.bench_tracking`` (``--small`` for a quick run,
``--database-url`` for another database than a temporary SQLite file, ``--no-growth`` to skip
the growth table), or as part of every scenario with ``python -m bench``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import Flask

from . import bench_team_widget as team
from .common import backend, counting, dispose, floor_seconds, request_medians

#: The caller of ``/widgets/me``: first member of ``team-00`` (not of the growth run's wide team).
ME = "user-000"
FACTORS = (1, 4, 16)


def _fixture(size: team.Size) -> str:
    return (
        f"{size.users} users, {size.goals} goals x 12 intervals x {size.team_size} members, "
        f"{size.lines:,} sales lines"
    )


def _request(
    app: Flask, host: team.BenchHost, path: str, runs: int, user: str = "admin"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Median, statements and actuals calls of ``GET path``; and its JSON."""
    client = app.test_client()
    engine = app.extensions["sqlalchemy"].engine

    def get() -> Any:
        response = client.get(path, headers={"X-User": user})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response

    payload = get().get_json()  # warm-up: caches, query compilation
    calls_before = host.actuals_calls
    with counting(engine) as statements:
        get()
    calls = host.actuals_calls - calls_before
    figures = {
        "runs": runs,
        **request_medians(get, runs, host.source_seconds),
        "statements": len(statements),
        "actuals_calls": calls,
        "payload_kib": len(get().get_data()) / 1024,
    }
    return figures, payload


def progress_goal(size: team.Size) -> int:
    """The goal whose progress is measured: the wide team's when there is one."""
    return size.goals + 1 if size.wide_team else 1


def measure(
    app: Flask, host: team.BenchHost, size: team.Size, *, floors: bool = True
) -> dict[str, dict[str, Any]]:
    """``/widgets/me`` and progress (and, with ``floors``, the same JSON from memory)."""
    goal_id = progress_goal(size)
    me, me_json = _request(app, host, f"/api/goals/widgets/me?as_of={team.AS_OF}", size.runs, ME)
    me["goals"] = sum(len(category["goals"]) for category in me_json["categories"])
    progress, progress_json = _request(
        app, host, f"/api/goals/goals/{goal_id}/progress?as_of={team.AS_OF}", size.runs
    )
    progress["goal_id"] = goal_id
    progress["intervals"] = len(progress_json["intervals"])
    progress["members"] = len(progress_json["period"]["members"])
    if floors:
        me["floor_median_s"] = floor_seconds(me_json, size.runs)
        progress["floor_median_s"] = floor_seconds(progress_json, size.runs)
    return {"me": me, "progress": progress}


def run(size: team.Size, url: str) -> dict[str, Any]:
    """Build the fixture on ``url`` (dropping what is there); measure ``/widgets/me`` and
    progress."""
    app, host = team.build(size, url)
    try:
        with app.app_context():
            return {"db": backend(url), **measure(app, host, size)}
    finally:
        dispose(app)


# --------------------------------------------------------------------------------------------
# Growth
# --------------------------------------------------------------------------------------------


#: The goals of the caller's team (``team-00``) at every factor: ``/widgets/me`` shows these
#: and the wide team's goal whatever the organization's size (SPEC §12: its cost follows the
#: caller's goals).
CALLER_GOALS = 3


def growth_size(factor: int, *, lines: int, runs: int, base_goals: int = 10) -> team.Size:
    """``base_goals x factor`` goals over 4 teams of 25 (the caller's team holds
    :data:`CALLER_GOALS` of them at every factor, the 3 other teams the rest), plus one goal on
    25 x factor members (not the caller's team: users 25 and up); 425 users (enough for the
    widest team at 16x) and the same sales lines at every factor."""
    return team.Size(
        users=25 * max(FACTORS) + 25,
        team_size=25,
        teams=4,
        goals=base_goals * factor,
        lines=lines,
        runs=runs,
        wide_team=25 * factor,
        caller_goals=CALLER_GOALS,
        wide_offset=25,
    )


def growth(
    url: str, *, lines: int, runs: int, factors: Sequence[int] = FACTORS
) -> list[dict[str, Any]]:
    """One row per endpoint and factor: statements, actuals calls and median time of one
    request. The sales lines are written once; the goals are rewritten per factor."""
    rows: list[dict[str, Any]] = []
    app, host = team.build(growth_size(factors[0], lines=lines, runs=runs), url)
    try:
        for factor in factors:
            size = growth_size(factor, lines=lines, runs=runs)
            if factor != factors[0]:
                team.load_goals(app, host, size)
            with app.app_context():
                widget, widget_json = _request(
                    app, host, f"/api/goals/widgets/team?as_of={team.AS_OF}", runs
                )
                tracked = measure(app, host, size)
            shown = sum(len(category["goals"]) for category in widget_json["categories"])
            for endpoint, figures, what in (
                ("team widget", widget, f"{shown} goals"),
                ("widgets/me", tracked["me"], f"{tracked['me']['goals']} goals"),
                ("progress", tracked["progress"], f"{tracked['progress']['members']} members"),
            ):
                rows.append(
                    {
                        "db": backend(url),
                        "endpoint": endpoint,
                        "factor": factor,
                        "goals": size.goals + 1,
                        "shown": what,
                        **figures,
                    }
                )
    finally:
        dispose(app)
    return rows


#: SPEC §12: ``/widgets/me`` with the caller's goals fixed, the organization's x16.
ME_GROWTH_TARGET = 1.5

#: Noise allowed before time growth is flagged as faster than linear.
LINEAR_TOLERANCE = 1.25


def growth_verdicts(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (db, endpoint): whether statements stayed constant and time grew at most linearly.

    Time is judged on this process's CPU time (wall time on a shared machine includes waiting
    for a CPU), against the size ratio, with :data:`LINEAR_TOLERANCE`."""
    verdicts: dict[tuple[str, str], dict[str, Any]] = {}
    for key in dict.fromkeys((row["db"], row["endpoint"]) for row in rows):
        series = [row for row in rows if (row["db"], row["endpoint"]) == key]
        base = series[0]
        statements = [row["statements"] for row in series]
        calls = [row["actuals_calls"] for row in series]
        # The worst (time ratio / size ratio) over the factors: <= 1 is at most linear.
        worst_cpu = max(
            (row["cpu_median_s"] / base["cpu_median_s"]) / (row["factor"] / base["factor"])
            for row in series[1:]
        )
        worst_wall = max(
            (row["median_s"] / base["median_s"]) / (row["factor"] / base["factor"])
            for row in series[1:]
        )
        last = series[-1]
        verdicts[key] = {
            "wall_at_largest": last["median_s"] / base["median_s"],
            "cpu_at_largest": last["cpu_median_s"] / base["cpu_median_s"],
            "size_at_largest": last["factor"] / base["factor"],
            "statements_constant": len(set(statements)) == 1 and len(set(calls)) == 1,
            "statements": statements,
            "actuals_calls": calls,
            "cpu_over_size": worst_cpu,
            "wall_over_size": worst_wall,
            "at_most_linear": worst_cpu <= LINEAR_TOLERANCE,
        }
    return verdicts


def format_growth(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The growth table, with a verdict line per endpoint."""
    verdicts = growth_verdicts(rows)
    lines = [
        f"{'endpoint':<12}{'db':<11}{'size':>5}{'goals':>6}  {'measured':<12}{'stmts':>6}"
        f"{'actuals':>8}{'median ms':>10}{'cpu ms':>9}{'time x':>7}{'cpu x':>7}{'size x':>7}"
    ]
    for key, verdict in verdicts.items():
        series = [row for row in rows if (row["db"], row["endpoint"]) == key]
        base = series[0]
        for row in series:
            lines.append(
                f"{row['endpoint']:<12}{row['db']:<11}{row['factor']:>4}x{row['goals']:>6}  "
                f"{row['shown']:<12}{row['statements']:>6}{row['actuals_calls']:>8}"
                f"{row['median_s'] * 1000:>10.1f}{row['cpu_median_s'] * 1000:>9.1f}"
                f"{row['median_s'] / base['median_s']:>7.1f}"
                f"{row['cpu_median_s'] / base['cpu_median_s']:>7.1f}"
                f"{row['factor'] / base['factor']:>7.0f}"
            )
        statements = (
            "constant"
            if verdict["statements_constant"]
            else "GROW "
            + " -> ".join(
                f"{n} ({c} actuals)"
                for n, c in zip(verdict["statements"], verdict["actuals_calls"], strict=True)
            )
        )
        growth_note = (
            f"at most linear (worst CPU ratio / size ratio {verdict['cpu_over_size']:.2f})"
            if verdict["at_most_linear"]
            else f"FASTER than linear: CPU ratio {verdict['cpu_over_size']:.2f}x the size ratio"
        )
        lines.append(f"  -> {key[1]} on {key[0]}: statements {statements}; time {growth_note}")
        if key[1] == "widgets/me":
            shown = {row["shown"] for row in series}
            fixed = f"fixed ({series[0]['shown']})" if len(shown) == 1 else "NOT fixed"
            lines.append(
                f"  -> widgets/me on {key[0]}: the caller's goals {fixed}, the organization's "
                f"x{verdict['size_at_largest']:.0f}: time x{verdict['wall_at_largest']:.2f} "
                f"(CPU x{verdict['cpu_at_largest']:.2f}); target <= {ME_GROWTH_TARGET}"
            )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="a tenth of the data, fewer runs")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--no-growth", action="store_true", help="skip the growth table")
    args = parser.parse_args(argv)
    size = team.SMALL if args.small else team.FULL
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'bench.db'}"
        started = time.perf_counter()
        result = run(size, url)
        print(f"{result['db']}: {_fixture(size)} ({time.perf_counter() - started:.1f} s)")
        for name, label in (("me", "widgets/me"), ("progress", "progress")):
            row = result[name]
            print(
                f"{label:<11} {row['median_s'] * 1000:8.1f} ms  floor "
                f"{row['floor_median_s'] * 1000:6.1f} ms  ratio "
                f"{row['median_s'] / row['floor_median_s']:6.1f} x  "
                f"{row['statements']} SQL statements, {row['actuals_calls']} actuals call(s)"
            )
        if not args.no_growth:
            rows = growth(url, lines=size.lines // 5, runs=size.runs)
            print("\n".join(format_growth(rows)))


if __name__ == "__main__":
    main()
