"""The one unit of work every service shares: load, change, save in one transaction.

A command runs alone in this process (the store has one writer anyway), reads
aggregates from a cache that follows the log, and saves everything it changed, with
what the policies make of it, in one transaction; when another writer won meanwhile it
is tried again from a fresh load. Queries from other threads never see a command's
unsaved changes.
"""

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Concatenate, ParamSpec, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Recording

from calldesk.apps.audiences import (
    Shown,
    ViewedRecord,
    audience_of,
    shown_by,
    viewed_by_audience,
)
from calldesk.apps.feed_entries import feed_entries
from calldesk.apps.store import Store
from calldesk.domain.errors import AlreadyExists, DomainError, NotFound
from calldesk.ports.directory import RecordDirectory

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")
P = ParamSpec("P")
S = TypeVar("S", bound="Service")

#: How often a command is retried when another writer changed the aggregate meanwhile.
CONFLICT_ATTEMPTS = 3


class ConcurrentChange(DomainError):
    """Others kept changing the same thing; the command was not applied, send it again."""


class Reactions(Protocol):
    """The policies (calldesk.apps.policies): what a save's aggregates lead to."""

    def react(self, saved: list[Aggregate], work: "UnitOfWork") -> list[Aggregate]:
        """The other aggregates the policies changed because of these."""


class UnitOfWork:
    """Load, change, save; shared by every service of one desk."""

    def __init__(
        self, store: Store, directory: RecordDirectory, reactions: Reactions | None
    ) -> None:
        self.store = store
        #: The records the desk knows (screen pops, feeds, call-log drafts).
        self.directory = directory
        #: None: this process records what it is told and reacts to nothing.
        self.reactions = reactions
        self.writer = threading.RLock()
        self._running = threading.local()

    # Running commands.

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """One command at a time in this process; the first command of an `atomically`
        block holds the desk until the block ends."""
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
                    self._record(whole)
            except IntegrityError:
                raise ConcurrentChange(
                    "another writer changed what these commands changed; "
                    "nothing was recorded, send them again"
                ) from None

    @contextlib.contextmanager
    def _alone(self) -> Iterator[None]:
        """The desk held, the cache caught up with the log.

        Inside, aggregates come from the cache uncopied (copying them was most of a
        signal's cost, docs/benchmarks.md); if the command fails, every aggregate it
        loaded is evicted, so a half-applied change never stays in the cache.
        """
        with self.writer:
            self.store.catch_up()
            self._running.loaded = set()
            try:
                yield
            except BaseException:
                for aggregate_id in self._running.loaded:
                    self.store.evict(aggregate_id)
                raise
            finally:
                self._running.loaded = None

    # Reading.

    def load(self, kind: type[A], aggregate_id: UUID, missing: str) -> A:
        """The aggregate of this kind, or NotFound with a message naming what is missing."""
        loaded: set[UUID] | None = getattr(self._running, "loaded", None)
        repository = self.store.repository
        try:
            if loaded is not None:
                aggregate: object = repository.get(aggregate_id, deepcopy_from_cache=False)
            else:
                # A query copies what it reads, and waits for a command of another
                # thread to finish: the cached aggregate it would copy is being changed
                # in place, and unsaved changes must never be seen.
                with self.writer:
                    self.store.catch_up()
                    aggregate = repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(missing) from None
        if loaded is not None:
            loaded.add(aggregate_id)
        if not isinstance(aggregate, kind):
            raise NotFound(missing)
        return aggregate

    def find(self, kind: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate of this kind, or None when there is none."""
        try:
            return self.load(kind, aggregate_id, "")
        except NotFound:
            return None

    def glance(self, kind: type[A], aggregate_id: UUID, read: Callable[[A], R]) -> R | None:
        """What `read` takes from the aggregate, or None when there is none.

        Cheaper than a query: nothing is copied, so `read` runs under the writer's lock
        and must return only values that cannot change with the aggregate.
        """
        with self.writer:
            if getattr(self._running, "loaded", None) is None:
                self.store.catch_up()
            try:
                aggregate: object = self.store.repository.get(
                    aggregate_id, deepcopy_from_cache=False
                )
            except AggregateNotFoundError:
                return None
            return read(aggregate) if isinstance(aggregate, kind) else None

    def exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.store.repository

    # Changing.

    def create(self, aggregate: A, exists: str) -> A:
        """Save a new aggregate, refusing if one with its id was already recorded."""
        if self.exists(aggregate.id):
            raise AlreadyExists(exists)
        try:
            self.save(aggregate)
        except IntegrityError:
            raise AlreadyExists(exists) from None
        return aggregate

    def change(self, load: Callable[[], A], command: Callable[[A], object]) -> A:
        """Load, apply the command, save; retry from a fresh load if another writer won."""
        for _ in range(CONFLICT_ATTEMPTS):
            aggregate = load()
            command(aggregate)
            try:
                self.save(aggregate)
            except IntegrityError:
                self.forget_loaded()
                continue
            return aggregate
        raise ConcurrentChange(
            f"{aggregate} changed {CONFLICT_ATTEMPTS} times while the command ran; "
            "send it again"
        )

    def save(self, *aggregates: Aggregate | None) -> list[Recording[UUID]]:
        """Record the aggregates' new events, and what the policies make of them, in one
        transaction; inside `atomically`, keep them for the block's transaction."""
        saved = [aggregate for aggregate in aggregates if aggregate is not None]
        if self.reactions is not None:
            saved.extend(self.reactions.react(saved, self))
        whole: ProcessingEvent[UUID] | None = getattr(self._running, "whole", None)
        saving = whole if whole is not None else ProcessingEvent()
        for aggregate in saved:
            saving.events.extend(aggregate.collect_events())
            saving.aggregates[aggregate.id] = aggregate
            if whole is not None:  # later commands of the block read it as saved
                self.store.repository.cache.put(aggregate.id, aggregate)  # type: ignore[union-attr]
                self._running.loaded.add(aggregate.id)
        return [] if whole is not None else self._record(saving)

    def forget_loaded(self) -> None:
        """Another writer won: what this command loaded is stale, load it afresh."""
        loaded: set[UUID] = getattr(self._running, "loaded", None) or set()
        for aggregate_id in loaded:
            self.store.evict(aggregate_id)
        loaded.clear()

    def _indexed_viewers(
        self, saving: ProcessingEvent[UUID]
    ) -> dict[ViewedRecord, frozenset[str]]:
        """Who the index says shows each record the save's audiences depend on: one
        read per tenant and kind, however many records an import saves."""
        wanted: dict[tuple[str, str], list[str]] = {}
        for aggregate in saving.aggregates.values():
            viewed = (
                viewed_by_audience(aggregate) if isinstance(aggregate, Aggregate) else None
            )
            if viewed is not None:
                wanted.setdefault(viewed[:2], []).append(viewed[2])
        return {
            (tenant, kind, record_id): agents
            for (tenant, kind), record_ids in wanted.items()
            for record_id, agents in self.store.indexes.select_viewers(
                tenant, kind, record_ids
            ).items()
        }

    def _record(self, saving: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Who each event concerns, decided now from the aggregates as saved."""
        shown: Shown = {}
        for aggregate in saving.aggregates.values():
            if isinstance(aggregate, Aggregate):
                shown.update(shown_by(aggregate))

        indexed = self._indexed_viewers(saving)

        def viewers(record: ViewedRecord) -> frozenset[str]:
            tenant, kind, record_id = record
            mine = {agent for (owner, agent) in shown if owner == tenant}
            showing = {
                agent
                for (owner, agent), records in shown.items()
                if owner == tenant and (kind, record_id) in records
            }
            return frozenset((indexed.get(record, frozenset()) - mine) | showing)

        audiences = {
            aggregate_id: audience_of(aggregate, viewers)
            for aggregate_id, aggregate in saving.aggregates.items()
            if isinstance(aggregate, Aggregate)
        }
        return self.store.record(
            saving,
            [audiences.get(event.originator_id) for event in saving.events],
            shown,
            feed_entries(saving.aggregates.values()),
        )


def writes(
    method: Callable[Concatenate[S, P], R],
) -> Callable[Concatenate[S, P], R]:
    """Marks a use case that changes things: it runs alone, in UnitOfWork.writing."""

    @functools.wraps(method)
    def run(service: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with service.work.writing():
            return method(service, *args, **kwargs)

    return run


class Service:
    """A capability's use cases, on the shared unit of work; never another's subclass."""

    def __init__(self, work: UnitOfWork) -> None:
        self.work = work
