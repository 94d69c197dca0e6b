"""The coaching job (SPEC §10): status changes, milestones and weekly digests, exactly once.

Figures are measured through the day before "today". Q1 2026 has 64 business days (Monday to
Friday; January 22, February 20, March 22); an aim of 6400.00 expects 100.00 per business day.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import conftest
import pytest
import sqlalchemy as sa
from conftest import ORG, OTHER_ORG, make_app, sales_goal, table_counts
from test_tracking_api import Line, SourceHost, set_targets

from flask_wiseparts_goals import Notification, hookimpl
from flask_wiseparts_goals.jobs.coaching import CoachingSummary, run_coaching
from flask_wiseparts_goals.models import Base as GoalsBase
from flask_wiseparts_goals.models import CoachingNotice
from flask_wiseparts_goals.plugins import HostHooks
from flask_wiseparts_goals.services.coaching import Shortfall, ShortfallSource

D = Decimal


@dataclass
class CoachHost(SourceHost):
    """A host with a metric source (lines in memory) that captures what it is told."""

    notifications: list[tuple[str, Notification]] = field(default_factory=list)
    failing_notify: bool = False
    #: Organizations whose calendar raises.
    failing_calendars: set[str] = field(default_factory=set)

    @hookimpl
    def goals_business_days(self, organization_id, team_id, start, end):
        if organization_id in self.failing_calendars:
            raise RuntimeError(f"the calendar of {organization_id} is unavailable")
        return super().goals_business_days(organization_id, team_id, start, end)

    @hookimpl
    def goals_notify(self, organization_id: str, notification: Notification) -> None:
        if self.failing_notify:
            raise ConnectionError("mail server down")
        self.notifications.append((organization_id, notification))

    def told(self, kind: str | None = None) -> list[Notification]:
        return [n for _, n in self.notifications if kind is None or n.kind == kind]


@pytest.fixture
def host() -> CoachHost:
    return CoachHost()


def coach(
    app, *, as_of: str | None = None, shortfalls: ShortfallSource | None = None, **kwargs: Any
) -> CoachingSummary:
    """One run with a fresh hooks façade, as the job and the CLI do."""
    state = app.extensions["goals"]
    return run_coaching(
        state.session,
        HostHooks(state.plugin_manager),
        as_of=date.fromisoformat(as_of) if as_of else None,
        config=app.config,
        shortfalls=shortfalls,
        **kwargs,
    )


def create(api, **body: Any) -> dict[str, Any]:
    response = api.post("/goals", json=sales_goal(**body))
    assert response.status_code == 201, response.json
    return response.json


def notices(db) -> list[tuple[str, str, str]]:
    db.session.rollback()
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(CoachingNotice.kind, CoachingNotice.scope, CoachingNotice.key).order_by(
                CoachingNotice.id
            )
        )
    ]


# -- status changes ----------------------------------------------------------------------------


def test_on_track_behind_at_risk_on_track_sends_exactly_three_notices(app, api, host, db):
    goal = create(api, aim="6400.00")  # organization-wide: 100.00 expected per business day
    host.lines.append(Line("rep", date(2026, 1, 2), D("500.00")))

    # Thursday: through Wednesday Jan 7, 5 business days, 500 of 500 expected: on track,
    # which is where every goal starts: nothing to tell.
    assert coach(app, as_of="2026-01-08").status == 0
    # Through Jan 8: 600 expected, 83 %: behind.
    assert coach(app, as_of="2026-01-09").status == 1
    assert coach(app, as_of="2026-01-09").status == 0  # the same status: not told twice
    # Through Monday Jan 12: 800 expected, 62.5 %: at risk.
    assert coach(app, as_of="2026-01-13").status == 1
    host.lines.append(Line("u2", date(2026, 1, 13), D("400.00")))
    # Through Jan 13: 900 of 900: on track again.
    summary = coach(app, as_of="2026-01-14")
    assert (summary.status, summary.failed) == (1, 0)
    assert coach(app, as_of="2026-01-14").status == 0

    told = host.told("status")
    assert [(n.data["previous_status"], n.data["status"]) for n in told] == [
        ("on_track", "behind"),
        ("behind", "at_risk"),
        ("at_risk", "on_track"),
    ]
    assert len(host.notifications) == 3  # no milestone, no digest (no Monday)
    first = told[0]
    assert (first.recipient_id, first.goal_id) == ("admin", goal["id"])
    assert first.data["level"] == "goal"
    assert first.data["as_of"] == date(2026, 1, 8)
    assert (first.data["actual"], first.data["expected"]) == (D("500.00"), D("600.00"))
    assert "behind" in first.message and "Q1 revenue" in first.message
    assert notices(db) == [
        ("status", f"goal:{goal['id']}", "1"),
        ("status", f"goal:{goal['id']}", "2"),
        ("status", f"goal:{goal['id']}", "3"),
    ]


def test_member_status_goes_to_the_member(app, api, host, db):
    goal = create(api, aim="300.00", team_id="team-a", split_by_team_members=True)
    set_targets(db, goal["id"], {("2026-01-01", "rep"): "6400.00"})
    host.lines.append(Line("u2", date(2026, 1, 2), D("300.00")))  # the goal is achieved
    coach(app, as_of="2026-01-09")
    [note] = host.told("status")
    assert (note.recipient_id, note.data["level"], note.data["user_id"]) == ("rep", "member", "rep")
    assert note.data["status"] == "at_risk"  # 0 of 600 expected
    assert note.message.startswith('Your progress on "Q1 revenue" is now at risk')


# -- milestones --------------------------------------------------------------------------------


def test_milestones_once_each(app, api, host, db):
    goal = create(api, aim="1000.00")
    host.lines.append(Line("rep", date(2026, 1, 5), D("499.99")))
    coach(app, as_of="2026-01-10")
    assert host.told("milestone") == []
    host.lines.append(Line("rep", date(2026, 1, 5), D("0.01")))
    coach(app, as_of="2026-01-10")
    coach(app, as_of="2026-01-11")
    host.lines.append(Line("rep", date(2026, 1, 6), D("400.00")))  # 90 %
    coach(app, as_of="2026-01-12")
    coach(app, as_of="2026-01-13")
    host.lines.append(Line("rep", date(2026, 1, 7), D("150.00")))  # 105 %
    coach(app, as_of="2026-01-14")
    coach(app, as_of="2026-01-15")
    told = host.told("milestone")
    assert [n.data["milestone"] for n in told] == [50, 90, 100]
    assert all(n.recipient_id == "admin" and n.goal_id == goal["id"] for n in told)
    assert told[0].data["actual"] == D("500.00")
    assert "reached 50 % of the target" in told[0].message


def test_milestones_reached_together_tell_the_highest_only(app, api, host, db):
    goal = create(api, aim="1000.00")
    host.lines.append(Line("rep", date(2026, 1, 5), D("950.00")))
    summary = coach(app, as_of="2026-01-10")
    assert [n.data["milestone"] for n in host.told("milestone")] == [90]
    assert (summary.milestones, summary.opted_out) == (1, 1)  # 50 recorded, not told
    host.lines.append(Line("rep", date(2026, 1, 6), D("50.00")))
    coach(app, as_of="2026-01-10")
    assert [n.data["milestone"] for n in host.told("milestone")] == [90, 100]
    scope = f"goal:{goal['id']}"
    assert [n for n in notices(db) if n[0] == "milestone"] == [
        ("milestone", scope, "50"),
        ("milestone", scope, "90"),
        ("milestone", scope, "100"),
    ]


def test_member_milestone(app, api, host, db):
    goal = create(api, aim="10000.00", team_id="team-a", split_by_team_members=True)
    set_targets(db, goal["id"], {("2026-01-01", "u3"): "100.00"})
    host.lines.append(Line("u3", date(2026, 1, 5), D("50.00")))
    coach(app, as_of="2026-01-07")
    [note] = host.told("milestone")
    assert (note.recipient_id, note.data["level"], note.data["milestone"]) == ("u3", "member", 50)


# -- the weekly digest -------------------------------------------------------------------------

DRIVERS = [
    Shortfall("brand", "b1", D("100.00"), D("300.00")),  # -200
    Shortfall("customer", "c1", D("50.00"), D("60.00")),  # -10
    Shortfall("brand", "b2", D("500.00"), D("400.00")),  # ahead: not a shortfall
    Shortfall("customer_branch", "cb", D("0.00"), D("150.00")),  # -150
    Shortfall("customer", "c2", D("10.00"), D("100.00")),  # -90
]


def test_digest_on_monday_in_the_recipients_timezone(app, api, host, db, freeze_now):
    goal = create(api, aim="6400.00", team_id="team-a", split_by_team_members=True)
    set_targets(db, goal["id"], {("2026-01-01", "rep"): "3000.00"})
    host.lines += [
        Line("rep", date(2026, 1, 20), D("1500.00")),
        Line("u2", date(2026, 2, 3), D("500.00")),
    ]
    response = api.as_user("rep").put(
        "/me/notification-settings", json={"timezone": "Europe/Berlin"}
    )
    assert response.status_code == 200, response.json
    asked: list[tuple[int, date]] = []

    def drivers(ctx, goal_row, as_of):
        asked.append((goal_row.id, as_of))
        return DRIVERS

    # Sunday 23:30 in UTC (the organization's timezone) is Monday 00:30 in Berlin.
    freeze_now(datetime(2026, 2, 8, 23, 30, tzinfo=UTC))
    summary = coach(app, shortfalls=drivers)
    [digest] = host.told("digest")
    assert summary.digests == 1
    assert digest.recipient_id == "rep"  # admin (UTC) and u2, u3 (no setting: UTC): Sunday
    assert digest.goal_id is None
    assert digest.data["week_of"] == date(2026, 2, 9)
    assert digest.data["timezone"] == "Europe/Berlin"
    [entry] = digest.data["goals"]
    assert entry["goal"]["id"] == goal["id"] and entry["role"] == "member"
    # Through Saturday Feb 7 (UTC's yesterday): 22 + 5 = 27 business days passed, 37 remain.
    assert entry["as_of"] == date(2026, 2, 7)
    assert entry["business_days_remaining"] == 37
    assert entry["actual"] == D("2000.00")
    assert entry["expected"] == D("2700.00")  # 6400 * 27 / 64
    assert entry["status"] == "at_risk"  # 74 % of expected
    assert entry["needed_per_business_day"] == D("118.92")  # (6400 - 2000) / 37 = 118.918...
    own = entry["own"]
    assert (own["target"], own["actual"]) == (D("3000.00"), D("1500.00"))
    assert own["needed_per_business_day"] == D("40.54")  # 1500 / 37 = 40.540...
    assert [(s["dimension"], s["id"], s["difference"]) for s in entry["shortfalls"]] == [
        ("brand", "b1", D("-200.00")),
        ("customer_branch", "cb", D("-150.00")),
        ("customer", "c2", D("-90.00")),
    ]
    assert asked == [(goal["id"], date(2026, 2, 7))]
    assert "week of 2026-02-09" in digest.message

    # Monday morning in UTC: the others get theirs; rep's week is done.
    freeze_now(datetime(2026, 2, 9, 8, 0, tzinfo=UTC))
    asked.clear()
    coach(app, shortfalls=drivers)
    digests = host.told("digest")
    assert sorted(n.recipient_id for n in digests) == ["admin", "rep", "u2", "u3"]
    assert asked == [(goal["id"], date(2026, 2, 8))]  # once for the three digests
    admin = next(n for n in digests if n.recipient_id == "admin")
    assert admin.data["goals"][0]["role"] == "owner"
    assert admin.data["goals"][0]["own"] is None  # the creator holds no allocation
    assert admin.data["goals"][0]["as_of"] == date(2026, 2, 8)
    coach(app, shortfalls=drivers)
    freeze_now(datetime(2026, 2, 10, 8, 0, tzinfo=UTC))  # Tuesday: nothing
    coach(app, shortfalls=drivers)
    assert len(host.told("digest")) == 4


def test_digest_when_the_source_gives_no_breakdown_names_no_drivers(app, api, host):
    create(api, aim="6400.00")
    coach(app, as_of="2026-02-09")  # a Monday
    [digest] = host.told("digest")
    assert digest.data["goals"][0]["shortfalls"] == []


DRIVER_LINES = sa.Table(
    "host_coaching_lines",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("user_id", sa.String(64)),
    sa.Column("brand_id", sa.String(16)),
    sa.Column("customer_id", sa.String(16)),
    sa.Column("customer_branch_id", sa.String(16)),
    sa.Column("net", sa.Numeric(18, 2), nullable=False),
)


def test_digest_names_the_three_largest_shortfalls_of_the_breakdown(app, api, host, db):
    """January 2027 against January 2026, hand-computed:

    brand     b1 100 - 400 = -300   b2 200 - 150 = +50    b3 0 - 60 = -60
    customer  c1 300 - 400 = -100   c2 0 - 150 = -150     c3 0 - 60 = -60
    branch    cb1 100 - 400 = -300  cb2 200 - 0 = +200    cb3 0 - 210 = -210
    """
    from flask_wiseparts_goals import Goals
    from flask_wiseparts_goals.sources import SqlMapping, SqlMetricSource

    DRIVER_LINES.metadata.drop_all(db.engine)
    DRIVER_LINES.metadata.create_all(db.engine)
    rows = [
        ("rep", date(2027, 1, 11), "b1", "c1", "cb1", "100.00"),
        ("u2", date(2027, 1, 12), "b2", "c1", "cb2", "200.00"),
        ("rep", date(2026, 1, 13), "b1", "c1", "cb1", "400.00"),
        ("u2", date(2026, 1, 14), "b2", "c2", "cb3", "150.00"),
        ("u3", date(2026, 1, 15), "b3", "c3", "cb3", "60.00"),
        ("u4", date(2027, 1, 15), "b3", "c3", "cb3", "999.00"),  # team-b: never counted
    ]
    with db.engine.begin() as connection:
        connection.execute(
            sa.insert(DRIVER_LINES),
            [
                {
                    "organization_id": ORG,
                    "date": day,
                    "user_id": user,
                    "brand_id": brand,
                    "customer_id": customer,
                    "customer_branch_id": branch,
                    "net": D(net),
                }
                for user, day, brand, customer, branch, net in rows
            ],
        )
    host.owned = set()  # the SQL source answers sales
    filters = {"brands": "brand_id", "customers": "customer_id"}
    filters["customer_branches"] = "customer_branch_id"
    source = SqlMetricSource(
        SqlMapping("sales", DRIVER_LINES, metrics={"net": "net"}, filters=filters)
    )
    Goals.state(app).plugin_manager.register(source)
    try:
        goal = create(
            api, aim="6400.00", start_date="2027-01-01", end_date="2027-03-31", team_id="team-a"
        )
        coach(app, as_of="2027-02-01")  # a Monday: figures through Sunday 31 January
    finally:
        db.session.remove()
        DRIVER_LINES.metadata.drop_all(db.engine)
    digest = next(n for n in host.told("digest") if n.recipient_id == "admin")
    [entry] = digest.data["goals"]
    assert entry["goal"]["id"] == goal["id"]
    assert entry["actual"] == D("300.00")
    assert [(s["dimension"], s["id"], s["difference"]) for s in entry["shortfalls"]] == [
        ("brand", "b1", D("-300.00")),
        ("customer_branch", "cb1", D("-300.00")),
        ("customer_branch", "cb3", D("-210.00")),
    ]
    assert entry["shortfalls"][0]["previous_year"] == D("400.00")


# -- opting out --------------------------------------------------------------------------------


def test_opted_out_kinds_are_recorded_not_delivered(app, api, host, db):
    create(api, aim="1000.00")
    response = api.put("/me/notification-settings", json={"milestone": False, "digest": False})
    assert response.status_code == 200, response.json
    host.lines.append(Line("rep", date(2026, 1, 5), D("600.00")))
    summary = coach(app, as_of="2026-01-12")  # Monday: a digest is due
    assert host.notifications == []
    assert (summary.milestones, summary.digests, summary.opted_out) == (0, 0, 2)
    assert sorted(kind for kind, _, _ in notices(db)) == ["digest", "milestone"]
    # Turning milestones back on does not deliver the one recorded meanwhile.
    api.put("/me/notification-settings", json={"milestone": True})
    coach(app, as_of="2026-01-12")
    assert host.notifications == []


def test_failed_delivery_is_rolled_back_and_retried(app, api, host, db):
    create(api, aim="1000.00")
    host.lines.append(Line("rep", date(2026, 1, 5), D("600.00")))
    host.failing_notify = True
    summary = coach(app, as_of="2026-01-13")
    assert (summary.failed, summary.milestones) == (1, 0)
    assert "mail server down" in summary.errors[0]
    assert notices(db) == []
    host.failing_notify = False
    assert coach(app, as_of="2026-01-13").milestones == 1


def test_deleted_goals_and_other_categories_are_left_alone(app, api, host, db):
    goal = create(api, aim="1000.00")
    host.lines.append(Line("rep", date(2026, 1, 5), D("600.00")))
    assert api.write("DELETE", f"/goals/{goal['id']}").status_code == 204
    summary = coach(app, as_of="2026-01-13")
    assert (summary.goals, host.notifications) == (0, [])


def test_each_organization_is_told_its_own_and_fails_alone(app, api, host, db):
    create(api, aim="1000.00")
    other = api.as_user("other-admin")
    response = other.post("/goals", json=sales_goal(aim="1000.00", team_id="team-x"))
    assert response.status_code == 201, response.json
    host.lines += [
        Line("rep", date(2026, 1, 5), D("600.00")),
        Line("x1", date(2026, 1, 5), D("700.00"), organization_id=OTHER_ORG),
    ]
    coach(app, as_of="2026-01-13")
    # Each goal's 60 % and 70 % milestone (50 told) goes to its creator, in its organization.
    assert sorted(
        (org, n.kind, n.recipient_id, n.data["milestone"]) for org, n in host.notifications
    ) == [
        (ORG, "milestone", "admin", 50),
        (OTHER_ORG, "milestone", "other-admin", 50),
    ]

    host.notifications.clear()
    host.lines.append(Line("rep", date(2026, 1, 6), D("400.00")))
    host.lines.append(Line("x1", date(2026, 1, 6), D("300.00"), organization_id=OTHER_ORG))
    host.failing_calendars = {OTHER_ORG}
    summary = coach(app, as_of="2026-01-14")
    assert summary.failed == 1
    assert f"organization {OTHER_ORG}" in summary.errors[0]
    assert [(org, n.kind, n.data["milestone"]) for org, n in host.notifications] == [
        (ORG, "milestone", 100)
    ]


# -- the command -------------------------------------------------------------------------------


def test_cli_dry_run_sends_and_records_nothing(app, api, host, db):
    create(api, aim="1000.00")
    host.lines.append(Line("rep", date(2026, 1, 5), D("600.00")))
    before = table_counts(db)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["goals", "coach", "run", "--as-of", "2026-01-12", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Coaching: goals 1, status changes 0, milestones 1, digests 1" in result.output
    assert "dry run: nothing sent or recorded" in result.output
    assert host.notifications == []
    assert table_counts(db) == before

    result = runner.invoke(args=["goals", "coach", "run", "--as-of", "2026-01-12"])
    assert result.exit_code == 0, result.output
    assert "milestones 1, digests 1" in result.output
    assert "Organizations" in result.output  # the progress bar
    assert sorted(n.kind for n in host.told()) == ["digest", "milestone"]
    result = runner.invoke(args=["goals", "coach", "run", "--as-of", "2026-01-12"])
    assert "milestones 0, digests 0" in result.output


def test_cli_exits_1_when_a_notice_failed(app, api, host):
    create(api, aim="1000.00")
    host.lines.append(Line("rep", date(2026, 1, 5), D("600.00")))
    host.failing_notify = True
    result = app.test_cli_runner().invoke(args=["goals", "coach", "run", "--as-of", "2026-01-13"])
    assert result.exit_code == 1
    assert "failed: milestone notice" in result.output


@pytest.mark.parametrize("dropped", ["every goals table", "the coaching tables"])
def test_cli_without_tables_is_one_line_exit_2(app, api, host, db, dropped):
    create(api, aim="1000.00")
    db.session.remove()  # the request's transaction would hold the DROP on PostgreSQL
    engine = app.extensions["sqlalchemy"].engine
    if dropped == "every goals table":
        GoalsBase.metadata.drop_all(engine)
    else:  # a host that did not upgrade to the coaching migration
        CoachingNotice.__table__.drop(engine)
    result = app.test_cli_runner().invoke(args=["goals", "coach", "run", "--as-of", "2026-01-13"])
    assert result.exit_code == 2, result.output
    # The progress bar's label may come first (the coaching tables are read per organization).
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and "flask goals db upgrade" in errors[0], result.output
    assert "Traceback" not in result.output


# -- several processes at once (PostgreSQL) ----------------------------------------------------

GOALS = 8


def _lines() -> list[Line]:
    return [Line("rep", date(2026, 1, 5), D("700.00"))]


def _run_in_process(as_of: str, barrier: Any, results: Any) -> None:
    """One runner: its own app, engine and connections, like a worker on another host."""
    host = CoachHost(lines=_lines())
    app = make_app(host)
    with app.app_context():
        barrier.wait(60)
        summary = coach(app, as_of=as_of)
        results.put(
            (
                [
                    (n.kind, n.recipient_id, n.goal_id, str(n.data.get("milestone")))
                    for n in host.told()
                ],
                summary.failed,
                summary.errors,
            )
        )
        app.extensions["sqlalchemy"].engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(conftest.DATABASE_URL is None, reason="needs GOALS_TEST_DATABASE_URL")
def test_four_runners_send_each_notice_once(app, api, host, db):
    goals = [create(api, aim="1000.00")["id"] for _ in range(GOALS)]
    db.session.remove()

    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(4)
    results = spawn.Queue()
    workers = [
        spawn.Process(target=_run_in_process, args=("2026-01-12", barrier, results))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert sum(o[1] for o in outcomes) == 0, [o[2] for o in outcomes]
    told = [note for o in outcomes for note in o[0]]
    print(f"notices per runner: {[len(o[0]) for o in outcomes]}")
    # Per goal: 50 % reached (700 of 1000), on track; one digest (a Monday) for the creator.
    expected = [("milestone", "admin", goal_id, "50") for goal_id in goals]
    expected.append(("digest", "admin", None, "None"))
    assert sorted(told, key=str) == sorted(expected, key=str)
    assert len(notices(db)) == GOALS + 1


# -- the scheduler -----------------------------------------------------------------------------


def test_scheduler_registers_the_coaching_job_beside_recurrence(app, api, host):
    from flask_apscheduler import APScheduler

    from flask_wiseparts_goals.scheduler import COACHING_JOB_ID, coaching_job, register_jobs

    scheduler = APScheduler()
    scheduler.init_app(app)
    register_jobs(scheduler, app)
    job = scheduler.get_job(COACHING_JOB_ID)
    assert job.func is coaching_job and job.args == (app.import_name,)
    fields = {f.name: str(f) for f in job.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("*", "5")  # GOALS_SCHEDULER_TIME "*:05"
    assert job.misfire_grace_time == 6 * 3600
    register_jobs(scheduler, app)
    assert sorted(j.id for j in scheduler.get_jobs()) == [
        COACHING_JOB_ID,
        "goals-planning",
        "goals-recurrence",
    ]

    create(api, aim="1000.00")
    host.lines.append(Line("rep", date(2026, 1, 5), D("600.00")))
    summary = coaching_job(app.import_name)  # what the scheduler calls, on today's date
    assert summary.ok
