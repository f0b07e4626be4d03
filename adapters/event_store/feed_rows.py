"""The change feed's rows of one save, as both recorders write them (ADR/0021)."""

from collections.abc import Mapping, Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from calldesk.ports.log import FeedEntry

#: tenant, item, key, position, version, deleted, state
FeedRow = tuple[str, str, str, int, int, bool, str]


def feed_rows(
    stored_events: Sequence[StoredEvent],
    positions: Sequence[int],
    feed: Mapping[UUID, FeedEntry],
) -> list[FeedRow]:
    """Each entry at the position of its aggregate's last event in the save."""
    last: dict[UUID, int] = {}
    for stored, position in zip(stored_events, positions, strict=True):
        originator = stored.originator_id
        if isinstance(originator, UUID) and originator in feed:
            last[originator] = position
    return [
        (e.tenant, e.item, e.key, last[key], e.version, e.deleted, e.state)
        for key, e in feed.items()
        if key in last
    ]
