"""The event log as its readers need it: the push, and later the audit and the replicas.

Every event has a position (its notification id: one total order for the whole desk)
and an audience: the agents of one tenant it concerns, decided once when it was saved
and kept in an index beside the events, in the same transaction (ADR/0014). Readers
never ask the aggregates who an event concerns: what a reader replays is exactly what
a reader connected at the time was given.
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import attrs


@attrs.frozen
class Audience:
    """The agents of one tenant that a recorded event concerns."""

    tenant: str
    agents: frozenset[str]

    @staticmethod
    def by_position(rows: Iterable[tuple[int, str, str]]) -> dict[int, "Audience"]:
        """Index rows of (position, tenant, agent), one audience a position."""
        gathered: dict[int, tuple[str, set[str]]] = {}
        for position, tenant, agent in rows:
            gathered.setdefault(position, (tenant, set()))[1].add(agent)
        return {
            position: Audience(tenant, frozenset(agents))
            for position, (tenant, agents) in gathered.items()
        }


@attrs.frozen
class Logged:
    """One event as recorded: where it stands in the log, and whom it concerns.

    ``event`` is the domain event itself (an eventsourcing DomainEvent), so a reader
    can advance its own copy of an aggregate by it.
    """

    position: int
    originator_id: UUID
    originator_version: int
    topic: str
    event: Any
    audience: Audience | None


@attrs.frozen
class FeedEntry:
    """What the change feed keeps of a record or a kind's schema, as last saved: one
    entry each, at the position of its latest event (ADR/0021).

    ``item`` is the record's kind ("contact") or "schema"; ``key`` the record's id, or
    the schema's kind; ``state`` the JSON of its values (or fields), as saved.
    """

    tenant: str
    item: str
    key: str
    version: int
    deleted: bool
    state: str


#: Called with each save of this process, its events in log order, once committed.
SaveListener = Callable[[Sequence[Logged]], None]


class EventLog(Protocol):
    """Head, read after a position, read one agent's events, hear this process's saves.

    Other processes' saves are found by reading after the last position seen: by
    polling on SQLite, and on PostgreSQL later also when LISTEN/NOTIFY wakes a reader.
    """

    def head(self) -> int:
        """The position of the newest event (0 when the log is empty)."""

    def read_after(self, position: int, limit: int) -> Sequence[Logged]:
        """Up to `limit` events after `position`, in log order, with their audiences."""

    def read_concerning(
        self, tenant: str, agent: str, after: int, limit: int
    ) -> Sequence[Logged]:
        """Up to `limit` events after `after` that concern this agent, in log order;
        the cost follows the agent's own events, not the tenant's."""

    def subscribe(self, listener: SaveListener) -> Callable[[], None]:
        """Hear every save of this process as it commits; returns what stops it."""


class IndexedRecorder(Protocol):
    """What the desk's recorders add to eventsourcing's: the audience index, the index
    of which agents show which record, the records' change feed, and versions as of a
    log position."""

    def select_concerning(
        self, tenant: str, agent: str, after: int, limit: int
    ) -> Sequence[tuple[int, Any]]:
        """(position, notification) of the agent's events after `after`."""

    def select_audiences(self, first: int, last: int) -> dict[int, Audience]:
        """The audience of each event from position `first` to `last`."""

    def select_viewers(
        self, tenant: str, kind: str, record_ids: Sequence[str]
    ) -> dict[str, frozenset[str]]:
        """The agents whose workspace shows each of these records of one kind, as last
        saved; a record nobody shows is left out. Asked once for all a save holds."""

    def version_as_of(self, originator_id: UUID, position: int) -> int | None:
        """The aggregate's version as of this position; None when it did not exist."""

    def select_feed(
        self, tenant: str, after: int, limit: int
    ) -> Sequence[tuple[int, FeedEntry]]:
        """Up to `limit` of the tenant's feed entries saved after position `after`, in
        log order, each once, as of its latest save; the cost follows `limit`, not the
        tenant's size."""

    def select_feed_keys(
        self, tenant: str, item: str, keys: Sequence[str]
    ) -> dict[str, bool]:
        """Which of these keys of the item (records of one kind) the tenant's feed has,
        each with whether it is deleted: what an import asks of many records at once."""

    def select_recorded_at(self, originator_id: UUID) -> dict[int, datetime]:
        """When each version of the aggregate was recorded, by the store's own clock
        inside the insert's transaction (ADR/0019); versions recorded before the store
        kept it are missing."""
