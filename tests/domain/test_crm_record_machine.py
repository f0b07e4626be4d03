"""A CRM record's versions and merges against a reference model: the record's history
as a list of its values, and the three-way merge written out plainly."""

from datetime import UTC, datetime, timedelta

import pytest
from eventsourcing.domain import CanMutateAggregate
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from calldesk.domain.crm_records import (
    Author,
    CrmRecord,
    DeleteConflict,
    EditConflict,
    FieldConflict,
)
from calldesk.domain.errors import InvalidValue, Refused
from calldesk.domain.record_fields import FieldValue
from calldesk.domain.records import RecordKind

START = datetime(2026, 12, 3, 9, tzinfo=UTC)
FIELDS = ("last_name", "first_name", "title", "email")
VALUES = st.sampled_from(["A", "B", "C", None])
PEOPLE = st.sampled_from(
    [Author("agent", "a-17"), Author("device", "tablet-1"), Author("import", "csv")]
)
Values = dict[str, FieldValue]


def new_record(values: Values) -> CrmRecord:
    return CrmRecord.create(
        "acme", RecordKind.CONTACT, "003-ada", values, Author("agent", "a-17"), START
    )


class RecordVersions(RuleBasedStateMachine):
    """Changes and deletes made from any version, as devices offline for a while do."""

    def __init__(self) -> None:
        super().__init__()
        self.history: list[tuple[Values, bool]] = [({"last_name": "A"}, False)]
        self.record = new_record({"last_name": "A"})
        self.clock = START

    @property
    def version(self) -> int:
        return len(self.history)

    def at(self, version: int) -> tuple[Values, bool]:
        return self.history[version - 1]

    def tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    @rule(
        data=st.data(),
        proposed=st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=3),
        by=PEOPLE,
    )
    def change(self, data: st.DataObject, proposed: Values, by: Author) -> None:
        base = data.draw(st.integers(1, self.version), label="base")
        base_values, _ = self.at(base)
        current, deleted = self.at(self.version)
        if deleted:
            with pytest.raises(Refused, match="is deleted; restore it first"):
                self.record.change(base, base_values, proposed, by, self.tick())
            return
        differing = {f: v for f, v in proposed.items() if current.get(f) != v}
        clashing = [f for f in differing if base_values.get(f) != current.get(f)]
        if clashing:
            with pytest.raises(EditConflict) as refused:
                self.record.change(base, base_values, proposed, by, self.tick())
            assert refused.value.conflicts == tuple(
                FieldConflict(f, base_values.get(f), current.get(f), differing[f])
                for f in clashing
            )
            return
        changes = self.record.change(base, base_values, proposed, by, self.tick())
        assert {c.field: c.new for c in changes} == differing
        if differing:
            merged = {**current, **differing}
            self.history.append(({f: v for f, v in merged.items() if v is not None}, False))
            assert self.record.modified_by == by

    @rule(data=st.data(), by=PEOPLE)
    def delete(self, data: st.DataObject, by: Author) -> None:
        base = data.draw(st.integers(1, self.version), label="base")
        base_values, _ = self.at(base)
        current, deleted = self.at(self.version)
        if deleted:
            assert not self.record.delete(base, base_values, by, self.tick())
            return
        changed = sorted(
            f for f in {*base_values, *current} if base_values.get(f) != current.get(f)
        )
        if changed:
            with pytest.raises(DeleteConflict) as refused:
                self.record.delete(base, base_values, by, self.tick())
            assert list(refused.value.changed) == changed
            return
        assert self.record.delete(base, base_values, by, self.tick())
        self.history.append((current, True))

    @rule(by=PEOPLE)
    def restore(self, by: Author) -> None:
        current, deleted = self.at(self.version)
        assert self.record.restore(by, self.tick()) == deleted
        if deleted:
            self.history.append((current, False))

    @precondition(lambda self: not self.at(self.version)[1])
    @rule(ahead=st.integers(1, 3))
    def a_base_from_the_future_is_refused(self, ahead: int) -> None:
        with pytest.raises(InvalidValue, match="versions start at 1 and only grow"):
            self.record.change(
                self.version + ahead, {}, {"title": "X"}, Author("agent", "a-17"), START
            )

    @invariant()
    def the_record_is_the_models_last_version(self) -> None:
        values, deleted = self.at(self.version)
        assert (self.record.version, self.record.values) == (self.version, values)
        assert self.record.deleted == deleted
        assert self.record.shown[
            "last_modified"
        ] == self.record.modified_on.isoformat().replace("+00:00", "Z")

    def teardown(self) -> None:
        """The record's events alone rebuild it: what a replay sees."""
        events = self.record.collect_events()
        replayed = None
        for recorded in events:
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
    record.change(1, record.values, {"first_name": None}, Author("device", "t-1"), later)
    assert record.shown["full_name"] == "Lovelace"
    assert record.shown["created_at"] == "2026-12-03T09:00:00Z"
    assert record.shown["last_modified"] == "2026-12-03T09:05:00Z"
    assert record.ref.title == "Lovelace"


def test_an_author_is_an_agent_a_device_or_an_import() -> None:
    with pytest.raises(InvalidValue, match="an author is one of agent, device, import"):
        Author("robot", "r2")
