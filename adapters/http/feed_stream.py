"""The tenant's record change feed as server-sent events, for devices that follow it
live (ADR/0024): each message is a page of the feed (as GET /record-changes answers
it) whose id is its cursor, so a client that reconnects with Last-Event-ID goes on
exactly after what it got, nothing missed or doubled. The stream's token is checked
again before each page and at each heartbeat (ADR/0030): once it no longer lets the
device in, the stream ends with a `session-ended` event instead of the page."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

from annotated_types import Ge
from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.serialization import encode_json

from calldesk.adapters.http.auth import AREA, PROXIABLE
from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.http.problems import PROBLEM_RESPONSES
from calldesk.adapters.http.push import PushHub
from calldesk.adapters.http.routes import Who, desk_of
from calldesk.adapters.http.stream_session import StreamSession
from calldesk.apps.change_feed import MAX_PAGE
from calldesk.apps.desk import Desk
from calldesk.domain.access import Area
from calldesk.domain.errors import InvalidValue


@get(
    "/record-changes/stream",
    responses=PROBLEM_RESPONSES,
    opt={AREA: Area.RECORDS, PROXIABLE: False},
)
async def record_change_stream(
    request: Request[Any, Any, Any],
    who: Who,
    after: FromQuery[Annotated[int, Ge(0)]] = 0,
) -> ServerSentEvent:
    """The feed after the cursor (or Last-Event-ID), page by page, then each change
    as it is recorded, with heartbeats while nothing happens, while the token lets the
    device in."""
    header = request.headers.get("last-event-id")
    try:
        cursor = int(header) if header is not None else after
    except ValueError:
        raise InvalidValue(
            f"Last-Event-ID {header!r} is not a cursor of the feed"
        ) from None
    desk = desk_of(request)
    # A bad cursor or tenant is refused now, with a problem, before the stream opens.
    await asyncio.to_thread(desk.record_changes, who.tenant, after=cursor, limit=1)
    hub: PushHub = request.app.state.hub
    config: ConnectorConfig = request.app.state.config
    session = StreamSession.of(request)
    return ServerSentEvent(
        _pages(desk, hub, session, who.tenant, cursor, config.heartbeat_seconds),
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _pages(
    desk: Desk,
    hub: PushHub,
    session: StreamSession,
    tenant: str,
    cursor: int,
    heartbeat: float,
) -> AsyncIterator[ServerSentEventMessage]:
    moved = hub.watch()
    try:
        while True:
            moved.clear()  # before reading: a change recorded meanwhile sets it again
            page = await asyncio.to_thread(
                desk.record_changes, tenant, after=cursor, limit=MAX_PAGE
            )
            if page.changes:
                # Checked after the read: what the page holds was recorded before.
                if last := await session.ended():
                    yield last
                    return
                cursor = page.cursor
                data = encode_json(page).decode()
                yield ServerSentEventMessage(data=data, id=str(cursor), event="changes")
            if page.more:
                continue
            try:
                await asyncio.wait_for(moved.wait(), heartbeat)
            except TimeoutError:
                if last := await session.ended():
                    yield last
                    return
                yield ServerSentEventMessage(comment="heartbeat", data=None)
    finally:
        with contextlib.suppress(Exception):
            hub.unwatch(moved)
