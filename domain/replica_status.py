"""The sync status a person sees: of each record, and of the whole replica.

Both are derived from facts the device has persisted (its queues, originals, conflict
inbox, errors and run properties), never from a flag in memory, so they are the same
after a restart and always match the tables (seed notes §7.23, ADR/0024). Each state has
a label and a symbol, so nothing is told by colour alone.
"""

import enum
from collections.abc import Iterable
from datetime import datetime, timedelta

import attrs

from calldesk.domain.errors import InvalidValue
from calldesk.domain.replica_runs import RunProgress


class RecordState(enum.Enum):
    """A record's sync state, the most pressing first."""

    CONFLICT = "conflict"
    ERROR = "error"
    PENDING_DELETE = "pending-delete"
    PENDING_CREATE = "pending-create"
    PENDING_EDIT = "pending-edit"
    SYNCED = "synced"

    @property
    def label(self) -> str:
        return _RECORD_LABELS[self][0]

    @property
    def symbol(self) -> str:
        return _RECORD_LABELS[self][1]

    @property
    def pending(self) -> bool:
        return self in _PENDING


_RECORD_LABELS = {
    RecordState.CONFLICT: ("Conflict: choose the values", "⚠"),
    RecordState.ERROR: ("Refused by the server", "✖"),
    RecordState.PENDING_DELETE: ("Delete not yet sent", "⌫"),
    RecordState.PENDING_CREATE: ("New, not yet sent", "+"),
    RecordState.PENDING_EDIT: ("Changes not yet sent", "↑"),
    RecordState.SYNCED: ("Synced", "✓"),
}
_PENDING = frozenset(
    {RecordState.PENDING_DELETE, RecordState.PENDING_CREATE, RecordState.PENDING_EDIT}
)


@attrs.frozen
class RecordFacts:
    """What the device's tables hold about one record.

    `created`: its create is queued; `edited`: it has an original its row differs
    from; `deleted`: its delete is queued, not yet confirmed; `conflicts`: the fields
    in the inbox; `error`: the server's message when it last refused the record;
    `waits_for`: the temporary ids its create waits on."""

    created: bool = False
    edited: bool = False
    deleted: bool = False
    conflicts: tuple[str, ...] = ()
    error: str | None = None
    waits_for: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if self.error is not None and not self.error.strip():
            raise InvalidValue("a refused record keeps the server's message, not nothing")
        if self.waits_for and not self.created:
            raise InvalidValue("only a record waiting to be created waits for another")


@attrs.frozen
class RecordStatus:
    state: RecordState
    message: str | None = None

    @property
    def needs_attention(self) -> bool:
        return self.state in (RecordState.CONFLICT, RecordState.ERROR)


def record_status(facts: RecordFacts) -> RecordStatus:
    """The record's state, its most pressing fact first, with what a person needs to
    know: which fields conflict, what the server said, what a create waits for."""
    if facts.conflicts:
        return RecordStatus(
            RecordState.CONFLICT,
            "changed here and on the server: " + ", ".join(facts.conflicts),
        )
    if facts.error is not None:
        return RecordStatus(RecordState.ERROR, facts.error)
    if facts.deleted:
        return RecordStatus(RecordState.PENDING_DELETE)
    if facts.created:
        waiting = ", ".join(facts.waits_for)
        return RecordStatus(
            RecordState.PENDING_CREATE, f"waits for {waiting}" if waiting else None
        )
    if facts.edited:
        return RecordStatus(RecordState.PENDING_EDIT)
    return RecordStatus(RecordState.SYNCED)


@attrs.frozen
class StatusCounts:
    """How many records are in conflict, refused, and waiting to be sent."""

    conflicts: int = 0
    errors: int = 0
    pending: int = 0

    def __attrs_post_init__(self) -> None:
        if min(self.conflicts, self.errors, self.pending) < 0:
            raise InvalidValue("a count of records is never below 0")

    @property
    def needing_attention(self) -> int:
        return self.conflicts + self.errors


def tally(statuses: Iterable[RecordStatus]) -> StatusCounts:
    """The counts the replica's status shows, from its records' statuses."""
    states = [status.state for status in statuses]
    return StatusCounts(
        conflicts=states.count(RecordState.CONFLICT),
        errors=states.count(RecordState.ERROR),
        pending=sum(state.pending for state in states),
    )


class ReplicaState(enum.Enum):
    """The replica's state, the most pressing first."""

    SYNCING = "syncing"
    ERROR = "error"
    NEEDS_ATTENTION = "needs-attention"
    OFFLINE = "offline"
    PENDING = "pending"
    UP_TO_DATE = "up-to-date"

    @property
    def label(self) -> str:
        return _REPLICA_LABELS[self][0]

    @property
    def symbol(self) -> str:
        return _REPLICA_LABELS[self][1]


_REPLICA_LABELS = {
    ReplicaState.SYNCING: ("Syncing", "⟳"),
    ReplicaState.ERROR: ("Sync failed", "✖"),
    ReplicaState.NEEDS_ATTENTION: ("Needs attention", "⚠"),
    ReplicaState.OFFLINE: ("Offline", "⊘"),
    ReplicaState.PENDING: ("Changes waiting to be sent", "↑"),
    ReplicaState.UP_TO_DATE: ("Up to date", "✓"),
}


@attrs.frozen
class ReplicaFacts:
    """What the device's properties and tables hold about the replica as a whole.

    `online`: whether its last request reached the server; `run`: the run in progress;
    `run_error`: why the last run failed, until one succeeds; `oldest_pending_since`:
    when the oldest change still waiting was made; `last_success`: when a run last
    completed."""

    online: bool
    counts: StatusCounts = attrs.field(factory=StatusCounts)
    run: RunProgress | None = None
    run_error: str | None = None
    oldest_pending_since: datetime | None = None
    last_success: datetime | None = None

    def __attrs_post_init__(self) -> None:
        if (self.counts.pending > 0) != (self.oldest_pending_since is not None):
            raise InvalidValue(
                "the oldest pending change has a time when, and only when, changes wait"
            )
        if self.run is not None and not self.online:
            raise InvalidValue("a run in progress talks to the server: it is online")


@attrs.frozen
class ReplicaStatus:
    """The replica's status as the CLI and the local page show it."""

    state: ReplicaState
    counts: StatusCounts
    message: str | None
    run: RunProgress | None
    oldest_pending_age: timedelta | None
    last_success: datetime | None


def replica_status(facts: ReplicaFacts, now: datetime) -> ReplicaStatus:
    """The replica's most pressing state, with its counts, the age of the oldest change
    waiting (as of `now`) and the last successful sync."""
    counts = facts.counts
    message: str | None = None
    if facts.run is not None:
        state = ReplicaState.SYNCING
        message = facts.run.stage.label
    elif facts.run_error is not None:
        state, message = ReplicaState.ERROR, facts.run_error
    elif counts.needing_attention:
        state = ReplicaState.NEEDS_ATTENTION
        conflicts, errors = counts.conflicts, counts.errors
        message = f"{_count(conflicts, 'conflict')}, {_count(errors, 'error')}"
    elif not facts.online:
        state = ReplicaState.OFFLINE
    elif counts.pending:
        state = ReplicaState.PENDING
    else:
        state = ReplicaState.UP_TO_DATE
    if counts.pending and state is not ReplicaState.PENDING:
        waiting = f"{_count(counts.pending, 'change')} waiting"
        message = f"{message}; {waiting}" if message else waiting
    since = facts.oldest_pending_since
    age = None if since is None else max(now - since, timedelta(0))
    return ReplicaStatus(state, counts, message, facts.run, age, facts.last_success)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
