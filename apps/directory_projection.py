"""The screen-pop directory as a projection of the tenant's records (ADR/0023).

The records' change feed (ADR/0021) says, in log order, each record as last saved or
its tombstone; the directory keeps what a screen pop needs of each, with the position
it is current as of. Every read of the directory first brings the tenant up to the
log's latest position, so a record edited a moment ago, by this process or another,
pops by its new number; when nothing changed that costs one indexed read of the feed.
Forgetting the tenant's rows and catching up rebuilds the directory from the log alone.
"""

import json
import threading
from collections.abc import Callable, Mapping, Sequence

from calldesk.apps.aggregates import tenant_named
from calldesk.apps.feed_entries import SCHEMA_ITEM
from calldesk.apps.unit_of_work import Service
from calldesk.domain.errors import InvalidValue
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.record_fields import FieldValue
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.ports.directory import KnownRecord, ProjectedDirectory
from calldesk.ports.directory_records import (
    Account,
    Case,
    CaseStatus,
    Contact,
    Lead,
    RecordBatch,
)
from calldesk.ports.log import FeedEntry, IndexedRecorder

#: Feed entries projected per transaction of the directory.
PAGE = 1_000
#: The case status that is not open; every other one is, as far as a caller goes.
CLOSED_CASE = "Closed"

Values = Mapping[str, FieldValue]


class FollowingDirectory:
    """A RecordDirectory that follows the log: it catches the tenant up, then reads."""

    def __init__(self, index: ProjectedDirectory, feed: IndexedRecorder) -> None:
        self.index = index
        self._feed = feed
        # One catch-up at a time: two would project the same page twice (harmless, as
        # each replaces rows with the same rows, but twice the work).
        self._turn = threading.Lock()

    def catch_up(
        self, tenant: str, on_projected: Callable[[int], None] = lambda _: None
    ) -> int:
        """Project what the tenant's feed holds after the directory's position; how
        many feed entries that was. `on_projected` hears of each page once written."""
        projected = 0
        with self._turn:
            position = self.index.position(tenant)
            while True:
                page = self._feed.select_feed(tenant, position, PAGE)
                if not page:
                    return projected
                written, removed = _projected(page)
                position = page[-1][0]
                self.index.project(tenant, written, removed, position)
                projected += len(page)
                on_projected(len(page))
                if len(page) < PAGE:
                    return projected

    def rebuild(
        self, tenant: str, on_projected: Callable[[int], None] = lambda _: None
    ) -> int:
        """The tenant's rows made again from the log alone: any row that did not come
        from it (an old directory's) is gone."""
        with self._turn:
            self.index.forget(tenant)
        return self.catch_up(tenant, on_projected)

    def find_by_number(self, tenant: str, number: PhoneNumber) -> tuple[RecordRef, ...]:
        self.catch_up(tenant)
        return self.index.find_by_number(tenant, number)

    def record(self, tenant: str, kind: RecordKind, record_id: str) -> KnownRecord | None:
        self.catch_up(tenant)
        return self.index.record(tenant, kind, record_id)

    def search(self, tenant: str, text: str, limit: int) -> tuple[KnownRecord, ...]:
        self.catch_up(tenant)
        return self.index.search(tenant, text, limit)


def _projected(
    page: Sequence[tuple[int, FeedEntry]],
) -> tuple[RecordBatch, list[tuple[RecordKind, str]]]:
    """The rows a page of the feed writes, and the records it removes."""
    accounts: list[Account] = []
    contacts: list[Contact] = []
    leads: list[Lead] = []
    cases: list[Case] = []
    removed: list[tuple[RecordKind, str]] = []
    for _, entry in page:
        if entry.item == SCHEMA_ITEM:
            continue
        kind = RecordKind(entry.item)
        if entry.deleted:
            removed.append((kind, entry.key))
            continue
        values: Values = json.loads(entry.state)
        match kind:
            case RecordKind.ACCOUNT:
                accounts.append(
                    Account(entry.key, _text(values, "name"), _number(values, "phone"))
                )
            case RecordKind.CONTACT:
                contacts.append(
                    Contact(
                        entry.key,
                        _text(values, "full_name"),
                        _reference(values, "account"),
                        _number(values, "phone"),
                        _number(values, "mobile"),
                        _reference(values, "email"),
                    )
                )
            case RecordKind.LEAD:
                leads.append(
                    Lead(
                        entry.key,
                        _text(values, "full_name"),
                        _number(values, "phone"),
                        _number(values, "mobile"),
                        _reference(values, "email"),
                    )
                )
            case RecordKind.CASE:
                contact = _reference(values, "contact")
                if contact is None:  # no number reaches it: nothing to pop
                    removed.append((kind, entry.key))
                    continue
                status = (
                    CaseStatus.CLOSED
                    if values.get("status") == CLOSED_CASE
                    else CaseStatus.OPEN
                )
                cases.append(Case(entry.key, _text(values, "subject"), contact, status))
    batch = RecordBatch(tuple(accounts), tuple(contacts), tuple(leads), tuple(cases))
    return batch, removed


def _text(values: Values, field: str) -> str:
    """A required text field: the schema saw to it that it is there."""
    return str(values.get(field) or "")


def _reference(values: Values, field: str) -> str | None:
    value = values.get(field)
    return str(value) if value else None


def _number(values: Values, field: str) -> PhoneNumber | None:
    """A phone field, kept as E.164 with its extension (calldesk.apps.records)."""
    value = values.get(field)
    return PhoneNumber.read(str(value)) if value else None


class DirectoryProjection(Service):
    """Bringing the desk's directory up to the log, or making it again from it."""

    def catch_up_directory(
        self, tenant: str, on_projected: Callable[[int], None] = lambda _: None
    ) -> int:
        """Project the tenant's records saved since the directory last read the log."""
        tenant_named(self.work, tenant)
        return self._following().catch_up(tenant, on_projected)

    def rebuild_directory(
        self, tenant: str, on_projected: Callable[[int], None] = lambda _: None
    ) -> int:
        """Drop the tenant's rows and project every record of the log again."""
        tenant_named(self.work, tenant)
        return self._following().rebuild(tenant, on_projected)

    def _following(self) -> FollowingDirectory:
        directory = self.work.directory
        if not isinstance(directory, FollowingDirectory):
            raise InvalidValue(
                "this desk's record directory is not a projection of its records"
            )
        return directory
