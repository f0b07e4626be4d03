"""Agent presence through the application, on SQLite and on a real PostgreSQL."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from support.clock import Clock
from support.desk_driver import log_in, log_out, not_ready, ready, tenant_with_agent
from support.presence_model import RECORDED, UNCHANGED, Expected, ReferencePresence

from calldesk.apps.desk import Desk
from calldesk.apps.presence import GoNotReady, LogIn, RegisterAgent
from calldesk.apps.tenancy import CreateTenant, DefineNotReadyReasons
from calldesk.domain.agents import AgentState
from calldesk.domain.errors import AlreadyExists, DomainError, InvalidValue, NotFound
from calldesk.domain.tenants import DEFAULT_NOT_READY_REASONS, NotReadyReason


def test_a_shift_of_presence_changes_is_recorded_and_replayed_in_order(
    desk: Desk, clock: Clock
) -> None:
    tenant_with_agent(desk, clock())
    log_in(desk, clock.advance())
    ready(desk, clock.advance())
    lunch = not_ready(desk, "lunch", clock.advance(60))
    ready(desk, clock.advance(1800))
    log_out(desk, clock.advance(3600))
    history = desk.agent_history("acme", "a-17")
    assert [(entry.event, entry.state) for entry in history] == [
        ("Registered", AgentState.LOGGED_OUT),
        ("LoggedIn", AgentState.NOT_READY),
        ("StatusPicked", AgentState.AVAILABLE),
        ("StatusPicked", AgentState.NOT_READY),
        ("StatusPicked", AgentState.AVAILABLE),
        ("LoggedOut", AgentState.LOGGED_OUT),
    ]
    assert history[-1].said_at == clock()
    assert lunch.not_ready_reason == NotReadyReason("lunch", "Lunch")
    assert lunch.since == history[3].said_at


def test_repeating_the_current_status_records_nothing(desk: Desk, clock: Clock) -> None:
    tenant_with_agent(desk, clock())
    log_in(desk, clock.advance())
    first = not_ready(desk, "lunch", clock.advance())
    head = desk.head()
    again = not_ready(desk, "lunch", clock.advance())
    assert (again, desk.head()) == (first, head)


def test_a_tenants_new_reason_list_is_what_its_agents_choose_from(
    desk: Desk, clock: Clock
) -> None:
    tenant_with_agent(desk, clock())
    log_in(desk, clock.advance())
    coaching = NotReadyReason("coaching", "Coaching session")
    desk.define_not_ready_reasons(
        DefineNotReadyReasons("acme", reasons=(coaching,), at=clock.advance())
    )
    assert not_ready(desk, "coaching", clock.advance()).not_ready_reason == coaching
    with pytest.raises(NotFound, match=r"choose one of: coaching$"):
        not_ready(desk, "lunch", clock.advance())


BAD_COMMANDS: dict[str, tuple[type[DomainError], Callable[[Desk, datetime], object]]] = {
    "unknown agent": (NotFound, lambda d, at: log_in(d, at, agent="a-99")),
    "agent of another tenant": (
        NotFound,
        lambda d, at: log_in(d, at, tenant="globex"),
    ),
    "unknown tenant": (NotFound, lambda d, at: log_in(d, at, tenant="nobody")),
    "unknown reason code": (NotFound, lambda d, at: not_ready(d, "nap", at)),
    "ready while logged out": (DomainError, lambda d, at: ready(d, at)),
    "empty handle": (InvalidValue, lambda d, at: log_in(d, at, agent="")),
    "oversized handle": (InvalidValue, lambda d, at: log_in(d, at, agent="a" * 64)),
    "oversized tenant": (InvalidValue, lambda d, at: log_in(d, at, tenant="t" * 300)),
    "empty reason": (InvalidValue, lambda d, at: not_ready(d, "", at)),
    "naive time": (
        InvalidValue,
        lambda d, at: d.log_in(LogIn("acme", "a-17", at=at.replace(tzinfo=None))),
    ),
    "empty agent name": (
        InvalidValue,
        lambda d, at: d.register_agent(RegisterAgent("acme", "a-18", name=" ", at=at)),
    ),
    "oversized agent name": (
        InvalidValue,
        lambda d, at: d.register_agent(
            RegisterAgent("acme", "a-18", name="n" * 201, at=at)
        ),
    ),
    "agent registered twice": (
        AlreadyExists,
        lambda d, at: d.register_agent(RegisterAgent("acme", "a-17", name="Ada", at=at)),
    ),
    "agent in a tenant that does not exist": (
        NotFound,
        lambda d, at: d.register_agent(RegisterAgent("nobody", "a-1", name="Al", at=at)),
    ),
    "tenant created twice": (
        AlreadyExists,
        lambda d, at: d.create_tenant(CreateTenant("acme", name="Acme", at=at)),
    ),
    "tenant with no reasons": (
        InvalidValue,
        lambda d, at: d.create_tenant(
            CreateTenant("initech", name="Initech", not_ready_reasons=(), at=at)
        ),
    ),
    "reason code listed twice": (
        InvalidValue,
        lambda d, at: d.define_not_ready_reasons(
            DefineNotReadyReasons("acme", reasons=DEFAULT_NOT_READY_REASONS[:1] * 2, at=at)
        ),
    ),
}


@pytest.mark.parametrize("case", BAD_COMMANDS, ids=str)
def test_bad_input_is_refused_clearly_and_records_nothing(
    desk: Desk, clock: Clock, case: str
) -> None:
    tenant_with_agent(desk, clock())
    tenant_with_agent(desk, clock(), tenant="globex", agent="g-1")
    head, before = desk.head(), desk.agent("acme", "a-17")
    error, command = BAD_COMMANDS[case]
    with pytest.raises(error) as refusal:
        command(desk, clock.advance())
    assert str(refusal.value)
    assert desk.head() == head
    assert desk.agent("acme", "a-17") == before


def test_a_wrong_tenant_looks_exactly_like_an_unknown_agent(
    desk: Desk, clock: Clock
) -> None:
    tenant_with_agent(desk, clock())
    tenant_with_agent(desk, clock(), tenant="globex", agent="g-1")
    with pytest.raises(NotFound) as wrong_tenant:
        desk.agent("globex", "a-17")
    with pytest.raises(NotFound) as unknown:
        desk.agent("globex", "a-99")
    assert str(wrong_tenant.value).replace("a-17", "a-99") == str(unknown.value)


class DeskAgainstReference(RuleBasedStateMachine):
    """Random presence commands through the application and on the reference model."""

    desk: Desk
    tenants = count()

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        # A tenant of its own per example: examples share one store, never an agent.
        self.tenant = f"t{next(self.tenants)}"
        tenant_with_agent(self.desk, self.clock(), tenant=self.tenant)
        self.model = ReferencePresence(since=self.clock())

    def check(self, expected: Expected, command: Callable[[], object]) -> None:
        head = self.desk.head()
        if isinstance(expected, type):
            with pytest.raises(expected):
                command()
            assert self.desk.head() == head
        else:
            command()
            assert self.desk.head() == head + (expected == RECORDED)
            assert expected in (RECORDED, UNCHANGED)

    @rule(seconds=st.integers(0, 3600))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(seconds)

    @rule()
    def log_in(self) -> None:
        at = self.clock()
        self.check(self.model.log_in(at), lambda: log_in(self.desk, at, self.tenant))

    @rule()
    def ready(self) -> None:
        at = self.clock()
        self.check(self.model.go_available(at), lambda: ready(self.desk, at, self.tenant))

    @rule(reason=st.sampled_from([r.code for r in DEFAULT_NOT_READY_REASONS]))
    def not_ready(self, reason: str) -> None:
        at = self.clock()
        command = GoNotReady(self.tenant, "a-17", reason=reason, at=at)
        self.check(
            self.model.go_not_ready(reason, at), lambda: self.desk.go_not_ready(command)
        )

    @rule()
    def log_out(self) -> None:
        at = self.clock()
        self.check(self.model.log_out(at), lambda: log_out(self.desk, at, self.tenant))

    @invariant()
    def the_stored_agent_agrees_with_the_reference(self) -> None:
        view = self.desk.agent(self.tenant, "a-17")
        assert view.state.value == self.model.state
        reason = view.not_ready_reason and view.not_ready_reason.code
        assert reason == self.model.reason
        assert view.since == self.model.since
        assert self.desk.agent_history(self.tenant, "a-17")[-1].state is view.state


def test_presence_follows_the_reference_model_through_the_store(desk: Desk) -> None:
    machine = type("Machine", (DeskAgainstReference,), {"desk": desk})
    run_state_machine_as_test(machine)


def test_time_in_commands_is_the_time_recorded(desk: Desk, clock: Clock) -> None:
    tenant_with_agent(desk, clock())
    at = clock.advance(timedelta(hours=3).total_seconds())
    assert log_in(desk, at).since == at
    assert desk.agent_history("acme", "a-17")[-1].said_at == at


def test_each_event_also_keeps_the_time_the_store_recorded_it_by_its_own_clock(
    desk: Desk, clock: Clock
) -> None:
    """A command's time is whatever its caller said (a simulator's, an import's); the
    store's own clock is what an auditor orders recordings by (ADR/0019)."""
    before = datetime.now(UTC) - timedelta(seconds=1)
    tenant_with_agent(desk, clock())
    log_in(desk, clock.advance(60))
    log_out(desk, clock.advance(60))
    after = datetime.now(UTC) + timedelta(seconds=1)

    history = desk.agent_history("acme", "a-17")

    recorded = [entry.recorded_at for entry in history]
    assert [entry.said_at for entry in history][1:] == [
        clock() - timedelta(seconds=60),
        clock(),
    ]
    assert all(at is not None and before <= at <= after for at in recorded), recorded
    assert recorded == sorted(recorded)  # type: ignore[type-var]
