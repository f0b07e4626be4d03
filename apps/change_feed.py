"""The change feed of a tenant's records: the server side of sync (ADR/0021).

A page holds record upserts, tombstones and schema changes in log order, each record
once, as of its latest save; its cursor is the log position of its last entry, issued by
the server and only growing, so the next page starts exactly after it: no change on a
boundary is skipped or doubled. A first download is the feed from the start: every
record once, as it is now (a deleted one as its tombstone), never its history.
"""

import json

import attrs

from calldesk.apps.aggregates import tenant_named
from calldesk.apps.conversion import converter
from calldesk.apps.feed_entries import SCHEMA_ITEM
from calldesk.apps.unit_of_work import Service
from calldesk.domain.errors import InvalidValue
from calldesk.domain.record_fields import FieldDefinition, FieldValue
from calldesk.domain.records import RecordKind
from calldesk.ports.log import FeedEntry

MAX_PAGE = 1000


@attrs.frozen
class RecordChange:
    """A record as last saved: its values (its schema's retired fields included, as
    saved), or its tombstone."""

    position: int
    kind: RecordKind
    record_id: str
    version: int
    deleted: bool
    values: dict[str, FieldValue]


@attrs.frozen
class SchemaChange:
    """A kind's schema as last saved."""

    position: int
    kind: RecordKind
    version: int
    fields: tuple[FieldDefinition, ...]
    retired: tuple[str, ...]


@attrs.frozen
class ChangePage:
    """Changes after the cursor asked for; `cursor` is where the next page starts."""

    changes: tuple[RecordChange | SchemaChange, ...]
    cursor: int
    more: bool


class ChangeFeed(Service):
    """Pages of a tenant's record and schema changes after a cursor."""

    def changes(self, tenant: str, after: int = 0, limit: int = 100) -> ChangePage:
        tenant_named(self.work, tenant)
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidValue(f"a page holds 1 to {MAX_PAGE} changes, not {limit}")
        if not 0 <= after <= self.work.store.head():
            raise InvalidValue(
                f"cursor {after} was never given by this server; start from 0, or from "
                "the cursor of the last page read"
            )
        rows = self.work.store.indexes.select_feed(tenant, after, limit + 1)
        page = [_change(position, entry) for position, entry in rows[:limit]]
        cursor = page[-1].position if page else after
        return ChangePage(tuple(page), cursor, len(rows) > limit)


def _change(position: int, entry: FeedEntry) -> RecordChange | SchemaChange:
    state = json.loads(entry.state)
    if entry.item == SCHEMA_ITEM:
        return SchemaChange(
            position,
            RecordKind(entry.key),
            entry.version,
            converter.structure(state["fields"], tuple[FieldDefinition, ...]),
            tuple(state["retired"]),
        )
    return RecordChange(
        position, RecordKind(entry.item), entry.key, entry.version, entry.deleted, state
    )
