"""Test fixtures: one host app per configuration per session, a fake host plugin registered
per test, the data reset per test.

How the suite stays fast without sharing state between tests:

- **One app per configuration** (:func:`shared_app`): building an app costs ~30 ms (apispec
  writes the OpenAPI document), so the ``app`` fixture reuses one per session (per xdist worker)
  and swaps in the test's own ``host`` plugin (:func:`use_host`). ``app.config`` is restored
  after each test. Tests that need another configuration still call :func:`make_app`.
- **The data reset per test** (:func:`reset_data`): every ``goals_*`` and ``host_*`` table is
  emptied (and PostgreSQL's sequences restarted) before each test, so a test starts on empty
  tables with ids from 1, exactly as on a fresh schema. DDL on the shared engine (a migration
  test dropping tables) marks the schema for a rebuild before the next test.
- **World fixtures built once per module** (:func:`once_per_module`): an expensive world built
  over HTTP is built by the first test that asks for it; its rows (and the host's state) are
  snapshotted and restored, not rebuilt, for the module's next tests.
- **Database-independent tests run once** (:data:`DB_INDEPENDENT_MODULES`, minus
  :data:`DB_DEPENDENT`): the browser, domain, docs, packaging... tests do not use
  ``GOALS_TEST_DATABASE_URL``; they are marked ``dbless`` and the PostgreSQL pass deselects them
  (``pytest_collection_modifyitems``), the SQLite pass runs them. A new module runs on both
  databases until it is listed.
- **Both cores** (``make test``: pytest-xdist, ``--dist worksteal``): the fixtures above are per
  worker process; on PostgreSQL each worker uses a database of its own (``<name>_gw0``...).

Set ``GOALS_TEST_DATABASE_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1/test``) to run
the database-dependent tests on PostgreSQL; without it every test runs on in-memory SQLite.
The order is fixed by default (``-p no:randomly`` in addopts); ``-p randomly`` runs the suite in
random order, which proves that no test depends on another's leftovers.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, current_app, request
from flask_sqlalchemy import SQLAlchemy
from hypothesis import settings
from sqlalchemy.orm import DeclarativeBase

from flask_wiseparts_goals import Goals, Identity, hookimpl
from flask_wiseparts_goals.models import Base as GoalsBase

# No time limit per example: Hypothesis's deadline (200 ms) is a timed assertion, and these
# machines are shared (speed is the benchmarks' business, bench/).
settings.register_profile("goals", deadline=None)
settings.load_profile("goals")


def _database_of_this_worker(url: str | None) -> str | None:
    """Under pytest-xdist, each worker gets a PostgreSQL database of its own (``<name>_gw0``,
    created on first use and kept), exported in ``GOALS_TEST_DATABASE_URL`` so that modules and
    subprocesses reading the variable use it too. SQLite in memory is per process anyway."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = sa.make_url(url)
    if (base.database or "").endswith(f"_{worker}"):
        return url  # already this worker's (a process a test spawned imports conftest again)
    name = f"{base.database}_{worker}"
    server = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if exists is None:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        server.dispose()
    url = base.set(database=name).render_as_string(hide_password=False)
    os.environ["GOALS_TEST_DATABASE_URL"] = url
    return url


DATABASE_URL = _database_of_this_worker(os.environ.get("GOALS_TEST_DATABASE_URL"))

#: When this run started (on the xdist controller, handed to the workers): files that an earlier
#: run left (the browser tests' screenshots) are older.
RUN_STARTED = time.time()

#: Modules whose tests never use the suite's database (``GOALS_TEST_DATABASE_URL``): pure
#: domain code, the docs and the packaging, the browser tests (the example app on its own SQLite
#: file), hosts in subprocesses on SQLite files. Their tests are marked ``dbless``; the
#: PostgreSQL pass deselects them (the SQLite pass runs them). A test of these modules that does
#: use the suite's database is listed in :data:`DB_DEPENDENT`, or marked ``postgres``, or uses
#: the ``app`` fixture.
DB_INDEPENDENT_MODULES = frozenset(
    {
        "test_browser.py",
        "test_browser_security.py",
        "test_coaching_notification.py",
        "test_coexistence.py",
        "test_docs.py",
        "test_domain_distribution.py",
        "test_domain_periods.py",
        "test_domain_rules.py",
        "test_figures_display.py",
        "test_packaging.py",
        "test_tracking_figures.py",
    }
)
#: Tests of those modules that run on the suite's database (``make_app`` without a URI).
DB_DEPENDENT = frozenset(
    {
        "test_coexistence.py::test_host_error_handlers_stay_out_of_the_goals_prefix",
        "test_docs.py::test_http_examples_replay",
    }
)

ORG = "org-1"
OTHER_ORG = "org-2"


@dataclass
class FakeHost:
    """A host plugin whose answers each test can change.

    Users are picked with the ``X-User`` header. Roles: ``admin`` writes everything of its
    organization, ``manager`` writes goals of the teams it leads, ``rep`` only reads.
    """

    users: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {
            "admin": {"organization_id": ORG, "role": "admin", "teams": ["team-a", "team-b"]},
            "manager": {"organization_id": ORG, "role": "manager", "teams": ["team-a"]},
            "rep": {"organization_id": ORG, "role": "rep", "teams": ["team-a"]},
            "other-admin": {"organization_id": OTHER_ORG, "role": "admin", "teams": ["team-x"]},
        }
    )
    teams: dict[str, list[str]] = field(
        default_factory=lambda: {
            "team-a": ["rep", "u2", "u3"],
            "team-b": ["u4", "u5"],
            "team-x": ["x1", "x2"],
        }
    )
    features: dict[str, set[str]] = field(
        default_factory=lambda: {ORG: {"orders"}, OTHER_ORG: set()}
    )
    holidays: set[date] = field(default_factory=set)
    #: Members' own days off (absences, part-time): user id → days.
    absences: dict[str, set[date]] = field(default_factory=dict)
    timezone: str = "UTC"
    #: Dated rosters (SPEC §7): team → [(user_id, first day, last day or None)] in team order.
    #: A team listed here answers ``goals_team_members`` from these dates.
    memberships: dict[str, list[tuple[str, date, date | None]]] = field(default_factory=dict)
    #: Whether the host implements ``goals_team_memberships`` (else it answers ``None``).
    answers_memberships: bool = True
    #: Names for ``goals_entities``: organization → kind → id → name.
    names: dict[str, dict[str, dict[str, str]]] = field(
        default_factory=lambda: {
            ORG: {
                "user": {"admin": "Ada Admin", "manager": "Max Manager", "rep": "Rita Rep"},
                "team": {"team-a": "Team A", "team-b": "Team B"},
                "brand": {"brand-bosch": "Bosch", "brand-mahle": "Mahle", "brand-febi": "Febi"},
            },
            OTHER_ORG: {"brand": {"brand-bosch-x": "Bosch (other org)"}},
        }
    )
    calls: list[tuple[str, Any]] = field(default_factory=list)

    #: Set by :meth:`install`: the hooks then read the host's tables in the request's session.
    installed: bool = False
    _synced: Any = None

    # -- the host's own tables -------------------------------------------------------------
    # Tests change the dataclass fields; before each request the changes are written to the
    # host tables (as a host's admin screens would), and every hook answers by querying
    # those tables in the request's session, as a real host does (SPEC §6: a fake host that
    # answered from memory hid autoflush errors).

    def install(self, app: Flask) -> None:
        """Create the host tables on ``app``'s database and keep them in step with the fields.

        On a :func:`shared_app` the tables already exist (emptied by :func:`reset_data`) and the
        app syncs whichever host was installed last before each request."""
        shared: SharedApp | None = app.extensions.get(SHARED_APP_KEY)
        if shared is None:
            self.reset_tables(app)
            app.before_request(self.sync)
            return
        shared.host = self
        self.installed = True
        self._synced = None
        self.sync()

    def reset_tables(self, app: Flask) -> None:
        """Empty host tables, filled again from the fields (inside an app context)."""
        db = app.extensions["sqlalchemy"]
        HOST_METADATA.drop_all(db.engine)
        HOST_METADATA.create_all(db.engine)
        self.installed = True
        self._synced = None
        self.sync()

    def _snapshot(self) -> Any:
        return copy.deepcopy(
            (
                self.users,
                self.teams,
                self.holidays,
                self.timezone,
                self.absences,
                self.memberships,
                self.names,
            )
        )

    def sync(self) -> None:
        snapshot = self._snapshot()
        if snapshot == self._synced:
            return
        session = current_app.extensions["sqlalchemy"].session
        for table in reversed(HOST_METADATA.sorted_tables):
            session.execute(sa.delete(table))
        users, teams, holidays, timezone, absences, dated, names = snapshot
        if users:
            session.execute(
                sa.insert(HOST_USERS),
                [
                    {"id": uid, "organization_id": u["organization_id"], "role": u["role"]}
                    for uid, u in users.items()
                ],
            )
        memberships = [
            {"user_id": uid, "team_id": team_id, "kind": "identity", "position": 0}
            for uid, u in users.items()
            for team_id in u["teams"]
        ] + [
            {"user_id": uid, "team_id": team_id, "kind": "member", "position": position}
            for team_id, members in teams.items()
            for position, uid in enumerate(members)
        ]
        teams_known = [{"id": team_id, "dated": team_id in dated} for team_id in {**teams, **dated}]
        if teams_known:
            session.execute(sa.insert(HOST_TEAMS), teams_known)
        if memberships:
            session.execute(sa.insert(HOST_TEAM_USERS), memberships)
        if holidays:
            session.execute(sa.insert(HOST_HOLIDAYS), [{"day": day} for day in holidays])
        absent = [{"user_id": uid, "day": day} for uid, days in absences.items() for day in days]
        if absent:
            session.execute(sa.insert(HOST_ABSENCES), absent)
        session.execute(sa.insert(HOST_SETTINGS).values(id=1, timezone=timezone))
        dated_rows = [
            {"team_id": team_id, "user_id": uid, "start": start, "end": end, "position": position}
            for team_id, rows in dated.items()
            for position, (uid, start, end) in enumerate(rows)
        ]
        if dated_rows:
            session.execute(sa.insert(HOST_TEAM_MEMBERSHIPS), dated_rows)
        entities = [
            {"organization_id": org, "kind": kind, "id": entity_id, "name": name}
            for org, kinds in names.items()
            for kind, named in kinds.items()
            for entity_id, name in named.items()
        ]
        if entities:
            session.execute(sa.insert(HOST_ENTITIES), entities)
        session.commit()
        self._synced = snapshot

    def _session(self) -> Any:
        # Jobs and CLI commands serve no request: catch up with a test's changes here too
        # (a no-op unless a field changed since the last sync).
        self.sync()
        return current_app.extensions["sqlalchemy"].session

    @hookimpl
    def goals_identity(self) -> Identity | None:
        user_id = request.headers.get("X-User")
        if not self.installed:
            user = self.users.get(user_id or "")
            if user is None:
                return None
            organization_id, role, teams = user["organization_id"], user["role"], user["teams"]
            timezone = self.timezone
        else:
            session = self._session()
            row = session.execute(
                sa.select(HOST_USERS.c.organization_id, HOST_USERS.c.role).where(
                    HOST_USERS.c.id == (user_id or "")
                )
            ).first()
            if row is None:
                return None
            organization_id, role = row
            teams = (
                session.execute(
                    sa.select(HOST_TEAM_USERS.c.team_id).where(
                        HOST_TEAM_USERS.c.user_id == user_id, HOST_TEAM_USERS.c.kind == "identity"
                    )
                )
                .scalars()
                .all()
            )
            timezone = session.execute(sa.select(HOST_SETTINGS.c.timezone)).scalar_one()
        return Identity(
            user_id=user_id,
            organization_id=organization_id,
            timezone=timezone,
            team_ids=frozenset(teams),
            roles=frozenset({role}),
        )

    @hookimpl
    def goals_authorize(self, identity, action, target):
        if target.organization_id != identity.organization_id:
            return False
        if action == "read":
            return None  # the default rule: org-wide goals and goals of the caller's teams
        if "admin" in identity.roles:
            return True
        if "manager" in identity.roles:
            return target.team_id is not None and target.team_id in (identity.team_ids or ())
        return False

    @hookimpl
    def goals_feature_enabled(self, organization_id, feature):
        return feature in self.features.get(organization_id, set())

    @hookimpl
    def goals_team_members(self, organization_id, team_id, on):
        self.calls.append(("team_members", (team_id, on)))
        if not self.installed:
            return self.teams.get(team_id)
        session = self._session()
        known = session.execute(
            sa.select(HOST_TEAMS.c.id, HOST_TEAMS.c.dated).where(HOST_TEAMS.c.id == team_id)
        ).first()
        if known is None:
            return None
        if known.dated:  # a dated roster: the members on that day
            return [user_id for user_id, _, _ in self._memberships(session, team_id, on, on)]
        return (
            session.execute(
                sa.select(HOST_TEAM_USERS.c.user_id)
                .where(HOST_TEAM_USERS.c.team_id == team_id, HOST_TEAM_USERS.c.kind == "member")
                .order_by(HOST_TEAM_USERS.c.position)
            )
            .scalars()
            .all()
        )

    # -- memberships over time (SPEC §7): the host_team_memberships table ---------------------

    def _memberships(self, session, team_id, start, end):
        """The team's dated memberships overlapping [start, end], in team order."""
        t = HOST_TEAM_MEMBERSHIPS
        return session.execute(
            sa.select(t.c.user_id, t.c.start, t.c.end)
            .where(
                t.c.team_id == team_id,
                t.c.start <= end,
                sa.or_(t.c.end.is_(None), t.c.end >= start),
            )
            .order_by(t.c.position)
        ).all()

    @hookimpl
    def goals_team_memberships(self, organization_id, team_id, start, end):
        self.calls.append(("team_memberships", (team_id, start, end)))
        if not self.answers_memberships or not self.installed:
            return None
        from flask_wiseparts_goals import Membership

        session = self._session()
        dated = session.execute(
            sa.select(HOST_TEAMS.c.dated).where(HOST_TEAMS.c.id == team_id)
        ).scalar()
        if not dated:
            return None  # unknown team, or one without a dated roster
        rows = self._memberships(session, team_id, start, end)
        return [Membership(user_id, first, last) for user_id, first, last in rows]

    @hookimpl
    def goals_business_days(self, organization_id, team_id, start, end):
        return self.days_of(start, end, None)

    def days_of(self, start, end, user_id):
        """Monday to Friday minus the host's holidays (and ``user_id``'s absences); ``None``
        (the extension's default) when nothing is taken off."""
        from flask_wiseparts_goals.domain.periods import Period, weekdays

        if self.installed:
            session = self._session()
            holidays = set(
                session.execute(
                    sa.select(HOST_HOLIDAYS.c.day).where(HOST_HOLIDAYS.c.day.between(start, end))
                ).scalars()
            )
            if user_id is not None:  # a member's own calendar: the team's minus absences
                holidays |= set(
                    session.execute(
                        sa.select(HOST_ABSENCES.c.day).where(
                            HOST_ABSENCES.c.user_id == user_id,
                            HOST_ABSENCES.c.day.between(start, end),
                        )
                    ).scalars()
                )
        else:
            holidays = self.holidays | (self.absences.get(user_id, set()) if user_id else set())
        if not holidays:
            return None  # the default: Monday to Friday
        return [day for day in weekdays(Period(start, end)) if day not in holidays]

    @hookimpl
    def goals_entities(self, organization_id, kind, ids, search, limit):
        if not self.installed:
            return None
        query = sa.select(HOST_ENTITIES.c.id, HOST_ENTITIES.c.name).where(
            HOST_ENTITIES.c.organization_id == organization_id, HOST_ENTITIES.c.kind == kind
        )
        if ids is not None:
            query = query.where(HOST_ENTITIES.c.id.in_(ids))
        if search:
            pattern = f"%{search.lower()}%"
            query = query.where(
                sa.or_(
                    sa.func.lower(HOST_ENTITIES.c.name).like(pattern),
                    sa.func.lower(HOST_ENTITIES.c.id).like(pattern),
                )
            )
        rows = self._session().execute(query.order_by(HOST_ENTITIES.c.name).limit(limit))
        return [{"id": row.id, "name": row.name} for row in rows]


class MemberCalendarHost(FakeHost):
    """A host that answers ``goals_business_days`` per member too (its ``absences``)."""

    @hookimpl
    def goals_business_days(self, organization_id, team_id, start, end, user_id):
        return self.days_of(start, end, user_id)


#: The fake host's own tables (not goals_*): users, teams, memberships, holidays, settings,
#: absences, entity names.
HOST_METADATA = sa.MetaData()
HOST_USERS = sa.Table(
    "host_users",
    HOST_METADATA,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
)
HOST_TEAMS = sa.Table(
    "host_teams",
    HOST_METADATA,
    sa.Column("id", sa.String(64), primary_key=True),
    #: The team has a dated roster in host_team_memberships (SPEC §7).
    sa.Column("dated", sa.Boolean, nullable=False, default=False),
)
HOST_TEAM_USERS = sa.Table(
    "host_team_users",
    HOST_METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("team_id", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    #: ``identity``: the teams a user manages or belongs to; ``member``: a team's roster.
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
)
HOST_HOLIDAYS = sa.Table(
    "host_holidays", HOST_METADATA, sa.Column("day", sa.Date, primary_key=True)
)
HOST_ABSENCES = sa.Table(
    "host_absences",
    HOST_METADATA,
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
)
HOST_SETTINGS = sa.Table(
    "host_settings",
    HOST_METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("timezone", sa.String(64)),
)

HOST_ENTITIES = sa.Table(
    "host_entities",
    HOST_METADATA,
    sa.Column("organization_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
)


#: Dated rosters: who belonged to a team from when to when (both inclusive).
HOST_TEAM_MEMBERSHIPS = sa.Table(
    "host_team_memberships",
    HOST_METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("team_id", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("start", sa.Date, nullable=False),
    sa.Column("end", sa.Date),
    sa.Column("position", sa.Integer, nullable=False),
)


class HostBase(DeclarativeBase):
    pass


def make_app(host: FakeHost | None, *, import_name: str = "test_host", **config: Any) -> Flask:
    app = Flask(import_name)
    app.config.update(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": DATABASE_URL or "sqlite://",
            "GOALS_SCHEDULER_ENABLED": False,
            **config,
        }
    )
    db = SQLAlchemy(model_class=HostBase)
    db.init_app(app)
    Goals(app, plugins=[host] if host else [], entry_points=False)
    return app


def _reset(app: Flask) -> None:
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
        GoalsBase.metadata.drop_all(engine)
        GoalsBase.metadata.create_all(engine)


# --------------------------------------------------------------------------------------------
# One app per configuration per session, its data reset per test
# --------------------------------------------------------------------------------------------

SHARED_APP_KEY = "goals_tests_shared_app"
#: Every table a test of the shared app starts with (empty): the goals_* tables, then the fake
#: host's. Read from the metadata at each reset, so a new model is included without a change.
_METADATAS = (GoalsBase.metadata, HOST_METADATA)
_DDL = ("CREATE", "DROP", "ALTER")


@dataclass
class SharedApp:
    """What :func:`shared_app` keeps per app in ``app.extensions``."""

    #: The host installed last (:meth:`FakeHost.install`): the one synced before each request.
    host: FakeHost | None = None
    #: Set by any DDL on the app's engine: the next :func:`reset_data` rebuilds the schema.
    schema_changed: bool = True
    #: PostgreSQL: the sequences of the tables (restarted at each reset).
    sequences: list[str] | None = None


_SHARED_APPS: dict[tuple[tuple[str, Any], ...], Flask] = {}


def shared_app(**config: Any) -> Flask:
    """The session's app for ``config`` (one per configuration; make one with :func:`make_app`
    when a test needs it to itself). No host plugin: the ``app`` fixture registers the test's."""
    key = tuple(sorted(config.items()))
    app = _SHARED_APPS.get(key)
    if app is None:
        # A name of its own: the scheduler finds an app by name, the last one made wins, and a
        # test's own make_app() must not take the shared app's place (nor the reverse).
        app = make_app(None, import_name=f"test_host_shared_{len(_SHARED_APPS)}", **config)
        shared = SharedApp()
        app.extensions[SHARED_APP_KEY] = shared

        @app.before_request
        def sync_host() -> None:
            if shared.host is not None and shared.host.installed:
                shared.host.sync()

        with app.app_context():
            engine = app.extensions["sqlalchemy"].engine

        @sa.event.listens_for(engine, "before_cursor_execute")
        def watch_ddl(conn, cursor, statement, parameters, context, executemany) -> None:
            if statement.lstrip()[:6].upper().startswith(_DDL):
                shared.schema_changed = True

        _SHARED_APPS[key] = app
    return app


def _tables() -> list[sa.Table]:
    return [table for metadata in _METADATAS for table in metadata.sorted_tables]


def _rebuild_schema(engine: sa.Engine) -> None:
    for metadata in _METADATAS:
        metadata.drop_all(engine)
    for metadata in _METADATAS:
        metadata.create_all(engine)


def reset_data(app: Flask) -> None:
    """Empty every goals_* and host_* table of a shared app (inside its app context), ids from 1
    again: what a test saw with a fresh schema, at a fraction of the cost. The schema itself is
    rebuilt when DDL ran on the engine since the last reset (or the reset fails)."""
    shared: SharedApp = app.extensions[SHARED_APP_KEY]
    db = app.extensions["sqlalchemy"]
    db.session.remove()
    engine = db.engine
    if not shared.schema_changed:
        try:
            _delete_rows(engine, shared)
        except sa.exc.DBAPIError:  # a table gone behind the engine's back (another engine)
            shared.schema_changed = True
    if shared.schema_changed:
        _rebuild_schema(engine)
        shared.sequences = None
        shared.schema_changed = False
        _delete_rows(engine, shared)  # PostgreSQL: also finds the new sequences


def _delete_rows(engine: sa.Engine, shared: SharedApp) -> None:
    tables = list(reversed(_tables()))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            if shared.sequences is None:
                shared.sequences = list(
                    connection.execute(
                        sa.text(
                            "SELECT quote_ident(c.relname) FROM pg_class c"
                            " JOIN pg_namespace n ON n.oid = c.relnamespace"
                            " WHERE c.relkind = 'S' AND n.nspname = current_schema()"
                        )
                    ).scalars()
                )
            # One round trip: DELETE is much cheaper than TRUNCATE on small tables.
            script = [
                f"DELETE FROM {connection.dialect.identifier_preparer.format_table(t)}"
                for t in tables
            ]
            if shared.sequences:
                restart = ", ".join(f"setval('{name}', 1, false)" for name in shared.sequences)
                script.append(f"SELECT {restart}")
            connection.exec_driver_sql("; ".join(script))
        else:
            for table in tables:
                connection.execute(table.delete())


def use_host(app: Flask, host: FakeHost | None) -> None:
    """Make ``host`` the shared app's only host plugin (any plugin a test registered is gone)."""
    from flask_wiseparts_goals.plugins import DefaultPlugin, _plugin_name

    pm = Goals.state(app).plugin_manager
    for _, plugin in pm.list_name_plugin():
        if plugin is not None and not isinstance(plugin, DefaultPlugin):
            pm.unregister(plugin)
    pm.given.clear()
    if host is not None:
        pm.register(host, name=_plugin_name(pm, host))
        pm.given.append(host)
        pm.check_pending()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "dbless: does not use the suite's database (runs in the SQLite pass only)"
    )
    config.addinivalue_line(
        "markers", "sqlite: tests SQLite's own behaviour (runs in the SQLite pass only)"
    )


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist, on the controller: tell each worker when the run started."""
    node.workerinput["goals_run_started"] = RUN_STARTED


@pytest.fixture(scope="session")
def run_started(request: pytest.FixtureRequest) -> float:
    """When this run started, the same in every xdist worker (files older than this are an
    earlier run's)."""
    started: float = getattr(request.config, "workerinput", {}).get(
        "goals_run_started", RUN_STARTED
    )
    return started


def _uses_the_database(item: pytest.Item) -> bool:
    path = item.nodeid.split("::")[0].rsplit("/", 1)[-1]
    name = item.nodeid.split("::")[1].split("[")[0] if "::" in item.nodeid else ""
    if item.get_closest_marker("dbless") is not None:
        return False
    return (
        path not in DB_INDEPENDENT_MODULES
        or f"{path}::{name}" in DB_DEPENDENT
        or item.get_closest_marker("postgres") is not None
        or "app" in getattr(item, "fixturenames", ())
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that do not use the suite's database ``dbless``; on PostgreSQL, deselect
    them: they ran, unchanged, in the SQLite pass."""
    independent = []
    for item in items:
        if not _uses_the_database(item):
            item.add_marker(pytest.mark.dbless)
            independent.append(item)
        elif item.get_closest_marker("sqlite") is not None:
            independent.append(item)  # SQLite's own behaviour: the SQLite pass only
    if DATABASE_URL and independent:
        config.hook.pytest_deselected(items=independent)
        chosen = set(map(id, independent))
        items[:] = [item for item in items if id(item) not in chosen]


@pytest.fixture(scope="session", autouse=True)
def clean_database() -> None:
    """A server database may hold tables of another version of the schema (an earlier run,
    a migration test's subprocess): drop every table there once, so ``drop_all`` of this
    version's metadata is never blocked by a foreign key it does not know."""
    if not DATABASE_URL:
        return
    engine = sa.create_engine(DATABASE_URL)
    try:
        leftovers = sa.MetaData()
        leftovers.reflect(engine)
        leftovers.drop_all(engine)
    finally:
        engine.dispose()


@pytest.fixture
def host() -> FakeHost:
    return FakeHost()


@dataclass
class _Current:
    """The shared app and host of the running test (for :func:`once_per_module`)."""

    app: Flask | None = None
    host: FakeHost | None = None


_CURRENT = _Current()


@pytest.fixture
def app(host: FakeHost) -> Iterator[Flask]:
    """The session's app with this test's ``host`` installed, on emptied tables."""
    app = shared_app()
    config = app.config.copy()
    try:
        with app.app_context():
            reset_data(app)
            use_host(app, host)
            host.install(app)
            _CURRENT.app, _CURRENT.host = app, host
            yield app
            app.extensions["sqlalchemy"].session.remove()
    finally:
        _CURRENT.app = _CURRENT.host = None
        app.extensions[SHARED_APP_KEY].host = None
        use_host(app, None)
        app.config.clear()
        app.config.update(config)


# --------------------------------------------------------------------------------------------
# World fixtures built once per module
# --------------------------------------------------------------------------------------------


@dataclass
class _Built:
    host_type: type
    host_before: dict[str, Any]
    host_after: dict[str, Any]
    rows: dict[str, list[dict[str, Any]]]
    sequences: dict[str, tuple[int, bool]]
    value: Any


def once_per_module(build: Any) -> Any:
    """Decorate a function-scoped world fixture (under ``@pytest.fixture``) that builds data on
    the shared ``app``: the module's first test builds it (over HTTP, as written); its rows,
    sequences and the host's state are kept, and each later test of the module gets them
    restored into emptied tables, with a deep copy of the fixture's value.

    A test still gets a world nobody else has touched: only the building is shared. The copy is
    taken only when the test's host starts out equal to the one the world was built with (same
    type, same fields); otherwise the world is built again."""
    import functools

    built: dict[str, _Built] = {}

    @functools.wraps(build)
    def fixture(*args: Any, **kwargs: Any) -> Any:
        app, host = _CURRENT.app, _CURRENT.host
        if app is None or host is None:
            raise RuntimeError(f"{build.__name__} needs the shared `app` fixture")
        module = build.__module__
        db = app.extensions["sqlalchemy"]
        known = built.get(module)
        if (
            known is not None
            and known.host_type is type(host)
            and vars(host) == known.host_before
            and app is _SHARED_APPS.get(())
        ):
            _restore(db, known)
            vars(host).update(copy.deepcopy(known.host_after))
            return copy.deepcopy(known.value)
        before = copy.deepcopy(vars(host))
        value = build(*args, **kwargs)
        built[module] = _Built(
            type(host),
            before,
            copy.deepcopy(vars(host)),
            _dump(db),
            _sequences(db),
            copy.deepcopy(value),
        )
        return value

    return fixture


def _dump(db: SQLAlchemy) -> dict[str, list[dict[str, Any]]]:
    return {
        table.name: [
            dict(row._mapping)
            for row in db.session.execute(sa.select(table).order_by(*table.primary_key.columns))
        ]
        for table in _tables()
    }


def _sequences(db: SQLAlchemy) -> dict[str, tuple[int, bool]]:
    if db.engine.dialect.name != "postgresql":
        return {}  # SQLite (no AUTOINCREMENT): the next id is max(id) + 1 either way
    shared: SharedApp = current_app.extensions[SHARED_APP_KEY]
    return {
        name: tuple(db.session.execute(sa.text(f"SELECT last_value, is_called FROM {name}")).one())
        for name in shared.sequences or ()
    }


def _restore(db: SQLAlchemy, built: _Built) -> None:
    session = db.session
    for table in reversed(_tables()):  # the host's tables were just filled from its fields
        session.execute(table.delete())
    for table in _tables():
        rows = built.rows[table.name]
        if rows:
            session.execute(sa.insert(table), rows)
    if built.sequences:
        session.execute(
            sa.text(
                "SELECT "
                + ", ".join(
                    f"setval('{name}', {value}, {'true' if called else 'false'})"
                    for name, (value, called) in built.sequences.items()
                )
            )
        )
    session.commit()


@pytest.fixture
def db(app: Flask) -> SQLAlchemy:
    return app.extensions["sqlalchemy"]


class ApiClient:
    """A test client that speaks as a user and knows the API prefix."""

    def __init__(self, app: Flask, user: str | None = "admin") -> None:
        self.client = app.test_client()
        self.user = user

    def as_user(self, user: str | None) -> ApiClient:
        other = ApiClient.__new__(ApiClient)
        other.client, other.user = self.client, user
        return other

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        result = dict(headers or {})
        if self.user:
            result.setdefault("X-User", self.user)
        return result

    def open(self, method: str, path: str, **kwargs: Any):
        kwargs["headers"] = self._headers(kwargs.get("headers"))
        if (
            method != "GET"
            and kwargs.get("json") is None
            and not {"data", "content_type"} & kwargs.keys()
            and "Content-Type" not in kwargs["headers"]
        ):
            kwargs.pop("json", None)
            # A write without a body still says JSON: the proof no cross-site page can forge
            # (SPEC §13, tests/test_security.py sends writes without it).
            kwargs["content_type"] = "application/json"
        return self.client.open("/api/goals" + path, method=method, **kwargs)

    def get(self, path: str, **kwargs: Any):
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any):
        return self.open("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any):
        return self.open("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any):
        return self.open("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any):
        return self.open("DELETE", path, **kwargs)

    def write(self, method: str, path: str, **kwargs: Any):
        """A write with the current ETag of ``path`` (or of ``etag_of``) as If-Match."""
        etag_of = kwargs.pop("etag_of", path.split("?")[0])
        etag = self.get(etag_of).headers["ETag"]
        headers = {"If-Match": etag, **kwargs.pop("headers", {})}
        return self.open(method, path, headers=headers, **kwargs)


@pytest.fixture
def api(app: Flask) -> ApiClient:
    return ApiClient(app)


def table_counts(db: SQLAlchemy) -> dict[str, int]:
    """Rows per goals_* table: what "nothing was written" is checked against."""
    return {
        table.name: db.session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        for table in GoalsBase.metadata.sorted_tables
    }


def dump_tables(db: SQLAlchemy) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every goals_* table, ordered: a refused write must leave this unchanged."""
    return {
        table.name: [
            tuple(row)
            for row in db.session.execute(
                sa.select(table).order_by(*table.primary_key.columns)
            ).all()
        ]
        for table in GoalsBase.metadata.sorted_tables
    }


def created(api: ApiClient, body: dict[str, Any]) -> dict[str, Any]:
    """POST a goal that must be created; its JSON."""
    response = api.post("/goals", json=body)
    assert response.status_code == 201, response.json
    return response.json


def first_interval(api: ApiClient, goal_id: int) -> dict[str, Any]:
    return api.get(f"/goals/{goal_id}/intervals").json[0]


def sales_goal(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "sales",
        "description": "Q1 revenue",
        "start_date": "2026-01-01",
        "end_date": "2026-03-31",
        "metric": "net",
        "aim": "1000.00",
    }
    body.update(overrides)
    return body


@pytest.fixture
def freeze_now(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Stop the extension's clock at an aware instant: ``freeze_now(datetime(..., tzinfo=UTC))``.

    "Today" is then that instant's date in each organization's timezone, because
    ``services.context.today_in`` converts this clock's ``now`` into the identity's timezone;
    the rows' timestamps (``created_at``...: ``models.utcnow``) are that instant too.
    """
    from datetime import datetime, tzinfo

    from flask_wiseparts_goals import models as models_module
    from flask_wiseparts_goals.services import context as context_module

    def freeze(instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("freeze_now needs an aware datetime (an instant, not a wall time)")

        class FrozenDatetime(datetime):
            @classmethod
            def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
                return instant.astimezone(tz) if tz is not None else instant.replace(tzinfo=None)

        monkeypatch.setattr(context_module, "datetime", FrozenDatetime)
        monkeypatch.setattr(models_module, "datetime", FrozenDatetime)

    return freeze
