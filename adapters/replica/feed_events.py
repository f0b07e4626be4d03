"""The server's announcements that the tenant's feed moved, read from its stream of
record changes (GET /record-changes/stream): the live follower pulls on each one,
through the same checked path as any sync, instead of waiting for its next look."""

from collections.abc import Callable, Generator

import httpx

from calldesk.ports.replica import ServerUnreachable, SessionExpired


class FeedStream:
    """The stream over a connection of its own (a stream holds one while it is open),
    closed from any thread to end what is being read."""

    def __init__(self, server_url: str, token: Callable[[], str]) -> None:
        # Heartbeats come while nothing happens; pages when they do: no read timeout.
        timeout = httpx.Timeout(10.0, read=None)
        self._http = httpx.Client(base_url=server_url, timeout=timeout)
        self._token = token

    def announcements(self, after: int) -> Generator[int, None, None]:
        """The cursor of each page the stream sends, as it sends it; ServerUnreachable
        when the stream breaks or is closed (the follower then looks on its own)."""
        headers = {
            "Authorization": f"Bearer {self._token()}",
            "Accept": "text/event-stream",
        }
        try:
            with self._http.stream(
                "GET", "/record-changes/stream", params={"after": after}, headers=headers
            ) as response:
                if response.status_code == 401:
                    raise SessionExpired("the server no longer takes this device's token")
                if response.status_code != 200:
                    raise ServerUnreachable(
                        f"the feed's stream answered {response.status_code}"
                    )
                for line in response.iter_lines():
                    name, _, value = line.partition(":")
                    if name == "id" and value.strip().isdigit():
                        yield int(value.strip())
        except (httpx.HTTPError, RuntimeError) as error:  # RuntimeError: closed meanwhile
            raise ServerUnreachable(f"the feed's stream broke: {error}") from error
        raise ServerUnreachable("the server ended the feed's stream")

    def close(self) -> None:
        self._http.close()
