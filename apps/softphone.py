"""What an agent's softphone shows, and which agents a recorded event concerns.

The push stream (calldesk.adapters.http.push) sends each recorded event to the agents
it concerns, with the softphone's whole state, so that a page that just opened, or
that missed a beat, draws at once from the last message alone.
"""

from collections.abc import Collection
from uuid import UUID

import attrs

from calldesk.apps.call_log import CallLogs
from calldesk.apps.call_views import CallView
from calldesk.apps.presence import AgentView
from calldesk.domain.agents import Agent
from calldesk.domain.call_logs import CallLogBook
from calldesk.domain.calls import Call
from calldesk.domain.dialing import DialRequest
from calldesk.domain.errors import NotFound
from calldesk.domain.feed import Publisher
from calldesk.domain.identity import checked_slug
from calldesk.domain.record_feed import Feed
from calldesk.domain.records import RecordKind
from calldesk.domain.workspace import Workspace


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
        """The agent and its calls as of one moment: no save falls between the reads.

        Pushed with every frame, so it is read without copying aggregates: views are
        made of immutable values, taken under the writer's lock.
        """
        checked_slug(tenant, "a tenant")
        checked_slug(agent, "an agent handle")
        with self._writer:
            view = self._glance(Agent, Agent.create_id(tenant, agent), AgentView.of)
            if view is None:
                raise NotFound(f"no agent {agent} in tenant {tenant}")
            calls = (
                self._glance(Call, UUID(work.call), CallView.of) for work in view.calls
            )
            return Softphone(view, tuple(call for call in calls if call is not None))

    def audience(
        self,
        originator_id: UUID,
        topic: str,
        watching: Collection[tuple[str, str]] = (),
    ) -> Audience | None:
        """Whom an event of this aggregate concerns; None when no agent screen shows it.

        A record's feed concerns whoever has the record open: of the (tenant, agent)
        pairs `watching` (the agents with a stream open), those whose workspace shows it.
        """
        kind = topic.split(".")[1] if topic.count(".") >= 2 else ""
        if kind == "agent":
            return self._glance(Agent, originator_id, _agent_audience)
        if kind == "call":
            return self._glance(Call, originator_id, _call_audience)
        if kind == "calllog":
            return self._glance(CallLogBook, originator_id, _book_audience)
        if kind == "dial":
            return self._glance(DialRequest, originator_id, _dial_audience)
        if kind == "workspace":
            return self._glance(Workspace, originator_id, _workspace_audience)
        if kind == "publisher":
            return self._glance(Publisher, originator_id, _publisher_audience)
        if kind == "feed":
            record = self._glance(Feed, originator_id, _feed_record)
            return None if record is None else self._showing(*record, watching)
        return None

    def _showing(
        self,
        tenant: str,
        kind: RecordKind,
        record_id: str,
        watching: Collection[tuple[str, str]],
    ) -> Audience:
        """The agents among those watching whose workspace shows this record."""

        def shows(workspace: Workspace) -> bool:
            return workspace.shows(kind, record_id)

        return Audience(
            tenant,
            frozenset(
                agent
                for owner, agent in watching
                if owner == tenant
                and self._glance(Workspace, Workspace.create_id(tenant, agent), shows)
            ),
        )


def _agent_audience(agent: Agent) -> Audience:
    return Audience(agent.tenant, frozenset({agent.handle}))


def _call_audience(call: Call) -> Audience:
    agents = {o.agent for o in call.offers} | ({call.agent} if call.agent else set())
    return Audience(call.tenant, frozenset(agents))


def _book_audience(book: CallLogBook) -> Audience | None:
    if not book.owner.startswith("agent:"):
        return None
    return Audience(book.tenant, frozenset({book.owner.removeprefix("agent:")}))


def _dial_audience(dial: DialRequest) -> Audience:
    return Audience(dial.tenant, frozenset({dial.agent}))


def _publisher_audience(publisher: Publisher) -> Audience:
    return Audience(publisher.tenant, frozenset({publisher.agent}))


def _feed_record(feed: Feed) -> tuple[str, RecordKind, str]:
    return feed.tenant, feed.kind, feed.record_id


def _workspace_audience(workspace: Workspace) -> Audience:
    return Audience(workspace.tenant, frozenset({workspace.agent}))
