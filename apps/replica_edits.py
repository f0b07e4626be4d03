"""A person's writes to the device replica: create, edit and delete, offline, online
or the seed's hybrid mode (L44-L50, ADR/0024).

Offline and online, a write goes to the main table at once and out in the next sync:
the first change since the row last matched the server keeps the server's row as the
original (taken once), a create is queued first in first out under a temporary id.
Online, entering an edit first refreshes the record from the server (L46), so the
edit starts from the latest values. Hybrid writes go straight to the server, the main
table taking its answer; with no answer they wait like an offline write, never lost.
"""

import enum
import uuid
from collections.abc import Callable
from datetime import datetime

from calldesk.apps.replica_rows import local_changes, present, references, schema_of
from calldesk.domain.errors import NotFound, Refused
from calldesk.domain.record_fields import FieldValue
from calldesk.domain.record_schemas import checked_values
from calldesk.domain.records import RecordKind
from calldesk.domain.temporary_ids import is_temporary_id, temporary_id
from calldesk.ports.replica import (
    LocalRow,
    QueuedCreate,
    QueuedDelete,
    ReplicaServer,
    ReplicaTables,
    SendChange,
    ServerRecord,
    ServerUnreachable,
    TableGroup,
    Values,
)

MODE = "mode"


class Mode(enum.Enum):
    OFFLINE = "offline"  # reads and writes local; the sync sends them
    ONLINE = "online"  # the same, and an edit starts from the server's latest
    HYBRID = "hybrid"  # reads local, writes straight to the server (L50)


class ReplicaEdits:
    """Create, edit and delete records on the device."""

    def __init__(
        self,
        tables: ReplicaTables,
        server: ReplicaServer,
        send_now: Callable[[], object] = lambda: None,
    ) -> None:
        self.tables = tables
        self.server = server
        # Hybrid: a create or a delete goes out at once through a sync run (the run
        # maps ids and keeps operation ids; with no answer it waits like offline).
        self._send_now = send_now

    def mode(self) -> Mode:
        with self.tables.transaction() as group:
            return Mode(group.property(MODE) or Mode.ONLINE.value)

    def set_mode(self, mode: Mode) -> None:
        with self.tables.transaction() as group:
            group.set_property(MODE, mode.value)

    def create(self, kind: RecordKind, values: Values, at: datetime) -> LocalRow:
        """A new record under a temporary id, queued to be sent; references to records
        created here and not yet sent are kept, and sent once those are."""
        operation_id = uuid.uuid4().hex
        with self.tables.transaction() as group:
            checked = _checked(group, kind, values, creating=True)
            row = LocalRow(
                temporary_id(kind, operation_id),
                version=0,
                revision=1,
                values=checked,
                created=True,
                changed_at=at,
            )
            group.put_row(kind, row)
            group.enqueue_create(
                QueuedCreate(0, operation_id, kind, row.record_id, queued_at=at)
            )
        if self.mode() is Mode.HYBRID:
            self._send_now()
            return self.row(kind, row.record_id)  # under its server id once made
        return row

    def refreshed(self, kind: RecordKind, record_id: str) -> LocalRow:
        """The row as an edit should start from it: online, a row with no local changes
        first takes the server's latest (L46); offline, or with no answer, as it is."""
        row = self.row(kind, record_id)
        record_id = row.record_id  # the server's, when a temporary id was mapped
        if self.mode() is Mode.OFFLINE or row.created or row.updated:
            return row
        try:
            latest = self.server.record(kind, record_id)
            if latest is not None:
                self._knowing(latest)
        except ServerUnreachable:
            return row
        with self.tables.transaction() as group:
            now = group.row(kind, record_id)
            if now is None or now.revision != row.revision:
                return now or row
            if latest is None or latest.deleted:
                return row  # the next sync removes it, with what the server says
            if latest.version > row.version:
                values = present(latest.values)
                now = LocalRow(record_id, latest.version, row.revision + 1, values)
                group.put_row(kind, now)
            return now

    def edit(
        self, kind: RecordKind, record_id: str, values: Values, at: datetime
    ) -> LocalRow:
        """The fields changed on the device (an empty value clears one); a record is
        found by the temporary id it was created under after that id was mapped."""
        record_id = self.row(kind, record_id).record_id
        if self.mode() is Mode.HYBRID:
            written = self._written_through(kind, record_id, values)
            if written is not None:
                return written
        with self.tables.transaction() as group:
            row = _row(group, kind, record_id)
            checked = _checked(group, kind, values, creating=False)
            original = group.original(kind, record_id)
            if not row.created and original is None:
                original = ServerRecord(kind, record_id, row.version, dict(row.values))
                group.put_original(original)
            merged = {**row.values, **checked}
            changed = LocalRow(
                record_id,
                row.version,
                row.revision + 1,
                present(merged),
                created=row.created,
                updated=not row.created,
                changed_at=row.changed_at or at,
            )
            if not row.created and not local_changes(changed, original):
                group.remove_original(kind, record_id)
                changed = LocalRow(record_id, row.version, changed.revision, changed.values)
            group.put_row(kind, changed)
            for create in group.creates():
                if create.temporary_id == record_id and create.error is not None:
                    group.update_create(_retried(create))
        return changed

    def _written_through(
        self, kind: RecordKind, record_id: str, values: Values
    ) -> LocalRow | None:
        """Hybrid: the change sent now; None when it must wait like an offline one
        (no answer, a record not yet created on the server, local changes pending)."""
        row = self.row(kind, record_id)
        if row.created or row.updated or is_temporary_id(record_id):
            return None
        with self.tables.transaction() as group:
            checked = _checked(group, kind, values, creating=False)
        try:
            (result,) = self.server.apply(
                [SendChange(kind, record_id, row.version, checked)]
            )
        except ServerUnreachable:
            return None
        if result.problem is not None:
            raise Refused(result.problem.detail)
        answer = result.record
        assert answer is not None
        try:
            self._knowing(answer)
        except ServerUnreachable:
            return None  # written; its answer comes back with the next sync
        with self.tables.transaction() as group:
            now = group.row(kind, record_id)
            if now is None or now.revision != row.revision:
                return None  # changed here meanwhile: it goes out with the next sync
            written = LocalRow(
                record_id,
                answer.version,
                row.revision + 1,
                present(answer.values),
            )
            group.put_row(kind, written)
            return written

    def _knowing(self, record: ServerRecord) -> None:
        """The kind's schema described again when the server's record holds a field
        the device has not heard of (added since the last sync), so its column is
        there before the record is written. Never inside a transaction: it asks."""
        with self.tables.transaction() as group:
            schema = schema_of(group, record.kind)
        known = {field.name for field in schema.fields} | set(schema.retired)
        if set(record.values) <= known:
            return
        described = self.server.schema(record.kind)
        with self.tables.transaction() as group:
            stored = schema_of(group, record.kind)
            if described.version > stored.version:
                group.store_schema(described)

    def delete(self, kind: RecordKind, record_id: str, at: datetime) -> None:
        """The record gone from the device at once, its delete sent with the next sync
        (hybrid: at once); a record created here and not yet sent is just forgotten,
        nothing sent."""
        self._queued_delete(kind, record_id, at)
        if self.mode() is Mode.HYBRID:
            self._send_now()

    def _queued_delete(self, kind: RecordKind, record_id: str, at: datetime) -> None:
        with self.tables.transaction() as group:
            row = _row(group, kind, record_id)
            record_id = row.record_id
            group.remove_row(kind, record_id)
            for conflict in group.conflicts():
                if (conflict.kind, conflict.record_id) == (kind, record_id):
                    group.remove_conflict(kind, record_id, conflict.conflict.field)
            if row.created:
                create = next(c for c in group.creates() if c.temporary_id == record_id)
                if not create.sent:
                    group.remove_create(create.operation_id)
                    return
                # Sent, unanswered: deleted once the answer names it (base 0 until then).
                group.put_delete(QueuedDelete(kind, record_id, 0, queued_at=at))
                return
            original = group.original(kind, record_id)
            if original is None:
                original = ServerRecord(kind, record_id, row.version, dict(row.values))
                group.put_original(original)
            group.put_delete(QueuedDelete(kind, record_id, original.version, queued_at=at))

    def row(self, kind: RecordKind, record_id: str) -> LocalRow:
        with self.tables.transaction() as group:
            return _row(group, kind, record_id)


def _row(group: TableGroup, kind: RecordKind, record_id: str) -> LocalRow:
    row = group.row(kind, record_id)
    if row is None:
        mapped = group.mapped_id(record_id)
        row = None if mapped is None else group.row(kind, mapped)
    if row is None:
        raise NotFound(f"no {kind.value} {record_id} on this device")
    return row


def _checked(
    group: TableGroup, kind: RecordKind, values: Values, *, creating: bool
) -> dict[str, FieldValue]:
    """The values as the server will take them; a reference to a record created on
    this device and not yet sent is kept as its temporary id."""
    schema = schema_of(group, kind)
    pointing = references(group).get(kind, {})
    offline_created = [
        field
        for field, value in values.items()
        if field in pointing
        and is_temporary_id(value)
        and group.row(pointing[field], str(value)) is not None
    ]
    fields = {field.name: field for field in schema.fields}
    return checked_values(
        kind, fields, schema.retired, values, creating=creating, unchecked=offline_created
    )


def _retried(create: QueuedCreate) -> QueuedCreate:
    """A refused create edited by its person: sent again with the next sync."""
    return QueuedCreate(
        create.position,
        create.operation_id,
        create.kind,
        create.temporary_id,
        queued_at=create.queued_at,
    )
