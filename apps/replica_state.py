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
    RecordStatus,
    ReplicaFacts,
    ReplicaStatus,
    StatusCounts,
    record_status,
    replica_status,
    tally,
)
from calldesk.domain.temporary_ids import waiting_for
from calldesk.ports.replica import LocalRow, ReplicaTables, TableGroup


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

    def record(self, kind: RecordKind, record_id: str) -> RecordLine | None:
        with self.tables.transaction() as group:
            return next(
                (line for line in _lines(group, kind) if line.record_id == record_id),
                None,
            )

    def replica(self, now: datetime) -> ReplicaStatus:
        with self.tables.transaction() as group:
            lines = list(_lines(group, None))
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
        """What the live follower does now: wait (offline, backing off), send (changes
        wait to be sent: a full run), or catch up with the feed."""
        with self.tables.transaction() as group:
            retry = group.property(NEXT_RUN_AT)
            if retry is not None and datetime.fromisoformat(retry) > now:
                return NextRun.WAIT
            lines = list(_lines(group, None))
        if any(line.status.state.pending for line in lines):
            return NextRun.SEND
        return NextRun.CATCH_UP


class NextRun(enum.Enum):
    WAIT = "wait"
    SEND = "send"
    CATCH_UP = "catch-up"


def _lines(group: TableGroup, only: RecordKind | None) -> Iterator[RecordLine]:
    creates = {c.temporary_id: c for c in group.creates()}
    deletes = {
        (d.kind, d.record_id): d for d in group.deletes() if d.confirmed_version is None
    }
    conflicts: dict[tuple[RecordKind, str], list[str]] = {}
    for conflict in group.conflicts():
        conflicts.setdefault((conflict.kind, conflict.record_id), []).append(
            conflict.conflict.field
        )
    for kind in group.kinds():
        if only is not None and kind is not only:
            continue
        references = schema_of(group, kind).references
        for row in group.rows(kind):
            create = creates.get(row.record_id)
            edited = bool(local_changes(row, group.original(kind, row.record_id)))
            facts = RecordFacts(
                created=create is not None,
                edited=edited and create is None,
                conflicts=tuple(conflicts.get((kind, row.record_id), ())),
                error=row.error or (create.error if create is not None else None),
                waits_for=tuple(waiting_for(row.values, references).values())
                if create is not None
                else (),
            )
            yield RecordLine(kind, row.record_id, row, record_status(facts))
        for (deleted_kind, record_id), delete in deletes.items():
            if deleted_kind is kind:
                facts = RecordFacts(
                    deleted=True,
                    error=delete.error,
                    conflicts=tuple(conflicts.get((kind, record_id), ())),
                )
                yield RecordLine(kind, record_id, None, record_status(facts))


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
