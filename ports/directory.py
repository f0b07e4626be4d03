"""What calldesk asks of a record directory: whose number is ringing, and is this record
the tenant's?

The records live in a CRM or, for demos and small desks, in calldesk's own store
(calldesk.adapters.directory); the core asks every one of them these two questions, so
any of them plugs in without the core knowing which.
"""

from typing import Protocol

import attrs

from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.records import RecordKind, RecordRef


@attrs.frozen
class KnownRecord:
    """A record of the tenant, and its status where its kind has one (a case's)."""

    ref: RecordRef
    status: str | None = None


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
        """The tenant's record of this kind and id; None when the tenant has none, so
        another tenant's record is not found."""
        ...
