"""The push hub alone: a stalled client is cut off, and resumes by id with nothing lost."""

import asyncio
from datetime import UTC, datetime, timedelta

from support.desk_driver import log_in, not_ready, tenant_with_agent

from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.http.push import PushHub
from calldesk.apps.desk import Desk

START = datetime(2026, 11, 2, 9, tzinfo=UTC)
REASONS = ["lunch", "break", "training", "meeting", "admin"]


def test_a_client_that_falls_behind_is_closed_and_resumes_without_a_gap(
    database_url: str,
) -> None:
    async def scenario(desk: Desk) -> tuple[list[int], list[int]]:
        hub = PushHub(desk, ConnectorConfig(stream_buffer=2, heartbeat_seconds=60))
        hub.position = desk.head()
        stream = hub.messages("acme", "a-17", None)
        snapshot = await anext(stream)
        for n, reason in enumerate(REASONS):
            not_ready(desk, reason, START + timedelta(minutes=n + 1))
        for recorded in hub.read_after(hub.position):  # the follower's step, by hand
            hub.hand_out(recorded)
        cut_off = [int(m.id) async for m in stream]  # type: ignore[arg-type]
        resumed = hub.messages("acme", "a-17", [int(snapshot.id), *cut_off][-1])  # type: ignore[arg-type]
        rest = [int((await anext(resumed)).id) for _ in range(len(REASONS) - len(cut_off))]  # type: ignore[arg-type]
        await resumed.aclose()
        return [int(snapshot.id), *cut_off], rest  # type: ignore[arg-type]

    with Desk.at(database_url) as desk:
        tenant_with_agent(desk, START)
        log_in(desk, START)
        before, after = asyncio.run(scenario(desk))
    assert len(before) <= 3  # the snapshot, then at most what the buffer held
    ids = [*before[1:], *after]
    assert ids == sorted(set(ids))
    assert len(ids) == len(REASONS)
