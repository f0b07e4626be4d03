"""What calldesk's own redirects did to a Twilio call's agent legs: hold, resume, transfer.

From outside a call, Twilio holds, resumes and transfers one way only: the customer's
leg is given new TwiML (Call resource, "Update a Call"). That ends the <Dial> joining
the customer to the agent, so the agent's leg reports "completed" though the call goes
on, and no callback says "held" or "transferred". So Twilio's 200 on the update is the
confirmation (HELD, TRANSFERRED), and the adapter remembers, per call:

- that a hold was confirmed, and which legs resumes rang since: every other agent leg
  of the call was ended by a hold ("retired"), and whatever it says later is the hold's
  doing, not news, and is heard as nothing; a leg found retired stays so;
- while a hold or transfer is in flight, the ends of its agent legs heard meanwhile
  (Twilio may call back before it answers): after a hold they are dropped, after a
  transfer they follow the TRANSFERRED signal (the closed call ignores them), and if
  Twilio refuses they are handed over as they were, since then they were real.

This is translation memory, kept in this process only. After a restart a resume still
confirms (its command id travels in the callback URL) and a later hold retires every leg
before it, known or not; but the agent leg a hold before the restart ended, should its
"completed" first be heard after it, ends the call in calldesk while the customer waits
in the hold queue until they hang up.
"""

import threading
from collections import OrderedDict
from datetime import datetime
from hashlib import sha256
from typing import Any

import attrs

from calldesk.adapters.telephony.twilio_callbacks import VENDOR, StatusCallback
from calldesk.domain.call_commands import CommandKind
from calldesk.domain.signals import VENDOR_ID_MAX_LENGTH, CallSignal, SignalKind
from calldesk.ports.telephony import CallCommand

#: Calls whose redirects are remembered, the latest used last; older ones are forgotten.
REMEMBERED_CALLS = 10_000
#: The vendor's name of what confirms a redirect: the Call resource's "Update a Call".
UPDATE = "call-update"


@attrs.define
class _AgentLegs:
    """One call's agent legs, as calldesk's redirects left them."""

    held: bool = False  # a hold was confirmed: the legs rung before it are over
    rung: set[str] = attrs.Factory(set)  # legs resumes rang since the last hold
    retired: set[str] = attrs.Factory(set)  # legs found over, whatever is sent again
    held_back: list[CallSignal] | None = None  # ends heard while a redirect is in flight

    def is_retired(self, leg: str) -> bool:
        """A leg a confirmed hold ended: any but those rung since, and once so, for good
        (a repeated resume does not bring its leg back: what it said is settled)."""
        if self.held and leg not in self.rung:
            self.retired.add(leg)
        return leg in self.retired


class Redirects:
    """The agent legs calldesk's redirects ended, for the calls it redirected.

    Callbacks arrive on the web server's threads while a command waits for Twilio's
    answer, hence the lock; it is never held while a signal is handed over.
    """

    def __init__(self) -> None:
        self._calls: OrderedDict[str, _AgentLegs] = OrderedDict()
        self._lock = threading.Lock()

    def heard(self, callback: StatusCallback) -> tuple[CallSignal, ...]:
        """What a callback tells calldesk now, after what calldesk's redirects did."""
        signals = callback.signals()
        leg = callback.agent_leg
        if leg is None:
            return signals
        with self._lock:
            call = self._calls.get(callback.call_id)
            if call is None:
                return signals
            if call.is_retired(leg):
                return ()
            if call.held_back is not None and callback.ends:
                call.held_back.extend(signals)
                return ()
        return signals

    def sending(self, command: CallCommand) -> None:
        """A redirect is about to go to Twilio; its callbacks may come before its answer."""
        with self._lock:
            call = self._remember(command.vendor_call_id)
            if command.kind is CommandKind.RESUME:
                call.rung.add(command.command_id)
            elif call.held_back is None:
                call.held_back = []

    def answered(self, command: CallCommand) -> tuple[CallSignal, ...]:
        """Twilio did it. The ends heard meanwhile, to hand over after the confirmation:
        none after a hold, whose doing they are."""
        with self._lock:
            call = self._remember(command.vendor_call_id)
            if command.kind is CommandKind.RESUME:
                return ()
            held_back, call.held_back = tuple(call.held_back or ()), None
            if command.kind is CommandKind.HOLD:
                call.held = True
                call.retired |= call.rung
                call.rung.clear()
                return ()
            return held_back

    def refused(self, command: CallCommand) -> tuple[CallSignal, ...]:
        """Twilio did nothing: the ends heard meanwhile were real, to hand over."""
        with self._lock:
            call = self._remember(command.vendor_call_id)
            if command.kind is CommandKind.RESUME:
                call.rung.discard(command.command_id)
                return ()
            held_back, call.held_back = tuple(call.held_back or ()), None
            return held_back

    def _remember(self, call_id: str) -> _AgentLegs:
        call = self._calls.setdefault(call_id, _AgentLegs())
        self._calls.move_to_end(call_id)
        while len(self._calls) > REMEMBERED_CALLS:
            self._calls.popitem(last=False)
        return call


def confirmation(
    command: CallCommand, kind: SignalKind, at: datetime, answer: dict[str, Any]
) -> CallSignal:
    """The signal that Twilio did a command, from its answer to the update."""
    return CallSignal(
        vendor=VENDOR,
        vendor_event_id=confirmation_id(command.command_id, kind),
        vendor_call_id=command.vendor_call_id,
        kind=kind,
        occurred_at=at,
        agent=command.agent,
        command_id=command.command_id,
        reason="transfer" if kind is SignalKind.TRANSFERRED else None,
        target=command.argument if kind is SignalKind.TRANSFERRED else None,
        vendor_kind=UPDATE,
        raw=answer,
    )


def confirmation_id(command_id: str, kind: SignalKind) -> str:
    """The event id of the signal that confirms a command: the same however often heard.

    A command id too long for an event id is replaced by its SHA-256.
    """
    event_id = f"{command_id}:{kind.value}"
    if len(event_id) <= VENDOR_ID_MAX_LENGTH:
        return event_id
    return f"{sha256(command_id.encode()).hexdigest()}:{kind.value}"
