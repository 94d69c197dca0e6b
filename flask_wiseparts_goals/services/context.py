"""What every use case needs to know about the call it serves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..domain.periods import local_date
from ..exceptions import Forbidden, NotFound, PreconditionFailed
from ..models import Goal
from ..plugins import HostHooks
from ..types import AuthTarget, Identity


def today_in(timezone: str, fallback: str = "UTC") -> date:
    """Today's date in an IANA timezone (an unknown name falls back)."""
    return local_date(datetime.now(UTC), timezone, fallback)


#: The user a job acts as: its identity and the ``changed_by`` of what it writes.
SYSTEM_USER_ID = "system"


def ensure_no_pending(session: Session, what: str) -> None:
    """``what`` owns the session's transactions (it commits as it goes): refuse to start with
    changes pending, which it would commit or discard."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError(f"{what} commits as it goes: commit or discard pending changes first.")


@dataclass
class Context:
    """One request's (or one job run's) session, hooks and caller."""

    session: Session
    hooks: HostHooks
    identity: Identity
    config: Mapping[str, Any]
    today: date
    #: Set by the views: accept cascades and destructive rebuilds.
    confirm: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def organization_id(self) -> str:
        return self.identity.organization_id

    def allowed(self, action: str, target: AuthTarget) -> bool:
        return self.hooks.authorize(self.identity, action, target)

    def require(self, action: str, target: AuthTarget) -> None:
        """Raise 403 unless the caller may do ``action`` on ``target``."""
        if not self.allowed(action, target):
            raise Forbidden(f"You may not {action} this {target.kind}.")


#: Key of the per-request state (hooks façade, caller context) in ``request.environ``.
REQUEST_STORE = "flask_wiseparts_goals"

#: Ids are 32-bit on every supported database; a larger id in a URL names nothing.
MAX_ID = 2**31 - 1


def goal_target(goal: Goal) -> AuthTarget:
    return AuthTarget(
        kind="goal",
        organization_id=goal.organization_id,
        team_id=goal.team_id,
        goal_id=goal.id,
        created_by=goal.created_by,
        category=goal.category,
    )


#: The writes a goal response reports in its ``permissions``.
GOAL_PERMISSIONS = ("update", "delete", "allocate")


def goal_permissions(ctx: Context, goal: Goal) -> dict[str, bool]:
    """``{"update", "delete", "allocate"}``: what the caller may do with ``goal``."""
    target = goal_target(goal)
    return {action: ctx.allowed(action, target) for action in GOAL_PERMISSIONS}


def current_context() -> Context | None:
    """The request's Context when a Goals view built one (``None`` outside such a request)."""
    if not has_request_context():
        return None
    store = request.environ.get(REQUEST_STORE) or {}
    ctx: Context | None = store.get("context")
    return ctx


def load_goal(ctx: Context, goal_id: int, action: str = "read") -> Goal:
    """A goal the caller can see: another organization's, a deleted or an unreadable goal is a
    404 (its existence is not revealed); a visible goal the caller may not change is a 403.

    For a write (any ``action`` but ``"read"``) the goal's row stays locked until the
    transaction ends (``SELECT ... FOR NO KEY UPDATE`` on PostgreSQL; SQLite has one writer at
    a time anyway), so writes to one goal, its intervals and allocations run one after the
    other and the ``If-Match`` check that follows compares with a state no other write can
    change before this one commits. Without the lock, writers holding the same ETag all pass
    the check and each overwrites the one before (lost updates).
    """
    if not 0 < goal_id <= MAX_ID:
        raise NotFound(f"Goal {goal_id} not found.")
    if action == "read":
        goal = ctx.session.get(Goal, goal_id)
    else:
        goal = ctx.session.get(
            Goal, goal_id, with_for_update={"key_share": True}, populate_existing=True
        )
    if (
        goal is None
        or goal.deleted_at is not None
        or goal.organization_id != ctx.organization_id
        or not ctx.allowed("read", goal_target(goal))
    ):
        raise NotFound(f"Goal {goal_id} not found.")
    if action != "read":
        ctx.require(action, goal_target(goal))
        claim_goal(ctx, goal)
    return goal


def claim_goal(ctx: Context, goal: Goal) -> None:
    """Take the goal for this transaction: ``UPDATE ... SET version = version + 1 WHERE id = ?
    AND version = <the version just read>``.

    This is the compare-and-set behind ``If-Match`` on every database. On SQLite the goal was
    read outside any transaction (the driver begins one at the first write), so another writer
    may commit between that read and this statement: then no row matches and the write is a
    412. From this statement on the transaction holds the database's write lock (SQLite) or
    the row's lock (PostgreSQL), so the state the ETag is compared with next cannot change
    before this write commits.
    """
    claimed: sa.CursorResult[Any] = ctx.session.execute(  # type: ignore[assignment]
        sa.update(Goal)
        .where(Goal.id == goal.id, Goal.version == goal.version)
        .values(version=Goal.version + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise PreconditionFailed(
            "The goal was changed by another request: read it again and retry."
        )
    set_committed_value(goal, "version", goal.version + 1)
