"""The rows a projected directory keeps of the tenant's records (ADR/0023).

A record keeps far more; the directory keeps what a screen pop needs: who the person
is, their company, the numbers that reach them, and their cases. Numbers are already
E.164 (calldesk.apps.phone_numbers), so the directory only compares text.
"""

import enum

import attrs

from calldesk.domain.phone_numbers import PhoneNumber


class CaseStatus(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


@attrs.frozen
class Account:
    """A customer company; its own phone is usually the switchboard."""

    record_id: str
    name: str
    phone: PhoneNumber | None = None


@attrs.frozen
class Contact:
    """A person at a customer, reached at a desk phone, a mobile, or both."""

    record_id: str
    name: str
    account_id: str | None = None
    phone: PhoneNumber | None = None
    mobile: PhoneNumber | None = None
    email: str | None = None


@attrs.frozen
class Lead:
    """A prospect not yet a customer: no account, but a number that may call."""

    record_id: str
    name: str
    phone: PhoneNumber | None = None
    mobile: PhoneNumber | None = None
    email: str | None = None


@attrs.frozen
class Case:
    """A contact's request; an open one is the likely reason for their call."""

    record_id: str
    subject: str
    contact_id: str
    status: CaseStatus = CaseStatus.OPEN


@attrs.frozen
class RecordCounts:
    """How many records of each kind were written, for the person who asked."""

    accounts: int = 0
    contacts: int = 0
    leads: int = 0
    cases: int = 0

    def __add__(self, other: "RecordCounts") -> "RecordCounts":
        return RecordCounts(
            self.accounts + other.accounts,
            self.contacts + other.contacts,
            self.leads + other.leads,
            self.cases + other.cases,
        )


@attrs.frozen
class RecordBatch:
    """Records written together, in one transaction: all of them or none."""

    accounts: tuple[Account, ...] = ()
    contacts: tuple[Contact, ...] = ()
    leads: tuple[Lead, ...] = ()
    cases: tuple[Case, ...] = ()

    @property
    def counts(self) -> RecordCounts:
        return RecordCounts(
            len(self.accounts), len(self.contacts), len(self.leads), len(self.cases)
        )
