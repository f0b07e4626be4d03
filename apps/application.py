"""The base of the one calldesk Application: its name, its store, and safe load-change-save.

Every capability (tenancy, presence, and later calls, workspace, feed, sync) is a mixin
on this base, so they all write to one event log with one total order (ADR/0002).
"""

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Concatenate, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    LRUCache,
    ProcessingEvent,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Notification,
    Recording,
)
from eventsourcing.utils import Environment, EnvType

from calldesk.apps.conversion import register_stored_value_types
from calldesk.domain.errors import AlreadyExists, DomainError, NotFound

A = TypeVar("A", bound=Aggregate)
D = TypeVar("D", bound="DeskApplication")
P = ParamSpec("P")
R = TypeVar("R")

#: How often a command is retried when another writer changed the aggregate meanwhile.
CONFLICT_ATTEMPTS = 3

#: How many aggregates this process keeps in memory between commands.
CACHED_AGGREGATES = 10_000

#: Notifications read at a time when catching up with other processes' writes.
CATCH_UP_PAGE = 500


class ConcurrentChange(DomainError):
    """Others kept changing the same thing; the command was not applied, send it again."""


class DeskApplication(Application[UUID]):
    """Commands in, aggregates saved; one log, ordered by notification id."""

    name = "calldesk"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # eventsourcing names each subclass after itself, and the name picks the table
        # names on PostgreSQL: every mixin and the composed Desk share one store.
        super().__init_subclass__(**kwargs)
        cls.name = DeskApplication.name

    def __init__(self, env: Mapping[str, str]) -> None:
        super().__init__(env=env)
        self._writer = threading.RLock()
        self._running = threading.local()
        self._listeners: list[Callable[[list[Notification]], None]] = []
        self._followed = self.head()

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Only the given settings: variables left in os.environ never pick the store."""
        settings = {
            "IS_SNAPSHOTTING_ENABLED": "y",
            # Aggregates are kept between commands, so a busy call is not replayed from
            # its first event for every signal. The cache follows the log (_catch_up)
            # instead of asking the store for newer events of every aggregate it hands out.
            "AGGREGATE_CACHE_MAXSIZE": str(CACHED_AGGREGATES),
            "AGGREGATE_CACHE_FASTFORWARD": "n",
            **(env or {}),
        }
        return Environment(name, settings)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_stored_value_types(transcoder)

    def on_recorded(
        self, listener: Callable[[list[Notification]], None]
    ) -> Callable[[], None]:
        """Call listener with the notifications of each committed save here, in log
        order; returns what stops it. Saves by other processes are not heard: poll."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def save(  # type: ignore[override]
        self, *aggregates: Aggregate | None, **kwargs: Any
    ) -> list[Recording[UUID]]:
        """Record the aggregates' pending events in one transaction, then snapshot and
        tell the listeners; inside `atomically`, keep them for the block's transaction.
        As eventsourcing's save, for aggregates only: its checks of each object against
        typing.Protocols cost more, on Python 3.11, than a call's own domain work
        (docs/benchmarks.md, call throughput)."""
        whole: ProcessingEvent[UUID] | None = getattr(self._running, "whole", None)
        saving = whole if whole is not None else ProcessingEvent()
        saving.saved_kwargs.update(kwargs)
        for aggregate in aggregates:
            if aggregate is not None:
                saving.events.extend(aggregate.collect_events())
                saving.aggregates[aggregate.id] = aggregate
                if whole is not None:  # later commands of the block read it as saved
                    self.repository.cache.put(aggregate.id, aggregate)  # type: ignore[union-attr]
                    self._running.loaded.add(aggregate.id)
        return [] if whole is not None else self._recorded(saving)

    @contextlib.contextmanager
    def atomically(self) -> Iterator[None]:
        """Whatever the commands inside save is recorded in one transaction as the block
        ends, or nothing is if any of them fails: a phone system's delivery of several
        signals is heard whole or not at all.

        The desk is held from the block's first command to its end, not before: what
        the block does first (an adapter asking its vendor something) waits for no one.
        """
        if getattr(self._running, "whole", None) is not None:
            yield  # inside another block: the outer one records
            return
        whole: ProcessingEvent[UUID] = ProcessingEvent()
        with contextlib.ExitStack() as held:
            self._running.whole, self._running.held = whole, held
            try:
                yield
            finally:
                self._running.whole = self._running.held = None
            try:
                if whole.events:  # then the first command holds the desk still
                    self._recorded(whole)
            except IntegrityError:
                raise ConcurrentChange(
                    "another writer changed what these commands changed; "
                    "nothing was recorded, send them again"
                ) from None

    def _recorded(self, saving: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        recordings = self._record(saving)
        self._take_snapshots(saving)
        self._notify(recordings)
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
            interval = self.snapshotting_intervals.get(type(aggregate))
            if interval is None or event.originator_version % interval:
                continue
            if aggregate.version == event.originator_version:
                self.snapshots.put([type(aggregate).Snapshot.take(aggregate)])
            else:
                self.take_snapshot(event.originator_id, event.originator_version)

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        if not recordings:
            return
        notifications = sorted((r.notification for r in recordings), key=_position)
        if notifications[0].id == self._followed + 1:
            # Nobody wrote in between: the cache, which holds what was just saved, is
            # current up to here. After a gap, the next _catch_up reads the gap.
            self._followed = notifications[-1].id
        for listener in self._listeners:
            listener(notifications)

    def _catch_up(self) -> None:
        """Evict from the cache what other processes changed since it last followed
        the log: one query when nobody else wrote, instead of one per aggregate read.

        Called with the writer's lock held, before a command or a query reads.
        """
        head = self.head()
        if head == self._followed:
            return
        if head - self._followed > CACHED_AGGREGATES:
            self.repository.cache = LRUCache(maxsize=CACHED_AGGREGATES)
        else:
            start = self._followed + 1
            while start <= head:
                page = self.recorder.select_notifications(
                    start=start, limit=CATCH_UP_PAGE, stop=head
                )
                for notification in page:
                    self._evict(UUID(str(notification.originator_id)))
                if not page:
                    break
                start = page[-1].id + 1
        self._followed = head

    def head(self) -> int:
        """The notification id of the newest event in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """One command at a time in this process; the store has one writer anyway.

        The first command of an `atomically` block holds the desk until the block ends.
        """
        if getattr(self._running, "loaded", None) is not None:
            yield  # a command within a command: the outer one owns the cache
            return
        held: contextlib.ExitStack | None = getattr(self._running, "held", None)
        if held is not None:
            held.enter_context(self._alone())
            yield
            return
        with self._alone():
            yield

    @contextlib.contextmanager
    def _alone(self) -> Iterator[None]:
        """The desk held, the cache caught up with the log.

        Inside, aggregates come from the cache uncopied (copying them was most of a
        signal's cost, docs/benchmarks.md); if the command fails, every aggregate it
        loaded is evicted, so a half-applied change never stays in the cache.
        """
        with self._writer:
            self._catch_up()
            self._running.loaded = set()
            try:
                yield
            except BaseException:
                for aggregate_id in self._running.loaded:
                    self._evict(aggregate_id)
                raise
            finally:
                self._running.loaded = None

    def _forget_loaded(self) -> None:
        """Another writer won: what this command loaded is stale, load it afresh."""
        loaded: set[UUID] = getattr(self._running, "loaded", None) or set()
        for aggregate_id in loaded:
            self._evict(aggregate_id)
        loaded.clear()

    def _evict(self, aggregate_id: UUID) -> None:
        with contextlib.suppress(KeyError):
            self.repository.cache.get(aggregate_id, evict=True)  # type: ignore[union-attr]

    def _load(self, kind: type[A], aggregate_id: UUID, missing: str) -> A:
        """The aggregate of this kind, or NotFound with a message naming what is missing."""
        loaded: set[UUID] | None = getattr(self._running, "loaded", None)
        try:
            if loaded is not None:
                aggregate: object = self.repository.get(
                    aggregate_id, deepcopy_from_cache=False
                )
            else:
                # A query copies what it reads, and waits for a command of another
                # thread to finish: the cached aggregate it would copy is being changed
                # in place, and unsaved changes must never be seen.
                with self._writer:
                    self._catch_up()
                    aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(missing) from None
        if loaded is not None:
            loaded.add(aggregate_id)
        if not isinstance(aggregate, kind):
            raise NotFound(missing)
        return aggregate

    def _glance(
        self, kind: type[A], aggregate_id: UUID, read: Callable[[A], R]
    ) -> R | None:
        """What `read` takes from the aggregate, or None when there is none.

        Cheaper than a query: nothing is copied, so `read` runs under the writer's lock
        and must return only values that cannot change with the aggregate.
        """
        with self._writer:
            if getattr(self._running, "loaded", None) is None:
                self._catch_up()
            try:
                aggregate: object = self.repository.get(
                    aggregate_id, deepcopy_from_cache=False
                )
            except AggregateNotFoundError:
                return None
            return read(aggregate) if isinstance(aggregate, kind) else None

    def _find(self, kind: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate of this kind, or None when there is none."""
        try:
            return self._load(kind, aggregate_id, "")
        except NotFound:
            return None

    def _create(self, aggregate: A, exists: str) -> A:
        """Save a new aggregate, refusing if one with its id was already recorded."""
        if aggregate.id in self.repository:
            raise AlreadyExists(exists)
        try:
            self.save(aggregate)
        except IntegrityError:
            raise AlreadyExists(exists) from None
        return aggregate

    def _change(self, load: Callable[[], A], command: Callable[[A], None]) -> A:
        """Load, apply the command, save; retry from a fresh load if another writer won."""
        for _ in range(CONFLICT_ATTEMPTS):
            aggregate = load()
            command(aggregate)
            try:
                self.save(aggregate)
            except IntegrityError:
                self._forget_loaded()
                continue
            return aggregate
        raise ConcurrentChange(
            f"{aggregate} changed {CONFLICT_ATTEMPTS} times while the command ran; "
            "send it again"
        )


def writes(
    method: Callable[Concatenate[D, P], R],
) -> Callable[Concatenate[D, P], R]:
    """Marks a use case that changes things: it runs alone, in DeskApplication._writing."""

    @functools.wraps(method)
    def run(application: D, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with application._writing():
            return method(application, *args, **kwargs)

    return run


def _position(notification: Notification) -> int:
    return notification.id
