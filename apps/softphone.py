"""What an agent's softphone shows, and which agents a recorded event concerns.

The push stream (calldesk.adapters.http.push) sends each recorded event to the agents
it concerns, with the softphone's whole state, so that a page that just opened, or
that missed a beat, draws at once from the last message alone.
"""

from uuid import UUID

import attrs

from calldesk.apps.call_log import CallLogs
from calldesk.apps.call_views import CallView
from calldesk.apps.presence import AgentView
from calldesk.domain.agents import Agent
from calldesk.domain.call_logs import CallLogBook
from calldesk.domain.calls import Call
from calldesk.domain.dialing import DialRequest


@attrs.frozen
class Softphone:
    agent: AgentView
    calls: tuple[CallView, ...]


@attrs.frozen
class Audience:
    """The agents of one tenant that a recorded event concerns."""

    tenant: str
    agents: frozenset[str]


class SoftphoneViews(CallLogs):
    def softphone(self, tenant: str, agent: str) -> Softphone:
        view = self.agent(tenant, agent)
        return Softphone(view, tuple(self.call(tenant, work.call) for work in view.calls))

    def audience(self, originator_id: UUID, topic: str) -> Audience | None:
        """Whom an event of this aggregate concerns; None when no agent screen shows it."""
        kind = topic.split(".")[1] if topic.count(".") >= 2 else ""
        if kind == "agent":
            agent = self._find(Agent, originator_id)
            if agent is None:
                return None
            return Audience(agent.tenant, frozenset({agent.handle}))
        if kind == "call":
            call = self._find(Call, originator_id)
            if call is None:
                return None
            agents = {o.agent for o in call.offers} | (
                {call.agent} if call.agent else set()
            )
            return Audience(call.tenant, frozenset(agents))
        if kind == "calllog":
            book = self._find(CallLogBook, originator_id)
            if book is None or not book.owner.startswith("agent:"):
                return None
            return Audience(book.tenant, frozenset({book.owner.removeprefix("agent:")}))
        if kind == "dial":
            dial = self._find(DialRequest, originator_id)
            return None if dial is None else Audience(dial.tenant, frozenset({dial.agent}))
        return None
