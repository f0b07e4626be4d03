"""A tenant's change feed through the application, on SQLite and PostgreSQL: pages of
record upserts, tombstones and schema changes in log order, read by a client that keeps
a replica, while the records keep changing."""

from itertools import count

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    precondition,
    rule,
    run_state_machine_as_test,
)
from support.clock import Clock
from support.desk_driver import tenant_with_agent

from calldesk.apps.change_feed import ChangePage, RecordChange, SchemaChange
from calldesk.apps.desk import Desk
from calldesk.apps.records import AddField, ChangeRecord, CreateRecord, DeleteRecord
from calldesk.domain.crm_records import Author
from calldesk.domain.errors import InvalidValue, NotFound
from calldesk.domain.record_fields import FieldDefinition, FieldType, FieldValue
from calldesk.domain.records import RecordKind

ADA = Author("agent", "a-17")
CONTACT = RecordKind.CONTACT


@pytest.fixture
def acme(desk: Desk, clock: Clock) -> Desk:
    tenant_with_agent(desk, clock())
    return desk


def created(
    desk: Desk, clock: Clock, operation: str, last_name: str, tenant: str = "acme"
) -> str:
    command = CreateRecord(
        tenant,
        kind=CONTACT,
        values={"last_name": last_name},
        operation_id=operation,
        by=ADA,
        at=clock.advance(),
    )
    return desk.create_record(command).record_id


def renamed(
    desk: Desk, clock: Clock, record_id: str, last_name: str, tenant: str = "acme"
) -> None:
    current = desk.crm_record(tenant, CONTACT, record_id)
    desk.change_record(
        ChangeRecord(
            tenant,
            kind=CONTACT,
            record_id=record_id,
            base_version=current.version,
            values={"last_name": last_name},
            by=ADA,
            at=clock.advance(),
        )
    )


def test_a_first_download_is_every_record_once_as_it_is_now(
    acme: Desk, clock: Clock
) -> None:
    ada = created(acme, clock, "op-1", "Byron")
    for name in ("Lovelace", "King", "Lovelace-King"):
        renamed(acme, clock, ada, name)
    mary = created(acme, clock, "op-2", "Somerville")
    tier = FieldDefinition("tier", "Tier", FieldType.PICKLIST, picklist=("Gold",))
    acme.add_field(AddField("acme", kind=CONTACT, definition=tier, at=clock()))

    page = acme.record_changes("acme")

    (first, second, schema) = page.changes
    assert isinstance(first, RecordChange)
    assert isinstance(second, RecordChange)
    assert (first.record_id, first.version, first.values["last_name"]) == (
        ada,
        4,
        "Lovelace-King",
    )
    assert first.values["full_name"] == "Lovelace-King"
    assert second.record_id == mary
    assert isinstance(schema, SchemaChange)
    assert (schema.kind, schema.fields[-1]) == (CONTACT, tier)
    assert (page.cursor, page.more) == (schema.position, False)
    assert first.position < second.position < schema.position
    assert acme.record_changes("acme", after=page.cursor) == ChangePage(
        (), page.cursor, False
    )


def test_a_deleted_record_travels_as_its_tombstone(acme: Desk, clock: Clock) -> None:
    ada = created(acme, clock, "op-1", "Byron")
    cursor = acme.record_changes("acme").cursor
    acme.delete_record(
        DeleteRecord(
            "acme", kind=CONTACT, record_id=ada, base_version=1, by=ADA, at=clock()
        )
    )
    (tombstone,) = acme.record_changes("acme", after=cursor).changes
    assert isinstance(tombstone, RecordChange)
    assert (tombstone.record_id, tombstone.deleted, tombstone.version) == (ada, True, 2)


def test_another_tenants_records_never_appear(acme: Desk, clock: Clock) -> None:
    tenant_with_agent(acme, clock(), tenant="globex", agent="g-1")
    created(acme, clock, "op-1", "Byron")
    assert acme.record_changes("globex").changes == ()
    with pytest.raises(NotFound, match="no tenant initech"):
        acme.record_changes("initech")


@pytest.mark.parametrize(
    ("after", "limit", "says"),
    [
        (-1, 10, "cursor -1 was never given"),
        (10**6, 10, "cursor 1000000 was never given"),
        (0, 0, "a page holds 1 to 1000 changes"),
        (0, 1001, "a page holds 1 to 1000 changes"),
    ],
)
def test_a_cursor_or_page_size_the_server_never_gave_is_refused(
    acme: Desk, clock: Clock, after: int, limit: int, says: str
) -> None:
    created(acme, clock, "op-1", "Byron")
    with pytest.raises(InvalidValue, match=says):
        acme.record_changes("acme", after=after, limit=limit)


class ReplicaReadingTheFeed(RuleBasedStateMachine):
    """Records change between the pages a client reads; once it reads to the end, its
    replica is the server's records, and it never got the same version twice."""

    desk: Desk
    runs = count()

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        # A tenant of its own per example: examples share one store, never a feed.
        self.tenant = f"t{next(self.runs)}"
        tenant_with_agent(self.desk, self.clock(), tenant=self.tenant)
        self.records: list[str] = []
        self.replica: dict[str, tuple[int, bool, dict[str, FieldValue]]] = {}
        self.seen: set[tuple[str, int]] = set()
        self.cursor = 0
        self.operations = count()

    @rule(name=st.sampled_from(["Byron", "King", "Somerville"]))
    def create(self, name: str) -> None:
        operation = f"op-{next(self.operations)}"
        self.records.append(created(self.desk, self.clock, operation, name, self.tenant))

    @precondition(lambda self: self.records)
    @rule(data=st.data(), name=st.sampled_from(["Lovelace", "Babbage"]))
    def rename(self, data: st.DataObject, name: str) -> None:
        record_id = data.draw(st.sampled_from(self.records))
        if not self.desk.crm_record(self.tenant, CONTACT, record_id).deleted:
            renamed(self.desk, self.clock, record_id, name, self.tenant)

    @precondition(lambda self: self.records)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        record_id = data.draw(st.sampled_from(self.records))
        current = self.desk.crm_record(self.tenant, CONTACT, record_id)
        if not current.deleted:
            self.desk.delete_record(
                DeleteRecord(
                    self.tenant,
                    kind=CONTACT,
                    record_id=record_id,
                    base_version=current.version,
                    by=ADA,
                    at=self.clock.advance(),
                )
            )

    @rule(limit=st.integers(1, 4))
    def read_a_page(self, limit: int) -> None:
        page = self.desk.record_changes(self.tenant, after=self.cursor, limit=limit)
        assert len(page.changes) <= limit
        assert page.cursor >= self.cursor
        for change in page.changes:
            assert isinstance(change, RecordChange)
            assert (change.record_id, change.version) not in self.seen
            self.seen.add((change.record_id, change.version))
            known = self.replica.get(change.record_id)
            assert known is None or known[0] < change.version
            self.replica[change.record_id] = (change.version, change.deleted, change.values)
        self.cursor = page.cursor

    @rule()
    def reading_to_the_end_gives_the_servers_records(self) -> None:
        self.read_a_page(limit=4)
        while self.desk.record_changes(self.tenant, after=self.cursor, limit=1).changes:
            self.read_a_page(limit=4)
        assert set(self.replica) == set(self.records)
        for record_id in self.records:
            stored = self.desk.crm_record(self.tenant, CONTACT, record_id)
            version, deleted, values = self.replica[record_id]
            assert (version, deleted, values) == (
                stored.version,
                stored.deleted,
                stored.values,
            )

    def teardown(self) -> None:
        self.reading_to_the_end_gives_the_servers_records()


def test_a_replica_reading_the_feed_while_records_change_ends_equal(desk: Desk) -> None:
    machine = type("Machine", (ReplicaReadingTheFeed,), {"desk": desk})
    run_state_machine_as_test(machine)
