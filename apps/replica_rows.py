"""What the replica's services read the same way from its tables: a kind's schema, a
row's local changes, and a write that keeps an edit made meanwhile (ADR/0024)."""

from collections.abc import Mapping

from calldesk.domain.errors import NotFound
from calldesk.domain.record_fields import FieldValue
from calldesk.domain.records import RecordKind
from calldesk.ports.replica import KindSchema, LocalRow, ServerRecord, TableGroup

#: The inbox's field for a delete the server's changes clashed with.
WHOLE_RECORD = "_cd_delete"


def schema_of(group: TableGroup, kind: RecordKind) -> KindSchema:
    schema = group.kind_schema(kind)
    if schema is None:
        raise NotFound(f"{kind.value} is not synced to this device; sync it first")
    return schema


def references(group: TableGroup) -> dict[RecordKind, dict[str, RecordKind]]:
    """Every synced kind's reference fields, with the kinds they point at."""
    return {kind: schema_of(group, kind).references for kind in group.kinds()}


def present(values: Mapping[str, FieldValue]) -> dict[str, FieldValue]:
    """The fields that have a value: no value is no field, as the server keeps it."""
    return {field: value for field, value in values.items() if value is not None}


def local_changes(row: LocalRow, original: ServerRecord | None) -> dict[str, FieldValue]:
    """The fields the device changed since its row last matched the server: every
    field of a row created here, those differing from the original otherwise."""
    if row.created or original is None:
        return dict(row.values) if row.created else {}
    fields = {*row.values, *original.values}
    return {
        field: row.values.get(field)
        for field in sorted(fields)
        if row.values.get(field) != original.values.get(field)
    }


def rebased(
    current: Mapping[str, FieldValue],
    read: Mapping[str, FieldValue],
    target: Mapping[str, FieldValue],
) -> dict[str, FieldValue]:
    """The row a sync writes: `target` where the row still holds what the sync `read`,
    and the person's value where they changed a field since, so an edit made while the
    sync ran is never written over (MobileSync iOS #3974)."""
    fields = {*current, *read, *target}
    kept = {
        field: target.get(field)
        if current.get(field) == read.get(field)
        else current.get(field)
        for field in fields
    }
    return present(kept)
