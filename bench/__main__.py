"""Every benchmark scenario, each next to its floor measured in the same run (docs/performance.md).

    python -m bench [--small] [--database-url URL] [--postgres URL | --no-postgres] [--no-load]

Per database (a temporary SQLite file, and PostgreSQL when reachable):

- read endpoints: the team widget, ``/widgets/me`` and a goal's progress, each next to bare
  Flask serving the very same JSON from memory;
- writes: distribution (equal, proportional) and the recurrence job, each next to a plain
  SQLAlchemy Core bulk update / insert of the same rows;
- the growth table: 1x, 4x, 16x goals; statements per request must stay constant and time grow
  at most linearly.

Then, unless ``--no-load``, the example app under ``gunicorn -w 2`` on 127.0.0.1 with a bounded
load generator. Prints the tables and writes ``bench/results/latest.json``. Never part of the
test suite's pass/fail (SPEC section 5): the exit status is 0 whatever the figures, unless a
scenario itself breaks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from . import bench_distribute, bench_load, bench_recurrence, bench_rollup, bench_tracking
from . import bench_team_widget as team
from .common import backend, dispose

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_main"


@dataclass(frozen=True)
class Profile:
    """The sizes of one run of the whole suite."""

    tracking: team.Size
    growth_lines: int
    growth_runs: int
    distribute: bench_distribute.Size
    recurrence: bench_recurrence.Size
    load: bench_load.Size
    #: ``SqlMetricSource`` over a rollup: PostgreSQL's size; SQLite's (writing 10,000,000
    #: lines there takes minutes).
    rollup: bench_rollup.Size
    rollup_sqlite: bench_rollup.Size


PROFILES = {
    # About 15 minutes on a shared 2-core machine with both databases.
    "full": Profile(
        tracking=team.FULL,
        growth_lines=200_000,
        growth_runs=9,
        distribute=bench_distribute.FULL,
        recurrence=bench_recurrence.FULL,
        load=bench_load.FULL,
        rollup=bench_rollup.FULL,
        rollup_sqlite=bench_rollup.SMALL,
    ),
    # One to two minutes.
    "small": Profile(
        tracking=team.Size(users=100, team_size=25, goals=30, lines=50_000, runs=5),
        growth_lines=20_000,
        growth_runs=5,
        distribute=bench_distribute.SMALL,
        recurrence=bench_recurrence.Size(goals=50, team_size=25, teams=10),
        load=bench_load.SMALL,
        rollup=bench_rollup.Size(lines=200_000, raw_lines=50_000, runs=3),
        rollup_sqlite=bench_rollup.Size(lines=200_000, raw_lines=50_000, runs=3),
    ),
}

SCENARIOS = ("tracking", "growth", "distribute", "recurrence", "rollup", "load")


class Log:
    """Progress on stderr, so that stdout is the tables only."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.started:6.0f} s] {message}", file=sys.stderr)


# --------------------------------------------------------------------------------------------
# Databases
# --------------------------------------------------------------------------------------------


def check_scratch(url: str, allow_any: bool) -> None:
    """Refuse a server database whose name does not start with ``bench``: every scenario drops
    and recreates the goals_* tables and the bench's own tables."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" or allow_any:
        return
    if not (parsed.database or "").startswith("bench"):
        raise SystemExit(
            f"refusing {parsed.render_as_string(hide_password=True)}: the benchmarks drop and "
            "recreate tables; use a scratch database named bench* (createdb bench_main) or "
            "pass --allow-any-database"
        )


def reachable(url: str) -> tuple[bool, str]:
    """Whether ``url`` accepts a connection within a few seconds, and the server's version."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            version = connection.execute(sa.text("SHOW server_version")).scalar_one()
        return True, f"PostgreSQL {version}"
    except Exception as error:  # any driver or network error means: skip, with the reason
        return False, str(error).strip().splitlines()[0]
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------


def row(
    scenario: str,
    db: str,
    median_s: float,
    floor_s: float | None,
    statements: int | str | None,
    actuals_calls: int | None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "scenario": scenario,
        "db": db,
        "median_ms": median_s * 1000,
        "floor_ms": None if floor_s is None else floor_s * 1000,
        "ratio": None if not floor_s else median_s / floor_s,
        "statements": statements,
        "actuals_calls": actuals_calls,
        **extra,
    }


def tracking_rows(size: team.Size, url: str, log: Log) -> tuple[list[dict[str, Any]], Any]:
    """Team widget, /widgets/me and progress on one fixture."""
    db = backend(url)
    log(f"{db}: tracking fixture ({size.users} users, {size.goals} goals, {size.lines:,} lines)")
    started = time.perf_counter()
    app, host = team.build(size, url)
    setup = time.perf_counter() - started
    try:
        with app.app_context():
            log(f"{db}: team widget")
            widget = team.measure(app, host, size.runs)
            log(f"{db}: widgets/me and progress")
            tracked = bench_tracking.measure(app, host, size)
    finally:
        dispose(app)
    me, progress = tracked["me"], tracked["progress"]
    rows = [
        row(
            f"team widget ({widget['goals']} goals)",
            db,
            widget["median_s"],
            widget["floor_median_s"],
            widget["statements"],
            widget["actuals_calls"],
            source_ms=widget["source_median_s"] * 1000,
            own_ms=widget["own_median_s"] * 1000,
            one_team_ms=widget["one_team_median_s"] * 1000,
            payload_kib=widget["payload_kib"],
        ),
        row(
            f"widgets/me ({me['goals']} goals)",
            db,
            me["median_s"],
            me["floor_median_s"],
            me["statements"],
            me["actuals_calls"],
            source_ms=me["source_median_s"] * 1000,
            own_ms=me["own_median_s"] * 1000,
            payload_kib=me["payload_kib"],
        ),
        row(
            f"progress ({progress['intervals']} int. x {progress['members']} members)",
            db,
            progress["median_s"],
            progress["floor_median_s"],
            progress["statements"],
            progress["actuals_calls"],
            source_ms=progress["source_median_s"] * 1000,
            own_ms=progress["own_median_s"] * 1000,
            payload_kib=progress["payload_kib"],
        ),
    ]
    raw = {"setup_s": setup, "team_widget": widget, **tracked}
    return rows, raw


def distribute_rows(size: bench_distribute.Size, url: str, log: Log) -> tuple[list[Any], Any]:
    """Per strategy: the whole request (with its 1,000-row response) and the write path alone,
    against the Core UPDATE of the same rows; and the write against UPDATE + history INSERT."""
    db = backend(url)
    log(f"{db}: distribute over {size.members} and {size.reference_members} members")
    result = bench_distribute.run(size, url)
    rows = []
    for strategy in ("equal", "proportional"):
        figures = result[strategy]
        common = {"statements_at_reference": figures["reference_statements"]}
        rows += [
            row(
                f"distribute {strategy} ({size.members} m., request)",
                db,
                figures["median_s"],
                result["floor_median_s"],
                figures["statements"],
                None,
                **common,
            ),
            row(
                f"distribute {strategy} ({size.members} m., write)",
                db,
                figures["write_median_s"],
                result["floor_median_s"],
                figures["statements"],
                None,
                **common,
            ),
            row(
                "  same, floor incl. history rows",
                db,
                figures["write_median_s"],
                result["floor_with_history_median_s"],
                None,
                None,
            ),
        ]
    return rows, result


def recurrence_rows(size: bench_recurrence.Size, url: str, log: Log) -> tuple[list[Any], Any]:
    db = backend(url)
    log(f"{db}: recurrence of {size.goals:,} goals")
    result = bench_recurrence.run(size, url)
    rows = [
        row(
            f"recurrence ({size.goals:,} goals, whole job)",
            db,
            result["job_s"],
            result["floor_s"],
            result["statements"],
            None,
            rows_written=result["rows"],
            statements_per_clone=result["statements_per_clone"],
        )
    ]
    return rows, result


def rollup_rows(size: bench_rollup.Size, url: str, log: Log) -> tuple[list[Any], Any]:
    """The team widget with ``SqlMetricSource`` on a daily + monthly rollup of ``size.lines``
    lines, on the daily rollup alone, and on a sample of raw lines (the source's share
    extrapolated to ``size.lines``)."""
    db = backend(url)
    log(f"{db}: SqlMetricSource over {size.lines:,} lines (rollup) and {size.raw_lines:,} raw")
    result = bench_rollup.run(size, url)
    rollup, daily, raw = result["rollup"], result["daily"], result["raw"]
    lines = f"{size.lines / 1e6:g}M lines"
    rows = [
        row(
            f"team widget, SqlMetricSource, rollup {lines}",
            db,
            rollup["median_s"],
            rollup["floor_median_s"],
            rollup["statements"],
            1,
            source_ms=rollup["source_median_s"] * 1000,
            own_ms=rollup["own_median_s"] * 1000,
        ),
        row(
            "  same, daily rollup only (no monthly)",
            db,
            daily["median_s"],
            daily["floor_median_s"],
            daily["statements"],
            1,
            source_ms=daily["source_median_s"] * 1000,
            own_ms=daily["own_median_s"] * 1000,
        ),
        row(
            f"  same on {size.raw_lines / 1e6:g}M raw lines",
            db,
            raw["median_s"],
            raw["floor_median_s"],
            raw["statements"],
            1,
            source_ms=raw["source_median_s"] * 1000,
            own_ms=raw["own_median_s"] * 1000,
            source_at_full_ms=raw["source_at_full_s"] * 1000,
            full_lines=size.lines,
        ),
    ]
    result = {k: v for k, v in result.items() if k != "size"}
    return rows, result


def widest_progress_row(growth: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Progress of the growth run's widest goal (12 intervals x 400 members at 16x)."""
    widest = max((r for r in growth if r["endpoint"] == "progress"), key=lambda r: r["factor"])
    return row(
        f"progress (12 int. x {widest['shown']}, growth {widest['factor']}x)",
        widest["db"],
        widest["median_s"],
        widest.get("floor_median_s"),
        widest["statements"],
        widest["actuals_calls"],
        source_ms=widest["source_median_s"] * 1000,
        own_ms=widest["own_median_s"] * 1000,
        payload_kib=widest["payload_kib"],
    )


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def _cell(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def format_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    lines = [
        f"{'scenario':<46}{'db':<11}{'median ms':>10}{'floor ms':>10}{'ratio':>8}"
        f"{'SQL stmts':>11}{'actuals':>9}{'source ms':>11}{'own ms':>9}{'own x':>7}"
    ]
    for r in rows:
        own, floor = r.get("own_ms"), r["floor_ms"]
        lines.append(
            f"{r['scenario']:<46}{r['db']:<11}{_cell(r['median_ms'], '.1f'):>10}"
            f"{_cell(floor, '.1f'):>10}{_cell(r['ratio'], '.1f'):>8}"
            f"{_cell(r['statements'], ''):>11}{_cell(r['actuals_calls'], ''):>9}"
            f"{_cell(r.get('source_ms'), '.1f'):>11}{_cell(own, '.1f'):>9}"
            f"{_cell(own / floor if own is not None and floor else None, '.1f'):>7}"
        )
    return lines


def notes_for(rows: Sequence[dict[str, Any]]) -> list[str]:
    """What the table does not say on its own."""
    notes = []
    for r in rows:
        if "one_team_ms" in r:  # the team widget's row (the other read rows have a source_ms)
            notes.append(
                f"{r['db']}: team widget: the metric source takes {r['source_ms']:.1f} ms of "
                f"{r['median_ms']:.1f} ms; one team's widget {r['one_team_ms']:.1f} ms"
            )
        if "source_at_full_ms" in r:
            notes.append(
                f"{r['db']}: SqlMetricSource without the rollup: {r['source_ms']:.0f} ms on the "
                f"raw sample -> ~{r['source_at_full_ms']:.0f} ms at {r['full_lines']:,} lines "
                "(extrapolated linearly)"
            )
        if "statements_at_reference" in r and r["statements_at_reference"] != r["statements"]:
            notes.append(
                f"{r['db']}: {r['scenario']}: statements GROW with members: "
                f"{r['statements_at_reference']} at the reference size -> {r['statements']}"
            )
    return notes


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlalchemy": sa.__version__,
        "cpus": os.cpu_count(),
        "loadavg_at_start": list(os.getloadavg()),
    }


def _json_default(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return str(value)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Every benchmark scenario next to its floor (docs/performance.md).",
    )
    parser.add_argument("--small", action="store_true", help="smaller data: 1-2 minutes")
    parser.add_argument("--database-url", help="first database (default: a temporary SQLite file)")
    parser.add_argument(
        "--postgres",
        default=None,
        help=f"PostgreSQL URL (default: {DEFAULT_POSTGRES} when reachable, else skipped)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite (first database) only")
    parser.add_argument("--no-load", action="store_true", help="skip the gunicorn load run")
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of {', '.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help=f"JSON results (default: {RESULTS})"
    )
    parser.add_argument(
        "--allow-any-database",
        action="store_true",
        help="do not insist on a database named bench* (its goals tables are dropped)",
    )
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(args.only) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)}")
    if args.no_load and "load" in args.only:
        args.only.remove("load")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    profile_name = "small" if args.small else "full"
    profile = PROFILES[profile_name]
    log = Log()
    results: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": ["python", "-m", "bench", *(argv if argv is not None else sys.argv[1:])],
        "profile": profile_name,
        "sizes": asdict(profile),
        "machine": machine(),
        "databases": [],
        "notes": [],
        "scenarios": [],
        "growth": [],
        "growth_verdicts": [],
        "load": None,
        "raw": {},
        "failures": [],
    }
    failures: list[str] = results["failures"]

    def attempt(label: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A scenario that breaks is reported and the others still run."""
        try:
            return call(*args, **kwargs)
        except Exception:
            failures.append(f"{label}: {traceback.format_exc().strip().splitlines()[-1]}")
            log(f"FAILED {label}:\n{traceback.format_exc()}")
            return None

    per_database: tuple[tuple[str, Callable[..., Any], Any], ...] = (
        ("tracking", tracking_rows, profile.tracking),
        ("distribute", distribute_rows, profile.distribute),
        ("recurrence", recurrence_rows, profile.recurrence),
    )
    with tempfile.TemporaryDirectory(prefix="goals-bench-") as directory:
        urls = [args.database_url or f"sqlite:///{Path(directory) / 'bench.db'}"]
        if not args.no_postgres:
            postgres = args.postgres or DEFAULT_POSTGRES
            ok, detail = reachable(postgres)
            if ok:
                urls.append(postgres)
                results["machine"]["postgresql"] = detail
            else:
                note = f"PostgreSQL skipped: {postgres} not reachable ({detail})"
                results["notes"].append(note)
                log(note)
        for url in urls:
            check_scratch(url, args.allow_any_database)
        results["databases"] = [sa.make_url(u).render_as_string(hide_password=True) for u in urls]

        for url in urls:
            db = backend(url)
            for name, scenario, size in per_database:
                if name in args.only:
                    got = attempt(f"{db} {name}", scenario, size, url, log)
                    if got:
                        results["scenarios"].extend(got[0])
                        results["raw"].setdefault(db, {})[name] = got[1]
            if "rollup" in args.only:
                rollup_size = profile.rollup if db == "postgresql" else profile.rollup_sqlite
                got = attempt(f"{db} rollup", rollup_rows, rollup_size, url, log)
                if got:
                    results["scenarios"].extend(got[0])
                    results["raw"].setdefault(db, {})["rollup"] = got[1]
            if "growth" in args.only:
                log(f"{db}: growth 1x, 4x, 16x")
                got = attempt(
                    f"{db} growth",
                    bench_tracking.growth,
                    url,
                    lines=profile.growth_lines,
                    runs=profile.growth_runs,
                )
                if got:
                    results["growth"].extend(got)
                    results["scenarios"].append(widest_progress_row(got))

        if "load" in args.only:
            if bench_load.gunicorn_available():
                log(f"load: gunicorn -w {profile.load.workers}, {profile.load.requests} requests")
                results["load"] = attempt("load", bench_load.run, profile.load)
            else:
                note = "load run skipped: gunicorn is not installed (pip install -e '.[dev]')"
                results["notes"].append(note)
                log(note)

    results["machine"]["loadavg_at_end"] = list(os.getloadavg())
    results["duration_s"] = time.perf_counter() - log.started
    results["notes"].extend(notes_for(results["scenarios"]))
    if results["growth"]:
        results["growth_verdicts"] = [
            {"db": db, "endpoint": endpoint, **verdict}
            for (db, endpoint), verdict in bench_tracking.growth_verdicts(results["growth"]).items()
        ]

    print("\n".join(report(results)))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=_json_default) + "\n")
    print(f"\nwritten: {args.output}")
    return 1 if failures else 0


def report(results: dict[str, Any]) -> list[str]:
    info = results["machine"]
    lines = [
        f"{results['date']}  profile {results['profile']}  {info['cpus']} CPUs  "
        f"load average {info['loadavg_at_start'][0]:.1f} -> {info['loadavg_at_end'][0]:.1f}  "
        f"{results['duration_s']:.0f} s",
        f"python {info['python']}, SQLAlchemy {info['sqlalchemy']}"
        + (f", {info['postgresql']}" if "postgresql" in info else ""),
        "",
    ]
    if results["scenarios"]:
        lines += format_table(results["scenarios"])
        lines.append("")
    if results["growth"]:
        sizes = {row["factor"]: row for row in results["growth"] if row["endpoint"] == "progress"}
        lines.append(
            "growth: "
            + ", ".join(str(row["goals"] - 1) for row in sizes.values())
            + " goals x 12 intervals x 25 members over 4 teams, plus one goal on a team of "
            + ", ".join(str(row["members"]) for row in sizes.values())
            + " members (its progress is the one measured)"
        )
        lines += bench_tracking.format_growth(results["growth"])
        lines.append("")
    if results["load"]:
        lines += bench_load.format_load(results["load"])
        lines.append("")
    for note in results["notes"]:
        lines.append(f"note: {note}")
    for failure in results["failures"]:
        lines.append(f"FAILED: {failure}")
    return lines


if __name__ == "__main__":
    sys.exit(main())
