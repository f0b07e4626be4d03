"""The feed's stream over real loopback HTTP, on SQLite and PostgreSQL: a device
following it hears each change as it is recorded and pulls it into its main table;
a stream resumed from its last cursor sends nothing twice; a bad cursor is refused
before any stream opens; a follower whose token the server refuses stops, saying why
in the replica's status (ADR/0030); an event past the device's bound is refused."""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import attrs
import httpx
import pytest
from support.clock import Clock
from support.connector import serving
from support.desk_driver import tenant_with_agent
from support.replicas import AGENT, START

from calldesk.adapters.replica.feed_events import FeedStream
from calldesk.adapters.replica.follower import Reconnects, ReplicaFollower
from calldesk.adapters.replica.opening import open_replica
from calldesk.apps.access import IssueToken, RevokeToken
from calldesk.apps.desk import Desk
from calldesk.apps.records import ChangeRecord, CreateRecord
from calldesk.apps.replica import Replica
from calldesk.domain.records import RecordKind
from calldesk.domain.replica_status import ReplicaState
from calldesk.ports.replica import BadServerAnswer

CONTACT = RecordKind.CONTACT
SECRET = "device-secret-of-the-stream-test".ljust(40, "x")


@attrs.frozen
class Served:
    desk: Desk
    clock: Clock
    url: str
    replica: Replica


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Served]:
    with Desk.at(database_url) as desk:
        clock = Clock(START)
        tenant_with_agent(desk, START)
        desk.issue_token(
            IssueToken(
                "acme",
                "a-17",
                at=START,
                expires_at=START + timedelta(days=1),
                device="laptop-1",
            ),
            SECRET,
        )
        with serving(desk, clock) as url:
            path = tmp_path / "replica.sqlite"
            with open_replica(path, url, SECRET, (CONTACT,)) as replica:
                assert replica.sync().completed
                yield Served(desk, clock, url, replica)


def created(served: Served, operation: str) -> str:
    command = CreateRecord(
        "acme",
        kind=CONTACT,
        values={"last_name": "Byron"},
        operation_id=operation,
        by=AGENT,
        at=served.clock.advance(),
    )
    return served.desk.create_record(command).record_id


def changed(served: Served, record_id: str, version: int, title: str) -> None:
    command = ChangeRecord(
        "acme",
        kind=CONTACT,
        record_id=record_id,
        base_version=version,
        values={"title": title},
        by=AGENT,
        at=served.clock.advance(),
    )
    served.desk.change_record(command)


def title_on_the_device(replica: Replica, record_id: str) -> object:
    with replica.tables.transaction() as group:
        row = group.row(CONTACT, record_id)
        return None if row is None else row.values.get("title")


def test_a_following_device_hears_each_change_as_it_is_recorded(served: Served) -> None:
    follower = ReplicaFollower(served.replica)
    with closing(FeedStream(served.url, lambda: SECRET)) as stream:
        cursors = stream.announcements(served.replica.state.cursor())
        record = created(served, "op-1")
        first = next(cursors)  # the stream opens after the cursor: the create is in it
        follower.step()
        assert served.replica.state.cursor() == first
        changed(served, record, 1, "Countess")  # recorded while the stream is open
        assert next(cursors) > first
        follower.step()
        assert title_on_the_device(served.replica, record) == "Countess"
        cursors.close()


def test_a_stream_resumed_from_its_cursor_sends_nothing_twice(served: Served) -> None:
    record = created(served, "op-1")
    with closing(FeedStream(served.url, lambda: SECRET)) as stream:
        first = stream.announcements(0)
        seen = next(first)
        first.close()
        changed(served, record, 1, "Countess")
        resumed = stream.announcements(seen)
        assert next(resumed) > seen
        resumed.close()


@pytest.mark.parametrize("after", ["-1", "999999", "x"])
def test_a_bad_cursor_is_refused_before_a_stream_opens(served: Served, after: str) -> None:
    with httpx.Client(base_url=served.url) as http:
        response = http.get(
            "/record-changes/stream",
            params={"after": after},
            headers={"Authorization": f"Bearer {SECRET}"},
        )
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_started_follower_brings_a_change_without_waiting_for_its_next_look(
    served: Served,
) -> None:
    record = created(served, "op-1")
    stream = FeedStream(served.url, lambda: SECRET)
    follower = ReplicaFollower(served.replica, interval=3600, stream=stream)
    follower.start()  # its first look takes the create; the next is an hour away
    try:
        assert arrived(lambda: served.replica.state.record(CONTACT, record) is not None)
        changed(served, record, 1, "Countess")
        assert arrived(lambda: title_on_the_device(served.replica, record) == "Countess")
    finally:
        follower.stop()
    assert not any(thread.is_alive() for thread in follower.threads)


def arrived(condition: Callable[[], bool], within: float = 10.0) -> bool:
    """Whether the condition holds before the deadline: the stream's thread brings
    the change while this one looks."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        threading.Event().wait(0.01)
    return True


def revoked(served: Served) -> None:
    served.desk.revoke_token(RevokeToken("acme", at=served.clock.advance()), SECRET)


class Pauses:
    """The follower's waits before it opens the stream again, none waited out; the
    third stops the follower, so one that never gives up fails instead of hanging."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    def __call__(self, seconds: float) -> bool:
        self.asked.append(seconds)
        return len(self.asked) >= 3


class RevokedOnceConnected(Reconnects):
    """The device's token is revoked as soon as its stream first works: the server
    then ends the open stream (`session-ended`) instead of refusing to open it."""

    def __init__(self, served: Served) -> None:
        super().__init__()
        self.served, self.done = served, False

    def connected(self) -> None:
        super().connected()
        if not self.done:
            self.done = True
            revoked(self.served)


def assert_stopped_saying_why(served: Served, follower: ReplicaFollower) -> None:
    assert not follower.following
    status = served.replica.state.replica(served.clock.now())
    assert status.state is ReplicaState.ERROR, status
    assert "no longer takes this device's token" in (status.message or ""), status


@pytest.mark.parametrize("when", ["before it connects", "while it follows"])
def test_a_following_device_stops_once_its_token_is_revoked_and_says_why(
    served: Served, when: str
) -> None:
    reconnects = Reconnects()
    if when == "before it connects":
        revoked(served)  # the stream is refused with a 401
    else:
        reconnects = RevokedOnceConnected(served)
    pauses = Pauses()
    stream = FeedStream(served.url, lambda: SECRET)
    follower = ReplicaFollower(
        served.replica, stream=stream, reconnects=reconnects, pause=pauses
    )
    follower.listen()  # returns once it stopped following
    assert pauses.asked == []  # not tried again: the same token is no use
    assert_stopped_saying_why(served, follower)


def test_a_looking_follower_stops_once_the_server_refuses_its_token(
    served: Served,
) -> None:
    revoked(served)
    follower = ReplicaFollower(served.replica, interval=3600)
    follower.start()  # its first look is refused; the next would be an hour away
    follower.threads[0].join(timeout=10)
    assert not follower.threads[0].is_alive()
    assert_stopped_saying_why(served, follower)


def test_an_event_larger_than_the_devices_bound_ends_the_stream(served: Served) -> None:
    created(served, "op-1")  # the stream's first page holds it, some 300 bytes
    with closing(FeedStream(served.url, lambda: SECRET, max_event_bytes=200)) as stream:
        cursors = stream.announcements(0)
        with pytest.raises(BadServerAnswer, match="larger than 200 bytes"):
            next(cursors)
        assert next(cursors, None) is None  # the connection is closed, nothing more
