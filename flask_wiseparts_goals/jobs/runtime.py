"""The one runtime every job runs on: claim due work exactly once, in chunks, retry one alone.

Correctness comes from the database, never from running one scheduler only (APScheduler 3
runs a job in every process that starts a scheduler, and processes cannot share a job store
safely; docs/jobs.md): every web worker, host and cron job may run a job at the same moment. A job
states two things, what may be due (:meth:`Job.due`, a plain read) and what to do with a batch
of it (:meth:`Job.step`, in one transaction that first *claims* the batch); this module does
the rest, the same way for every job:

* **Chunks.** The due items run in chunks of :attr:`Job.chunk_size`, one transaction each
  (committed, or rolled back in a dry run). A step may return follow-up items (recurrence's
  catch-up clones, coaching's notices of an organization): they run in the chunk's next
  transactions, chunked the same way.
* **Claims.** A step claims its batch before it acts, with one of three primitives: lock the
  rows (:func:`skip_locked`: rows another runner holds are left out), a compare-and-set UPDATE
  (:func:`claim_update`), or an event row whose key is UNIQUE (:func:`insert_once`). An item
  another runner did first is :class:`LostRace`, counted as skipped; so is an error the job
  recognizes as the database refusing a duplicate (:meth:`Job.lost_race`).
* **Retry one alone.** When a batch fails, it rolls back and runs again without the item at
  fault (a step names it with :func:`blame`), then that item alone, which fails, is counted,
  logged and retried by the next run. When the failure cannot be pinned on an item, the batch
  runs again in halves. After :data:`ISOLATIONS` items at fault in one batch (a host hook down
  for everyone) the rest runs one item per transaction.
* **A missing table** is raised at once: it is not an item's fault, and the CLI says
  ``flask goals db upgrade`` (SPEC §6).
* **A summary** (:class:`Summary`): what was done, skipped and failed, ``ok`` and one line of
  text; the counts of a transaction are added only once it committed.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, ClassVar, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..exceptions import describe
from ..plugins import HostHooks
from ..services.context import SYSTEM_USER_ID, Context, ensure_no_pending, today_in
from ..types import Identity

#: UTC+14 and UTC-12 (POSIX signs are inverted): the latest and the earliest today anywhere.
FURTHEST_AHEAD, FURTHEST_BEHIND = "Etc/GMT-14", "Etc/GMT+12"
#: Items at fault re-run alone per batch before the rest of it runs one item per transaction.
ISOLATIONS = 3

#: ``on_progress(done, total)``: ``(0, total)`` once the due items are known, then once per due
#: item when its chunk (with its follow-ups) is done.
ProgressCallback = Callable[[int, int], None]

Item = TypeVar("Item")


def latest_today(as_of: date | None) -> date:
    """``as_of``, else the latest today of any timezone: what may be due somewhere."""
    return as_of or today_in(FURTHEST_AHEAD)


def earliest_today(as_of: date | None) -> date:
    """``as_of``, else the earliest today of any timezone."""
    return as_of or today_in(FURTHEST_BEHIND)


# -- summaries ---------------------------------------------------------------------------------


@dataclass
class Summary:
    """What one run of a job did; in a dry run, what it would have done.

    A job's summary adds its own counts (``int`` fields) and lists; :attr:`COUNTS` names the
    counts its one line of text shows, in order.

    :param skipped: items another runner held or had done meanwhile.
    :param failed: items that raised, alone: rolled back, logged, retried by the next run.
    :param errors: one line per failed item (``goal 12: RuntimeError: ...``).
    """

    dry_run: bool = False
    skipped: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    #: ``(attribute, words)`` of the counts :meth:`as_text` shows, in order.
    COUNTS: ClassVar[tuple[tuple[str, str], ...]] = (("skipped", "skipped"), ("failed", "failed"))
    #: What :meth:`as_text` adds in a dry run.
    DRY_RUN_NOTE: ClassVar[str] = "dry run: nothing written"

    @property
    def ok(self) -> bool:
        """Nothing failed (a CLI run exits 1 otherwise)."""
        return self.failed == 0

    def as_text(self) -> str:
        text = ", ".join(f"{words} {getattr(self, name)}" for name, words in self.COUNTS)
        return f"{text} ({self.DRY_RUN_NOTE})" if self.dry_run else text

    def details(self) -> list[str]:
        """Lines the CLI prints before the summary line (none by default)."""
        return []

    def add(self, other: Summary) -> None:
        """Add the counts and lists of ``other`` (one committed transaction's) to these."""
        for item in fields(self):
            if item.name == "dry_run":
                continue
            value = getattr(other, item.name)
            if isinstance(value, list):
                getattr(self, item.name).extend(value)
            elif isinstance(value, int):
                setattr(self, item.name, getattr(self, item.name) + value)


S = TypeVar("S", bound=Summary)


# -- claims --------------------------------------------------------------------------------------


class LostRace(Exception):
    """Another runner claimed (or did) this item first: it is counted as skipped."""


class _Blamed(Exception):
    """An error of one known item of a batch."""

    def __init__(self, item: Any, error: Exception) -> None:
        super().__init__(str(error))
        self.item = item
        self.error = error


@contextmanager
def blame(item: object) -> Iterator[None]:
    """Name ``item`` as the one at fault for what raises inside: the batch runs again without
    it, then the item alone."""
    try:
        yield
    except Exception as error:
        raise _Blamed(item, error) from error


def skip_locked(query: sa.Select[Any], table: sa.Table | type[Any]) -> sa.Select[Any]:
    """``query`` locking its rows of ``table`` for this transaction, leaving out those another
    runner holds (``FOR NO KEY UPDATE SKIP LOCKED`` on PostgreSQL).

    ``NO KEY`` so that inserting a row whose foreign key points at a locked row (a clone of its
    source goal) never waits for the lock itself. SQLite renders no lock clause: it has one
    writer at a time. Re-check in ``query`` what made the rows due: a row another runner has
    just done no longer qualifies.
    """
    return query.with_for_update(of=table, key_share=True, skip_locked=True)


def claim_update(session: Session, statement: sa.Update, expected: int) -> None:
    """Run a compare-and-set UPDATE (``... WHERE <not done yet>``) that must change
    ``expected`` rows; fewer means another runner did some of them first: :class:`LostRace`
    (the step's transaction rolls back, so the claim commits with the work or not at all)."""
    result: sa.CursorResult[Any] = session.execute(  # type: ignore[assignment]
        statement.execution_options(synchronize_session=False)
    )
    if result.rowcount != expected:
        raise LostRace


def insert_once(session: Session, table: sa.Table, values: Mapping[str, Any]) -> None:
    """Insert the row that records an event whose key is UNIQUE in ``table``; when the row is
    there already another runner did the event: :class:`LostRace`.

    ``INSERT ... ON CONFLICT DO NOTHING``: on PostgreSQL a concurrent insert of the same key
    waits for the other transaction, and inserts nothing when it commits.
    """
    dialect = session.connection().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    key = next(iter(table.primary_key.columns))
    # RETURNING rather than the row count, which PostgreSQL does not give for this statement.
    inserted = session.execute(
        insert(table).values(**values).on_conflict_do_nothing().returning(key)
    ).first()
    if inserted is None:
        raise LostRace


def is_unique_violation(error: BaseException, constraint: str) -> bool:
    """The database refused a row that ``constraint`` (a UNIQUE constraint's name) forbids:
    PostgreSQL names the constraint, SQLite the columns (``UNIQUE constraint failed: t.c``)."""
    if not isinstance(error, sa.exc.IntegrityError):
        return False
    original = error.orig
    diag = getattr(original, "diag", None)
    if diag is not None:
        return getattr(diag, "constraint_name", None) == constraint
    found = _unique_constraints().get(constraint)
    return found is not None and f"UNIQUE constraint failed: {found}" in str(original)


def _unique_constraints() -> dict[str, str]:
    """UNIQUE constraint name → the column list SQLite names in its message."""
    from ..models import Base

    named = {}
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, sa.UniqueConstraint) and constraint.name:
                columns = ", ".join(f"{table.name}.{column.name}" for column in constraint.columns)
                named[str(constraint.name)] = columns
    return named


# -- errors ------------------------------------------------------------------------------------


def is_missing_table(error: BaseException) -> bool:
    """A goals table is missing (a migration not applied): not one item's fault."""
    original = getattr(error, "orig", None)
    return isinstance(error, sa.exc.DBAPIError) and (
        getattr(original, "sqlstate", None) == "42P01" or "no such table" in str(original)
    )


# -- the runtime ---------------------------------------------------------------------------------


class Job(ABC, Generic[Item, S]):
    """One job: what is due and what to do with it. :meth:`run` does the rest.

    :param hooks: a fresh :class:`HostHooks` (memoized answers last the whole run).
    :param config: the app's config (``GOALS_DEFAULT_TIMEZONE`` for unknown timezones).
    """

    #: The job's name in logs and messages (``recurrence``).
    name: ClassVar[str]
    #: Due items per transaction.
    chunk_size: int = 1

    def __init__(
        self,
        session: Session,
        hooks: HostHooks,
        *,
        as_of: date | None = None,
        dry_run: bool = False,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        self.session = session
        self.hooks = hooks
        self.as_of = as_of
        self.dry_run = dry_run
        self.config: Mapping[str, Any] = config or {}
        self.fallback = str(self.config.get("GOALS_DEFAULT_TIMEZONE") or "UTC")
        self.summary = self.new_summary()
        self.logger = logging.getLogger(f"flask_wiseparts_goals.{self.name}")

    @classmethod
    def run_on(
        cls,
        session: Session,
        hooks: HostHooks,
        *,
        on_progress: ProgressCallback | None = None,
        **options: Any,
    ) -> S:
        """One run: ``cls(session, hooks, **options).run(on_progress)`` (``as_of``,
        ``dry_run``, ``config`` and the job's own options)."""
        job: Job[Any, S] = cls(session, hooks, **options)
        return job.run(on_progress)

    @abstractmethod
    def new_summary(self) -> S:
        """An empty summary of this job (one per run, one per transaction)."""

    @abstractmethod
    def due(self) -> Sequence[Item]:
        """What may be due, read without locks (each step re-checks what it claims)."""

    @abstractmethod
    def step(self, batch: Sequence[Item], done: S) -> Sequence[Item]:
        """In one transaction: claim ``batch``, do its work and count it into ``done``.

        :return: follow-up items, run in the next transaction of the chunk.
        :raises LostRace: another runner did the item first (skipped).
        """

    def label(self, item: Item) -> str:
        """How errors and logs name an item (``goal 12``)."""
        return str(item)

    def lost_race(self, error: BaseException) -> bool:
        """``error`` says another runner did the item first (default: :class:`LostRace`)."""
        return isinstance(error, LostRace)

    def context(
        self,
        organization_id: str,
        today: date,
        *,
        timezone: str | None = None,
        confirm: bool = False,
        kind: type[Context] = Context,
    ) -> Context:
        """A service context in which the job acts in one organization, as
        :data:`~..services.context.SYSTEM_USER_ID`, on ``today``."""
        return kind(
            session=self.session,
            hooks=self.hooks,
            identity=Identity(
                user_id=SYSTEM_USER_ID, organization_id=organization_id, timezone=timezone
            ),
            config=self.config,
            today=today,
            confirm=confirm,
        )

    def today(self, timezone: str | None) -> date:
        """Today in ``timezone`` (unknown: the default timezone), or ``as_of``."""
        return self.as_of or today_in(timezone or self.fallback, self.fallback)

    # -- running -----------------------------------------------------------------------------

    def run(self, on_progress: ProgressCallback | None = None) -> S:
        """Run every due item, exactly once across runners; returns the summary."""
        ensure_no_pending(self.session, f"The {self.name} job")
        items = list(self.due())
        self.session.rollback()  # end the read; every chunk opens its own transaction
        if on_progress is not None:
            on_progress(0, len(items))
        size = max(1, self.chunk_size)
        for start in range(0, len(items), size):
            chunk = items[start : start + size]
            try:
                pending: Sequence[Item] = chunk
                while pending:
                    follow_ups: list[Item] = []
                    for at in range(0, len(pending), size):
                        follow_ups += self._transaction(pending[at : at + size])
                    pending = follow_ups
            finally:
                if self.dry_run:
                    self.session.rollback()
            if on_progress is not None:
                for done in range(start + 1, start + len(chunk) + 1):
                    on_progress(done, len(items))
        log = self.logger.warning if self.summary.failed else self.logger.info
        log("%s run: %s", self.name, self.summary.as_text())
        return self.summary

    def _transaction(self, items: Sequence[Item]) -> list[Item]:
        """One step of ``items`` in one transaction, or, when it fails, as many as it takes to
        run every item that does not fail; returns the follow-ups of those that ran."""
        follow_ups: list[Item] = []
        pending: list[Sequence[Item]] = [items]
        isolated = 0
        while pending:
            batch = pending.pop(0)
            done = self.new_summary()
            try:
                follow_ups_of_batch = list(self.step(batch, done))
                if not self.dry_run:
                    self.session.commit()
            except Exception as error:
                self.session.rollback()
                cause = error.error if isinstance(error, _Blamed) else error
                if is_missing_table(cause):
                    raise cause from None
                culprit: Item | None = error.item if isinstance(error, _Blamed) else None
                if len(batch) == 1 or self.dry_run:
                    self._give_up(culprit if culprit is not None else batch[0], cause)
                elif culprit is not None and isolated < ISOLATIONS:
                    isolated += 1
                    self.logger.info(
                        "%s: %s failed in a chunk of %d; re-running the chunk without it, "
                        "then it alone",
                        self.name,
                        self.label(culprit),
                        len(batch),
                    )
                    pending[:0] = [[item for item in batch if item != culprit], [culprit]]
                elif culprit is not None:
                    pending[:0] = [[item] for item in batch]
                else:
                    self.logger.info(
                        "%s: a chunk of %d failed (%s); re-running it in halves",
                        self.name,
                        len(batch),
                        describe(cause),
                    )
                    middle = len(batch) // 2
                    pending[:0] = [batch[:middle], batch[middle:]]
                continue
            self.summary.add(done)
            follow_ups += follow_ups_of_batch
        return follow_ups

    def _give_up(self, item: Item, error: BaseException) -> None:
        """An item that failed alone: skipped when another runner did it, else failed."""
        if self.lost_race(error):
            self.logger.info("%s: %s was done by another runner", self.name, self.label(item))
            self.summary.skipped += 1
            return
        self.summary.failed += 1
        self.summary.errors.append(f"{self.label(item)}: {describe(error)}")
        self.logger.error(
            "%s: %s failed and is retried on the next run: %s",
            self.name,
            self.label(item),
            describe(error),
            exc_info=error,
        )
