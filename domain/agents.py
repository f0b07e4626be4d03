"""The agent's presence: the status the agent picked, under the work that calls impose.

Two layers, because contact centers need both (ADR/0004): the *presence* is what the
agent chose (logged out, available, not ready for a reason); the *work* is what calls
impose (busy on a call, after-call work). The state everyone sees is the work while there
is any, else the presence. A status picked while busy therefore waits, and applies the
moment the work ends.
"""

import enum
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from calldesk.domain.errors import Refused
from calldesk.domain.identity import checked_slug, checked_text, stable_id
from calldesk.domain.tenants import NotReadyReason


class Presence(enum.Enum):
    """What the agent picked."""

    LOGGED_OUT = "logged-out"
    AVAILABLE = "available"
    NOT_READY = "not-ready"


class Work(enum.Enum):
    """What calls impose on the agent, whatever the agent picked."""

    IDLE = "idle"
    BUSY = "busy"
    AFTER_CALL_WORK = "after-call-work"


class AgentState(enum.Enum):
    """What the softphone, supervisors and routing see."""

    LOGGED_OUT = "logged-out"
    AVAILABLE = "available"
    NOT_READY = "not-ready"
    BUSY = "busy"
    AFTER_CALL_WORK = "after-call-work"


class AgentLoggedOut(Refused):
    """Presence and calls need a logged-in agent."""


class AgentHasCallWork(Refused):
    """Logging out would abandon a call or its after-call work."""


class AgentNotAvailable(Refused):
    """Only an available agent with no call work takes a call."""


class NoSuchCallWork(Refused):
    """A step of call work that does not follow the agent's current work."""


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
        self.work = Work.IDLE
        self.call_ref: str | None = None
        self.state_since = timestamp

    @property
    def state(self) -> AgentState:
        if self.work is not Work.IDLE:
            return AgentState(self.work.value)
        return AgentState(self.presence.value)

    def __str__(self) -> str:
        return f"agent {self.handle}"

    # Commands: each checks its rule, then records one event or nothing at all.

    def log_in(self, at: datetime) -> None:
        """Start a shift: the agent lands not ready, so no call rings before they choose."""
        if self.presence is Presence.LOGGED_OUT:
            self._logged_in(timestamp=at)

    def go_available(self, at: datetime) -> None:
        self._require_logged_in()
        if self.presence is not Presence.AVAILABLE:
            self._became_available(timestamp=at)

    def go_not_ready(self, reason: NotReadyReason, at: datetime) -> None:
        """Take no calls, for a reason from the tenant's list (see Tenant)."""
        self._require_logged_in()
        if self.presence is not Presence.NOT_READY or self.not_ready_reason != reason:
            self._became_not_ready(reason=reason, timestamp=at)

    def log_out(self, at: datetime) -> None:
        if self.presence is Presence.LOGGED_OUT:
            return
        if self.work is not Work.IDLE:
            raise AgentHasCallWork(
                f"{self} has call work ({self.state.value} on call {self.call_ref}); "
                "end the call and its after-call work before logging out"
            )
        self._logged_out(timestamp=at)

    def start_call_work(self, call_ref: str, at: datetime) -> None:
        """A call reached the agent: busy until it ends."""
        if self.work is not Work.IDLE:
            raise AgentNotAvailable(
                f"{self} is already {self.state.value} on call {self.call_ref}"
            )
        if self.presence is not Presence.AVAILABLE:
            raise AgentNotAvailable(
                f"{self} is {self._presence_described()}; only available agents take calls"
            )
        self._call_work_started(call_ref=call_ref, timestamp=at)

    def start_after_call_work(self, call_ref: str, at: datetime) -> None:
        """The call ended: wrap it up before the next one."""
        if self.work is not Work.BUSY or self.call_ref != call_ref:
            raise NoSuchCallWork(f"{self} is not busy on call {call_ref}")
        self._after_call_work_started(timestamp=at)

    def finish_after_call_work(self, at: datetime) -> None:
        """Wrap-up done: the agent returns to the status they picked last."""
        if self.work is not Work.AFTER_CALL_WORK:
            raise NoSuchCallWork(f"{self} is not in after-call work")
        self._after_call_work_finished(timestamp=at)

    def _require_logged_in(self) -> None:
        if self.presence is Presence.LOGGED_OUT:
            raise AgentLoggedOut(f"{self} is logged out; log in first")

    def _presence_described(self) -> str:
        if self.not_ready_reason is None:
            return self.presence.value.replace("-", " ")
        return f"not ready ({self.not_ready_reason.label})"

    # Events: each body only changes state, and runs again on every replay.

    @event("LoggedIn", topic="calldesk.agent.LoggedIn")
    def _logged_in(self, timestamp: datetime) -> None:
        self._pick(Presence.NOT_READY, None, timestamp)

    @event("BecameAvailable", topic="calldesk.agent.BecameAvailable")
    def _became_available(self, timestamp: datetime) -> None:
        self._pick(Presence.AVAILABLE, None, timestamp)

    @event("BecameNotReady", topic="calldesk.agent.BecameNotReady")
    def _became_not_ready(self, reason: NotReadyReason, timestamp: datetime) -> None:
        self._pick(Presence.NOT_READY, reason, timestamp)

    @event("LoggedOut", topic="calldesk.agent.LoggedOut")
    def _logged_out(self, timestamp: datetime) -> None:
        self._pick(Presence.LOGGED_OUT, None, timestamp)

    @event("CallWorkStarted", topic="calldesk.agent.CallWorkStarted")
    def _call_work_started(self, call_ref: str, timestamp: datetime) -> None:
        self.work, self.call_ref, self.state_since = Work.BUSY, call_ref, timestamp

    @event("AfterCallWorkStarted", topic="calldesk.agent.AfterCallWorkStarted")
    def _after_call_work_started(self, timestamp: datetime) -> None:
        self.work, self.state_since = Work.AFTER_CALL_WORK, timestamp

    @event("AfterCallWorkFinished", topic="calldesk.agent.AfterCallWorkFinished")
    def _after_call_work_finished(self, timestamp: datetime) -> None:
        self.work, self.call_ref, self.state_since = Work.IDLE, None, timestamp

    def _pick(
        self, presence: Presence, reason: NotReadyReason | None, timestamp: datetime
    ) -> None:
        """A new pick shows at once when the agent is idle, else when the work ends."""
        self.presence, self.not_ready_reason = presence, reason
        if self.work is Work.IDLE:
            self.state_since = timestamp
