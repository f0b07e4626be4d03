"""A device replica syncing with the server both ways, on SQLite and PostgreSQL: the
anchors' reported failures as named regressions (ADR/0024), each asserting what the
person and the server end with."""

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from support.replicas import KINDS, Crash, Device, Site, site

from calldesk.adapters.replica.follower import ReplicaFollower
from calldesk.apps.records import AddField, RetireField
from calldesk.apps.replica_edits import Mode
from calldesk.apps.replica_sync import ReplicaSync
from calldesk.domain.errors import NotFound
from calldesk.domain.record_fields import FieldDefinition, FieldType, FieldValue
from calldesk.domain.records import RecordKind
from calldesk.domain.replica_merge import Choice, Resolution
from calldesk.domain.replica_runs import SyncStage
from calldesk.domain.replica_status import RecordState, ReplicaState
from calldesk.domain.temporary_ids import is_temporary_id
from calldesk.ports.replica import (
    Operation,
    OperationResult,
    Problem,
    PulledRecord,
    ServerPage,
    ServerRecord,
)

CONTACT, ACCOUNT = RecordKind.CONTACT, RecordKind.ACCOUNT


@pytest.fixture
def server(database_url: str) -> Iterator[Site]:
    with site(database_url) as made:
        yield made


@pytest.fixture
def laptop(server: Site, tmp_path: Path) -> Device:
    device = server.device(tmp_path, "laptop-1")
    assert device.replica.sync().completed
    return device


def state_of(device: Device, kind: RecordKind, record_id: str) -> RecordState:
    line = device.replica.state.record(kind, record_id)
    assert line is not None
    return line.status.state


def test_a_first_sync_brings_every_record_and_a_second_pulls_nothing(
    server: Site, tmp_path: Path
) -> None:
    ids = [server.create(CONTACT, f"op-{n}", last_name=f"Byron {n}") for n in range(3)]
    device = server.device(tmp_path)
    report = device.replica.sync()
    assert report.completed
    assert report.pulled == 3
    assert sorted(device.rows(CONTACT)) == sorted(ids)
    again = device.replica.sync()
    assert (again.pulled, again.pushed, again.iterations) == (0, 0, 1)
    status = device.replica.state.replica(server.clock.now())
    assert status.state is ReplicaState.UP_TO_DATE
    assert status.last_success == server.clock.now()


def test_an_offline_create_reaches_the_server_once_and_comes_back_with_its_computed_fields(
    server: Site, laptop: Device
) -> None:
    laptop.network.down = True
    row = laptop.replica.edits.create(
        CONTACT, {"first_name": "Ada", "last_name": "Lovelace"}, server.clock.now()
    )
    assert is_temporary_id(row.record_id)
    assert state_of(laptop, CONTACT, row.record_id) is RecordState.PENDING_CREATE
    offline = laptop.replica.sync()
    assert offline.offline
    assert not offline.completed
    assert server.records(CONTACT) == {}
    laptop.network.down = False
    assert laptop.replica.sync().completed
    (made,) = server.records(CONTACT)
    assert laptop.rows(CONTACT) == {made: server.records(CONTACT)[made]}
    assert laptop.rows(CONTACT)[made]["full_name"] == "Ada Lovelace"  # the echo's
    assert state_of(laptop, CONTACT, made) is RecordState.SYNCED


def test_a_create_retried_after_a_lost_answer_is_made_once(
    server: Site, laptop: Device
) -> None:
    laptop.replica.edits.create(CONTACT, {"last_name": "Byron"}, server.clock.now())
    laptop.network.lose_next_answer = True
    assert laptop.replica.sync().offline
    assert len(server.records(CONTACT)) == 1  # applied, but the device never heard
    assert laptop.replica.sync().completed
    assert len(server.records(CONTACT)) == 1
    assert laptop.rows(CONTACT) == server.records(CONTACT)


def test_a_first_sync_takes_each_records_last_word_in_the_feed(
    server: Site, tmp_path: Path
) -> None:
    kept = server.create(CONTACT, "op-1", last_name="Byron")
    gone = server.create(CONTACT, "op-2", last_name="Lovelace")
    server.change(CONTACT, kept, title="Countess")
    server.delete(CONTACT, gone)
    back = server.create(CONTACT, "op-3", last_name="Somerville")
    server.delete(CONTACT, back)
    server.restore(CONTACT, back)
    device = server.device(tmp_path)
    assert device.replica.sync().completed
    assert device.rows(CONTACT) == server.records(CONTACT)
    assert sorted(device.rows(CONTACT)) == sorted([kept, back])


def test_a_child_created_offline_under_a_parent_created_offline(
    server: Site, laptop: Device
) -> None:
    laptop.network.down = True
    now = server.clock.now()
    account = laptop.replica.edits.create(ACCOUNT, {"name": "Analytical Engines"}, now)
    contact = laptop.replica.edits.create(
        CONTACT, {"last_name": "Lovelace", "account": account.record_id}, now
    )
    line = laptop.replica.state.record(CONTACT, contact.record_id)
    assert line is not None
    assert line.status.message == f"waits for {account.record_id}"
    laptop.network.down = False
    assert laptop.replica.sync().completed
    (account_id,) = server.records(ACCOUNT)
    (contact_values,) = server.records(CONTACT).values()
    assert contact_values["account"] == account_id
    assert laptop.rows(CONTACT) == server.records(CONTACT)


def test_an_edit_made_during_a_slow_sync_is_not_written_over(
    server: Site, laptop: Device
) -> None:
    record = server.create(CONTACT, "op-1", last_name="Byron", title="Miss")
    assert laptop.replica.sync().completed
    laptop.replica.edits.edit(CONTACT, record, {"title": "Countess"}, server.clock.now())
    server.change(CONTACT, record, first_name="Ada")
    edited = False

    def meanwhile(progress: object) -> None:
        nonlocal edited
        if getattr(progress, "stage", None) is SyncStage.MOVE_PULLED and not edited:
            edited = True  # the person types while the sync is between two stages
            laptop.replica.edits.edit(
                CONTACT, record, {"email": "ada@example.org"}, server.clock.now()
            )

    assert laptop.replica.sync(on_progress=meanwhile).completed
    on_server = server.records(CONTACT)[record]
    assert on_server["title"] == "Countess"
    assert on_server["email"] == "ada@example.org"
    assert laptop.rows(CONTACT)[record] == on_server
    assert on_server["first_name"] == "Ada"


def test_a_record_deleted_and_restored_on_the_server_between_syncs_stays(
    server: Site, laptop: Device
) -> None:
    record = server.create(CONTACT, "op-1", last_name="Byron")
    assert laptop.replica.sync().completed
    server.delete(CONTACT, record)
    server.restore(CONTACT, record)
    assert laptop.replica.sync().completed
    assert laptop.rows(CONTACT) == server.records(CONTACT)
    assert record in laptop.rows(CONTACT)


def test_a_record_deleted_here_and_made_again_is_two_records_on_the_server(
    server: Site, laptop: Device
) -> None:
    record = server.create(CONTACT, "op-1", last_name="Byron")
    assert laptop.replica.sync().completed
    laptop.replica.edits.delete(CONTACT, record, server.clock.now())
    again = laptop.replica.edits.create(CONTACT, {"last_name": "Byron"}, server.clock.now())
    assert state_of(laptop, CONTACT, record) is RecordState.PENDING_DELETE
    assert laptop.replica.sync().completed
    assert record not in server.records(CONTACT)
    assert len(server.records(CONTACT)) == 1
    assert laptop.rows(CONTACT) == server.records(CONTACT)
    assert again.record_id not in laptop.rows(CONTACT)


def test_a_push_whose_echo_comes_back_in_the_next_pull_changes_nothing_back(
    server: Site, laptop: Device
) -> None:
    record = server.create(CONTACT, "op-1", last_name="Byron")
    assert laptop.replica.sync().completed
    laptop.replica.edits.edit(CONTACT, record, {"first_name": "Ada"}, server.clock.now())
    report = laptop.replica.sync()
    assert report.completed
    assert report.pushed == 1
    assert report.pulled == 1  # the echo, with the server's full name
    assert report.iterations == 3  # push; pull the echo; nothing left
    assert laptop.rows(CONTACT)[record]["full_name"] == "Ada Byron"
    assert laptop.rows(CONTACT) == server.records(CONTACT)
    assert laptop.replica.sync().pulled == 0


def test_a_field_changed_on_both_sides_waits_for_a_choice_while_the_rest_syncs(
    server: Site, laptop: Device
) -> None:
    record = server.create(CONTACT, "op-1", last_name="Byron", title="Miss")
    assert laptop.replica.sync().completed
    now = server.clock.now()
    laptop.replica.edits.edit(CONTACT, record, {"title": "Lady", "first_name": "Ada"}, now)
    server.change(CONTACT, record, title="Countess", email="ada@example.org")
    assert laptop.replica.sync().completed
    (conflict,) = laptop.replica.inbox.conflicts()
    assert (conflict.conflict.base, conflict.conflict.local, conflict.conflict.server) == (
        "Miss",
        "Lady",
        "Countess",
    )
    on_server = server.records(CONTACT)[record]
    assert on_server["first_name"] == "Ada"
    assert on_server["title"] == "Countess"
    assert laptop.rows(CONTACT)[record]["email"] == "ada@example.org"
    assert laptop.rows(CONTACT)[record]["title"] == "Lady"  # theirs, until they choose
    assert state_of(laptop, CONTACT, record) is RecordState.CONFLICT
    status = laptop.replica.state.replica(server.clock.now())
    assert status.state is ReplicaState.NEEDS_ATTENTION
    laptop.replica.inbox.resolve(CONTACT, record, "title", Resolution(Choice.KEEP_LOCAL))
    assert laptop.replica.sync().completed
    assert server.records(CONTACT)[record]["title"] == "Lady"
    assert laptop.rows(CONTACT) == server.records(CONTACT)
    assert state_of(laptop, CONTACT, record) is RecordState.SYNCED


@pytest.mark.parametrize(
    ("resolution", "ends_with"),
    [
        (Resolution(Choice.KEEP_SERVER), "Countess"),
        (Resolution(Choice.NEW_VALUE, "Dame"), "Dame"),
    ],
)
def test_a_conflict_resolved_with_theirs_or_a_new_value(
    server: Site, laptop: Device, resolution: Resolution, ends_with: str
) -> None:
    record = server.create(CONTACT, "op-1", last_name="Byron", title="Miss")
    assert laptop.replica.sync().completed
    laptop.replica.edits.edit(CONTACT, record, {"title": "Lady"}, server.clock.now())
    server.change(CONTACT, record, title="Countess")
    assert laptop.replica.sync().completed
    laptop.replica.inbox.resolve(CONTACT, record, "title", resolution)
    assert laptop.replica.sync().completed
    assert server.records(CONTACT)[record]["title"] == ends_with
    assert laptop.rows(CONTACT) == server.records(CONTACT)
    assert not laptop.replica.inbox.conflicts()


def test_local_changes_a_server_delete_discards_are_told_with_their_values(
    server: Site, laptop: Device
) -> None:
    record = server.create(CONTACT, "op-1", last_name="Byron")
    assert laptop.replica.sync().completed
    laptop.replica.edits.edit(CONTACT, record, {"title": "Lady"}, server.clock.now())
    server.delete(CONTACT, record)
    assert laptop.replica.sync().completed
    assert laptop.rows(CONTACT) == {}
    (notice,) = laptop.replica.inbox.notices()
    assert notice.record_id == record
    assert notice.values == {"title": "Lady"}
    laptop.replica.inbox.dismiss(notice.notice_id)
    assert laptop.replica.inbox.notices() == ()


def test_a_delete_of_a_record_never_sent_sends_nothing(
    server: Site, laptop: Device
) -> None:
    row = laptop.replica.edits.create(CONTACT, {"last_name": "Byron"}, server.clock.now())
    laptop.replica.edits.delete(CONTACT, row.record_id, server.clock.now())
    report = laptop.replica.sync()
    assert report.completed
    assert report.pushed == 0
    assert server.records(CONTACT) == {}
    assert laptop.rows(CONTACT) == {}


@pytest.mark.parametrize("requests_before_the_crash", range(8))
def test_a_crash_anywhere_in_a_run_is_completed_by_the_next_with_nothing_doubled(
    server: Site, laptop: Device, requests_before_the_crash: int
) -> None:
    record = server.create(CONTACT, "op-1", last_name="Byron")
    assert laptop.replica.sync().completed
    now = server.clock.now()
    laptop.replica.edits.edit(CONTACT, record, {"title": "Lady"}, now)
    account = laptop.replica.edits.create(ACCOUNT, {"name": "Engines"}, now)
    laptop.replica.edits.create(
        CONTACT, {"last_name": "Lovelace", "account": account.record_id}, now
    )
    server.change(CONTACT, record, first_name="Ada")
    laptop.network.crash_after = requests_before_the_crash
    try:
        laptop.replica.sync()
    except Crash:
        laptop.reopened()
    assert laptop.replica.sync().completed
    assert len(server.records(ACCOUNT)) == 1
    assert len(server.records(CONTACT)) == 2
    assert server.records(CONTACT)[record]["title"] == "Lady"
    assert laptop.rows(CONTACT) == server.records(CONTACT)
    assert laptop.rows(ACCOUNT) == server.records(ACCOUNT)


def test_a_change_at_the_console_reaches_a_following_device_without_a_sync(
    server: Site, laptop: Device
) -> None:
    record = server.create(CONTACT, "op-1", last_name="Byron")
    follower = ReplicaFollower(laptop.replica)
    report = follower.step()
    assert report is not None
    assert (report.pulled, report.pushed) == (1, 0)
    assert laptop.rows(CONTACT) == server.records(CONTACT)
    server.change(CONTACT, record, title="Countess")
    follower.step()
    assert laptop.rows(CONTACT)[record]["title"] == "Countess"


def test_the_follower_sends_what_waits_and_backs_off_while_the_server_is_away(
    server: Site, laptop: Device
) -> None:
    follower = ReplicaFollower(laptop.replica)
    laptop.replica.edits.create(CONTACT, {"last_name": "Byron"}, server.clock.now())
    laptop.network.down = True
    first = follower.step()
    assert first is not None
    assert first.offline
    assert follower.step() is None  # waits a second before it tries again
    server.clock.advance(1)
    again = follower.step()
    assert again is not None
    assert again.offline
    server.clock.advance(1)
    assert follower.step() is None  # two seconds after the second failure
    laptop.network.down = False
    server.clock.advance(1)
    sent = follower.step()
    assert sent is not None
    assert sent.completed
    assert laptop.rows(CONTACT) == server.records(CONTACT)
    status = laptop.replica.state.replica(server.clock.now())
    assert status.state is ReplicaState.UP_TO_DATE


class Watching:
    """The real server, noting the device's full runs (each asks the kinds' schemas;
    a catch-up with the feed does not) and answering its creates 503 while busy."""

    def __init__(self, device: Device) -> None:
        self.real = device.replica.server
        self.full_runs = 0
        self.batches = 0
        self.busy = False

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)

    def schema(self, kind: RecordKind) -> object:
        self.full_runs += kind is CONTACT
        return self.real.schema(kind)

    def apply(self, operations: Sequence[Operation]) -> tuple[OperationResult, ...]:
        self.batches += 1
        if self.busy:
            busy = Problem(503, None, "busy, try again later")
            return tuple(OperationResult(None, busy) for _ in operations)
        return self.real.apply(operations)


def test_the_follower_runs_no_sync_for_changes_that_cannot_go_yet(
    server: Site, laptop: Device
) -> None:
    """A create the server refused and one waiting for it wait for the person; a create
    the server put off waits for its time: meanwhile the follower only follows the
    feed, it does not run a full sync at every look."""
    region = FieldDefinition("region", "Region", FieldType.TEXT)
    server.desk.add_field(
        AddField("acme", kind=ACCOUNT, definition=region, at=server.clock.advance())
    )
    assert laptop.replica.sync().completed
    now = server.clock.now()
    account = laptop.replica.edits.create(ACCOUNT, {"name": "Engines", "region": "EU"}, now)
    server.desk.retire_field(
        RetireField("acme", kind=ACCOUNT, name="region", at=server.clock.advance())
    )
    assert laptop.replica.sync().completed
    contact = laptop.replica.edits.create(
        CONTACT, {"last_name": "Lovelace", "account": account.record_id}, now
    )
    assert state_of(laptop, ACCOUNT, account.record_id) is RecordState.ERROR
    assert state_of(laptop, CONTACT, contact.record_id) is RecordState.PENDING_CREATE
    watching = Watching(laptop)
    laptop.replica.server = watching  # type: ignore[assignment]
    follower = ReplicaFollower(laptop.replica)
    for _ in range(3):
        follower.step()
        server.clock.advance(1)
    assert watching.full_runs == 0
    laptop.replica.inbox.abandon(ACCOUNT, account.record_id)
    watching.busy = True
    laptop.replica.edits.create(CONTACT, {"last_name": "Byron"}, server.clock.now())
    follower.step()  # sent, and put off by the server
    runs, batches = watching.full_runs, watching.batches
    assert batches == 1  # not sent again by the same run
    server.clock.advance(0.5)
    follower.step()
    assert (watching.full_runs, watching.batches) == (runs, 1)  # not yet its time
    watching.busy = False
    server.clock.advance(60)
    follower.step()
    assert watching.full_runs > runs
    assert "Byron" in {values["last_name"] for values in server.records(CONTACT).values()}


def test_the_status_and_the_inbox_survive_a_restart(server: Site, laptop: Device) -> None:
    record = server.create(CONTACT, "op-1", last_name="Byron", title="Miss")
    assert laptop.replica.sync().completed
    laptop.replica.edits.edit(CONTACT, record, {"title": "Lady"}, server.clock.now())
    server.change(CONTACT, record, title="Countess")
    laptop.replica.edits.create(CONTACT, {"last_name": "Lovelace"}, server.clock.now())
    laptop.network.down = True
    laptop.replica.sync()
    laptop.network.down = False
    assert laptop.replica.sync().completed
    before = laptop.replica.state.replica(server.clock.now())
    lines = laptop.replica.state.records()
    restarted = laptop.reopened()
    assert restarted.state.replica(server.clock.now()) == before
    assert restarted.state.records() == lines
    assert before.state is ReplicaState.NEEDS_ATTENTION
    assert len(restarted.inbox.conflicts()) == 1


class ServingOnce:
    """The real server, but for one feed page a test hands the device."""

    def __init__(self, device: Device, page: ServerPage) -> None:
        self.real = device.replica.server
        self.page: ServerPage | None = page

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)

    def changes(self, after: int, limit: int) -> ServerPage:
        page, self.page = self.page, None
        return page or self.real.changes(after, limit)


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"last_name": "Byron", "shoe_size": "9"}, "field 'shoe_size' its schema has not"),
        ({"last_name": 42}, "holds 42, which is no text value"),
        ({"last_name": "Byron", "email": True}, "holds True, which is no email value"),
        ({"last_name": "Byron", "account": "~" + "0" * 64}, "a device's id"),
    ],
)
def test_a_page_that_does_not_fit_the_schema_applies_nothing(
    server: Site, laptop: Device, values: dict[str, FieldValue], complaint: str
) -> None:
    record = server.create(CONTACT, "op-1", last_name="Byron")
    good = ServerRecord(CONTACT, record, 1, {"last_name": "Byron"})
    bad = ServerRecord(CONTACT, "003-0000000000000bad", 1, values)
    with laptop.replica.tables.transaction() as group:
        cursor = group.property("cursor")
    page = ServerPage(
        (PulledRecord(cursor + 1, good), PulledRecord(cursor + 2, bad)), cursor + 2, False
    )
    laptop.replica.server = ServingOnce(laptop, page)  # type: ignore[assignment]
    report = laptop.replica.sync()
    assert not report.completed
    assert report.error is not None
    assert complaint in report.error
    assert laptop.rows(CONTACT) == {}
    with laptop.replica.tables.transaction() as group:
        assert group.property("cursor") == cursor
    status = laptop.replica.state.replica(server.clock.now())
    assert status.state is ReplicaState.ERROR
    assert laptop.replica.sync().completed  # the replica is still usable
    assert laptop.rows(CONTACT) == server.records(CONTACT)


def test_a_field_added_on_the_server_becomes_a_column_with_its_values(
    server: Site, laptop: Device
) -> None:
    field = FieldDefinition("region", "Region", FieldType.TEXT)
    server.desk.add_field(
        AddField("acme", kind=CONTACT, definition=field, at=server.clock.advance())
    )
    record = server.create(CONTACT, "op-1", last_name="Byron", region="EMEA")
    assert laptop.replica.sync().completed
    assert laptop.rows(CONTACT)[record]["region"] == "EMEA"
    laptop.replica.edits.create(
        CONTACT, {"last_name": "Lovelace", "region": "APAC"}, server.clock.now()
    )
    assert laptop.replica.sync().completed
    assert laptop.rows(CONTACT)[record]["region"] == "EMEA"
    assert laptop.rows(CONTACT) == server.records(CONTACT)
    regions = sorted(str(v["region"]) for v in server.records(CONTACT).values())
    assert regions == ["APAC", "EMEA"]


def test_a_change_the_server_refuses_keeps_its_message_and_the_queue_moves_on(
    server: Site, laptop: Device
) -> None:
    field = FieldDefinition("region", "Region", FieldType.TEXT)
    server.desk.add_field(
        AddField("acme", kind=CONTACT, definition=field, at=server.clock.advance())
    )
    record = server.create(CONTACT, "op-1", last_name="Byron")
    assert laptop.replica.sync().completed
    laptop.replica.edits.edit(CONTACT, record, {"region": "EMEA"}, server.clock.now())
    server.desk.retire_field(
        RetireField("acme", kind=CONTACT, name="region", at=server.clock.advance())
    )
    other = laptop.replica.edits.create(
        CONTACT, {"last_name": "Lovelace"}, server.clock.now()
    )
    assert laptop.replica.sync().completed
    line = laptop.replica.state.record(CONTACT, record)
    assert line is not None
    assert line.status.state is RecordState.ERROR
    assert line.status.message is not None
    assert "region" in line.status.message
    assert len(server.records(CONTACT)) == 2  # the create behind it went on
    assert other.record_id not in laptop.rows(CONTACT)
    laptop.replica.inbox.abandon(CONTACT, record)
    assert laptop.replica.sync().completed
    assert laptop.rows(CONTACT) == server.records(CONTACT)
    assert state_of(laptop, CONTACT, record) is RecordState.SYNCED


def test_online_an_edit_starts_from_the_servers_latest(
    server: Site, laptop: Device
) -> None:
    record = server.create(CONTACT, "op-1", last_name="Byron")
    assert laptop.replica.sync().completed
    server.change(CONTACT, record, title="Countess")
    laptop.replica.edits.set_mode(Mode.ONLINE)
    assert laptop.replica.edits.refreshed(CONTACT, record).values["title"] == "Countess"
    laptop.network.down = True
    offline = laptop.replica.edits.refreshed(CONTACT, record)
    assert offline.values["title"] == "Countess"  # as it is, with no answer


def test_hybrid_writes_go_straight_to_the_server_and_wait_when_it_is_away(
    server: Site, laptop: Device
) -> None:
    record = server.create(CONTACT, "op-1", last_name="Byron")
    assert laptop.replica.sync().completed
    laptop.replica.edits.set_mode(Mode.HYBRID)
    laptop.replica.edits.edit(CONTACT, record, {"title": "Lady"}, server.clock.now())
    assert server.records(CONTACT)[record]["title"] == "Lady"
    assert state_of(laptop, CONTACT, record) is RecordState.SYNCED
    laptop.network.down = True
    laptop.replica.edits.edit(CONTACT, record, {"title": "Dame"}, server.clock.now())
    assert state_of(laptop, CONTACT, record) is RecordState.PENDING_EDIT
    laptop.network.down = False
    assert laptop.replica.sync().completed
    assert server.records(CONTACT)[record]["title"] == "Dame"


def test_a_record_gone_from_the_server_while_its_change_was_sent_leaves_with_a_notice(
    server: Site, laptop: Device
) -> None:
    record = server.create(CONTACT, "op-1", last_name="Byron")
    assert laptop.replica.sync().completed
    laptop.replica.edits.edit(CONTACT, record, {"title": "Lady"}, server.clock.now())
    deleted = False

    def meanwhile(progress: object) -> None:
        nonlocal deleted
        if getattr(progress, "stage", None) is SyncStage.MERGE and not deleted:
            deleted = True  # after the pull, before the change goes out
            server.delete(CONTACT, record)

    assert laptop.replica.sync(on_progress=meanwhile).completed
    assert deleted
    assert laptop.rows(CONTACT) == {}
    assert laptop.replica.state.record(CONTACT, record) is None
    (notice,) = laptop.replica.inbox.notices()
    assert (notice.record_id, notice.values) == (record, {"title": "Lady"})
    assert laptop.replica.state.replica(server.clock.now()).counts.errors == 0


def test_a_retry_or_a_dismissal_of_nothing_on_the_device_is_refused_as_not_found(
    server: Site, laptop: Device
) -> None:
    with pytest.raises(NotFound, match="no contact ct-nowhere on this device"):
        laptop.replica.inbox.retry(CONTACT, "ct-nowhere")
    with pytest.raises(NotFound, match="no notice 7 on this device"):
        laptop.replica.inbox.dismiss(7)
    with pytest.raises(NotFound, match="no case ca-1 on this device"):
        laptop.replica.edits.row(RecordKind.CASE, "ca-1")  # a kind never synced here


def test_an_edit_and_a_delete_through_the_temporary_id_reach_the_record_once_mapped(
    server: Site, laptop: Device
) -> None:
    made = laptop.replica.edits.create(CONTACT, {"last_name": "Byron"}, server.clock.now())
    assert laptop.replica.sync().completed  # the app still holds the temporary id
    laptop.replica.edits.edit(
        CONTACT, made.record_id, {"title": "Lady"}, server.clock.now()
    )
    assert laptop.replica.sync().completed
    (record,) = server.records(CONTACT)
    assert server.records(CONTACT)[record]["title"] == "Lady"
    assert laptop.rows(CONTACT) == server.records(CONTACT)
    laptop.replica.edits.delete(CONTACT, made.record_id, server.clock.now())
    assert laptop.replica.sync().completed
    assert server.records(CONTACT) == {}
    assert laptop.rows(CONTACT) == {}


def test_a_record_deleted_here_while_its_create_was_unanswered_ends_deleted_everywhere(
    server: Site, laptop: Device
) -> None:
    made = laptop.replica.edits.create(CONTACT, {"last_name": "Byron"}, server.clock.now())
    laptop.network.lose_next_answer = True
    assert laptop.replica.sync().offline  # the server made it; the device never heard
    laptop.replica.edits.delete(CONTACT, made.record_id, server.clock.now())
    assert laptop.replica.sync().completed
    assert server.records(CONTACT) == {}
    assert laptop.rows(CONTACT) == {}
    status = laptop.replica.state.replica(server.clock.now())
    assert status.state is ReplicaState.UP_TO_DATE
    assert status.counts.pending == 0


def test_a_new_device_of_a_tenant_that_retired_a_field_syncs(
    server: Site, tmp_path: Path
) -> None:
    field = FieldDefinition("region", "Region", FieldType.TEXT)
    server.desk.add_field(
        AddField("acme", kind=CONTACT, definition=field, at=server.clock.advance())
    )
    server.create(CONTACT, "op-1", last_name="Byron", region="EMEA")
    server.desk.retire_field(
        RetireField("acme", kind=CONTACT, name="region", at=server.clock.advance())
    )
    tablet = server.device(tmp_path, "tablet-1")
    assert tablet.replica.sync().completed
    assert tablet.rows(CONTACT) == server.records(CONTACT)


def test_a_follower_started_on_a_fresh_replica_brings_the_records(
    server: Site, tmp_path: Path
) -> None:
    server.create(CONTACT, "op-1", last_name="Byron")
    fresh = server.device(tmp_path, "tablet-1")
    report = ReplicaFollower(fresh.replica).step()
    assert report is not None
    assert report.completed
    assert fresh.rows(CONTACT) == server.records(CONTACT)
    assert fresh.replica.state.replica(server.clock.now()).state is ReplicaState.UP_TO_DATE


def region_added_since_the_sync(server: Site, laptop: Device) -> str:
    """A contact the device synced, its region (a field the server added since) EMEA."""
    record = server.create(CONTACT, "op-1", last_name="Byron")
    assert laptop.replica.sync().completed
    field = FieldDefinition("region", "Region", FieldType.TEXT)
    server.desk.add_field(
        AddField("acme", kind=CONTACT, definition=field, at=server.clock.advance())
    )
    server.change(CONTACT, record, region="EMEA")
    return record


def test_an_edit_online_takes_a_field_the_server_added_since_the_last_sync(
    server: Site, laptop: Device
) -> None:
    record = region_added_since_the_sync(server, laptop)
    laptop.replica.edits.set_mode(Mode.ONLINE)
    opened = laptop.replica.edits.refreshed(CONTACT, record)
    assert opened.values["region"] == "EMEA"
    laptop.replica.edits.edit(CONTACT, record, {"region": "APAC"}, server.clock.now())
    assert laptop.replica.sync().completed
    assert server.records(CONTACT)[record]["region"] == "APAC"


def test_a_hybrid_write_answered_with_a_field_new_to_the_device_is_kept(
    server: Site, laptop: Device
) -> None:
    record = region_added_since_the_sync(server, laptop)
    laptop.replica.edits.set_mode(Mode.HYBRID)
    written = laptop.replica.edits.edit(
        CONTACT, record, {"title": "Lady"}, server.clock.now()
    )
    assert written.values["region"] == "EMEA"
    assert server.records(CONTACT)[record]["title"] == "Lady"
    assert state_of(laptop, CONTACT, record) is RecordState.SYNCED


def test_a_delete_abandoned_while_on_the_way_ends_as_the_server_answered(
    server: Site, laptop: Device
) -> None:
    record = server.create(CONTACT, "op-1", last_name="Byron")
    kept = server.create(CONTACT, "op-2", last_name="Shelley")
    assert laptop.replica.sync().completed
    laptop.replica.edits.delete(CONTACT, record, server.clock.now())
    replica = laptop.replica
    sending = replica.server.apply

    def abandoned_meanwhile(operations: Sequence[Operation]) -> tuple[OperationResult, ...]:
        replica.server.apply = sending  # type: ignore[method-assign]
        replica.inbox.abandon(CONTACT, record)  # the person, while it is on the way
        return sending(operations)

    replica.server.apply = abandoned_meanwhile  # type: ignore[method-assign]
    assert replica.sync().completed
    assert replica.sync().completed
    assert laptop.rows(CONTACT) == server.records(CONTACT)
    assert list(server.records(CONTACT)) == [kept]
    with replica.tables.transaction() as group:
        assert group.deletes() == ()
    assert replica.state.replica(server.clock.now()).counts.pending == 0


def test_a_field_cleared_after_a_create_whose_answer_was_lost_stays_cleared(
    server: Site, laptop: Device
) -> None:
    made = laptop.replica.edits.create(
        CONTACT, {"last_name": "Byron", "title": "Lady"}, server.clock.now()
    )
    laptop.network.lose_next_answer = True
    assert laptop.replica.sync().offline
    laptop.replica.edits.edit(CONTACT, made.record_id, {"title": None}, server.clock.now())
    assert laptop.replica.sync().completed
    (record,) = server.records(CONTACT).values()
    assert "title" not in record
    assert laptop.rows(CONTACT) == server.records(CONTACT)


def test_edits_of_many_records_go_out_in_batches_each_answered(
    server: Site, laptop: Device
) -> None:
    ids = [server.create(ACCOUNT, f"op-{n}", name=f"Mill {n}") for n in range(250)]
    assert laptop.replica.sync().completed
    for record_id in ids:
        laptop.replica.edits.edit(
            ACCOUNT, record_id, {"website": f"{record_id}.example"}, server.clock.now()
        )
    replica = laptop.replica
    sending = replica.server.apply
    batches: list[int] = []

    def counted(operations: Sequence[Operation]) -> tuple[OperationResult, ...]:
        batches.append(len(operations))
        return sending(operations)

    replica.server.apply = counted  # type: ignore[method-assign]
    report = replica.sync()
    assert report.completed
    assert report.pushed == 250
    assert batches == [200, 50]
    records = server.records(ACCOUNT)
    assert all(records[r]["website"] == f"{r}.example" for r in ids)
    assert laptop.rows(ACCOUNT) == records


def test_an_edit_made_between_the_pages_of_a_first_sync_is_merged_not_written_over(
    server: Site, tmp_path: Path
) -> None:
    ada = server.create(CONTACT, "op-1", last_name="Byron")
    for n in range(3):
        server.create(CONTACT, f"op-{n + 2}", last_name=f"Shelley {n}")
    device = server.device(tmp_path)
    replica = device.replica
    reading = replica.server.changes
    pages = 0

    def paged(after: int, limit: int) -> ServerPage:
        """The person edits Ada once her row is on the device, and the console changes
        her again, so the feed brings her back in a later page of this first sync."""
        nonlocal pages
        pages += 1
        if pages == 3:
            replica.edits.edit(CONTACT, ada, {"title": "Lady"}, server.clock.now())
            server.change(CONTACT, ada, first_name="Augusta")
        return reading(after, limit)

    replica.server.changes = paged  # type: ignore[method-assign]
    run = ReplicaSync(replica.tables, replica.server, replica.clock, KINDS, page_size=1)
    assert run.run().completed
    assert ReplicaSync(replica.tables, replica.server, replica.clock, KINDS).run().completed
    record = server.records(CONTACT)[ada]
    assert (record["title"], record["first_name"]) == ("Lady", "Augusta")
    assert device.rows(CONTACT) == server.records(CONTACT)


def test_hybrid_creates_and_deletes_go_straight_to_the_server(
    server: Site, laptop: Device
) -> None:
    gone = server.create(CONTACT, "op-1", last_name="Shelley")
    assert laptop.replica.sync().completed
    laptop.replica.edits.set_mode(Mode.HYBRID)
    made = laptop.replica.edits.create(CONTACT, {"last_name": "Byron"}, server.clock.now())
    assert not is_temporary_id(made.record_id)
    assert server.records(CONTACT)[made.record_id]["last_name"] == "Byron"
    laptop.replica.edits.delete(CONTACT, gone, server.clock.now())
    assert list(server.records(CONTACT)) == [made.record_id]
    assert laptop.rows(CONTACT) == server.records(CONTACT)
    laptop.network.down = True
    waiting = laptop.replica.edits.create(
        CONTACT, {"last_name": "Lovelace"}, server.clock.now()
    )
    assert state_of(laptop, CONTACT, waiting.record_id) is RecordState.PENDING_CREATE
