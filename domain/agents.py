"""The agent's presence: the status the agent picked, under the work that calls impose.

Two layers, because contact centers need both (ADR/0004): the *presence* is what the
agent chose (logged out, available, not ready for a reason); the *work* is what the
phone system says the agent's calls need (offered, dialing, on call, wrap-up), one entry
per call, several at once. The state everyone sees is the most demanding work while
there is any, else the presence. A status picked during work is queued as the next
status and applies when the last call is released.
"""

import enum
from datetime import datetime
from uuid import UUID

import attrs
from eventsourcing.domain import Aggregate, event

from calldesk.domain.errors import Refused
from calldesk.domain.identity import checked_slug, checked_text, stable_id
from calldesk.domain.tenants import NotReadyReason, WrapUpPolicy


class Presence(enum.Enum):
    """What the agent picked."""

    LOGGED_OUT = "logged-out"
    AVAILABLE = "available"
    NOT_READY = "not-ready"


class Work(enum.Enum):
    """What one call asks of the agent, by the phone system's account."""

    OFFERED = "offered"
    DIALING = "dialing"
    ON_CALL = "on-call"
    WRAP_UP = "wrap-up"


class AgentState(enum.Enum):
    """What the softphone, supervisors and routing see."""

    LOGGED_OUT = "logged-out"
    AVAILABLE = "available"
    NOT_READY = "not-ready"
    OFFERED = "offered"
    DIALING = "dialing"
    ON_CALL = "on-call"
    WRAP_UP = "wrap-up"


#: When an agent works on several calls, the one that shows: talking beats ringing.
_WORK_PRECEDENCE = (Work.ON_CALL, Work.DIALING, Work.OFFERED, Work.WRAP_UP)


@attrs.frozen(slots=False)
class Pick:
    """A status the agent picked: a presence, with its reason when not ready."""

    presence: Presence
    reason: NotReadyReason | None = None


@attrs.frozen(slots=False)
class CallWork:
    call: str
    work: Work


class AgentLoggedOut(Refused):
    """Presence and calls need a logged-in agent."""


class AgentHasCallWork(Refused):
    """Logging out would abandon a call or its wrap-up."""


class AgentNotAvailable(Refused):
    """Only an available agent takes calls and dials."""


class Agent(Aggregate):
    """One person at a desk, within one tenant, identified by a handle like "a-17"."""

    TOPIC = "calldesk.agent.Agent"

    class Event(Aggregate.Event):
        TOPIC = "calldesk.agent.Event"

    @staticmethod
    def create_id(tenant: str, handle: str) -> UUID:
        return stable_id("agent", tenant, handle)

    @classmethod
    def register(cls, tenant: str, handle: str, name: str, at: datetime) -> "Agent":
        """A new agent, logged out, once the handle and name pass their rules."""
        return cls(
            tenant=checked_slug(tenant, "a tenant"),
            handle=checked_slug(handle, "an agent handle"),
            name=checked_text(name, "an agent name"),
            timestamp=at,
        )

    @event("Registered", topic="calldesk.agent.Registered")
    def __init__(self, tenant: str, handle: str, name: str, timestamp: datetime) -> None:
        self.tenant = tenant
        self.handle = handle
        self.name = name
        self.presence = Presence.LOGGED_OUT
        self.not_ready_reason: NotReadyReason | None = None
        self.next_pick: Pick | None = None
        self.calls: tuple[CallWork, ...] = ()
        self.state_since = timestamp

    @property
    def state(self) -> AgentState:
        works = {call.work for call in self.calls}
        for work in _WORK_PRECEDENCE:
            if work in works:
                return AgentState(work.value)
        return AgentState(self.presence.value)

    @property
    def takes_calls(self) -> bool:
        """Routable: available, and no call in hand."""
        return self.presence is Presence.AVAILABLE and not self.calls

    def work_on(self, call: str) -> Work | None:
        return next((c.work for c in self.calls if c.call == call), None)

    def __str__(self) -> str:
        return f"agent {self.handle}"

    # Commands: each checks its rule, then records events or nothing at all.

    def log_in(self, at: datetime) -> None:
        """Start a shift: the agent lands not ready, so no call rings before they choose."""
        if self.presence is Presence.LOGGED_OUT:
            self._logged_in(timestamp=at)

    def go_available(self, at: datetime) -> None:
        self._pick(Pick(Presence.AVAILABLE), at)

    def go_not_ready(self, reason: NotReadyReason, at: datetime) -> None:
        """Take no calls, for a reason from the tenant's list (see Tenant)."""
        self._pick(Pick(Presence.NOT_READY, reason), at)

    def log_out(self, at: datetime) -> None:
        if self.presence is Presence.LOGGED_OUT:
            return
        if self.calls:
            calls = ", ".join(f"{c.work.value} on call {c.call}" for c in self.calls)
            raise AgentHasCallWork(
                f"{self} has call work ({calls}); end the calls and their wrap-up "
                "before logging out"
            )
        self._logged_out(timestamp=at)

    def check_can_dial(self) -> None:
        """Only an available agent who is not already ringing or dialing places a call."""
        if self.presence is not Presence.AVAILABLE:
            raise AgentNotAvailable(
                f"{self} is {self._presence_described()}; only available agents dial"
            )
        busy = [c for c in self.calls if c.work in (Work.DIALING, Work.OFFERED)]
        if busy:
            raise AgentNotAvailable(
                f"{self} is {busy[0].work.value} on call {busy[0].call}; "
                "answer or end it first"
            )

    def work_changed(self, call: str, work: Work, at: datetime) -> None:
        """The phone system says what this call now asks of the agent: it is the truth."""
        if self.work_on(call) is not work:
            self._call_work_changed(call=call, work=work, timestamp=at)

    def release(self, call: str, handled: bool, policy: WrapUpPolicy, at: datetime) -> None:
        """The call closed. With the last one, the agent returns to a picked status."""
        if self.work_on(call) is None:
            return
        then = self._after_release(handled, policy)
        self._call_released(call=call, then=then, timestamp=at)

    def _after_release(self, handled: bool, policy: WrapUpPolicy) -> Pick | None:
        if len(self.calls) > 1 or self.presence is Presence.LOGGED_OUT:
            return None
        if self.next_pick is not None:
            return self.next_pick
        if not handled:
            return None
        if policy.auto_ready:
            return Pick(Presence.AVAILABLE)
        return Pick(Presence.NOT_READY)

    def _pick(self, pick: Pick, at: datetime) -> None:
        if self.presence is Presence.LOGGED_OUT:
            raise AgentLoggedOut(f"{self} is logged out; log in first")
        if self.calls:
            current = self.next_pick or Pick(self.presence, self.not_ready_reason)
            if pick != current:
                self._next_picked(pick=pick, timestamp=at)
        elif pick != Pick(self.presence, self.not_ready_reason):
            self._picked(pick=pick, timestamp=at)

    def _presence_described(self) -> str:
        if self.presence is Presence.NOT_READY and self.not_ready_reason is not None:
            return f"not ready ({self.not_ready_reason.label})"
        return self.presence.value.replace("-", " ")

    # Events: each body only changes state, and runs again on every replay.

    @event("LoggedIn", topic="calldesk.agent.LoggedIn")
    def _logged_in(self, timestamp: datetime) -> None:
        self._show(Pick(Presence.NOT_READY), timestamp)

    @event("StatusPicked", topic="calldesk.agent.StatusPicked")
    def _picked(self, pick: Pick, timestamp: datetime) -> None:
        self._show(pick, timestamp)

    @event("NextStatusPicked", topic="calldesk.agent.NextStatusPicked")
    def _next_picked(self, pick: Pick, timestamp: datetime) -> None:
        self.next_pick = pick

    @event("LoggedOut", topic="calldesk.agent.LoggedOut")
    def _logged_out(self, timestamp: datetime) -> None:
        self._show(Pick(Presence.LOGGED_OUT), timestamp)

    @event("CallWorkChanged", topic="calldesk.agent.CallWorkChanged")
    def _call_work_changed(self, call: str, work: Work, timestamp: datetime) -> None:
        shown = self.state
        others = tuple(c for c in self.calls if c.call != call)
        self.calls = (*others, CallWork(call, work))
        if self.state is not shown:
            self.state_since = timestamp

    @event("CallReleased", topic="calldesk.agent.CallReleased")
    def _call_released(self, call: str, then: Pick | None, timestamp: datetime) -> None:
        shown = self.state
        self.calls = tuple(c for c in self.calls if c.call != call)
        if not self.calls:
            self.next_pick = None
            if then is not None:
                self.presence, self.not_ready_reason = then.presence, then.reason
        if self.state is not shown:
            self.state_since = timestamp

    def _show(self, pick: Pick, timestamp: datetime) -> None:
        self.presence, self.not_ready_reason = pick.presence, pick.reason
        self.state_since = timestamp
