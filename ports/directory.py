"""What calldesk asks of a record directory: whose number is ringing, what tells the
records apart, and which of the tenant's records an agent means by a name or number.

The records live in a CRM or, for demos and small desks, in calldesk's own store
(calldesk.adapters.directory); the core asks every one of them these questions, so
any of them plugs in without the core knowing which (ADR/0007, ADR/0022).
"""

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import attrs

from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.ports.directory_records import RecordBatch

#: The most records one search answers with, whatever a caller asks for.
SEARCH_LIMIT_MAX = 20


@attrs.frozen
class KnownRecord:
    """A record of the tenant, with what tells it apart from others a number reaches.

    `status` where its kind has one (a case's); `account`, the name of the account a
    contact belongs to (for a case, its contact's); `numbers`, those that reach it
    (phone, then mobile; a case has none);
    `open_cases`, a contact's open cases by title. A directory that keeps none of these
    leaves them empty: they describe, they never decide.
    """

    ref: RecordRef
    status: str | None = None
    account: str | None = None
    numbers: tuple[PhoneNumber, ...] = ()
    open_cases: tuple[RecordRef, ...] = ()


class RecordDirectory(Protocol):
    """The CRM records of a tenant that a phone number reaches."""

    def find_by_number(self, tenant: str, number: PhoneNumber) -> tuple[RecordRef, ...]:
        """Every record of `tenant` reachable by `number`, best first and each once.

        Contacts and leads whose phone or mobile is the number come first, since the
        caller is most likely that person; then the accounts of those contacts and
        accounts whose own phone it is; then the open cases of those contacts, the
        likely reason for the call. Numbers match on their E.164 form alone, so an
        extension, stored or dialled, never hides a record. Another tenant's records
        never match: a wrong tenant looks like an unknown caller.
        """
        ...

    def record(self, tenant: str, kind: RecordKind, record_id: str) -> KnownRecord | None:
        """The tenant's record of this kind and id, described as KnownRecord says; None
        when the tenant has none, so another tenant's record is not found."""
        ...

    def search(self, tenant: str, text: str, limit: int) -> tuple[KnownRecord, ...]:
        """The tenant's records that have a number and that `text` names.

        Text with a letter names a record when each of its words (case folded) starts
        a word of the record's name: `jo` finds Bob Jones, `ada love` Ada Lovelace.
        Text of digits alone (punctuation ignored), three or more, names a record with
        a number whose digits start with them, dialled internationally or nationally
        (`1650555`, `650 555`), or end with them (`0142`). Other text names nothing.

        Contacts first, then leads, then accounts; by title within a kind, then id;
        each record once, at most `limit` (1 to SEARCH_LIMIT_MAX; the caller checks)
        and described as `record` describes it. Cases have no number and never match;
        another tenant's records never match.
        """
        ...


@runtime_checkable
class ProjectedDirectory(RecordDirectory, Protocol):
    """A directory that is a projection of the tenant's records in the log (ADR/0023):
    it keeps, with its rows, the position of the log they are current as of, so
    bringing it up to date reads only what was recorded since."""

    def position(self, tenant: str) -> int:
        """The log position the tenant's rows are current as of; 0 before the first."""
        ...

    def project(
        self,
        tenant: str,
        written: RecordBatch,
        removed: Sequence[tuple[RecordKind, str]],
        position: int,
    ) -> None:
        """In one transaction: write (or replace) the records, remove those by kind and
        id, and remember the position; all of it or, on any failure, none."""
        ...

    def forget(self, tenant: str) -> None:
        """Drop the tenant's rows and position, so it is projected again from the start."""
        ...
