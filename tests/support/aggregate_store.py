"""Where domain tests store their aggregates: in memory, or in a real event store.

It registers calldesk's stored value types (apps/conversion.py), so the round trip here
is the one the application makes; given a database URL, it is configured from it as the
application is (apps/settings.py): a SQLite file, or a PostgreSQL schema.
"""

from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder
from eventsourcing.utils import Environment, EnvType

from calldesk.apps.conversion import register_stored_value_types
from calldesk.apps.settings import persistence_settings


class AggregateStore(Application[UUID]):
    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Only the given settings: variables left in os.environ never pick the store."""
        return Environment(name, dict(env or {}))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_stored_value_types(transcoder)


def aggregate_store(database_url: str | None = None) -> AggregateStore:
    """A store that snapshots: in memory, or at the database URL."""
    where = (
        {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        if database_url is None
        else persistence_settings(database_url)
    )
    return AggregateStore(env={**where, "IS_SNAPSHOTTING_ENABLED": "y"})
