"""Use cases of the CRM records calldesk keeps: each kind's schema in a tenant, and
records created, changed, deleted and restored, every value checked before anything is
recorded (ADR/0020).

What the domain cannot check alone is checked here: phone numbers as people type them,
read in the tenant's region; references to records that exist in the same tenant; the
values a change was made from, read from the record's history for the three-way merge.
"""

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import attrs

from calldesk.apps.aggregates import tenant_named
from calldesk.apps.commands import TenantCommand
from calldesk.apps.phone_numbers import checked_region, parse_phone_number
from calldesk.apps.unit_of_work import Service, writes
from calldesk.domain.crm_records import Author, CrmRecord, FieldChange
from calldesk.domain.errors import AlreadyExists, InvalidValue
from calldesk.domain.identity import stable_id
from calldesk.domain.record_fields import FieldDefinition, FieldType, FieldValue
from calldesk.domain.record_schemas import FieldProblem, RecordRefused, RecordSchema
from calldesk.domain.records import RecordKind

#: The start of the ids calldesk gives new records, a kind's own (as CRMs do).
ID_PREFIXES = {
    RecordKind.ACCOUNT: "001",
    RecordKind.CONTACT: "003",
    RecordKind.LEAD: "00q",
    RecordKind.CASE: "500",
}


@attrs.frozen
class AddField(TenantCommand):
    kind: RecordKind
    definition: FieldDefinition


@attrs.frozen
class ChangeField(TenantCommand):
    kind: RecordKind
    definition: FieldDefinition


@attrs.frozen
class RetireField(TenantCommand):
    kind: RecordKind
    name: str


@attrs.frozen
class CreateRecord(TenantCommand):
    """A new record; `operation_id` is the client's, so a retry makes no second record.
    Without `record_id` (an import gives its CRM's), calldesk names it."""

    kind: RecordKind
    values: Mapping[str, FieldValue]
    operation_id: str
    by: Author
    record_id: str | None = None


@attrs.frozen
class ChangeRecord(TenantCommand):
    """Only the fields that change, from the version the client saw."""

    kind: RecordKind
    record_id: str
    base_version: int
    values: Mapping[str, FieldValue]
    by: Author


@attrs.frozen
class DeleteRecord(TenantCommand):
    kind: RecordKind
    record_id: str
    base_version: int
    by: Author


@attrs.frozen
class RestoreRecord(TenantCommand):
    kind: RecordKind
    record_id: str
    by: Author


@attrs.frozen
class ImportRow:
    """One row of an import: its number in the file (for the summary), its values, and
    the record's id in the CRM it comes from, when it has one."""

    row: int
    values: Mapping[str, FieldValue]
    record_id: str | None = None


@attrs.frozen
class ImportRecords(TenantCommand):
    """A batch of rows of one kind, by an import: each checked as a create is; the
    good ones recorded together. `operation_id` names the import, so running it again
    makes no second record of a row. `region`: where the file's national numbers are
    dialled from, when not the tenant's region."""

    kind: RecordKind
    rows: Sequence[ImportRow]
    operation_id: str
    by: Author
    region: str | None = None


@attrs.frozen
class RowRefused:
    """A row left out of an import, and why: its field and what to fix."""

    row: int
    field: str
    reason: str


@attrs.frozen
class ImportSummary:
    created: int
    already_there: int  # rows an earlier run of the same import recorded
    refused: tuple[RowRefused, ...]


@attrs.frozen
class SchemaView:
    """A kind's fields in a tenant, as forms are laid out and values checked."""

    tenant: str
    kind: RecordKind
    fields: tuple[FieldDefinition, ...]
    retired: tuple[str, ...]
    version: int

    @classmethod
    def of(cls, schema: RecordSchema) -> "SchemaView":
        """Version 1 is the standard schema, whether or not the tenant changed it yet."""
        fields = tuple(schema.fields.values())
        return cls(schema.tenant, schema.kind, fields, schema.retired, schema.version)


@attrs.frozen
class RecordView:
    """A record as clients show it: every field with a value, the server's included."""

    tenant: str
    kind: RecordKind
    record_id: str
    title: str
    version: int
    values: dict[str, FieldValue]
    deleted: bool
    modified_by: Author

    @classmethod
    def of(cls, record: CrmRecord, schema: RecordSchema) -> "RecordView":
        """The record's values of the schema's live fields: a retired field's are gone."""
        values = {k: v for k, v in record.shown.items() if k in schema.fields}
        return cls(
            record.tenant,
            record.kind,
            record.record_id,
            record.title,
            record.version,
            values,
            record.deleted,
            record.modified_by,
        )


@attrs.frozen
class RecordChangeView:
    """One entry of a record's history: who did what to which fields, and when."""

    version: int
    at: datetime
    by: Author
    what: str  # created, changed, deleted, restored
    changes: tuple[FieldChange, ...]


class Records(Service):
    """The tenant's schemas and records."""

    # Schemas.

    def schema(self, tenant: str, kind: RecordKind) -> SchemaView:
        """The kind's schema; a tenant that changed nothing has the standard one."""
        tenant_named(self.work, tenant)
        return SchemaView.of(self._schema(tenant, kind))

    @writes
    def add_field(self, command: AddField) -> SchemaView:
        return self._change_schema(
            command, lambda s: s.add_field(command.definition, command.at)
        )

    @writes
    def change_field(self, command: ChangeField) -> SchemaView:
        return self._change_schema(
            command, lambda s: s.change_field(command.definition, command.at)
        )

    @writes
    def retire_field(self, command: RetireField) -> SchemaView:
        return self._change_schema(
            command, lambda s: s.retire_field(command.name, command.at)
        )

    def _change_schema(
        self,
        command: AddField | ChangeField | RetireField,
        change: Callable[[RecordSchema], object],
    ) -> SchemaView:
        tenant_named(self.work, command.tenant)
        schema_id = RecordSchema.create_id(command.tenant, command.kind)

        def load() -> RecordSchema:
            found = self.work.find(RecordSchema, schema_id)
            return found or RecordSchema.create(command.tenant, command.kind, command.at)

        return SchemaView.of(self.work.change(load, change))

    # Records.

    def record(self, tenant: str, kind: RecordKind, record_id: str) -> RecordView:
        return self._view(self._record(tenant, kind, record_id))

    def history(
        self, tenant: str, kind: RecordKind, record_id: str
    ) -> tuple[RecordChangeView, ...]:
        """Every change to the record, oldest first, each with its author and time."""
        record = self._record(tenant, kind, record_id)
        entries = []
        for event in self.work.store.events.get(record.id):
            said = vars(event)  # a record's events all say who, and when
            created = said.get("values", {})
            changes = said.get("changes") or [
                FieldChange(f, None, v) for f, v in created.items()
            ]
            entries.append(
                RecordChangeView(
                    event.originator_version,
                    said["timestamp"],
                    said["by"],
                    _HISTORY_WORDS[type(event).__name__],
                    tuple(changes),
                )
            )
        return tuple(entries)

    @writes
    def create_record(self, command: CreateRecord) -> RecordView:
        """A new record; the same operation again answers as the first time did."""
        tenant = tenant_named(self.work, command.tenant)
        record_id = command.record_id or _new_record_id(
            command.tenant, command.kind, command.operation_id
        )
        record_key = CrmRecord.create_id(command.tenant, command.kind, record_id)
        known = self.work.find(CrmRecord, record_key)
        if known is not None:
            if known.operation_id == command.operation_id:
                return self._view(self._at_version(known, 1))
            raise AlreadyExists(f"{command.kind.value} {record_id} already exists")
        schema = self._schema(command.tenant, command.kind)
        values = self._checked(schema, tenant.default_region, command.values, True)
        record = CrmRecord.create(
            command.tenant,
            command.kind,
            record_id,
            values,
            command.operation_id,
            command.by,
            command.at,
        )
        return self._view(self.work.create(record, f"{record_id} already exists"))

    @writes
    def import_records(self, command: ImportRecords) -> ImportSummary:
        """Check every row as a create; record the good ones in one transaction. A row
        may name a record an earlier row of the batch creates.

        What the rows' ids and references name is asked of the change feed once for
        the whole batch, not record by record: an import is many rows."""
        tenant = tenant_named(self.work, command.tenant)
        region = checked_region(command.region or tenant.default_region)
        schema = self._schema(command.tenant, command.kind)
        identified = [
            (
                row,
                row.record_id
                or _new_record_id(
                    command.tenant, command.kind, f"{command.operation_id}/{row.row}"
                ),
            )
            for row in command.rows
        ]
        there = self._in_feed(command.tenant, command.kind, [i for _, i in identified])
        targets = self._referenced(schema, [row for row, _ in identified])
        made: set[str] = set()  # by earlier rows of the batch

        def live(kind: RecordKind, record_id: str) -> bool:
            if kind is command.kind and record_id in made:
                return True
            return targets.get((kind, record_id)) is False  # known, and not deleted

        created: list[CrmRecord] = []
        refused: list[RowRefused] = []
        already_there = 0
        for row, record_id in identified:
            try:
                if record_id in made:
                    raise InvalidValue(f"an earlier row has id {record_id} too")
                if record_id in there:
                    already_there += 1
                    continue
                values = self._checked(schema, region, row.values, True, live)
                record = CrmRecord.create(
                    command.tenant,
                    command.kind,
                    record_id,
                    values,
                    f"{command.operation_id}/{row.row}",
                    command.by,
                    command.at,
                )
            except RecordRefused as problems:
                refused += [
                    RowRefused(row.row, p.field, p.message) for p in problems.problems
                ]
                continue
            except InvalidValue as problem:
                refused.append(RowRefused(row.row, "id", str(problem)))
                continue
            made.add(record_id)
            created.append(record)
        self.work.save(*created)
        return ImportSummary(len(created), already_there, tuple(refused))

    def _in_feed(
        self, tenant: str, kind: RecordKind, record_ids: Sequence[str]
    ) -> dict[str, bool]:
        """Which of these records the tenant has (each saved one is in the feed), and
        whether each is deleted."""
        return self.work.store.indexes.select_feed_keys(tenant, kind.value, record_ids)

    def _referenced(
        self, schema: RecordSchema, rows: Sequence[ImportRow]
    ) -> dict[tuple[RecordKind, str], bool]:
        """Every record the rows' reference fields name, with whether it is deleted."""
        named: dict[RecordKind, set[str]] = {}
        for row in rows:
            for name, value in row.values.items():
                field = schema.fields.get(name)
                if field is not None and field.reference_kind is not None and value:
                    named.setdefault(field.reference_kind, set()).add(str(value))
        return {
            (kind, record_id): deleted
            for kind, ids in named.items()
            for record_id, deleted in self._in_feed(
                schema.tenant, kind, sorted(ids)
            ).items()
        }

    @writes
    def change_record(self, command: ChangeRecord) -> RecordView:
        """The fields that differ, merged with what changed since the base; a conflict
        (calldesk.domain.crm_records.EditConflict) names each field that clashes."""
        tenant = tenant_named(self.work, command.tenant)
        schema = self._schema(command.tenant, command.kind)
        values = self._checked(schema, tenant.default_region, command.values, False)

        def change(record: CrmRecord) -> None:
            base = self._base_values(record, command.base_version)
            record.change(command.base_version, base, values, command.by, command.at)

        record = self.work.change(
            lambda: self._record(command.tenant, command.kind, command.record_id), change
        )
        return self._view(record)

    @writes
    def delete_record(self, command: DeleteRecord) -> RecordView:
        def delete(record: CrmRecord) -> None:
            base = self._base_values(record, command.base_version)
            record.delete(command.base_version, base, command.by, command.at)

        record = self.work.change(
            lambda: self._record(command.tenant, command.kind, command.record_id), delete
        )
        return self._view(record)

    @writes
    def restore_record(self, command: RestoreRecord) -> RecordView:
        record = self.work.change(
            lambda: self._record(command.tenant, command.kind, command.record_id),
            lambda record: record.restore(command.by, command.at),
        )
        return self._view(record)

    def _schema(self, tenant: str, kind: RecordKind) -> RecordSchema:
        """The tenant's schema of the kind; the standard one (unsaved) until it changes."""
        found = self.work.find(RecordSchema, RecordSchema.create_id(tenant, kind))
        return found or RecordSchema.create(tenant, kind, _NEVER)

    def _view(self, record: CrmRecord) -> RecordView:
        return RecordView.of(record, self._schema(record.tenant, record.kind))

    def _record(self, tenant: str, kind: RecordKind, record_id: str) -> CrmRecord:
        tenant_named(self.work, tenant)
        return self.work.load(
            CrmRecord,
            CrmRecord.create_id(tenant, kind, record_id),
            f"no {kind.value} {record_id} in tenant {tenant}",
        )

    def _base_values(self, record: CrmRecord, base_version: int) -> dict[str, FieldValue]:
        """The record's values at the version a change was made from."""
        if not 1 <= base_version <= record.version:
            return {}  # the domain refuses it, saying why
        return dict(self._at_version(record, base_version).values)

    def _at_version(self, record: CrmRecord, version: int) -> CrmRecord:
        past: object = self.work.store.repository.get(record.id, version=version)
        assert isinstance(past, CrmRecord)
        return past

    def _live(self, tenant: str, kind: RecordKind, record_id: str) -> bool:
        """The tenant's record is there and not deleted (or saved earlier in the block
        of commands this one runs in)."""
        target = self.work.find(CrmRecord, CrmRecord.create_id(tenant, kind, record_id))
        return target is not None and not target.deleted

    def _checked(
        self,
        schema: RecordSchema,
        region: str,
        values: Mapping[str, FieldValue],
        creating: bool,
        live: Callable[[RecordKind, str], bool] | None = None,
    ) -> dict[str, FieldValue]:
        """The values as the schema keeps them, phone numbers read in the tenant's
        region and references to records of the tenant that `live` says are there (by
        default, those recorded and not deleted); RecordRefused naming every field that
        breaks a rule."""
        is_live = live or functools.partial(self._live, schema.tenant)
        problems: list[FieldProblem] = []
        read = dict(values)
        for name, value in values.items():
            field = schema.fields.get(name)
            if field is not None and field.type is FieldType.PHONE and value:
                try:
                    read[name] = str(parse_phone_number(str(value), region))
                except InvalidValue as error:
                    problems.append(FieldProblem(name, str(error)))
                    del read[name]
        try:
            kept = schema.checked(read, creating=creating)
        except RecordRefused as refused:
            problems += refused.problems
            kept = {}
        refused_fields = {problem.field for problem in problems}
        for name, value in read.items():
            field = schema.fields.get(name)
            target_kind = field.reference_kind if field else None
            if target_kind is None or not value or name in refused_fields:
                continue
            if not is_live(target_kind, str(value)):
                problems.append(
                    FieldProblem(name, f"no {target_kind.value} {value} in this tenant")
                )
        if problems:
            order = {name: place for place, name in enumerate(values)}
            raise RecordRefused(
                sorted(problems, key=lambda p: order.get(p.field, len(order)))
            )
        return kept


def _new_record_id(tenant: str, kind: RecordKind, operation_id: str) -> str:
    """The id of the record this client operation creates: the same for a retry."""
    made = stable_id("record-created-by", tenant, kind.value, operation_id)
    return f"{ID_PREFIXES[kind]}-{made.hex[:16]}"


#: A schema's standard form, for reading; never recorded with this time.
_NEVER = datetime.fromisoformat("2000-01-01T00:00:00+00:00")
_HISTORY_WORDS = {
    "Created": "created",
    "FieldsChanged": "changed",
    "Deleted": "deleted",
    "Restored": "restored",
}
