"""The Agent aggregate's presence rules, alone: no store, no clock."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from eventsourcing.domain import CanMutateAggregate
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from support.presence_model import RECORDED, UNCHANGED, Expected, ReferencePresence

from calldesk.domain.agents import (
    Agent,
    AgentHasCallWork,
    AgentLoggedOut,
    AgentNotAvailable,
    AgentState,
    Presence,
    Work,
)
from calldesk.domain.errors import InvalidValue
from calldesk.domain.tenants import DEFAULT_NOT_READY_REASONS, WrapUpPolicy

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LUNCH = DEFAULT_NOT_READY_REASONS[1]


def registered() -> Agent:
    return Agent.register("acme", "a-17", "Ada Lovelace", START)


def test_a_registered_agent_starts_logged_out_and_takes_no_call() -> None:
    agent = registered()
    assert agent.state is AgentState.LOGGED_OUT
    assert not agent.takes_calls
    with pytest.raises(AgentNotAvailable, match="a-17 is logged out; only available"):
        agent.check_can_dial()


def test_ready_while_logged_out_says_to_log_in_first() -> None:
    with pytest.raises(AgentLoggedOut, match=r"^agent a-17 is logged out; log in first$"):
        registered().go_available(START)


def test_logging_in_lands_not_ready_so_no_call_rings_before_the_agent_chooses() -> None:
    agent = registered()
    agent.log_in(START)
    assert agent.state is AgentState.NOT_READY
    assert agent.not_ready_reason is None
    assert not agent.takes_calls


def available() -> Agent:
    agent = registered()
    agent.log_in(START)
    agent.go_available(START)
    return agent


def test_a_status_picked_during_a_call_applies_when_its_last_call_is_released() -> None:
    agent = available()
    agent.work_changed("c-1", Work.ON_CALL, START + timedelta(seconds=5))
    agent.go_not_ready(LUNCH, START + timedelta(seconds=10))
    assert (agent.state, agent.presence) == (AgentState.ON_CALL, Presence.AVAILABLE)
    agent.work_changed("c-1", Work.WRAP_UP, START + timedelta(seconds=60))
    agent.release("c-1", True, WrapUpPolicy(), START + timedelta(seconds=90))
    assert agent.state is AgentState.NOT_READY
    assert agent.not_ready_reason == LUNCH
    assert agent.state_since == START + timedelta(seconds=90)


def test_a_second_call_rings_while_the_first_is_on_call_and_talking_shows() -> None:
    agent = available()
    agent.work_changed("c-1", Work.ON_CALL, START)
    agent.work_changed("c-2", Work.OFFERED, START + timedelta(seconds=30))
    assert agent.state is AgentState.ON_CALL
    assert agent.state_since == START
    agent.release("c-1", True, WrapUpPolicy(), START + timedelta(seconds=40))
    assert agent.state is AgentState.OFFERED


@pytest.mark.parametrize(
    ("auto_ready", "after"), [(True, AgentState.AVAILABLE), (False, AgentState.NOT_READY)]
)
def test_after_a_handled_call_the_wrap_up_policy_decides_where_the_agent_lands(
    auto_ready: bool, after: AgentState
) -> None:
    agent = available()
    agent.work_changed("c-1", Work.ON_CALL, START)
    agent.release("c-1", True, WrapUpPolicy(auto_ready=auto_ready), START)
    assert agent.state is after


def test_a_missed_offer_returns_the_agent_to_what_they_were() -> None:
    agent = available()
    agent.work_changed("c-1", Work.OFFERED, START)
    agent.release("c-1", False, WrapUpPolicy(auto_ready=False), START)
    assert agent.state is AgentState.AVAILABLE


def test_logging_out_with_call_work_is_refused_and_names_the_call() -> None:
    agent = available()
    agent.work_changed("c-1", Work.WRAP_UP, START)
    with pytest.raises(AgentHasCallWork, match="wrap-up on call c-1"):
        agent.log_out(START)


def test_an_agent_already_ringing_cannot_dial() -> None:
    agent = available()
    agent.work_changed("c-1", Work.OFFERED, START)
    with pytest.raises(AgentNotAvailable, match="offered on call c-1"):
        agent.check_can_dial()


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


def replayed(events: list[CanMutateAggregate[UUID]]) -> Agent:
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

    @rule(call=st.sampled_from(["c-1", "c-2"]), work=st.sampled_from(Work))
    def phone_system_reports_work(self, call: str, work: Work) -> None:
        expected = self.model.work_changed(call, work.value, self.now)
        self.check(expected, self.agent.work_changed, call, work, self.now)

    @rule(call=st.sampled_from(["c-1", "c-2"]), handled=st.booleans())
    def call_closes(self, call: str, handled: bool) -> None:
        expected = self.model.release(call, handled, self.now)
        self.check(expected, self.agent.release, call, handled, WrapUpPolicy(), self.now)

    @invariant()
    def agrees_with_the_reference(self) -> None:
        agent, model = self.agent, self.model
        assert agent.state.value == model.state
        assert agent.presence.value == model.presence
        assert (agent.not_ready_reason and agent.not_ready_reason.code) == model.reason
        assert {c.call: c.work.value for c in agent.calls} == model.calls
        assert agent.state_since == model.since

    @invariant()
    def replaying_its_events_gives_the_same_agent(self) -> None:
        assert vars(replayed(self.recorded)) == vars(self.agent)


TestAgentAgainstReference = AgentAgainstReference.TestCase
