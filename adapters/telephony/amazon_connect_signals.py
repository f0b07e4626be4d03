"""What an Amazon Connect contact event says about a call, in calldesk's words.

One voice contact is one calldesk call, keyed by its contactId. Contact events report
milestones (initiated, queued, connected to an agent or to the customer, disconnected)
and each carries the contact's timeline so far; a terminal event therefore also says
whether the contact was ever answered, which is told first, so a lost
CONNECTED_TO_AGENT cannot turn a conversation into an abandoned call. Whether the call
was then missed, failed or completed is the Call aggregate's business (ADR/0008).
"""

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from calldesk.adapters.telephony.amazon_connect_events import (
    ContactDetail,
    ContactEvent,
    reached,
)
from calldesk.domain.signals import RAW_PAYLOAD_MAX_BYTES, CallSignal, Direction, Party
from calldesk.domain.signals import SignalKind as Kind

VENDOR = "amazon-connect"

#: Contacts that bring a customer to an agent.
INBOUND = frozenset({"INBOUND", "TRANSFER", "QUEUE_TRANSFER", "WEBRTC_API"})
#: Contacts that call a customer: from the agent's CCP, by API (calldesk's dial), or a
#: queued callback.
OUTBOUND = frozenset({"OUTBOUND", "API", "CALLBACK"})
# Every other documented method is not a customer's call: a supervisor's monitoring leg
# (MONITOR), an agent's leg to a third party (EXTERNAL_OUTBOUND), a flow run after the
# agent left (DISCONNECT), email (AGENT_REPLY, FLOW). Their events are no call news.

#: Event types that change nothing a call is: data updates, answering-machine detection
#: switched off, task pauses, the WebRTC widget's announcement.
NO_CALL_NEWS = frozenset(
    {"CONTACT_DATA_UPDATED", "AMD_DISABLED", "PAUSED", "RESUMED", "WEBRTC_API"}
)

#: Who ended a contact, by the contact record's DisconnectReason codes; other codes are
#: kept as the reason, with nobody named.
ENDED_BY = {
    "CUSTOMER_DISCONNECT": Party.CUSTOMER,
    "AGENT_DISCONNECT": Party.AGENT,
    "THIRD_PARTY_DISCONNECT": Party.THIRD_PARTY,
    "BARGED": Party.SUPERVISOR,
    "TELECOM_PROBLEM": Party.SYSTEM,
    "CONTACT_FLOW_DISCONNECT": Party.SYSTEM,
    "EXPIRED": Party.SYSTEM,
    "API": Party.SYSTEM,
}

#: The system endpoint (the number dialed, for inbound) as Connect tags every contact.
SYSTEM_ENDPOINT_TAG = "aws:connect:systemEndpoint"

#: The detail fields calldesk reads: what is kept of an event too large to keep whole.
_READ = (
    "eventType",
    "contactId",
    "channel",
    "instanceArn",
    "initiationMethod",
    "previousContactId",
    "initiationTimestamp",
    "connectedToSystemTimestamp",
    "disconnectTimestamp",
    "disconnectReason",
    "agentInfo",
    "queueInfo",
)


@attrs.frozen
class Dial:
    """A call calldesk placed through Connect's API, which contact events cannot name."""

    agent: str
    command_id: str
    number: str


def is_call(detail: ContactDetail) -> bool:
    """A customer's voice call; other contacts are none of calldesk's business."""
    return detail.channel.upper() == "VOICE" and (
        detail.initiation_method in INBOUND or detail.initiation_method in OUTBOUND
    )


def signals_of(
    event: ContactEvent,
    agent_of: Callable[[str | None], str | None],
    dial: Dial | None,
    caller: str | None = None,
) -> tuple[CallSignal, ...]:
    """The signals a documented event of a customer's voice call stands for, in order.

    ``agent_of`` names the calldesk agent of a Connect agent ARN (None: not one of
    ours); ``dial`` is the call calldesk placed as this contact, if it did; ``caller``
    is the number an inbound call comes from, when known.
    """
    detail = event.detail
    if detail.event_type in NO_CALL_NEWS:
        return ()
    return _Translation(event, agent_of, dial, caller).signals()


@attrs.frozen
class _Translation:
    event: ContactEvent
    agent_of: Callable[[str | None], str | None]
    dial: Dial | None
    caller: str | None = None

    def signals(self) -> tuple[CallSignal, ...]:
        kind = self.event.detail.event_type
        if kind == "INITIATED":
            return self._initiated()
        if kind == "QUEUED":
            return (self._signal(Kind.QUEUED),)
        if kind in ("DISCONNECTED", "COMPLETED"):
            return self._ended()
        return self._connected()  # CONNECTED_TO_AGENT, CONNECTED_TO_SYSTEM

    @property
    def _detail(self) -> ContactDetail:
        return self.event.detail

    @property
    def _inbound(self) -> bool:
        return self._detail.initiation_method in INBOUND

    @property
    def _agent(self) -> str | None:
        info = self._detail.agent_info
        named = self.agent_of(info.agent_arn if info else None)
        return named or (self.dial.agent if self.dial else None)

    def _initiated(self) -> tuple[CallSignal, ...]:
        detail = self._detail
        if self._inbound:
            transferred: tuple[CallSignal, ...] = ()
            if detail.initiation_method == "TRANSFER" and detail.previous_contact_id:
                # An agent's transfer starts a contact of its own: the first call went
                # on without its agent, the new one waits for the next.
                transferred = (self._transferred(detail.previous_contact_id),)
            return (*transferred, self._signal(Kind.QUEUED))
        if self._agent is not None:
            return (self._dialing(),)
        if detail.initiation_method == "CALLBACK":
            return (self._signal(Kind.QUEUED),)
        return ()  # placed by a flow or campaign for no agent yet: nothing to show

    def _connected(self) -> tuple[CallSignal, ...]:
        talked = self._talked()
        if talked is not None:
            return (self._signal(Kind.CONNECTED, at=talked, agent=self._agent),)
        if not self._inbound and self._agent is not None:
            return (self._dialing(),)  # the agent is on, the customer not yet
        return ()

    def _ended(self) -> tuple[CallSignal, ...]:
        reason = self._detail.reason_code
        ended_by = ENDED_BY.get(reason, Party.UNKNOWN) if reason else None
        talked = self._talked()
        if talked is not None:
            connected = self._signal(
                Kind.CONNECTED, at=talked, agent=self._agent, suffix="/connected"
            )
            ended = self._signal(
                Kind.ENDED, agent=self._agent, ended_by=ended_by, reason=reason
            )
            return (connected, ended)
        if self._inbound and ended_by in (None, Party.CUSTOMER):
            return (self._signal(Kind.ABANDONED, ended_by=Party.CUSTOMER, reason=reason),)
        return (self._signal(Kind.ENDED, ended_by=ended_by, reason=reason),)

    def _talked(self) -> datetime | None:
        """When the agent and the customer were both on the line, if they were.

        An inbound customer is on from the start; an agent who dials from the CCP is on
        from the start; a callback or API call needs both legs connected.
        """
        detail, kind, at = self._detail, self._detail.event_type, self._occurred_at
        info = detail.agent_info
        agent_on = reached(info.connected_to_agent_timestamp) if info else None
        agent_on = agent_on or (at if kind == "CONNECTED_TO_AGENT" else None)
        customer_on = reached(detail.connected_to_system_timestamp)
        customer_on = customer_on or (at if kind == "CONNECTED_TO_SYSTEM" else None)
        if self._inbound:
            return agent_on
        if detail.initiation_method == "OUTBOUND":
            return customer_on
        if agent_on is None or customer_on is None:
            return None
        return max(agent_on, customer_on)

    @property
    def _occurred_at(self) -> datetime:
        """The detail's own instant of this milestone, finer than the event's time."""
        detail = self._detail
        agent, queue = detail.agent_info, detail.queue_info
        instant = {
            "INITIATED": detail.initiation_timestamp,
            "QUEUED": queue.enqueue_timestamp if queue else None,
            "CONNECTED_TO_AGENT": agent.connected_to_agent_timestamp if agent else None,
            "CONNECTED_TO_SYSTEM": detail.connected_to_system_timestamp,
            "DISCONNECTED": detail.disconnect_timestamp,
            "COMPLETED": detail.disconnect_timestamp,
        }.get(detail.event_type)
        return reached(instant) or self.event.time

    def _dialing(self) -> CallSignal:
        dial = self.dial
        return self._signal(
            Kind.DIALING,
            agent=self._agent,
            command_id=dial.command_id if dial else None,
            customer_number=dial.number if dial else None,
        )

    def _transferred(self, first_contact: str) -> CallSignal:
        return CallSignal(
            vendor=VENDOR,
            vendor_event_id=f"{self.event.id}/transferred",
            vendor_call_id=first_contact,
            kind=Kind.TRANSFERRED,
            occurred_at=self._occurred_at,
            reason="transfer",
            target=self._detail.contact_id,
            vendor_kind=self._detail.event_type,
            raw=kept(self.event.payload),
        )

    def _signal(
        self, kind: Kind, at: datetime | None = None, suffix: str = "", **fields: Any
    ) -> CallSignal:
        detail = self._detail
        inbound = self._inbound
        if inbound:
            fields.setdefault("customer_number", self.caller)
        return CallSignal(
            vendor=VENDOR,
            vendor_event_id=self.event.id + suffix,
            vendor_call_id=detail.contact_id,
            kind=kind,
            occurred_at=at or self._occurred_at,
            direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
            dialed_number=detail.tags.get(SYSTEM_ENDPOINT_TAG) if inbound else None,
            vendor_kind=detail.event_type,
            raw=kept(self.event.payload),
            **fields,
        )


def kept(payload: dict[str, Any]) -> dict[str, Any]:
    """The event for the audit; beyond the size a signal keeps, what calldesk read of it."""
    if len(json.dumps(payload)) <= RAW_PAYLOAD_MAX_BYTES:
        return payload
    detail = payload["detail"]
    return {
        **{key: value for key, value in payload.items() if key != "detail"},
        "detail": {key: detail[key] for key in _READ if key in detail},
    }
