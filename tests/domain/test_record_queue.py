"""The RecordQueue aggregate's rules, one example each, then a model it must agree with."""

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

import pytest
from eventsourcing.domain import CanMutateAggregate
from hypothesis import given
from hypothesis import strategies as st
from support.aggregate_store import aggregate_store

from calldesk.domain.errors import DomainError, InvalidValue
from calldesk.domain.record_queue import (
    MAX_QUEUE_RECORDS,
    QueueTooLong,
    RecordQueue,
    RecordQueuedTwice,
    RecordQueueView,
)
from calldesk.domain.records import RecordKind, RecordRef

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FIRE = RecordRef(RecordKind.CASE, "020", "Printer on fire")
REFUND = RecordRef(RecordKind.CASE, "021", "Refund")
LOGIN = RecordRef(RecordKind.CASE, "022", "Cannot log in")
ELSEWHERE = RecordRef(RecordKind.CASE, "099", "Found by search")


def started() -> RecordQueue:
    queue = RecordQueue.start("acme", "a-17", START)
    queue.collect_events()
    return queue


def assigned(*records: RecordRef) -> RecordQueue:
    queue = started()
    queue.assign(records, START)
    queue.collect_events()
    return queue


def recorded_by(
    queue: RecordQueue, step: Callable[[], object]
) -> list[CanMutateAggregate[UUID]]:
    """What this step alone recorded."""
    queue.collect_events()
    step()
    return list(queue.collect_events())


def case(number: int) -> RecordRef:
    return RecordRef(RecordKind.CASE, f"{number:03}", f"Case {number}")


def test_the_same_tenant_and_agent_always_give_the_same_queue_id() -> None:
    assert started().id == RecordQueue.create_id("acme", "a-17")
    assert RecordQueue.create_id("other", "a-17") != started().id


def test_a_new_queue_is_empty_with_no_current_record() -> None:
    assert started().view() == RecordQueueView("acme", "a-17", (), None)


def test_an_assignment_lines_up_the_records_and_the_first_is_current() -> None:
    queue = started()
    [event] = recorded_by(queue, lambda: queue.assign([FIRE, REFUND, LOGIN], START))
    assert isinstance(event, RecordQueue.QueueAssigned)
    assert queue.view() == RecordQueueView("acme", "a-17", (FIRE, REFUND, LOGIN), FIRE)


def test_publish_and_next_takes_the_record_out_and_opens_the_one_after_it() -> None:
    queue = assigned(FIRE, REFUND, LOGIN)
    [event] = recorded_by(queue, lambda: queue.advance(FIRE, START))
    assert isinstance(event, RecordQueue.QueueAdvanced)
    assert (event.from_record, event.to_record) == (FIRE, REFUND)
    assert (queue.records, queue.current) == ([REFUND, LOGIN], REFUND)


def test_advancing_from_the_last_record_wraps_to_the_first_remaining() -> None:
    queue = assigned(FIRE, REFUND, LOGIN)
    assert queue.advance(LOGIN, START) == FIRE
    assert (queue.records, queue.current) == ([FIRE, REFUND], FIRE)


def test_a_record_published_out_of_turn_moves_the_agent_to_the_one_after_it() -> None:
    queue = assigned(FIRE, REFUND, LOGIN)
    assert queue.advance(REFUND, START) == LOGIN
    assert (queue.records, queue.current) == ([FIRE, LOGIN], LOGIN)


def test_the_last_record_done_empties_the_queue_and_nothing_comes_next() -> None:
    queue = assigned(FIRE)
    [event] = recorded_by(queue, lambda: queue.advance(FIRE, START))
    assert isinstance(event, RecordQueue.QueueAdvanced)
    assert event.to_record is None
    assert queue.view() == RecordQueueView("acme", "a-17", (), None)


def test_advancing_an_empty_queue_returns_none_and_records_nothing() -> None:
    queue = started()
    assert recorded_by(queue, lambda: queue.advance(FIRE, START)) == []
    assert queue.advance(FIRE, START) is None


def test_a_retried_publish_and_next_records_nothing_and_lands_on_the_same_record() -> None:
    queue = assigned(FIRE, REFUND, LOGIN)
    first = queue.advance(FIRE, START)
    assert recorded_by(queue, lambda: queue.advance(FIRE, START)) == []
    assert queue.advance(FIRE, START) == first == REFUND
    assert queue.records == [REFUND, LOGIN]


def test_a_record_outside_the_queue_returns_the_current_record_and_moves_nothing() -> None:
    queue = assigned(FIRE, REFUND)
    queue.advance(REFUND, START)
    assert recorded_by(queue, lambda: queue.advance(ELSEWHERE, START)) == []
    assert queue.advance(ELSEWHERE, START) == FIRE
    assert (queue.records, queue.current) == ([FIRE], FIRE)


def test_a_record_is_its_kind_and_id_whatever_its_title_says_now() -> None:
    queue = assigned(FIRE, REFUND)
    renamed = RecordRef(RecordKind.CASE, "020", "Printer was on fire")
    assert queue.advance(renamed, START) == REFUND
    assert queue.records == [REFUND]
    same_id_other_kind = RecordRef(RecordKind.ACCOUNT, "021", "Refund Ltd")
    assert recorded_by(queue, lambda: queue.advance(same_id_other_kind, START)) == []


def test_an_identical_assignment_records_nothing() -> None:
    queue = assigned(FIRE, REFUND)
    assert recorded_by(queue, lambda: queue.assign((FIRE, REFUND), START)) == []


def test_a_new_assignment_replaces_the_queue_and_keeps_the_current_record_if_listed() -> (
    None
):
    queue = assigned(FIRE, REFUND, LOGIN)
    queue.advance(FIRE, START)
    renamed = RecordRef(RecordKind.CASE, "021", "Refund, urgent")
    queue.assign([LOGIN, renamed, FIRE], START)
    assert queue.view() == RecordQueueView("acme", "a-17", (LOGIN, renamed, FIRE), renamed)


def test_a_new_assignment_without_the_current_record_starts_at_its_first() -> None:
    queue = assigned(FIRE, REFUND)
    queue.assign([LOGIN, REFUND], START)
    assert queue.current == LOGIN


def test_an_empty_assignment_clears_the_queue() -> None:
    queue = assigned(FIRE, REFUND)
    queue.assign([], START)
    assert (queue.records, queue.current) == ([], None)


def test_a_record_listed_twice_is_refused_with_both_positions() -> None:
    queue = assigned(FIRE)
    twice = RecordRef(RecordKind.CASE, "020", "Another title")
    with pytest.raises(RecordQueuedTwice) as refused:
        recorded_by(queue, lambda: queue.assign([FIRE, REFUND, twice], START))
    assert isinstance(refused.value, InvalidValue)
    assert str(refused.value) == (
        "case 020 (Another title) is listed at positions 1 and 3 of the queue for the "
        "record queue of agent a-17; list each record once"
    )
    assert queue.records == [FIRE]


def test_more_than_500_records_are_refused_whole_and_500_are_taken() -> None:
    queue = started()
    too_many = [case(n) for n in range(MAX_QUEUE_RECORDS + 1)]
    with pytest.raises(QueueTooLong, match="at most 500 records, not 501; assign the rest"):
        queue.assign(too_many, START)
    assert queue.collect_events() == []
    queue.assign(too_many[:MAX_QUEUE_RECORDS], START)
    assert len(queue.records) == MAX_QUEUE_RECORDS


@pytest.mark.parametrize(
    ("tenant", "agent"), [("Acme", "a-17"), ("acme", ""), ("acme", "a 17")]
)
def test_a_queue_for_a_bad_tenant_or_agent_name_is_refused(tenant: str, agent: str) -> None:
    with pytest.raises(DomainError):
        RecordQueue.start(tenant, agent, START)


# Random work against a plain list, then the same queue read back from its events.

POOL = [case(n) for n in range(6)]
assignments = st.lists(st.sampled_from(POOL), unique=True, max_size=len(POOL))
steps = st.lists(
    st.one_of(
        st.tuples(st.just("assign"), assignments),
        st.tuples(st.just("advance"), st.sampled_from(POOL)),
        st.tuples(st.just("retry"), st.none()),
    ),
    max_size=30,
)


class QueueModel:
    """The rules told plainly: a list and the record the agent is on."""

    def __init__(self) -> None:
        self.records: list[RecordRef] = []
        self.current: RecordRef | None = None

    def assign(self, records: list[RecordRef]) -> bool:
        if records == self.records:
            return False
        if self.current not in records:
            self.current = records[0] if records else None
        self.records = list(records)
        return True

    def advance(self, done: RecordRef) -> tuple[RecordRef | None, bool]:
        if done not in self.records:
            return self.current, False
        place = self.records.index(done)
        del self.records[place]
        if place < len(self.records):
            self.current = self.records[place]
        else:
            self.current = self.records[0] if self.records else None
        return self.current, True


@given(steps)
def test_the_queue_follows_a_plain_list_and_replays_equal(
    plan: list[tuple[str, list[RecordRef] | RecordRef | None]],
) -> None:
    queue = RecordQueue.start("acme", "a-17", START)
    model = QueueModel()
    store = aggregate_store()
    last_done: RecordRef | None = None
    for kind, argument in plan:
        before = len(queue.pending_events)
        if kind == "assign":
            assert isinstance(argument, list)
            queue.assign(argument, START)
            moved = model.assign(argument)
        else:
            if kind == "advance":
                assert isinstance(argument, RecordRef)
                last_done = argument
            if last_done is None:
                continue
            expected, moved = model.advance(last_done)
            assert queue.advance(last_done, START) == expected
        assert len(queue.pending_events) - before == int(moved)
        assert (queue.records, queue.current) == (model.records, model.current)
        assert queue.current is None or queue.current in queue.records
    store.save(queue)
    assert vars(store.repository.get(queue.id)) == vars(queue)
    store.take_snapshot(queue.id)
    assert vars(store.repository.get(queue.id)) == vars(queue)
