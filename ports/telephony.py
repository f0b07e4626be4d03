"""What calldesk needs from a phone system, whatever its vendor (ADR/0008).

An adapter delivers normalized signals (calldesk.domain.signals.CallSignal) to the sink
it is given, carries calldesk's commands to the phone system, and reports the calls it
sees now, so that calldesk can correct what it missed while the link was down. Its
closest public model is Salesforce's Service Cloud Voice connector contract.
"""

import enum
from collections.abc import Callable, Mapping
from typing import Protocol

import attrs

from calldesk.domain.call_commands import CommandKind
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.signals import CallSignal, Direction, SignalKind

__all__ = [
    "CallCommand",
    "CallSignal",
    "Capability",
    "LiveCall",
    "PlaceCall",
    "RejectionReason",
    "SignalSink",
    "TelephonyAdapter",
    "VendorDelivery",
    "VendorEventRejected",
    "VendorRefusal",
    "WebhookAdapter",
]


class Capability(enum.Enum):
    """What a phone system can do; commands it cannot do are refused before sending."""

    ANSWER = "answer"  # accept or reject an offered call from calldesk
    DIAL = "dial"
    HOLD = "hold"
    MUTE = "mute"
    DIGITS = "digits"
    BLIND_TRANSFER = "blind-transfer"
    CONSULT = "consult"
    CONFERENCE = "conference"
    SWAP = "swap"  # alternate between the customer and a consulted party


#: The capability each call command needs; commands not listed need none.
COMMAND_NEEDS = {
    CommandKind.ACCEPT: Capability.ANSWER,
    CommandKind.REJECT: Capability.ANSWER,
    CommandKind.HOLD: Capability.HOLD,
    CommandKind.RESUME: Capability.HOLD,
    CommandKind.MUTE: Capability.MUTE,
    CommandKind.UNMUTE: Capability.MUTE,
    CommandKind.SEND_DIGITS: Capability.DIGITS,
    CommandKind.BLIND_TRANSFER: Capability.BLIND_TRANSFER,
    CommandKind.CONSULT: Capability.CONSULT,
    CommandKind.COMPLETE_TRANSFER: Capability.CONSULT,
    CommandKind.SWAP: Capability.SWAP,
    CommandKind.CONFERENCE: Capability.CONFERENCE,
}


@attrs.frozen
class CallCommand:
    """Do this with that call; ``command_id`` should come back on the confirming signal."""

    command_id: str
    kind: CommandKind
    vendor_call_id: str
    agent: str
    argument: str | None = None


@attrs.frozen
class PlaceCall:
    """Dial a number from the agent's phone (click-to-dial)."""

    command_id: str
    agent: str
    number: PhoneNumber


@attrs.frozen
class LiveCall:
    """One call the phone system reports now, as the signal kind of its current state."""

    vendor_call_id: str
    state: SignalKind
    agent: str | None
    direction: Direction
    customer_number: str | None = None
    on_hold: bool = False


class VendorRefusal(Exception):
    """The phone system refused a command or could not be reached; nothing was done."""


class RejectionReason(enum.Enum):
    """Why a vendor's event was refused: a label of the refusals counter."""

    UNAUTHENTICATED = "unauthenticated"  # missing or wrong signature or key: 403
    FOREIGN_TENANT = "foreign-tenant"  # another tenant's number or account: 403
    UNSUPPORTED_MEDIA = "unsupported-media"  # wrong content type: 415
    MALFORMED = "malformed"  # not the vendor's documented shape: 422
    UNKNOWN_STATUS = "unknown-status"  # a status the vendor does not document: 422
    REPLAYED = "replayed"  # every signal in it was heard before: 409


class VendorEventRejected(Exception):
    """A vendor's event was refused before anything was recorded; the message says why."""

    def __init__(self, reason: RejectionReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@attrs.frozen
class VendorDelivery:
    """One request a phone system sent to calldesk (a webhook), exactly as it arrived.

    ``url`` is the address the vendor called (signatures cover it); header names are
    lower case.
    """

    url: str
    headers: Mapping[str, str]
    body: bytes
    content_type: str


#: Takes one signal to calldesk; True when it was news, False when heard before.
SignalSink = Callable[[CallSignal], bool]


class TelephonyAdapter(Protocol):
    """One phone system, for one tenant."""

    @property
    def vendor(self) -> str:
        """The vendor's name, part of every call's identity: vendors' calls never mix."""

    @property
    def capabilities(self) -> frozenset[Capability]: ...

    @property
    def needs_acknowledgement(self) -> bool:
        """True when the vendor redelivers a signal until the sink returns without error."""

    def listen(self, sink: SignalSink) -> None:
        """Deliver every signal from now on to the sink, in the order they arrive."""

    def send(self, command: CallCommand | PlaceCall) -> None:
        """Carry a command to the phone system; raises VendorRefusal when it cannot."""

    def snapshot(self) -> tuple[LiveCall, ...]:
        """The calls the phone system has now, for reconciliation after a reconnect."""


class WebhookAdapter(TelephonyAdapter, Protocol):
    """A phone system that tells calldesk about calls by calling its HTTP endpoint."""

    def receive(self, delivery: VendorDelivery) -> tuple[CallSignal, ...]:
        """Check and translate one delivery, then hand its signals to the sink.

        Raises VendorEventRejected (sink untouched) when the delivery is not authentic,
        not this tenant's, or not the vendor's documented shape. Returns the signals.
        The connector calls it so that the signals of one delivery are recorded
        together, or none of them if calldesk refuses one.
        """
