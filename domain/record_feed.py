"""A record's feed: everything published on one record, batch by batch, and its status.

Each batch arrives as one event, so a reader sees all of a batch or none of it (seed
002, claim 1: "simultaneously include"). The record's status lives here too, because a
status change is a feed item and a change of the record at once: both happen in the
event that publishes the batch, never one without the other.
"""

import itertools
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime
from uuid import UUID

import attrs
from eventsourcing.domain import Aggregate, event

from calldesk.domain.errors import AlreadyExists, InvalidValue, NotFound, Refused
from calldesk.domain.feed_items import Content, ItemType, StatusChange, Visibility
from calldesk.domain.identity import checked_code, checked_slug, checked_text, stable_id
from calldesk.domain.records import RECORD_ID_MAX_LENGTH, RecordKind

#: The most items one batch publishes, as in Salesforce's Connect REST batch API.
MAX_BATCH_ITEMS = 500
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class RecordNotFound(NotFound):
    """Drafts are published only to their own record, in their own tenant."""


class EmptyBatch(Refused):
    """A batch publishes at least one item."""


class BatchTooLarge(Refused):
    """Past MAX_BATCH_ITEMS a batch is refused whole: publish it in parts."""


class BatchAlreadyPublished(AlreadyExists):
    """A batch is published once; its items would show twice."""


class StatusNotCurrent(Refused):
    """A status change starts from the status the record has when it is published."""


@attrs.frozen(slots=False)
class FeedItem:
    """One published item: which draft it was, in which batch, at which place in it."""

    id: str
    draft: str
    batch: str
    position: int
    author: str
    item_type: ItemType
    visibility: Visibility
    content: Content
    published_at: datetime


def status_refusal(change: StatusChange, status: str | None) -> str | None:
    """Why this change cannot apply to a record with this status, or None."""
    if status is None:
        return "this record has no status to change"
    if change.from_status != status:
        return (
            f"it changes the status from {change.from_status}, "
            f"but the record is {status} now"
        )
    return None


class Feed(Aggregate):
    """The published items of one record of a tenant, oldest first, and its status."""

    TOPIC = "calldesk.feed.Feed"

    class Event(Aggregate.Event):
        TOPIC = "calldesk.feed.Event"

    @staticmethod
    def create_id(tenant: str, kind: RecordKind, record_id: str) -> UUID:
        return stable_id("feed", tenant, kind.value, record_id)

    @classmethod
    def start(
        cls,
        tenant: str,
        kind: RecordKind,
        record_id: str,
        status: str | None,
        at: datetime,
    ) -> "Feed":
        """The feed of a record, with the record's status as the CRM has it (None for
        records that have no status, like contacts)."""
        if checked_text(record_id, "a record id", RECORD_ID_MAX_LENGTH) != record_id:
            raise InvalidValue("a record id must not start or end with spaces")
        return cls(
            tenant=checked_slug(tenant, "a tenant"),
            kind=kind,
            record_id=record_id,
            status=None if status is None else checked_code(status, "a status"),
            timestamp=at,
        )

    @event("Started", topic="calldesk.feed.Started")
    def __init__(
        self,
        tenant: str,
        kind: RecordKind,
        record_id: str,
        status: str | None,
        timestamp: datetime,
    ) -> None:
        self.tenant = tenant
        self.kind = kind
        self.record_id = record_id
        self.status = status
        # A list, not a tuple: JSON has no tuple, and a snapshot must restore it equal.
        self.items: list[FeedItem] = []

    def __str__(self) -> str:
        return f"{self.kind.value} {self.record_id}"

    def publish(self, items: Sequence[FeedItem], at: datetime) -> None:
        """Append one batch, all of it at once, and apply its status changes in order."""
        if not items:
            raise EmptyBatch(f"a batch for {self} publishes at least one item")
        if len(items) > MAX_BATCH_ITEMS:
            raise BatchTooLarge(
                f"a batch publishes at most {MAX_BATCH_ITEMS} items, not {len(items)}"
            )
        batches = {item.batch for item in items}
        if len(batches) != 1:
            raise InvalidValue(f"one batch at a time, not {len(batches)}")
        if batches & {item.batch for item in self.items}:
            raise BatchAlreadyPublished(f"that batch is already in the feed of {self}")
        status = self.status
        for item in items:
            change = item.content.status_change
            if change is None:
                continue
            refusal = status_refusal(change, status)
            if refusal is not None:
                raise StatusNotCurrent(f"item {item.position} cannot publish: {refusal}")
            status = change.to_status
        self._items_published(items=tuple(items), timestamp=at)

    @event("ItemsPublished", topic="calldesk.feed.ItemsPublished")
    def _items_published(self, items: tuple[FeedItem, ...], timestamp: datetime) -> None:
        self.items = [*self.items, *items]
        for item in items:
            if item.content.status_change is not None:
                self.status = item.content.status_change.to_status


@attrs.frozen
class FeedPage:
    """Some items of a feed, newest batch first; ``next_after`` asks for the rest."""

    items: tuple[FeedItem, ...]
    next_after: str | None


def newest_first(items: Iterable[FeedItem]) -> Iterator[FeedItem]:
    """Batches newest first, each in its drafts' order: a batch reads as composed."""
    batches = [list(group) for _, group in itertools.groupby(items, lambda i: i.batch)]
    for batch in reversed(batches):
        yield from batch


def feed_page(
    feed: Feed,
    *,
    types: Collection[ItemType] | None = None,
    visibility: Visibility | None = None,
    after: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> FeedPage:
    """One page of the feed, filtered by type and visibility, after the item with id
    ``after`` (the previous page's ``next_after``): items published meanwhile do not
    shift the pages already read."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidValue(f"a page holds 1 to {MAX_PAGE_SIZE} items, not {limit}")
    ordered = list(newest_first(feed.items))
    start = 0
    if after is not None:
        places = {item.id: place for place, item in enumerate(ordered)}
        if after not in places:
            raise InvalidValue(f"no item {after} in the feed of {feed}; start from the top")
        start = places[after] + 1
    wanted = [
        item
        for item in ordered[start:]
        if (types is None or item.item_type in types)
        and (visibility is None or item.visibility is visibility)
    ]
    page = tuple(wanted[:limit])
    return FeedPage(page, page[-1].id if len(wanted) > limit else None)
