"""The log's index: who each event concerns, decided and written in the event's own
transaction; one agent's events read without the tenant's; views as of a position;
and a desk that records without reacting (SQLite and a real PostgreSQL)."""

from datetime import UTC, datetime, timedelta

import pytest
from support.desk_driver import log_in, not_ready, ready, tenant_with_agent

from calldesk.apps.desk import Desk
from calldesk.apps.presence import RegisterAgent
from calldesk.domain.agents import AgentState
from calldesk.domain.call_states import CallState
from calldesk.domain.calls import Call
from calldesk.domain.errors import NotFound
from calldesk.domain.signals import CallSignal, SignalKind
from calldesk.ports.log import Audience

START = datetime(2026, 11, 2, 9, tzinfo=UTC)


def offered(agent: str, n: int = 1) -> CallSignal:
    return CallSignal("pbx", f"e-{n}", f"c-{n}", SignalKind.OFFERED, START, agent=agent)


def test_each_event_is_indexed_with_whom_it_concerns(desk: Desk) -> None:
    tenant_with_agent(desk, START)
    log_in(desk, START)
    desk.hear("acme", offered("a-17"), START)
    logged = desk.log.read_after(0, 100)
    assert [e.position for e in logged] == list(range(1, desk.head() + 1))
    tenant_created, *rest = logged
    assert tenant_created.audience is None  # a tenant's events are on no agent's screen
    mine = Audience("acme", frozenset({"a-17"}))
    assert {e.audience for e in rest if e.topic.startswith("calldesk.agent.")} == {mine}
    assert {e.audience for e in rest if e.topic.startswith("calldesk.call.")} == {mine}


def test_a_block_that_fails_leaves_neither_events_nor_their_audiences(desk: Desk) -> None:
    tenant_with_agent(desk, START)
    head = desk.head()

    def log_in_then_fail() -> None:
        with desk.atomically():
            log_in(desk, START)
            ready(desk, START, agent="a-99")

    with pytest.raises(NotFound):
        log_in_then_fail()
    assert desk.head() == head
    assert desk.store.indexes.select_audiences(head + 1, head + 100) == {}
    log_in(desk, START)  # the next save takes the positions, and only its own audiences
    (logged,) = desk.log.read_after(head, 100)
    assert logged.topic == "calldesk.agent.LoggedIn"
    assert logged.audience == Audience("acme", frozenset({"a-17"}))


def test_one_agents_events_are_read_without_the_others(desk: Desk) -> None:
    tenant_with_agent(desk, START)
    desk.register_agent(RegisterAgent("acme", "a-18", name="Bo", at=START))
    for agent in ("a-17", "a-18"):
        log_in(desk, START, agent=agent)
    start = desk.head()
    for n in range(5):
        at = START + timedelta(minutes=n)
        not_ready(desk, "lunch", at, agent="a-18")
        ready(desk, at, agent="a-18")
        if n % 2:
            not_ready(desk, "break" if n == 1 else "lunch", at)
    everything = desk.log.read_after(start, 100)
    mine = desk.log.read_concerning("acme", "a-17", start, 100)
    expected = [
        e.position for e in everything if e.audience and "a-17" in e.audience.agents
    ]
    assert [e.position for e in mine] == expected
    assert len(expected) == 2
    assert desk.log.read_concerning("acme", "a-17", start, 1) == mine[:1]
    assert desk.log.read_concerning("globex", "a-17", 0, 100) == []  # tenants never mix


def test_a_call_and_a_softphone_read_as_they_stood_at_a_position(desk: Desk) -> None:
    tenant_with_agent(desk, START)
    log_in(desk, START)
    ready(desk, START)
    before = desk.head()
    call = desk.hear("acme", offered("a-17"), START)
    ringing = desk.head()
    answered = CallSignal(
        "pbx",
        "e-2",
        "c-1",
        SignalKind.CONNECTED,
        START + timedelta(seconds=5),
        agent="a-17",
    )
    desk.hear("acme", answered, answered.occurred_at)
    assert desk.call("acme", call.call).state is CallState.CONNECTED
    assert desk.call("acme", call.call, as_of=ringing).state is CallState.OFFERED
    then = desk.softphone("acme", "a-17", as_of=ringing)
    assert then.agent.state is AgentState.OFFERED
    assert [c.state for c in then.calls] == [CallState.OFFERED]
    with pytest.raises(NotFound):  # before the call was heard
        desk.call("acme", call.call, as_of=before)
    with pytest.raises(NotFound):  # another tenant's call, at any position
        desk.call("globex", call.call, as_of=ringing)


def test_a_desk_that_does_not_react_records_the_call_alone(database_url: str) -> None:
    with Desk.at(database_url) as reacting:
        tenant_with_agent(reacting, START)
        log_in(reacting, START)
        ready(reacting, START)
    with Desk.at(database_url, reacting=False) as recording:
        recording.hear("acme", offered("a-17"), START)
        call = recording.call("acme", str(Call.create_id("acme", "pbx", "c-1")))
        agent = recording.agent("acme", "a-17")
    assert call.state is CallState.OFFERED
    assert agent.state is AgentState.AVAILABLE  # no policy moved the agent
    assert agent.calls == ()
