"""What an agent's softphone shows: now, as of any log position, and event by event.

The push stream (calldesk.adapters.http.push) sends each event that concerns the agent
with the softphone as of that very event: a page that just opened, or that missed a
beat, draws at once from the last message alone, and a stream replayed after a
reconnect carries exactly the states a stream connected at the time carried.
"""

from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

import attrs
from eventsourcing.domain import Aggregate

from calldesk.apps.aggregates import agent_named
from calldesk.apps.call_views import CallView
from calldesk.apps.presence import AgentView
from calldesk.apps.unit_of_work import Service
from calldesk.domain.agents import Agent
from calldesk.domain.call_states import CallState
from calldesk.domain.calls import Call
from calldesk.domain.errors import NotFound
from calldesk.domain.identity import checked_slug
from calldesk.ports.log import Logged

A = TypeVar("A", bound=Aggregate)

#: Reads an aggregate at a version from the store: (kind, id, version) -> a fresh copy.
AtVersion = Callable[[type[A], UUID, int], A | None]


@attrs.frozen
class Softphone:
    agent: AgentView
    calls: tuple[CallView, ...]


class SoftphoneProjection:
    """One agent's softphone, advanced by the events that concern the agent, in log
    order: its copies of the agent and of its calls are its own, never the cache's."""

    def __init__(
        self,
        agent_id: UUID,
        agent: Agent | None,
        calls: dict[UUID, Call],
        position: int,
        at_version: Callable[[type[Aggregate], UUID, int], Aggregate | None],
    ) -> None:
        """``agent``: None while the position is before the agent was registered."""
        self.agent_id, self.agent, self.calls = agent_id, agent, calls
        self.position = position
        self._at_version = at_version

    def apply(self, logged: Logged) -> bool:
        """Advance by one event; whether the softphone changed (other kinds: no)."""
        if logged.position <= self.position:
            return False
        self.position = logged.position
        event = logged.event
        if isinstance(event, Agent.Event) and event.originator_id == self.agent_id:
            self.agent = self._advanced(Agent, self.agent, event)
            self._forget_finished_calls()
            return True
        if isinstance(event, Call.Event):
            call = self._advanced(Call, self.calls.get(event.originator_id), event)
            self.calls[call.id] = call
            return True
        return False

    def view(self) -> Softphone | None:
        """The softphone as of the position; None before the agent was registered."""
        if self.agent is None:
            return None
        return Softphone(
            AgentView.of(self.agent),
            tuple(CallView.of(call) for call in self.shown_calls()),
        )

    def shown_calls(self) -> tuple[Call, ...]:
        """The agent's calls as of the position, in the softphone's order."""
        if self.agent is None:
            return ()
        calls = (self.calls.get(UUID(work.call)) for work in self.agent.calls)
        return tuple(call for call in calls if call is not None)

    def _advanced(self, kind: type[A], current: A | None, event: Aggregate.Event) -> A:
        """The copy moved to the event's version; read from the store first when the
        copy is missing or behind (a call transferred to this agent mid-way)."""
        if current is not None and event.originator_version <= current.version:
            return current  # already in the copy it was read with
        if current is None or event.originator_version != current.version + 1:
            current = None
            if event.originator_version > 1:
                found = self._at_version(
                    kind, event.originator_id, event.originator_version - 1
                )
                current = found if isinstance(found, kind) else None
        advanced = event.mutate(current)
        assert isinstance(advanced, kind)
        return advanced

    def _forget_finished_calls(self) -> None:
        kept = {UUID(work.call) for work in self.agent.calls} if self.agent else set()
        for finished in [
            call_id
            for call_id, call in self.calls.items()
            if call_id not in kept and call.state is CallState.CLOSED
        ]:
            del self.calls[finished]


class SoftphoneViews(Service):
    def softphone(self, tenant: str, agent: str, as_of: int | None = None) -> Softphone:
        """The agent and its calls now, or as of a position in the log.

        Now: read without copying aggregates, as immutable views taken under the
        writer's lock, so no save falls between the reads.
        """
        if as_of is not None:
            then = self.projection(tenant, agent, as_of).view()
            if then is None:
                raise NotFound(f"agent {agent} of tenant {tenant} was not yet at {as_of}")
            return then
        checked_slug(tenant, "a tenant")
        checked_slug(agent, "an agent handle")
        with self.work.writer:
            view = self.work.glance(Agent, Agent.create_id(tenant, agent), AgentView.of)
            if view is None:
                raise NotFound(f"no agent {agent} in tenant {tenant}")
            calls = (
                self.work.glance(Call, UUID(work.call), CallView.of) for work in view.calls
            )
            return Softphone(view, tuple(call for call in calls if call is not None))

    def projection(self, tenant: str, agent: str, as_of: int) -> SoftphoneProjection:
        """The agent's softphone as it stood at position `as_of`, ready to advance."""
        checked_slug(tenant, "a tenant")
        checked_slug(agent, "an agent handle")
        store = self.work.store
        agent_id = agent_named(self.work, tenant, agent).id
        found = store.as_of(Agent, agent_id, as_of)
        calls = {}
        for work in found.calls if found is not None else ():
            call = store.as_of(Call, UUID(work.call), as_of)
            if call is not None:
                calls[call.id] = call
        return SoftphoneProjection(agent_id, found, calls, as_of, store.at_version)
