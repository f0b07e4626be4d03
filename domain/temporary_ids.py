"""Ids a device gives the records it creates offline, until the server names them.

A temporary id can never be a server id: the server takes at most RECORD_ID_MAX_LENGTH
characters for a record's id (checked_record_id), and a temporary id is one longer, a
`~` and the 64 hex digits of the SHA-256 of the kind and the create's operation id. So
the server never issues, imports or stores one, and a page that holds one is wrong. It
is derived from the operation id, not counted, so it is the same after a restart and
unique across processes and devices (ADR/0024).

When the server answers a create, its id replaces the temporary one everywhere the
device holds it: the row, the reference fields of other rows that point at it, and the
operations still queued.
"""

import hashlib
from collections.abc import Mapping

import attrs

from calldesk.domain.errors import InvalidValue
from calldesk.domain.record_fields import FieldValue
from calldesk.domain.records import RECORD_ID_MAX_LENGTH, RecordKind, checked_record_id

TEMPORARY_MARK = "~"
_DIGITS = frozenset("0123456789abcdef")


def temporary_id(kind: RecordKind, operation_id: str) -> str:
    """The temporary id of the record this create operation makes."""
    digest = hashlib.sha256(f"{kind.value}/{operation_id}".encode()).hexdigest()
    made = TEMPORARY_MARK + digest
    assert len(made) > RECORD_ID_MAX_LENGTH  # longer than any id the server takes
    return made


def is_temporary_id(value: FieldValue) -> bool:
    """Whether the value is an id this device gave (and the server never can)."""
    return (
        isinstance(value, str)
        and len(value) == len(TEMPORARY_MARK) + 64
        and value.startswith(TEMPORARY_MARK)
        and _DIGITS.issuperset(value[len(TEMPORARY_MARK) :])
    )


def checked_server_id(value: str) -> str:
    """A record id the server gave: what checked_record_id takes, and never a
    temporary id (which it cannot be); InvalidValue otherwise."""
    if is_temporary_id(value):
        raise InvalidValue(f"the server named a record {value!r}, which is a device's id")
    return checked_record_id(value)


@attrs.frozen
class CreatedId:
    """The server's id for a record the device created under a temporary id."""

    kind: RecordKind
    temporary_id: str = attrs.field()
    server_id: str = attrs.field()

    @temporary_id.validator
    def _temporary(self, _: object, value: str) -> None:
        if not is_temporary_id(value):
            raise InvalidValue(f"{value!r} is no temporary id")

    @server_id.validator
    def _server(self, _: object, value: str) -> None:
        checked_server_id(value)


@attrs.frozen
class IdMapping:
    """Temporary ids mapped to the server's, applied to what refers to them."""

    created: Mapping[str, CreatedId] = attrs.field(factory=dict)

    @classmethod
    def of(cls, *created: CreatedId) -> "IdMapping":
        return cls({each.temporary_id: each for each in created})

    def record_id(self, kind: RecordKind, record_id: str) -> str:
        """The id a row or a queued operation of this kind now has."""
        found = self.created.get(record_id)
        return found.server_id if found is not None and found.kind is kind else record_id

    def values(
        self, values: Mapping[str, FieldValue], references: Mapping[str, RecordKind]
    ) -> dict[str, FieldValue]:
        """The values with every reference to a mapped record rewritten; `references`
        names each reference field of the row's kind and the kind it points at."""
        return {
            field: (
                self.record_id(references[field], value)
                if field in references and isinstance(value, str)
                else value
            )
            for field, value in values.items()
        }


def waiting_for(
    values: Mapping[str, FieldValue], references: Mapping[str, RecordKind]
) -> dict[str, str]:
    """The reference fields that still hold a temporary id, with it: a create with any
    waits for those records to be created first, and is not sent."""
    return {
        field: value
        for field, value in values.items()
        if field in references and isinstance(value, str) and is_temporary_id(value)
    }
