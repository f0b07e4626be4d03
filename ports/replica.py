"""What a device replica needs from outside: the server it syncs with, and the tables
it keeps (ADR/0024).

`ReplicaServer` is the server's record API as a device sees it: the schema of a kind,
the tenant's change feed after a cursor, one record, and a batch of operations with a
result each. Every answer arrives checked (an adapter refuses a bad page whole with
`BadServerAnswer`), so the sync run never sees a missing id or a cursor going back.

`ReplicaTables` is the seed's table group (main, originals, pulled, server deletes, the
create and delete queues, properties), with the conflict inbox, the notices and the id
map; everything written inside one `transaction()` commits together or not at all.
"""

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

import attrs

from calldesk.domain.record_fields import FieldDefinition, FieldType, FieldValue
from calldesk.domain.records import RecordKind
from calldesk.domain.replica_merge import FieldConflict
from calldesk.domain.replica_outcomes import OutcomeClass, classified

Values = Mapping[str, FieldValue]


# The server, as a device sees it.


@attrs.frozen
class KindSchema:
    """A kind's fields as the server last described them."""

    kind: RecordKind
    version: int
    fields: tuple[FieldDefinition, ...]
    retired: tuple[str, ...] = ()

    def field(self, name: str) -> FieldDefinition | None:
        return next((each for each in self.fields if each.name == name), None)

    @property
    def references(self) -> dict[str, RecordKind]:
        """Each reference field and the kind it points at."""
        return {
            each.name: each.reference_kind
            for each in self.fields
            if each.type is FieldType.REFERENCE and each.reference_kind is not None
        }

    @property
    def read_only(self) -> frozenset[str]:
        return frozenset(each.name for each in self.fields if each.read_only)


@attrs.frozen
class ServerRecord:
    """A record as the server has it now: its values of live fields, or its tombstone."""

    kind: RecordKind
    record_id: str
    version: int
    values: dict[str, FieldValue]
    deleted: bool = False


@attrs.frozen
class PulledRecord:
    """A record's entry in the change feed, at the log position it was last saved."""

    position: int
    record: ServerRecord


@attrs.frozen
class PulledSchema:
    """A kind's schema change in the feed."""

    position: int
    schema: KindSchema


@attrs.frozen
class ServerPage:
    """A page of the feed; `cursor` is where the next page starts."""

    changes: tuple[PulledRecord | PulledSchema, ...]
    cursor: int
    more: bool


@attrs.frozen
class SendCreate:
    """A create, made once per operation id; a value "@<ref>" names a create earlier in
    the same batch, whose `ref` it is."""

    kind: RecordKind
    operation_id: str
    values: dict[str, FieldValue]
    ref: str | None = None


@attrs.frozen
class SendChange:
    """The fields a device changed, from the version it last saw."""

    kind: RecordKind
    record_id: str
    base_version: int
    values: dict[str, FieldValue]


@attrs.frozen
class SendDelete:
    kind: RecordKind
    record_id: str
    base_version: int


Operation = SendCreate | SendChange | SendDelete


@attrs.frozen
class Problem:
    """Why the server refused an operation: its HTTP status (None when no answer came),
    its problem type's last part (`edit-conflict`), its message, and for a conflict
    each field's base, current and proposed values."""

    status: int | None
    type: str | None
    detail: str
    conflicts: tuple[FieldConflict, ...] = ()

    @property
    def outcome(self) -> OutcomeClass:
        return classified(self.status, self.type)


@attrs.frozen
class OperationResult:
    """An operation's answer: the record as it now is, or the server's problem."""

    record: ServerRecord | None
    problem: Problem | None = None

    def __attrs_post_init__(self) -> None:
        assert (self.record is None) != (self.problem is None)

    @property
    def outcome(self) -> OutcomeClass:
        return OutcomeClass.APPLIED if self.problem is None else self.problem.outcome


class ServerUnreachable(Exception):
    """No answer came: the network is down, or the request timed out. Whatever was
    sent may or may not have been applied (ADR/0024: sent again with its ids)."""


class SessionExpired(Exception):
    """The server no longer takes the device's token."""


class BadServerAnswer(Exception):
    """The server's answer breaks the protocol (a page with a missing or temporary id,
    a cursor going back, a huge page): refused whole, nothing applied."""


class ReplicaServer(Protocol):
    """The server's record API for one device's token (its tenant and author)."""

    def schema(self, kind: RecordKind) -> KindSchema:
        """The kind's schema now."""
        ...

    def changes(self, after: int, limit: int) -> ServerPage:
        """The feed after `after`, at most `limit` entries, checked whole."""
        ...

    def record(self, kind: RecordKind, record_id: str) -> ServerRecord | None:
        """The record as it is now; None when it is gone or not the device's to see."""
        ...

    def apply(self, operations: Sequence[Operation]) -> tuple[OperationResult, ...]:
        """The operations in order, a result each, none depending on another's
        success but for "@ref" references."""
        ...


# The device's tables.


@attrs.frozen
class LocalRow:
    """A row of a kind's main table: its id (the server's, or a temporary one), the
    server version its server side reflects (0 before the first answer), the revision
    every local write bumps, whether it was created or updated here and when it was
    first changed since it last matched the server, the server's message of its last
    refusal, and its values."""

    record_id: str
    version: int
    revision: int
    values: dict[str, FieldValue]
    created: bool = False
    updated: bool = False
    changed_at: datetime | None = None
    error: str | None = None


@attrs.frozen
class QueuedCreate:
    """A create waiting for the server, first in first out."""

    position: int
    operation_id: str
    kind: RecordKind
    temporary_id: str
    sent: bool = False
    attempts: int = 0
    next_attempt_at: datetime | None = None
    error: str | None = None
    queued_at: datetime | None = None


@attrs.frozen
class QueuedDelete:
    """A local delete of a server record; `confirmed_version` once the server answered
    (kept until its tombstone arrives, so a stale page cannot bring it back)."""

    kind: RecordKind
    record_id: str
    base_version: int
    attempts: int = 0
    next_attempt_at: datetime | None = None
    error: str | None = None
    confirmed_version: int | None = None
    queued_at: datetime | None = None


@attrs.frozen
class InboxConflict:
    """A field changed here and on the server to different values, waiting for a
    person's choice; `server_version` is the version holding the server's value."""

    kind: RecordKind
    record_id: str
    conflict: FieldConflict
    server_version: int


@attrs.frozen
class Notice:
    """Something the user must be told that no table shows any more: local changes a
    server delete discarded, with their values."""

    notice_id: int
    kind: RecordKind
    record_id: str
    message: str
    values: dict[str, FieldValue]
    at: datetime


class TableGroup(Protocol):
    """The replica's tables inside one transaction."""

    # Properties: schemas, the cursor, the run, the last success (JSON values).
    def property(self, name: str) -> Any: ...
    def set_property(self, name: str, value: Any) -> None: ...

    # Kinds: a kind's tables exist once its schema is stored; columns follow it.
    def kind_schema(self, kind: RecordKind) -> KindSchema | None: ...
    def store_schema(self, schema: KindSchema) -> None: ...
    def kinds(self) -> tuple[RecordKind, ...]: ...

    # Main.
    def row(self, kind: RecordKind, record_id: str) -> LocalRow | None: ...
    def rows(self, kind: RecordKind) -> Iterator[LocalRow]: ...
    def rows_of(self, kind: RecordKind, record_ids: Sequence[str]) -> dict[str, LocalRow]:
        """The rows of those ids that are here, by id, in one read (a page's worth)."""
        ...

    def refused_rows(self, kind: RecordKind) -> Iterator[LocalRow]:
        """The rows whose change the server refused (their error set), found without
        reading the whole table: the status asks for them at every look."""
        ...

    def put_row(self, kind: RecordKind, row: LocalRow) -> None: ...
    def remove_row(self, kind: RecordKind, record_id: str) -> None: ...
    def put_rows(self, kind: RecordKind, rows: Sequence[LocalRow]) -> None: ...

    # Originals: the server's row as of the first local change.
    def original(self, kind: RecordKind, record_id: str) -> ServerRecord | None: ...
    def originals(self, kind: RecordKind) -> Iterator[ServerRecord]: ...
    def put_original(self, original: ServerRecord) -> None: ...
    def remove_original(self, kind: RecordKind, record_id: str) -> None: ...

    # Pulled rows waiting to be merged, and ids deleted on the server.
    def pulled(self, kind: RecordKind, record_id: str) -> ServerRecord | None: ...
    def all_pulled(self, kind: RecordKind) -> Iterator[ServerRecord]: ...
    def put_pulled(self, records: Sequence[ServerRecord]) -> None: ...
    def remove_pulled(self, kind: RecordKind, record_id: str) -> None: ...
    def server_deletes(self, kind: RecordKind) -> Iterator[ServerRecord]: ...
    def put_server_deletes(self, records: Sequence[ServerRecord]) -> None: ...
    def remove_server_delete(self, kind: RecordKind, record_id: str) -> None: ...

    # The create queue (FIFO) and the delete queue.
    def creates(self) -> tuple[QueuedCreate, ...]: ...
    def enqueue_create(self, create: QueuedCreate) -> QueuedCreate: ...
    def update_create(self, create: QueuedCreate) -> None: ...
    def remove_create(self, operation_id: str) -> None: ...
    def deletes(self) -> tuple[QueuedDelete, ...]: ...
    def put_delete(self, delete: QueuedDelete) -> None: ...
    def remove_delete(self, kind: RecordKind, record_id: str) -> None: ...

    # The conflict inbox, the notices.
    def conflicts(self) -> tuple[InboxConflict, ...]: ...
    def put_conflict(self, conflict: InboxConflict) -> None: ...
    def remove_conflict(self, kind: RecordKind, record_id: str, field: str) -> None: ...
    def notices(self) -> tuple[Notice, ...]: ...
    def add_notice(
        self,
        kind: RecordKind,
        record_id: str,
        message: str,
        values: Values,
        at: datetime,
    ) -> None: ...
    def remove_notice(self, notice_id: int) -> None: ...

    # Ids: a temporary id replaced by the server's wherever the device holds it.
    def map_id(
        self,
        kind: RecordKind,
        temporary_id: str,
        server_id: str,
        references: Mapping[RecordKind, Mapping[str, RecordKind]],
    ) -> None: ...
    def mapped_id(self, temporary_id: str) -> str | None: ...


class ReplicaTables(Protocol):
    """The replica's storage: one transaction at a time."""

    def transaction(self) -> AbstractContextManager[TableGroup]: ...
