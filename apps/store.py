"""The one eventsourcing Application of the desk: its name, its store, its cache, its log.

Every service records through it, so the whole desk has one log with one total order
(ADR/0002). What it adds to eventsourcing's Application: the audience index written
with each save (ADR/0014), a cache that follows the log instead of asking the store for
every aggregate it hands out, snapshots taken from memory, and listeners told of each
committed save with its events and audiences.
"""

import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar, cast
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    LRUCache,
    ProcessingEvent,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    JSONTranscoder,
    Notification,
    PersistenceError,
    Recording,
)
from eventsourcing.utils import Environment, EnvType

from calldesk.apps.conversion import register_stored_value_types
from calldesk.apps.settings import persistence_settings, shown_url
from calldesk.ports.log import Audience, FeedEntry, IndexedRecorder, Logged, SaveListener

A = TypeVar("A", bound=Aggregate)

#: How many aggregates this process keeps in memory between commands.
CACHED_AGGREGATES = 10_000

#: Notifications read at a time when catching up with other processes' writes.
CATCH_UP_PAGE = 500


class StoreUnavailable(Exception):
    """The store a URL names cannot be opened: not reached, refused, or no database
    calldesk can write. Says what was tried (without the password) and why."""

    def __init__(self, database_url: str, why: str) -> None:
        self.where, self.why = shown_url(database_url), why
        super().__init__(f"cannot open the event store at {self.where}: {why}")


class Store(Application[UUID]):
    """Events in, one log out, ordered by notification id (the position)."""

    name = "calldesk"

    def __init__(self, env: Mapping[str, str]) -> None:
        super().__init__(env=env)
        #: Snapshot intervals by kind; each service declares its own (snapshot_every).
        self.intervals: dict[type[Aggregate], int] = {}
        self._listeners: list[SaveListener] = []
        #: The position up to which the cache holds what the log says.
        self.followed = self.head()

    @classmethod
    def at(cls, database_url: str) -> "Store":
        """The store at this URL (calldesk.apps.settings), its tables created when
        missing; StoreUnavailable when it cannot be opened. The recorders say why in
        one line (calldesk.adapters.event_store)."""
        settings = persistence_settings(database_url)
        try:
            return cls(env=settings)
        except PersistenceError as error:
            raise StoreUnavailable(database_url, str(error)) from error

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Only the given settings: variables left in os.environ never pick the store."""
        settings = {
            "IS_SNAPSHOTTING_ENABLED": "y",
            # Aggregates are kept between commands, so a busy call is not replayed from
            # its first event for every signal. The cache follows the log (catch_up)
            # instead of asking the store for newer events of every aggregate it hands out.
            "AGGREGATE_CACHE_MAXSIZE": str(CACHED_AGGREGATES),
            "AGGREGATE_CACHE_FASTFORWARD": "n",
            **(env or {}),
        }
        return Environment(name, settings)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_stored_value_types(transcoder)

    @property
    def indexes(self) -> IndexedRecorder:
        """The recorder's indexes (calldesk.adapters.event_store, ADR/0014)."""
        return cast(IndexedRecorder, self.recorder)

    def snapshot_every(self, kind: type[Aggregate], interval: int) -> None:
        self.intervals[kind] = interval

    def head(self) -> int:
        """The position of the newest event in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    def on_recorded(self, listener: SaveListener) -> Callable[[], None]:
        """Tell listener of each committed save of this process, its events in log
        order; returns what stops it. Saves by other processes are not heard: read."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def record(
        self,
        saving: ProcessingEvent[UUID],
        audiences: Sequence[Audience | None],
        shown: Mapping[tuple[str, str], frozenset[tuple[str, str]]],
        feed: Mapping[UUID, FeedEntry],
    ) -> list[Recording[UUID]]:
        """Record the events in one transaction with their audiences, what the saved
        workspaces show and the saved records' change-feed entries; then snapshot, and
        tell the listeners.

        As eventsourcing's save, for aggregates only: its checks of each object against
        typing.Protocols cost more, on Python 3.11, than a call's own domain work
        (docs/benchmarks.md, call throughput). The private hooks it calls are checked
        by tests/apps/test_library_hooks.py (ADR/0014).
        """
        saving.saved_kwargs.update(audiences=audiences, viewers=shown, feed=feed)
        recordings = self._record(saving)
        self._take_snapshots(saving)
        if recordings:
            self._heard(recordings, audiences)
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot a just-saved aggregate as it is in memory, exactly the recorded
        version, instead of replaying it from the store again as eventsourcing does."""
        if self.snapshots is None:
            return
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            if not isinstance(aggregate, Aggregate):
                continue
            interval = self.intervals.get(type(aggregate))
            if interval is None or event.originator_version % interval:
                continue
            if aggregate.version == event.originator_version:
                self.snapshots.put([type(aggregate).Snapshot.take(aggregate)])
            else:
                self.take_snapshot(event.originator_id, event.originator_version)

    def _heard(
        self, recordings: list[Recording[UUID]], audiences: Sequence[Audience | None]
    ) -> None:
        """One transaction's positions follow each other, in the order of its events."""
        first, last = recordings[0].notification.id, recordings[-1].notification.id
        if first == self.followed + 1:
            # Nobody wrote in between: the cache, which holds what was just saved, is
            # current up to here. After a gap, the next catch_up reads the gap.
            self.followed = last
        if not self._listeners:
            return
        logged = [
            Logged(
                position=recording.notification.id,
                originator_id=recording.domain_event.originator_id,
                originator_version=recording.domain_event.originator_version,
                topic=recording.notification.topic,
                event=recording.domain_event,
                audience=audience,
            )
            for recording, audience in zip(recordings, audiences, strict=True)
        ]
        for listener in self._listeners:
            listener(logged)

    def catch_up(self) -> None:
        """Evict from the cache what other processes changed since it last followed
        the log: one query when nobody else wrote, instead of one per aggregate read.

        Called with the unit of work's writer lock held, before a command or query reads.
        """
        head = self.head()
        if head == self.followed:
            return
        if head - self.followed > CACHED_AGGREGATES:
            self.repository.cache = LRUCache(maxsize=CACHED_AGGREGATES)
        else:
            start = self.followed + 1
            while start <= head:
                page = self.recorder.select_notifications(
                    start=start, limit=CATCH_UP_PAGE, stop=head
                )
                for notification in page:
                    self.evict(UUID(str(notification.originator_id)))
                if not page:
                    break
                start = page[-1].id + 1
        self.followed = head

    def evict(self, aggregate_id: UUID) -> None:
        with contextlib.suppress(KeyError):
            self.repository.cache.get(aggregate_id, evict=True)  # type: ignore[union-attr]

    def as_of(self, kind: type[A], aggregate_id: UUID, position: int) -> A | None:
        """The aggregate as it was when the log stood at `position`; a fresh copy."""
        version = self.indexes.version_as_of(aggregate_id, position)
        return None if version is None else self.at_version(kind, aggregate_id, version)

    def at_version(self, kind: type[A], aggregate_id: UUID, version: int) -> A | None:
        """The aggregate at this version, a fresh copy (from a snapshot where one is)."""
        try:
            aggregate: object = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def logged(self, notification: Notification, audience: Audience | None) -> Logged:
        """A notification read from the log, its domain event decoded."""
        event = self.mapper.to_domain_event(notification)
        return Logged(
            position=notification.id,
            originator_id=event.originator_id,
            originator_version=event.originator_version,
            topic=notification.topic,
            event=event,
            audience=audience,
        )
