"""A record's and the replica's sync status, derived from the facts the tables keep:
checked rule by rule, and as a machine of what a person and the server do."""

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
)

from calldesk.domain.errors import InvalidValue
from calldesk.domain.replica_runs import RunProgress, SyncStage
from calldesk.domain.replica_status import (
    RecordFacts,
    RecordState,
    RecordStatus,
    ReplicaFacts,
    ReplicaState,
    StatusCounts,
    record_status,
    replica_status,
    tally,
)

NOW = datetime(2026, 12, 4, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("facts", "state", "message"),
    [
        (RecordFacts(), RecordState.SYNCED, None),
        (RecordFacts(edited=True), RecordState.PENDING_EDIT, None),
        (RecordFacts(created=True), RecordState.PENDING_CREATE, None),
        (
            RecordFacts(created=True, waits_for=("~1a",)),
            RecordState.PENDING_CREATE,
            "waits for ~1a",
        ),
        (RecordFacts(edited=True, deleted=True), RecordState.PENDING_DELETE, None),
        (
            RecordFacts(edited=True, error="field email: is an email address"),
            RecordState.ERROR,
            "field email: is an email address",
        ),
        (
            RecordFacts(edited=True, conflicts=("title", "email"), error="refused"),
            RecordState.CONFLICT,
            "changed here and on the server: title, email",
        ),
    ],
)
def test_a_record_shows_its_most_pressing_fact(facts, state, message):
    assert record_status(facts) == RecordStatus(state, message)


def test_every_state_has_a_label_and_a_symbol_not_only_a_colour():
    for states in (RecordState, ReplicaState):
        assert len({state.label for state in states}) == len(states)
        assert len({state.symbol for state in states}) == len(states)


def test_facts_the_tables_cannot_hold_are_refused():
    with pytest.raises(InvalidValue, match="keeps the server's message"):
        RecordFacts(error=" ")
    with pytest.raises(InvalidValue, match="only a record waiting to be created"):
        RecordFacts(waits_for=("~1a",))
    with pytest.raises(InvalidValue, match="never below 0"):
        StatusCounts(pending=-1)
    with pytest.raises(InvalidValue, match="when, and only when, changes wait"):
        ReplicaFacts(online=True, counts=StatusCounts(pending=1))
    with pytest.raises(InvalidValue, match="it is online"):
        ReplicaFacts(online=False, run=RunProgress(SyncStage.PULL))


def test_the_counts_are_tallied_from_the_records():
    statuses = [
        record_status(facts)
        for facts in (
            RecordFacts(),
            RecordFacts(edited=True),
            RecordFacts(created=True),
            RecordFacts(conflicts=("title",)),
            RecordFacts(error="refused"),
            RecordFacts(deleted=True),
        )
    ]
    assert tally(statuses) == StatusCounts(conflicts=1, errors=1, pending=3)


def facts(**kwargs):
    counts = kwargs.pop("counts", StatusCounts())
    since = NOW - timedelta(hours=2) if counts.pending else None
    return ReplicaFacts(counts=counts, oldest_pending_since=since, **kwargs)


@pytest.mark.parametrize(
    ("given", "state", "message"),
    [
        (facts(online=True), ReplicaState.UP_TO_DATE, None),
        (facts(online=False), ReplicaState.OFFLINE, None),
        (
            facts(online=True, counts=StatusCounts(pending=2)),
            ReplicaState.PENDING,
            None,
        ),
        (
            facts(online=False, counts=StatusCounts(pending=1)),
            ReplicaState.OFFLINE,
            "1 change waiting",
        ),
        (
            facts(online=True, run=RunProgress(SyncStage.CREATES, 2, 3, 10)),
            ReplicaState.SYNCING,
            "Sending new records",
        ),
        (
            facts(online=True, counts=StatusCounts(conflicts=1, errors=2, pending=3)),
            ReplicaState.NEEDS_ATTENTION,
            "1 conflict, 2 errors; 3 changes waiting",
        ),
        (
            facts(online=True, run_error="the server sent a page with duplicate ids"),
            ReplicaState.ERROR,
            "the server sent a page with duplicate ids",
        ),
    ],
)
def test_the_replica_shows_its_most_pressing_state(given, state, message):
    status = replica_status(given, NOW)
    assert (status.state, status.message) == (state, message)


def test_the_oldest_pending_change_has_an_age_and_the_last_sync_a_time():
    since, last = NOW - timedelta(hours=2), NOW - timedelta(days=1)
    given = ReplicaFacts(
        online=False,
        counts=StatusCounts(pending=4),
        oldest_pending_since=since,
        last_success=last,
    )
    status = replica_status(given, NOW)
    assert status.oldest_pending_age == timedelta(hours=2)
    assert status.last_success == last
    assert replica_status(facts(online=True), NOW).oldest_pending_age is None


def test_a_device_clock_behind_the_change_shows_no_negative_age():
    given = ReplicaFacts(
        online=True, counts=StatusCounts(pending=1), oldest_pending_since=NOW
    )
    assert replica_status(given, NOW - timedelta(minutes=5)).oldest_pending_age == (
        timedelta(0)
    )


@attrs.define
class Row:
    """A record's facts as the device's tables would hold them."""

    created: bool = False
    create_sent: bool = False
    edited: bool = False
    deleted: bool = False
    conflicts: tuple[str, ...] = ()
    error: str | None = None
    since: datetime | None = None  # when its oldest unsent change was made

    def facts(self) -> RecordFacts:
        return RecordFacts(
            self.created, self.edited, self.deleted, self.conflicts, self.error
        )


class DeviceRecords(RuleBasedStateMachine):
    """A person creating, editing and deleting records on a device while syncs send
    them and the server answers; what the person was told (`told`) must always be what
    the status derived from the tables says."""

    records = Bundle("records")

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[int, Row] = {}
        self.told: dict[int, RecordState] = {}
        self.clock = NOW
        self.online = True
        self.run: RunProgress | None = None
        self.run_error: str | None = None
        self.next_id = 0

    def tick(self) -> datetime:
        self.clock += timedelta(minutes=1)
        return self.clock

    def fresh(self) -> int:
        self.next_id += 1
        return self.next_id

    @rule(target=records)
    def pulled(self) -> int:
        record = self.fresh()
        self.rows[record], self.told[record] = Row(), RecordState.SYNCED
        return record

    @rule(target=records)
    def created(self) -> int:
        record = self.fresh()
        self.rows[record] = Row(created=True, since=self.tick())
        self.told[record] = RecordState.PENDING_CREATE
        return record

    @rule(record=records)
    def edited(self, record: int) -> None:
        row = self.rows.get(record)
        if row is None or row.deleted:
            return
        if not (row.created or row.edited):
            row.edited, row.since = True, self.tick()
        row.error = None  # an edit is the person's retry of a refused change
        self.told[record] = (
            RecordState.CONFLICT
            if row.conflicts
            else RecordState.PENDING_CREATE
            if row.created
            else RecordState.PENDING_EDIT
        )

    @rule(record=consumes(records))
    def deleted(self, record: int) -> None:
        row = self.rows.get(record)
        if row is None:
            return
        if row.created and not row.create_sent:  # cancelled: nothing is sent
            del self.rows[record], self.told[record]
            return
        row.deleted, row.conflicts, row.error = True, (), None
        row.since = row.since or self.tick()
        self.told[record] = RecordState.PENDING_DELETE

    @precondition(lambda self: self.online)
    @rule(record=records, answer=st.sampled_from(["applied", "refused", "conflict"]))
    def sent(self, record: int, answer: str) -> None:
        row = self.rows.get(record)
        if row is None or not (row.created or row.edited or row.deleted) or row.error:
            return
        if row.created:
            row.create_sent = True
        if answer == "applied":
            if row.deleted:
                del self.rows[record], self.told[record]
                return
            self.rows[record], self.told[record] = Row(), RecordState.SYNCED
        elif answer == "refused":
            row.error = "field email: is an email address like ada@example.com"
            self.told[record] = RecordState.CONFLICT if row.conflicts else RecordState.ERROR
        elif not row.created:  # a new record has nothing on the server to clash with
            row.conflicts = ("title",)
            self.told[record] = RecordState.CONFLICT

    @rule(record=records)
    def resolved(self, record: int) -> None:
        row = self.rows.get(record)
        if row is None or not row.conflicts:
            return
        row.conflicts = ()
        self.told[record] = RecordState.ERROR if row.error else RecordState.PENDING_EDIT

    @rule(record=consumes(records))
    def deleted_on_the_server(self, record: int) -> None:
        row = self.rows.get(record)
        if row is not None and not (row.created and not row.create_sent):
            del self.rows[record], self.told[record]

    @rule()
    def network_changed(self) -> None:
        self.online = not self.online
        if not self.online:
            self.run = None

    @precondition(lambda self: self.online)
    @rule(stage=st.sampled_from(SyncStage), failed=st.booleans())
    def sync_ran(self, stage: SyncStage, failed: bool) -> None:
        if self.run is None:
            self.run = RunProgress(stage)
        else:
            self.run = None
            self.run_error = "the session could not be renewed" if failed else None

    @invariant()
    def every_record_shows_what_the_person_was_told(self) -> None:
        for record, row in self.rows.items():
            assert record_status(row.facts()).state is self.told[record]

    @invariant()
    def the_replica_shows_its_most_pressing_state(self) -> None:
        counts = tally(record_status(row.facts()) for row in self.rows.values())
        told = list(self.told.values())
        assert counts.conflicts == told.count(RecordState.CONFLICT)
        assert counts.errors == told.count(RecordState.ERROR)
        waiting = [
            row.since
            for row in self.rows.values()
            if record_status(row.facts()).state.pending and row.since is not None
        ]
        assert counts.pending == len(waiting)
        status = replica_status(
            ReplicaFacts(
                self.online,
                counts,
                self.run,
                self.run_error,
                min(waiting, default=None),
                None,
            ),
            self.clock,
        )
        if self.run is not None:
            assert status.state is ReplicaState.SYNCING
        elif self.run_error is not None:
            assert status.state is ReplicaState.ERROR
        elif RecordState.CONFLICT in told or RecordState.ERROR in told:
            assert status.state is ReplicaState.NEEDS_ATTENTION
        elif not self.online:
            assert status.state is ReplicaState.OFFLINE
        else:
            assert status.state is (
                ReplicaState.PENDING if waiting else ReplicaState.UP_TO_DATE
            )
        assert (status.oldest_pending_age is None) == (not waiting)


TestDeviceRecords = DeviceRecords.TestCase
