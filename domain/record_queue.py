"""One agent's record queue: the records an administrator lined up, worked one by one.

"Publish and next" (seed-002 §3.7, ADR/0012) publishes the drafts of a record and moves
the agent on: the record leaves the queue and the next one opens. An administrator
assigns the queue whole; the agent only works through it. A record is its kind and id
(workspace_tabs.same_record): a title changed in the CRM is the same record.
"""

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import attrs
from eventsourcing.domain import Aggregate, event

from calldesk.domain.errors import InvalidValue, Refused
from calldesk.domain.identity import checked_slug, stable_id
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.domain.workspace_tabs import same_record

#: The most records one assignment holds, as many as one feed batch publishes.
MAX_QUEUE_RECORDS = 500


class QueueTooLong(Refused):
    """Past MAX_QUEUE_RECORDS an assignment is refused whole: assign the rest later."""


class RecordQueuedTwice(InvalidValue):
    """A record is worked once, so it is listed once."""


@attrs.frozen(slots=False)
class RecordQueueView:
    """What the agent's console shows of the queue, as plain values."""

    tenant: str
    agent: str
    records: tuple[RecordRef, ...]
    current: RecordRef | None


def _described(record: RecordRef) -> str:
    return f"{record.kind.value} {record.record_id} ({record.title})"


def _place(records: Sequence[RecordRef], record: RecordRef) -> int | None:
    return next(
        (i for i, queued in enumerate(records) if same_record(queued, record)), None
    )


class RecordQueue(Aggregate):
    """The records one agent of a tenant works next, in the order they were assigned.

    The current record is in the queue while there is any: the first after an
    assignment, then the one each "publish and next" moves to.
    """

    TOPIC = "calldesk.recordqueue.RecordQueue"

    class Event(Aggregate.Event):
        TOPIC = "calldesk.recordqueue.Event"

    @staticmethod
    def create_id(tenant: str, agent: str) -> UUID:
        return stable_id("record-queue", tenant, agent)

    @classmethod
    def start(cls, tenant: str, agent: str, at: datetime) -> "RecordQueue":
        """An empty queue, until an administrator assigns one."""
        return cls(
            tenant=checked_slug(tenant, "a tenant"),
            agent=checked_slug(agent, "an agent handle"),
            timestamp=at,
        )

    @event("Started", topic="calldesk.recordqueue.Started")
    def __init__(self, tenant: str, agent: str, timestamp: datetime) -> None:
        self.tenant = tenant
        self.agent = agent
        # A list, not a tuple: JSON has no tuple, and a snapshot must restore it equal.
        self.records: list[RecordRef] = []
        self._current: RecordRef | None = None

    def __str__(self) -> str:
        return f"the record queue of agent {self.agent}"

    @property
    def current(self) -> RecordRef | None:
        """The record the agent works on now; None only when the queue is empty."""
        return self._current

    def view(self) -> RecordQueueView:
        return RecordQueueView(
            tenant=self.tenant,
            agent=self.agent,
            records=tuple(self.records),
            current=self._current,
        )

    # Commands: each checks its rule, then records events or nothing at all.

    def assign(self, records: Sequence[RecordRef], at: datetime) -> None:
        """Replace the whole queue; an empty assignment clears it.

        The current record stays current when the new queue still holds it, so an
        administrator reordering the queue does not pull the agent off their work;
        otherwise the first record becomes current.
        """
        if len(records) > MAX_QUEUE_RECORDS:
            raise QueueTooLong(
                f"a queue holds at most {MAX_QUEUE_RECORDS} records, not {len(records)}; "
                "assign the rest once the agent has worked through these"
            )
        first_places: dict[tuple[RecordKind, str], int] = {}
        for position, record in enumerate(records, start=1):
            first = first_places.setdefault((record.kind, record.record_id), position)
            if first != position:
                raise RecordQueuedTwice(
                    f"{_described(record)} is listed at positions {first} and "
                    f"{position} of the queue for {self}; list each record once"
                )
        if list(records) == self.records:
            return
        self._queue_assigned(
            records=list(records), current=self._current_in(records), timestamp=at
        )

    def advance(self, from_record: RecordRef, at: datetime) -> RecordRef | None:
        """The agent finished `from_record` ("Publish and next"): it leaves the queue,
        and the record after it, else the first remaining, becomes current and is
        returned.

        None when the queue is empty, or becomes empty as `from_record` leaves it: the
        agent has no next record, and nothing else happens; calldesk neither refuses
        nor finds them other work (seed-002 §3.7 leaves the empty queue open).

        A record that is not in the queue moves nothing and returns the current record:
        either a retried "publish and next" whose first try already took the record
        out, and which so lands where the first try did, or a record the agent
        published outside the queue (found by search, say), which leaves their place
        in the queue as it was.
        """
        place = _place(self.records, from_record)
        if place is None:
            return self._current
        remaining = self.records[:place] + self.records[place + 1 :]
        onwards = remaining[place:] + remaining[:place]
        to_record = onwards[0] if onwards else None
        self._queue_advanced(
            from_record=self.records[place], to_record=to_record, timestamp=at
        )
        return to_record

    def _current_in(self, records: Sequence[RecordRef]) -> RecordRef | None:
        """The current record, as the new queue lists it, else the new first record."""
        kept = None if self._current is None else _place(records, self._current)
        if kept is not None:
            return records[kept]
        return records[0] if records else None

    # Events: each body only changes state, and runs again on every replay.

    @event("QueueAssigned", topic="calldesk.recordqueue.QueueAssigned")
    def _queue_assigned(
        self, records: list[RecordRef], current: RecordRef | None, timestamp: datetime
    ) -> None:
        self.records = list(records)
        self._current = current

    @event("QueueAdvanced", topic="calldesk.recordqueue.QueueAdvanced")
    def _queue_advanced(
        self, from_record: RecordRef, to_record: RecordRef | None, timestamp: datetime
    ) -> None:
        self.records = [r for r in self.records if not same_record(r, from_record)]
        self._current = to_record
