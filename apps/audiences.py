"""Whom each kind of aggregate's events concern: one rule a kind, applied when saved.

The audience of an event is decided once, by the aggregate's state at the end of the
save that records it, and kept in the log's index (ports/log.py, ADR/0014): a reader
that replays later is given exactly what a reader connected at the time was given.
"""

from collections.abc import Callable
from typing import Any

from eventsourcing.domain import Aggregate

from calldesk.domain.agents import Agent
from calldesk.domain.call_logs import CallLogBook
from calldesk.domain.calls import Call
from calldesk.domain.client_apps import ClientApp
from calldesk.domain.crm_records import CrmRecord
from calldesk.domain.dialing import DialRequest
from calldesk.domain.feed import Publisher
from calldesk.domain.record_feed import Feed
from calldesk.domain.workspace import Workspace
from calldesk.ports.log import Audience

#: A record, as the viewers index names it: (tenant, kind, record id).
ViewedRecord = tuple[str, str, str]
#: The agents whose workspace shows a record.
Viewers = Callable[[ViewedRecord], frozenset[str]]

#: What the index keeps of a workspace: which records its agent has open.
Shown = dict[tuple[str, str], frozenset[tuple[str, str]]]


def _agent(agent: Agent, _: Viewers) -> Audience:
    return Audience(agent.tenant, frozenset({agent.handle}))


def _call(call: Call, _: Viewers) -> Audience:
    return Audience(call.tenant, call.concerned_agents)


def _book(book: CallLogBook, _: Viewers) -> Audience | None:
    if not book.owner.startswith("agent:"):
        return None
    return Audience(book.tenant, frozenset({book.owner.removeprefix("agent:")}))


def _dial(dial: DialRequest, _: Viewers) -> Audience:
    return Audience(dial.tenant, frozenset({dial.agent}))


def _publisher(publisher: Publisher, _: Viewers) -> Audience:
    return Audience(publisher.tenant, frozenset({publisher.agent}))


def _workspace(workspace: Workspace, _: Viewers) -> Audience:
    return Audience(workspace.tenant, frozenset({workspace.agent}))


def _record(record: CrmRecord, viewers: Viewers) -> Audience:
    """An edit concerns whoever has the record open, so every open page shows it."""
    return Audience(record.tenant, viewers(_viewed_record(record)))


def _viewed_record(record: CrmRecord) -> ViewedRecord:
    return (record.tenant, record.kind.value, record.record_id)


def _feed(feed: Feed, viewers: Viewers) -> Audience:
    """A record's feed concerns whoever has the record open, in any console."""
    return Audience(feed.tenant, viewers(_viewed_feed(feed)))


def _viewed_feed(feed: Feed) -> ViewedRecord:
    return (feed.tenant, feed.kind.value, feed.record_id)


def _client_app(app: ClientApp, _: Viewers) -> Audience:
    """A registration's change concerns every agent it was ever installed for: their
    consoles close a suspended app's channel at once (docs/proxy.md)."""
    return Audience(app.tenant, frozenset(app.concerned))


#: The rule of each kind; kinds not listed (tenants, tokens, links, queues) concern no
#: agent's screen.
AUDIENCES: dict[type[Aggregate], Callable[[Any, Viewers], Audience | None]] = {
    Agent: _agent,
    Call: _call,
    CallLogBook: _book,
    DialRequest: _dial,
    Publisher: _publisher,
    Workspace: _workspace,
    Feed: _feed,
    CrmRecord: _record,
    ClientApp: _client_app,
}


#: The record whose viewers a kind's audience is, for the kinds that have one.
VIEWED: dict[type, Callable[[Any], ViewedRecord]] = {
    CrmRecord: _viewed_record,
    Feed: _viewed_feed,
}


def viewed_by_audience(aggregate: object) -> ViewedRecord | None:
    """The record whose viewers the aggregate's events concern, asked of the index
    before the audiences are decided (once for the whole save)."""
    viewed = VIEWED.get(type(aggregate))
    return None if viewed is None else viewed(aggregate)


def audience_of(aggregate: Aggregate, viewers: Viewers) -> Audience | None:
    rule = AUDIENCES.get(type(aggregate))
    return None if rule is None else rule(aggregate, viewers)


def shown_by(aggregate: Aggregate) -> Shown:
    """What a saved workspace tells the viewers index; nothing for other kinds."""
    if not isinstance(aggregate, Workspace):
        return {}
    shown = frozenset(
        (kind.value, record_id) for kind, record_id in aggregate.shown_records()
    )
    return {(aggregate.tenant, aggregate.agent): shown}
