"""A server and three device replicas under random offline work, syncs, crashes, lost
answers and schema changes, on SQLite and PostgreSQL: no local change is lost without
a trace, no record is made twice, the status always matches the tables, and once
everyone syncs with nothing left to choose every replica equals the server."""

import tempfile
from collections.abc import Iterator
from datetime import datetime
from itertools import count
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from support.replicas import Crash, Device, Site, site

from calldesk.apps.records import AddField
from calldesk.apps.replica_rows import WHOLE_RECORD
from calldesk.apps.replica_state import NextRun
from calldesk.domain.record_fields import FieldDefinition, FieldType, FieldValue
from calldesk.domain.records import RecordKind
from calldesk.domain.replica_merge import Choice, Resolution
from calldesk.domain.replica_status import RecordState
from calldesk.domain.temporary_ids import is_temporary_id
from calldesk.ports.replica import QueuedCreate

CONTACT, ACCOUNT = RecordKind.CONTACT, RecordKind.ACCOUNT
DEVICES = ("laptop", "tablet", "phone")
EDITED = ("title", "first_name")
VALUES = st.sampled_from(["Lady", "Countess", "Dame", None])
FAULTS = st.sampled_from(["none", "none", "down", "lost-answer", "crash"])


class Written:
    """A device's write of a field, to be found afterwards: on the server, in the
    device's inbox or notices, or written over by a later write."""

    def __init__(self, device: str, marker: str, field: str, value: FieldValue, n: int):
        self.device, self.marker, self.field, self.value, self.n = (
            device,
            marker,
            field,
            value,
            n,
        )


class Replicas(RuleBasedStateMachine):
    server_site: Site
    tenants = count()

    def __init__(self) -> None:
        super().__init__()
        self.site = self.server_site.another_tenant(f"t{next(self.tenants)}")
        folder = Path(tempfile.mkdtemp())
        self.devices = {name: self.site.device(folder, name) for name in DEVICES}
        for device in self.devices.values():
            assert device.replica.sync().completed  # the first sync is online
        self.markers = count()
        self.writes = count()
        self.last_write: dict[tuple[str, str], int] = {}  # (marker, field) -> write
        self.pending: list[Written] = []
        self.new_fields = 0
        self.chosen: set[tuple[str, str, str]] = set()  # device, marker, field

    def _choose(self, name: str, kind: RecordKind, record_id: str, field: str) -> None:
        """A person chose for this field (or abandoned the record's change): their
        write ends as they chose, which is its trace. Choosing for their delete is
        choosing for the whole record, which their device may no longer show."""
        values = self.devices[name].rows(kind).get(record_id) or self.site.records(
            kind
        ).get(record_id, {})
        marker = str(values.get("last_name", ""))
        for chosen in EDITED if field == WHOLE_RECORD else (field,):
            self.chosen.add((name, marker, chosen))

    # Work on a device, online or not.

    def _marker(self) -> str:
        return f"m{next(self.markers)}"

    def _record_of(self, device: Device, data: st.DataObject) -> tuple[str, str] | None:
        return _chosen(device.rows(CONTACT), data)

    @rule(name=st.sampled_from(DEVICES), with_account=st.booleans())
    def create_on_a_device(self, name: str, with_account: bool) -> None:
        device = self.devices[name]
        at = self.site.clock.advance()
        values: dict[str, FieldValue] = {"last_name": self._marker()}
        if with_account:
            account = device.replica.edits.create(ACCOUNT, {"name": self._marker()}, at)
            values["account"] = account.record_id
        device.replica.edits.create(CONTACT, values, at)

    @rule(
        name=st.sampled_from(DEVICES),
        field=st.sampled_from(EDITED),
        value=VALUES,
        data=st.data(),
    )
    def edit_on_a_device(
        self, name: str, field: str, value: FieldValue, data: st.DataObject
    ) -> None:
        device = self.devices[name]
        chosen = self._record_of(device, data)
        if chosen is None:
            return
        record_id, marker = chosen
        unchanged = device.rows(CONTACT)[record_id].get(field) == value
        device.replica.edits.edit(
            CONTACT, record_id, {field: value}, self.site.clock.advance()
        )
        if unchanged:
            return  # the value the device shows already: nothing to send, nothing to lose
        n = next(self.writes)
        self.last_write[(marker, field)] = n
        self.pending.append(Written(name, marker, field, value, n))

    @rule(name=st.sampled_from(DEVICES), data=st.data())
    def delete_on_a_device(self, name: str, data: st.DataObject) -> None:
        device = self.devices[name]
        chosen = self._record_of(device, data)
        if chosen is not None:
            device.replica.edits.delete(CONTACT, chosen[0], self.site.clock.advance())

    # Work at the console.

    def _server_record(self, data: st.DataObject) -> tuple[str, str] | None:
        return _chosen(self.site.records(CONTACT), data)

    @rule(field=st.sampled_from(EDITED), value=VALUES, data=st.data())
    def edit_on_the_server(
        self, field: str, value: FieldValue, data: st.DataObject
    ) -> None:
        chosen = self._server_record(data)
        if chosen is not None:
            self.site.change(CONTACT, chosen[0], **{field: value})
            self.last_write[(chosen[1], field)] = next(self.writes)

    @rule(data=st.data())
    def delete_on_the_server(self, data: st.DataObject) -> None:
        chosen = self._server_record(data)
        if chosen is not None:
            self.site.delete(CONTACT, chosen[0])

    @rule()
    def create_on_the_server(self) -> None:
        self.site.create(CONTACT, self._marker(), last_name=self._marker())

    @precondition(lambda self: self.new_fields < 2)
    @rule()
    def add_a_field_on_the_server(self) -> None:
        self.new_fields += 1
        definition = FieldDefinition(f"region_{self.new_fields}", "Region", FieldType.TEXT)
        self.site.desk.add_field(
            AddField(
                self.site.tenant,
                kind=CONTACT,
                definition=definition,
                at=self.site.clock.advance(),
            )
        )

    # Syncs, with the network's faults.

    @rule(name=st.sampled_from(DEVICES), fault=FAULTS, crash_after=st.integers(0, 12))
    def sync(self, name: str, fault: str, crash_after: int) -> None:
        device = self.devices[name]
        device.network.down = fault == "down"
        device.network.lose_next_answer = fault == "lost-answer"
        device.network.crash_after = crash_after if fault == "crash" else None
        try:
            device.replica.sync()
        except Crash:
            device.reopened()
        device.network.down = False
        device.network.lose_next_answer = False
        device.network.crash_after = None

    @rule(name=st.sampled_from(DEVICES), choice=st.sampled_from(list(Choice)))
    def resolve_a_conflict(self, name: str, choice: Choice) -> None:
        device = self.devices[name]
        for conflict in device.replica.inbox.conflicts()[:1]:
            value = "Chosen" if choice is Choice.NEW_VALUE else None
            if conflict.conflict.field == "_cd_delete" and value is not None:
                choice, value = Choice.KEEP_LOCAL, None
            self._choose(name, conflict.kind, conflict.record_id, conflict.conflict.field)
            device.replica.inbox.resolve(
                conflict.kind,
                conflict.record_id,
                conflict.conflict.field,
                Resolution(choice, value),
            )

    # What must always hold.

    @invariant()
    def no_record_is_made_twice(self) -> None:
        for kind in (CONTACT, ACCOUNT):
            field = "last_name" if kind is CONTACT else "name"
            markers = [values[field] for values in self.site.records(kind).values()]
            assert len(markers) == len(set(markers))

    @invariant()
    def the_status_matches_the_tables(self) -> None:
        for device in self.devices.values():
            with device.replica.tables.transaction() as group:
                creates_now = list(group.creates())
                creates = {c.temporary_id for c in creates_now}
                conflicted = {(c.kind, c.record_id) for c in group.conflicts()}
                for kind in group.kinds():
                    for row in group.rows(kind):
                        assert is_temporary_id(row.record_id) == (row.record_id in creates)
                        assert not row.created or row.record_id in creates
            for line in device.replica.state.records():
                in_conflict = (line.kind, line.record_id) in conflicted
                assert (line.status.state is RecordState.CONFLICT) == in_conflict
                # Read alone, by its id, a record has the line the listing gives it.
                assert device.replica.state.record(line.kind, line.record_id) == line
            now = self.site.clock.now()
            status = device.replica.state.replica(now)
            lines = device.replica.state.records()
            next_run = device.replica.state.next_run(now)
            if next_run is not NextRun.WAIT:  # asked of the few rows that can be pending
                # A run only for what can go: a change waiting, and one that can go now
                # (an edit, a create waiting for nothing and not backing off) runs one.
                if next_run is NextRun.SEND:
                    assert any(line.status.state.pending for line in lines)
                ready = {c.temporary_id for c in creates_now if _ready(c, now)}
                assert next_run is NextRun.SEND or not any(
                    line.status.state is RecordState.PENDING_EDIT
                    or (line.record_id in ready and line.status.message is None)
                    for line in lines
                )
            assert status.counts.conflicts == sum(
                line.status.state is RecordState.CONFLICT for line in lines
            )
            assert status.counts.pending == sum(line.status.state.pending for line in lines)
            # The refused, found without reading the tables whole, are those listed so.
            listed = sorted(
                (line for line in lines if line.status.state is RecordState.ERROR),
                key=lambda line: (line.kind.value, line.record_id),
            )
            assert list(device.replica.state.refused()) == listed

    def teardown(self) -> None:
        """Everyone syncs, choosing the server's side of what is left, until nothing
        moves: then every replica is the server, and no write was lost silently."""
        for _ in range(3):
            for device in self.devices.values():
                assert device.replica.sync().completed
                for conflict in device.replica.inbox.conflicts():
                    field = conflict.conflict.field
                    self._choose(device.name, conflict.kind, conflict.record_id, field)
                    device.replica.inbox.resolve(
                        conflict.kind,
                        conflict.record_id,
                        conflict.conflict.field,
                        Resolution(Choice.KEEP_SERVER),
                    )
                for line in device.replica.state.records():
                    if line.status.state is RecordState.ERROR:
                        for field in EDITED:
                            self._choose(device.name, line.kind, line.record_id, field)
                        device.replica.inbox.abandon(line.kind, line.record_id)
        for device in self.devices.values():
            assert device.replica.sync().completed
        for device in self.devices.values():
            assert not device.replica.inbox.conflicts()
            for kind in (CONTACT, ACCOUNT):
                assert device.rows(kind) == self.site.records(kind), device.name
        self._no_write_lost_silently()

    def _no_write_lost_silently(self) -> None:
        server = self.site.records(CONTACT)
        contacts = {v["last_name"]: v for v in server.values()}
        ids = {v["last_name"]: record_id for record_id, v in server.items()}
        for written in self.pending:
            if self.last_write[(written.marker, written.field)] != written.n:
                continue  # written over by a later write, anywhere
            if (written.device, written.marker, written.field) in self.chosen:
                continue  # its person chose
            device = self.devices[written.device]
            told = {n.record_id for n in device.replica.inbox.notices()}
            on_server = contacts.get(written.marker)
            if on_server is None:
                continue  # deleted since, by someone: the delete is the later word
            kept = on_server.get(written.field) == written.value
            assert kept or ids[written.marker] in told, written.__dict__


def _ready(create: QueuedCreate, now: datetime) -> bool:
    """Not refused, not backing off after an attempt with no answer."""
    waited = create.next_attempt_at is None or create.next_attempt_at <= now
    return create.error is None and waited


def _chosen(
    records: dict[str, dict[str, FieldValue]], data: st.DataObject
) -> tuple[str, str] | None:
    """One of the records and its marker, drawn by marker: ids made from a device's
    random operation ids differ from run to run, markers do not."""
    by_marker = sorted((str(values["last_name"]), key) for key, values in records.items())
    if not by_marker:
        return None
    marker, record_id = data.draw(st.sampled_from(by_marker), label="record")
    return record_id, marker


@pytest.fixture
def server_site(database_url: str) -> Iterator[Site]:
    with site(database_url) as made:
        yield made


#: Each step syncs real replicas over HTTP: half the profile's examples (the thorough
#: profile still runs 500), each of up to 30 steps.
RUNS = settings(max_examples=max(settings().max_examples // 2, 8), stateful_step_count=30)


def test_replicas_converge_and_lose_nothing(server_site: Site) -> None:
    machine = type("Machine", (Replicas,), {"server_site": server_site})
    run_state_machine_as_test(machine, settings=RUNS)
