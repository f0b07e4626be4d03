"""References to CRM records, as a screen pop and a call log point at them.

calldesk does not own the records (contacts, accounts, leads, cases live in the CRM, or
in calldesk's own record store for the demo); the core keeps only what it needs to show
and to link: the kind, the id, and a title a person recognises.
"""

import enum
from collections.abc import Sequence

import attrs

from calldesk.domain.errors import InvalidValue
from calldesk.domain.identity import checked_text


class RecordKind(enum.Enum):
    CONTACT = "contact"
    ACCOUNT = "account"
    LEAD = "lead"
    CASE = "case"


RECORD_ID_MAX_LENGTH = 64


def checked_record_id(value: str) -> str:
    """A record's id as a CRM gives it: text, without outer spaces."""
    if checked_text(value, "a record id", RECORD_ID_MAX_LENGTH) != value:
        raise InvalidValue("a record id must not start or end with spaces")
    return value


def _record_id(_: object, __: object, value: str) -> None:
    checked_record_id(value)


def _title(_: object, __: object, value: str) -> None:
    checked_text(value, "a record title")


@attrs.frozen(slots=False)
class RecordRef:
    """One CRM record: enough to open it in a tab and to name it in a list."""

    kind: RecordKind
    record_id: str = attrs.field(validator=_record_id)
    title: str = attrs.field(validator=_title)


_PEOPLE = (RecordKind.CONTACT, RecordKind.LEAD)


def single_match(matches: Sequence[RecordRef]) -> RecordRef | None:
    """The record a screen pop opens by itself, or None when the agent must choose.

    A number reaches a person and what belongs to them (their account, their open
    cases); what the agent wants open is the person. So: the only contact or lead the
    number reaches; with no person, the only account; otherwise nothing, and the
    candidates are shown (none at all offers a new contact with the number filled in).
    """
    people = [m for m in matches if m.kind in _PEOPLE]
    if people:
        return people[0] if len(people) == 1 else None
    accounts = [m for m in matches if m.kind is RecordKind.ACCOUNT]
    return accounts[0] if len(accounts) == 1 else None
