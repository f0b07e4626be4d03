"""Calls as the softphone, the CLI and auditors read them, and their call-log entries."""

from datetime import datetime

import attrs

from calldesk.domain.call_commands import CommandKind, FailedCommand
from calldesk.domain.call_states import CallState, Offer, Outcome
from calldesk.domain.calls import Call
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.records import RecordRef
from calldesk.domain.signals import Direction, Party


@attrs.frozen
class CallView:
    call: str
    tenant: str
    vendor: str
    vendor_call_id: str
    direction: Direction
    state: CallState
    outcome: Outcome | None
    agent: str | None
    customer_number: str | None
    customer: PhoneNumber | None
    offers: tuple[Offer, ...]
    on_hold: bool
    muted: bool
    consulting: str | None
    third_parties: tuple[str, ...]
    conference: bool
    media_trouble: bool
    screen_pop: tuple[RecordRef, ...] | None
    #: The record the call is about: the agent's choice, else the screen pop's single
    #: match; None while the agent has yet to choose among several (or none matched).
    record: RecordRef | None
    pending: tuple[CommandKind, ...]
    #: The last command that did not happen, and why (refused, or never confirmed).
    last_failure: FailedCommand | None
    ended_by: Party | None
    end_reason: str | None
    disposition: str | None
    notes: str | None
    wrap_up_deadline: datetime | None
    started_at: datetime
    connected_at: datetime | None
    #: Since when the call is on hold (None when it is not), and when it ended (its
    #: wrap-up began): the softphone's timers count from these.
    held_since: datetime | None
    ended_at: datetime | None
    ring_seconds: float
    talk_seconds: float
    hold_seconds: float
    wrap_up_seconds: float
    version: int
    #: Every agent the call rang or reached (Call.concerned_agents).
    concerned_agents: tuple[str, ...] = ()

    @classmethod
    def of(cls, call: Call) -> "CallView":
        return cls(
            call=str(call.id),
            tenant=call.tenant,
            vendor=call.vendor,
            vendor_call_id=call.vendor_call_id,
            direction=call.direction,
            state=call.state,
            outcome=call.outcome,
            agent=call.agent,
            customer_number=call.customer_number,
            customer=call.customer,
            offers=tuple(call.offers),
            on_hold=call.on_hold,
            muted=call.muted,
            consulting=call.consulting,
            third_parties=tuple(call.third_parties),
            conference=call.conference,
            media_trouble=call.media_trouble,
            screen_pop=None if call.screen_pop is None else tuple(call.screen_pop),
            record=call.record,
            pending=tuple(p.kind for p in call.pending),
            last_failure=call.last_failure,
            ended_by=call.ended_by,
            end_reason=call.end_reason,
            disposition=call.disposition,
            notes=call.notes,
            wrap_up_deadline=call.wrap_up_deadline,
            started_at=call.first_alert_at or call.created_on,
            connected_at=call.connected_at,
            held_since=call.hold_started_at,
            ended_at=call.ended_at,
            ring_seconds=call.ring_time.total_seconds(),
            talk_seconds=call.talk_time.total_seconds(),
            hold_seconds=call.hold_time.total_seconds(),
            wrap_up_seconds=call.wrap_up_time.total_seconds(),
            version=call.version,
            concerned_agents=tuple(sorted(call.concerned_agents)),
        )


@attrs.frozen
class CallLogEntry:
    """What every call leaves behind, built from its history (ADR/0008)."""

    call: str
    direction: Direction
    customer_number: str | None
    customer: PhoneNumber | None
    agent: str | None
    record: RecordRef | None
    started_at: datetime
    ended_at: datetime | None
    ring_seconds: float
    talk_seconds: float
    hold_seconds: float
    wrap_up_seconds: float
    outcome: Outcome | None
    ended_by: Party | None
    end_reason: str | None
    disposition: str | None
    notes: str | None

    @classmethod
    def of(cls, call: Call) -> "CallLogEntry":
        return cls(
            call=str(call.id),
            direction=call.direction,
            customer_number=call.customer_number,
            customer=call.customer,
            agent=call.agent,
            record=call.record,
            started_at=call.first_alert_at or call.created_on,
            ended_at=call.ended_at,
            ring_seconds=call.ring_time.total_seconds(),
            talk_seconds=call.talk_time.total_seconds(),
            hold_seconds=call.hold_time.total_seconds(),
            wrap_up_seconds=call.wrap_up_time.total_seconds(),
            outcome=call.outcome,
            ended_by=call.ended_by,
            end_reason=call.end_reason,
            disposition=call.disposition,
            notes=call.notes,
        )
