"""A batch of record operations applied in order, with a result for each (ADR/0020).

As the composite and collections APIs of the CRMs clients know: each operation is a
create, a change or a delete; a later one may name a record an earlier create of the
batch made, by that create's `ref` ("@ref", as a record id or a reference field's
value). Without `all_or_none` each operation stands alone, recorded or refused; with it
the batch is one transaction, and the first refusal records nothing of the batch.
"""

from collections.abc import Mapping
from typing import Literal

import attrs

from calldesk.apps.commands import TenantCommand
from calldesk.apps.records import (
    ChangeRecord,
    CreateRecord,
    DeleteRecord,
    Records,
    RecordView,
)
from calldesk.apps.unit_of_work import Service, UnitOfWork
from calldesk.domain.crm_records import Author
from calldesk.domain.errors import DomainError, InvalidValue
from calldesk.domain.record_fields import FieldValue
from calldesk.domain.records import RecordKind

MAX_OPERATIONS = 200
REF_MARK = "@"


@attrs.frozen
class CreateOperation:
    kind: RecordKind
    values: Mapping[str, FieldValue]
    operation_id: str
    record_id: str | None = None
    ref: str | None = None  # later operations name the new record "@ref"


@attrs.frozen
class ChangeOperation:
    kind: RecordKind
    record_id: str
    base_version: int
    values: Mapping[str, FieldValue]


@attrs.frozen
class DeleteOperation:
    kind: RecordKind
    record_id: str
    base_version: int


Operation = CreateOperation | ChangeOperation | DeleteOperation


@attrs.frozen
class ApplyBatch(TenantCommand):
    operations: tuple[Operation, ...]
    by: Author
    all_or_none: bool = False


Outcome = Literal["applied", "refused", "rolled-back", "not-run"]


@attrs.frozen
class OperationResult:
    """What became of one operation: its record as it now is, or why it was refused
    (rolled back: it applied, then a later refusal undid the whole batch)."""

    index: int
    outcome: Outcome
    record: RecordView | None = None
    refusal: DomainError | None = None


@attrs.frozen
class BatchResult:
    results: tuple[OperationResult, ...]

    @property
    def applied(self) -> bool:
        return all(result.outcome == "applied" for result in self.results)


class _Abandoned(Exception):
    """Unwinds an all-or-none batch at its first refusal, so nothing is recorded."""


class RecordBatches(Service):
    """Batches of record operations, on the records service's use cases."""

    def __init__(self, work: UnitOfWork, records: Records) -> None:
        super().__init__(work)
        self._records = records

    def apply(self, command: ApplyBatch) -> BatchResult:
        count = len(command.operations)
        if not 1 <= count <= MAX_OPERATIONS:
            raise InvalidValue(f"a batch holds 1 to {MAX_OPERATIONS} operations: {count}")
        refs = [op.ref for op in command.operations if isinstance(op, CreateOperation)]
        named = [ref for ref in refs if ref is not None]
        if len(set(named)) != len(named):
            raise InvalidValue("each create's ref names one record: a ref is used twice")
        if not command.all_or_none:
            return BatchResult(tuple(self._each(command)))
        try:
            with self.work.atomically():
                results = self._each(command)
                if results[-1].outcome == "refused":
                    raise _Abandoned
        except _Abandoned:
            undone = [
                attrs.evolve(r, outcome="rolled-back", record=None) for r in results[:-1]
            ]
            not_run = [
                OperationResult(index, "not-run") for index in range(len(results), count)
            ]
            return BatchResult((*undone, results[-1], *not_run))
        return BatchResult(tuple(results))

    def _each(self, command: ApplyBatch) -> list[OperationResult]:
        made: dict[str, str] = {}  # ref -> the id of the record its create made
        results = []
        for index, operation in enumerate(command.operations):
            try:
                view = self._apply(command, operation, made)
            except DomainError as refusal:
                results.append(OperationResult(index, "refused", refusal=refusal))
                if command.all_or_none:
                    break
                continue
            if isinstance(operation, CreateOperation) and operation.ref is not None:
                made[operation.ref] = view.record_id
            results.append(OperationResult(index, "applied", record=view))
        return results

    def _apply(
        self, command: ApplyBatch, operation: Operation, made: Mapping[str, str]
    ) -> RecordView:
        tenant, by, at = command.tenant, command.by, command.at
        if isinstance(operation, CreateOperation):
            create = CreateRecord(
                tenant,
                kind=operation.kind,
                values=_resolved(operation.values, made),
                operation_id=operation.operation_id,
                record_id=operation.record_id,
                by=by,
                at=at,
            )
            return self._records.create_record(create)
        record_id = _resolved_id(operation.record_id, made)
        if isinstance(operation, ChangeOperation):
            change = ChangeRecord(
                tenant,
                kind=operation.kind,
                record_id=record_id,
                base_version=operation.base_version,
                values=_resolved(operation.values, made),
                by=by,
                at=at,
            )
            return self._records.change_record(change)
        delete = DeleteRecord(
            tenant,
            kind=operation.kind,
            record_id=record_id,
            base_version=operation.base_version,
            by=by,
            at=at,
        )
        return self._records.delete_record(delete)


def _resolved_id(record_id: str, made: Mapping[str, str]) -> str:
    if not record_id.startswith(REF_MARK):
        return record_id
    ref = record_id.removeprefix(REF_MARK)
    if ref not in made:
        raise InvalidValue(
            f"{record_id} names no record an earlier create of the batch made"
        )
    return made[ref]


def _resolved(
    values: Mapping[str, FieldValue], made: Mapping[str, str]
) -> dict[str, FieldValue]:
    """Values with each "@ref" of an earlier create replaced by its record's id."""

    def one(value: FieldValue) -> FieldValue:
        if isinstance(value, str) and value.startswith(REF_MARK):
            return made.get(value.removeprefix(REF_MARK), value)
        return value

    return {name: one(value) for name, value in values.items()}
