"""A connector served by uvicorn on a free loopback port, for tests that stream."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import uvicorn

from calldesk.adapters.http.app import create_app
from calldesk.adapters.http.config import ConnectorConfig
from calldesk.apps.access import IssueToken
from calldesk.apps.desk import Desk
from calldesk.domain.access import Role
from calldesk.ports.clock import Clock


@contextmanager
def serving(
    desk: Desk, clock: Clock, config: ConnectorConfig | None = None, port: int = 0
) -> Iterator[str]:
    """The base URL of a running connector; it stops when the block ends."""
    app = create_app(desk, clock, config or ConnectorConfig(heartbeat_seconds=0.5))
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
    )
    started = threading.Event()
    original = server.startup

    async def startup(sockets: object = None) -> None:
        await original(sockets)  # type: ignore[arg-type]
        started.set()

    server.startup = startup  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("the connector did not start")
    port = port or server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def token_for(
    desk: Desk, clock: Clock, agent: str, role: Role = Role.AGENT, **rights: object
) -> dict[str, str]:
    """Authorization headers of a fresh token for this agent of tenant acme."""
    secret = f"secret-of-{agent}-{role.value}-".ljust(40, "x")
    at = clock.now()
    command = IssueToken(
        "acme",
        agent,
        role,
        at=at,
        expires_at=at + timedelta(days=1),
        **rights,  # type: ignore[arg-type]
    )
    desk.issue_token(command, secret)
    return {"Authorization": f"Bearer {secret}"}


def sse_messages(response: httpx.Response) -> Iterator[dict[str, str]]:
    """Each complete server-sent event of a streaming response, as its fields."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if "id" in fields or "data" in fields:
                yield fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
