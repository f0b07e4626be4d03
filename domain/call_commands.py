"""What an agent may ask of a call, and when the call's state allows it.

Commands are checked here before anything is sent to the phone system; a refusal says
why in words the agent can act on. The phone system confirms a command by a signal that
names its command id, or, when the vendor does not echo ids, by the kind of signal.
"""

import enum
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from calldesk.domain.call_states import CallState
from calldesk.domain.errors import Refused
from calldesk.domain.signals import SignalKind

if TYPE_CHECKING:
    from calldesk.domain.calls import Call

DIGITS_ALLOWED = frozenset("0123456789*#ABCD,")


class CommandKind(enum.Enum):
    """What an agent asks the phone system to do with a call."""

    ACCEPT = "accept"
    REJECT = "reject"
    HANG_UP = "hang-up"
    HOLD = "hold"
    RESUME = "resume"
    MUTE = "mute"
    UNMUTE = "unmute"
    SEND_DIGITS = "send-digits"
    BLIND_TRANSFER = "blind-transfer"
    CONSULT = "consult"
    COMPLETE_TRANSFER = "complete-transfer"
    CONFERENCE = "conference"
    SWAP = "swap"


#: Commands that need an argument, and what it is.
COMMAND_ARGUMENTS = {
    CommandKind.SEND_DIGITS: "digits",
    CommandKind.BLIND_TRANSFER: "target",
    CommandKind.CONSULT: "target",
}


@attrs.frozen(slots=False)
class PendingCommand:
    command_id: str
    kind: CommandKind
    agent: str
    argument: str | None
    requested_at: datetime


@attrs.frozen
class FailedCommand:
    """The last command of a call that did not happen, and why: shown to the agent
    until the agent asks again or the phone system does it after all."""

    command_id: str
    kind: CommandKind
    reason: str
    at: datetime


#: How long the phone system has to confirm a command it took: after that the command
#: is failed (a phone may take a command and never carry it out, baresip with two calls
#: ringing). Webhook vendors confirm within seconds; a late confirmation still changes
#: the call, and clears the failure.
CONFIRMATION_DEADLINE = timedelta(seconds=10)


class CommandNotAllowed(Refused):
    """The call's state does not allow the command; nothing was sent."""


#: Answering and declining one ringing call exclude each other while either is pending.
_ANSWERS_TO_RINGING = frozenset({CommandKind.ACCEPT, CommandKind.REJECT})


def refusal(
    call: "Call", kind: CommandKind, agent: str, argument: str | None
) -> str | None:
    """Why the state does not allow the command now, or None when it does."""
    needed = COMMAND_ARGUMENTS.get(kind)
    if needed and not argument:
        return f"it needs {needed}"
    if kind is CommandKind.SEND_DIGITS and not set(argument or "") <= DIGITS_ALLOWED:
        return "digits are 0-9, *, #, A-D and , (pause)"
    waiting = _ANSWERS_TO_RINGING if kind in _ANSWERS_TO_RINGING else {kind}
    if kind is not CommandKind.SEND_DIGITS and any(p.kind in waiting for p in call.pending):
        return f"a {kind.value} is already waiting for the phone system to confirm it"
    if kind in (CommandKind.ACCEPT, CommandKind.REJECT):
        if call.state is not CallState.OFFERED or call.pending_offer(agent) is None:
            return f"it is {call.state.value}, not ringing at agent {agent}"
        return None
    if agent != call.agent and call.pending_offer(agent) is None:
        return f"agent {agent} is not on it"
    rule: Callable[[Call], str | None] = _STATE_RULES[kind]
    return rule(call)


#: Which commands a signal answers, when the vendor does not echo the command id.
CONFIRMED_BY = {
    SignalKind.CONNECTED: frozenset({CommandKind.ACCEPT}),
    SignalKind.OFFER_REJECTED: frozenset({CommandKind.REJECT}),
    SignalKind.HELD: frozenset({CommandKind.HOLD}),
    SignalKind.RESUMED: frozenset({CommandKind.RESUME}),
    SignalKind.MUTED: frozenset({CommandKind.MUTE}),
    SignalKind.UNMUTED: frozenset({CommandKind.UNMUTE}),
    SignalKind.DIGITS_SENT: frozenset({CommandKind.SEND_DIGITS}),
    SignalKind.CONSULT_STARTED: frozenset({CommandKind.CONSULT}),
    SignalKind.CONFERENCED: frozenset({CommandKind.CONFERENCE}),
    SignalKind.ENDED: frozenset({CommandKind.HANG_UP}),
}


def _connected_and(
    rule: str, holds: Callable[["Call"], bool]
) -> Callable[["Call"], str | None]:
    """A command rule: the call must be connected, and then this must hold."""

    def refusal(call: "Call") -> str | None:
        if call.state is not CallState.CONNECTED:
            return f"it is {call.state.value}, not connected"
        return None if holds(call) else rule

    return refusal


_STATE_RULES = {
    CommandKind.HANG_UP: lambda c: (
        None
        if c.state in (CallState.DIALING, CallState.ANSWERING, CallState.CONNECTED)
        else f"it is {c.state.value}"
    ),
    CommandKind.HOLD: _connected_and("it is on hold already", lambda c: not c.on_hold),
    CommandKind.RESUME: _connected_and("it is not on hold", lambda c: c.on_hold),
    CommandKind.MUTE: _connected_and("it is muted already", lambda c: not c.muted),
    CommandKind.UNMUTE: _connected_and("it is not muted", lambda c: c.muted),
    CommandKind.SEND_DIGITS: _connected_and("", lambda c: True),
    CommandKind.BLIND_TRANSFER: _connected_and(
        "a consultation is under way", lambda c: not c.third_parties and not c.consulting
    ),
    CommandKind.CONSULT: _connected_and(
        "a consultation is under way", lambda c: not c.third_parties and not c.consulting
    ),
    CommandKind.COMPLETE_TRANSFER: _connected_and(
        "no third party has joined", lambda c: bool(c.third_parties)
    ),
    CommandKind.CONFERENCE: _connected_and(
        "no third party to conference with, or a conference already",
        lambda c: bool(c.third_parties) and not c.conference,
    ),
    CommandKind.SWAP: _connected_and(
        "no third party to swap with", lambda c: bool(c.third_parties)
    ),
}
