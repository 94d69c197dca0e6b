"""pyinstrument profiles of the team widget and a goal's progress (docs/performance.md).

    python -m bench.profile [--small] [--database-url URL] [--label NAME] [--requests N]

Builds the team-widget fixture (300 goals x 12 intervals x 25 members, one more goal on a team
of 400 members, a million sales lines; ``--small``: a tenth) on a temporary SQLite file or
``--database-url`` (its goals tables are dropped first; a server database must be named
bench*), then profiles ``N`` requests of each through the Flask test client:

- ``GET /api/goals/widgets/team`` (every goal, as the admin);
- ``GET /api/goals/goals/<id>/progress`` of a 25-member goal and of the 400-member goal.

Writes ``bench/results/profile-<scenario>-<db>[-<label>].txt`` (the call tree, as text) and
``.html`` (pyinstrument's interactive view) for each; ``--label before``/``after`` keeps two
runs side by side.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from flask import Flask
from pyinstrument import Profiler

from . import bench_team_widget as team
from .__main__ import check_scratch
from .common import backend, dispose

RESULTS = Path(__file__).resolve().parent / "results"
WIDE_MEMBERS = 400


def profile(app: Flask, path: str, requests: int) -> Profiler:
    client = app.test_client()
    response = client.get(path)  # warm-up: caches, query compilation
    assert response.status_code == 200, response.get_data(as_text=True)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(requests):
        client.get(path)
    profiler.stop()
    return profiler


def run(size: team.Size, url: str, requests: int, label: str | None) -> list[Path]:
    app, _ = team.build(size, url)
    db = backend(url)
    suffix = f"-{db}" + (f"-{label}" if label else "")
    scenarios = {
        "team-widget": f"/api/goals/widgets/team?as_of={team.AS_OF}",
        "progress-25": f"/api/goals/goals/1/progress?as_of={team.AS_OF}",
        f"progress-{size.wide_team}": (
            f"/api/goals/goals/{size.goals + 1}/progress?as_of={team.AS_OF}"
        ),
    }
    written = []
    try:
        with app.app_context():
            for name, path in scenarios.items():
                profiler = profile(app, path, requests)
                RESULTS.mkdir(parents=True, exist_ok=True)
                text = RESULTS / f"profile-{name}{suffix}.txt"
                text.write_text(
                    f"{requests} x GET {path} ({size.goals} goals, {size.lines:,} lines, {db})\n"
                    + profiler.output_text(unicode=True, color=False)
                )
                html = text.with_suffix(".html")
                html.write_text(profiler.output_html())
                written += [text, html]
    finally:
        dispose(app)
    return written


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="a tenth of the data")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--requests", type=int, default=5, help="profiled requests per scenario")
    parser.add_argument("--label", help="added to the file names (e.g. before, after)")
    args = parser.parse_args(argv)
    base = team.SMALL if args.small else team.FULL
    size = replace(base, wide_team=min(WIDE_MEMBERS, base.users))
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'bench.db'}"
        check_scratch(url, allow_any=False)
        for path in run(size, url, args.requests, args.label):
            print(f"written: {path}")


if __name__ == "__main__":
    main()
