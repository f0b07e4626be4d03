"""A stream resumed by Last-Event-ID sends exactly what a stream connected all along got:
the same events, in the same order, each with the softphone as of that very event; and
those states are the softphone views as of the same positions (hypothesis, on SQLite
and on a real PostgreSQL)."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar.response import ServerSentEventMessage
from support.call_signals import scripts
from support.desk_driver import log_in, ready, tenant_with_agent

from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.http.push import PushHub
from calldesk.apps.conversion import converter
from calldesk.apps.desk import Desk
from calldesk.apps.presence import RegisterAgent
from calldesk.domain.signals import CallSignal, SignalKind

START = datetime(2026, 11, 2, 8, tzinfo=UTC)

Frame = tuple[int, str, dict[str, Any]]


async def frames_until_idle(stream: AsyncIterator[ServerSentEventMessage]) -> list[Frame]:
    """The stream's frames up to its first heartbeat: everything it had to send."""
    frames: list[Frame] = []
    while True:
        message = await asyncio.wait_for(anext(stream), 10)
        if message.data is None:  # a heartbeat: nothing more is queued
            return frames
        frames.append(
            (int(str(message.id)), str(message.event), json.loads(str(message.data)))
        )


def calls(scripted: list[list[CallSignal]]) -> list[CallSignal]:
    """Each script its own call, interleaved one signal of each in turn."""
    renamed = [
        [
            attrs.evolve(
                s, vendor_call_id=f"c-{n}", vendor_event_id=f"c-{n}-{s.vendor_event_id}"
            )
            for s in script
        ]
        for n, script in enumerate(scripted)
    ]
    longest = max(len(script) for script in renamed)
    return [script[i] for i in range(longest) for script in renamed if i < len(script)]


def test_a_resumed_stream_repeats_the_live_one_frame_for_frame(database_url: str) -> None:
    with Desk.at(database_url) as desk:

        @settings(max_examples=12, deadline=None)
        @given(st.lists(scripts(), min_size=1, max_size=2))
        def check(scripted: list[list[CallSignal]]) -> None:
            tenant = f"t-{uuid4().hex[:12]}"  # the store outlives each example
            tenant_with_agent(desk, START, tenant=tenant, agent="a-1")
            desk.register_agent(RegisterAgent(tenant, "a-2", name="Bo", at=START))
            for agent in ("a-1", "a-2"):
                log_in(desk, START, tenant=tenant, agent=agent)
                ready(desk, START, tenant=tenant, agent=agent)
            signals = calls(scripted)
            live, resumed, start = asyncio.run(streams(desk, tenant, signals))
            assert live == resumed
            for position, _, data in live:
                then = desk.softphone(tenant, "a-1", as_of=position)
                assert data["state"] == converter.unstructure(then)
            assert all(position > start for position, _, _ in resumed)

        check()


def test_a_call_queued_before_it_rang_the_agent_is_resumed_from_its_offer_on(
    database_url: str,
) -> None:
    """Its first events (created, queued, its screen pop) concerned nobody when they
    were saved; a stream resumed from before them does not send them either."""
    queued, offered = (
        CallSignal("sim", f"e-{n}", "c-1", kind, START, agent=agent)
        for n, (kind, agent) in enumerate(
            [(SignalKind.QUEUED, None), (SignalKind.OFFERED, "a-1")]
        )
    )
    with Desk.at(database_url) as desk:
        tenant_with_agent(desk, START, agent="a-1")
        log_in(desk, START, agent="a-1")
        ready(desk, START, agent="a-1")
        live, resumed, _ = asyncio.run(streams(desk, "acme", [queued, offered]))
    assert live == resumed
    topics = [topic for _, topic, _ in resumed]
    assert "calldesk.call.Queued" not in topics
    assert "calldesk.call.Offered" in topics


async def streams(
    desk: Desk, tenant: str, signals: list[CallSignal]
) -> tuple[list[Frame], list[Frame], int]:
    """a-1's stream connected before the signals, and one resumed after them from the
    same first position."""
    hub = PushHub(
        desk.log,
        desk.projection,
        ConnectorConfig(heartbeat_seconds=0.05, poll_seconds=3600),
    )
    following = asyncio.create_task(hub.run())
    try:
        while hub.position != desk.head():
            await asyncio.sleep(0)
        connected = hub.messages(tenant, "a-1", None)
        snapshot = await anext(connected)
        start = int(str(snapshot.id))
        await asyncio.to_thread(hear_all, desk, tenant, signals)
        live = await frames_until_idle(connected)
        await connected.aclose()  # type: ignore[attr-defined]
        again = hub.messages(tenant, "a-1", start)
        resumed = await frames_until_idle(again)
        await again.aclose()  # type: ignore[attr-defined]
        return live, resumed, start
    finally:
        hub.stop()
        await following


def hear_all(desk: Desk, tenant: str, signals: list[CallSignal]) -> None:
    for signal in signals:
        desk.hear(tenant, signal, signal.occurred_at)
