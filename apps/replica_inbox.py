"""A person's choices on what a sync could not settle alone: conflicting fields (keep
mine, keep the server's, or a new value), records the server refused (retry after an
edit, or abandon the change), and notices of what a server delete discarded (L72-L76,
L88, L92, ADR/0024).

A choice changes only the device's tables; what it decides goes out with the next
sync as an ordinary change from the server's version, so it is an event in the log
like any other edit.
"""

import attrs

from calldesk.apps.replica_rows import WHOLE_RECORD, present, schema_of
from calldesk.domain.errors import NotFound
from calldesk.domain.record_schemas import checked_values
from calldesk.domain.records import RecordKind
from calldesk.domain.replica_merge import Choice, Resolution, resolved
from calldesk.ports.replica import (
    InboxConflict,
    LocalRow,
    Notice,
    ReplicaTables,
    TableGroup,
)


class ReplicaInbox:
    """The conflicts, refusals and notices waiting for a person on the device."""

    def __init__(self, tables: ReplicaTables) -> None:
        self.tables = tables

    def conflicts(self) -> tuple[InboxConflict, ...]:
        with self.tables.transaction() as group:
            return group.conflicts()

    def notices(self) -> tuple[Notice, ...]:
        with self.tables.transaction() as group:
            return group.notices()

    def resolve(
        self, kind: RecordKind, record_id: str, field: str, resolution: Resolution
    ) -> None:
        """The field as the person chose it; a delete the server's changes clashed with
        is done anyway (keep mine) or given up, the server's record kept (keep theirs)."""
        with self.tables.transaction() as group:
            standing = _conflict(group, kind, record_id, field)
            group.remove_conflict(kind, record_id, field)
            if field == WHOLE_RECORD:
                _resolved_delete(group, standing, resolution)
                return
            row = group.row(kind, record_id)
            if row is None:
                return
            chosen = resolved(standing.conflict, resolution)
            if resolution.choice is Choice.NEW_VALUE:
                schema = schema_of(group, kind)
                fields = {each.name: each for each in schema.fields}
                checked = checked_values(
                    kind, fields, schema.retired, {field: chosen.value}, creating=False
                )
                chosen = resolved(
                    standing.conflict, Resolution(Choice.NEW_VALUE, checked[field])
                )
            values = present({**row.values, field: chosen.value})
            group.put_row(kind, attrs.evolve(row, revision=row.revision + 1, values=values))

    def retry(self, kind: RecordKind, record_id: str) -> None:
        """A refused record sent again with the next sync, as it now is."""
        with self.tables.transaction() as group:
            row = group.row(kind, record_id)
            creates = [c for c in group.creates() if c.temporary_id == record_id]
            deletes = [
                d for d in group.deletes() if (d.kind, d.record_id) == (kind, record_id)
            ]
            if row is None and not creates and not deletes:
                raise NotFound(f"no {kind.value} {record_id} on this device to send again")
            if row is not None:
                group.put_row(kind, _without_error(row))
            for create in creates:
                group.update_create(
                    attrs.evolve(create, error=None, attempts=0, next_attempt_at=None)
                )
            for delete in deletes:
                group.put_delete(
                    attrs.evolve(delete, error=None, attempts=0, next_attempt_at=None)
                )

    def abandon(self, kind: RecordKind, record_id: str) -> None:
        """The device's change given up (L72, L88, L92): a create's row removed, an
        edit's or a delete's original put back, the record as the server had it."""
        with self.tables.transaction() as group:
            for create in group.creates():
                if create.temporary_id == record_id and not create.sent:
                    group.remove_create(create.operation_id)
                    group.remove_row(kind, record_id)
                    return
            original = group.original(kind, record_id)
            if original is None:
                raise NotFound(f"{kind.value} {record_id} has no change here to abandon")
            group.remove_delete(kind, record_id)
            for conflict in group.conflicts():
                if (conflict.kind, conflict.record_id) == (kind, record_id):
                    group.remove_conflict(kind, record_id, conflict.conflict.field)
            row = group.row(kind, record_id)
            revision = 1 if row is None else row.revision + 1
            group.put_row(
                kind,
                LocalRow(record_id, original.version, revision, present(original.values)),
            )
            group.remove_original(kind, record_id)

    def dismiss(self, notice_id: int) -> None:
        with self.tables.transaction() as group:
            if all(notice.notice_id != notice_id for notice in group.notices()):
                raise NotFound(f"no notice {notice_id} on this device")
            group.remove_notice(notice_id)


def _conflict(
    group: TableGroup, kind: RecordKind, record_id: str, field: str
) -> InboxConflict:
    for conflict in group.conflicts():
        if (conflict.kind, conflict.record_id, conflict.conflict.field) == (
            kind,
            record_id,
            field,
        ):
            return conflict
    raise NotFound(f"no conflict on field {field} of {kind.value} {record_id}")


def _resolved_delete(
    group: TableGroup, standing: InboxConflict, resolution: Resolution
) -> None:
    """Delete anyway: from the server's version now; keep theirs: the delete given up
    and the server's record back on the device (pulled, moved by the next sync)."""
    kind, record_id = standing.kind, standing.record_id
    delete = next(d for d in group.deletes() if (d.kind, d.record_id) == (kind, record_id))
    if resolution.choice is Choice.KEEP_LOCAL:
        group.put_delete(
            attrs.evolve(delete, base_version=standing.server_version, error=None)
        )
        return
    group.remove_delete(kind, record_id)
    group.remove_original(kind, record_id)


def _without_error(row: LocalRow) -> LocalRow:
    return attrs.evolve(row, revision=row.revision + 1, error=None)
