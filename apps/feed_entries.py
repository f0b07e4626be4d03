"""What the change feed keeps of each saved record and schema: one entry each, decided
when saved and written with the events (ADR/0021), so a page of the feed is read from
one table, consistent with the log at its position, and costs what it holds."""

import json
from collections.abc import Iterable
from uuid import UUID

from calldesk.apps.conversion import converter
from calldesk.domain.crm_records import CrmRecord
from calldesk.domain.record_schemas import RecordSchema
from calldesk.ports.log import FeedEntry

#: The item of a kind's schema in the feed; records are items of their kind.
SCHEMA_ITEM = "schema"


def feed_entries(aggregates: Iterable[object]) -> dict[UUID, FeedEntry]:
    """The feed entry of each record and schema among the saved aggregates."""
    entries: dict[UUID, FeedEntry] = {}
    for aggregate in aggregates:
        if isinstance(aggregate, CrmRecord):
            entries[aggregate.id] = FeedEntry(
                aggregate.tenant,
                aggregate.kind.value,
                aggregate.record_id,
                aggregate.version,
                aggregate.deleted,
                json.dumps(aggregate.shown, sort_keys=True),
            )
        elif isinstance(aggregate, RecordSchema):
            fields = converter.unstructure(tuple(aggregate.fields.values()))
            state = {"fields": fields, "retired": list(aggregate.retired)}
            entries[aggregate.id] = FeedEntry(
                aggregate.tenant,
                SCHEMA_ITEM,
                aggregate.kind.value,
                aggregate.version,
                False,
                json.dumps(state, sort_keys=True),
            )
    return entries
