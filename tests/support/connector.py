"""A connector served by uvicorn on a free loopback port, for tests that stream."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
from litestar import Litestar
from litestar.response import ServerSentEvent
from litestar.routes import HTTPRoute

from calldesk.adapters.http.app import create_app
from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.http.serving import served_in_thread
from calldesk.apps.access import IssueToken
from calldesk.apps.desk import Desk
from calldesk.domain.access import Role
from calldesk.ports.clock import Clock


def event_stream_paths(app: Litestar) -> set[str]:
    """The path templates of the routes that answer with a stream of events. A stream
    never ends by itself, and an in-process client reads an answer whole: tests that
    send every route something leave these out (their tokens and their ends are
    tests/adapters/test_stream_credentials.py's)."""
    return {
        route.path_format
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        if handler.parsed_return_field.annotation is ServerSentEvent
    }


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
