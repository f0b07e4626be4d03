"""A CRM record's versions and merges against the reference model (support.record_model),
the record alone: no store."""

from datetime import UTC, datetime, timedelta

import pytest
from eventsourcing.domain import CanMutateAggregate
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from support.record_model import Conflicted, Gone, ReferenceRecord, Values

from calldesk.domain.crm_records import Author, CrmRecord, DeleteConflict, EditConflict
from calldesk.domain.errors import InvalidValue, Refused
from calldesk.domain.records import RecordKind

START = datetime(2026, 12, 3, 9, tzinfo=UTC)
FIELDS = ("last_name", "first_name", "title", "email")
VALUES = st.sampled_from(["A", "B", "C", None])
PEOPLE = st.sampled_from(
    [Author("agent", "a-17"), Author.of_device("a-17", "tablet-1"), Author("import", "csv")]
)


def new_record(values: Values) -> CrmRecord:
    return CrmRecord.create(
        "acme",
        RecordKind.CONTACT,
        "003-ada",
        values,
        "op-1",
        Author("agent", "a-17"),
        START,
    )


class RecordVersions(RuleBasedStateMachine):
    """Changes and deletes made from any version, as devices offline for a while do."""

    def __init__(self) -> None:
        super().__init__()
        self.model = ReferenceRecord.created({"last_name": "A"})
        self.record = new_record({"last_name": "A"})
        self.clock = START

    def tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    @rule(
        data=st.data(),
        proposed=st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=3),
        by=PEOPLE,
    )
    def change(self, data: st.DataObject, proposed: Values, by: Author) -> None:
        base = data.draw(st.integers(1, self.model.version), label="base")
        base_values = self.model.values_at(base)
        expected = self.model.change(base, proposed)
        if isinstance(expected, Gone):
            with pytest.raises(Refused, match="is deleted; restore it first"):
                self.record.change(base, base_values, proposed, by, self.tick())
        elif isinstance(expected, Conflicted):
            with pytest.raises(EditConflict) as refused:
                self.record.change(base, base_values, proposed, by, self.tick())
            assert refused.value.conflicts == expected.conflicts
        else:
            changes = self.record.change(base, base_values, proposed, by, self.tick())
            assert {c.field: c.new for c in changes} == expected.fields
            if changes:
                assert self.record.modified_by == by

    @rule(data=st.data(), by=PEOPLE)
    def delete(self, data: st.DataObject, by: Author) -> None:
        base = data.draw(st.integers(1, self.model.version), label="base")
        base_values = self.model.values_at(base)
        expected = self.model.delete(base)
        if isinstance(expected, Gone):
            assert not self.record.delete(base, base_values, by, self.tick())
        elif expected:
            with pytest.raises(DeleteConflict) as refused:
                self.record.delete(base, base_values, by, self.tick())
            assert refused.value.changed == expected
        else:
            assert self.record.delete(base, base_values, by, self.tick())

    @rule(by=PEOPLE)
    def restore(self, by: Author) -> None:
        assert self.record.restore(by, self.tick()) == self.model.restore()

    @precondition(lambda self: not self.model.deleted)
    @rule(ahead=st.integers(1, 3))
    def a_base_from_the_future_is_refused(self, ahead: int) -> None:
        with pytest.raises(InvalidValue, match="versions start at 1 and only grow"):
            self.record.change(
                self.model.version + ahead,
                {},
                {"title": "X"},
                Author("agent", "a-17"),
                START,
            )

    @invariant()
    def the_record_is_the_models_last_version(self) -> None:
        assert (self.record.version, self.record.values, self.record.deleted) == (
            self.model.version,
            self.model.values,
            self.model.deleted,
        )
        stamp = self.record.modified_on.isoformat().replace("+00:00", "Z")
        assert self.record.shown["last_modified"] == stamp

    def teardown(self) -> None:
        """The record's events alone rebuild it: what a replay sees."""
        replayed = None
        for recorded in self.record.collect_events():
            assert isinstance(recorded, CanMutateAggregate)
            replayed = recorded.mutate(replayed)
        assert isinstance(replayed, CrmRecord)
        assert (replayed.version, replayed.values, replayed.deleted) == (
            self.record.version,
            self.record.values,
            self.record.deleted,
        )


TestRecordVersions = RecordVersions.TestCase


def test_a_change_to_other_fields_since_the_base_merges() -> None:
    record = new_record({"last_name": "Lovelace"})
    by = Author("agent", "a-17")
    record.change(1, {"last_name": "Lovelace"}, {"title": "Countess"}, by, START)
    changes = record.change(
        1, {"last_name": "Lovelace"}, {"email": "ada@ae.org"}, by, START
    )
    assert [c.field for c in changes] == ["email"]
    assert record.values == {
        "last_name": "Lovelace",
        "title": "Countess",
        "email": "ada@ae.org",
    }
    assert record.version == 3


def test_the_server_computes_a_persons_full_name_and_the_records_stamps() -> None:
    record = new_record({"first_name": "Ada", "last_name": "Lovelace"})
    later = START + timedelta(minutes=5)
    tablet = Author.of_device("a-17", "t-1")
    record.change(1, record.values, {"first_name": None}, tablet, later)
    assert record.shown["full_name"] == "Lovelace"
    assert record.shown["created_at"] == "2026-12-03T09:00:00Z"
    assert record.shown["last_modified"] == "2026-12-03T09:05:00Z"
    assert record.ref.title == "Lovelace"


def test_an_author_is_an_agent_a_device_or_an_import() -> None:
    with pytest.raises(InvalidValue, match="an author is one of agent, device, import"):
        Author("robot", "r2")


def test_a_device_author_is_named_by_its_agent_and_itself() -> None:
    assert Author.of_device("a-17", "laptop-3") == Author("device", "a-17/laptop-3")
    with pytest.raises(InvalidValue, match="like a-17/laptop-3, not 'laptop-3'"):
        Author("device", "laptop-3")
    with pytest.raises(InvalidValue, match="a device name 'Laptop 3' may hold only"):
        Author.of_device("a-17", "Laptop 3")
    with pytest.raises(InvalidValue, match="an author 'a-17/laptop-3' may hold only"):
        Author("agent", "a-17/laptop-3")
