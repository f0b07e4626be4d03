"""The Agent aggregate's presence rules, alone: no store, no clock."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from support.presence_model import RECORDED, UNCHANGED, Expected, ReferencePresence

from calldesk.domain.agents import (
    Agent,
    AgentHasCallWork,
    AgentLoggedOut,
    AgentNotAvailable,
    AgentState,
    NoSuchCallWork,
)
from calldesk.domain.errors import InvalidValue
from calldesk.domain.tenants import DEFAULT_NOT_READY_REASONS

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LUNCH = DEFAULT_NOT_READY_REASONS[1]


def registered() -> Agent:
    return Agent.register("acme", "a-17", "Ada Lovelace", START)


def test_a_registered_agent_starts_logged_out_and_takes_no_call() -> None:
    agent = registered()
    assert agent.state is AgentState.LOGGED_OUT
    with pytest.raises(AgentNotAvailable, match="a-17 is logged out"):
        agent.start_call_work("c-1", START)


def test_ready_while_logged_out_says_to_log_in_first() -> None:
    with pytest.raises(AgentLoggedOut, match=r"^agent a-17 is logged out; log in first$"):
        registered().go_available(START)


def test_logging_in_lands_not_ready_so_no_call_rings_before_the_agent_chooses() -> None:
    agent = registered()
    agent.log_in(START)
    assert agent.state is AgentState.NOT_READY
    assert agent.not_ready_reason is None


def test_a_status_picked_during_a_call_applies_when_its_work_ends() -> None:
    agent = registered()
    agent.log_in(START)
    agent.go_available(START)
    agent.start_call_work("c-1", START + timedelta(seconds=5))
    agent.go_not_ready(LUNCH, START + timedelta(seconds=10))
    assert agent.state is AgentState.BUSY
    agent.start_after_call_work("c-1", START + timedelta(seconds=60))
    agent.finish_after_call_work(START + timedelta(seconds=90))
    assert agent.state is AgentState.NOT_READY
    assert agent.not_ready_reason == LUNCH
    assert agent.state_since == START + timedelta(seconds=90)


def test_logging_out_with_call_work_is_refused_and_names_the_call() -> None:
    agent = registered()
    agent.log_in(START)
    agent.go_available(START)
    agent.start_call_work("c-1", START)
    agent.start_after_call_work("c-1", START)
    with pytest.raises(AgentHasCallWork, match="after-call-work on call c-1"):
        agent.log_out(START)


def test_after_call_work_for_another_call_is_refused() -> None:
    agent = registered()
    agent.log_in(START)
    agent.go_available(START)
    agent.start_call_work("c-1", START)
    with pytest.raises(NoSuchCallWork):
        agent.start_after_call_work("c-2", START)


@pytest.mark.parametrize(
    ("handle", "message"),
    [
        ("", "must not be empty"),
        ("A-17", "lower-case"),
        ("a" * 64, "at most 63"),
        ("-a", "start and end"),
    ],
)
def test_a_bad_handle_is_refused_with_its_rule(handle: str, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        Agent.register("acme", handle, "Ada", START)


def test_an_agent_name_of_only_spaces_is_refused() -> None:
    with pytest.raises(InvalidValue, match="an agent name must not be empty"):
        Agent.register("acme", "a-17", "   ", START)


def test_the_same_tenant_and_handle_always_give_the_same_agent_id() -> None:
    assert Agent.create_id("acme", "a-17") == registered().id
    assert Agent.create_id("other", "a-17") != registered().id


def replayed(events: list[Agent.Event]) -> Agent:
    agent: Agent | None = None
    for recorded in events:
        agent = recorded.mutate(agent)
    assert agent is not None
    return agent


class AgentAgainstReference(RuleBasedStateMachine):
    """Random presence and call-work commands on the aggregate and on the model."""

    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.agent = registered()
        self.model = ReferencePresence(since=START)
        self.recorded = list(self.agent.collect_events())

    def check(self, expected: Expected, command: object, *args: object) -> None:
        version = self.agent.version
        if isinstance(expected, type):
            with pytest.raises(expected):
                command(*args)  # type: ignore[operator]
            assert self.agent.version == version
        else:
            command(*args)  # type: ignore[operator]
            assert self.agent.version == version + (expected == RECORDED)
            assert expected in (RECORDED, UNCHANGED)
        self.recorded += self.agent.collect_events()

    @rule(seconds=st.integers(0, 3600))
    def time_passes(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @rule()
    def log_in(self) -> None:
        self.check(self.model.log_in(self.now), self.agent.log_in, self.now)

    @rule()
    def go_available(self) -> None:
        self.check(self.model.go_available(self.now), self.agent.go_available, self.now)

    @rule(reason=st.sampled_from(DEFAULT_NOT_READY_REASONS))
    def go_not_ready(self, reason: object) -> None:
        expected = self.model.go_not_ready(reason.code, self.now)  # type: ignore[attr-defined]
        self.check(expected, self.agent.go_not_ready, reason, self.now)

    @rule()
    def log_out(self) -> None:
        self.check(self.model.log_out(self.now), self.agent.log_out, self.now)

    @rule(call=st.sampled_from(["c-1", "c-2"]))
    def call_reaches_agent(self, call: str) -> None:
        expected = self.model.start_call_work(call, self.now)
        self.check(expected, self.agent.start_call_work, call, self.now)

    @rule(call=st.sampled_from(["c-1", "c-2"]))
    def call_ends(self, call: str) -> None:
        expected = self.model.start_after_call_work(call, self.now)
        self.check(expected, self.agent.start_after_call_work, call, self.now)

    @rule()
    def wrap_up_done(self) -> None:
        expected = self.model.finish_after_call_work(self.now)
        self.check(expected, self.agent.finish_after_call_work, self.now)

    @invariant()
    def agrees_with_the_reference(self) -> None:
        agent, model = self.agent, self.model
        assert agent.state.value == model.state
        assert agent.presence.value == model.presence
        assert (agent.not_ready_reason and agent.not_ready_reason.code) == model.reason
        assert agent.call_ref == model.call
        assert agent.state_since == model.since

    @invariant()
    def replaying_its_events_gives_the_same_agent(self) -> None:
        assert vars(replayed(self.recorded)) == vars(self.agent)


TestAgentAgainstReference = AgentAgainstReference.TestCase
