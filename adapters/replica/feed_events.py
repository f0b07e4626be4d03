"""The server's announcements that the tenant's feed moved, read from its stream of
record changes (GET /record-changes/stream): the live follower pulls on each one,
through the same checked path as any sync, instead of waiting for its next look."""

from collections.abc import Callable, Generator

import httpx

from calldesk.ports.replica import ServerUnreachable, SessionExpired


def announced_cursors(
    http: httpx.Client, token: Callable[[], str], after: int
) -> Generator[int, None, None]:
    """The cursor of each page the stream sends, as it sends it; ServerUnreachable
    when the stream breaks (the follower then looks on its own, and reconnects)."""
    headers = {"Authorization": f"Bearer {token()}", "Accept": "text/event-stream"}
    timeout = httpx.Timeout(10.0, read=None)  # heartbeats come; pages when they do
    try:
        with http.stream(
            "GET",
            "/record-changes/stream",
            params={"after": after},
            headers=headers,
            timeout=timeout,
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
    except httpx.HTTPError as error:
        raise ServerUnreachable(f"the feed's stream broke: {error}") from error
