"""CRM records over HTTP: read, create, change, delete, restore, their history, the
tenant's change feed and batches (ADR/0020, ADR/0021).

Every route takes the token's tenant; a change is the token's agent's, or its device's,
named as its author; these are the only routes a device's token reaches (ADR/0025).
Refusals are problem documents: a record's broken rules list each field (`errors`), a
conflict each clashing field with its base, current and proposed values.
"""

import enum
from typing import Annotated, Any

import attrs
from annotated_types import Ge, Le, MaxLen
from litestar import Request, Router, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from calldesk.adapters.http.auth import AREA
from calldesk.adapters.http.problems import PROBLEM_RESPONSES, refusal_document
from calldesk.adapters.http.routes import Who, desk_of, now_of
from calldesk.apps.access import Principal
from calldesk.apps.change_feed import MAX_PAGE, ChangePage
from calldesk.apps.record_batches import (
    MAX_OPERATIONS,
    ApplyBatch,
    ChangeOperation,
    CreateOperation,
    DeleteOperation,
    Operation,
)
from calldesk.apps.records import (
    ChangeRecord,
    CreateRecord,
    DeleteRecord,
    RecordChangeView,
    RecordView,
    RestoreRecord,
    SchemaView,
)
from calldesk.domain.access import Area
from calldesk.domain.crm_records import OPERATION_ID_MAX_LENGTH, Author
from calldesk.domain.errors import InvalidValue
from calldesk.domain.record_fields import FIELD_NAME_MAX_LENGTH, FieldValue
from calldesk.domain.record_schemas import MAX_FIELDS
from calldesk.domain.records import RECORD_ID_MAX_LENGTH, RecordKind

RECORD = "/records/{kind:str}/{record_id:str}"

OperationId = Annotated[str, MaxLen(OPERATION_ID_MAX_LENGTH)]
RecordId = Annotated[str, MaxLen(RECORD_ID_MAX_LENGTH)]
Version = Annotated[int, Ge(1)]
#: Field names to values, as JSON has them.
Values = Annotated[
    dict[Annotated[str, MaxLen(FIELD_NAME_MAX_LENGTH)], FieldValue], MaxLen(MAX_FIELDS)
]


@attrs.frozen
class CreateRecordBody:
    """A new record; the client's operation id makes a retry answer as the first time."""

    operation_id: OperationId
    values: Values
    record_id: RecordId | None = None


@attrs.frozen
class ChangeRecordBody:
    """Only the fields that change, from the version the client last saw."""

    base_version: Version
    values: Values


class OperationKind(enum.Enum):
    CREATE = "create"
    CHANGE = "change"
    DELETE = "delete"


@attrs.frozen
class OperationBody:
    """One operation of a batch: a create (operation_id, values, and a ref later ones
    name it by, as "@ref"), a change (record_id, base_version, values) or a delete
    (record_id, base_version)."""

    op: OperationKind
    kind: RecordKind
    values: Values = attrs.Factory(dict)
    operation_id: OperationId | None = None
    record_id: RecordId | None = None
    base_version: Version | None = None
    ref: OperationId | None = None

    def operation(self, index: int) -> Operation:
        named = f"operation {index} ({self.op.value})"
        if self.op is OperationKind.CREATE:
            if self.operation_id is None:
                raise InvalidValue(f"{named} needs an operation_id")
            return CreateOperation(
                self.kind, self.values, self.operation_id, self.record_id, self.ref
            )
        if self.record_id is None or self.base_version is None:
            raise InvalidValue(f"{named} needs a record_id and a base_version")
        if self.op is OperationKind.CHANGE:
            return ChangeOperation(
                self.kind, self.record_id, self.base_version, self.values
            )
        return DeleteOperation(self.kind, self.record_id, self.base_version)


@attrs.frozen
class BatchBody:
    operations: Annotated[tuple[OperationBody, ...], MaxLen(MAX_OPERATIONS)]
    all_or_none: bool = False


@attrs.frozen
class OperationAnswer:
    """An operation's result: its record as it now is, or its problem document."""

    index: int
    outcome: str
    record: RecordView | None
    problem: dict[str, Any] | None


@attrs.frozen
class BatchAnswer:
    applied: bool
    results: tuple[OperationAnswer, ...]


def _author(who: Principal) -> Author:
    if who.device is not None:
        return Author.of_device(who.agent, who.device)
    return Author("agent", who.agent)


@get("/schemas/{kind:str}", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def record_schema(
    request: Request[Any, Any, Any], who: Who, kind: FromPath[RecordKind]
) -> SchemaView:
    """The kind's fields in the token's tenant, standard and the tenant's own."""
    return desk_of(request).record_schema(who.tenant, kind)


@get(RECORD, sync_to_thread=True, responses=PROBLEM_RESPONSES)
def show_record(
    request: Request[Any, Any, Any],
    who: Who,
    kind: FromPath[RecordKind],
    record_id: FromPath[str],
) -> RecordView:
    return desk_of(request).crm_record(who.tenant, kind, record_id)


@post(
    "/records/{kind:str}", sync_to_thread=True, responses=PROBLEM_RESPONSES, status_code=201
)
def create_record(
    request: Request[Any, Any, Any],
    who: Who,
    kind: FromPath[RecordKind],
    data: JSONBody[CreateRecordBody],
) -> RecordView:
    """Create a record; the same operation id again answers with the record it made."""
    command = CreateRecord(
        who.tenant,
        kind=kind,
        values=data.values,
        operation_id=data.operation_id,
        record_id=data.record_id,
        by=_author(who),
        at=now_of(request),
    )
    return desk_of(request).create_record(command)


@patch(RECORD, sync_to_thread=True, responses=PROBLEM_RESPONSES)
def change_record(
    request: Request[Any, Any, Any],
    who: Who,
    kind: FromPath[RecordKind],
    record_id: FromPath[str],
    data: JSONBody[ChangeRecordBody],
) -> RecordView:
    """Change the fields given, merged with what changed since the base version; a
    field changed meanwhile to another value is a 409 naming its three values."""
    command = ChangeRecord(
        who.tenant,
        kind=kind,
        record_id=record_id,
        base_version=data.base_version,
        values=data.values,
        by=_author(who),
        at=now_of(request),
    )
    return desk_of(request).change_record(command)


@delete(RECORD, sync_to_thread=True, responses=PROBLEM_RESPONSES, status_code=200)
def delete_record(
    request: Request[Any, Any, Any],
    who: Who,
    kind: FromPath[RecordKind],
    record_id: FromPath[str],
    base_version: FromQuery[Version],
) -> RecordView:
    """Delete the record as the client saw it at `base_version` (it can be restored)."""
    command = DeleteRecord(
        who.tenant,
        kind=kind,
        record_id=record_id,
        base_version=base_version,
        by=_author(who),
        at=now_of(request),
    )
    return desk_of(request).delete_record(command)


@post(
    RECORD + "/restore", sync_to_thread=True, responses=PROBLEM_RESPONSES, status_code=200
)
def restore_record(
    request: Request[Any, Any, Any],
    who: Who,
    kind: FromPath[RecordKind],
    record_id: FromPath[str],
) -> RecordView:
    command = RestoreRecord(
        who.tenant, kind=kind, record_id=record_id, by=_author(who), at=now_of(request)
    )
    return desk_of(request).restore_record(command)


@get(RECORD + "/history", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def record_history(
    request: Request[Any, Any, Any],
    who: Who,
    kind: FromPath[RecordKind],
    record_id: FromPath[str],
) -> tuple[RecordChangeView, ...]:
    """Every change: when, by whom, each field from what to what."""
    return desk_of(request).record_history(who.tenant, kind, record_id)


@get("/record-changes", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def record_changes(
    request: Request[Any, Any, Any],
    who: Who,
    after: FromQuery[Annotated[int, Ge(0)]] = 0,
    limit: FromQuery[Annotated[int, Ge(1), Le(MAX_PAGE)]] = 100,
) -> ChangePage:
    """The tenant's record and schema changes after the cursor, in log order; start
    from 0 (every record once, as it is now), then from each page's cursor."""
    return desk_of(request).record_changes(who.tenant, after=after, limit=limit)


@post("/record-batches", sync_to_thread=True, responses=PROBLEM_RESPONSES, status_code=200)
def record_batch(
    request: Request[Any, Any, Any], who: Who, data: JSONBody[BatchBody]
) -> BatchAnswer:
    """Operations in order, a result each; `all_or_none`: one refusal records none."""
    operations = tuple(body.operation(index) for index, body in enumerate(data.operations))
    command = ApplyBatch(
        who.tenant,
        operations=operations,
        by=_author(who),
        all_or_none=data.all_or_none,
        at=now_of(request),
    )
    result = desk_of(request).apply_record_batch(command)
    answers = tuple(
        OperationAnswer(
            r.index,
            r.outcome,
            r.record,
            None if r.refusal is None else refusal_document(r.refusal),
        )
        for r in result.results
    )
    return BatchAnswer(result.applied, answers)


record_api = Router(
    path="/",
    route_handlers=[
        record_schema,
        show_record,
        create_record,
        change_record,
        delete_record,
        restore_record,
        record_history,
        record_changes,
        record_batch,
    ],
    opt={AREA: Area.RECORDS},
)
