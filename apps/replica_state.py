"""The device's sync status, read from its tables: each record's, and the replica's
(ADR/0024). Nothing is kept in memory, so the status after a restart is the status
before it, and it always matches the tables."""

import enum
from collections.abc import Iterator
from datetime import datetime

import attrs

from calldesk.apps.replica_rows import local_changes, schema_of
from calldesk.apps.replica_sync import (
    CURSOR,
    LAST_SUCCESS,
    NEXT_RUN_AT,
    ONLINE,
    RUN,
    RUN_ERROR,
)
from calldesk.domain.records import RecordKind
from calldesk.domain.replica_runs import RunProgress, SyncStage
from calldesk.domain.replica_status import (
    RecordFacts,
    RecordState,
    RecordStatus,
    ReplicaFacts,
    ReplicaStatus,
    StatusCounts,
    record_status,
    replica_status,
    tally,
)
from calldesk.domain.temporary_ids import waiting_for
from calldesk.ports.replica import (
    LocalRow,
    QueuedCreate,
    QueuedDelete,
    ReplicaTables,
    TableGroup,
)


@attrs.frozen
class RecordLine:
    """A record as the device lists it: its row (None for a delete not yet sent,
    which the main table no longer holds) and its status."""

    kind: RecordKind
    record_id: str
    row: LocalRow | None
    status: RecordStatus


class ReplicaState:
    """Reads the status of the records and of the replica."""

    def __init__(self, tables: ReplicaTables) -> None:
        self.tables = tables

    def records(self, kind: RecordKind | None = None) -> tuple[RecordLine, ...]:
        with self.tables.transaction() as group:
            return tuple(_lines(group, kind))

    def refused(self) -> tuple[RecordLine, ...]:
        """The records the server refused, by kind and id: found among the few that
        can be other than synced, never by reading the main tables whole."""
        with self.tables.transaction() as group:
            lines = [
                line
                for line in _unsynced_lines(group)
                if line.status.state is RecordState.ERROR
            ]
        return tuple(sorted(lines, key=lambda line: (line.kind.value, line.record_id)))

    def record(self, kind: RecordKind, record_id: str) -> RecordLine | None:
        """The record's line, found by its id: its row, or its delete not yet sent."""
        with self.tables.transaction() as group:
            if group.kind_schema(kind) is None:
                return None  # not synced here: no line
            queues = _Queues.read(group)
            row = group.row(kind, record_id)
            if row is not None:
                references = schema_of(group, kind).references
                return _row_line(group, kind, row, queues, references)
            delete = queues.deletes.get((kind, record_id))
            return None if delete is None else _delete_line(kind, record_id, delete, queues)

    def replica(self, now: datetime) -> ReplicaStatus:
        with self.tables.transaction() as group:
            lines = list(_unsynced_lines(group))
            counts = tally(line.status for line in lines)
            run = group.property(RUN)
            last = group.property(LAST_SUCCESS)
            facts = ReplicaFacts(
                online=bool(group.property(ONLINE)) or run is not None,
                counts=counts,
                run=None
                if run is None
                else RunProgress(
                    SyncStage(run["stage"]), run["iteration"], run.get("done", 0)
                ),
                run_error=group.property(RUN_ERROR),
                oldest_pending_since=_oldest_pending(group, lines, counts),
                last_success=None if last is None else datetime.fromisoformat(last),
            )
        return replica_status(facts, now)

    def cursor(self) -> int:
        """Where in the server's feed the replica stands: what it pulled is before it."""
        with self.tables.transaction() as group:
            return int(group.property(CURSOR) or 0)

    def next_run(self, now: datetime) -> "NextRun":
        """What the live follower does now: wait (offline, backing off), send (a change
        can be sent now: a full run), or catch up with the feed."""
        with self.tables.transaction() as group:
            retry = group.property(NEXT_RUN_AT)
            if retry is not None and datetime.fromisoformat(retry) > now:
                return NextRun.WAIT
            due = _anything_due(group, now)
        return NextRun.SEND if due else NextRun.CATCH_UP


class NextRun(enum.Enum):
    WAIT = "wait"
    SEND = "send"
    CATCH_UP = "catch-up"


@attrs.frozen
class _Queues:
    """What the queues and the inbox hold, read once for the lines of a transaction:
    the creates by temporary id, the deletes not yet confirmed, each record's fields
    in conflict."""

    creates: dict[str, QueuedCreate]
    deletes: dict[tuple[RecordKind, str], QueuedDelete]
    conflicts: dict[tuple[RecordKind, str], list[str]]

    @classmethod
    def read(cls, group: TableGroup) -> "_Queues":
        conflicts: dict[tuple[RecordKind, str], list[str]] = {}
        for conflict in group.conflicts():
            conflicts.setdefault((conflict.kind, conflict.record_id), []).append(
                conflict.conflict.field
            )
        return cls(
            creates={c.temporary_id: c for c in group.creates()},
            deletes={
                (d.kind, d.record_id): d
                for d in group.deletes()
                if d.confirmed_version is None
            },
            conflicts=conflicts,
        )


def _row_line(
    group: TableGroup,
    kind: RecordKind,
    row: LocalRow,
    queues: _Queues,
    references: dict[str, RecordKind],
) -> RecordLine:
    create = queues.creates.get(row.record_id)
    edited = bool(local_changes(row, group.original(kind, row.record_id)))
    facts = RecordFacts(
        created=create is not None,
        edited=edited and create is None,
        conflicts=tuple(queues.conflicts.get((kind, row.record_id), ())),
        error=row.error or (create.error if create is not None else None),
        waits_for=tuple(waiting_for(row.values, references).values())
        if create is not None
        else (),
    )
    return RecordLine(kind, row.record_id, row, record_status(facts))


def _delete_line(
    kind: RecordKind, record_id: str, delete: QueuedDelete, queues: _Queues
) -> RecordLine:
    facts = RecordFacts(
        deleted=True,
        error=delete.error,
        conflicts=tuple(queues.conflicts.get((kind, record_id), ())),
    )
    return RecordLine(kind, record_id, None, record_status(facts))


def _lines(group: TableGroup, only: RecordKind | None) -> Iterator[RecordLine]:
    queues = _Queues.read(group)
    for kind in group.kinds():
        if only is not None and kind is not only:
            continue
        references = schema_of(group, kind).references
        for row in group.rows(kind):
            yield _row_line(group, kind, row, queues, references)
        for (deleted_kind, record_id), delete in queues.deletes.items():
            if deleted_kind is kind:
                yield _delete_line(kind, record_id, delete, queues)


def _unsynced_lines(group: TableGroup) -> Iterator[RecordLine]:
    """The lines of every record that can be other than synced, and perhaps a few
    synced ones: rows created or changed here (a queued create, an original), refused
    or in conflict, and deletes not yet confirmed. The status counts them at every
    look of the page, so the main table is never read whole."""
    queues = _Queues.read(group)
    for kind in group.kinds():
        references = schema_of(group, kind).references
        candidates = dict.fromkeys(
            [
                *queues.creates,
                *(original.record_id for original in group.originals(kind)),
                *(row.record_id for row in group.refused_rows(kind)),
                *(record_id for of, record_id in queues.conflicts if of is kind),
            ]
        )
        for record_id in candidates:
            row = group.row(kind, record_id)
            if row is not None:
                yield _row_line(group, kind, row, queues, references)
        for (deleted_kind, record_id), delete in queues.deletes.items():
            if deleted_kind is kind:
                yield _delete_line(kind, record_id, delete, queues)


def _anything_due(group: TableGroup, now: datetime) -> bool:
    """Whether a run would send something now. A pending change is not due while it
    cannot go: a create waiting for a refused create, an entry backing off after an
    attempt with no answer; the follower then catches up with the feed instead of
    running every look for nothing."""
    if _any_create_due(group, now):
        return True
    deletes = {(d.kind, d.record_id): d for d in group.deletes()}
    for line in _unsynced_lines(group):
        state = line.status.state
        if state is RecordState.PENDING_EDIT:
            return True
        if state is RecordState.PENDING_DELETE:
            delete = deletes[(line.kind, line.record_id)]
            # A delete of a record whose create is unanswered goes after the create.
            if delete.base_version > 0 and _attempt_due(delete, now):
                return True
    return False


def _any_create_due(group: TableGroup, now: datetime) -> bool:
    """Whether a queued create can be sent now: not refused, not backing off, and not
    waiting for a create ahead of it in the queue that cannot be sent."""
    due: dict[str, bool] = {}
    for entry in group.creates():  # first in, first out: a parent before its children
        row = group.row(entry.kind, entry.temporary_id)
        parents = (
            waiting_for(row.values, schema_of(group, entry.kind).references).values()
            if row is not None
            else ()
        )
        due[entry.temporary_id] = (
            entry.error is None
            and _attempt_due(entry, now)
            # One no longer queued was deleted here: the run refuses its child.
            and all(due.get(parent, True) for parent in parents)
        )
    return any(due.values())


def _attempt_due(entry: QueuedCreate | QueuedDelete, now: datetime) -> bool:
    return entry.next_attempt_at is None or entry.next_attempt_at <= now


def _oldest_pending(
    group: TableGroup, lines: list[RecordLine], counts: StatusCounts
) -> datetime | None:
    """When the oldest change still waiting to be sent was made."""
    if not counts.pending:
        return None
    times = [c.queued_at for c in group.creates() if c.queued_at is not None]
    times += [d.queued_at for d in group.deletes() if d.queued_at is not None]
    times += [
        line.row.changed_at
        for line in lines
        if line.status.state.pending and line.row is not None and line.row.changed_at
    ]
    return min(times)
