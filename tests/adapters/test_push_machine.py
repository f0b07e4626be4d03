"""The push hub under any interleaving of this process's saves, another process's saves
and polls of the log: an agent's stream is handed every event that concerns it, once
and in log order (a hypothesis state machine, on SQLite and on a real PostgreSQL)."""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from support.desk_driver import log_in, not_ready, tenant_with_agent

from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.http.push import PushHub
from calldesk.apps.desk import Desk

START = datetime(2026, 11, 2, 9, tzinfo=UTC)
REASON = st.sampled_from(("lunch", "break", "training"))


class PushUnderInterleavings(RuleBasedStateMachine):
    """Two applications on one store, as two processes; the hub follows the first."""

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.tenant = f"t-{uuid4().hex[:12]}"  # the store outlives each example
        self.here = Desk.at(database_url)
        self.elsewhere = Desk.at(database_url)
        tenant_with_agent(self.here, START, tenant=self.tenant)
        log_in(self.here, START, tenant=self.tenant)
        self.at = START
        self.loop = asyncio.new_event_loop()
        # The hub reads the log only when a rule polls, never by the clock.
        self.hub = PushHub(
            self.here.log, self.here.projection, ConnectorConfig(poll_seconds=3600)
        )
        self.stream = self.hub.open(self.tenant, "a-17")
        self.received: list[int] = []
        self.start = self.here.head()
        self.following = self.loop.create_task(self.hub.run())
        self.settle(lambda: self.hub.position == self.start)

    def settle(self, done: Callable[[], bool]) -> None:
        """Run the hub's loop until `done` (ten seconds at most), then take what the
        stream was handed."""

        async def until() -> None:
            while not done():
                await asyncio.sleep(0)

        self.loop.run_until_complete(asyncio.wait_for(until(), 10))
        while not self.stream.queue.empty():
            self.received.append(self.stream.queue.get_nowait().position)

    def save(self, desk: Desk, reason: str) -> None:
        self.at += timedelta(minutes=1)
        not_ready(desk, reason, self.at, tenant=self.tenant)

    def wake(self) -> int:
        """What a poll does when its time comes; the log's head as it starts."""
        head = self.here.head()
        self.loop.call_soon_threadsafe(self.hub._wake.set)
        return head

    @rule(reason=REASON)
    def save_here(self, reason: str) -> None:
        self.save(self.here, reason)
        self.settle(lambda: True)  # heard at once, or after a read if it left a gap

    @rule(reason=REASON)
    def save_elsewhere(self, reason: str) -> None:
        self.save(self.elsewhere, reason)  # not heard: a poll or a gap finds it

    @rule()
    def poll(self) -> None:
        head = self.wake()
        self.settle(lambda: self.hub.position >= head)

    @rule(reason=REASON)
    def save_here_while_the_log_is_read(self, reason: str) -> None:
        head = self.wake()
        self.loop.run_until_complete(asyncio.sleep(0))  # the read starts, in a thread
        self.save(self.here, reason)
        self.settle(lambda: self.hub.position >= head)

    @invariant()
    def each_event_once_in_log_order(self) -> None:
        assert self.received == sorted(set(self.received))

    def teardown(self) -> None:
        try:
            self.poll()
            expected = list(range(self.start + 1, self.here.head() + 1))
            assert self.received == expected, "every event of the agent, once, in order"
        finally:
            self.hub.stop()
            self.loop.run_until_complete(self.following)
            self.loop.close()
            self.here.close()
            self.elsewhere.close()


def test_every_event_reaches_the_stream_once_in_log_order(database_url: str) -> None:
    run_state_machine_as_test(
        lambda: PushUnderInterleavings(database_url),  # type: ignore[arg-type]
        settings=settings(max_examples=15, stateful_step_count=12),
    )
