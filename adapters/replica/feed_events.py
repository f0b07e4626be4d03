"""The server's announcements that the tenant's feed moved, read from its stream of
record changes (GET /record-changes/stream): the live follower pulls on each one,
through the same checked path as any sync, instead of waiting for its next look.

The server ends the stream with a `session-ended` event once the device's token no
longer lets it in (ADR/0030): read as a 401 is, `SessionExpired`. Each event is read
up to a bound, so a server that sends an endless line cannot fill the device's memory.
"""

import json
from collections.abc import Callable, Generator, Iterable, Iterator

import httpx

from calldesk.adapters.replica.http_server import MAX_BODY_BYTES
from calldesk.ports.replica import BadServerAnswer, ServerUnreachable, SessionExpired

#: An event holds a page of the feed as GET /record-changes answers it, so it is
#: bounded as that answer is (far above a page of MAX_PAGE changes).
MAX_EVENT_BYTES = MAX_BODY_BYTES

#: The event by which the server ends a stream whose token it no longer takes.
SESSION_ENDED = "session-ended"


class FeedStream:
    """The stream over a connection of its own (a stream holds one while it is open),
    closed from any thread to end what is being read."""

    def __init__(
        self,
        server_url: str,
        token: Callable[[], str],
        max_event_bytes: int = MAX_EVENT_BYTES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        # Heartbeats come while nothing happens; pages when they do: no read timeout.
        timeout = httpx.Timeout(10.0, read=None)
        self._http = httpx.Client(base_url=server_url, timeout=timeout, transport=transport)
        self._token = token
        self._max_event_bytes = max_event_bytes

    def announcements(
        self, after: int, connected: Callable[[], None] = lambda: None
    ) -> Generator[int, None, None]:
        """The cursor of each page the stream sends, as it sends it; `connected` once
        its first message (a page or a heartbeat) came. ServerUnreachable when the
        stream breaks or is closed (the follower then looks on its own); SessionExpired
        when the server refuses the token, at once (401) or later (`session-ended`);
        BadServerAnswer for an event past `max_event_bytes`, the connection closed."""
        headers = {
            "Authorization": f"Bearer {self._token()}",
            "Accept": "text/event-stream",
        }
        try:
            with self._http.stream(
                "GET", "/record-changes/stream", params={"after": after}, headers=headers
            ) as response:
                if response.status_code == 401:
                    raise SessionExpired("the feed's stream answered 401")
                if response.status_code != 200:
                    raise ServerUnreachable(
                        f"the feed's stream answered {response.status_code}"
                    )
                events = _events(response.iter_bytes(), self._max_event_bytes)
                for number, (event, data, cursor) in enumerate(events):
                    if number == 0:
                        connected()
                    if event == SESSION_ENDED:
                        raise SessionExpired(f"the feed's stream ended: {_detail(data)}")
                    if cursor is not None:
                        yield cursor
        except (httpx.HTTPError, RuntimeError) as error:  # RuntimeError: closed meanwhile
            raise ServerUnreachable(f"the feed's stream broke: {error}") from error
        raise ServerUnreachable("the server ended the feed's stream")

    def close(self) -> None:
        self._http.close()


def _events(
    chunks: Iterable[bytes], limit: int
) -> Iterator[tuple[str | None, bytes, int | None]]:
    """Each event of the stream, heartbeats too: its type, its data and its id when it
    is a cursor. An event past `limit` bytes is refused before more of it is held."""
    event: str | None = None
    data: list[bytes] = []
    cursor: int | None = None
    size = 0  # of the event so far, its lines' ends included
    for line in _lines(chunks, limit):
        size += len(line) + 1
        if size > limit:
            raise _too_large(limit)
        if not line:
            if size > 1:  # blank lines between events are no event
                yield event, b"\n".join(data), cursor
            event, data, cursor, size = None, [], None, 0
            continue
        name, _, value = line.partition(b":")
        value = value.removeprefix(b" ")
        if name == b"event":
            event = value.decode("utf-8", errors="replace")
        elif name == b"data":
            data.append(value)
        elif name == b"id" and value.isdigit():
            cursor = int(value)


def _lines(chunks: Iterable[bytes], limit: int) -> Iterator[bytes]:
    """The stream's lines (ended by LF or CRLF, as the server sends them), none held
    past `limit` bytes."""
    pending = bytearray()
    for chunk in chunks:
        start = len(pending)  # the bytes before hold no line end
        pending += chunk
        while (end := pending.find(b"\n", start)) >= 0:
            yield bytes(pending[:end]).removesuffix(b"\r")
            del pending[: end + 1]
            start = 0
        if len(pending) > limit:
            raise _too_large(limit)


def _too_large(limit: int) -> BadServerAnswer:
    return BadServerAnswer(
        f"an event of the feed's stream is larger than {limit} bytes: the stream is "
        "closed, unread"
    )


def _detail(data: bytes) -> str:
    """The server's reason, or its data as it came when it is not the JSON it sends."""
    text = data.decode("utf-8", errors="replace")
    try:
        detail = json.loads(text).get("detail")
    except (ValueError, AttributeError):
        return text or "no reason given"
    return detail if isinstance(detail, str) else text
