"""Use cases of agent presence: register, log in, go available or not ready, log out."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

import attrs

from calldesk.apps.aggregates import agent_named, tenant_named
from calldesk.apps.commands import AgentCommand, code, text
from calldesk.apps.conversion import converter
from calldesk.apps.unit_of_work import Service, writes
from calldesk.domain.agents import Agent, AgentState, CallWork, Pick, Presence
from calldesk.domain.tenants import NotReadyReason


@attrs.frozen
class RegisterAgent(AgentCommand):
    name: str = attrs.field(validator=text("an agent name"))


@attrs.frozen
class LogIn(AgentCommand):
    pass


@attrs.frozen
class GoAvailable(AgentCommand):
    pass


@attrs.frozen
class GoNotReady(AgentCommand):
    reason: str = attrs.field(validator=code("a not-ready reason code"))


@attrs.frozen
class LogOut(AgentCommand):
    pass


@attrs.frozen
class AgentView:
    """An agent as the softphone, the CLI and supervisors show it."""

    tenant: str
    agent: str
    name: str
    state: AgentState
    presence: Presence
    not_ready_reason: NotReadyReason | None
    next_pick: Pick | None
    calls: tuple[CallWork, ...]
    since: datetime
    version: int

    @classmethod
    def of(cls, agent: Agent) -> "AgentView":
        return cls(
            tenant=agent.tenant,
            agent=agent.handle,
            name=agent.name,
            state=agent.state,
            presence=agent.presence,
            not_ready_reason=agent.not_ready_reason,
            next_pick=agent.next_pick,
            calls=tuple(agent.calls),
            since=agent.state_since,
            version=agent.version,
        )


@attrs.frozen
class AgentHistoryEntry:
    """One recorded event of an agent, and the state it left the agent in: for audits."""

    version: int
    event: str
    #: The time the command said it happened (the event's timestamp).
    said_at: datetime
    #: The store's own clock when it recorded the event (ADR/0019); None for events
    #: recorded before the store kept it.
    recorded_at: datetime | None
    state: AgentState
    details: dict[str, Any]


#: Fields every event has; the history shows them as columns, not as details.
_EVENT_ENVELOPE = frozenset(
    ("originator_id", "originator_version", "originator_topic", "timestamp")
)


class AgentPresence(Service):
    """Agents and their presence: register, log in, available, not ready, log out."""

    SNAPSHOTS = {Agent: 100}  # noqa: RUF012 (an agent grows with every change)

    @writes
    def register_agent(self, command: RegisterAgent) -> AgentView:
        tenant_named(self.work, command.tenant)
        agent = Agent.register(command.tenant, command.agent, command.name, command.at)
        return AgentView.of(
            self.work.create(
                agent,
                f"agent {command.agent} already exists in tenant {command.tenant}",
            )
        )

    @writes
    def log_in(self, command: LogIn) -> AgentView:
        return self._command(command, lambda agent: agent.log_in(command.at))

    @writes
    def go_available(self, command: GoAvailable) -> AgentView:
        return self._command(command, lambda agent: agent.go_available(command.at))

    @writes
    def go_not_ready(self, command: GoNotReady) -> AgentView:
        reason = tenant_named(self.work, command.tenant).not_ready_reason(command.reason)
        return self._command(command, lambda agent: agent.go_not_ready(reason, command.at))

    @writes
    def log_out(self, command: LogOut) -> AgentView:
        return self._command(command, lambda agent: agent.log_out(command.at))

    def agent(self, tenant: str, handle: str) -> AgentView:
        return AgentView.of(agent_named(self.work, tenant, handle))

    def agent_history(self, tenant: str, handle: str) -> list[AgentHistoryEntry]:
        """Every event of the agent in order, replayed one by one, as auditors read it."""
        agent_id = agent_named(self.work, tenant, handle).id
        recorded_at = self.work.store.indexes.select_recorded_at(agent_id)
        history = []
        replayed: Agent | None = None
        for stored in self.work.store.events.get(agent_id):
            recorded = cast(Agent.Event, stored)
            replayed = recorded.mutate(replayed)
            assert replayed is not None
            details = {
                key: converter.unstructure(value)
                for key, value in vars(recorded).items()
                if key not in _EVENT_ENVELOPE
            }
            history.append(
                AgentHistoryEntry(
                    version=recorded.originator_version,
                    event=type(recorded).__name__,
                    said_at=recorded.timestamp,
                    recorded_at=recorded_at.get(recorded.originator_version),
                    state=replayed.state,
                    details=details,
                )
            )
        return history

    def _command(self, command: AgentCommand, change: Callable[[Agent], None]) -> AgentView:
        agent = self.work.change(
            lambda: agent_named(self.work, command.tenant, command.agent), change
        )
        return AgentView.of(agent)
