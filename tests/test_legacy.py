"""Migrating legacy team-level activity goals: the service, its idempotency, bad data, the
recurrence of migrated goals, and ``flask goals migrate-legacy``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import ORG, OTHER_ORG, ApiClient, FakeHost, dump_tables, make_app
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_wiseparts_goals import LegacyTeamTargets, hookimpl
from flask_wiseparts_goals.models import Goal, HistoryEntry
from flask_wiseparts_goals.plugins import HostHooks
from flask_wiseparts_goals.services import legacy as legacy_service
from flask_wiseparts_goals.services.goals import delete_goal
from flask_wiseparts_goals.services.legacy import (
    MigrationSummary,
    TeamStatus,
    migrate_legacy,
)

MAY = date(2026, 5, 1)
#: Ascension Day 2026, a Thursday: the host's holiday.
HOLIDAY = date(2026, 5, 14)
#: Weekdays of May 2026 (it starts on a Friday): 21, minus the holiday.
MAY_BUSINESS_DAYS = 20
#: June 2026 starts on a Monday: 22 weekdays, no holiday.
JUNE_BUSINESS_DAYS = 22

GOOD = LegacyTeamTargets(
    team_id="team-a",
    daily_targets={"rep": Decimal("4"), "u2": Decimal("3.5"), "u3": Decimal("0.25")},
    activity_types=("visit", "inbound_call"),
    verified_only=True,
)


@dataclass
class LegacyHost(FakeHost):
    """The fake host, plus legacy targets per organization (entries or plain mappings)."""

    legacy: dict[str, list[Any]] = field(default_factory=lambda: {ORG: [GOOD]})

    @hookimpl
    def goals_legacy_activity_targets(self, organization_id: str) -> list[Any]:
        self.calls.append(("legacy", organization_id))
        return self.legacy.get(organization_id, [])


@pytest.fixture
def host() -> LegacyHost:
    return LegacyHost(holidays={HOLIDAY})


def run(app: Flask, **kwargs: Any) -> MigrationSummary:
    state = app.extensions["goals"]
    kwargs.setdefault("organization_ids", [ORG])
    kwargs.setdefault("start_month", MAY)
    kwargs.setdefault("dry_run", False)
    return migrate_legacy(state.session, HostHooks(state.plugin_manager), app.config, **kwargs)


def goals_of(db: SQLAlchemy, team_id: str | None = None) -> list[Goal]:
    query = sa.select(Goal).order_by(Goal.id)
    if team_id is not None:
        query = query.where(Goal.team_id == team_id)
    db.session.expire_all()
    return list(db.session.scalars(query))


def by_team(summary: MigrationSummary) -> dict[str, Any]:
    return {team.team_id: team for team in summary.teams}


# -- a migration -------------------------------------------------------------------------------


def test_migration_keeps_each_daily_target_and_the_months_business_days(
    app: Flask, db: SQLAlchemy
) -> None:
    summary = run(app)

    assert summary.ok and not summary.dry_run
    (result,) = summary.teams
    assert result.status is TeamStatus.MIGRATED
    (goal,) = goals_of(db)
    assert result.goal_id == goal.id
    assert (goal.organization_id, goal.team_id, goal.category) == (ORG, "team-a", "activities")
    assert (goal.start_date, goal.end_date) == (date(2026, 5, 1), date(2026, 5, 31))
    assert goal.goal_mode == "per_business_day"
    assert goal.recurrence == "monthly" and goal.recurring_until is None
    assert goal.split_by_team_members and not goal.split_into_subperiods
    assert goal.metric == "count"
    assert goal.filters == {"activity_types": ["visit", "inbound_call"], "verified_only": True}
    assert goal.created_by == "system"
    assert goal.description == "Daily activities (migrated)"
    assert goal.timezone == "UTC"

    (interval,) = goal.intervals
    assert interval.business_days == MAY_BUSINESS_DAYS
    daily = {a.user_id: a.daily_target for a in interval.allocations}
    monthly = {a.user_id: a.target for a in interval.allocations}
    assert [a.user_id for a in interval.allocations] == ["rep", "u2", "u3"]
    assert daily == {"rep": Decimal("4"), "u2": Decimal("3.5"), "u3": Decimal("0.25")}
    assert all(isinstance(value, Decimal) for value in daily.values())
    assert monthly == {"rep": Decimal("80"), "u2": Decimal("70"), "u3": Decimal("5")}
    assert interval.daily_target == Decimal("7.75")
    assert interval.aim == goal.aim == Decimal("155")
    assert result.business_days == MAY_BUSINESS_DAYS
    assert result.daily_total == Decimal("7.75") and result.monthly_total == Decimal("155")

    # What a manager sees through the API.
    api = ApiClient(app)
    body = api.get(f"/goals/{goal.id}/intervals/{interval.id}/allocations").json
    assert [
        (a["user_id"], a["daily_target"], a["effective_target"]) for a in body["allocations"]
    ] == [
        ("rep", "4.00", "80.00"),
        ("u2", "3.50", "70.00"),
        ("u3", "0.25", "5.00"),
    ]


def test_migration_is_recorded_in_the_history_as_migration(app: Flask, db: SQLAlchemy) -> None:
    run(app, organization_ids=[ORG])
    (goal,) = goals_of(db)
    rows = db.session.scalars(sa.select(HistoryEntry).where(HistoryEntry.goal_id == goal.id)).all()
    migration = [r for r in rows if r.operation == "migration"]
    assert {r.changed_by for r in rows} == {"system"}
    assert ("goal", None, "migrated") in {(r.field, r.user_id, r.new_value) for r in migration}
    dailies = {r.user_id: r.new_value for r in migration if r.field == "daily_target" and r.user_id}
    assert {k: Decimal(v) for k, v in dailies.items()} == {
        "rep": Decimal("4"),
        "u2": Decimal("3.5"),
        "u3": Decimal("0.25"),
    }


def test_created_by_comes_from_the_configuration(host: LegacyHost) -> None:
    app = make_app(host, GOALS_MIGRATION_CREATED_BY="migration-bot")
    from conftest import _reset

    _reset(app)
    with app.app_context():
        run(app)
        db = app.extensions["sqlalchemy"]
        (goal,) = goals_of(db)
        assert goal.created_by == "migration-bot"
        rows = db.session.scalars(sa.select(HistoryEntry.changed_by)).all()
        assert set(rows) == {"migration-bot"}
        db.session.remove()
        db.engine.dispose()


def test_members_without_a_legacy_target_start_at_zero(
    app: Flask, db: SQLAlchemy, host: LegacyHost
) -> None:
    host.legacy[ORG] = [LegacyTeamTargets(team_id="team-a", daily_targets={"u2": Decimal("2")})]
    (result,) = run(app).teams
    assert result.status is TeamStatus.MIGRATED
    assert result.notes == ("no legacy target, start at 0: rep, u3",)
    (goal,) = goals_of(db)
    assert goal.description == "Daily visits (migrated)"
    assert goal.filters == {"activity_types": ["visit"]}  # verified_only False is no filter
    targets = {a.user_id: a.daily_target for a in goal.intervals[0].allocations}
    assert targets == {"rep": 0, "u2": Decimal("2"), "u3": 0}


def test_hook_goals_legacy_activity_targets(app: Flask, db: SQLAlchemy, host: LegacyHost) -> None:
    """Every plugin answers (their teams add up); mappings and numbers as strings or ints are
    taken as exact decimals; no activity types means visits."""

    class SecondPlugin:
        @hookimpl
        def goals_legacy_activity_targets(self, organization_id: str) -> list[Any]:
            return [
                {"team_id": "team-b", "daily_targets": {"u4": "2.5", "u5": 3}, "activity_types": []}
            ]

    app.extensions["goals"].plugin_manager.register(SecondPlugin())
    summary = run(app)

    assert ("legacy", ORG) in host.calls
    assert sorted(t.team_id for t in summary.migrated) == ["team-a", "team-b"], summary.teams
    (goal,) = goals_of(db, "team-b")
    assert {a.user_id: a.daily_target for a in goal.intervals[0].allocations} == {
        "u4": Decimal("2.5"),
        "u5": Decimal("3"),
    }
    assert goal.filters["activity_types"] == ["visit"]


def test_current_month_in_the_organizations_timezone(
    app: Flask, db: SQLAlchemy, freeze_now: Any
) -> None:
    # 23:30 on May 31 in UTC is already June 1 in Berlin.
    freeze_now(datetime(2026, 5, 31, 23, 30, tzinfo=UTC))
    summary = run(app, start_month=None, dry_run=True)
    assert summary.organizations[0].start_date == date(2026, 5, 1)
    assert summary.organizations[0].timezone_source == "default"

    summary = run(app, start_month=None, timezone="Europe/Berlin")
    assert summary.organizations[0].start_date == date(2026, 6, 1)
    (goal,) = goals_of(db)
    assert goal.start_date == date(2026, 6, 1) and goal.timezone == "Europe/Berlin"

    # Later runs find the timezone on the organization's goals.
    summary = run(app, start_month=None, dry_run=True)
    assert summary.organizations[0].timezone == "Europe/Berlin"
    assert summary.organizations[0].timezone_source == "goals"


def test_unknown_timezone_is_refused_before_anything(app: Flask, db: SQLAlchemy) -> None:
    before = dump_tables(db)
    with pytest.raises(Exception, match="Nowhere"):
        run(app, timezone="Nowhere/Atlantis")
    assert dump_tables(db) == before


# -- dry run and idempotency --------------------------------------------------------------------


def test_dry_run_writes_nothing_and_reports_the_real_figures(
    app: Flask, db: SQLAlchemy, host: LegacyHost
) -> None:
    host.legacy[ORG] = [GOOD, LegacyTeamTargets(team_id="team-b", daily_targets={"u4": 1})]
    before = dump_tables(db)

    dry = run(app, dry_run=True)

    db.session.expire_all()
    assert dump_tables(db) == before
    assert dry.dry_run and "dry run: nothing written" in dry.as_text()
    assert [(t.team_id, t.status, t.goal_id) for t in dry.teams] == [
        ("team-a", TeamStatus.MIGRATED, None),
        ("team-b", TeamStatus.MIGRATED, None),
    ]
    real = run(app)
    strip = [(t.team_id, t.members, t.business_days, t.monthly_total) for t in real.teams]
    assert [(t.team_id, t.members, t.business_days, t.monthly_total) for t in dry.teams] == strip


def test_a_second_run_creates_nothing_and_says_so(app: Flask, db: SQLAlchemy) -> None:
    first = run(app)
    (goal,) = goals_of(db)
    before = dump_tables(db)

    second = run(app)

    assert dump_tables(db) == before
    (result,) = second.teams
    assert result.status is TeamStatus.ALREADY_MIGRATED and result.goal_id == goal.id
    assert second.ok and not second.migrated
    assert "nothing to migrate: every team is already migrated" in second.as_text()
    assert first.migrated and "nothing to migrate" not in first.as_text()
    # Another month does not matter either: the team is migrated.
    assert run(app, start_month=date(2026, 9, 1)).teams[0].status is TeamStatus.ALREADY_MIGRATED


def test_renaming_the_migrated_goal_keeps_it_migrated(app: Flask, db: SQLAlchemy) -> None:
    run(app)
    (goal,) = goals_of(db)
    goal.description = "North visits"
    db.session.commit()
    assert run(app).teams[0].status is TeamStatus.ALREADY_MIGRATED
    assert len(goals_of(db)) == 1


def test_a_hand_made_goal_of_the_team_is_not_a_migration(app: Flask, db: SQLAlchemy) -> None:
    api = ApiClient(app)
    response = api.post(
        "/goals",
        json={
            "category": "activities",
            "description": "Daily visits (migrated)",
            "team_id": "team-a",
            "split_by_team_members": True,
            "goal_mode": "per_business_day",
            "recurrence": "monthly",
            "start_date": "2026-05-01",
            "end_date": "2026-05-31",
        },
    )
    assert response.status_code == 201, response.json
    assert run(app).teams[0].status is TeamStatus.MIGRATED


# -- bad legacy data ----------------------------------------------------------------------------


def test_bad_teams_are_skipped_with_a_reason_and_good_ones_migrate(
    app: Flask, db: SQLAlchemy, host: LegacyHost
) -> None:
    host.teams["team-empty"] = []
    host.teams["team-c"] = ["c1", "c2"]
    host.teams["team-d"] = ["d1"]
    host.legacy[ORG] = [
        LegacyTeamTargets(team_id="team-b", daily_targets={"u4": Decimal(2), "ghost": Decimal(1)}),
        GOOD,
        LegacyTeamTargets(team_id="team-gone", daily_targets={"u9": Decimal(1)}),
        LegacyTeamTargets(team_id="team-empty", daily_targets={"u9": Decimal(1)}),
        LegacyTeamTargets(team_id="team-c", daily_targets={"c1": Decimal(-1), "c2": "1.005"}),
        LegacyTeamTargets(team_id="team-d", daily_targets={"d1": "lots"}),
        LegacyTeamTargets(team_id="team-x", daily_targets={}),
    ]
    host.teams["team-x"] = ["x9"]

    summary = run(app)

    teams = by_team(summary)
    assert teams["team-a"].status is TeamStatus.MIGRATED
    skipped = {t.team_id: t.reason for t in summary.skipped}
    assert set(skipped) == {"team-b", "team-gone", "team-empty", "team-c", "team-d", "team-x"}
    assert "not members of the team on 2026-05-01: ghost" in skipped["team-b"]
    assert "unknown team" in skipped["team-gone"]
    assert "no members on 2026-05-01" in skipped["team-empty"]
    assert "negative daily targets: c1 (-1)" in skipped["team-c"]
    assert "more than 2 decimals: c2 (1.005)" in skipped["team-c"]
    assert "not numbers: d1 ('lots')" in skipped["team-d"]
    assert "no daily targets" in skipped["team-x"]
    assert [g.team_id for g in goals_of(db)] == ["team-a"]
    assert not summary.ok


def test_a_team_listed_twice_is_skipped(app: Flask, db: SQLAlchemy, host: LegacyHost) -> None:
    host.legacy[ORG] = [GOOD, GOOD]
    summary = run(app)
    assert [t.status for t in summary.teams] == [TeamStatus.SKIPPED] * 2
    assert "more than once" in (summary.teams[0].reason or "")
    assert goals_of(db) == []


def test_a_team_failing_halfway_is_rolled_back_alone(
    app: Flask, db: SQLAlchemy, host: LegacyHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    """team-b's goal is already flushed when setting its targets fails: its savepoint goes,
    team-a's goal stays."""
    host.legacy[ORG] = [GOOD, LegacyTeamTargets(team_id="team-b", daily_targets={"u4": 1})]
    original = legacy_service.set_daily_targets

    def failing(ctx: Any, goal: Goal, targets: Any) -> None:
        assert goal.id is not None  # written to the database already
        if goal.team_id == "team-b":
            raise RuntimeError("the database went away")
        original(ctx, goal, targets)

    monkeypatch.setattr(legacy_service, "set_daily_targets", failing)
    summary = run(app)

    teams = by_team(summary)
    assert teams["team-a"].status is TeamStatus.MIGRATED
    assert teams["team-b"].status is TeamStatus.FAILED
    assert "the database went away" in (teams["team-b"].reason or "")
    assert [g.team_id for g in goals_of(db)] == ["team-a"]
    team_b_history = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(HistoryEntry)
        .join(Goal)
        .where(Goal.team_id == "team-b")
    )
    assert team_b_history == 0
    # Fixed, a rerun migrates what is missing and nothing else.
    monkeypatch.setattr(legacy_service, "set_daily_targets", original)
    rerun = by_team(run(app))
    assert rerun["team-a"].status is TeamStatus.ALREADY_MIGRATED
    assert rerun["team-b"].status is TeamStatus.MIGRATED


def test_a_failing_organization_does_not_stop_the_others(
    app: Flask, db: SQLAlchemy, host: LegacyHost
) -> None:
    host.legacy[OTHER_ORG] = [{"team_id": "team-x", "not_a_field": 1}]
    host.legacy[ORG] = [GOOD]
    summary = run(app, organization_ids=[OTHER_ORG, ORG])
    runs = {r.organization_id: r for r in summary.organizations}
    assert runs[OTHER_ORG].error and "goals_legacy_activity_targets failed" in runs[OTHER_ORG].error
    assert runs[ORG].error is None and [t.team_id for t in summary.migrated] == ["team-a"]
    assert not summary.ok


def test_organizations_stay_apart(app: Flask, db: SQLAlchemy, host: LegacyHost) -> None:
    host.legacy[OTHER_ORG] = [LegacyTeamTargets(team_id="team-x", daily_targets={"x1": 2})]
    summary = run(app, organization_ids=[ORG, OTHER_ORG, ORG])
    assert [(t.organization_id, t.team_id) for t in summary.migrated] == [
        (ORG, "team-a"),
        (OTHER_ORG, "team-x"),
    ]
    assert [(g.organization_id, g.team_id) for g in goals_of(db)] == [
        (ORG, "team-a"),
        (OTHER_ORG, "team-x"),
    ]


def test_progress_is_reported_per_team(app: Flask, host: LegacyHost) -> None:
    host.legacy[ORG] = [GOOD, LegacyTeamTargets(team_id="team-b", daily_targets={"u4": 1})]
    calls: list[tuple[int, int]] = []
    run(app, dry_run=True, on_progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 2), (1, 2), (2, 2)]


def test_pending_changes_are_refused(app: Flask, db: SQLAlchemy) -> None:
    db.session.add(
        Goal(
            organization_id=ORG,
            category="sales",
            description="pending",
            metric="net",
            start_date=MAY,
            end_date=MAY,
            created_by="x",
        )
    )
    with pytest.raises(RuntimeError, match="pending changes"):
        run(app)
    db.session.rollback()


# -- recurrence ---------------------------------------------------------------------------------


def test_migrated_goals_recur_with_their_daily_targets(
    app: Flask, db: SQLAlchemy, host: LegacyHost
) -> None:
    from flask_wiseparts_goals.jobs.recurrence import run_recurrence

    run(app)
    state = app.extensions["goals"]
    recurrence = run_recurrence(
        state.session,
        HostHooks(state.plugin_manager),
        as_of=date(2026, 6, 1),
        config=app.config,
    )
    assert recurrence.created == 1, recurrence.errors

    may, june = goals_of(db, "team-a")
    assert june.source_goal_id == may.id
    assert may.recurrence is None and june.recurrence == "monthly"
    assert (june.start_date, june.end_date) == (date(2026, 6, 1), date(2026, 6, 30))
    assert (june.description, june.created_by, june.goal_mode) == (
        may.description,
        "system",
        "per_business_day",
    )
    assert june.filters == may.filters
    (interval,) = june.intervals
    assert interval.business_days == JUNE_BUSINESS_DAYS
    assert {a.user_id: (a.daily_target, a.target) for a in interval.allocations} == {
        "rep": (Decimal("4"), Decimal("88")),
        "u2": (Decimal("3.5"), Decimal("77")),
        "u3": (Decimal("0.25"), Decimal("5.5")),
    }

    # Still migrated: the May goal has a live clone...
    before = dump_tables(db)
    result = run(app, start_month=date(2026, 6, 1)).teams[0]
    assert result.status is TeamStatus.ALREADY_MIGRATED and result.goal_id == june.id
    # ...even once the May goal is deleted: the clone carries the migration on.
    from flask_wiseparts_goals.services.context import Context
    from flask_wiseparts_goals.types import Identity

    ctx = Context(
        session=db.session,
        hooks=HostHooks(state.plugin_manager),
        identity=Identity(user_id="admin", organization_id=ORG),
        config=app.config,
        today=date(2026, 6, 2),
    )
    delete_goal(ctx, may)
    db.session.commit()
    before = dump_tables(db)
    assert run(app).teams[0].status is TeamStatus.ALREADY_MIGRATED
    assert dump_tables(db) == before
    # Deleting the whole chain lets the team be migrated again.
    delete_goal(ctx, june)
    db.session.commit()
    assert run(app, start_month=date(2026, 6, 1)).teams[0].status is TeamStatus.MIGRATED


# -- the command --------------------------------------------------------------------------------


def invoke(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["goals", "migrate-legacy", *args])


def rows(result: Any) -> list[list[str]]:
    """The output's lines split into words (table rows, whatever the column widths)."""
    return [line.split() for line in result.output.splitlines()]


def test_cli_dry_run_then_run_then_nothing(app: Flask, db: SQLAlchemy) -> None:
    before = dump_tables(db)
    result = invoke(app, "--organization", ORG, "--start", "2026-05", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Legacy teams" in result.output  # the progress bar's label
    assert f"{ORG}: 1 legacy team(s), goals for 2026-05-01 to 2026-05-31 (UTC" in result.output
    assert [ORG, "team-a", "migrated", "-", "3", "7.75", "20", "155.00"] in rows(result)
    assert ["team-a", "u2", "3.50", "70.00"] in rows(result)
    assert "would migrate 1 team(s) with 3 member(s)" in result.output
    assert "dry run: nothing written" in result.output
    db.session.expire_all()
    assert dump_tables(db) == before

    result = invoke(app, "--organization", ORG, "--start", "2026-05", "--no-members")
    assert result.exit_code == 0, result.output
    (goal,) = goals_of(db)
    assert [ORG, "team-a", "migrated", str(goal.id), "3", "7.75", "20", "155.00"] in rows(result)
    assert "daily target" not in result.output
    assert "migrated 1 team(s) with 3 member(s)" in result.output

    result = invoke(app, "--organization", ORG, "--start", "2026-05")
    assert result.exit_code == 0, result.output
    assert [ORG, "team-a", "already", "migrated", str(goal.id), "-", "-", "-", "-"] in rows(result)
    assert "nothing to migrate: every team is already migrated" in result.output
    assert len(goals_of(db)) == 1


def test_cli_reports_skipped_teams_and_fails(app: Flask, db: SQLAlchemy, host: LegacyHost) -> None:
    host.legacy[ORG] = [
        GOOD,
        LegacyTeamTargets(team_id="team-b", daily_targets={"u4": Decimal(-2)}),
    ]
    result = invoke(app, "--organization", ORG, "--start", "2026-05", "--timezone", "Europe/Berlin")
    assert result.exit_code == 1, result.output
    assert "(Europe/Berlin, from --timezone)" in result.output
    assert [ORG, "team-b", "skipped"] in [row[:3] for row in rows(result)]
    assert "negative daily targets: u4 (-2)" in result.output
    assert "skipped 1" in result.output
    assert [g.team_id for g in goals_of(db)] == ["team-a"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Missing option '--organization'"),
        (("--organization", ORG, "--start", "2026-13"), "--start"),
        (("--organization", ORG, "--start", "2026-05-01"), "--start"),
        (("--organization", ORG, "--timezone", "Mars/Olympus"), "not an IANA timezone"),
    ],
)
def test_cli_usage_errors(app: Flask, db: SQLAlchemy, args: tuple[str, ...], message: str) -> None:
    before = dump_tables(db)
    result = invoke(app, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert dump_tables(db) == before


# -- the example app ----------------------------------------------------------------------------


def test_example_app_migrates_its_seeded_legacy_targets(tmp_path: Path) -> None:
    from example_app import create_app
    from example_app.models import db as example_db

    url = f"sqlite:///{tmp_path / 'legacy.db'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    runner = app.test_cli_runner()
    assert (
        runner.invoke(args=["seed", "--reset", "--no-goals", "--today", "2026-05-20"]).exit_code
        == 0
    )

    dry = runner.invoke(
        args=[
            "goals",
            "migrate-legacy",
            "--organization",
            "acme",
            "--start",
            "2026-05",
            "--dry-run",
        ]
    )
    assert dry.exit_code == 0, dry.output
    assert "would migrate 2 team(s) with 9 member(s)" in dry.output

    result = runner.invoke(
        args=[
            "goals",
            "migrate-legacy",
            "--organization",
            "acme",
            "--organization",
            "globex",
            "--start",
            "2026-05",
            "--timezone",
            "Europe/Berlin",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        goals = example_db.session.scalars(sa.select(Goal).order_by(Goal.team_id)).all()
        assert [g.team_id for g in goals] == ["acme-north", "acme-south"]
        south = goals[1]
        (interval,) = south.intervals
        # May 2026 in Germany: 21 weekdays minus May 1, Ascension (14) and Whit Monday (25).
        assert interval.business_days == 18
        # Hans left South before May; Ida, who replaced him, keeps her legacy target.
        assert {a.user_id: a.daily_target for a in interval.allocations} == {
            "acme-rep-eva": Decimal("3"),
            "acme-rep-felix": Decimal("3"),
            "acme-rep-greta": Decimal("2.5"),
            "acme-rep-ida": Decimal("3"),
            "acme-rep-david": Decimal("1.5"),
        }
        assert south.aim == Decimal("13") * 18
        assert south.filters == {"activity_types": ["visit", "outbound_call"]}
        example_db.session.remove()
        example_db.engine.dispose()
