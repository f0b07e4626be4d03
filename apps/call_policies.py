"""What a change to a call means elsewhere, applied in the same save (ADR/0014).

Each policy is a function of the call as it is about to be saved and of the state it
reads through the unit of work; it changes other aggregates (and at most marks the call
itself) and returns them, to be saved in the same transaction as the call.
"""

from eventsourcing.domain import Aggregate

from calldesk.apps.aggregates import link_of, tenant_named, workspace_of
from calldesk.apps.unit_of_work import UnitOfWork
from calldesk.domain.agents import Agent, Work
from calldesk.domain.call_logs import CallLogBook
from calldesk.domain.call_states import CallState
from calldesk.domain.calls import Call
from calldesk.domain.feed import Publisher
from calldesk.domain.record_feed import Feed
from calldesk.domain.records import RecordRef
from calldesk.domain.workspace import Workspace


def agents_follow_their_calls(call: Call, work: UnitOfWork) -> list[Aggregate]:
    """Each agent the call concerns works on it as the call now says: rung, on the call,
    in its wrap-up, or released. The agent who takes the call gets its screen pop in
    the console (seed 002); a released agent's popped tab closes if the tenant says so.
    """
    if not call.pending_events:
        return []
    at = call.modified_on
    changed: list[Aggregate] = []
    for handle in sorted(call.concerned_agents):
        agent = work.find(Agent, Agent.create_id(call.tenant, handle))
        if agent is None:
            continue  # an agent only the phone system knows: the call records it
        target = call.work_of(handle)
        if target is agent.work_on(str(call.id)):
            continue
        if target is None:
            handled = handle == call.agent and call.connected_at is not None
            agent.release(str(call.id), handled, call.wrap_up_policy, at)
            changed.extend(_popped_tab_closed(call, handle, work))
        else:
            agent.work_changed(str(call.id), target, at)
            if target is Work.ON_CALL and handle == call.agent:
                workspace = workspace_of(work, call.tenant, handle, at)
                query = call.customer_number or "an unknown number"
                workspace.screen_pop(str(call.id), query, call.screen_pop or (), at)
                changed.append(workspace)
        changed.append(agent)
    return changed


def _popped_tab_closed(call: Call, agent: str, work: UnitOfWork) -> list[Aggregate]:
    """The tab a call's screen pop opened closes with the call, if the tenant says so
    (a tab with unsaved changes asks first)."""
    if not tenant_named(work, call.tenant).closes_popped_tabs:
        return []
    workspace = work.find(Workspace, Workspace.create_id(call.tenant, agent))
    if workspace is None:
        return []
    workspace.call_ended(str(call.id), True, call.modified_on)
    return [workspace]


def links_count_open_calls(call: Call, work: UnitOfWork) -> list[Aggregate]:
    """The tenant's link with the phone system knows its open calls, to reconcile them."""
    if not call.pending_events:
        return []
    opened = any(isinstance(e, Call.Created) for e in call.pending_events)
    if not (opened or call.state is CallState.CLOSED):
        return []
    link = link_of(work, call.tenant, call.vendor, call.modified_on)
    if call.state is CallState.CLOSED:
        link.call_closed(str(call.id), call.modified_on)
    else:
        link.call_opened(str(call.id), call.modified_on)
    return [link]


def closed_calls_are_logged(call: Call, work: UnitOfWork) -> list[Aggregate]:
    """A closed call enters the call log of each agent it rang and of its record, once;
    its agent finds the call's log as a draft in the record's publisher (seed 002)."""
    if call.state is not CallState.CLOSED or call.logged:
        return []
    at = call.modified_on
    call.mark_logged(at)
    owners = [f"agent:{agent}" for agent in sorted(call.concerned_agents)]
    record = call.record
    changed: list[Aggregate] = []
    if record is not None:
        owners.append(f"record:{record.kind.value}:{record.record_id}")
        if call.agent is not None:
            changed.extend(_call_log_draft(call, call.agent, record, work))
    for owner in owners:
        book = work.find(
            CallLogBook, CallLogBook.create_id(call.tenant, owner)
        ) or CallLogBook(tenant=call.tenant, owner=owner, timestamp=at)
        book.add(str(call.id), at)
        changed.append(book)
    return changed


def _call_log_draft(
    call: Call, agent: str, record: RecordRef, work: UnitOfWork
) -> tuple[Publisher, Feed]:
    """The ended call's log, a draft in its agent's publisher on its record, ready
    for notes; saved with the call marked logged, so it arrives once."""
    tenant, kind, record_id = call.tenant, record.kind, record.record_id
    at = call.modified_on
    known = work.directory.record(tenant, kind, record_id)
    status = None if known is None else known.status
    feed = work.find(Feed, Feed.create_id(tenant, kind, record_id)) or Feed.start(
        tenant, kind, record_id, status, at
    )
    publisher = work.find(
        Publisher, Publisher.create_id(tenant, agent, kind, record_id)
    ) or Publisher.start(tenant, agent, feed, at)
    publisher.receive_call_log(str(call.id), call_summary(call), at)
    return publisher, feed


def call_summary(call: Call) -> str:
    """A call log's first words: who, which way, how it ended, how long they talked,
    and what the agent's wrap-up said (its disposition and notes)."""
    minutes, seconds = divmod(round(call.talk_time.total_seconds()), 60)
    outcome = "open" if call.outcome is None else call.outcome.value
    who = call.customer_number or "an unknown number"
    summary = (
        f"{call.direction.value.capitalize()} call with {who}: {outcome}, "
        f"talked {minutes}:{seconds:02d}."
    )
    if call.disposition:
        summary += f" Disposition: {call.disposition}."
    if call.notes:
        summary += f"\n{call.notes}"
    return summary
