"""The push hub alone: a stalled client is cut off, and resumes by id with nothing lost."""

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from support.desk_driver import log_in, not_ready, tenant_with_agent

from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.http.push import PushHub
from calldesk.apps.desk import Desk
from calldesk.apps.records import CreateRecord
from calldesk.domain.crm_records import Author
from calldesk.domain.records import RecordKind

START = datetime(2026, 11, 2, 9, tzinfo=UTC)
REASONS = ["lunch", "break", "training", "meeting", "admin"]


def test_a_client_that_falls_behind_is_closed_and_resumes_without_a_gap(
    database_url: str,
) -> None:
    async def scenario(desk: Desk) -> tuple[list[int], list[int]]:
        hub = PushHub(
            desk.log,
            desk.projection,
            ConnectorConfig(stream_buffer=2, heartbeat_seconds=60),
        )
        hub.position = desk.head()
        stream = hub.messages("acme", "a-17", None)
        snapshot = await anext(stream)
        for n, reason in enumerate(REASONS):
            not_ready(desk, reason, START + timedelta(minutes=n + 1))
        for recorded in hub.log.read_after(
            hub.position, 200
        ):  # the follower's step, by hand
            hub.hand_out(recorded)
        cut_off = [int(m.id) async for m in stream]  # type: ignore[arg-type]
        resumed = hub.messages("acme", "a-17", [int(snapshot.id), *cut_off][-1])  # type: ignore[arg-type]
        rest = [int((await anext(resumed)).id) for _ in range(len(REASONS) - len(cut_off))]  # type: ignore[arg-type]
        await resumed.aclose()  # type: ignore[attr-defined]
        return [int(snapshot.id), *cut_off], rest  # type: ignore[arg-type]

    with Desk.at(database_url) as desk:
        tenant_with_agent(desk, START)
        log_in(desk, START)
        before, after = asyncio.run(scenario(desk))
    assert len(before) <= 3  # the snapshot, then at most what the buffer held
    ids = [*before[1:], *after]
    assert ids == sorted(set(ids))
    assert len(ids) == len(REASONS)


def test_a_live_frame_is_not_held_up_by_a_command_still_running(database_url: str) -> None:
    """The frame of a save carries the state as of that save, read where it was saved:
    a stream does not wait for the next command, which holds the desk, to finish."""
    command_running, command_may_end = threading.Event(), threading.Event()

    def save_then_start_a_long_command(desk: Desk) -> None:
        not_ready(desk, "lunch", START + timedelta(minutes=1))
        with desk.work.writer:  # what every command holds while it runs
            command_running.set()
            command_may_end.wait()

    async def scenario(desk: Desk) -> dict[str, Any]:
        hub = PushHub(desk.log, desk.projection, ConnectorConfig(heartbeat_seconds=60))
        following = asyncio.create_task(hub.run())
        while hub.position != desk.head():  # the follower has found the log's head
            await asyncio.sleep(0)
        stream = hub.messages("acme", "a-17", None)
        await anext(stream)  # the snapshot a new stream starts with
        saving = asyncio.create_task(
            asyncio.to_thread(save_then_start_a_long_command, desk)
        )
        await asyncio.to_thread(command_running.wait)
        try:
            frame = await asyncio.wait_for(anext(stream), timeout=10)
        finally:
            command_may_end.set()
            await saving
            await stream.aclose()  # type: ignore[attr-defined]
            hub.stop()
            await following
        return json.loads(str(frame.data))  # type: ignore[no-any-return]

    with Desk.at(database_url) as desk:
        tenant_with_agent(desk, START)
        log_in(desk, START)
        pushed = asyncio.run(scenario(desk))
    assert pushed["recorded"]["topic"] == "calldesk.agent.StatusPicked"
    assert pushed["state"]["agent"]["not_ready_reason"]["code"] == "lunch"


def test_a_save_of_another_process_between_this_ones_reaches_the_stream_in_order(
    database_url: str,
) -> None:
    async def scenario(desk: Desk, other: Desk) -> list[dict[str, Any]]:
        hub = PushHub(
            desk.log,
            desk.projection,
            ConnectorConfig(heartbeat_seconds=60, poll_seconds=60),
        )
        following = asyncio.create_task(hub.run())
        while hub.position != desk.head():  # the follower has found the log's head
            await asyncio.sleep(0)
        stream = hub.messages("acme", "a-17", None)
        await anext(stream)  # the snapshot a new stream starts with
        for n, (who, reason) in enumerate(
            [(desk, "lunch"), (other, "break"), (desk, "training")]
        ):
            await asyncio.to_thread(not_ready, who, reason, START + timedelta(minutes=n))
        try:
            return [
                json.loads(str((await asyncio.wait_for(anext(stream), 10)).data))
                for _ in range(3)
            ]
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
            hub.stop()
            await following

    with Desk.at(database_url) as desk, Desk.at(database_url) as other:
        tenant_with_agent(desk, START)
        log_in(desk, START)
        first = desk.head() + 1
        frames = asyncio.run(scenario(desk, other))
    assert [f["position"] for f in frames] == [first, first + 1, first + 2]
    assert frames[-1]["state"]["agent"]["not_ready_reason"]["code"] == "training"


def test_a_record_feed_stream_wakes_for_a_saved_record_and_not_for_presence(
    database_url: str,
) -> None:
    async def scenario(desk: Desk) -> tuple[bool, bool]:
        hub = PushHub(desk.log, desk.projection, ConnectorConfig(heartbeat_seconds=60))
        hub.position = desk.head()
        watcher = hub.watch()
        not_ready(desk, "lunch", START + timedelta(minutes=1))
        await hub._read_log()  # the follower's step, by hand
        woken_by_presence = watcher.is_set()
        desk.create_record(
            CreateRecord(
                "acme",
                kind=RecordKind.CONTACT,
                values={"last_name": "Byron"},
                operation_id="op-1",
                by=Author("agent", "a-17"),
                at=START + timedelta(minutes=2),
            )
        )
        await hub._read_log()  # the follower's step, by hand
        return woken_by_presence, watcher.is_set()

    with Desk.at(database_url) as desk:
        tenant_with_agent(desk, START)
        log_in(desk, START)
        by_presence, by_record = asyncio.run(scenario(desk))
    assert not by_presence
    assert by_record
