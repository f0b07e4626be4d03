"""A connector served by uvicorn on a free loopback port, for tests that stream."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx

from calldesk.adapters.http.app import create_app
from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.http.serving import served_in_thread
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
    with served_in_thread(app, port) as url:
        yield url


def token_for(
    desk: Desk,
    clock: Clock,
    agent: str,
    role: Role = Role.AGENT,
    tenant: str = "acme",
    **rights: object,
) -> dict[str, str]:
    """Authorization headers of a fresh token for this agent of the tenant."""
    secret = f"secret-of-{tenant}-{agent}-{role.value}-".ljust(40, "x")
    at = clock.now()
    command = IssueToken(
        tenant,
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
