"""The live follower against scripted answers of the feed's stream (a mock transport):
it opens a broken stream again after a delay that doubles to five minutes, each spread
by its jitter, and from the first again once a connection worked; an event past the
device's bound ends the connection without reading on (ADR/0030)."""

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from calldesk.adapters.replica.feed_events import FeedStream
from calldesk.adapters.replica.follower import Reconnects, ReplicaFollower
from calldesk.adapters.replica.opening import open_replica
from calldesk.apps.replica import Replica
from calldesk.domain.records import RecordKind
from calldesk.ports.replica import BadServerAnswer

SERVER = "http://calldesk.test"
SECRET = "device-secret-of-the-follower-test".ljust(40, "x")

Answer = Callable[[], httpx.Response]


def unavailable() -> httpx.Response:
    return httpx.Response(503)


def opened_then_closed() -> httpx.Response:
    """A stream that opens and ends before its first message: no connection worked."""
    return httpx.Response(200, content=b"")


def heartbeat_then_closed() -> httpx.Response:
    return httpx.Response(200, content=b": heartbeat\r\n\r\n")


def refused() -> httpx.Response:
    return httpx.Response(401)


def scripted(answers: list[Answer]) -> FeedStream:
    """A stream whose server gives these answers, one a request, in order."""
    remaining = iter(answers)
    transport = httpx.MockTransport(lambda _: next(remaining)())
    return FeedStream(SERVER, lambda: SECRET, transport=transport)


class Pauses:
    """The follower's waits before it opens the stream again, as asked, none waited
    out; at most 20, so a follower that never stops fails instead of hanging."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    def __call__(self, seconds: float) -> bool:
        self.asked.append(seconds)
        return len(self.asked) >= 20


@pytest.fixture
def replica(tmp_path: Path) -> Iterator[Replica]:
    with open_replica(
        tmp_path / "replica.sqlite", SERVER, SECRET, (RecordKind.CONTACT,)
    ) as opened:
        yield opened


def listened(replica: Replica, answers: list[Answer], spread: float) -> list[float]:
    """The delays the follower waited out before the server refused its token."""
    pauses = Pauses()
    follower = ReplicaFollower(
        replica,
        stream=scripted(answers),
        reconnects=Reconnects(spread=lambda: spread),
        pause=pauses,
    )
    follower.listen()
    assert not follower.following
    return pauses.asked


def test_a_broken_stream_is_opened_again_after_delays_doubling_to_five_minutes(
    replica: Replica,
) -> None:
    asked = listened(replica, [unavailable] * 12 + [refused], spread=0.5)
    longest = [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    assert asked == [0.75 * seconds for seconds in longest]  # in their upper half


def test_the_delays_start_from_the_first_again_once_a_connection_worked(
    replica: Replica,
) -> None:
    answers = [
        unavailable,
        opened_then_closed,  # answered, but nothing came: still broken
        unavailable,
        heartbeat_then_closed,  # a message came: the connection worked
        unavailable,
        refused,
    ]
    assert listened(replica, answers, spread=1.0) == [1, 2, 4, 1, 2]


def endless(first: bytes, then: bytes, read: list[int]) -> Iterator[bytes]:
    """A stream body that would never end its event, counting the chunks read."""
    yield first
    for count in range(1, 1000):
        read.append(count)
        yield then


@pytest.mark.parametrize(
    ("first", "then"),
    [(b"data: ", b"x" * 1024), (b"event: changes\n", b"data: " + b"x" * 1017 + b"\n")],
    ids=["one endless line", "endless lines of one event"],
)
def test_an_event_past_the_bound_ends_the_connection_without_reading_on(
    first: bytes, then: bytes
) -> None:
    read: list[int] = []

    def answer(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless(first, then, read))

    transport = httpx.MockTransport(answer)
    stream = FeedStream(SERVER, lambda: SECRET, max_event_bytes=8192, transport=transport)
    with pytest.raises(BadServerAnswer, match="larger than 8192 bytes"):
        next(stream.announcements(0))
    assert len(read) <= 9  # 8 KiB and the chunk that went past it
