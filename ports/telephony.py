"""What calldesk needs from a phone system, whatever its vendor (ADR/0008).

An adapter delivers normalized signals (calldesk.domain.signals.CallSignal) to the sink
it is given, carries calldesk's commands to the phone system, and reports the calls it
sees now, so that calldesk can correct what it missed while the link was down. Its
closest public model is Salesforce's Service Cloud Voice connector contract.
"""

import enum
from collections.abc import Callable
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
    "SignalSink",
    "TelephonyAdapter",
    "VendorRefusal",
]


class Capability(enum.Enum):
    """What a phone system can do; commands it cannot do are refused before sending."""

    DIAL = "dial"
    HOLD = "hold"
    MUTE = "mute"
    DIGITS = "digits"
    BLIND_TRANSFER = "blind-transfer"
    CONSULT = "consult"
    CONFERENCE = "conference"


#: The capability each call command needs; commands not listed need none.
COMMAND_NEEDS = {
    CommandKind.HOLD: Capability.HOLD,
    CommandKind.RESUME: Capability.HOLD,
    CommandKind.MUTE: Capability.MUTE,
    CommandKind.UNMUTE: Capability.MUTE,
    CommandKind.SEND_DIGITS: Capability.DIGITS,
    CommandKind.BLIND_TRANSFER: Capability.BLIND_TRANSFER,
    CommandKind.CONSULT: Capability.CONSULT,
    CommandKind.COMPLETE_TRANSFER: Capability.CONSULT,
    CommandKind.SWAP: Capability.CONSULT,
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


class VendorRefusal(Exception):
    """The phone system refused a command or could not be reached; nothing was done."""


SignalSink = Callable[[CallSignal], None]


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
