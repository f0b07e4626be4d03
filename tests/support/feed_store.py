"""An in-memory store that keeps publishers and feeds, to replay them from their events.

It registers calldesk's stored value types (apps/conversion.py), so the round trip
here is the one the real store makes.
"""

from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from calldesk.apps.conversion import register_stored_value_types


class FeedStore(Application[UUID]):
    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_stored_value_types(transcoder)


def feed_store() -> FeedStore:
    return FeedStore(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo", "IS_SNAPSHOTTING_ENABLED": "y"}
    )
