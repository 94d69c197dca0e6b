"""``flask goals migrate-legacy``: legacy team-level daily visit targets → recurring goals."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from flask import current_app
from flask.cli import with_appcontext

from ..plugins import HostHooks
from ..services.legacy import MigrationSummary, OrganizationRun, TeamResult, migrate_legacy
from .base import progress_bar

CENT = Decimal("0.01")

_TIMEZONE_SOURCES = {
    "option": "from --timezone",
    "goals": "from the organization's goals",
    "default": "GOALS_DEFAULT_TIMEZONE; set --timezone if the organization is elsewhere",
}


def _timezone(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise click.BadParameter(f"{value!r} is not an IANA timezone name.") from error
    return value


@click.command("migrate-legacy")
@with_appcontext
@click.option(
    "--organization",
    "organization_ids",
    metavar="ID",
    multiple=True,
    required=True,
    help="An organization to migrate (repeat for several).",
)
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m"]),
    metavar="YYYY-MM",
    help="The month of the first goals; default: the current month in the organization's timezone.",
)
@click.option(
    "--timezone",
    callback=_timezone,
    metavar="ZONE",
    help="The organizations' IANA timezone (e.g. Europe/Berlin); default: the one their goals "
    "record, else GOALS_DEFAULT_TIMEZONE.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be migrated; write nothing.")
@click.option(
    "--members/--no-members",
    default=True,
    show_default=True,
    help="List each member's daily and monthly target.",
)
def migrate_legacy_command(
    organization_ids: Sequence[str],
    start: datetime | None,
    timezone: str | None,
    dry_run: bool,
    members: bool,
) -> None:
    """Turn legacy team-level daily visit targets into goals: per team, a recurring monthly
    activity goal, per business day, split by team members, each member's daily target kept.

    Running it again creates nothing for teams already migrated. Teams with bad legacy data
    (unknown team or members, negative targets, no members) are reported and skipped; the
    others are migrated. Exits with status 1 when a team was skipped or failed.
    """
    state = current_app.extensions["goals"]
    with ExitStack() as stack:
        summary = migrate_legacy(
            state.session,
            HostHooks(state.plugin_manager),
            current_app.config,
            organization_ids=organization_ids,
            start_month=date(start.year, start.month, 1) if start else None,
            dry_run=dry_run,
            on_progress=progress_bar(stack, "Legacy teams"),
            timezone=timezone,
        )
    _echo_summary(summary, members=members)
    if not summary.ok:
        raise click.exceptions.Exit(1)


def _amount(value: Decimal | None) -> str:
    return "-" if value is None else format(value.quantize(CENT), "f")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = []
    for row in (headers, *rows):
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _organization_line(run: OrganizationRun) -> str:
    if run.error:
        return f"{run.organization_id}: not migrated, {run.error}"
    return (
        f"{run.organization_id}: {run.teams} legacy team(s), goals for "
        f"{run.start_date.isoformat()} to {run.end_date.isoformat()} "
        f"({run.timezone}, {_TIMEZONE_SOURCES[run.timezone_source]})"
    )


def _team_row(team: TeamResult) -> list[str]:
    migrated = bool(team.members)
    detail = team.reason or "; ".join(team.notes)
    return [
        team.organization_id,
        team.team_id,
        str(team.status),
        "-" if team.goal_id is None else str(team.goal_id),
        str(len(team.members)) if migrated else "-",
        _amount(team.daily_total) if migrated else "-",
        "-" if team.business_days is None else str(team.business_days),
        _amount(team.monthly_total) if migrated else "-",
        detail,
    ]


def _echo_summary(summary: MigrationSummary, *, members: bool) -> None:
    for run in summary.organizations:
        click.echo(_organization_line(run), err=run.error is not None)
    if summary.teams:
        click.echo()
        headers = (
            "organization",
            "team",
            "result",
            "goal",
            "members",
            "daily",
            "business days",
            "monthly",
            "reason / notes",
        )
        for line in _table(headers, [_team_row(team) for team in summary.teams]):
            click.echo(line)
    migrated = summary.migrated
    if members and migrated:
        click.echo()
        rows = [
            [
                team.team_id,
                member.user_id,
                _amount(member.daily_target),
                _amount(member.target),
            ]
            for team in migrated
            for member in team.members
        ]
        for line in _table(("team", "member", "daily target", "monthly target"), rows):
            click.echo(line)
    click.echo()
    click.echo(f"Legacy migration: {summary.as_text()}")
